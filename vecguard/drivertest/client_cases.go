package drivertest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// clientCases are the guarded-client cases: the client built over the
// driver must enforce authentication, authorization, tenant isolation and
// validation the same way on every database.
var clientCases = []struct {
	name string
	fn   func(*testing.T, HarnessMaker)
}{
	{"Unauthenticated", testClientUnauthenticated},
	{"PermissionDenied", testClientPermissionDenied},
	{"InvalidArgument", testClientInvalidArgument},
	{"NotFound", testClientNotFound},
	{"Collections", testClientCollections},
	{"TenantIsolation", testClientTenantIsolation},
	{"RowFilter", testClientRowFilter},
	{"Recommend", testClientRecommend},
	{"ReadVectors", testClientReadVectors},
	{"Cursors", testClientCursors},
	{"Payload", testClientPayload},
	{"Errors", testClientErrors},
}

// testClient runs the guarded-client cases.
func testClient(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	for _, tc := range clientCases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness) })
	}
}

// The subjects of the client cases and what they are granted.
const (
	subjAdmin   = "admin"   // everything
	subjAlice   = "alice"   // read, write, delete, read vectors (tenant t1 in tenant cases)
	subjBob     = "bob"     // the same (tenant t2)
	subjReader  = "reader"  // read
	subjWriter  = "writer"  // read, write, delete: no read_vectors
	subjCarol   = "carol"   // read, write, delete, read vectors of red rows only
	subjBroken  = "broken"  // read with a row filter on an undeclared field
	subjNothing = "nothing" // no grants
)

var (
	dataActions = []authz.Action{authz.Read, authz.Write, authz.Delete, authz.ReadVectors}
	redRows     = driver.Eq("color", driver.String("red"))
)

// grants is the test policy: subject → action → row filter (nil: all rows).
type grants map[string]map[authz.Action]*driver.Filter

func grant(f *driver.Filter, actions ...authz.Action) map[authz.Action]*driver.Filter {
	m := map[authz.Action]*driver.Filter{}
	for _, a := range actions {
		m[a] = f
	}
	return m
}

// testGrants is the policy every client case runs under.
func testGrants() grants {
	return grants{
		subjAdmin:  grant(nil, append(dataActions, authz.Admin)...),
		subjAlice:  grant(nil, dataActions...),
		subjBob:    grant(nil, dataActions...),
		subjReader: grant(nil, authz.Read),
		subjWriter: grant(nil, authz.Read, authz.Write, authz.Delete),
		subjCarol:  grant(redRows, dataActions...),
		subjBroken: grant(driver.Eq("nosuchfield", driver.String("x")), authz.Read),
	}
}

// authorizer returns an authz.AuthorizerFunc deciding by g.
func (g grants) authorizer() authz.Authorizer {
	return authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
		if f, ok := g[p.Subject][a]; ok {
			return authz.Decision{Allow: true, Filter: f, Rule: "test-grant"}, nil
		}
		return authz.Decision{Rule: "test-default", Reason: "not granted"}, nil
	})
}

// clientFixture is a fixture with a guarded client over its driver.
type clientFixture struct {
	*fixture
	c *vecguard.Client
}

// newClientFixture makes a driver and a client over it with the test
// policy. When the test ends it checks that the client's re-check never had
// to drop a row: a driver must return only rows that match its filter.
func newClientFixture(t *testing.T, newHarness HarnessMaker) *clientFixture {
	t.Helper()
	f := newFixture(t, newHarness)
	cf := &clientFixture{fixture: f, c: vecguard.New(f.drv, &vecguard.Options{Authorizer: testGrants().authorizer()})}
	t.Cleanup(func() {
		if v := cf.c.Violations(); v != 0 {
			t.Errorf("the client dropped %d rows the driver returned outside the filter", v)
		}
	})
	return cf
}

// as returns a context carrying the principal subject of tenant.
func (f *fixture) as(subject, tenant string) context.Context {
	return vecguard.WithPrincipal(f.ctx, vecguard.Principal{Subject: subject, Tenant: tenant})
}

