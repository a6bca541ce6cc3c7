package vecguard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// allow grants every action on every row to the subjects "admin" and
// "alice", read to "reader", and nothing to anyone else.
var allow = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
	switch {
	case p.Subject == "admin" || p.Subject == "alice":
		return authz.Decision{Allow: true, Rule: "full"}, nil
	case p.Subject == "reader" && a == authz.Read:
		return authz.Decision{Allow: true, Rule: "read"}, nil
	}
	return authz.Decision{Reason: "not granted", Rule: "default"}, nil
})

func spec(name string, tenant bool) vecguard.CollectionSpec {
	s := vecguard.CollectionSpec{
		Name:    name,
		Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Euclid}},
		Fields: []vecguard.FieldSpec{
			{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
			{Name: "color", Kind: vecguard.KindString, Filterable: true},
		},
	}
	if tenant {
		s.TenantField = "tenant"
	}
	return s
}

func points(n int, first uint64) []vecguard.Point {
	pts := make([]vecguard.Point, n)
	for i := range pts {
		color := "red"
		if i%2 == 1 {
			color = "blue"
		}
		pts[i] = vecguard.Point{
			ID:      vecguard.NumID(first + uint64(i)),
			Vectors: map[string][]float32{"v": {float32(i), 1}},
			Payload: map[string]any{"color": color},
		}
	}
	return pts
}

func as(subject, tenant string) context.Context {
	return vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: subject, Tenant: tenant})
}

// setup returns a client over a fresh memory store with a collection
// "docs" of n points (tenant-isolated when tenant, written as alice of t1).
func setup(t *testing.T, d driver.Driver, opts *vecguard.Options, tenant bool, n int) *vecguard.Client {
	t.Helper()
	if opts == nil {
		opts = &vecguard.Options{}
	}
	if opts.Authorizer == nil {
		opts.Authorizer = allow
	}
	c := vecguard.New(d, opts)
	if err := c.CreateCollection(as("admin", "t1"), spec("docs", tenant)); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	if n > 0 {
		if err := c.Upsert(as("alice", "t1"), "docs", points(n, 1)); err != nil {
			t.Fatalf("Upsert: %v", err)
		}
	}
	return c
}

// recorder is an Auditor that keeps records and fails when err is set.
type recorder struct {
	mu   sync.Mutex
	recs []audit.Record
	err  error
}

func (r *recorder) Audit(_ context.Context, rec *audit.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, *rec)
	return r.err
}

func (r *recorder) last() audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recs[len(r.recs)-1]
}

