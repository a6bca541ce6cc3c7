package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func testSpec(name string, d driver.Distance, dim int) *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    name,
		Vectors: []driver.VectorSpec{{Name: "v", Dim: dim, Distance: d}, {Name: "w", Dim: 2, Distance: driver.Dot}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "n", Kind: driver.KindInt, Filterable: true},
			{Name: "tag", Kind: driver.KindString, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

func mustCode(t *testing.T, err error, want driver.Code) {
	t.Helper()
	if got := driver.CodeOf(err); err == nil || got != want {
		t.Fatalf("error %v (code %v), want code %v", err, got, want)
	}
}

func newColl(t *testing.T, s *Store, spec *driver.CollectionSpec) driver.Collection {
	t.Helper()
	if err := s.CreateCollection(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	return s.Collection(spec)
}

// mixedID returns point i's ID: numeric for even i, a UUID for odd i.
func mixedID(i int) driver.PointID {
	if i%2 == 0 {
		return driver.NumID(uint64(1000 - i))
	}
	var u [16]byte
	u[0], u[14], u[15] = byte(255-i%256), byte(i>>8), byte(i)
	return driver.UUIDFromBytes(u)
}

// fill upserts n points with random vectors; payloads spread over tenants,
// an int n, a tag on half of them and a null tag on some.
func fill(t *testing.T, c driver.Collection, rng *rand.Rand, n, dim int) []driver.Point {
	t.Helper()
	pts := make([]driver.Point, n)
	for i := range pts {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.IntN(7) - 3) // small integers: many exact ties
		}
		p := map[string]any{"tenant": fmt.Sprintf("t%d", i%3), "n": int64(i), "note": "x"}
		switch i % 4 {
		case 0:
			p["tag"] = "a"
		case 1:
			p["tag"] = "b"
		case 2:
			p["tag"] = nil
		}
		pts[i] = driver.Point{ID: mixedID(i), Vectors: map[string][]float32{"v": v, "w": {1, float32(i)}}, Payload: p}
	}
	if err := c.Upsert(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	return pts
}

// refScore is the reference score, in float64.
func refScore(d driver.Distance, q, v []float32) float64 {
	var dt, nq, nv, sq float64
	for i := range q {
		dt += float64(q[i]) * float64(v[i])
		nq += float64(q[i]) * float64(q[i])
		nv += float64(v[i]) * float64(v[i])
		x := float64(q[i]) - float64(v[i])
		sq += x * x
	}
	switch d {
	case driver.Dot:
		return dt
	case driver.Euclid:
		return math.Sqrt(sq)
	}
	if nq == 0 || nv == 0 {
		return 0
	}
	return dt / math.Sqrt(nq*nv)
}

// score32 is the score the store reports, computed directly from the
// kernels: the reference ranking uses it, so that near-ties round alike.
func score32(d driver.Distance, q, v []float32) float32 {
	switch d {
	case driver.Dot:
		return dot(q, v)
	case driver.Euclid:
		return float32(math.Sqrt(float64(sqDist(q, v))))
	}
	return cosine(dot(q, v), norm(q), norm(v))
}

// refSearch is a straightforward exact search: score everything, sort.
func refSearch(pts []driver.Point, d driver.Distance, q *driver.Query) []driver.PointID {
	type sc struct {
		id driver.PointID
		s  float32
	}
	var all []sc
	for _, p := range pts {
		if !q.Filter.Match(p.ID, p.Payload) {
			continue
		}
		s := score32(d, q.Vector, p.Vectors["v"])
		if q.ScoreThreshold != nil {
			if t := *q.ScoreThreshold; d.HigherIsBetter() && s < t || !d.HigherIsBetter() && s > t {
				continue
			}
		}
		all = append(all, sc{p.ID, s})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].s != all[j].s {
			return all[i].s > all[j].s == d.HigherIsBetter()
		}
		return all[i].id.Compare(all[j].id) < 0
	})
	var ids []driver.PointID
	for i := q.Offset; i < len(all) && i < q.Offset+q.Limit; i++ {
		ids = append(ids, all[i].id)
	}
	return ids
}

