package vecguard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// roleAuthorizer is a small policy for the examples: admins may do
// everything, editors may read and write, readers may read.
var roleAuthorizer = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
	allowed := map[string][]authz.Action{
		"admin":  {authz.Admin, authz.Read, authz.Write, authz.Delete, authz.ReadVectors},
		"editor": {authz.Read, authz.Write, authz.Delete},
		"reader": {authz.Read},
	}
	for _, role := range p.Roles {
		if slices.Contains(allowed[role], a) {
			return authz.Decision{Allow: true, Rule: role}, nil
		}
	}
	return authz.Decision{Allow: false, Reason: "no role grants " + string(a)}, nil
})

// docsSpec is a tenant-isolated collection of document chunks.
var docsSpec = vecguard.CollectionSpec{
	Name:    "docs",
	Vectors: []vecguard.VectorSpec{{Name: "text", Dim: 3, Distance: vecguard.Cosine}},
	Fields: []vecguard.FieldSpec{
		{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
		{Name: "lang", Kind: vecguard.KindString, Filterable: true},
		{Name: "title", Kind: vecguard.KindString},
	},
	TenantField: "tenant",
}

func ExampleNew() {
	ctx := context.Background()
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: roleAuthorizer})
	defer client.Close()

	admin := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "ops", Tenant: "acme", Roles: []string{"admin"}})
	if err := client.CreateCollection(admin, docsSpec); err != nil {
		fmt.Println(err)
		return
	}
	editor := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "ingest", Tenant: "acme", Roles: []string{"editor"}})
	err := client.Upsert(editor, "docs", []vecguard.Point{
		// The tenant field is filled in from the principal.
		{ID: vecguard.NumID(1), Vectors: map[string][]float32{"text": {1, 0, 0}}, Payload: map[string]any{"lang": "en", "title": "Intro"}},
		{ID: vecguard.NumID(2), Vectors: map[string][]float32{"text": {0, 1, 0}}, Payload: map[string]any{"lang": "de", "title": "Einführung"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := client.Count(editor, "docs", nil)
	fmt.Println(n, err)

	// Without an Authorizer, a client refuses everything.
	closed := vecguard.New(memory.New(), nil)
	err = closed.CreateCollection(admin, docsSpec)
	fmt.Println(errors.Is(err, vecguard.ErrPermissionDenied))
	// Output:
	// 2 <nil>
	// true
}

func ExampleWithPrincipal() {
	// An interceptor or middleware puts the authenticated caller into the
	// request's context; every operation of the Client reads it from there.
	ctx := vecguard.WithPrincipal(context.Background(), vecguard.Principal{
		Subject: "user-42",
		Tenant:  "acme",
		Roles:   []string{"reader"},
	})
	p, ok := vecguard.PrincipalFrom(ctx)
	fmt.Println(ok, p.Subject, p.Tenant, p.Roles)

	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: roleAuthorizer})
	_, err := client.Count(context.Background(), "docs", nil)
	fmt.Println(errors.Is(err, vecguard.ErrUnauthenticated))
	// Output:
	// true user-42 acme [reader]
	// true
}

func ExampleClient_Search() {
	ctx := context.Background()
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: roleAuthorizer})
	admin := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "ops", Tenant: "acme", Roles: []string{"admin"}})
	if err := client.CreateCollection(admin, docsSpec); err != nil {
		fmt.Println(err)
		return
	}
	points := []vecguard.Point{
		{ID: vecguard.NumID(1), Vectors: map[string][]float32{"text": {1, 0, 0}}, Payload: map[string]any{"lang": "en", "title": "Intro"}},
		{ID: vecguard.NumID(2), Vectors: map[string][]float32{"text": {0.9, 0.1, 0}}, Payload: map[string]any{"lang": "de", "title": "Einführung"}},
		{ID: vecguard.NumID(3), Vectors: map[string][]float32{"text": {0.6, 0.8, 0}}, Payload: map[string]any{"lang": "en", "title": "Setup"}},
	}
	if err := client.Upsert(admin, "docs", points); err != nil {
		fmt.Println(err)
		return
	}
	reader := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "user-42", Tenant: "acme", Roles: []string{"reader"}})
	hits, err := client.Search(reader, "docs", vecguard.SearchRequest{
		Vector:        []float32{1, 0, 0},
		Limit:         5,
		Filter:        vecguard.Eq("lang", vecguard.String("en")), // narrows; never widens the caller's rights
		PayloadFields: []string{"title"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hits {
		fmt.Printf("%v %.2f %v\n", h.ID, h.Score, h.Payload["title"])
	}
	// Output:
	// 1 1.00 Intro
	// 3 0.60 Setup
}

func Example_errors() {
	ctx := context.Background()
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: roleAuthorizer})
	reader := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "user-42", Tenant: "acme", Roles: []string{"reader"}})

	err := client.DropCollection(reader, "docs")
	switch {
	case errors.Is(err, vecguard.ErrPermissionDenied):
		fmt.Println("denied")
	case errors.Is(err, vecguard.ErrNotFound):
		fmt.Println("no such collection")
	}

	// *vecguard.Error names the operation and the collection.
	_, err = client.Count(reader, "docs", nil)
	var e *vecguard.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Op, e.Collection)
	}
	// Output:
	// denied
	// not found count docs
}

// A transparent-mode interceptor refuses an RPC it does not serve through
// Refuse, so that the attempt is audited like any denied operation.
func ExampleClient_Refuse() {
	auditor := &lineAuditor{}
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: roleAuthorizer, Auditor: auditor})
	ctx := vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: "app", Tenant: "acme", Roles: []string{"editor"}})

	err := client.Refuse(ctx, "/qdrant.Points/UpdateVectors", audit.ClassWrite, "docs",
		driver.Errorf(driver.PermissionDenied, "the RPC is not allowed through the guard"))
	fmt.Println(errors.Is(err, vecguard.ErrPermissionDenied))
	fmt.Println(auditor.lines[0])
	// Output:
	// true
	// /qdrant.Points/UpdateVectors docs by app: allowed=false, the RPC is not allowed through the guard
}

// lineAuditor keeps one line per audit record.
type lineAuditor struct{ lines []string }

func (a *lineAuditor) Audit(_ context.Context, r *audit.Record) error {
	a.lines = append(a.lines, fmt.Sprintf("%s %s by %s: allowed=%v, %s", r.Operation, r.Collection, r.Subject, r.Allowed, r.Reason))
	return nil
}