func TestAuditRecords(t *testing.T) {
	rec := &recorder{}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := setup(t, memory.New(), &vecguard.Options{Auditor: rec, RecordResultIDs: true, Now: func() time.Time { return now }}, true, 6)
	red := vecguard.Eq("color", vecguard.String("red"))
	tenant := vecguard.Eq("tenant", vecguard.String("t1"))
	cases := []struct {
		name string
		call func() error
		want audit.Record // the fields checked
	}{
		{"Search", func() error {
			_, err := c.Search(as("alice", "t1"), "docs", vecguard.SearchRequest{Vector: []float32{0, 1}, Limit: 2, Filter: red})
			return err
		}, audit.Record{Operation: "search", Class: audit.ClassRead, Allowed: true, TopK: 2, ResultCount: 2, CallerFilter: red, PolicyFilter: tenant,
			ResultIDs: []driver.PointID{vecguard.NumID(1), vecguard.NumID(3)}}},
		{"Count", func() error {
			_, err := c.Count(as("reader", "t1"), "docs", nil)
			return err
		}, audit.Record{Operation: "count", Class: audit.ClassRead, Allowed: true, ResultCount: 6, PolicyFilter: tenant}},
		{"Upsert", func() error {
			return c.Upsert(as("alice", "t1"), "docs", points(2, 100))
		}, audit.Record{Operation: "upsert", Class: audit.ClassWrite, Allowed: true, ResultCount: 2, PolicyFilter: tenant}},
		{"Delete", func() error {
			return c.Delete(as("alice", "t1"), "docs", []vecguard.PointID{vecguard.NumID(100)})
		}, audit.Record{Operation: "delete", Class: audit.ClassDelete, Allowed: true, PolicyFilter: tenant}},
		{"Denied", func() error {
			return c.Delete(as("reader", "t1"), "docs", []vecguard.PointID{vecguard.NumID(1)})
		}, audit.Record{Operation: "delete", Class: audit.ClassDelete, Rule: "default", Reason: "not granted", Code: driver.PermissionDenied}},
		{"Invalid", func() error {
			_, err := c.Search(as("alice", "t1"), "docs", vecguard.SearchRequest{Vector: []float32{1}})
			return err
		}, audit.Record{Operation: "search", Class: audit.ClassRead, Allowed: true, Rule: "full", TopK: 10, PolicyFilter: tenant, Code: driver.InvalidArgument}},
		{"Admin", func() error {
			return c.DropCollection(as("admin", "t1"), "nosuch")
		}, audit.Record{Operation: "drop_collection", Class: audit.ClassAdmin, Allowed: true, Rule: "full", Code: driver.NotFound}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if (err != nil) != (tc.want.Code != driver.Unknown) {
				t.Fatalf("error %v, want code %s", err, tc.want.Code)
			}
			got := rec.last()
			if got.Subject == "" || got.Tenant != "t1" || !got.Time.Equal(now) || got.Latency != 0 {
				t.Errorf("record: subject %q, tenant %q, time %v, latency %v", got.Subject, got.Tenant, got.Time, got.Latency)
			}
			if got.Operation != tc.want.Operation || got.Class != tc.want.Class || got.Allowed != tc.want.Allowed {
				t.Errorf("record: %s %s allowed=%v, want %s %s allowed=%v", got.Operation, got.Class, got.Allowed, tc.want.Operation, tc.want.Class, tc.want.Allowed)
			}
			if got.Code != tc.want.Code || (got.Err == "") != (tc.want.Code == driver.Unknown) {
				t.Errorf("record: code %s, err %q; want code %s", got.Code, got.Err, tc.want.Code)
			}
			if tc.want.Rule != "" && got.Rule != tc.want.Rule {
				t.Errorf("record: rule %q, want %q", got.Rule, tc.want.Rule)
			}
			if tc.want.Reason != "" && got.Reason != tc.want.Reason {
				t.Errorf("record: reason %q, want %q", got.Reason, tc.want.Reason)
			}
			if got.TopK != tc.want.TopK || got.ResultCount != tc.want.ResultCount {
				t.Errorf("record: top-k %d, results %d; want %d, %d", got.TopK, got.ResultCount, tc.want.TopK, tc.want.ResultCount)
			}
			if got.CallerFilter.String() != tc.want.CallerFilter.String() || got.PolicyFilter.String() != tc.want.PolicyFilter.String() {
				t.Errorf("record: caller filter %v, policy filter %v; want %v, %v", got.CallerFilter, got.PolicyFilter, tc.want.CallerFilter, tc.want.PolicyFilter)
			}
			if tc.want.ResultIDs != nil && !slices.Equal(got.ResultIDs, tc.want.ResultIDs) {
				t.Errorf("record: result IDs %v, want %v", got.ResultIDs, tc.want.ResultIDs)
			}
			if got.Violations != 0 {
				t.Errorf("record: %d violations", got.Violations)
			}
		})
	}
}

func TestAuditFailureWithholdsResults(t *testing.T) {
	rec := &recorder{}
	c := setup(t, memory.New(), &vecguard.Options{Auditor: rec}, false, 6)
	rec.err = errors.New("disk full")
	ctx := as("alice", "")
	cases := []struct {
		name string
		call func() (results int, err error)
	}{
		{"Search", func() (int, error) {
			r, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0, 1}})
			return len(r), err
		}},
		{"Recommend", func() (int, error) {
			r, err := c.Recommend(ctx, "docs", vecguard.RecommendRequest{Positive: []vecguard.PointID{vecguard.NumID(1)}})
			return len(r), err
		}},
		{"Get", func() (int, error) {
			r, err := c.Get(ctx, "docs", []vecguard.PointID{vecguard.NumID(1)}, vecguard.ReadOptions{WithPayload: true})
			return len(r), err
		}},
		{"Scroll", func() (int, error) {
			r, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 2})
			if r.Cursor != "" {
				return len(r.Points) + 1, err
			}
			return len(r.Points), err
		}},
		{"Count", func() (int, error) {
			n, err := c.Count(ctx, "docs", nil)
			return int(n), err
		}},
		{"DescribeCollection", func() (int, error) {
			s, err := c.DescribeCollection(ctx, "docs")
			if s != nil {
				return 1, err
			}
			return 0, err
		}},
		{"ListCollections", func() (int, error) {
			names, err := c.ListCollections(ctx)
			return len(names), err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.call()
			if !errors.Is(err, vecguard.ErrUnavailable) {
				t.Errorf("got error %v, want ErrUnavailable", err)
			}
			if n != 0 {
				t.Errorf("%d results returned although the audit failed", n)
			}
		})
	}
	t.Run("ErrorCode", func(t *testing.T) {
		rec.err = driver.Errorf(driver.ResourceExhausted, "audit queue full")
		_, err := c.Count(ctx, "docs", nil)
		if !errors.Is(err, vecguard.ErrResourceExhausted) {
			t.Errorf("got error %v, want ErrResourceExhausted", err)
		}
	})
}

