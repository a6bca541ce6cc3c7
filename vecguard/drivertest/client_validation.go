package drivertest

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// secret is a value the invalid requests carry; no error text may repeat it.
const secret = "s3cr3t-v4lue"

// invalidCase is a request the client must refuse with InvalidArgument
// before anything reaches the database.
type invalidCase struct {
	name string
	call func(ctx context.Context, c *vecguard.Client) error
}

// invalidCases returns the invalid requests on collection s whose stored
// points include pts.
func invalidCases(s *driver.CollectionSpec, pts []driver.Point) []invalidCase {
	coll := s.Name
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	good := func(id driver.PointID) driver.Point {
		return driver.Point{
			ID:      id,
			Vectors: map[string][]float32{"v": {0.5, 0.25, 0.125, 1}, "w": {1, 2, 3}},
			Payload: map[string]any{"color": "red", "note": secret},
		}
	}
	with := func(id driver.PointID, change func(p *driver.Point)) []driver.Point {
		p := good(id)
		change(&p)
		return []driver.Point{p}
	}
	fresh := driver.NumID(7001)
	upsert := func(name string, pts []driver.Point) invalidCase {
		return invalidCase{"Upsert/" + name, func(ctx context.Context, c *vecguard.Client) error { return c.Upsert(ctx, coll, pts) }}
	}
	deep := map[string]any{"leaf": secret}
	for range driver.MaxPayloadDepth + 1 {
		deep = map[string]any{"d": deep}
	}
	oversized := make([]driver.Point, driver.MaxBatch+1)
	for i := range oversized {
		oversized[i] = good(driver.NumID(uint64(10000 + i)))
	}
	q := []float32{0.5, 0.25, 0.125, 1}
	search := func(name string, req vecguard.SearchRequest) invalidCase {
		if req.Vector == nil {
			req.Vector = q
		}
		return invalidCase{"Search/" + name, func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Search(ctx, coll, req)
			return err
		}}
	}
	deepFilter := driver.Eq("color", driver.String(secret))
	for range driver.MaxFilterDepth + 2 {
		deepFilter = driver.Not(deepFilter)
	}
	manyValues := make([]driver.Value, driver.MaxFilterValues+1)
	for i := range manyValues {
		manyValues[i] = driver.String(secret)
	}
	tooManyIDs := make([]driver.PointID, driver.MaxBatch+1)
	for i := range tooManyIDs {
		tooManyIDs[i] = driver.NumID(uint64(i + 1))
	}
	nan64 := math.NaN()
	filters := []struct {
		name string
		flt  *driver.Filter
	}{
		{"Undeclared", driver.Eq("undeclared", driver.String(secret))},
		{"NotFilterable", driver.Eq("note", driver.String(secret))},
		{"Reserved", driver.Eq("_vg_kv", driver.Int(1))},
		{"WrongKind", driver.Eq("size", driver.String(secret))},
		{"FloatOnInt", driver.Eq("size", driver.Float(1.5))},
		{"RangeOnString", driver.Gt("color", driver.String(secret))},
		{"RangeNoBound", driver.Range("size", driver.Bound{}, driver.Bound{})},
		{"RangeNaN", driver.Gt("price", driver.Float(nan64))},
		{"TooDeep", deepFilter},
		{"TooManyValues", driver.In("color", manyValues...)},
		{"EmptyID", driver.HasID(driver.PointID{})},
		{"NotArity", &driver.Filter{Op: driver.OpNot}},
		{"UnknownOp", &driver.Filter{Op: 99, Field: "color"}},
		{"NilChild", &driver.Filter{Op: driver.OpAnd, Children: []*driver.Filter{nil}}},
	}
	cases := []invalidCase{
		upsert("Empty", []driver.Point{}),
		upsert("Nil", nil),
		upsert("ZeroID", with(driver.PointID{}, func(*driver.Point) {})),
		upsert("DuplicateNumID", append(with(fresh, func(*driver.Point) {}), good(fresh))),
		upsert("DuplicateUUID", append(with(pts[3].ID, func(*driver.Point) {}), good(pts[3].ID))),
		upsert("WrongDim", with(fresh, func(p *driver.Point) { p.Vectors["v"] = []float32{1, 2, 3} })),
		upsert("WrongDimSecond", with(fresh, func(p *driver.Point) { p.Vectors["w"] = []float32{1, 2, 3, 4} })),
		upsert("EmptyVector", with(fresh, func(p *driver.Point) { p.Vectors["v"] = nil })),
		upsert("MissingVector", with(fresh, func(p *driver.Point) { delete(p.Vectors, "w") })),
		upsert("NoVectors", with(fresh, func(p *driver.Point) { p.Vectors = nil })),
		upsert("UndeclaredVector", with(fresh, func(p *driver.Point) { delete(p.Vectors, "w"); p.Vectors["x"] = []float32{1, 2, 3} })),
		upsert("DefaultVectorName", with(fresh, func(p *driver.Point) { delete(p.Vectors, "v"); p.Vectors[""] = []float32{1, 2, 3, 4} })),
		upsert("NaN", with(fresh, func(p *driver.Point) { p.Vectors["v"][2] = nan })),
		upsert("Inf", with(fresh, func(p *driver.Point) { p.Vectors["w"][0] = inf })),
		upsert("NegInf", with(fresh, func(p *driver.Point) { p.Vectors["w"][1] = -inf })),
		upsert("PayloadNaN", with(fresh, func(p *driver.Point) { p.Payload["price"] = nan64 })),
		upsert("PayloadInfNested", with(fresh, func(p *driver.Point) { p.Payload["x"] = []any{math.Inf(-1)} })),
		upsert("PayloadType", with(fresh, func(p *driver.Point) { p.Payload["x"] = struct{ S string }{secret} })),
		upsert("PayloadReserved", with(fresh, func(p *driver.Point) { p.Payload["_vg_kv"] = int64(1) })),
		upsert("PayloadReservedPrefixOnly", with(fresh, func(p *driver.Point) { p.Payload["_vg"] = secret })),
		upsert("PayloadEmptyKey", with(fresh, func(p *driver.Point) { p.Payload[""] = secret })),
		upsert("PayloadTooDeep", with(fresh, func(p *driver.Point) { p.Payload["deep"] = deep })),
		upsert("PayloadUintOverflow", with(fresh, func(p *driver.Point) { p.Payload["x"] = uint64(math.MaxUint64) })),
		upsert("FieldKindString", with(fresh, func(p *driver.Point) { p.Payload["color"] = int64(1) })),
		upsert("FieldKindInt", with(fresh, func(p *driver.Point) { p.Payload["size"] = secret })),
		upsert("FieldKindIntByFloat", with(fresh, func(p *driver.Point) { p.Payload["size"] = 1.5 })),
		upsert("FieldKindFloat", with(fresh, func(p *driver.Point) { p.Payload["price"] = true })),
		upsert("FieldKindList", with(fresh, func(p *driver.Point) { p.Payload["color"] = []any{"red"} })),
		upsert("Oversized", oversized),
		// One bad point refuses the whole batch.
		upsert("BadLast", append([]driver.Point{good(fresh), good(driver.NumID(7002))}, with(driver.NumID(7003), func(p *driver.Point) { p.Vectors["v"] = p.Vectors["v"][:2] })...)),

		search("WrongDim", vecguard.SearchRequest{Vector: []float32{1, 2, 3}}),
		search("NaN", vecguard.SearchRequest{Vector: []float32{1, nan, 0, 0}}),
		search("Inf", vecguard.SearchRequest{Vector: []float32{1, inf, 0, 0}}),
		search("WrongDimNamed", vecguard.SearchRequest{VectorName: "w"}),
		search("UnknownVector", vecguard.SearchRequest{VectorName: "nosuch"}),
		search("LimitTooLarge", vecguard.SearchRequest{Limit: driver.MaxLimit + 1}),
		search("NegativeLimit", vecguard.SearchRequest{Limit: -1}),
		search("NegativeOffset", vecguard.SearchRequest{Offset: -1}),
		search("LimitPlusOffset", vecguard.SearchRequest{Limit: driver.MaxLimit, Offset: 1}),
		search("ThresholdNaN", vecguard.SearchRequest{ScoreThreshold: &nan}),
		search("ThresholdInf", vecguard.SearchRequest{ScoreThreshold: &inf}),
		search("ReservedPayloadField", vecguard.SearchRequest{PayloadFields: []string{"color", "_vg_kv"}}),
		search("BadPayloadField", vecguard.SearchRequest{PayloadFields: []string{"a-b"}}),
		search("EmptyPayloadField", vecguard.SearchRequest{PayloadFields: []string{""}}),

		{"Recommend/NoPositive", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Negative: ids(pts[:1])})
			return err
		}},
		{"Recommend/DuplicateExample", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: ids(pts[:1]), Negative: ids(pts[:1])})
			return err
		}},
		{"Recommend/ZeroID", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: []driver.PointID{{}}})
			return err
		}},
		{"Recommend/UnknownVector", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: ids(pts[:1]), VectorName: "nosuch"})
			return err
		}},
		{"Recommend/NegativeLimit", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: ids(pts[:1]), Limit: -3})
			return err
		}},

		{"Get/NoIDs", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, nil, vecguard.ReadOptions{})
			return err
		}},
		{"Get/EmptyIDs", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, []driver.PointID{}, vecguard.ReadOptions{})
			return err
		}},
		{"Get/ZeroID", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, []driver.PointID{pts[0].ID, {}}, vecguard.ReadOptions{})
			return err
		}},
		{"Get/DuplicateIDs", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, []driver.PointID{pts[0].ID, pts[1].ID, pts[0].ID}, vecguard.ReadOptions{})
			return err
		}},
		{"Get/TooManyIDs", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, tooManyIDs, vecguard.ReadOptions{})
			return err
		}},
		{"Get/ReservedPayloadField", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Get(ctx, coll, ids(pts[:1]), vecguard.ReadOptions{PayloadFields: []string{"_vg_blob"}})
			return err
		}},
		{"Scroll/LimitTooLarge", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Scroll(ctx, coll, vecguard.ScrollRequest{Limit: driver.MaxLimit + 1})
			return err
		}},
		{"Scroll/NegativeLimit", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Scroll(ctx, coll, vecguard.ScrollRequest{Limit: -1})
			return err
		}},
		{"Delete/NoIDs", func(ctx context.Context, c *vecguard.Client) error { return c.Delete(ctx, coll, nil) }},
		{"Delete/ZeroID", func(ctx context.Context, c *vecguard.Client) error {
			return c.Delete(ctx, coll, []driver.PointID{pts[0].ID, {}})
		}},
		{"Delete/DuplicateIDs", func(ctx context.Context, c *vecguard.Client) error {
			return c.Delete(ctx, coll, []driver.PointID{pts[0].ID, pts[0].ID})
		}},
		{"Delete/TooManyIDs", func(ctx context.Context, c *vecguard.Client) error { return c.Delete(ctx, coll, tooManyIDs) }},
		{"DeleteByFilter/Nil", func(ctx context.Context, c *vecguard.Client) error { return c.DeleteByFilter(ctx, coll, nil) }},
		{"UpdatePayload/NoSelection", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{Set: map[string]any{"note": secret}})
		}},
		{"UpdatePayload/EmptyIDs", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: []driver.PointID{}, Set: map[string]any{"note": secret}})
		}},
		{"UpdatePayload/NoChange", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2])})
		}},
		{"UpdatePayload/ReservedSet", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2]), Set: map[string]any{"_vg_kv": int64(2)}})
		}},
		{"UpdatePayload/ReservedUnset", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2]), Unset: []string{"_vg_kv"}})
		}},
		{"UpdatePayload/EmptyUnset", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2]), Unset: []string{""}})
		}},
		{"UpdatePayload/WrongKind", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: ids(pts[:2]), Set: map[string]any{"size": secret}})
		}},
		{"UpdatePayload/NaN", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{Filter: driver.And(), Set: map[string]any{"price": nan64}})
		}},
		{"UpdatePayload/DuplicateIDs", func(ctx context.Context, c *vecguard.Client) error {
			return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{IDs: []driver.PointID{pts[1].ID, pts[1].ID}, Set: map[string]any{"note": "x"}})
		}},
		{"BadCollectionName", func(ctx context.Context, c *vecguard.Client) error {
			_, err := c.Count(ctx, "no such/collection", nil)
			return err
		}},
	}
	// Every filter-taking operation refuses every invalid filter.
	for _, fc := range filters {
		flt := fc.flt
		cases = append(cases,
			search("Filter/"+fc.name, vecguard.SearchRequest{Filter: flt}),
			invalidCase{"Scroll/Filter/" + fc.name, func(ctx context.Context, c *vecguard.Client) error {
				_, err := c.Scroll(ctx, coll, vecguard.ScrollRequest{Filter: flt})
				return err
			}},
			invalidCase{"Count/Filter/" + fc.name, func(ctx context.Context, c *vecguard.Client) error {
				_, err := c.Count(ctx, coll, flt)
				return err
			}},
			invalidCase{"DeleteByFilter/Filter/" + fc.name, func(ctx context.Context, c *vecguard.Client) error {
				return c.DeleteByFilter(ctx, coll, flt)
			}},
			invalidCase{"UpdatePayload/Filter/" + fc.name, func(ctx context.Context, c *vecguard.Client) error {
				return c.UpdatePayload(ctx, coll, vecguard.PayloadUpdate{Filter: flt, Set: map[string]any{"note": "x"}})
			}},
			invalidCase{"Recommend/Filter/" + fc.name, func(ctx context.Context, c *vecguard.Client) error {
				_, err := c.Recommend(ctx, coll, vecguard.RecommendRequest{Positive: ids(pts[:1]), Filter: flt})
				return err
			}},
		)
	}
	return cases
}