// clientSpec is the collection of the client cases; tenant makes it
// tenant-isolated on the field "tenant".
func clientSpec(tenant bool) *driver.CollectionSpec {
	s := &driver.CollectionSpec{
		Vectors: []driver.VectorSpec{
			{Name: "v", Dim: 4, Distance: driver.Cosine},
			{Name: "w", Dim: 3, Distance: driver.Euclid},
		},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "color", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
			{Name: "price", Kind: driver.KindFloat, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
	}
	if tenant {
		s.TenantField = "tenant"
	}
	return s
}

// createVia creates a collection from spec under a unique name through the
// client (as admin) and drops it through the driver when the test ends.
func (cf *clientFixture) createVia(t *testing.T, tag string, spec *driver.CollectionSpec) (*driver.CollectionSpec, driver.Collection) {
	t.Helper()
	s := spec.Clone()
	s.Name = uniqueName(tag)
	cf.dropLater(t, s.Name)
	if err := cf.c.CreateCollection(cf.as(subjAdmin, "t1"), *s); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	return s, cf.drv.Collection(s)
}

// clientPoints returns n points for the client spec, with IDs from first
// on (every fourth a UUID), colors red, green and blue, and no tenant.
func clientPoints(seed uint64, spec *driver.CollectionSpec, first uint64, n int) []driver.Point {
	r := newRand(seed)
	colors := []string{"red", "green", "blue"}
	pts := make([]driver.Point, n)
	for i := range pts {
		id := driver.NumID(first + uint64(i))
		if i%4 == 3 {
			id = randomUUID(r)
		}
		pts[i] = driver.Point{
			ID:      id,
			Vectors: randomVectors(r, spec),
			Payload: map[string]any{"color": colors[i%3], "size": int64(i), "note": fmt.Sprintf("n%d", i)},
		}
	}
	return pts
}

// upsertAs writes points through the client, failing the test on error.
func (cf *clientFixture) upsertAs(t *testing.T, ctx context.Context, coll string, pts []driver.Point) {
	t.Helper()
	if err := cf.c.Upsert(ctx, coll, clonePoints(pts)); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

// snapshot returns every stored point, read through the driver.
func (f *fixture) snapshot(t *testing.T, c driver.Collection) []driver.Point {
	t.Helper()
	return f.scrollAll(t, c, nil, 1000, all, true)
}

// unchanged fails the test unless the collection still holds before.
func (f *fixture) unchanged(t *testing.T, s *driver.CollectionSpec, c driver.Collection, before []driver.Point) {
	t.Helper()
	if d := pointsDiff(s, f.caps, before, f.snapshot(t, c), all, true); d != "" {
		t.Errorf("the collection changed: %s", d)
	}
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// clientOp is one call of the client's API.
type clientOp struct {
	name string
	call func(ctx context.Context, c *vecguard.Client) error
}

// clientOps returns one valid call of every operation on the collection
// s, whose stored points include pts.
func clientOps(s *driver.CollectionSpec, pts []driver.Point) []clientOp {
	coll := s.Name
	q := pts[0].Vectors["v"]
	fresh := clientPoints(99, s, 900, 2)
	return []clientOp{
		{"Upsert", func(ctx context.Context, c *vecguard.Client) error { return c.Upsert(ctx, coll, clonePoints(fresh)) }},
		{"Search", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Search(ctx, coll, vecguard.SearchRequest{Vector: q, Limit: 5, WithPayload: true})
			return err
		}},
		{"Recommend", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: []vecguard.PointID{pts[0].ID}, Limit: 5})
			return err
		}},
		{"Get", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, ids(pts[:3]), vecguard.ReadOptions{WithPayload: true})
			return err
		}},
		{"Scroll", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Scroll(ctx, coll, vecguard.ScrollRequest{Limit: 5})
			return err
		}},
		{"Count", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Count(ctx, coll, nil)
			return err
		}},
		{"Delete", func(ctx context.Context, c *vecguard.Client) error { return c.Delete(ctx, coll, ids(pts[:2])) }},
		{"DeleteByFilter", func(ctx context.Context, c *vecguard.Client) error {
			return c.DeleteByFilter(ctx, coll, driver.Eq("color", driver.String("red")))
		}},
		{"UpdatePayload", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2]), Set: map[string]any{"note": "changed"}})
		}},
		{"DescribeCollection", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.DescribeCollection(ctx, coll)
			return err
		}},
		{"DropCollection", func(ctx context.Context, c *vecguard.Client) error { return c.DropCollection(ctx, coll) }},
		{"CreateCollection", func(ctx context.Context, c *vecguard.Client) error {
			other := s.Clone()
			other.Name = coll + "_x"
			return c.CreateCollection(ctx, *other)
		}},
	}
}

// testClientUnauthenticated checks that a call without a principal (or
// with an empty subject) is refused before anything happens.
func testClientUnauthenticated(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "unauth", clientSpec(false))
	pts := clientPoints(61, s, 1, 12)
	cf.upsertAs(t, cf.as(subjAdmin, ""), s.Name, pts)
	before := cf.snapshot(t, c)
	ctxs := map[string]context.Context{
		"NoPrincipal":  cf.ctx,
		"EmptySubject": cf.as("", "t1"),
	}
	for name, ctx := range ctxs {
		for _, op := range clientOps(s, pts) {
			t.Run(name+"/"+op.name, func(t *testing.T) {
				wantErr(t, op.name, op.call(ctx, cf.c), vecguard.ErrUnauthenticated)
			})
		}
		t.Run(name+"/ListCollections", func(t *testing.T) {
			_, err := cf.c.ListCollections(ctx)
			wantErr(t, "ListCollections", err, vecguard.ErrUnauthenticated)
		})
	}
	cf.unchanged(t, s, c, before)
	cf.noCollection(t, s.Name+"_x")
}