func TestClose(t *testing.T) {
	store := memory.New()
	c := setup(t, store, nil, false, 3)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := c.Count(as("alice", ""), "docs", nil)
	if !errors.Is(err, vecguard.ErrFailedPrecondition) {
		t.Errorf("Count after Close: %v, want ErrFailedPrecondition", err)
	}
	if _, err := store.ListCollections(context.Background()); err == nil {
		t.Errorf("the client's Close did not close the driver")
	}
}

// leaky is a driver whose collections ignore filters: the client's
// re-check must drop what they return outside the caller's rights.
type leaky struct{ driver.Driver }

func (d leaky) Collection(s *driver.CollectionSpec) driver.Collection {
	return leakyColl{d.Driver.Collection(s)}
}

type leakyColl struct{ driver.Collection }

func (c leakyColl) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	qq := *q
	qq.Filter = nil
	qq.Payload = driver.Projection{All: true}
	return c.Collection.Search(ctx, &qq)
}

func (c leakyColl) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	rr := *r
	rr.Filter = nil
	rr.Payload = driver.Projection{All: true}
	return c.Collection.Read(ctx, &rr)
}

func TestRecheckDropsLeakedRows(t *testing.T) {
	store := memory.New()
	rec := &recorder{}
	c := setup(t, leaky{store}, &vecguard.Options{Auditor: rec}, true, 4)
	if err := c.Upsert(as("alice", "t2"), "docs", points(4, 101)); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	ctx := as("alice", "t1")
	hits, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0, 1}, Limit: 8, Filter: vecguard.Eq("color", vecguard.String("red"))})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	var got []vecguard.PointID
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if want := []vecguard.PointID{vecguard.NumID(1), vecguard.NumID(3)}; !slices.Equal(got, want) {
		t.Errorf("Search returned %v, want %v", got, want)
	}
	if v := c.Violations(); v != 6 {
		t.Errorf("Violations() = %d, want 6", v)
	}
	if r := rec.last(); r.Violations != 6 {
		t.Errorf("audit record: %d violations, want 6", r.Violations)
	}
	pg, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 100, WithPayload: true})
	if err != nil {
		t.Fatalf("Scroll: %v", err)
	}
	for _, p := range pg.Points {
		if p.Payload["tenant"] != "t1" {
			t.Errorf("Scroll returned %v of tenant %v", p.ID, p.Payload["tenant"])
		}
	}
	if v := c.Violations(); v != 10 {
		t.Errorf("Violations() = %d, want 10", v)
	}
}

// rawErrors is a driver whose every operation fails with a raw error that
// its ErrorClassifier classifies.
type rawErrors struct {
	driver.Driver
	err  error
	code driver.Code
}

func (d rawErrors) ErrorCode(err error) driver.Code {
	if errors.Is(err, d.err) {
		return d.code
	}
	return driver.Unknown
}

func (d rawErrors) Collection(s *driver.CollectionSpec) driver.Collection {
	return failingColl{d.Driver.Collection(s), d.err}
}

type failingColl struct {
	driver.Collection
	err error
}

func (c failingColl) Count(context.Context, *driver.Filter) (int64, error) {
	return 0, fmt.Errorf("rpc: %w", c.err)
}

