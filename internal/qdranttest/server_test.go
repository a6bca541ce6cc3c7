package qdranttest

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func newClient(t *testing.T, opts *Options) *qdrant.Client {
	t.Helper()
	s := Start(t, opts)
	c, err := qdrant.NewClient(&qdrant.Config{Host: s.Host(), Port: s.Port(), PoolSize: 1, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("%s: got %v, want code %s", what, err, code)
	}
}

// fixture creates collection "c" with vector "v" (dim 2) and the points.
func fixture(t *testing.T, c *qdrant.Client, dist qdrant.Distance, pts ...*qdrant.PointStruct) {
	t.Helper()
	ctx := t.Context()
	err := c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig:  qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"v": {Size: 2, Distance: dist}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) > 0 {
		if _, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: pts}); err != nil {
			t.Fatal(err)
		}
	}
}

func pt(id uint64, x, y float32, payload map[string]any) *qdrant.PointStruct {
	return &qdrant.PointStruct{
		Id:      qdrant.NewIDNum(id),
		Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"v": qdrant.NewVectorDense([]float32{x, y})}),
		Payload: qdrant.NewValueMap(payload),
	}
}

func idNums(t *testing.T, ids []*qdrant.PointId) []uint64 {
	t.Helper()
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = id.GetNum()
	}
	return out
}

