package drivertest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// specDiff describes how a described spec differs from the created one, or
// returns "". Vectors keep their order (the first is the default); fields
// are compared as a set.
func specDiff(want, got *driver.CollectionSpec) string {
	if got == nil {
		return "no spec"
	}
	var diffs []string
	if got.Name != want.Name {
		diffs = append(diffs, fmt.Sprintf("name %q, want %q", got.Name, want.Name))
	}
	if !slices.Equal(got.Vectors, want.Vectors) {
		diffs = append(diffs, fmt.Sprintf("vectors %+v, want %+v", got.Vectors, want.Vectors))
	}
	sortFields := func(fs []driver.FieldSpec) []driver.FieldSpec {
		fs = slices.Clone(fs)
		sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
		return fs
	}
	if g, w := sortFields(got.Fields), sortFields(want.Fields); !slices.Equal(g, w) {
		diffs = append(diffs, fmt.Sprintf("fields %+v, want %+v", g, w))
	}
	if got.TenantField != want.TenantField {
		diffs = append(diffs, fmt.Sprintf("tenant field %q, want %q", got.TenantField, want.TenantField))
	}
	return strings.Join(diffs, "; ")
}

// specCases are collection specs whose round trip the suite checks.
func specCases() []struct {
	name string
	spec driver.CollectionSpec
} {
	allKinds := []driver.FieldSpec{
		{Name: "s", Kind: driver.KindString, Filterable: true},
		{Name: "i", Kind: driver.KindInt, Filterable: true},
		{Name: "f", Kind: driver.KindFloat, Filterable: true},
		{Name: "b", Kind: driver.KindBool, Filterable: true},
		{Name: "s_plain", Kind: driver.KindString},
		{Name: "i_plain", Kind: driver.KindInt},
		{Name: "f_plain", Kind: driver.KindFloat},
		{Name: "b_plain", Kind: driver.KindBool},
	}
	return []struct {
		name string
		spec driver.CollectionSpec
	}{
		{"Cosine", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}}}},
		{"Dot", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: 3, Distance: driver.Dot}}}},
		{"Euclid", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Euclid}}}},
		{"DimOne", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "one", Dim: 1, Distance: driver.Euclid}}}},
		{"LargeDim", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "big", Dim: 1536, Distance: driver.Cosine}}}},
		{"NamedVectors", driver.CollectionSpec{Vectors: []driver.VectorSpec{
			{Name: "title", Dim: 8, Distance: driver.Dot},
			{Name: "body", Dim: 16, Distance: driver.Cosine},
			{Name: "image_v2", Dim: 4, Distance: driver.Euclid},
		}}},
		{"AllFieldKinds", driver.CollectionSpec{
			Vectors: []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}},
			Fields:  allKinds,
		}},
		{"TenantField", driver.CollectionSpec{
			Vectors:     []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}, {Name: "w", Dim: 2, Distance: driver.Dot}},
			Fields:      append([]driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}}, allKinds...),
			TenantField: "tenant",
		}},
		{"ReservedFields", driver.CollectionSpec{
			// What the client stores for an encrypted collection.
			Vectors: []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}},
			Fields: []driver.FieldSpec{
				{Name: "color", Kind: driver.KindString, Filterable: true},
				{Name: "_vg_kv", Kind: driver.KindInt, Filterable: true},
				{Name: "_vg_blob", Kind: driver.KindString},
			},
		}},
	}
}

