package drivertest

import (
	"fmt"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// searchSpec is the collection the search cases use: one vector per
// distance, all of the same dimension, and a filterable group.
func searchSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Vectors: []driver.VectorSpec{
			{Name: "cos", Dim: 16, Distance: driver.Cosine},
			{Name: "dot", Dim: 16, Distance: driver.Dot},
			{Name: "euc", Dim: 16, Distance: driver.Euclid},
		},
		Fields: []driver.FieldSpec{
			{Name: "group", Kind: driver.KindInt, Filterable: true},
			{Name: "label", Kind: driver.KindString, Filterable: true},
		},
	}
}

// searchPoints returns n points for spec: numeric IDs and UUIDs, random
// vectors, a group 0..9 and a label.
func searchPoints(seed uint64, spec *driver.CollectionSpec, n int) []driver.Point {
	r := newRand(seed)
	pts := make([]driver.Point, n)
	for i := range pts {
		id := driver.NumID(uint64(2*i + 1))
		if i%4 == 3 {
			id = randomUUID(r)
		}
		pts[i] = driver.Point{
			ID:      id,
			Vectors: randomVectors(r, spec),
			Payload: map[string]any{"group": int64(i % 10), "label": fmt.Sprintf("l%d", i%7), "n": int64(i)},
		}
	}
	return pts
}

// checkHits checks search results against the brute-force ranking ref of
// every candidate (every point matching the filter), for a query with the
// given offset and limit. Every driver must return only candidates, with
// correct scores, best first, ties by ascending ID, at most limit of them.
// Exact drivers must return exactly ref[offset:offset+limit], up to near-ties
// (scores within tolerance may swap). It returns how many of the expected
// IDs were found and how many were expected, for recall.
func (f *fixture) checkHits(t *testing.T, vs driver.VectorSpec, ref []refHit, offset, limit int, got []driver.ScoredPoint) (found, wanted int) {
	t.Helper()
	refScore := make(map[driver.PointID]float64, len(ref))
	for _, h := range ref {
		refScore[h.id] = h.score
	}
	start, end := min(offset, len(ref)), min(offset+limit, len(ref))
	want := ref[start:end]
	if len(got) > limit {
		t.Errorf("search (%s, offset %d, limit %d) returned %d results", vs.Distance, offset, limit, len(got))
	}
	if f.caps.Exact && len(got) != len(want) {
		t.Errorf("search (%s, offset %d, limit %d) returned %d results, want %d", vs.Distance, offset, limit, len(got), len(want))
	}
	seen := map[driver.PointID]bool{}
	for i, h := range got {
		rs, ok := refScore[h.ID]
		switch {
		case seen[h.ID]:
			t.Errorf("search (%s) returned %v twice", vs.Distance, h.ID)
		case !ok:
			t.Errorf("search (%s) returned %v, which does not exist or does not match the filter", vs.Distance, h.ID)
		case !close32(rs, float64(h.Score), 1e-4):
			t.Errorf("search (%s) scored %v %g, want %g", vs.Distance, h.ID, h.Score, rs)
		}
		seen[h.ID] = true
		if i > 0 {
			prev := got[i-1]
			if better(vs.Distance, float64(h.Score), float64(prev.Score)) {
				t.Errorf("search (%s) results not best first: %v (%g) after %v (%g)", vs.Distance, h.ID, h.Score, prev.ID, prev.Score)
			}
			if h.Score == prev.Score && h.ID.Compare(prev.ID) < 0 {
				t.Errorf("search (%s) tie not broken by ascending ID: %v after %v (score %g)", vs.Distance, h.ID, prev.ID, h.Score)
			}
		}
		if f.caps.Exact && ok && i < len(want) && h.ID != want[i].id {
			// A near-tie may swap; an exact tie is ordered by ID.
			if w := want[i].score; rs == w || !(abs(rs-w) <= 2*scoreTol(w)) {
				t.Errorf("search (%s, offset %d) result %d is %v (score %g), want %v (score %g)", vs.Distance, offset, i, h.ID, rs, want[i].id, w)
			}
		}
	}
	for _, w := range want {
		if seen[w.id] {
			found++
		}
	}
	return found, len(want)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// checkRecall holds an approximate driver to its recall floor.
func (f *fixture) checkRecall(t *testing.T, what string, found, wanted int) {
	t.Helper()
	if f.caps.Exact || wanted == 0 {
		return
	}
	if r := float64(found) / float64(wanted); r < f.caps.RecallFloor {
		t.Errorf("%s: recall %.3f (%d of %d), want at least %.3f", what, r, found, wanted, f.caps.RecallFloor)
	}
}

// search runs a query, failing the test on error.
func (f *fixture) search(t *testing.T, c driver.Collection, q *driver.Query) []driver.ScoredPoint {
	t.Helper()
	hits, err := c.Search(f.ctx, q)
	if err != nil {
		t.Fatalf("Search(%s, limit %d, offset %d, filter %v): %v", q.VectorName, q.Limit, q.Offset, q.Filter, err)
	}
	return hits
}

// testSearchExact compares top-k results with brute force for every
// distance, without and with filters, and with limits beyond the
// collection's size.
func testSearchExact(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "search", searchSpec())
	pts := searchPoints(1, s, 400)
	f.upsert(t, c, pts)
	filters := []struct {
		name string
		flt  *driver.Filter
	}{
		{"NoFilter", nil},
		{"Group", driver.In("group", driver.Int(2), driver.Int(5))},
		{"Label", driver.Ne("label", driver.String("l3"))},
		{"Few", driver.And(driver.Eq("group", driver.Int(4)), driver.Eq("label", driver.String("l0")))},
	}
	for _, vs := range s.Vectors {
		for _, fc := range filters {
			t.Run(vs.Distance.String()+"/"+fc.name, func(t *testing.T) {
				r := newRand(uint64(vs.Distance)*100 + 7)
				found, wanted := 0, 0
				for range 15 {
					q := randomVector(r, vs.Dim, vs.Distance)
					hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10, Filter: fc.flt})
					fd, w := f.checkHits(t, vs, reference(pts, vs, q, fc.flt), 0, 10, hits)
					found, wanted = found+fd, wanted+w
				}
				f.checkRecall(t, "recall@10", found, wanted)
			})
		}
		t.Run(vs.Distance.String()+"/LimitBeyondSize", func(t *testing.T) {
			q := randomVector(newRand(3), vs.Dim, vs.Distance)
			flt := driver.Eq("group", driver.Int(7)) // 40 points
			hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 100, Filter: flt})
			found, wanted := f.checkHits(t, vs, reference(pts, vs, q, flt), 0, 100, hits)
			f.checkRecall(t, "recall", found, wanted)
		})
	}
}