func TestCollections(t *testing.T) {
	ctx := context.Background()
	s := New()
	if s.SystemName() != "memory" {
		t.Fatal(s.SystemName())
	}
	spec := testSpec("b", driver.Cosine, 4)
	newColl(t, s, spec)
	newColl(t, s, testSpec("a", driver.Dot, 4))
	mustCode(t, s.CreateCollection(ctx, spec), driver.AlreadyExists)
	mustCode(t, s.CreateCollection(ctx, &driver.CollectionSpec{Name: "bad name"}), driver.InvalidArgument)
	mustCode(t, s.CreateCollection(ctx, nil), driver.InvalidArgument)

	got, err := s.DescribeCollection(ctx, "b")
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Fatalf("describe: %+v, %v", got, err)
	}
	got.Vectors[0].Dim = 99 // a copy
	if again, _ := s.DescribeCollection(ctx, "b"); again.Vectors[0].Dim != 4 {
		t.Fatal("DescribeCollection returned shared state")
	}
	_, err = s.DescribeCollection(ctx, "zz")
	mustCode(t, err, driver.NotFound)
	if names, err := s.ListCollections(ctx); err != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("list: %v %v", names, err)
	}

	// A handle made before a drop reports NotFound after it, and sees a
	// collection re-created under the name.
	c := s.Collection(spec)
	fill(t, c, rand.New(rand.NewPCG(1, 1)), 5, 4)
	if err := s.DropCollection(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	mustCode(t, s.DropCollection(ctx, "b"), driver.NotFound)
	_, err = c.Count(ctx, nil)
	mustCode(t, err, driver.NotFound)
	mustCode(t, c.Upsert(ctx, nil), driver.NotFound)
	newColl(t, s, spec)
	if n, err := c.Count(ctx, nil); err != nil || n != 0 {
		t.Fatalf("count after re-create: %d %v", n, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.ListCollections(cctx)
	mustCode(t, err, driver.Canceled)
	_, err = c.Search(cctx, &driver.Query{Vector: make([]float32, 4), VectorName: "v", Limit: 1})
	mustCode(t, err, driver.Canceled)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	_, err = s.ListCollections(ctx)
	mustCode(t, err, driver.FailedPrecondition)
	_, err = c.Count(ctx, nil)
	mustCode(t, err, driver.FailedPrecondition)
}

func TestUpsertValidation(t *testing.T) {
	ctx := context.Background()
	c := newColl(t, New(), testSpec("c", driver.Cosine, 3))
	ok := map[string][]float32{"v": {1, 2, 3}, "w": {1, 2}}
	for name, p := range map[string]driver.Point{
		"zero ID":       {Vectors: ok},
		"missing":       {ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 2, 3}}},
		"unknown":       {ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 2, 3}, "x": {1, 2}}},
		"dimension":     {ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 2}, "w": {1, 2}}},
		"NaN":           {ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, float32(math.NaN()), 3}, "w": {1, 2}}},
		"payload type":  {ID: driver.NumID(1), Vectors: ok, Payload: map[string]any{"k": struct{}{}}},
		"payload float": {ID: driver.NumID(1), Vectors: ok, Payload: map[string]any{"k": math.Inf(1)}},
	} {
		// A bad point anywhere in a batch writes nothing.
		good := driver.Point{ID: driver.NumID(2), Vectors: ok}
		mustCode(t, c.Upsert(ctx, []driver.Point{good, p}), driver.InvalidArgument)
		if n, _ := c.Count(ctx, nil); n != 0 {
			t.Fatalf("%s: a failed batch wrote %d points", name, n)
		}
	}
	// Payloads are normalized; input and output are copies.
	in := []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 2, 3}, "w": {1, 2}},
		Payload: map[string]any{"i": 7, "f": float32(0.5), "l": []any{1, "x", map[string]any{"y": uint8(2)}}}}}
	if err := c.Upsert(ctx, in); err != nil {
		t.Fatal(err)
	}
	in[0].Vectors["v"][0] = 100
	in[0].Payload["i"] = 8
	read := func() driver.Point {
		pg, err := c.Read(ctx, &driver.ReadRequest{IDs: []driver.PointID{driver.NumID(1)}, Payload: driver.Projection{All: true}, WithVectors: true})
		if err != nil || len(pg.Points) != 1 {
			t.Fatal(err)
		}
		return pg.Points[0]
	}
	p := read()
	want := driver.Point{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 2, 3}, "w": {1, 2}},
		Payload: map[string]any{"i": int64(7), "f": 0.5, "l": []any{int64(1), "x", map[string]any{"y": int64(2)}}}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("read %#v\nwant %#v", p, want)
	}
	p.Vectors["v"][1] = -1
	p.Payload["l"].([]any)[2].(map[string]any)["y"] = "changed"
	if !reflect.DeepEqual(read(), want) {
		t.Fatal("a returned point shares state with the store")
	}
}

