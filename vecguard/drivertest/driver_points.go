package drivertest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

var all = driver.Projection{All: true}

// checkStored fails the test unless the collection holds exactly want (any
// order), payloads and vectors included.
func (f *fixture) checkStored(t *testing.T, s *driver.CollectionSpec, c driver.Collection, want []driver.Point) {
	t.Helper()
	got := f.scrollAll(t, c, nil, 1000, all, true)
	if d := pointsDiff(s, f.caps, sortedPoints(want), got, all, true); d != "" {
		t.Errorf("stored points: %s", d)
	}
	if n := f.count(t, c, nil); n != int64(len(want)) {
		t.Errorf("Count = %d, want %d", n, len(want))
	}
}

// testUpsertRead checks that points come back as written: both ID kinds,
// every named vector and every payload type, with int64 staying int64.
func testUpsertRead(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "upsert", standardSpec())
	r := newRand(41)
	rich := richPayload()
	pts := []driver.Point{
		{ID: driver.NumID(1), Vectors: randomVectors(r, s), Payload: rich},
		{ID: randomUUID(r), Vectors: randomVectors(r, s), Payload: rich},
		{ID: driver.NumID(0), Vectors: randomVectors(r, s), Payload: map[string]any{"size": int64(1)}},
		{ID: driver.NumID(1<<53 + 1), Vectors: randomVectors(r, s), Payload: map[string]any{}},
		{ID: driver.NumID(1<<64 - 1), Vectors: randomVectors(r, s)},
		{ID: driver.MustParseUUID(edgeUUIDs[1]), Vectors: randomVectors(r, s), Payload: map[string]any{"undeclared": []any{map[string]any{"k": int64(1)}}}},
	}
	input := clonePoints(pts)
	if err := c.Upsert(f.ctx, input); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	t.Run("InputUnchanged", func(t *testing.T) {
		if !reflect.DeepEqual(input, pts) {
			t.Errorf("Upsert modified the points it was given")
		}
	})
	t.Run("ReadByIDs", func(t *testing.T) {
		got := f.readIDs(t, c, ids(pts))
		if d := pointsDiff(s, f.caps, pts, got, all, true); d != "" {
			t.Error(d)
		}
	})
	t.Run("Scroll", func(t *testing.T) {
		got := f.scrollAll(t, c, nil, 2, all, true)
		if d := pointsDiff(s, f.caps, sortedPoints(pts), got, all, true); d != "" {
			t.Error(d)
		}
	})
	t.Run("Search", func(t *testing.T) {
		vs := s.Vectors[2]
		hits := f.search(t, c, &driver.Query{Vector: pts[0].Vectors[vs.Name], VectorName: vs.Name, Limit: 10, Payload: all, WithVectors: true})
		if len(hits) != len(pts) {
			t.Fatalf("search returned %d of %d points", len(hits), len(pts))
		}
		orig := byID(pts)
		for _, h := range hits {
			want := orig[h.ID]
			if d := pointDiff(s, f.caps, &want, &h.Point, all, true); d != "" {
				t.Errorf("point %v: %s", h.ID, d)
			}
		}
	})
	t.Run("NotAliased", func(t *testing.T) {
		// Changing what was written or what was read changes nothing stored.
		input[0].Vectors["cos"][0] = 1234
		input[0].Payload["color"] = "changed"
		input[0].Payload["list"].([]any)[0] = "changed"
		input[0].Payload["nested"].(map[string]any)["e"] = "changed"
		got := f.readIDs(t, c, ids(pts[:1]))
		if len(got) == 1 {
			got[0].Vectors["cos"][0] = 4321
			got[0].Payload["color"] = "changed"
			if l, ok := got[0].Payload["list"].([]any); ok && len(l) > 0 {
				l[0] = "changed"
			}
		}
		again := f.readIDs(t, c, ids(pts[:1]))
		if d := pointsDiff(s, f.caps, pts[:1], again, all, true); d != "" {
			t.Errorf("stored point changed through a caller's slice or map: %s", d)
		}
	})
}