// TestFilterSemantics checks the places where Qdrant's filter semantics
// differ from vecguard's, against one payload per case.
func TestFilterSemantics(t *testing.T) {
	c := newClient(t, nil)
	fixture(t, c, qdrant.Distance_Dot,
		pt(1, 1, 0, map[string]any{"k": "a", "n": 3, "f": 3.0, "b": true}),
		pt(2, 1, 0, map[string]any{"k": nil, "n": nil}),                      // explicit nulls
		pt(3, 1, 0, map[string]any{}),                                        // absent
		pt(4, 1, 0, map[string]any{"k": []any{}, "n": []any{int64(3), "x"}}), // empty list; mixed list
		pt(5, 1, 0, map[string]any{"k": []any{"a", "b"}, "o": map[string]any{"p": "q"}}),
		pt(6, 1, 0, map[string]any{"k": "z", "arr": []any{map[string]any{"p": int64(1)}, map[string]any{"p": int64(2)}}}),
	)
	f := func(conds ...*qdrant.Condition) *qdrant.Filter { return &qdrant.Filter{Must: conds} }
	cases := []struct {
		name string
		flt  *qdrant.Filter
		want []uint64
	}{
		{"NoFilter", nil, []uint64{1, 2, 3, 4, 5, 6}},
		{"EmptyFilter", &qdrant.Filter{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"EmptyShould", &qdrant.Filter{Should: []*qdrant.Condition{}}, []uint64{1, 2, 3, 4, 5, 6}},
		{"EmptyCondition", f(&qdrant.Condition{}), []uint64{1, 2, 3, 4, 5, 6}},
		{"MustNotEmptyFilter", &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewFilterAsCondition(&qdrant.Filter{})}}, nil},
		{"Keyword", f(qdrant.NewMatchKeyword("k", "a")), []uint64{1, 5}},
		{"NotKeyword", &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewMatchKeyword("k", "a")}}, []uint64{2, 3, 4, 6}},
		{"IntegerSkipsDouble", f(qdrant.NewMatchInt("f", 3)), nil},
		{"Integer", f(qdrant.NewMatchInt("n", 3)), []uint64{1, 4}},
		{"RangeCoversBoth", f(qdrant.NewRange("f", &qdrant.Range{Gte: qdrant.PtrOf(3.0), Lte: qdrant.PtrOf(3.0)})), []uint64{1}},
		{"RangeOnInt", f(qdrant.NewRange("n", &qdrant.Range{Gt: qdrant.PtrOf(2.5)})), []uint64{1, 4}},
		{"Bool", f(qdrant.NewMatchBool("b", true)), []uint64{1}},
		{"Any", f(qdrant.NewMatchKeywords("k", "b", "z")), []uint64{5, 6}},
		{"ExceptSkipsAbsentAndNull", f(qdrant.NewMatchExcept("k", "a")), []uint64{5, 6}},
		{"IsEmpty", f(qdrant.NewIsEmpty("k")), []uint64{2, 3, 4}},
		{"IsNull", f(qdrant.NewIsNull("k")), []uint64{2}},
		{"NotIsEmpty", &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewIsEmpty("k")}}, []uint64{1, 5, 6}},
		{"HasID", f(qdrant.NewHasID(qdrant.NewIDNum(2), qdrant.NewIDNum(5), qdrant.NewIDNum(99))), []uint64{2, 5}},
		{"EmptyHasID", f(qdrant.NewHasID()), nil},
		{"Should", &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatchKeyword("k", "z"), qdrant.NewMatchBool("b", true)}}, []uint64{1, 6}},
		{"MinShould", &qdrant.Filter{MinShould: &qdrant.MinShould{MinCount: 2, Conditions: []*qdrant.Condition{
			qdrant.NewMatchKeyword("k", "a"), qdrant.NewMatchBool("b", true), qdrant.NewMatchInt("n", 3)}}}, []uint64{1}},
		{"NestedKey", f(qdrant.NewMatchKeyword("o.p", "q")), []uint64{5}},
		{"ArrayPath", f(qdrant.NewMatchInt("arr[].p", 2)), []uint64{6}},
		{"Nested", f(qdrant.NewNestedFilter("arr", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("p", 1)}})), []uint64{6}},
		{"ValuesCount", f(qdrant.NewValuesCount("n", &qdrant.ValuesCount{Gte: qdrant.PtrOf(uint64(2))})), []uint64{4}},
		{"ValuesCountAbsent", f(qdrant.NewValuesCount("n", &qdrant.ValuesCount{Lt: qdrant.PtrOf(uint64(1))})), []uint64{2, 3, 5, 6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Scroll(t.Context(), &qdrant.ScrollPoints{CollectionName: "c", Filter: tc.flt, Limit: qdrant.PtrOf(uint32(100))})
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, p := range res {
				got = append(got, p.GetId().GetNum())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			n, err := c.Count(t.Context(), &qdrant.CountPoints{CollectionName: "c", Filter: tc.flt})
			if err != nil {
				t.Fatal(err)
			}
			if n != uint64(len(tc.want)) {
				t.Errorf("Count = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestScrollOffsets(t *testing.T) {
	c := newClient(t, nil)
	u1, u2 := "00000000-0000-0000-0000-000000000001", "ffffffff-0000-0000-0000-000000000000"
	var pts []*qdrant.PointStruct
	for _, id := range []uint64{5, 1, 3, 10, 7} {
		pts = append(pts, pt(id, 1, 0, nil))
	}
	for _, u := range []string{u2, u1} {
		p := pt(0, 1, 0, nil)
		p.Id = qdrant.NewIDUUID(u)
		pts = append(pts, p)
	}
	fixture(t, c, qdrant.Distance_Dot, pts...)
	ctx := t.Context()
	var got []string
	var offset *qdrant.PointId
	for pages := 0; pages < 10; pages++ {
		res, next, err := c.ScrollAndOffset(ctx, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(3)), Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res {
			got = append(got, p.GetId().String())
		}
		if next == nil {
			break
		}
		if len(res) != 3 {
			t.Fatalf("page of %d points has a next offset", len(res))
		}
		offset = next
	}
	want := []string{"num:1", "num:3", "num:5", "num:7", "num:10", `uuid:"` + u1 + `"`, `uuid:"` + u2 + `"`}
	if !slices.Equal(got, want) {
		t.Errorf("scroll order %v, want %v", got, want)
	}
	// The offset is inclusive, also when it is not a stored ID.
	res, err := c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "c", Offset: qdrant.NewIDNum(4), Limit: qdrant.PtrOf(uint32(2))})
	if err != nil {
		t.Fatal(err)
	}
	if g := idNums(t, []*qdrant.PointId{res[0].GetId(), res[1].GetId()}); !slices.Equal(g, []uint64{5, 7}) {
		t.Errorf("scroll from 4: %v, want [5 7]", g)
	}
	_, err = c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(0))})
	wantCode(t, "scroll with limit 0", err, codes.InvalidArgument)
}

