package drivertest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// testLimits checks that a driver takes the largest requests the client
// lets through in one call: MaxBatch points or IDs, MaxLimit results,
// MaxFilterValues values. A driver splits them if its database needs it.
func testLimits(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	spec := &driver.CollectionSpec{
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 128, Distance: driver.Dot}},
		Fields:  []driver.FieldSpec{{Name: "k", Kind: driver.KindString, Filterable: true}, {Name: "n", Kind: driver.KindInt, Filterable: true}},
	}
	s, c := f.create(t, "limits", spec)
	r := newRand(61)
	pts := make([]driver.Point, driver.MaxBatch)
	for i := range pts {
		pts[i] = driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: randomVectors(r, s),
			Payload: map[string]any{"k": fmt.Sprintf("k%d", i), "n": int64(i)},
		}
	}
	if err := c.Upsert(f.ctx, clonePoints(pts)); err != nil {
		t.Fatalf("Upsert of %d points in one call: %v", len(pts), err)
	}
	if n := f.count(t, c, nil); n != int64(len(pts)) {
		t.Fatalf("Count = %d, want %d", n, len(pts))
	}
	t.Run("ReadMaxBatchIDs", func(t *testing.T) {
		ask := reversed(ids(pts))
		pg, err := c.Read(f.ctx, &driver.ReadRequest{IDs: ask})
		if err != nil {
			t.Fatalf("Read of %d IDs: %v", len(ask), err)
		}
		if got := ids(pg.Points); !sameIDs(got, ask) {
			t.Errorf("Read of %d IDs returned %d points, or out of order", len(ask), len(got))
		}
	})
	t.Run("ScrollMaxLimit", func(t *testing.T) {
		pg, err := c.Read(f.ctx, &driver.ReadRequest{Limit: driver.MaxLimit, Payload: driver.Projection{Fields: []string{"n"}}})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if !sameIDs(ids(pg.Points), ids(pts[:driver.MaxLimit])) {
			t.Errorf("a page of %d returned %d points, or out of order", driver.MaxLimit, len(pg.Points))
		}
	})
	t.Run("SearchMaxLimit", func(t *testing.T) {
		vs := s.Vectors[0]
		q := randomVector(r, vs.Dim, vs.Distance)
		hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: driver.MaxLimit})
		found, wanted := f.checkHits(t, vs, reference(pts, vs, q, nil), 0, driver.MaxLimit, hits)
		f.checkRecall(t, "search with the largest limit", found, wanted)
		// The worst matches: only exact drivers are held to finding them.
		hits = f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10, Offset: driver.MaxLimit - 10})
		f.checkHits(t, vs, reference(pts, vs, q, nil), driver.MaxLimit-10, 10, hits)
	})
	t.Run("LargeFilters", func(t *testing.T) {
		// The values name the points with an even n; the IDs every third
		// point. The expected counts are worked out without Filter.Match,
		// which is slow on lists this long.
		vals := make([]driver.Value, driver.MaxFilterValues)
		hasIDs := make([]driver.PointID, driver.MaxFilterValues)
		inVals, inIDs := map[int]bool{}, map[int]bool{}
		for i := range vals {
			vals[i] = driver.String(fmt.Sprintf("k%d", 2*i))
			hasIDs[i] = driver.NumID(uint64(3*i + 1))
			inVals[2*i], inIDs[3*i] = true, true
		}
		count := func(match func(i int) bool) int64 {
			var n int64
			for i := range pts {
				if match(i) {
					n++
				}
			}
			return n
		}
		cases := []struct {
			name string
			flt  *driver.Filter
			want int64
		}{
			{"In", driver.In("k", vals...), count(func(i int) bool { return inVals[i] })},
			{"NotIn", driver.NotIn("k", vals...), count(func(i int) bool { return !inVals[i] })},
			{"HasID", driver.HasID(hasIDs...), count(func(i int) bool { return inIDs[i] })},
			{"InAndNotHasID", driver.And(driver.In("k", vals...), driver.Not(driver.HasID(hasIDs...))), count(func(i int) bool { return inVals[i] && !inIDs[i] })},
		}
		for _, tc := range cases {
			if n := f.count(t, c, tc.flt); n != tc.want {
				t.Errorf("Count(%s) = %d, want %d", tc.name, n, tc.want)
			}
		}
	})
	t.Run("DeleteMaxBatchIDs", func(t *testing.T) {
		if err := c.Delete(f.ctx, &driver.Selector{IDs: ids(pts)}); err != nil {
			t.Fatalf("Delete of %d IDs: %v", len(pts), err)
		}
		if n := f.count(t, c, nil); n != 0 {
			t.Errorf("Count after deleting every ID = %d", n)
		}
	})
}

// testConcurrent runs writers and readers at once: each writer's points
// arrive whole, readers see only whole points, and the race detector
// watches the driver.
func testConcurrent(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "concurrent", standardSpec())
	const writers, each = 4, 25
	var wg sync.WaitGroup
	var written [writers][]driver.Point
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := newRand(uint64(70 + w))
			for i := range each {
				p := driver.Point{
					ID:      driver.NumID(uint64(1000*w + i)),
					Vectors: randomVectors(r, s),
					Payload: map[string]any{"size": int64(w), "note": fmt.Sprintf("w%d-%d", w, i)},
				}
				written[w] = append(written[w], p)
				if err := c.Upsert(f.ctx, []driver.Point{p.Clone()}); err != nil {
					t.Errorf("Upsert: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			vs := s.Vectors[w%len(s.Vectors)]
			q := randomVector(newRand(uint64(80+w)), vs.Dim, vs.Distance)
			for range each {
				hits, err := c.Search(f.ctx, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 5, Payload: driver.Projection{All: true}, WithVectors: true})
				if err != nil {
					t.Errorf("Search: %v", err)
					return
				}
				for _, h := range hits {
					if len(h.Vectors) != len(s.Vectors) || h.Payload["note"] == nil {
						t.Errorf("Search returned a partial point %v", h.ID)
					}
				}
				if _, err := c.Count(f.ctx, driver.Eq("size", driver.Int(int64(w)))); err != nil {
					t.Errorf("Count: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var all []driver.Point
	for w := range writers {
		all = append(all, written[w]...)
	}
	f.checkStored(t, s, c, all)
}