// testUpsertOverwrite checks that an upsert replaces whole points: vectors,
// payload keys that are gone, changed types, and the filter and vector
// indexes.
func testUpsertOverwrite(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "overwrite", standardSpec())
	pts := standardPoints(42, s)
	f.upsert(t, c, pts)
	r := newRand(43)
	cur := byID(pts)
	var batch []driver.Point
	for i, p := range pts[:10] {
		np := driver.Point{ID: p.ID, Vectors: randomVectors(r, s), Payload: map[string]any{"color": "purple", "size": int64(1000 + i)}}
		if i%2 == 0 {
			np.Payload = nil
		}
		batch = append(batch, np)
		cur[p.ID] = np
	}
	// The same batch adds new points.
	for i := range 3 {
		np := driver.Point{ID: driver.NumID(uint64(5000 + i)), Vectors: randomVectors(r, s), Payload: map[string]any{"color": "purple"}}
		batch = append(batch, np)
		cur[np.ID] = np
	}
	f.upsert(t, c, batch)
	var want []driver.Point
	for _, p := range cur {
		want = append(want, p)
	}
	f.checkStored(t, s, c, want)
	for _, flt := range []*driver.Filter{driver.Eq("color", driver.String("purple")), driver.Gte("size", driver.Int(1000)), driver.Exists("price")} {
		if n, w := f.count(t, c, flt), len(filterPoints(want, flt)); n != int64(w) {
			t.Errorf("after overwrite, Count(%v) = %d, want %d", flt, n, w)
		}
	}
	for _, vs := range s.Vectors {
		q := batch[0].Vectors[vs.Name]
		hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10})
		found, wanted := f.checkHits(t, vs, reference(want, vs, q, nil), 0, 10, hits)
		f.checkRecall(t, "search after overwrite", found, wanted)
	}
}

// testReadByIDs checks the order, missing IDs and an empty ID list.
func testReadByIDs(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "readids", standardSpec())
	pts := standardPoints(44, s)
	f.upsert(t, c, pts)
	missingNum, missingUUID := driver.NumID(2), driver.MustParseUUID("00000002-0000-4000-8000-000000000000")
	cases := []struct {
		name string
		ask  []driver.PointID
		want []driver.PointID
	}{
		{"AskedOrder", []driver.PointID{pts[5].ID, pts[1].ID, pts[9].ID, pts[0].ID}, []driver.PointID{pts[5].ID, pts[1].ID, pts[9].ID, pts[0].ID}},
		{"Reversed", reversed(ids(sortedPoints(pts))), reversed(ids(sortedPoints(pts)))},
		{"Missing", []driver.PointID{missingNum, pts[3].ID, missingUUID, pts[2].ID}, []driver.PointID{pts[3].ID, pts[2].ID}},
		{"OnlyMissing", []driver.PointID{missingNum, missingUUID}, nil},
		{"Empty", []driver.PointID{}, nil},
		{"One", []driver.PointID{pts[7].ID}, []driver.PointID{pts[7].ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pg, err := c.Read(f.ctx, &driver.ReadRequest{IDs: tc.ask, Limit: 1})
			if err != nil {
				t.Fatalf("Read(IDs): %v", err)
			}
			if got := ids(pg.Points); !sameIDs(got, tc.want) {
				t.Errorf("got %s, want %s", idList(got), idList(tc.want))
			}
			if !pg.Next.IsZero() {
				t.Errorf("read by IDs returned Next %v", pg.Next)
			}
		})
	}
	orig := byID(pts)
	for _, pc := range projectionCases {
		for _, withVectors := range []bool{false, true} {
			t.Run(fmt.Sprintf("Projection/%s/vectors=%v", pc.name, withVectors), func(t *testing.T) {
				ask := ids(pts[:12])
				pg, err := c.Read(f.ctx, &driver.ReadRequest{IDs: ask, Payload: pc.proj, WithVectors: withVectors})
				if err != nil {
					t.Fatalf("Read(IDs): %v", err)
				}
				want := make([]driver.Point, len(ask))
				for i, id := range ask {
					want[i] = orig[id]
				}
				if d := pointsDiff(s, f.caps, want, pg.Points, pc.proj, withVectors); d != "" {
					t.Error(d)
				}
				got := f.scrollAll(t, c, nil, 10, pc.proj, withVectors)
				if d := pointsDiff(s, f.caps, sortedPoints(pts), got, pc.proj, withVectors); d != "" {
					t.Errorf("scroll: %s", d)
				}
			})
		}
	}
}

