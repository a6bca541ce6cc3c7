package drivertest

import (
	"context"
	"slices"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// withoutUpdater hides a collection's PayloadUpdater so that the client
// takes its read-modify-write path.
type withoutUpdater struct{ driver.Driver }

func (d withoutUpdater) Collection(spec *driver.CollectionSpec) driver.Collection {
	return struct{ driver.Collection }{d.Driver.Collection(spec)}
}

// updatePaths are the two ways the client updates payloads: through the
// collection's PayloadUpdater (when it has one) and by reading, changing
// and writing back whole points.
func (cf *clientFixture) updatePaths() []struct {
	name string
	c    *vecguard.Client
} {
	return []struct {
		name string
		c    *vecguard.Client
	}{
		{"Native", cf.c},
		{"ReadModifyWrite", vecguard.New(withoutUpdater{cf.drv}, &vecguard.Options{Authorizer: testGrants().authorizer()})},
	}
}

// visible describes what one caller may see of the collection: the IDs of
// the rows it may read, read through the driver.
func (f *fixture) visible(t *testing.T, c driver.Collection, rows *driver.Filter) []driver.PointID {
	t.Helper()
	return f.allIDs(t, c, rows)
}

// checkReads checks that every read operation of the client, run in ctx,
// returns exactly the rows matching rows (AND-ed with the caller's filter
// flt), for all the caller filters given.
func (cf *clientFixture) checkReads(t *testing.T, ctx context.Context, s *driver.CollectionSpec, c driver.Collection, rows *driver.Filter, all []driver.Point) {
	t.Helper()
	callerFilters := []struct {
		name string
		flt  *driver.Filter
	}{
		{"NoFilter", nil},
		{"AndEmpty", driver.And()},
		{"Blue", driver.Eq("color", driver.String("blue"))},
		{"WidenWithOr", driver.Or(driver.Eq("color", driver.String("blue")), driver.And())},
		{"WidenWithNot", driver.Not(driver.Eq("color", driver.String("red")))},
		{"OtherTenant", driver.Eq("tenant", driver.String("t2"))},
		{"NotTenant", driver.Not(driver.Eq("tenant", driver.String("t1")))},
		{"AllIDs", driver.HasID(ids(all)...)},
	}
	for _, cfl := range callerFilters {
		t.Run(cfl.name, func(t *testing.T) {
			want := cf.visible(t, c, driver.And(rows, cfl.flt))
			var got []driver.PointID
			cursor := ""
			for range 1000 {
				pg, err := cf.c.Scroll(ctx, s.Name, vecguard.ScrollRequest{Filter: cfl.flt, Limit: 3, Cursor: cursor})
				if err != nil {
					t.Fatalf("Scroll: %v", err)
				}
				got = append(got, ids(pg.Points)...)
				if cursor = pg.Cursor; cursor == "" {
					break
				}
			}
			if !sameIDs(got, want) {
				t.Errorf("Scroll: got %s, want %s", idList(got), idList(want))
			}
			n, err := cf.c.Count(ctx, s.Name, cfl.flt)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if n != int64(len(want)) {
				t.Errorf("Count = %d, want %d", n, len(want))
			}
			pts, err := cf.c.Get(ctx, s.Name, ids(all), vecguard.ReadOptions{WithPayload: true})
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got, w := ids(pts), cf.visible(t, c, rows); !sameSet(got, w) {
				t.Errorf("Get: got %s, want %s", idList(got), idList(w))
			}
			hits, err := cf.c.Search(ctx, s.Name, vecguard.SearchRequest{Vector: all[0].Vectors["v"], Limit: len(all), Filter: cfl.flt})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			for _, h := range hits {
				if !slices.Contains(want, h.ID) {
					t.Errorf("Search returned %v, which the caller may not read or did not ask for", h.ID)
				}
			}
			if cf.caps.Exact && !sameSet(hitIDs(hits), want) {
				t.Errorf("Search: got %s, want %s", idList(hitIDs(hits)), idList(want))
			}
		})
	}
}

// sameSet reports whether a and b hold the same IDs in any order.
func sameSet(a, b []driver.PointID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	driver.SortIDs(a)
	driver.SortIDs(b)
	return sameIDs(a, b)
}

// testClientTenantIsolation checks that in a tenant-isolated collection a
// caller sees, changes and deletes only its tenant's rows.
func testClientTenantIsolation(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "tenants", clientSpec(true))
	alice, bob := cf.as(subjAlice, "t1"), cf.as(subjBob, "t2")
	alicePts := clientPoints(71, s, 1, 12)
	bobPts := clientPoints(72, s, 101, 12)
	t1, t2 := driver.Eq("tenant", driver.String("t1")), driver.Eq("tenant", driver.String("t2"))
	var allPts []driver.Point
	reset := func(t *testing.T) {
		t.Helper()
		if err := c.Delete(cf.ctx, &driver.Selector{Filter: driver.And()}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		cf.upsertAs(t, alice, s.Name, alicePts)
		cf.upsertAs(t, bob, s.Name, bobPts)
		allPts = cf.snapshot(t, c)
	}
	reset(t)

	t.Run("TenantFilled", func(t *testing.T) {
		if got, want := cf.visible(t, c, t1), ids(sortedPoints(alicePts)); !sameIDs(got, want) {
			t.Errorf("rows of t1: got %s, want %s", idList(got), idList(want))
		}
		if got, want := cf.visible(t, c, t2), ids(sortedPoints(bobPts)); !sameIDs(got, want) {
			t.Errorf("rows of t2: got %s, want %s", idList(got), idList(want))
		}
	})
	t.Run("Reads", func(t *testing.T) {
		cf.checkReads(t, alice, s, c, t1, allPts)
	})
	t.Run("UpsertOtherTenant", func(t *testing.T) {
		before := cf.snapshot(t, c)
		named := clientPoints(73, s, 500, 2)
		named[1].Payload["tenant"] = "t2"
		wantErr(t, "Upsert naming another tenant", cf.c.Upsert(alice, s.Name, named), vecguard.ErrPermissionDenied)
		empty := clientPoints(73, s, 500, 1)
		empty[0].Payload["tenant"] = ""
		wantErr(t, "Upsert naming the empty tenant", cf.c.Upsert(alice, s.Name, empty), vecguard.ErrPermissionDenied)
		// An existing ID of another tenant cannot be taken over, alone or
		// in a batch with new points.
		steal := clientPoints(74, s, 600, 2)
		steal[1].ID = bobPts[0].ID
		wantErr(t, "Upsert over another tenant's ID", cf.c.Upsert(alice, s.Name, steal), vecguard.ErrPermissionDenied)
		wantErr(t, "Upsert over another tenant's ID", cf.c.Upsert(alice, s.Name, steal[1:]), vecguard.ErrPermissionDenied)
		cf.unchanged(t, s, c, before)
	})
	t.Run("UpsertOwnTenantExplicit", func(t *testing.T) {
		p := clientPoints(75, s, 700, 1)
		p[0].Payload["tenant"] = "t1"
		cf.upsertAs(t, alice, s.Name, p)
		if got := cf.visible(t, c, driver.And(t1, driver.HasID(p[0].ID))); len(got) != 1 {
			t.Errorf("point written with its own tenant is not stored under it")
		}
		reset(t)
	})
	t.Run("NoTenant", func(t *testing.T) {
		before := cf.snapshot(t, c)
		for _, op := range clientOps(s, alicePts) {
			if op.name == "DescribeCollection" || op.name == "CreateCollection" || op.name == "DropCollection" {
				continue
			}
			wantErr(t, op.name+" without a tenant", op.call(cf.as(subjAlice, ""), cf.c), vecguard.ErrPermissionDenied)
		}
		cf.unchanged(t, s, c, before)
	})
	t.Run("Recommend", func(t *testing.T) {
		_, err := cf.c.Recommend(alice, s.Name, vecguard.RecommendRequest{Positive: ids(bobPts[:1]), Limit: 5})
		wantErr(t, "Recommend from another tenant's point", err, vecguard.ErrNotFound)
		_, err = cf.c.Recommend(alice, s.Name, vecguard.RecommendRequest{Positive: ids(alicePts[:1]), Negative: ids(bobPts[:1]), Limit: 5})
		wantErr(t, "Recommend away from another tenant's point", err, vecguard.ErrNotFound)
		hits, err := cf.c.Recommend(alice, s.Name, vecguard.RecommendRequest{Positive: ids(alicePts[:2]), Limit: 30})
		if err != nil {
			t.Fatalf("Recommend: %v", err)
		}
		for _, h := range hits {
			if !slices.Contains(ids(alicePts[2:]), h.ID) {
				t.Errorf("Recommend returned %v", h.ID)
			}
		}
	})
	for _, path := range cf.updatePaths() {
		t.Run("UpdatePayload/"+path.name, func(t *testing.T) {
			reset(t)
			before := cf.snapshot(t, c)
			err := path.c.UpdatePayload(alice, s.Name, vecguard.PayloadUpdate{IDs: ids(bobPts[:3]), Set: map[string]any{"note": "x"}})
			if err != nil {
				t.Fatalf("UpdatePayload of another tenant's IDs: %v", err)
			}
			cf.unchanged(t, s, c, before)
			for _, u := range []vecguard.PayloadUpdate{
				{Filter: driver.And(), Set: map[string]any{"tenant": "t2"}},
				{Filter: driver.And(), Set: map[string]any{"tenant": "t1"}},
				{IDs: ids(alicePts[:1]), Unset: []string{"tenant"}},
			} {
				wantErr(t, "UpdatePayload of the tenant field", path.c.UpdatePayload(alice, s.Name, u), vecguard.ErrPermissionDenied)
			}
			cf.unchanged(t, s, c, before)
			if err := path.c.UpdatePayload(alice, s.Name, vecguard.PayloadUpdate{Filter: driver.And(), Set: map[string]any{"note": "changed"}}); err != nil {
				t.Fatalf("UpdatePayload: %v", err)
			}
			changed := driver.Eq("note", driver.String("changed"))
			for _, p := range cf.snapshot(t, c) {
				if got, want := changed.Match(p.ID, p.Payload), t1.Match(p.ID, p.Payload); got != want {
					t.Errorf("point %v (tenant %v): changed = %v", p.ID, p.Payload["tenant"], got)
				}
			}
		})
	}
	t.Run("Delete", func(t *testing.T) {
		reset(t)
		before := cf.snapshot(t, c)
		if err := cf.c.Delete(alice, s.Name, ids(bobPts)); err != nil {
			t.Fatalf("Delete of another tenant's IDs: %v", err)
		}
		cf.unchanged(t, s, c, before)
		if err := cf.c.DeleteByFilter(alice, s.Name, driver.Eq("tenant", driver.String("t2"))); err != nil {
			t.Fatalf("DeleteByFilter: %v", err)
		}
		cf.unchanged(t, s, c, before)
		if err := cf.c.DeleteByFilter(alice, s.Name, driver.And()); err != nil {
			t.Fatalf("DeleteByFilter: %v", err)
		}
		cf.unchanged(t, s, c, filterPoints(before, t2))
		if err := cf.c.Delete(bob, s.Name, ids(bobPts[:2])); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		cf.unchanged(t, s, c, filterPoints(before, driver.And(t2, driver.Not(driver.HasID(ids(bobPts[:2])...)))))
	})
}

// testClientRowFilter checks that the authorizer's row filter narrows what
// a caller reads, writes and deletes, and that its own filter cannot widen
// it.
func testClientRowFilter(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "rows", clientSpec(false))
	admin, carol := cf.as(subjAdmin, ""), cf.as(subjCarol, "")
	pts := clientPoints(81, s, 1, 24)
	var allPts []driver.Point
	reset := func(t *testing.T) {
		t.Helper()
		if err := c.Delete(cf.ctx, &driver.Selector{Filter: driver.And()}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		cf.upsertAs(t, admin, s.Name, pts)
		allPts = cf.snapshot(t, c)
	}
	reset(t)
	red, notRed := redRows, driver.Not(redRows)
	redPts, otherPts := filterPoints(pts, red), filterPoints(pts, notRed)

	t.Run("Reads", func(t *testing.T) {
		cf.checkReads(t, carol, s, c, red, allPts)
	})
	t.Run("Upsert", func(t *testing.T) {
		before := cf.snapshot(t, c)
		blue := clientPoints(82, s, 800, 1)
		blue[0].Payload["color"] = "blue"
		wantErr(t, "Upsert of a row outside the write filter", cf.c.Upsert(carol, s.Name, blue), vecguard.ErrPermissionDenied)
		noColor := clientPoints(82, s, 800, 1)
		delete(noColor[0].Payload, "color")
		wantErr(t, "Upsert of a row without the filtered field", cf.c.Upsert(carol, s.Name, noColor), vecguard.ErrPermissionDenied)
		steal := clientPoints(83, s, 900, 2)
		steal[0].Payload["color"], steal[1].Payload["color"] = "red", "red"
		steal[1].ID = otherPts[0].ID
		wantErr(t, "Upsert over a row outside the write filter", cf.c.Upsert(carol, s.Name, steal), vecguard.ErrPermissionDenied)
		cf.unchanged(t, s, c, before)
		own := steal[:1]
		cf.upsertAs(t, carol, s.Name, own)
		if got := cf.visible(t, c, driver.And(red, driver.HasID(own[0].ID))); len(got) != 1 {
			t.Errorf("a red point written by carol is not stored")
		}
		reset(t)
	})
	for _, path := range cf.updatePaths() {
		t.Run("UpdatePayload/"+path.name, func(t *testing.T) {
			reset(t)
			before := cf.snapshot(t, c)
			if err := path.c.UpdatePayload(carol, s.Name, vecguard.PayloadUpdate{IDs: ids(otherPts), Set: map[string]any{"note": "x"}}); err != nil {
				t.Fatalf("UpdatePayload of rows outside the filter: %v", err)
			}
			cf.unchanged(t, s, c, before)
			moves := []vecguard.PayloadUpdate{
				{IDs: ids(redPts[:2]), Set: map[string]any{"color": "blue"}},
				{Filter: driver.And(), Unset: []string{"color"}},
				{Filter: driver.Gte("size", driver.Int(0)), Set: map[string]any{"color": nil}},
			}
			for _, u := range moves {
				wantErr(t, "UpdatePayload moving rows outside the write filter", path.c.UpdatePayload(carol, s.Name, u), vecguard.ErrPermissionDenied)
			}
			cf.unchanged(t, s, c, before)
			if err := path.c.UpdatePayload(carol, s.Name, vecguard.PayloadUpdate{Filter: driver.And(), Set: map[string]any{"note": "changed"}}); err != nil {
				t.Fatalf("UpdatePayload: %v", err)
			}
			changed := driver.Eq("note", driver.String("changed"))
			for _, p := range cf.snapshot(t, c) {
				if got, want := changed.Match(p.ID, p.Payload), red.Match(p.ID, p.Payload); got != want {
					t.Errorf("point %v (color %v): changed = %v", p.ID, p.Payload["color"], got)
				}
			}
		})
	}
	t.Run("Recommend", func(t *testing.T) {
		_, err := cf.c.Recommend(carol, s.Name, vecguard.RecommendRequest{Positive: ids(otherPts[:1])})
		wantErr(t, "Recommend from a row outside the filter", err, vecguard.ErrNotFound)
		_, err = cf.c.Recommend(carol, s.Name, vecguard.RecommendRequest{Positive: ids(redPts[:1]), Negative: ids(otherPts[:1])})
		wantErr(t, "Recommend away from a row outside the filter", err, vecguard.ErrNotFound)
		hits, err := cf.c.Recommend(carol, s.Name, vecguard.RecommendRequest{Positive: ids(redPts[:1]), Limit: 50})
		if err != nil {
			t.Fatalf("Recommend: %v", err)
		}
		for _, h := range hits {
			if !slices.Contains(ids(redPts[1:]), h.ID) {
				t.Errorf("Recommend returned %v", h.ID)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		reset(t)
		before := cf.snapshot(t, c)
		if err := cf.c.Delete(carol, s.Name, ids(otherPts)); err != nil {
			t.Fatalf("Delete of rows outside the filter: %v", err)
		}
		cf.unchanged(t, s, c, before)
		if err := cf.c.DeleteByFilter(carol, s.Name, driver.Or(driver.Eq("color", driver.String("blue")), driver.And())); err != nil {
			t.Fatalf("DeleteByFilter: %v", err)
		}
		cf.unchanged(t, s, c, filterPoints(before, notRed))
	})
}
