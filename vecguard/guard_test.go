package vecguard_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
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
