package memory

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/vecguard/vecguard/internal/benchtest"
	"github.com/vecguard/vecguard/vecguard/driver"
)

const benchDim = 384

// benchStore fills a store with n random points of benchDim dimensions under
// cosine, spread over 10 tenants.
func benchStore(b *testing.B, n int) (driver.Collection, [][]float32) {
	b.Helper()
	ctx := context.Background()
	s := New()
	spec := &driver.CollectionSpec{
		Name:        "bench",
		Vectors:     []driver.VectorSpec{{Name: "v", Dim: benchDim, Distance: driver.Cosine}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}},
		TenantField: "tenant",
	}
	if err := s.CreateCollection(ctx, spec); err != nil {
		b.Fatal(err)
	}
	c := s.Collection(spec)
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([][]float32, 0, n)
	batch := make([]driver.Point, 0, 5000)
	for i := range n {
		v := benchtest.Vector(rng, benchDim)
		all = append(all, v)
		batch = append(batch, driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"v": v},
			Payload: map[string]any{"tenant": fmt.Sprintf("t%d", i%10)},
		})
		if len(batch) == cap(batch) || i == n-1 {
			if err := c.Upsert(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return c, all
}

// BenchmarkMemorySearch measures one top-10 cosine search over n points of
// 384 dimensions: unfiltered, and under a tenant filter that matches 10% of
// the points (served by the tenant field's index).
func BenchmarkMemorySearch(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10_000, 100_000} {
		c, _ := benchStore(b, n)
		q := benchtest.Vector(rand.New(rand.NewPCG(3, 4)), benchDim)
		for _, tc := range []struct {
			name   string
			filter *driver.Filter
		}{
			{fmt.Sprintf("n=%d", n), nil},
			{fmt.Sprintf("n=%d,tenant=10%%", n), driver.Eq("tenant", driver.String("t3"))},
		} {
			b.Run(tc.name, func(b *testing.B) {
				query := &driver.Query{Vector: q, VectorName: "v", Limit: 10, Filter: tc.filter}
				for b.Loop() {
					res, err := c.Search(ctx, query)
					if err != nil || len(res) != 10 {
						b.Fatal(err, len(res))
					}
				}
			})
		}
	}
}

// BenchmarkNaiveSearch is the baseline for BenchmarkMemorySearch: the
// straightforward exact search, a float64 cosine per point over [][]float32
// rows and a full sort.
func BenchmarkNaiveSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		rng := rand.New(rand.NewPCG(1, 2))
		rows := make([][]float32, n)
		for i := range rows {
			rows[i] = benchtest.Vector(rng, benchDim)
		}
		q := benchtest.Vector(rand.New(rand.NewPCG(3, 4)), benchDim)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			type scored struct {
				i int
				s float64
			}
			for b.Loop() {
				all := make([]scored, len(rows))
				for i, r := range rows {
					var d, nq, nr float64
					for j := range q {
						d += float64(q[j]) * float64(r[j])
						nq += float64(q[j]) * float64(q[j])
						nr += float64(r[j]) * float64(r[j])
					}
					all[i] = scored{i, d / math.Sqrt(nq*nr)}
				}
				sort.Slice(all, func(x, y int) bool { return all[x].s > all[y].s })
				_ = all[:10]
			}
		})
	}
}