// invalidSpecs are collection specs CreateCollection refuses.
func invalidSpecs() []struct {
	name string
	spec driver.CollectionSpec
} {
	v := []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}}
	return []struct {
		name string
		spec driver.CollectionSpec
	}{
		{"NoVectors", driver.CollectionSpec{}},
		{"ZeroDim", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: 0, Distance: driver.Cosine}}}},
		{"HugeDim", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: driver.MaxDim + 1, Distance: driver.Cosine}}}},
		{"NoDistance", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "v", Dim: 4}}}},
		{"DuplicateVector", driver.CollectionSpec{Vectors: append(v, v[0])}},
		{"ReservedVector", driver.CollectionSpec{Vectors: []driver.VectorSpec{{Name: "_vgv", Dim: 4, Distance: driver.Dot}}}},
		{"ReservedField", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "_vg_kv", Kind: driver.KindInt}}}},
		{"DuplicateField", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "a", Kind: driver.KindInt}, {Name: "a", Kind: driver.KindString}}}},
		{"BadFieldName", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "a-b", Kind: driver.KindInt}}}},
		{"NoFieldKind", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "a"}}}},
		{"TenantUndeclared", driver.CollectionSpec{Vectors: v, TenantField: "tenant"}},
		{"TenantNotString", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "tenant", Kind: driver.KindInt, Filterable: true}}, TenantField: "tenant"}},
		{"TenantNotFilterable", driver.CollectionSpec{Vectors: v, Fields: []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString}}, TenantField: "tenant"}},
	}
}