func TestDriverErrorsClassifiedAndWrappedOnce(t *testing.T) {
	raw := errors.New("server says: slow down")
	for _, tc := range []struct {
		name string
		err  error
		code driver.Code
		want error
	}{
		{"Classified", raw, driver.ResourceExhausted, vecguard.ErrResourceExhausted},
		{"Unclassified", errors.New("???"), driver.Unknown, nil},
		{"DriverError", driver.Errorf(driver.Unavailable, "down"), driver.Unknown, vecguard.ErrUnavailable},
		{"Context", context.DeadlineExceeded, driver.Unknown, vecguard.ErrDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, rawErrors{memory.New(), tc.err, tc.code}, nil, false, 0)
			_, err := c.Count(as("alice", ""), "docs", nil)
			var e *vecguard.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *vecguard.Error", err, err)
			}
			if e.Op != "count" || e.Collection != "docs" {
				t.Errorf("error %v: op %q, collection %q", err, e.Op, e.Collection)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("errors.Is(%v, %v) is false", err, tc.want)
			}
			if tc.want == nil && e.Code != driver.Unknown {
				t.Errorf("error %v: code %s, want unknown", err, e.Code)
			}
			if !errors.Is(err, tc.err) && tc.name != "DriverError" {
				t.Errorf("error %v does not wrap the driver's error", err)
			}
			var inner *vecguard.Error
			if errors.As(e.Err, &inner) {
				t.Errorf("error %v is wrapped twice", err)
			}
		})
	}
}

func TestPrincipalIsCopied(t *testing.T) {
	p := vecguard.Principal{Subject: "s", Tenant: "t", Roles: []string{"a"}, Attributes: map[string]any{"level": 3}}
	ctx := vecguard.WithPrincipal(context.Background(), p)
	p.Roles[0] = "changed"
	p.Attributes["level"] = 9
	got, ok := vecguard.PrincipalFrom(ctx)
	if !ok || got.Roles[0] != "a" || got.Attributes["level"] != int64(3) {
		t.Fatalf("PrincipalFrom = %+v, %v", got, ok)
	}
	got.Roles[0] = "changed"
	again, _ := vecguard.PrincipalFrom(ctx)
	if again.Roles[0] != "a" {
		t.Errorf("changing a returned principal changed the context's")
	}
	if _, ok := vecguard.PrincipalFrom(context.Background()); ok {
		t.Errorf("PrincipalFrom found a principal in an empty context")
	}
}

func TestScrollAfterDeletedCursor(t *testing.T) {
	c := setup(t, memory.New(), nil, false, 10)
	ctx := as("alice", "")
	pg, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 4})
	if err != nil {
		t.Fatalf("Scroll: %v", err)
	}
	// The point the cursor stands on goes away; the scroll goes on after it.
	if err := c.Delete(ctx, "docs", []vecguard.PointID{vecguard.NumID(4), vecguard.NumID(5)}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	next, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 4, Cursor: pg.Cursor})
	if err != nil {
		t.Fatalf("Scroll: %v", err)
	}
	var got []vecguard.PointID
	for _, p := range next.Points {
		got = append(got, p.ID)
	}
	want := []vecguard.PointID{vecguard.NumID(6), vecguard.NumID(7), vecguard.NumID(8), vecguard.NumID(9)}
	if !slices.Equal(got, want) {
		t.Errorf("second page %v, want %v", got, want)
	}
}

// noUpdater hides the collection's PayloadUpdater.
type noUpdater struct{ driver.Driver }

func (d noUpdater) Collection(s *driver.CollectionSpec) driver.Collection {
	return struct{ driver.Collection }{d.Driver.Collection(s)}
}

