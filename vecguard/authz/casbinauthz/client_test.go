package casbinauthz_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

// clientPolicy is the policy of the tests that go through the guarded
// client.
const clientPolicy = `
p, viewer, *, docs, read, allow, department == $sub.department
p, viewer, *, docs, read, deny, clearance > $sub.clearance
p, editor, *, docs, write, allow, department == $sub.department
p, editor, *, docs, delete, allow, department == $sub.department
p, editor, *, docs, read_vectors, allow, owner == $sub.id
p, contractor, *, docs, *, deny
p, admin, *, *, admin, allow
p, admin, *, *, read, allow
p, admin, *, *, write, allow
p, auditor, *, docs, read, allow
p, viewer, acme, notes, read, allow, secret_level < 3
g, editor, viewer, acme
g, editor, viewer, globex
`

var (
	docsSpec = vecguard.CollectionSpec{
		Name:    "docs",
		Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Euclid}},
		Fields: []vecguard.FieldSpec{
			{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
			{Name: "department", Kind: vecguard.KindString, Filterable: true},
			{Name: "clearance", Kind: vecguard.KindInt, Filterable: true},
			{Name: "owner", Kind: vecguard.KindString, Filterable: true},
		},
		TenantField: "tenant",
	}
	notesSpec = vecguard.CollectionSpec{
		Name:    "notes",
		Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Euclid}},
	}
)

func as(p authz.Principal) context.Context { return vecguard.WithPrincipal(context.Background(), p) }

func point(id uint64, dept string, clearance int, owner string) vecguard.Point {
	return vecguard.Point{ID: vecguard.NumID(id), Vectors: map[string][]float32{"v": {float32(id), 1}},
		Payload: map[string]any{"department": dept, "clearance": clearance, "owner": owner}}
}