// testClientInvalidArgument checks that invalid requests are refused with
// InvalidArgument, change nothing and do not echo the values they carry.
func testClientInvalidArgument(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "invalid", clientSpec(false))
	pts := clientPoints(64, s, 1, 12)
	cf.upsertAs(t, cf.as(subjAdmin, ""), s.Name, pts)
	before := cf.snapshot(t, c)
	ctx := cf.as(subjAdmin, "")
	for _, tc := range invalidCases(s, pts) {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(ctx, cf.c)
			wantErr(t, tc.name, err, vecguard.ErrInvalidArgument)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats a value of the request: %v", err)
			}
			cf.unchanged(t, s, c, before)
		})
	}
	for _, tc := range invalidSpecs() {
		t.Run("CreateCollection/"+tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Name = uniqueName("badspec")
			err := cf.c.CreateCollection(ctx, spec)
			wantErr(t, "CreateCollection", err, vecguard.ErrInvalidArgument)
			cf.noCollection(t, spec.Name)
		})
	}
	t.Run("CreateCollection/BadName", func(t *testing.T) {
		for _, name := range []string{"", "1abc", "a b", "a/b", strings.Repeat("a", driver.MaxNameLen+1), "_vg"} {
			spec := clientSpec(false)
			spec.Name = name
			wantErr(t, "CreateCollection("+name+")", cf.c.CreateCollection(ctx, *spec), vecguard.ErrInvalidArgument)
		}
	})
}