func TestSearchMatchesReference(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	th := func(f float32) *float32 { return &f }
	filters := []*driver.Filter{
		nil,
		driver.Eq("tenant", driver.String("t1")),
		driver.And(driver.Eq("tenant", driver.String("t2")), driver.Eq("tag", driver.String("a"))),
		driver.In("tenant", driver.String("t0"), driver.String("t2"), driver.String("t0"), driver.Int(3)),
		driver.Or(driver.IsNull("tag"), driver.Gte("n", driver.Int(150))),
		driver.Not(driver.Eq("tag", driver.String("b"))),
		driver.HasID(mixedID(3), mixedID(4), mixedID(4), driver.NumID(123456)),
		driver.Eq("tenant", driver.String("nobody")),
		driver.And(driver.Lt("n", driver.Float(40.5)), driver.Ne("tenant", driver.String("t0"))),
	}
	for _, d := range []driver.Distance{driver.Cosine, driver.Dot, driver.Euclid} {
		s := New()
		c := newColl(t, s, testSpec("s", d, 5))
		pts := fill(t, c, rng, 200, 5)
		// Zero vectors (cosine scores 0) and exact duplicates (ties).
		extra := []driver.Point{
			{ID: driver.NumID(5000), Vectors: map[string][]float32{"v": make([]float32, 5), "w": {0, 0}}, Payload: map[string]any{"tenant": "t1"}},
			{ID: driver.NumID(5001), Vectors: map[string][]float32{"v": pts[0].Vectors["v"], "w": {0, 0}}, Payload: map[string]any{"tenant": "t1"}},
		}
		if err := c.Upsert(ctx, extra); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, extra...)
		for qi := range 12 {
			q := make([]float32, 5)
			for j := range q {
				q[j] = float32(rng.IntN(5) - 2)
			}
			if qi == 0 {
				q = make([]float32, 5) // zero query
			}
			for fi, f := range filters {
				for _, tc := range []struct {
					limit, offset int
					thr           *float32
				}{{10, 0, nil}, {3, 4, nil}, {250, 0, nil}, {5, 0, th(0.2)}, {5, 0, th(4)}, {5, 300, nil}} {
					query := &driver.Query{Vector: q, VectorName: "v", Limit: tc.limit, Offset: tc.offset, Filter: f, ScoreThreshold: tc.thr}
					got, err := c.Search(ctx, query)
					if err != nil {
						t.Fatal(err)
					}
					want := refSearch(pts, d, query)
					var ids []driver.PointID
					for i, h := range got {
						ids = append(ids, h.ID)
						if h.Payload != nil || h.Vectors != nil {
							t.Fatal("unrequested payload or vectors")
						}
						p := pts[slices.IndexFunc(pts, func(p driver.Point) bool { return p.ID == h.ID })]
						if ref := refScore(d, q, p.Vectors["v"]); math.Abs(float64(h.Score)-ref) > 1e-4*math.Max(1, math.Abs(ref)) {
							t.Fatalf("%v: score %v, want %v", d, h.Score, ref)
						}
						if i > 0 && (got[i-1].Score == h.Score && got[i-1].ID.Compare(h.ID) >= 0) {
							t.Fatalf("%v: tie not by ascending ID", d)
						}
					}
					if !slices.Equal(ids, want) {
						t.Fatalf("%v filter %d (%v) limit %d offset %d: got %v\nwant %v", d, fi, f, tc.limit, tc.offset, ids, want)
					}
				}
			}
		}
	}
}