// newGuardedClient returns a client over a memory store holding docs
// (tenant-isolated) and notes, with rows of tenants acme and globex.
func newGuardedClient(t testing.TB) (*vecguard.Client, *casbinauthz.Authorizer) {
	t.Helper()
	a, err := casbinauthz.New(casbinauthz.Text(clientPolicy), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := vecguard.New(memory.New(), &vecguard.Options{Authorizer: a})
	for _, ten := range []string{"acme", "globex"} {
		admin := as(authz.Principal{Subject: "root", Tenant: ten, Roles: []string{"admin"}})
		if ten == "acme" {
			for _, spec := range []vecguard.CollectionSpec{docsSpec, notesSpec} {
				if err := c.CreateCollection(admin, spec); err != nil {
					t.Fatal(err)
				}
			}
		}
		base := uint64(0)
		if ten == "globex" {
			base = 100
		}
		if err := c.Upsert(admin, "docs", []vecguard.Point{
			point(base+1, "eng", 1, "alice"), point(base+2, "eng", 3, "bob"),
			point(base+3, "sales", 1, "alice"), point(base+4, "eng", 1, "carol"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	return c, a
}

var (
	aliceEditor = authz.Principal{Subject: "alice", Tenant: "acme", Roles: []string{"editor"}, Attributes: map[string]any{"department": "eng", "clearance": 2}}
	bobViewer   = authz.Principal{Subject: "bob", Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"department": "eng", "clearance": 1}}
)

func scrollIDs(t *testing.T, c *vecguard.Client, ctx context.Context, req vecguard.ScrollRequest) []uint64 {
	t.Helper()
	var ids []uint64
	for {
		pg, err := c.Scroll(ctx, "docs", req)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pg.Points {
			ids = append(ids, p.ID.Num())
		}
		if pg.Cursor == "" {
			return ids
		}
		req.Cursor = pg.Cursor
	}
}

func TestClientAppliesRowRules(t *testing.T) {
	c, _ := newGuardedClient(t)
	tests := []struct {
		name string
		p    authz.Principal
		req  vecguard.ScrollRequest
		want []uint64
	}{
		{"department and clearance", bobViewer, vecguard.ScrollRequest{}, []uint64{1, 4}},
		{"inherited role, higher clearance", aliceEditor, vecguard.ScrollRequest{}, []uint64{1, 4}},
		{"a caller filter narrows", aliceEditor, vecguard.ScrollRequest{Filter: vecguard.Eq("owner", vecguard.String("carol"))}, []uint64{4}},
		{"a caller filter cannot widen", bobViewer, vecguard.ScrollRequest{Filter: vecguard.Or(vecguard.Eq("department", vecguard.String("sales")), vecguard.Eq("tenant", vecguard.String("globex")))}, nil},
		{"other tenant", authz.Principal{Subject: "g", Tenant: "globex", Roles: []string{"viewer"}, Attributes: map[string]any{"department": "eng", "clearance": 5}}, vecguard.ScrollRequest{}, []uint64{101, 102, 104}},
		{"read_vectors rows: only the owner's rows come with vectors", aliceEditor, vecguard.ScrollRequest{WithVectors: true}, []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrollIDs(t, c, as(tt.p), tt.req)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("scroll = %v, want %v", got, tt.want)
			}
		})
	}
	if n := c.Violations(); n != 0 {
		t.Errorf("%d violations", n)
	}
}

// Every way of being denied ends in PermissionDenied (or Unauthenticated)
// with the decision's reason.
func TestClientDenyPaths(t *testing.T) {
	c, _ := newGuardedClient(t)
	noDept := authz.Principal{Subject: "nodept", Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"department": "eng"}}
	contractor := authz.Principal{Subject: "k", Tenant: "acme", Roles: []string{"editor", "contractor"}, Attributes: aliceEditor.Attributes}
	stranger := authz.Principal{Subject: "stranger", Tenant: "acme"}
	tests := []struct {
		name   string
		op     func() error
		is     error
		reason string
	}{
		{"no rule", func() error {
			_, err := c.Count(as(stranger), "docs", nil)
			return err
		}, vecguard.ErrPermissionDenied, `no rule allows read on "docs" in tenant "acme"`},
		{"unconditional deny overrides the allows", func() error {
			_, err := c.Search(as(contractor), "docs", vecguard.SearchRequest{Vector: []float32{1, 1}})
			return err
		}, vecguard.ErrPermissionDenied, `denied to "contractor" by a deny rule`},
		{"deny with a missing attribute applies to every row", func() error {
			_, err := c.Get(as(noDept), "docs", []vecguard.PointID{vecguard.NumID(1)}, vecguard.ReadOptions{})
			return err
		}, vecguard.ErrPermissionDenied, "lacks attribute clearance"},
		{"write without a write rule", func() error {
			return c.Upsert(as(bobViewer), "docs", []vecguard.Point{point(9, "eng", 1, "bob")})
		}, vecguard.ErrPermissionDenied, `no rule allows write on "docs"`},
		{"upsert outside the write condition", func() error {
			return c.Upsert(as(aliceEditor), "docs", []vecguard.Point{point(9, "sales", 1, "alice")})
		}, vecguard.ErrPermissionDenied, "outside your write rights"},
		{"upsert over a row outside the write condition", func() error {
			return c.Upsert(as(aliceEditor), "docs", []vecguard.Point{point(3, "eng", 1, "alice")})
		}, vecguard.ErrPermissionDenied, "outside your write rights"},
		{"upsert naming another tenant", func() error {
			p := point(9, "eng", 1, "alice")
			p.Payload["tenant"] = "globex"
			return c.Upsert(as(aliceEditor), "docs", []vecguard.Point{p})
		}, vecguard.ErrPermissionDenied, "names another tenant"},
		{"update moving a row outside the write condition", func() error {
			return c.UpdatePayload(as(aliceEditor), "docs", vecguard.PayloadUpdate{IDs: []vecguard.PointID{vecguard.NumID(1)}, Set: map[string]any{"department": "sales"}})
		}, vecguard.ErrPermissionDenied, "outside your write rights"},
		{"delete without a delete rule", func() error {
			return c.DeleteByFilter(as(bobViewer), "docs", vecguard.And())
		}, vecguard.ErrPermissionDenied, `no rule allows delete on "docs"`},
		{"admin without an admin rule", func() error {
			return c.DropCollection(as(aliceEditor), "docs")
		}, vecguard.ErrPermissionDenied, `no rule allows admin on "docs"`},
		{"vectors without read_vectors", func() error {
			_, err := c.Get(as(bobViewer), "docs", []vecguard.PointID{vecguard.NumID(1)}, vecguard.ReadOptions{WithVectors: true})
			return err
		}, vecguard.ErrPermissionDenied, `no rule allows read_vectors on "docs"`},
		{"tenant-isolated collection, principal without tenant", func() error {
			_, err := c.Count(as(authz.Principal{Subject: "aud", Roles: []string{"auditor"}}), "docs", nil)
			return err
		}, vecguard.ErrPermissionDenied, "principal has no tenant"},
		{"row rule on a field the collection lacks", func() error {
			_, err := c.Count(as(bobViewer), "notes", nil)
			return err
		}, vecguard.ErrPermissionDenied, "policy row filter does not fit the collection"},
		{"recommend from an example outside the rows", func() error {
			_, err := c.Recommend(as(bobViewer), "docs", vecguard.RecommendRequest{Positive: []vecguard.PointID{vecguard.NumID(3)}})
			return err
		}, vecguard.ErrNotFound, "not found"},
		{"no principal", func() error {
			_, err := c.Count(context.Background(), "docs", nil)
			return err
		}, vecguard.ErrUnauthenticated, "no principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %v, want it to contain %q", err, tt.reason)
			}
		})
	}
	// Nothing changed.
	root := authz.Principal{Subject: "root", Tenant: "acme", Roles: []string{"admin"}}
	if got := scrollIDs(t, c, as(root), vecguard.ScrollRequest{}); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("rows after the denied operations: %v", got)
	}
}

