package casbinauthz_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

// A role with a row rule, enforced by the guarded client on every
// operation, and a denial with its reason.
func Example() {
	ctx := context.Background()
	az, err := casbinauthz.New(casbinauthz.Text(`
p, owner, acme, docs, *, allow
p, analyst, acme, docs, read, allow, department == $sub.department
p, analyst, acme, docs, read, deny, clearance > $sub.clearance
g, alice, owner, acme
`), nil)
	if err != nil {
		log.Fatal(err)
	}
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: az})

	alice := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "alice", Tenant: "acme"})
	err = client.CreateCollection(alice, vecguard.CollectionSpec{
		Name:    "docs",
		Vectors: []vecguard.VectorSpec{{Name: "text", Dim: 2, Distance: vecguard.Cosine}},
		Fields: []vecguard.FieldSpec{
			{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
			{Name: "department", Kind: vecguard.KindString, Filterable: true},
			{Name: "clearance", Kind: vecguard.KindInt, Filterable: true},
		},
		TenantField: "tenant",
	})
	if err != nil {
		log.Fatal(err)
	}
	doc := func(id uint64, dept string, clearance int) vecguard.Point {
		return vecguard.Point{ID: vecguard.NumID(id), Vectors: map[string][]float32{"text": {1, float32(id)}},
			Payload: map[string]any{"department": dept, "clearance": clearance}}
	}
	err = client.Upsert(alice, "docs", []vecguard.Point{doc(1, "eng", 1), doc(2, "eng", 3), doc(3, "sales", 1)})
	if err != nil {
		log.Fatal(err)
	}

	bob := vecguard.WithPrincipal(ctx, vecguard.Principal{
		Subject: "bob", Tenant: "acme", Roles: []string{"analyst"},
		Attributes: map[string]any{"department": "eng", "clearance": 2},
	})
	hits, err := client.Search(bob, "docs", vecguard.SearchRequest{Vector: []float32{1, 2}, Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Println("bob finds", h.ID)
	}
	err = client.Upsert(bob, "docs", []vecguard.Point{doc(4, "eng", 1)})
	fmt.Println(err)
	// Output:
	// bob finds 1
	// vecguard: upsert docs: permission denied: write denied: no rule allows write on "docs" in tenant "acme"
}

func ExampleAuthorizer_Authorize() {
	az, err := casbinauthz.New(casbinauthz.Text(`
p, analyst, acme, docs, read, allow, department == $sub.department
p, analyst, acme, docs, read, deny, clearance > $sub.clearance
`), nil)
	if err != nil {
		log.Fatal(err)
	}
	p := authz.Principal{Subject: "bob", Tenant: "acme", Roles: []string{"analyst"},
		Attributes: map[string]any{"department": "eng", "clearance": 2}}
	d, _ := az.Authorize(context.Background(), &p, authz.Read, "docs")
	fmt.Println(d.Allow, d.Filter)
	d, _ = az.Authorize(context.Background(), &p, authz.Write, "docs")
	fmt.Println(d.Allow, d.Reason)
	delete(p.Attributes, "clearance")
	d, _ = az.Authorize(context.Background(), &p, authz.Read, "docs")
	fmt.Println(d.Allow, d.Reason)
	// Output:
	// true (department == "eng" and not (2 < clearance))
	// false no rule allows write on "docs" in tenant "acme"
	// false read on "docs" is denied to "analyst" by a deny rule (the principal lacks attribute clearance)
}

func ExampleAuthorizer_AddRules() {
	ctx := context.Background()
	az, err := casbinauthz.New(casbinauthz.Text("g, bob, support, acme\n"), nil)
	if err != nil {
		log.Fatal(err)
	}
	err = az.AddRules(ctx, casbinauthz.Rule{
		Subject: "support", Tenant: "acme", Collection: "tickets-*", Action: authz.Read,
		Condition: "assignee == $sub.id or priority >= 3",
	})
	if err != nil {
		log.Fatal(err)
	}
	p := authz.Principal{Subject: "bob", Tenant: "acme"}
	d, _ := az.Authorize(ctx, &p, authz.Read, "tickets-eu")
	fmt.Println(d.Allow, d.Filter)
	fmt.Print(az.Policy())
	// Output:
	// true (assignee == "bob" or (3 <= priority))
	// p, support, acme, tickets-*, read, allow, assignee == $sub.id or priority >= 3
	// g, bob, support, acme
}

// The example policy file of the repository loads and means what its
// comments say.
func TestExamplePolicyFile(t *testing.T) {
	az, err := casbinauthz.LoadFile("../../../examples/policies/rag.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]any{"department": "eng", "clearance": 2}
	tests := []struct {
		p      authz.Principal
		act    authz.Action
		coll   string
		allow  bool
		filter string
	}{
		{authz.Principal{Subject: "carol", Tenant: "acme", Attributes: attrs}, authz.Read, "kb-eng", true,
			`((department == "eng" or visibility == "public") and not (2 < clearance))`},
		{authz.Principal{Subject: "carol", Tenant: "acme", Attributes: attrs}, authz.Read, "kb-hr", false, ""},
		{authz.Principal{Subject: "carol", Tenant: "acme", Attributes: attrs}, authz.ReadVectors, "kb-eng", true, `owner == "carol"`},
		{authz.Principal{Subject: "bob", Tenant: "acme", Attributes: attrs}, authz.Delete, "kb-eng", true, `(department == "eng" and owner == "bob")`},
		{authz.Principal{Subject: "bob", Tenant: "acme", Attributes: attrs}, authz.Admin, "kb-eng", false, ""},
		{authz.Principal{Subject: "alice", Tenant: "acme"}, authz.Admin, "kb-eng-archive", true, "true"},
		{authz.Principal{Subject: "alice", Tenant: "globex"}, authz.Read, "kb-eng", false, ""},
		{authz.Principal{Subject: "svc-ingest", Tenant: "acme"}, authz.Write, "kb-sales", true, "true"},
		{authz.Principal{Subject: "anyone"}, authz.Read, "public-handbook", true, "true"},
		{authz.Principal{Subject: "op", Tenant: "globex", Roles: []string{"platform-admin"}}, authz.Admin, "kb-x", true, "true"},
	}
	for _, tt := range tests {
		d, err := az.Authorize(context.Background(), &tt.p, tt.act, tt.coll)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tt.allow || tt.allow && d.Filter.String() != tt.filter {
			t.Errorf("%s %s %s: allow %v filter %s (%s), want %v %s", tt.p.Subject, tt.act, tt.coll, d.Allow, d.Filter, d.Reason, tt.allow, tt.filter)
		}
	}
}