func TestSearchProjectionAndErrors(t *testing.T) {
	ctx := context.Background()
	c := newColl(t, New(), testSpec("p", driver.Euclid, 2))
	pts := []driver.Point{
		{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {0, 0}, "w": {1, 1}}, Payload: map[string]any{"tenant": "a", "n": 1, "note": "x"}},
		{ID: driver.NumID(2), Vectors: map[string][]float32{"v": {3, 4}, "w": {1, 1}}},
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, &driver.Query{Vector: []float32{0, 0}, VectorName: "v", Limit: 5,
		Payload: driver.Projection{Fields: []string{"n", "missing"}}, WithVectors: true})
	if err != nil || len(res) != 2 {
		t.Fatal(res, err)
	}
	if res[0].Score != 0 || res[1].Score != 5 {
		t.Fatalf("euclid scores %v %v", res[0].Score, res[1].Score)
	}
	if !reflect.DeepEqual(res[0].Payload, map[string]any{"n": int64(1)}) || !reflect.DeepEqual(res[0].Vectors, pts[0].Vectors) {
		t.Fatalf("projection: %+v", res[0].Point)
	}
	if len(res[1].Payload) != 0 {
		t.Fatalf("a point without payload got %v", res[1].Payload)
	}
	// The second named vector is searchable on its own.
	if res, err := c.Search(ctx, &driver.Query{Vector: []float32{1, 0}, VectorName: "w", Limit: 1}); err != nil || len(res) != 1 || res[0].Score != 1 {
		t.Fatal(res, err)
	}
	for name, q := range map[string]*driver.Query{
		"vector":    {Vector: []float32{0, 0}, VectorName: "nope", Limit: 1},
		"dimension": {Vector: []float32{0}, VectorName: "v", Limit: 1},
		"limit":     {Vector: []float32{0, 0}, VectorName: "v"},
		"offset":    {Vector: []float32{0, 0}, VectorName: "v", Limit: 1, Offset: -1},
	} {
		_, err := c.Search(ctx, q)
		if driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func ids(pts []driver.Point) []driver.PointID {
	out := make([]driver.PointID, len(pts))
	for i := range pts {
		out[i] = pts[i].ID
	}
	return out
}

// scrollAll pages through c and checks every page's Next.
func scrollAll(t *testing.T, c driver.Collection, f *driver.Filter, limit int) []driver.PointID {
	t.Helper()
	var out []driver.PointID
	var after driver.PointID
	for pages := 0; ; pages++ {
		pg, err := c.Read(context.Background(), &driver.ReadRequest{Filter: f, Limit: limit, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Points) > limit {
			t.Fatalf("page of %d > %d", len(pg.Points), limit)
		}
		out = append(out, ids(pg.Points)...)
		if pg.Next.IsZero() {
			return out
		}
		if len(pg.Points) == 0 || pg.Next != pg.Points[len(pg.Points)-1].ID {
			t.Fatalf("Next %v is not the last ID of the page", pg.Next)
		}
		after = pg.Next
		if pages > 10000 {
			t.Fatal("scroll does not end")
		}
	}
}

func TestReadAndScroll(t *testing.T) {
	ctx := context.Background()
	c := newColl(t, New(), testSpec("r", driver.Cosine, 3))
	rng := rand.New(rand.NewPCG(3, 3))
	pts := fill(t, c, rng, 300, 3)
	// Churn: delete some, add some back, so the scroll order is rebuilt
	// with deleted and re-added IDs.
	var gone []driver.PointID
	for i := 0; i < 300; i += 7 {
		gone = append(gone, mixedID(i))
	}
	if err := c.Delete(ctx, &driver.Selector{IDs: gone}); err != nil {
		t.Fatal(err)
	}
	back := []driver.Point{pts[7], pts[14]}
	if err := c.Upsert(ctx, back); err != nil {
		t.Fatal(err)
	}
	live := map[driver.PointID]driver.Point{}
	for _, p := range pts {
		live[p.ID] = p
	}
	for _, id := range gone {
		delete(live, id)
	}
	for _, p := range back {
		live[p.ID] = p
	}

	for _, f := range []*driver.Filter{
		nil,
		driver.Eq("tenant", driver.String("t1")), // index, not selective
		driver.And(driver.Eq("tenant", driver.String("t2")), driver.In("tag", driver.String("b"))),
		driver.In("tag", driver.String("zz")),
		driver.HasID(mixedID(1), mixedID(2), mixedID(7), driver.NumID(77)), // index, selective
		driver.Gt("n", driver.Int(280)),
		driver.IsNull("tag"),
	} {
		var want []driver.PointID
		for id, p := range live {
			if f.Match(id, p.Payload) {
				want = append(want, id)
			}
		}
		driver.SortIDs(want)
		for _, limit := range []int{1, 3, 7, len(want), 1000} {
			if limit == 0 {
				continue
			}
			if got := scrollAll(t, c, f, limit); !slices.Equal(got, want) {
				t.Fatalf("scroll %v limit %d:\n got %v\nwant %v", f, limit, got, want)
			}
		}
		// After is exclusive and need not exist.
		if len(want) > 2 {
			pg, err := c.Read(ctx, &driver.ReadRequest{Filter: f, Limit: 1, After: want[0]})
			if err != nil || len(pg.Points) != 1 || pg.Points[0].ID != want[1] {
				t.Fatalf("after: %v %v", pg, err)
			}
		}
		n, err := c.Count(ctx, f)
		if err != nil || n != int64(len(want)) {
			t.Fatalf("count %v: %d, want %d (%v)", f, n, len(want), err)
		}
	}
	pg, err := c.Read(ctx, &driver.ReadRequest{Limit: 2, After: driver.MustParseUUID("ffffffff-ffff-ffff-ffff-ffffffffffff")})
	if err != nil || len(pg.Points) != 0 || !pg.Next.IsZero() {
		t.Fatalf("scroll past the end: %+v %v", pg, err)
	}
	_, err = c.Read(ctx, &driver.ReadRequest{Limit: 0})
	mustCode(t, err, driver.InvalidArgument)

	// Read by IDs: the order asked, only existing and matching points.
	ask := []driver.PointID{mixedID(9), driver.NumID(424242), mixedID(7), mixedID(0), mixedID(4), mixedID(3)}
	pg, err = c.Read(ctx, &driver.ReadRequest{IDs: ask, Filter: driver.Ne("tenant", driver.String("t1")), Limit: 1,
		Payload: driver.Projection{Fields: []string{"tenant"}}, WithVectors: true})
	if err != nil {
		t.Fatal(err)
	}
	// 9: t0; 7: t1 (re-added, filtered); 0: deleted; 4: t1; 3: t0.
	if want := []driver.PointID{mixedID(9), mixedID(3)}; !slices.Equal(ids(pg.Points), want) || !pg.Next.IsZero() {
		t.Fatalf("read by IDs: %v, want %v", ids(pg.Points), want)
	}
	if p := pg.Points[0]; !reflect.DeepEqual(p.Payload, map[string]any{"tenant": "t0"}) || !reflect.DeepEqual(p.Vectors, live[p.ID].Vectors) {
		t.Fatalf("read projection: %+v", p)
	}
	pg, err = c.Read(ctx, &driver.ReadRequest{IDs: []driver.PointID{}})
	if err != nil || len(pg.Points) != 0 {
		t.Fatal("empty IDs", pg, err)
	}
}

func TestDeleteAndUpdatePayload(t *testing.T) {
	ctx := context.Background()
	c := newColl(t, New(), testSpec("d", driver.Dot, 2))
	fill(t, c, rand.New(rand.NewPCG(5, 5)), 40, 2)
	count := func(f *driver.Filter) int64 {
		t.Helper()
		n, err := c.Count(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t1 := driver.Eq("tenant", driver.String("t1"))
	// IDs and filter together: only IDs that match go.
	if err := c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{mixedID(0), mixedID(1), mixedID(1), driver.NumID(99999)}, Filter: t1}); err != nil {
		t.Fatal(err)
	}
	if count(nil) != 39 || count(driver.HasID(mixedID(0))) != 1 {
		t.Fatal("delete by IDs and filter")
	}
	if err := c.Delete(ctx, &driver.Selector{Filter: driver.And(t1, driver.Lt("n", driver.Int(20)))}); err != nil {
		t.Fatal(err)
	}
	if count(t1) != 6 || count(nil) != 33 {
		t.Fatalf("delete by filter: %d %d", count(t1), count(nil))
	}
	if err := c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{}}); err != nil || count(nil) != 33 {
		t.Fatal("empty ID list deleted something")
	}
	mustCode(t, c.Delete(ctx, nil), driver.InvalidArgument)

	pu := c.(driver.PayloadUpdater)
	// Move every t2 point to tenant t9 and drop its note; the tenant index
	// must follow.
	set := map[string]any{"tenant": "t9", "extra": []any{1, "x"}}
	if err := pu.UpdatePayload(ctx, &driver.Selector{Filter: driver.Eq("tenant", driver.String("t2"))}, set, []string{"note", "absent"}); err != nil {
		t.Fatal(err)
	}
	set["extra"].([]any)[0] = "caller changed its map"
	if count(driver.Eq("tenant", driver.String("t2"))) != 0 || count(driver.Eq("tenant", driver.String("t9"))) != 13 {
		t.Fatal("tenant index not updated")
	}
	if count(driver.And(driver.Eq("tenant", driver.String("t9")), driver.Exists("note"))) != 0 {
		t.Fatal("unset did not remove the key")
	}
	pg, err := c.Read(ctx, &driver.ReadRequest{Filter: driver.Eq("tenant", driver.String("t9")), Limit: 100, Payload: driver.Projection{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pg.Points {
		if !reflect.DeepEqual(p.Payload["extra"], []any{int64(1), "x"}) {
			t.Fatalf("payload %v", p.Payload)
		}
	}
	// By ID, on a point whose payload was nil.
	if err := c.Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 1}, "w": {1, 1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := pu.UpdatePayload(ctx, &driver.Selector{IDs: []driver.PointID{driver.NumID(1)}}, map[string]any{"tag": "new"}, nil); err != nil {
		t.Fatal(err)
	}
	if count(driver.And(driver.HasID(driver.NumID(1)), driver.Eq("tag", driver.String("new")))) != 1 {
		t.Fatal("update by ID")
	}
	mustCode(t, pu.UpdatePayload(ctx, &driver.Selector{}, map[string]any{"bad": struct{}{}}, nil), driver.InvalidArgument)
}

// lateCancel is a context whose Err reports Canceled from its n-th call on:
// a context canceled while a scan is under way.
type lateCancel struct {
	context.Context
	calls, n int
}

func (c *lateCancel) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func TestContextCanceledMidScan(t *testing.T) {
	c := newColl(t, New(), testSpec("x", driver.Cosine, 2))
	fill(t, c, rand.New(rand.NewPCG(1, 2)), 3*ctxEvery, 2)
	for name, op := range map[string]func(ctx context.Context) error{
		"count": func(ctx context.Context) error { _, err := c.Count(ctx, driver.Exists("n")); return err },
		"search": func(ctx context.Context) error {
			_, err := c.Search(ctx, &driver.Query{Vector: []float32{1, 1}, VectorName: "v", Limit: 3})
			return err
		},
		"scroll": func(ctx context.Context) error {
			_, err := c.Read(ctx, &driver.ReadRequest{Filter: driver.Eq("note", driver.String("none")), Limit: 3})
			return err
		},
		"delete": func(ctx context.Context) error {
			return c.Delete(ctx, &driver.Selector{Filter: driver.Eq("note", driver.String("none"))})
		},
	} {
		ctx := &lateCancel{Context: context.Background(), n: 2}
		if err := op(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want canceled mid-scan", name, err)
		}
	}
}

// TestConcurrent runs writers and readers on one collection; run it with
// -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s := New()
	c := newColl(t, s, testSpec("cc", driver.Cosine, 4))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range 200 {
				id := driver.NumID(uint64(w*1000 + i))
				v := []float32{rng.Float32(), rng.Float32(), 1, 0}
				err := c.Upsert(ctx, []driver.Point{{ID: id, Vectors: map[string][]float32{"v": v, "w": {0, 1}},
					Payload: map[string]any{"tenant": fmt.Sprintf("t%d", w)}}})
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 == 9 {
					if err := c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{id}}); err != nil {
						t.Error(err)
					}
				}
			}
		})
		wg.Go(func() {
			for range 100 {
				f := driver.Eq("tenant", driver.String(fmt.Sprintf("t%d", w)))
				if _, err := c.Search(ctx, &driver.Query{Vector: []float32{1, 0, 0, 0}, VectorName: "v", Limit: 5, Filter: f,
					Payload: driver.Projection{All: true}}); err != nil {
					t.Error(err)
				}
				if _, err := c.Read(ctx, &driver.ReadRequest{Limit: 50}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n, err := c.Count(ctx, nil); err != nil || n != 4*180 {
		t.Fatalf("count %d %v", n, err)
	}
	if got := scrollAll(t, c, nil, 33); len(got) != 4*180 || !slices.IsSortedFunc(got, driver.PointID.Compare) {
		t.Fatal("scroll after concurrent writes")
	}
}

// TestScrollAfterChurn adds and deletes many IDs without scrolling, which
// makes the scroll order start over from the live IDs.
func TestScrollAfterChurn(t *testing.T) {
	ctx := context.Background()
	c := newColl(t, New(), testSpec("churn", driver.Dot, 1))
	pt := func(id uint64) driver.Point {
		return driver.Point{ID: driver.NumID(id), Vectors: map[string][]float32{"v": {1}, "w": {0, 0}}}
	}
	var want []driver.PointID
	for i := range uint64(10) {
		if err := c.Upsert(ctx, []driver.Point{pt(i * 7)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, driver.NumID(i*7))
	}
	scrollAll(t, c, nil, 3) // builds the order
	for i := range uint64(3000) {
		id := 100000 + i
		if err := c.Upsert(ctx, []driver.Point{pt(id)}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{driver.NumID(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Upsert(ctx, []driver.Point{pt(5)}); err != nil {
		t.Fatal(err)
	}
	want = append(want, driver.NumID(5))
	driver.SortIDs(want)
	if got := scrollAll(t, c, nil, 4); !slices.Equal(got, want) {
		t.Fatalf("scroll after churn: %v, want %v", got, want)
	}
	if err := c.Upsert(ctx, []driver.Point{pt(1)}); err != nil {
		t.Fatal(err)
	}
	want = append(want[:1], append([]driver.PointID{driver.NumID(1)}, want[1:]...)...)
	if got := scrollAll(t, c, nil, 4); !slices.Equal(got, want) {
		t.Fatalf("scroll after a rebuild and an insert: %v, want %v", got, want)
	}
}