// testSearchTies checks that equal scores are ordered by ascending ID, also
// across ID kinds and at the limit, and that a score equal to the threshold
// is kept.
func testSearchTies(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "ties", searchSpec())
	r := newRand(11)
	tieVec := randomVectors(r, s)
	tied := []driver.PointID{
		driver.NumID(7), driver.MustParseUUID("8f2b6d1e-3c4a-4b5d-9e6f-0a1b2c3d4e5f"), driver.NumID(0),
		driver.NumID(1 << 63), driver.MustParseUUID("0a2b6d1e-3c4a-4b5d-9e6f-0a1b2c3d4e5f"), driver.NumID(3),
	}
	var pts []driver.Point
	for _, id := range tied {
		pts = append(pts, driver.Point{ID: id, Vectors: tieVec, Payload: map[string]any{"group": int64(1)}})
	}
	for i := range 30 {
		vecs := randomVectors(r, s)
		// Keep the others strictly worse than the tied points.
		for name, v := range vecs {
			for j := range v {
				v[j] = -tieVec[name][j] + 0.1*v[j]
			}
		}
		pts = append(pts, driver.Point{ID: driver.NumID(uint64(100 + i)), Vectors: vecs, Payload: map[string]any{"group": int64(2)}})
	}
	f.upsert(t, c, pts)
	sorted := append([]driver.PointID(nil), tied...)
	driver.SortIDs(sorted)
	for _, vs := range s.Vectors {
		t.Run(vs.Distance.String(), func(t *testing.T) {
			q := tieVec[vs.Name]
			ref := reference(pts, vs, q, nil)
			hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10})
			f.checkHits(t, vs, ref, 0, 10, hits)
			if got := hitIDs(hits); len(got) < len(sorted) || !sameIDs(got[:len(sorted)], sorted) {
				t.Fatalf("tied results %s, want %s first", idList(got), idList(sorted))
			}
			if f.caps.Exact {
				for _, off := range []int{0, 2, 4} {
					hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 3, Offset: off})
					want := sorted[off:min(off+3, len(sorted))]
					if got := hitIDs(hits); len(got) < len(want) || !sameIDs(got[:len(want)], want) {
						t.Errorf("limit 3 offset %d within a tie: got %s, want %s first", off, idList(got), idList(want))
					}
				}
			}
			thr := hits[0].Score
			at := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10, ScoreThreshold: &thr})
			if got := hitIDs(at); !sameIDs(got, sorted) {
				t.Errorf("score threshold equal to the tied score %g: got %s, want %s", thr, idList(got), idList(sorted))
			}
		})
	}
}

