package vecguard_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// spy counts the searches that reach the database.
type spy struct {
	driver.Driver
	searches *atomic.Int64
}

func (d spy) Collection(s *driver.CollectionSpec) driver.Collection {
	return spyColl{d.Driver.Collection(s), d.searches}
}

type spyColl struct {
	driver.Collection
	searches *atomic.Int64
}

func (c spyColl) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	c.searches.Add(1)
	return c.Collection.Search(ctx, q)
}

// TestSearchSizeLimits checks that a limit and an offset whose sum
// overflows are refused before any search reaches the database, which
// would otherwise be asked for a near-unbounded top-k.
func TestSearchSizeLimits(t *testing.T) {
	var searches atomic.Int64
	c := setup(t, spy{memory.New(), &searches}, nil, true, 4)
	ctx := as("alice", "t1")
	for _, tc := range []struct {
		name          string
		limit, offset int
	}{
		{"Overflow", math.MaxInt, 1},
		{"OverflowOffset", 1, math.MaxInt},
		{"BothLarge", math.MaxInt / 2, math.MaxInt/2 + 2},
		{"Limit", driver.MaxLimit + 1, 0},
		{"Offset", 1, driver.MaxLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			searches.Store(0)
			_, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0, 1}, Limit: tc.limit, Offset: tc.offset})
			if !errors.Is(err, vecguard.ErrInvalidArgument) {
				t.Errorf("Search: %v, want ErrInvalidArgument", err)
			}
			_, err = c.Recommend(ctx, "docs", vecguard.RecommendRequest{Positive: []vecguard.PointID{vecguard.NumID(1)}, Limit: tc.limit, Offset: tc.offset})
			if !errors.Is(err, vecguard.ErrInvalidArgument) {
				t.Errorf("Recommend: %v, want ErrInvalidArgument", err)
			}
			if n := searches.Load(); n != 0 {
				t.Errorf("%d searches reached the database", n)
			}
		})
	}
}

// TestDropSharedCollection checks that a principal of one tenant, even one
// the authorizer lets administer the collection, cannot drop a collection
// that holds other tenants' rows: only a principal without a tenant (an
// operator) may.
func TestDropSharedCollection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tenant bool   // the collection is tenant-isolated
		who    string // the dropping principal's tenant
		want   error
	}{
		{"SharedByTenant", true, "t1", vecguard.ErrPermissionDenied},
		{"SharedByOtherTenant", true, "t2", vecguard.ErrPermissionDenied},
		{"SharedByOperator", true, "", nil},
		{"UnsharedByTenant", false, "t1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memory.New()
			c := setup(t, store, nil, tc.tenant, 3)
			if tc.tenant {
				if err := c.Upsert(as("alice", "t2"), "docs", points(3, 101)); err != nil {
					t.Fatalf("Upsert: %v", err)
				}
			}
			err := c.DropCollection(as("admin", tc.who), "docs")
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("DropCollection: %v, want %v", err, tc.want)
			}
			_, derr := store.DescribeCollection(context.Background(), "docs")
			if dropped := derr == nil; dropped != (tc.want != nil) {
				t.Errorf("after DropCollection (%v): collection exists = %v", err, dropped)
			}
		})
	}
	t.Run("Missing", func(t *testing.T) {
		c := setup(t, memory.New(), nil, true, 0)
		if err := c.DropCollection(as("admin", "t1"), "nosuch"); !errors.Is(err, vecguard.ErrNotFound) {
			t.Errorf("DropCollection of a missing collection: %v, want ErrNotFound", err)
		}
		if err := c.DropCollection(as("reader", "t1"), "nosuch"); !errors.Is(err, vecguard.ErrPermissionDenied) {
			t.Errorf("DropCollection of a missing collection without admin: %v, want ErrPermissionDenied", err)
		}
	})
}

// unbound is a driver whose collection handles serve whatever collection
// holds their name, whatever spec they were made for, as the handles of a
// remote database do.
type unbound struct{ driver.Driver }

func (d unbound) Collection(s *driver.CollectionSpec) driver.Collection {
	return unboundColl{d.Driver, s.Name}
}

type unboundColl struct {
	d    driver.Driver
	name string
}

func (c unboundColl) live(ctx context.Context) (driver.Collection, error) {
	s, err := c.d.DescribeCollection(ctx, c.name)
	if err != nil {
		return nil, err
	}
	return c.d.Collection(s), nil
}

func (c unboundColl) Upsert(ctx context.Context, pts []driver.Point) error {
	l, err := c.live(ctx)
	if err != nil {
		return err
	}
	return l.Upsert(ctx, pts)
}

func (c unboundColl) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	l, err := c.live(ctx)
	if err != nil {
		return nil, err
	}
	return l.Search(ctx, q)
}

func (c unboundColl) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	l, err := c.live(ctx)
	if err != nil {
		return nil, err
	}
	return l.Read(ctx, r)
}

func (c unboundColl) Count(ctx context.Context, f *driver.Filter) (int64, error) {
	l, err := c.live(ctx)
	if err != nil {
		return 0, err
	}
	return l.Count(ctx, f)
}