func reversed(xs []driver.PointID) []driver.PointID {
	out := make([]driver.PointID, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

// testScroll checks pagination: every page size yields every point once in
// ascending ID order, After is exclusive, and Next is zero at the end.
func testScroll(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "scroll", standardSpec())
	pts := standardPoints(45, s)
	f.upsert(t, c, pts)
	sorted := sortedPoints(pts)
	n := len(sorted)
	for _, size := range []int{1, 2, 3, 7, 10, n - 1, n, n + 1, driver.MaxLimit} {
		t.Run(fmt.Sprintf("PageSize%d", size), func(t *testing.T) {
			got := f.scrollAll(t, c, nil, size, all, size == 7)
			if d := pointsDiff(s, f.caps, sorted, got, all, size == 7); d != "" {
				t.Error(d)
			}
		})
	}
	for _, flt := range []*driver.Filter{driver.Eq("color", driver.String("red")), driver.IsNull("active"), driver.None()} {
		for _, size := range []int{1, 4} {
			t.Run(fmt.Sprintf("Filter/%v/PageSize%d", flt, size), func(t *testing.T) {
				got := f.scrollAll(t, c, flt, size, driver.Projection{}, false)
				if want := ids(filterPoints(sorted, flt)); !sameIDs(ids(got), want) {
					t.Errorf("got %s, want %s", idList(ids(got)), idList(want))
				}
			})
		}
	}
	t.Run("FirstPage", func(t *testing.T) {
		pg, err := c.Read(f.ctx, &driver.ReadRequest{Limit: 5})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if want := ids(sorted[:5]); !sameIDs(ids(pg.Points), want) {
			t.Errorf("got %s, want %s", idList(ids(pg.Points)), idList(want))
		}
		if pg.Next != sorted[4].ID {
			t.Errorf("Next = %v, want %v", pg.Next, sorted[4].ID)
		}
	})
	type afterCase struct {
		name  string
		after driver.PointID
		want  []driver.PointID
	}
	var cases []afterCase
	for _, k := range []int{0, 1, 10, 33, 34, 35, n - 6, n - 2, n - 1} {
		cases = append(cases, afterCase{fmt.Sprintf("After%d", k), sorted[k].ID, ids(sorted[k+1 : min(k+6, n)])})
	}
	gap := driver.NumID(2) // between 1 and 4
	cases = append(cases,
		afterCase{"AfterGap", gap, ids(filterPoints(sorted, driver.Not(driver.HasID(driver.NumID(0), driver.NumID(1)))))[:5]},
		afterCase{"AfterMaxNumeric", driver.NumID(1<<64 - 1), ids(filterPoints(sorted, driver.Not(driver.HasID(numericIDs(sorted)...))))[:5]},
		afterCase{"AfterLowUUID", driver.MustParseUUID("00000000-0000-0000-0000-000000000001"), ids(filterPoints(sorted, driver.Not(driver.HasID(numericIDs(sorted)...))))[:5]},
		afterCase{"AfterMaxUUID", driver.MustParseUUID(edgeUUIDs[1]), nil},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pg, err := c.Read(f.ctx, &driver.ReadRequest{Limit: 5, After: tc.after})
			if err != nil {
				t.Fatalf("Read(After %v): %v", tc.after, err)
			}
			if got := ids(pg.Points); !sameIDs(got, tc.want) {
				t.Errorf("after %v: got %s, want %s", tc.after, idList(got), idList(tc.want))
			}
			if len(tc.want) == 0 && !pg.Next.IsZero() {
				t.Errorf("after %v: empty page with Next %v", tc.after, pg.Next)
			}
		})
	}
	t.Run("AfterWithFilter", func(t *testing.T) {
		flt := driver.Exists("color")
		match := filterPoints(sorted, flt)
		after := match[3].ID
		pg, err := c.Read(f.ctx, &driver.ReadRequest{Limit: 4, After: after, Filter: flt})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if want := ids(match[4:8]); !sameIDs(ids(pg.Points), want) {
			t.Errorf("got %s, want %s", idList(ids(pg.Points)), idList(want))
		}
	})
	t.Run("EmptyCollection", func(t *testing.T) {
		_, empty := f.create(t, "scrollempty", standardSpec())
		pg, err := empty.Read(f.ctx, &driver.ReadRequest{Limit: 10})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(pg.Points) != 0 || !pg.Next.IsZero() {
			t.Errorf("empty collection: got %d points, Next %v", len(pg.Points), pg.Next)
		}
		if n := f.count(t, empty, nil); n != 0 {
			t.Errorf("empty collection: Count = %d", n)
		}
		for _, vs := range s.Vectors {
			q := randomVector(newRand(9), vs.Dim, vs.Distance)
			if hits := f.search(t, empty, &driver.Query{Vector: q, VectorName: vs.Name, Limit: 10}); len(hits) != 0 {
				t.Errorf("empty collection: Search returned %d results", len(hits))
			}
		}
	})
}

func numericIDs(pts []driver.Point) []driver.PointID {
	var out []driver.PointID
	for _, p := range pts {
		if p.ID.IsNum() {
			out = append(out, p.ID)
		}
	}
	return out
}