// testCollections checks create, describe, list and drop round trips.
func testCollections(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	for _, tc := range specCases() {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec.Clone()
			spec.Name = uniqueName(strings.ToLower(tc.name))
			if err := spec.Validate(true); err != nil {
				t.Fatalf("spec case is invalid: %v", err)
			}
			f.mustCreate(t, spec)
			got, err := f.drv.DescribeCollection(f.ctx, spec.Name)
			if err != nil {
				t.Fatalf("DescribeCollection: %v", err)
			}
			if d := specDiff(spec, got); d != "" {
				t.Errorf("DescribeCollection: %s", d)
			}
			names, err := f.drv.ListCollections(f.ctx)
			if err != nil {
				t.Fatalf("ListCollections: %v", err)
			}
			if !slices.Contains(names, spec.Name) {
				t.Errorf("ListCollections does not list %s", spec.Name)
			}
			if err := f.drv.DropCollection(f.ctx, spec.Name); err != nil {
				t.Fatalf("DropCollection: %v", err)
			}
			_, err = f.drv.DescribeCollection(f.ctx, spec.Name)
			f.wantCode(t, "DescribeCollection after drop", err, driver.NotFound)
			names, err = f.drv.ListCollections(f.ctx)
			if err != nil {
				t.Fatalf("ListCollections: %v", err)
			}
			if slices.Contains(names, spec.Name) {
				t.Errorf("ListCollections lists %s after it was dropped", spec.Name)
			}
		})
	}
	t.Run("LongName", func(t *testing.T) {
		spec := &driver.CollectionSpec{Name: uniqueName("long"), Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Dot}}}
		spec.Name += strings.Repeat("x", driver.MaxNameLen-len(spec.Name))
		f.mustCreate(t, spec)
		got, err := f.drv.DescribeCollection(f.ctx, spec.Name)
		if err != nil {
			t.Fatalf("DescribeCollection: %v", err)
		}
		if d := specDiff(spec, got); d != "" {
			t.Errorf("DescribeCollection: %s", d)
		}
	})
	t.Run("DescribeReturnsCopy", func(t *testing.T) {
		s, _ := f.create(t, "copy", standardSpec())
		got, err := f.drv.DescribeCollection(f.ctx, s.Name)
		if err != nil {
			t.Fatalf("DescribeCollection: %v", err)
		}
		got.Vectors[0].Dim = 999
		got.Fields = nil
		again, err := f.drv.DescribeCollection(f.ctx, s.Name)
		if err != nil {
			t.Fatalf("DescribeCollection: %v", err)
		}
		if d := specDiff(s, again); d != "" {
			t.Errorf("changing a described spec changed the collection: %s", d)
		}
	})
	t.Run("ListSorted", func(t *testing.T) {
		base := uniqueName("list")
		made := []string{base + "_b", base + "_C", base + "_a", base + "_a0"}
		for _, n := range made {
			f.mustCreate(t, &driver.CollectionSpec{Name: n, Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Cosine}}})
		}
		names, err := f.drv.ListCollections(f.ctx)
		if err != nil {
			t.Fatalf("ListCollections: %v", err)
		}
		if !slices.IsSorted(names) {
			t.Errorf("ListCollections not in lexical order: %q", names)
		}
		for _, n := range made {
			if !slices.Contains(names, n) {
				t.Errorf("ListCollections does not list %s", n)
			}
		}
	})
	t.Run("AlreadyExists", func(t *testing.T) {
		s, c := f.create(t, "exists", standardSpec())
		pts := standardPoints(31, s)
		f.upsert(t, c, pts[:5])
		other := &driver.CollectionSpec{Name: s.Name, Vectors: []driver.VectorSpec{{Name: "x", Dim: 3, Distance: driver.Dot}}}
		for _, spec := range []*driver.CollectionSpec{s, other} {
			err := f.drv.CreateCollection(f.ctx, spec)
			f.wantCode(t, "CreateCollection of an existing name", err, driver.AlreadyExists)
		}
		got, err := f.drv.DescribeCollection(f.ctx, s.Name)
		if err != nil {
			t.Fatalf("DescribeCollection: %v", err)
		}
		if d := specDiff(s, got); d != "" {
			t.Errorf("a failed create changed the spec: %s", d)
		}
		if n := f.count(t, c, nil); n != 5 {
			t.Errorf("a failed create changed the points: Count = %d, want 5", n)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		name := uniqueName("missing")
		_, err := f.drv.DescribeCollection(f.ctx, name)
		f.wantCode(t, "DescribeCollection", err, driver.NotFound)
		f.wantCode(t, "DropCollection", f.drv.DropCollection(f.ctx, name), driver.NotFound)
		spec := standardSpec()
		spec.Name = name
		f.checkCollectionOps(t, f.drv.Collection(spec), spec, func(what string, err error) {
			f.wantCode(t, what, err, driver.NotFound)
		})
	})
	t.Run("DropDeletesPoints", func(t *testing.T) {
		s, c := f.create(t, "recreate", standardSpec())
		f.upsert(t, c, standardPoints(32, s))
		if err := f.drv.DropCollection(f.ctx, s.Name); err != nil {
			t.Fatalf("DropCollection: %v", err)
		}
		f.mustCreate(t, s)
		c = f.drv.Collection(s)
		if n := f.count(t, c, nil); n != 0 {
			t.Errorf("re-created collection has %d points, want 0", n)
		}
		if got := f.allIDs(t, c, nil); len(got) != 0 {
			t.Errorf("re-created collection scrolls %s", idList(got))
		}
	})
	t.Run("Isolated", func(t *testing.T) {
		sa, ca := f.create(t, "isola", standardSpec())
		sb, cb := f.create(t, "isolb", standardSpec())
		pa, pb := standardPoints(33, sa), standardPoints(34, sb)
		f.upsert(t, ca, pa[:20])
		f.upsert(t, cb, pb[:7])
		if err := cb.Delete(f.ctx, &driver.Selector{IDs: ids(pa[:20])}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if n := f.count(t, ca, nil); n != 20 {
			t.Errorf("collection a: Count = %d, want 20", n)
		}
		// The two data sets share some IDs; only b loses them.
		want := filterPoints(sortedPoints(pb[:7]), driver.Not(driver.HasID(ids(pa[:20])...)))
		if got := f.allIDs(t, cb, nil); !sameIDs(got, ids(want)) {
			t.Errorf("collection b: got %s, want %s", idList(got), idList(ids(want)))
		}
	})
}

// checkCollectionOps calls every data operation of c once with valid
// arguments and hands each error to check.
func (f *fixture) checkCollectionOps(t *testing.T, c driver.Collection, spec *driver.CollectionSpec, check func(what string, err error)) {
	f.checkCollectionOpsCtx(t, f.ctx, c, spec, check)
}

func (f *fixture) checkCollectionOpsCtx(t *testing.T, ctx context.Context, c driver.Collection, spec *driver.CollectionSpec, check func(what string, err error)) {
	t.Helper()
	if c == nil {
		t.Fatal("Collection returned nil")
	}
	pts := standardPoints(35, spec)[:3]
	vs := spec.Vectors[0]
	check("Upsert", c.Upsert(ctx, clonePoints(pts)))
	_, err := c.Search(ctx, &driver.Query{Vector: pts[0].Vectors[vs.Name], VectorName: vs.Name, Limit: 3})
	check("Search", err)
	_, err = c.Read(ctx, &driver.ReadRequest{Limit: 10})
	check("Read (scroll)", err)
	_, err = c.Read(ctx, &driver.ReadRequest{IDs: ids(pts)})
	check("Read (IDs)", err)
	_, err = c.Count(ctx, nil)
	check("Count", err)
	check("Delete", c.Delete(ctx, &driver.Selector{IDs: ids(pts)}))
	if pu, ok := c.(driver.PayloadUpdater); ok {
		check("UpdatePayload", pu.UpdatePayload(ctx, &driver.Selector{IDs: ids(pts)}, map[string]any{"note": "x"}, nil))
	}
}