func (c unboundColl) Delete(ctx context.Context, sel *driver.Selector) error {
	l, err := c.live(ctx)
	if err != nil {
		return err
	}
	return l.Delete(ctx, sel)
}

// TestRecreatedCollection checks that a client whose cached spec of a
// collection went stale (another client dropped it and created it again as
// a tenant-isolated collection) does not serve one tenant another's rows.
// Over the memory store the stale handle fails once with NotFound and the
// next call uses the new spec; over a database that cannot tell, the
// client describes the collection again once its cached spec is older than
// the spec TTL.
func TestRecreatedCollection(t *testing.T) {
	ops := []struct {
		name string
		// tenants returns the tenants of the rows the call saw; n is how
		// many rows it saw (Count returns only that).
		call func(c *vecguard.Client, ctx context.Context) (tenants []any, n int, err error)
	}{
		{"Count", func(c *vecguard.Client, ctx context.Context) ([]any, int, error) {
			n, err := c.Count(ctx, "docs", nil)
			return nil, int(n), err
		}},
		{"Scroll", func(c *vecguard.Client, ctx context.Context) ([]any, int, error) {
			pg, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{WithPayload: true})
			var ts []any
			for _, p := range pg.Points {
				ts = append(ts, p.Payload["tenant"])
			}
			return ts, len(ts), err
		}},
		{"Search", func(c *vecguard.Client, ctx context.Context) ([]any, int, error) {
			hits, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0, 1}, WithPayload: true})
			var ts []any
			for _, h := range hits {
				ts = append(ts, h.Payload["tenant"])
			}
			return ts, len(ts), err
		}},
		{"Get", func(c *vecguard.Client, ctx context.Context) ([]any, int, error) {
			pts, err := c.Get(ctx, "docs", []vecguard.PointID{vecguard.NumID(1), vecguard.NumID(2), vecguard.NumID(101), vecguard.NumID(102)}, vecguard.ReadOptions{WithPayload: true})
			var ts []any
			for _, p := range pts {
				ts = append(ts, p.Payload["tenant"])
			}
			return ts, len(ts), err
		}},
	}
	for _, drv := range []struct {
		name     string
		wrap     func(driver.Driver) driver.Driver
		attempts int // calls until the stale client must see the new spec
		advance  time.Duration
	}{
		{"Memory", func(d driver.Driver) driver.Driver { return d }, 2, 0},
		{"RemoteAfterTTL", func(d driver.Driver) driver.Driver { return unbound{d} }, 1, time.Hour},
	} {
		for _, op := range ops {
			t.Run(drv.name+"/"+op.name, func(t *testing.T) {
				store := drv.wrap(memory.New())
				var now atomic.Int64
				now.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
				clock := func() time.Time { return time.Unix(0, now.Load()) }
				stale := setup(t, store, &vecguard.Options{Now: clock}, false, 0)
				ctx := as("alice", "t1")
				if _, _, err := op.call(stale, ctx); err != nil {
					t.Fatalf("%s before the change: %v", op.name, err)
				}
				other := vecguard.New(store, &vecguard.Options{Authorizer: allow})
				ops := as("admin", "")
				if err := other.DropCollection(ops, "docs"); err != nil {
					t.Fatalf("DropCollection: %v", err)
				}
				if err := other.CreateCollection(ops, spec("docs", true)); err != nil {
					t.Fatalf("CreateCollection: %v", err)
				}
				for tenant, first := range map[string]uint64{"t1": 1, "t2": 101} {
					if err := other.Upsert(as("alice", tenant), "docs", points(2, first)); err != nil {
						t.Fatalf("Upsert: %v", err)
					}
				}
				now.Add(int64(drv.advance))
				var err error
				for range drv.attempts {
					var tenants []any
					var n int
					tenants, n, err = op.call(stale, ctx)
					if err != nil {
						if !errors.Is(err, vecguard.ErrNotFound) {
							t.Fatalf("%s after the change: %v", op.name, err)
						}
						continue
					}
					if n != 2 {
						t.Errorf("%s as t1 saw %d rows, want t1's 2", op.name, n)
					}
					for _, tn := range tenants {
						if tn != "t1" {
							t.Errorf("%s as t1 saw a row of tenant %v", op.name, tn)
						}
					}
					break
				}
				if err != nil {
					t.Errorf("%s still fails after %d calls: %v", op.name, drv.attempts, err)
				}
			})
		}
	}
}

// canceler cancels the caller's context right after the database made a
// change, as a caller that gives up at that moment does.
type canceler struct {
	driver.Driver
	cancel *context.CancelFunc
}

func (d canceler) DropCollection(ctx context.Context, name string) error {
	err := d.Driver.DropCollection(ctx, name)
	(*d.cancel)()
	return err
}

func (d canceler) Collection(s *driver.CollectionSpec) driver.Collection {
	return cancelerColl{d.Driver.Collection(s), d.cancel}
}

type cancelerColl struct {
	driver.Collection
	cancel *context.CancelFunc
}

func (c cancelerColl) Upsert(ctx context.Context, pts []driver.Point) error {
	err := c.Collection.Upsert(ctx, pts)
	(*c.cancel)()
	return err
}