func TestUpdatePayloadSelectionLimit(t *testing.T) {
	c := setup(t, noUpdater{memory.New()}, nil, false, 0)
	ctx := as("alice", "")
	pts := points(driver.MaxBatch+1, 1)
	for len(pts) > 0 {
		n := min(len(pts), 5000)
		if err := c.Upsert(ctx, "docs", pts[:n]); err != nil {
			t.Fatalf("Upsert: %v", err)
		}
		pts = pts[n:]
	}
	err := c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{Filter: vecguard.And(), Set: map[string]any{"color": "green"}})
	if !errors.Is(err, vecguard.ErrFailedPrecondition) {
		t.Errorf("UpdatePayload of %d points: %v, want ErrFailedPrecondition", driver.MaxBatch+1, err)
	}
	if n, err := c.Count(ctx, "docs", vecguard.Eq("color", vecguard.String("green"))); err != nil || n != 0 {
		t.Errorf("after a refused update, %d points are green (%v)", n, err)
	}
	if err := c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{Filter: vecguard.Eq("color", vecguard.String("red")), Set: map[string]any{"color": "green"}}); err != nil {
		t.Fatalf("UpdatePayload: %v", err)
	}
	if n, err := c.Count(ctx, "docs", vecguard.Eq("color", vecguard.String("green"))); err != nil || n != (driver.MaxBatch+2)/2 {
		t.Errorf("%d points are green (%v), want %d", n, err, (driver.MaxBatch+2)/2)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := setup(t, memory.New(), nil, true, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := fmt.Sprintf("t%d", g%2)
			ctx := as("alice", tenant)
			for i := range 20 {
				id := uint64(g*1000 + i + 1)
				if err := c.Upsert(ctx, "docs", points(1, id)); err != nil {
					t.Errorf("Upsert: %v", err)
					return
				}
				hits, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{1, 1}, Limit: 5, WithPayload: true})
				if err != nil {
					t.Errorf("Search: %v", err)
					return
				}
				for _, h := range hits {
					if h.Payload["tenant"] != tenant {
						t.Errorf("tenant %s saw a row of %v", tenant, h.Payload["tenant"])
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, tenant := range []string{"t0", "t1"} {
		if n, err := c.Count(as("alice", tenant), "docs", nil); err != nil || n != 80 {
			t.Errorf("tenant %s: Count = %d, %v; want 80", tenant, n, err)
		}
	}
	if v := c.Violations(); v != 0 {
		t.Errorf("Violations() = %d", v)
	}
}

// TestScrollCursorNeverNamesADroppedRow: a page that ends on a row the
// re-check dropped is refused, so no cursor carries another tenant's ID.
func TestScrollCursorNeverNamesADroppedRow(t *testing.T) {
	store := memory.New()
	c := setup(t, leaky{store}, nil, true, 4)
	if err := c.Upsert(as("alice", "t2"), "docs", points(4, 101)); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	foreign := map[string]bool{}
	for id := uint64(101); id <= 104; id++ {
		foreign[vecguard.CursorAfter(vecguard.NumID(id))] = true
	}
	ctx := as("alice", "t1")
	cursor, refused := "", false
	for range 10 {
		pg, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 2, Cursor: cursor, WithPayload: true})
		if err != nil {
			if !errors.Is(err, vecguard.ErrInternal) {
				t.Fatalf("Scroll: %v, want ErrInternal", err)
			}
			refused = true
			break
		}
		if foreign[pg.Cursor] {
			t.Fatalf("a cursor names a row of another tenant")
		}
		for _, p := range pg.Points {
			if p.Payload["tenant"] != "t1" {
				t.Fatalf("Scroll returned %v of tenant %v", p.ID, p.Payload["tenant"])
			}
		}
		if pg.Cursor == "" {
			break
		}
		cursor = pg.Cursor
	}
	if !refused {
		t.Error("the scroll over a leaking driver was never refused")
	}
}

