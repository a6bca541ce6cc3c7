package weaviate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vecguard/vecguard/adapters/weaviate"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Regression tests for Weaviate behaviours the driver works around. The
// conformance suite covers them too, but only by chance of its data.

func quirkCollection(t *testing.T, tag string) (driver.Collection, []driver.Point) {
	t.Helper()
	d := open(t, nil)
	t.Cleanup(func() { d.Close() })
	ctx := t.Context()
	spec := &driver.CollectionSpec{
		Name:    fmt.Sprintf("vgt_%s_%x", tag, rand.Uint64()),
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "level", Kind: driver.KindInt, Filterable: true},
			{Name: "tag", Kind: driver.KindString, Filterable: true},
		},
	}
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.DropCollection(context.Background(), spec.Name); err != nil {
			t.Errorf("drop: %v", err)
		}
	})
	c := d.Collection(spec)
	// Points written one by one in shuffled order, so that Weaviate's
	// internal order differs from ID order.
	var pts []driver.Point
	for _, i := range rand.New(rand.NewPCG(1, 1)).Perm(40) {
		p := driver.Point{ID: driver.NumID(uint64(i)), Vectors: map[string][]float32{"v": {1, float32(i)}},
			Payload: map[string]any{"level": int64(i % 3)}}
		if i%2 == 0 {
			p.Payload["tag"] = "even"
		}
		if err := c.Upsert(ctx, []driver.Point{p}); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	slices.SortFunc(pts, func(a, b driver.Point) int { return a.ID.Compare(b.ID) })
	return c, pts
}

func matching(pts []driver.Point, f *driver.Filter) []driver.PointID {
	var out []driver.PointID
	for _, p := range pts {
		if f.Match(p.ID, p.Payload) {
			out = append(out, p.ID)
		}
	}
	return out
}

// TestScrollSingleCondition: Weaviate stops collecting the matches of a
// filter that is one condition at the query's limit and sorts only those,
// so a sorted page of "level > 0" returned the first level-1 points instead
// of the lowest IDs.
func TestScrollSingleCondition(t *testing.T) {
	c, pts := quirkCollection(t, "scroll")
	for _, f := range []*driver.Filter{nil, driver.Gt("level", driver.Int(0)), driver.Eq("tag", driver.String("even")),
		driver.Lt("level", driver.Float(1.5)), driver.IsNull("tag")} {
		var got []driver.PointID
		var after driver.PointID
		for range 100 {
			pg, err := c.Read(t.Context(), &driver.ReadRequest{Filter: f, Limit: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pg.Points {
				got = append(got, p.ID)
			}
			if after = pg.Next; after.IsZero() {
				break
			}
		}
		if want := matching(pts, f); !slices.Equal(got, want) {
			t.Errorf("scroll %s: got %v, want %v", f, got, want)
		}
	}
}

// TestNotAfterDeletes: Weaviate's Not is the complement over every document
// number a shard handed out, deleted ones included, so after deleting and
// re-inserting points a bare Not counted too many and a delete by it
// removed the re-inserted points.
func TestNotAfterDeletes(t *testing.T) {
	c, pts := quirkCollection(t, "not")
	ctx := t.Context()
	even := driver.Eq("tag", driver.String("even"))
	if err := c.Delete(ctx, &driver.Selector{Filter: even}); err != nil {
		t.Fatal(err)
	}
	var back []driver.Point
	for _, p := range pts {
		if even.Match(p.ID, p.Payload) {
			back = append(back, p)
		}
	}
	if err := c.Upsert(ctx, back); err != nil {
		t.Fatal(err)
	}
	ne := driver.Ne("tag", driver.String("even"))
	n, err := c.Count(ctx, ne)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(matching(pts, ne)); n != int64(want) {
		t.Errorf("Count(%s) = %d, want %d", ne, n, want)
	}
	if err := c.Delete(ctx, &driver.Selector{Filter: ne}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count(ctx, nil); err != nil || n != int64(len(back)) {
		t.Errorf("after deleting %s: Count = %d, %v; want %d", ne, n, err, len(back))
	}
}

// TestNativeTenancyFollowsClass: a driver opened without the option still
// reads and writes a collection created with native multi-tenancy.
func TestNativeTenancyFollowsClass(t *testing.T) {
	ctx := t.Context()
	spec := &driver.CollectionSpec{
		Name:        fmt.Sprintf("vgt_native_%x", rand.Uint64()),
		Vectors:     []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Dot}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}},
		TenantField: "tenant",
	}
	native := open(t, &weaviate.Options{NativeMultiTenancy: true})
	defer native.Close()
	if err := native.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	defer native.DropCollection(context.Background(), spec.Name)
	plain := open(t, nil)
	defer plain.Close()
	stored, err := plain.DescribeCollection(ctx, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	c := plain.Collection(stored)
	pts := []driver.Point{
		{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 0}}, Payload: map[string]any{"tenant": "acme"}},
		{ID: driver.NumID(2), Vectors: map[string][]float32{"v": {0, 1}}, Payload: map[string]any{"tenant": "a tenant name Weaviate would refuse!"}},
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	for _, tn := range []string{"acme", "a tenant name Weaviate would refuse!"} {
		n, err := c.Count(ctx, driver.Eq("tenant", driver.String(tn)))
		if err != nil || n != 1 {
			t.Errorf("Count in tenant %q = %d, %v; want 1", tn, n, err)
		}
	}
	if n, err := c.Count(ctx, nil); err != nil || n != 2 {
		t.Errorf("Count across tenants = %d, %v; want 2", n, err)
	}
	hits, err := c.Search(ctx, &driver.Query{Vector: []float32{1, 1}, VectorName: "v", Limit: 5, Payload: driver.Projection{All: true}})
	if err != nil || len(hits) != 2 {
		t.Fatalf("Search across tenants: %d hits, %v; want 2", len(hits), err)
	}
	if n, err := c.Count(ctx, driver.Eq("tenant", driver.String("never written"))); err != nil || n != 0 {
		t.Errorf("Count in an unwritten tenant = %d, %v; want 0", n, err)
	}
}