func TestSearch(t *testing.T) {
	c := newClient(t, nil)
	fixture(t, c, qdrant.Distance_Cosine,
		pt(1, 3, 4, nil), pt(2, 1, 0, map[string]any{"k": "a"}), pt(3, 0, 1, nil), pt(4, 2, 0, map[string]any{"k": "a"}))
	ctx := t.Context()
	got, err := c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("v"),
		WithVectors: qdrant.NewWithVectors(true), WithPayload: qdrant.NewWithPayload(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	// 2 and 4 tie at 1.0: the smaller ID first.
	if ids := []uint64{got[0].GetId().GetNum(), got[1].GetId().GetNum(), got[2].GetId().GetNum(), got[3].GetId().GetNum()}; !slices.Equal(ids, []uint64{2, 4, 1, 3}) {
		t.Errorf("order %v, want [2 4 1 3]", ids)
	}
	v := got[2].GetVectors().GetVectors().GetVectors()["v"].GetDense().GetData()
	if math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Errorf("stored cosine vector %v, want it normalized to [0.6 0.8]", v)
	}
	if s := got[2].GetScore(); math.Abs(float64(s)-0.6) > 1e-6 {
		t.Errorf("score %v, want 0.6", s)
	}
	// The threshold is strict.
	got, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("v"), ScoreThreshold: qdrant.PtrOf(float32(0.6))})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("threshold 0.6 kept %d points, want 2 (a score equal to it is dropped)", len(got))
	}
	// Recommend excludes its examples.
	got, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Using: qdrant.PtrOf("v"), Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeyword("k", "a")}},
		Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(2))}})})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetId().GetNum() != 4 {
		t.Errorf("recommend by 2 among k=a: %v, want [4]", got)
	}
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0, 0}), Using: qdrant.PtrOf("v")})
	wantCode(t, "query with a wrong dimension", err, codes.InvalidArgument)
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("nope")})
	wantCode(t, "query of an unknown vector", err, codes.InvalidArgument)
}

func TestPayloadUpdates(t *testing.T) {
	c := newClient(t, nil)
	fixture(t, c, qdrant.Distance_Dot, pt(1, 1, 0, map[string]any{"a": 1, "b": "x", "o": map[string]any{"p": 1, "q": 2}}))
	ctx := t.Context()
	_, err := c.SetPayload(ctx, &qdrant.SetPayloadPoints{CollectionName: "c", Payload: qdrant.NewValueMap(map[string]any{"a": 2}),
		PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(2))})
	wantCode(t, "set payload naming a missing point", err, codes.NotFound)
	_, err = c.SetPayload(ctx, &qdrant.SetPayloadPoints{CollectionName: "c", Payload: qdrant.NewValueMap(map[string]any{"a": nil, "c": true}),
		PointsSelector: qdrant.NewPointsSelectorFilter(&qdrant.Filter{})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeletePayload(ctx, &qdrant.DeletePayloadPoints{CollectionName: "c", Keys: []string{"o.p", "nosuch"},
		PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}})
	if err != nil {
		t.Fatal(err)
	}
	p := got[0].GetPayload()
	if _, ok := p["a"]; ok {
		t.Errorf("setting a key to null kept it: %v", p)
	}
	if !p["c"].GetBoolValue() || p["b"].GetStringValue() != "x" {
		t.Errorf("set payload did not merge: %v", p)
	}
	o := p["o"].GetStructValue().GetFields()
	if _, ok := o["p"]; ok || o["q"].GetIntegerValue() != 2 {
		t.Errorf("delete payload o.p: %v", o)
	}
}

func TestCollectionErrors(t *testing.T) {
	c := newClient(t, nil)
	fixture(t, c, qdrant.Distance_Dot)
	ctx := t.Context()
	err := c.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	wantCode(t, "create an existing collection", err, codes.AlreadyExists)
	_, err = c.GetCollectionInfo(ctx, "missing")
	wantCode(t, "get a missing collection", err, codes.NotFound)
	_, err = c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "missing", Points: []*qdrant.PointStruct{pt(1, 1, 0, nil)}})
	wantCode(t, "upsert into a missing collection", err, codes.NotFound)
	_, err = c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{{Id: qdrant.NewIDUUID("not-a-uuid")}}})
	wantCode(t, "upsert with a malformed UUID", err, codes.InvalidArgument)
	res, err := c.GetCollectionsClient().Delete(ctx, &qdrant.DeleteCollection{CollectionName: "missing"})
	if err != nil || res.GetResult() {
		t.Errorf("delete a missing collection: result %v, error %v; want false and no error", res.GetResult(), err)
	}
	_, err = c.GetPointsClient().Discover(ctx, &qdrant.DiscoverPoints{CollectionName: "c"})
	wantCode(t, "an unimplemented RPC", err, codes.Unimplemented)
	if _, err := c.Facet(ctx, &qdrant.FacetCounts{CollectionName: "c", Key: "k"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("facet without an index: %v, want InvalidArgument", err)
	}
}