// A policy change takes effect on the very next operation.
func TestClientSeesPolicyChanges(t *testing.T) {
	c, a := newGuardedClient(t)
	ctx := context.Background()
	frank := authz.Principal{Subject: "frank", Tenant: "acme", Attributes: map[string]any{"department": "sales", "clearance": 9}}
	count := func() (int64, error) { return c.Count(as(frank), "docs", nil) }
	if _, err := count(); !errors.Is(err, vecguard.ErrPermissionDenied) {
		t.Fatalf("before: %v", err)
	}
	if err := a.AddRole(ctx, "frank", "viewer", "acme"); err != nil {
		t.Fatal(err)
	}
	if n, err := count(); err != nil || n != 1 {
		t.Fatalf("after AddRole: %d, %v", n, err)
	}
	if err := a.AddRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read, Condition: "owner == $sub.id or owner == 'carol'"}); err != nil {
		t.Fatal(err)
	}
	if n, err := count(); err != nil || n != 2 {
		t.Fatalf("after AddRules: %d, %v", n, err)
	}
	if err := a.AddRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read, Deny: true, Condition: "department == 'sales'"}); err != nil {
		t.Fatal(err)
	}
	if n, err := count(); err != nil || n != 1 {
		t.Fatalf("after a conditional deny: %d, %v", n, err)
	}
	if err := a.RemoveRole(ctx, "frank", "viewer", "acme"); err != nil {
		t.Fatal(err)
	}
	if n, err := count(); err != nil || n != 1 {
		t.Fatalf("after RemoveRole: %d, %v", n, err)
	}
}

// Cached decisions share their filters with every caller of the same
// shape, so nothing on the way from the authorizer to the driver may change
// a filter: run every operation and compare the cached filters after.
func TestClientDoesNotChangeDecisionFilters(t *testing.T) {
	c, a := newGuardedClient(t)
	ctx := as(aliceEditor)
	acts := []authz.Action{authz.Read, authz.Write, authz.Delete, authz.ReadVectors}
	before := map[authz.Action]string{}
	for _, act := range acts {
		d, err := a.Authorize(context.Background(), &aliceEditor, act, "docs")
		if err != nil || !d.Allow {
			t.Fatalf("%s: %+v %v", act, d, err)
		}
		before[act] = d.Filter.String()
	}
	flt := vecguard.Or(vecguard.Eq("owner", vecguard.String("alice")), vecguard.Not(vecguard.Gt("clearance", vecguard.Int(5))))
	steps := []func() error{
		func() error {
			_, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{1, 1}, Filter: flt, WithVectors: true, WithPayload: true})
			return err
		},
		func() error {
			_, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Filter: flt, WithVectors: true, PayloadFields: []string{"owner"}})
			return err
		},
		func() error {
			_, err := c.Get(ctx, "docs", []vecguard.PointID{vecguard.NumID(1), vecguard.NumID(3)}, vecguard.ReadOptions{WithVectors: true})
			return err
		},
		func() error { _, err := c.Count(ctx, "docs", flt); return err },
		func() error {
			_, err := c.Recommend(ctx, "docs", vecguard.RecommendRequest{Positive: []vecguard.PointID{vecguard.NumID(1)}, Filter: flt})
			return err
		},
		func() error {
			return c.Upsert(ctx, "docs", []vecguard.Point{point(7, "eng", 1, "alice")})
		},
		func() error {
			return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{Filter: flt, Set: map[string]any{"owner": "alice"}})
		},
		func() error {
			return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{IDs: []vecguard.PointID{vecguard.NumID(7)}, Set: map[string]any{"clearance": 0}})
		},
		func() error { // touches a policy field: the read-change-check path
			return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{IDs: []vecguard.PointID{vecguard.NumID(7)}, Set: map[string]any{"department": "eng"}})
		},
		func() error { return c.DeleteByFilter(ctx, "docs", flt) },
		func() error { return c.Delete(ctx, "docs", []vecguard.PointID{vecguard.NumID(4)}) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	for _, act := range acts {
		d, _ := a.Authorize(context.Background(), &aliceEditor, act, "docs")
		if got := d.Filter.String(); got != before[act] {
			t.Errorf("%s: cached filter changed from %s to %s", act, before[act], got)
		}
	}
}