// testSearchThreshold checks ScoreThreshold: below it for Cosine and Dot,
// above it for Euclid, results are dropped.
func testSearchThreshold(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "threshold", searchSpec())
	pts := searchPoints(2, s, 200)
	f.upsert(t, c, pts)
	for _, vs := range s.Vectors {
		t.Run(vs.Distance.String(), func(t *testing.T) {
			r := newRand(uint64(vs.Distance) + 40)
			found, wanted := 0, 0
			for range 8 {
				q := randomVector(r, vs.Dim, vs.Distance)
				ref := reference(pts, vs, q, nil)
				// Cut at the widest gap among ranks 3..9 so that float32
				// rounding cannot move a point across the threshold.
				cut := 3
				for i := 3; i < 9; i++ {
					if abs(ref[i].score-ref[i+1].score) > abs(ref[cut].score-ref[cut+1].score) {
						cut = i
					}
				}
				thr := float32((ref[cut].score + ref[cut+1].score) / 2)
				hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 20, ScoreThreshold: &thr})
				for _, h := range hits {
					if better(vs.Distance, float64(thr), float64(h.Score)) {
						t.Errorf("threshold %g: got %v with score %g", thr, h.ID, h.Score)
					}
				}
				fd, w := f.checkHits(t, vs, ref[:cut+1], 0, 20, hits)
				found, wanted = found+fd, wanted+w
			}
			f.checkRecall(t, "recall above the threshold", found, wanted)
			// A threshold nothing reaches.
			none := float32(1e9)
			if !vs.Distance.HigherIsBetter() {
				none = -1
			}
			q := randomVector(r, vs.Dim, vs.Distance)
			if hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10, ScoreThreshold: &none}); len(hits) != 0 {
				t.Errorf("threshold %g: got %d results, want none", none, len(hits))
			}
		})
	}
}

// testSearchOffset checks that Offset skips the best results.
func testSearchOffset(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "offset", searchSpec())
	pts := searchPoints(3, s, 120)
	f.upsert(t, c, pts)
	for _, vs := range s.Vectors {
		t.Run(vs.Distance.String(), func(t *testing.T) {
			q := randomVector(newRand(uint64(vs.Distance)+50), vs.Dim, vs.Distance)
			ref := reference(pts, vs, q, nil)
			found, wanted := 0, 0
			for _, off := range []int{0, 1, 5, 9, len(pts) - 2, len(pts), len(pts) + 5} {
				hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 5, Offset: off})
				fd, w := f.checkHits(t, vs, ref, off, 5, hits)
				found, wanted = found+fd, wanted+w
				if off >= len(pts) && len(hits) != 0 {
					t.Errorf("offset %d beyond %d points: got %d results", off, len(pts), len(hits))
				}
			}
			f.checkRecall(t, "recall with offsets", found, wanted)
		})
	}
}

// testSearchProjection checks the payload projection and WithVectors of
// search results.
func testSearchProjection(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "searchproj", standardSpec())
	pts := standardPoints(4, s)
	f.upsert(t, c, pts)
	orig := byID(pts)
	for _, pc := range projectionCases {
		for _, withVectors := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/vectors=%v", pc.name, withVectors), func(t *testing.T) {
				vs := s.Vectors[1]
				q := randomVector(newRand(5), vs.Dim, vs.Distance)
				hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 8, Payload: pc.proj, WithVectors: withVectors})
				if len(hits) == 0 {
					t.Fatal("search returned nothing")
				}
				for _, h := range hits {
					want := orig[h.ID]
					if d := pointDiff(s, f.caps, &want, &h.Point, pc.proj, withVectors); d != "" {
						t.Errorf("point %v: %s", h.ID, d)
					}
				}
			})
		}
	}
}

// projectionCases are the payload projections reads and searches support.
var projectionCases = []struct {
	name string
	proj driver.Projection
}{
	{"All", driver.Projection{All: true}},
	{"None", driver.Projection{}},
	{"EmptyFields", driver.Projection{Fields: []string{}}},
	{"Fields", driver.Projection{Fields: []string{"color", "meta"}}},
	{"UnknownField", driver.Projection{Fields: []string{"size", "nosuchfield"}}},
}