// TestRefuse: an operation the guard does not serve is refused with
// PermissionDenied and audited as a denial of the caller; the refusal of an
// unauthenticated caller or while the audit log fails is recorded or
// refused as any other operation's.
func TestRefuse(t *testing.T) {
	rec := &recorder{}
	c := vecguard.New(memory.New(), &vecguard.Options{Authorizer: allow, Auditor: rec})
	tests := []struct {
		name     string
		ctx      context.Context
		coll     string
		auditErr error
		code     driver.Code
		wantColl string
	}{
		{"caller", as("mallory", "t2"), "docs", nil, driver.PermissionDenied, "docs"},
		{"invalid collection name left out", as("mallory", "t2"), "../x", nil, driver.PermissionDenied, ""},
		{"no principal", context.Background(), "docs", nil, driver.Unauthenticated, "docs"},
		{"audit fails", as("mallory", "t2"), "docs", errors.New("disk full"), driver.Unavailable, "docs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.recs, rec.err = nil, tt.auditErr
			rec.mu.Unlock()
			err := c.Refuse(tt.ctx, "/qdrant.Points/UpdateVectors", audit.ClassWrite, tt.coll, driver.Errorf(driver.PermissionDenied, "not served by the guard"))
			if driver.CodeOf(err) != tt.code {
				t.Fatalf("Refuse = %v, want code %v", err, tt.code)
			}
			if len(rec.recs) != 1 {
				t.Fatalf("%d audit records, want 1", len(rec.recs))
			}
			r := rec.last()
			if r.Allowed || r.Operation != "/qdrant.Points/UpdateVectors" || r.Class != audit.ClassWrite || r.Collection != tt.wantColl {
				t.Errorf("record %+v", r)
			}
			if tt.code == driver.PermissionDenied && (r.Subject != "mallory" || r.Tenant != "t2" || r.Reason != "not served by the guard" || r.Code != driver.PermissionDenied) {
				t.Errorf("record %+v, want mallory of t2 denied by the guard", r)
			}
		})
	}
	// The reason's code is the caller's; a reason without one is
	// PermissionDenied.
	rec.err = nil
	err := c.Refuse(as("mallory", "t2"), "/qdrant.Points/Query", audit.ClassRead, "docs", driver.Errorf(driver.InvalidArgument, "transparent mode does not support prefetch"))
	if driver.CodeOf(err) != driver.InvalidArgument || rec.last().Allowed || rec.last().Code != driver.InvalidArgument {
		t.Errorf("unsupported option: %v, record %+v", err, rec.last())
	}
	err = c.Refuse(as("mallory", "t2"), "/qdrant.Points/Query", audit.ClassRead, "docs", errors.New("plain"))
	if driver.CodeOf(err) != driver.PermissionDenied || rec.last().Allowed {
		t.Errorf("reason without a code: %v, record %+v", err, rec.last())
	}
	// An error of a client operation was audited by it: returned as it is,
	// not recorded twice.
	_, opErr := c.Get(as("mallory", "t2"), "nope", []vecguard.PointID{vecguard.NumID(1)}, vecguard.ReadOptions{})
	if opErr == nil {
		t.Fatal("Get of a missing collection succeeded")
	}
	n := len(rec.recs)
	if err := c.Refuse(as("mallory", "t2"), "/qdrant.Points/Get", audit.ClassRead, "nope", opErr); err != opErr || len(rec.recs) != n {
		t.Errorf("Refuse of an operation's error: %v (want it unchanged), %d new records", err, len(rec.recs)-n)
	}
}

// fixedKeys hands out one keyring for every scope.
type fixedKeys struct{ k *encryption.Keyring }

func (f fixedKeys) Keyring(context.Context, encryption.Scope) (*encryption.Keyring, error) {
	return f.k, nil
}

// TestEncryptedSearchMixedExactCopies: points sealed without exact copies
// (Config.OmitExactVector), then searched by a client that seals them (the
// setting changed): the search, which reads no stored vectors when exact
// copies are sealed, reads them again for such points and returns them.
func TestEncryptedSearchMixedExactCopies(t *testing.T) {
	root, err := encryption.HKDFRootKey([]byte("test root key, thirty-two bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		t.Fatal(err)
	}
	d := memory.New()
	client := func(omit bool) *vecguard.Client {
		enc, err := encryption.New(fixedKeys{kr}, encryption.Config{OmitExactVector: omit, Oversample: 2})
		if err != nil {
			t.Fatal(err)
		}
		return vecguard.New(d, &vecguard.Options{Authorizer: allow, Encryption: map[string]encryption.Protector{"docs": enc}})
	}
	old, cur := client(true), client(false)
	if err := old.CreateCollection(as("admin", "t1"), spec("docs", true)); err != nil {
		t.Fatal(err)
	}
	pts := points(20, 1)
	if err := old.Upsert(as("alice", "t1"), "docs", pts[:10]); err != nil {
		t.Fatal(err)
	}
	if err := cur.Upsert(as("alice", "t1"), "docs", pts[10:]); err != nil {
		t.Fatal(err)
	}
	for _, p := range []vecguard.Point{pts[3], pts[15]} {
		hits, err := cur.Search(as("alice", "t1"), "docs", vecguard.SearchRequest{Vector: p.Vectors["v"], Limit: 3, WithVectors: true})
		if err != nil {
			t.Fatalf("search for point %v: %v", p.ID, err)
		}
		if len(hits) != 3 || hits[0].ID != p.ID {
			t.Fatalf("search for point %v: %d hits, first %v", p.ID, len(hits), hits[0].ID)
		}
	}
}