func (c cancelerColl) Delete(ctx context.Context, sel *driver.Selector) error {
	err := c.Collection.Delete(ctx, sel)
	(*c.cancel)()
	return err
}

// ctxAuditor records like recorder but fails once the context is done, as
// an audit logger waiting for room in its queue does.
type ctxAuditor struct{ recorder }

func (a *ctxAuditor) Audit(ctx context.Context, r *audit.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.recorder.Audit(ctx, r)
}

// TestChangeAuditedAfterCancel checks that a change the database made is
// recorded even when the caller's context is canceled as it completes: a
// caller must not be able to keep its writes out of the audit log.
func TestChangeAuditedAfterCancel(t *testing.T) {
	for _, tc := range []struct {
		op   string
		call func(c *vecguard.Client, ctx context.Context) error
	}{
		{"upsert", func(c *vecguard.Client, ctx context.Context) error {
			return c.Upsert(ctx, "docs", points(1, 50))
		}},
		{"delete", func(c *vecguard.Client, ctx context.Context) error {
			return c.Delete(ctx, "docs", []vecguard.PointID{vecguard.NumID(1)})
		}},
		{"update_payload", func(c *vecguard.Client, ctx context.Context) error {
			return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{IDs: []vecguard.PointID{vecguard.NumID(1)}, Set: map[string]any{"color": "green"}})
		}},
		{"drop_collection", func(c *vecguard.Client, ctx context.Context) error {
			return c.DropCollection(ctx, "docs")
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			noop := context.CancelFunc(func() {})
			cancel := &noop
			rec := &ctxAuditor{}
			// noUpdater: the payload update reads and upserts.
			c := setup(t, canceler{noUpdater{memory.New()}, cancel}, &vecguard.Options{Auditor: rec}, false, 3)
			ctx, stop := context.WithCancel(as("admin", ""))
			defer stop()
			*cancel = stop
			before := len(rec.recs)
			err := tc.call(c, ctx)
			if len(rec.recs) != before+1 || rec.last().Operation != tc.op {
				t.Fatalf("%s (error %v) is not in the audit log", tc.op, err)
			}
			r := rec.last()
			if err != nil || !r.Allowed || r.Code != driver.Unknown {
				t.Errorf("%s: error %v; record allowed=%v code %s", tc.op, err, r.Allowed, r.Code)
			}
		})
	}
}

// TestOversizedCallerFilterNotRecorded checks that a caller's filter that
// is refused for its size does not reach the audit record (and the span's
// query text): its nodes may be shared, so that rendering it would take
// time and memory exponential in its size.
func TestOversizedCallerFilterNotRecorded(t *testing.T) {
	shared := vecguard.Eq("color", vecguard.String("red"))
	for range 20 {
		shared = vecguard.And(shared, shared) // 2^20 leaves when walked
	}
	wide := vecguard.In("color", make([]vecguard.Value, driver.MaxFilterValues+1)...)
	rec := &recorder{}
	c := setup(t, memory.New(), &vecguard.Options{Auditor: rec}, true, 3)
	ctx := as("alice", "t1")
	for _, f := range []*vecguard.Filter{shared, wide} {
		for _, tc := range []struct {
			op   string
			call func() error
		}{
			{"search", func() error {
				_, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0, 1}, Filter: f})
				return err
			}},
			{"scroll", func() error { _, err := c.Scroll(ctx, "docs", vecguard.ScrollRequest{Filter: f}); return err }},
			{"count", func() error { _, err := c.Count(ctx, "docs", f); return err }},
			{"delete_by_filter", func() error { return c.DeleteByFilter(ctx, "docs", f) }},
			{"update_payload", func() error {
				return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{Filter: f, Set: map[string]any{"color": "blue"}})
			}},
		} {
			if err := tc.call(); !errors.Is(err, vecguard.ErrInvalidArgument) {
				t.Errorf("%s: %v, want ErrInvalidArgument", tc.op, err)
			}
			if r := rec.last(); r.Operation != tc.op || r.CallerFilter != nil {
				t.Errorf("%s: the record of %s keeps the refused filter", tc.op, r.Operation)
			}
		}
	}
}

// TestRecommendExampleLimit refuses more than MaxExamples examples before
// anything is read.
func TestRecommendExampleLimit(t *testing.T) {
	ctx := context.Background()
	c := vecguard.New(memory.New(), &vecguard.Options{Authorizer: authz.AuthorizerFunc(
		func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
			return authz.Decision{Allow: true}, nil
		})})
	p := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "s"})
	if err := c.CreateCollection(p, vecguard.CollectionSpec{Name: "c", Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Dot}}}); err != nil {
		t.Fatal(err)
	}
	ids := make([]vecguard.PointID, vecguard.MaxExamples+1)
	for i := range ids {
		ids[i] = vecguard.NumID(uint64(i + 1))
	}
	_, err := c.Recommend(p, "c", vecguard.RecommendRequest{Positive: ids})
	if !errors.Is(err, vecguard.ErrInvalidArgument) {
		t.Fatalf("Recommend with %d examples: %v, want ErrInvalidArgument", len(ids), err)
	}
}