// noCollection fails the test if a collection named name exists.
func (f *fixture) noCollection(t *testing.T, name string) {
	t.Helper()
	if _, err := f.drv.DescribeCollection(f.ctx, name); f.codeOf(err) != driver.NotFound {
		f.dropLater(t, name)
		t.Errorf("collection %s exists (DescribeCollection: %v)", name, err)
	}
}

// testClientPermissionDenied checks deny by default, denials by action, an
// authorizer that fails, and a policy row filter that does not fit.
func testClientPermissionDenied(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "denied", clientSpec(false))
	pts := clientPoints(62, s, 1, 12)
	cf.upsertAs(t, cf.as(subjAdmin, ""), s.Name, pts)
	before := cf.snapshot(t, c)

	failing := authz.AuthorizerFunc(func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
		return authz.Decision{Allow: true}, errors.New("policy store unreachable")
	})
	clients := []struct {
		name    string
		c       *vecguard.Client
		subject string
		allowed map[string]bool // operations that succeed
	}{
		{"NoGrants", cf.c, subjNothing, nil},
		{"NoAuthorizer", vecguard.New(cf.drv, nil), subjAdmin, nil},
		{"NilOptionsAuthorizer", vecguard.New(cf.drv, &vecguard.Options{}), subjAdmin, nil},
		{"FailingAuthorizer", vecguard.New(cf.drv, &vecguard.Options{Authorizer: failing}), subjAdmin, nil},
		{"Reader", cf.c, subjReader, map[string]bool{"Search": true, "Recommend": true, "Get": true, "Scroll": true, "Count": true, "DescribeCollection": true}},
		{"Writer", cf.c, subjWriter, map[string]bool{"Search": true, "Recommend": true, "Get": true, "Scroll": true, "Count": true, "DescribeCollection": true}},
		{"BrokenRowFilter", cf.c, subjBroken, map[string]bool{"DescribeCollection": true}},
	}
	for _, cl := range clients {
		for _, op := range clientOps(s, pts) {
			if cl.allowed[op.name] {
				continue
			}
			// Writes the writer may do are checked elsewhere.
			if cl.subject == subjWriter && (op.name == "Upsert" || op.name == "Delete" || op.name == "DeleteByFilter" || op.name == "UpdatePayload") {
				continue
			}
			t.Run(cl.name+"/"+op.name, func(t *testing.T) {
				wantErr(t, op.name, op.call(cf.as(cl.subject, ""), cl.c), vecguard.ErrPermissionDenied)
			})
		}
	}
	t.Run("ListCollections", func(t *testing.T) {
		for _, cl := range clients[:3] {
			names, err := cl.c.ListCollections(cf.as(cl.subject, ""))
			if err != nil {
				t.Fatalf("%s: ListCollections: %v", cl.name, err)
			}
			for _, n := range names {
				if n == s.Name {
					t.Errorf("%s: ListCollections lists a collection the caller may not read", cl.name)
				}
			}
		}
		_, err := clients[3].c.ListCollections(cf.as(subjAdmin, ""))
		wantErr(t, "ListCollections with a failing authorizer", err, vecguard.ErrPermissionDenied)
	})
	t.Run("AuthorizerErrorCode", func(t *testing.T) {
		c := vecguard.New(cf.drv, &vecguard.Options{Authorizer: authz.AuthorizerFunc(
			func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
				return authz.Decision{Allow: true}, driver.Errorf(driver.Unavailable, "policy store unreachable")
			})})
		_, err := c.Count(cf.as(subjAdmin, ""), s.Name, nil)
		wantErr(t, "Count with an unavailable authorizer", err, vecguard.ErrUnavailable)
	})
	// A caller without rights learns nothing, not even whether a
	// collection exists.
	missing := s.Clone()
	missing.Name = uniqueName("nothere")
	for _, op := range clientOps(missing, pts) {
		for _, subj := range []string{subjNothing, subjReader} {
			if subj == subjReader && op.name != "Upsert" && op.name != "Delete" && op.name != "UpdatePayload" && op.name != "DropCollection" {
				continue
			}
			t.Run("MissingCollection/"+subj+"/"+op.name, func(t *testing.T) {
				wantErr(t, op.name, op.call(cf.as(subj, ""), cf.c), vecguard.ErrPermissionDenied)
			})
		}
	}
	cf.unchanged(t, s, c, before)
	cf.noCollection(t, s.Name+"_x")
	cf.noCollection(t, missing.Name)
}

// testClientNotFound checks that every operation on a missing collection
// is NotFound, for callers who may do it.
func testClientNotFound(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s := clientSpec(false)
	s.Name = uniqueName("nothere")
	pts := clientPoints(63, s, 1, 4)
	for _, op := range clientOps(s, pts) {
		if op.name == "CreateCollection" {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			wantErr(t, op.name, op.call(cf.as(subjAdmin, ""), cf.c), vecguard.ErrNotFound)
		})
	}
	cf.noCollection(t, s.Name)
}