// testDelete checks Delete by IDs, by filter, by both, and the edges of the
// selector: missing IDs, an empty ID list and the empty selector.
func testDelete(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "delete", standardSpec())
	pts := standardPoints(46, s)
	missing := driver.NumID(2)
	red := driver.Eq("color", driver.String("red"))
	cases := []struct {
		name string
		sel  driver.Selector
		gone *driver.Filter // which points the delete removes
	}{
		{"IDs", driver.Selector{IDs: ids(pts[:5])}, driver.HasID(ids(pts[:5])...)},
		{"IDsWithMissing", driver.Selector{IDs: []driver.PointID{missing, pts[7].ID, driver.MustParseUUID(edgeUUIDs[0])}}, driver.HasID(pts[7].ID, driver.MustParseUUID(edgeUUIDs[0]))},
		{"OnlyMissing", driver.Selector{IDs: []driver.PointID{missing}}, driver.None()},
		{"EmptyIDs", driver.Selector{IDs: []driver.PointID{}}, driver.None()},
		{"EmptyIDsWithFilter", driver.Selector{IDs: []driver.PointID{}, Filter: driver.And()}, driver.None()},
		{"Filter", driver.Selector{Filter: red}, red},
		{"IDsAndFilter", driver.Selector{IDs: ids(pts[:20]), Filter: red}, driver.And(driver.HasID(ids(pts[:20])...), red)},
		{"FilterMatchesNothing", driver.Selector{Filter: driver.None()}, driver.None()},
		{"FilterAll", driver.Selector{Filter: driver.And()}, driver.And()},
		{"EmptySelector", driver.Selector{}, driver.And()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.upsert(t, c, pts)
			if err := c.Delete(f.ctx, &tc.sel); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			want := filterPoints(pts, driver.Not(tc.gone))
			f.checkStored(t, s, c, want)
			if err := c.Delete(f.ctx, &tc.sel); err != nil {
				t.Fatalf("Delete again: %v", err)
			}
			if n := f.count(t, c, nil); n != int64(len(want)) {
				t.Errorf("after deleting again, Count = %d, want %d", n, len(want))
			}
			for _, id := range ids(filterPoints(pts, tc.gone)) {
				if got := f.readIDs(t, c, []driver.PointID{id}); len(got) != 0 {
					t.Errorf("deleted point %v still reads", id)
				}
			}
		})
	}
}

// testUpdatePayload checks the optional PayloadUpdater: keys set and unset
// on exactly the selected points, nothing else touched, indexes updated.
func testUpdatePayload(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "update", standardSpec())
	pu, ok := c.(driver.PayloadUpdater)
	if !ok {
		t.Skip("the collection does not implement driver.PayloadUpdater")
	}
	pts := standardPoints(47, s)
	red := driver.Eq("color", driver.String("red"))
	cases := []struct {
		name  string
		sel   driver.Selector
		set   map[string]any
		unset []string
	}{
		{"SetByIDs", driver.Selector{IDs: []driver.PointID{pts[0].ID, pts[5].ID, driver.NumID(2)}},
			map[string]any{"color": "purple", "size": int64(77), "added": map[string]any{"deep": []any{int64(1), 2.5}}}, nil},
		{"UnsetByFilter", driver.Selector{Filter: red}, nil, []string{"size", "meta", "nosuchkey"}},
		{"SetAndUnsetByIDsAndFilter", driver.Selector{IDs: ids(pts[:25]), Filter: red},
			map[string]any{"active": true, "price": 7.5}, []string{"note"}},
		{"SetNull", driver.Selector{Filter: driver.Exists("color")}, map[string]any{"color": nil}, nil},
		{"ReplaceNested", driver.Selector{IDs: ids(pts[10:12])}, map[string]any{"meta": map[string]any{"only": "this"}}, nil},
		{"SetAll", driver.Selector{Filter: driver.And()}, map[string]any{"size": int64(-1), "price": 0.5}, nil},
		{"EmptyIDs", driver.Selector{IDs: []driver.PointID{}}, map[string]any{"color": "purple"}, nil},
		{"NoMatch", driver.Selector{Filter: driver.None()}, map[string]any{"color": "purple"}, []string{"size"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.upsert(t, c, pts)
			var sel *driver.Filter
			if tc.sel.IDs != nil {
				sel = driver.HasID(tc.sel.IDs...)
			}
			sel = driver.And(sel, tc.sel.Filter)
			want := clonePoints(pts)
			for i := range want {
				p := &want[i]
				if !sel.Match(p.ID, p.Payload) {
					continue
				}
				if p.Payload == nil {
					p.Payload = map[string]any{}
				}
				for k, v := range tc.set {
					p.Payload[k] = v
				}
				for _, k := range tc.unset {
					delete(p.Payload, k)
				}
			}
			if err := pu.UpdatePayload(f.ctx, &tc.sel, driver.ClonePayload(tc.set), tc.unset); err != nil {
				t.Fatalf("UpdatePayload: %v", err)
			}
			f.checkStored(t, s, c, want)
			for _, flt := range []*driver.Filter{driver.Eq("color", driver.String("purple")), driver.Exists("size"), driver.Eq("active", driver.Bool(true)), driver.Gt("price", driver.Float(5))} {
				if n, w := f.count(t, c, flt), len(filterPoints(want, flt)); n != int64(w) {
					t.Errorf("after update, Count(%v) = %d, want %d", flt, n, w)
				}
			}
		})
	}
}