func TestFacet(t *testing.T) {
	c := newClient(t, nil)
	fixture(t, c, qdrant.Distance_Dot,
		pt(1, 1, 0, map[string]any{"k": "a"}), pt(2, 1, 0, map[string]any{"k": []any{"a", "b", "a"}}), pt(3, 1, 0, map[string]any{"k": "b"}), pt(4, 1, 0, map[string]any{"k": "c"}))
	ctx := t.Context()
	if _, err := c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "k", FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()}); err != nil {
		t.Fatal(err)
	}
	hits, err := c.Facet(ctx, &qdrant.FacetCounts{CollectionName: "c", Key: "k", Limit: qdrant.PtrOf(uint64(2))})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].GetValue().GetStringValue() != "a" || hits[0].GetCount() != 2 || hits[1].GetValue().GetStringValue() != "b" || hits[1].GetCount() != 2 {
		t.Errorf("facet: %v", hits)
	}
}

// TestInterceptor checks the fault-injection hook, with the trailer the
// go-client turns into a retry-after.
func TestInterceptor(t *testing.T) {
	c := newClient(t, &Options{UnaryInterceptor: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if info.FullMethod == "/qdrant.Points/Count" {
			_ = grpc.SetTrailer(ctx, metadata.Pairs("retry-after", "7"))
			return nil, status.Error(codes.ResourceExhausted, "Rate limiting exceeded")
		}
		return h(ctx, req)
	}})
	fixture(t, c, qdrant.Distance_Dot)
	_, err := c.Count(t.Context(), &qdrant.CountPoints{CollectionName: "c"})
	var rl *qdrant.QdrantResourceExhaustedError
	if !errors.As(err, &rl) || rl.RetryAfterS != 7 {
		t.Errorf("got %v, want a QdrantResourceExhaustedError with retry-after 7", err)
	}
}

func TestPathParsing(t *testing.T) {
	for _, s := range []string{"a", "a.b", "a[]", "a[].b", "a[0].b", `"a.b"`, `"a.b".c`} {
		if _, err := parsePath(s); err != nil {
			t.Errorf("parsePath(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", ".", "a.", "a..b", "a[", "a[x]", `"a`, "a]b"} {
		if _, err := parsePath(s); err == nil {
			t.Errorf("parsePath(%q): no error", s)
		}
	}
}

// TestIndexedSearch checks that searches through a payload index find what
// a full scan finds, also after the indexed values change.
func TestIndexedSearch(t *testing.T) {
	c := newClient(t, nil)
	ctx := t.Context()
	var pts []*qdrant.PointStruct
	for i := uint64(1); i <= 40; i++ {
		pts = append(pts, pt(i, float32(i), 1, map[string]any{"k": []string{"a", "b", "c"}[i%3], "n": int64(i % 4)}))
	}
	fixture(t, c, qdrant.Distance_Dot, pts...)
	for _, ix := range []struct {
		key string
		typ qdrant.FieldType
	}{{"k", qdrant.FieldType_FieldTypeKeyword}, {"n", qdrant.FieldType_FieldTypeInteger}} {
		if _, err := c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: ix.key, FieldType: ix.typ.Enum()}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, flt := range []*qdrant.Filter{
			{Must: []*qdrant.Condition{qdrant.NewMatchKeyword("k", "a")}},
			{Must: []*qdrant.Condition{qdrant.NewMatchKeywords("k", "a", "z"), qdrant.NewMatchInt("n", 1)}},
			{Must: []*qdrant.Condition{qdrant.NewFilterAsCondition(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInts("n", 0, 2)}})}},
		} {
			res, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("v"), Filter: flt, Limit: qdrant.PtrOf(uint64(100))})
			if err != nil {
				t.Fatal(err)
			}
			scan, err := c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "c", Filter: flt, Limit: qdrant.PtrOf(uint32(100))})
			if err != nil {
				t.Fatal(err)
			}
			var got, want []uint64
			for _, p := range res {
				got = append(got, p.GetId().GetNum())
			}
			for _, p := range scan {
				want = append(want, p.GetId().GetNum())
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: indexed search %v, scan %v", when, got, want)
			}
		}
	}
	check("after upsert")
	if _, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{pt(3, 1, 1, map[string]any{"k": "b"}), pt(41, 1, 1, map[string]any{"k": []any{"a", "c"}, "n": int64(1)})}}); err != nil {
		t.Fatal(err)
	}
	check("after overwrite")
	if _, err := c.SetPayload(ctx, &qdrant.SetPayloadPoints{CollectionName: "c", Payload: qdrant.NewValueMap(map[string]any{"k": "a", "n": nil}),
		PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(2))}); err != nil {
		t.Fatal(err)
	}
	check("after set payload")
	if _, err := c.Delete(ctx, &qdrant.DeletePoints{CollectionName: "c", Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("n", 2)}})}); err != nil {
		t.Fatal(err)
	}
	check("after delete")
}
