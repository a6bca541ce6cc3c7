package milvustest

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

func connect(t *testing.T, opts *Options) (*milvusclient.Client, *Server) {
	t.Helper()
	srv := Start(t, opts)
	c, err := milvusclient.New(t.Context(), &milvusclient.ClientConfig{Address: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, srv
}

// docsSchema: an Int64 key, a vector, a nullable VarChar, a nullable
// Int64, a JSON field and a VarChar array.
func docsSchema(name string) *entity.Schema {
	return entity.NewSchema().WithName(name).
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(2)).
		WithField(entity.NewField().WithName("color").WithDataType(entity.FieldTypeVarChar).WithMaxLength(16).WithNullable(true)).
		WithField(entity.NewField().WithName("n").WithDataType(entity.FieldTypeInt64).WithNullable(true)).
		WithField(entity.NewField().WithName("meta").WithDataType(entity.FieldTypeJSON).WithNullable(true)).
		WithField(entity.NewField().WithName("tags").WithDataType(entity.FieldTypeArray).WithElementType(entity.FieldTypeVarChar).WithMaxCapacity(8).WithMaxLength(8).WithNullable(true))
}

func wantCode(t *testing.T, what string, err error, code int32) {
	t.Helper()
	if got := merr.Code(err); err == nil || got != code {
		t.Errorf("%s: got %v (code %d), want code %d", what, err, got, code)
	}
}

// setup creates and fills the docs collection:
//
//	id  color  n     meta                 tags   vec
//	1   green  2     {"k":[3]}            [c]    (0,1)
//	2   red    null  null                 null   (3,4)
//	3   blue   5     null                 null   (0.5,0.5)
//	4   null   4     null                 null   (-1,0)
//	5   null   3     {"s":"y"}            null   (1,1)
//	6   red    1     {"k":[1,2],"s":"x"}  [a,b]  (1,0)
func setup(t *testing.T, c *milvusclient.Client, metric entity.MetricType, load bool) {
	t.Helper()
	ctx := t.Context()
	if err := c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("docs", docsSchema("docs"))); err != nil {
		t.Fatal(err)
	}
	colors, err := column.NewNullableColumnVarChar("color", []string{"red", "green", "red", "blue"}, []bool{true, true, false, true, false, true})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := column.NewNullableColumnInt64("n", []int64{1, 2, 3, 4, 5}, []bool{true, true, true, false, true, true})
	if err != nil {
		t.Fatal(err)
	}
	metas, err := column.NewNullableColumnJSONBytes("meta", [][]byte{[]byte(`{"k":[1,2],"s":"x"}`), []byte(`{"k":[3]}`), []byte(`{"s":"y"}`)}, []bool{true, true, true, false, false, false})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := column.NewNullableColumnVarCharArray("tags", [][]string{{"a", "b"}, {"c"}}, []bool{true, true, false, false, false, false})
	if err != nil {
		t.Fatal(err)
	}
	opt := milvusclient.NewColumnBasedInsertOption("docs",
		column.NewColumnInt64("id", []int64{6, 1, 5, 2, 4, 3}),
		column.NewColumnFloatVector("vec", 2, [][]float32{{1, 0}, {0, 1}, {1, 1}, {3, 4}, {-1, 0}, {0.5, 0.5}}),
		colors, ns, metas, tags)
	if _, err := c.Insert(ctx, opt); err != nil {
		t.Fatal(err)
	}
	// A search before an index and a load answers Milvus's errors.
	_, err = c.Search(ctx, milvusclient.NewSearchOption("docs", 3, []entity.Vector{entity.FloatVector{1, 0}}))
	wantCode(t, "search before load", err, merr.Code(merr.ErrCollectionNotLoaded))
	_, err = c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption("docs"))
	wantCode(t, "load before index", err, merr.Code(merr.ErrIndexNotFound))
	if _, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption("docs", "vec", index.NewFlatIndex(metric))); err != nil {
		t.Fatal(err)
	}
	if load {
		if _, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption("docs")); err != nil {
			t.Fatal(err)
		}
	}
}

func queryIDs(t *testing.T, c *milvusclient.Client, expr string, params map[string]any) []int64 {
	t.Helper()
	opt := milvusclient.NewQueryOption("docs").WithFilter(expr).WithOutputFields("id")
	for k, v := range params {
		opt.WithTemplateParam(k, v)
	}
	rs, err := c.Query(t.Context(), opt)
	if err != nil {
		t.Fatalf("query %q: %v", expr, err)
	}
	col := rs.GetColumn("id")
	var out []int64
	for i := range col.Len() {
		n, _ := col.GetAsInt64(i)
		out = append(out, n)
	}
	return out
}

func TestExpressions(t *testing.T) {
	c, _ := connect(t, nil)
	setup(t, c, entity.L2, true)
	cases := []struct {
		expr   string
		params map[string]any
		want   []int64
	}{
		{`color == "red"`, nil, []int64{2, 6}},
		{`color != "red"`, nil, []int64{1, 3}}, // nulls (4, 5) do not match
		{`not (color == "red")`, nil, []int64{1, 3}},
		{`color is null or color != "red"`, nil, []int64{1, 3, 4, 5}},
		{`color is null`, nil, []int64{4, 5}},
		{`color in {p}`, map[string]any{"p": []string{"green", "blue"}}, []int64{1, 3}},
		{`color not in ["green"]`, nil, []int64{2, 3, 6}},
		{`n > {p} and n <= 5`, map[string]any{"p": int64(2)}, []int64{3, 4, 5}},
		{`n >= 2.5`, nil, []int64{3, 4, 5}},
		{`id in [1, 2, 99]`, nil, []int64{1, 2}},
		{`id > 4 || color == 'green'`, nil, []int64{1, 5, 6}},
		{`color like "r%"`, nil, []int64{2, 6}},
		{`json_contains(meta["k"], 3)`, nil, []int64{1}},
		{`meta["s"] == "x"`, nil, []int64{6}},
		{`array_contains(tags, "b")`, nil, []int64{6}},
		{`not (meta is null)`, nil, []int64{1, 5, 6}},
		{`not (color == "red" and n == 1)`, nil, []int64{1, 2, 3, 4, 5}}, // an and with one valid side is valid
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			if got := queryIDs(t, c, tc.expr, tc.params); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`color == 1`, `nosuch == 1`, `color ==`, `n in {p}`, `vec == 1`} {
		_, err := c.Query(t.Context(), milvusclient.NewQueryOption("docs").WithFilter(bad).WithOutputFields("id"))
		wantCode(t, bad, err, merr.Code(merr.ErrParameterInvalid))
	}
}

func TestQueryOrderAndCount(t *testing.T) {
	c, _ := connect(t, nil)
	setup(t, c, entity.L2, true)
	ctx := t.Context()
	rs, err := c.Query(ctx, milvusclient.NewQueryOption("docs").WithLimit(5).WithOutputFields("color", "vec"))
	if err != nil {
		t.Fatal(err)
	}
	ids := rs.GetColumn("id")
	if ids.Len() != 5 {
		t.Fatalf("%d rows", ids.Len())
	}
	for i, want := range []int64{1, 2, 3, 4, 5} {
		if n, _ := ids.GetAsInt64(i); n != want {
			t.Errorf("row %d has key %d, want %d (limited queries return the smallest keys in order)", i, n, want)
		}
	}
	if null, _ := rs.GetColumn("color").IsNull(3); !null {
		t.Error("row 4's color is not null")
	}
	rs, err = c.Query(ctx, milvusclient.NewQueryOption("docs").WithFilter("n > 1").WithOutputFields("count(*)"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rs.GetColumn("count(*)").GetAsInt64(0); n != 4 {
		t.Errorf("count = %d, want 4", n)
	}
	_, err = c.Query(ctx, milvusclient.NewQueryOption("docs").WithOutputFields("id"))
	wantCode(t, "query without expression or limit", err, merr.Code(merr.ErrParameterInvalid))
	_, err = c.Query(ctx, milvusclient.NewQueryOption("docs").WithLimit(16385).WithOutputFields("id"))
	wantCode(t, "query beyond the result window", err, merr.Code(merr.ErrParameterInvalid))
}

func TestSearchScores(t *testing.T) {
	for _, tc := range []struct {
		metric entity.MetricType
		best   int64
		score  float32
	}{
		{entity.L2, 3, 0.5}, // the squared distance from (0, 0)
		{entity.IP, 2, 3},   // (3, 4)·(1, 0)
		{entity.COSINE, 6, 1},
	} {
		t.Run(string(tc.metric), func(t *testing.T) {
			c, _ := connect(t, nil)
			setup(t, c, tc.metric, true)
			q := entity.FloatVector{0, 0}
			if tc.metric != entity.L2 {
				q = entity.FloatVector{1, 0}
			}
			rs, err := c.Search(t.Context(), milvusclient.NewSearchOption("docs", 2, []entity.Vector{q}).WithANNSField("vec").WithOutputFields("color"))
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].ResultCount != 2 {
				t.Fatalf("%d results", rs[0].ResultCount)
			}
			if best, _ := rs[0].IDs.GetAsInt64(0); best != tc.best {
				t.Errorf("best result %d, want %d", best, tc.best)
			}
			if math.Abs(float64(rs[0].Scores[0]-tc.score)) > 1e-6 {
				t.Errorf("best score %g, want %g", rs[0].Scores[0], tc.score)
			}
			_, err = c.Search(t.Context(), milvusclient.NewSearchOption("docs", 2, []entity.Vector{q}).WithSearchParam("metric_type", "IP").WithANNSField("vec"))
			if tc.metric != entity.IP {
				wantCode(t, "search with another metric", err, merr.Code(merr.ErrParameterInvalid))
			}
		})
	}
}

func TestCollections(t *testing.T) {
	c, _ := connect(t, nil)
	ctx := t.Context()
	if err := c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("a", docsSchema("a"))); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("a", docsSchema("a"))); err != nil {
		t.Errorf("creating a collection again with the same schema: %v", err)
	}
	other := docsSchema("a").WithField(entity.NewField().WithName("x").WithDataType(entity.FieldTypeBool))
	err := c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("a", other))
	wantCode(t, "creating a collection again with another schema", err, merr.Code(merr.ErrParameterInvalid))
	if err := c.DropCollection(ctx, milvusclient.NewDropCollectionOption("missing")); err != nil {
		t.Errorf("dropping a missing collection: %v", err)
	}
	_, err = c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption("missing"))
	wantCode(t, "describing a missing collection", err, merr.Code(merr.ErrCollectionNotFound))
	bad := entity.NewSchema().WithName("b").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(2)).
		WithField(entity.NewField().WithName("t").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8).WithIsPartitionKey(true).WithNullable(true))
	err = c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("b", bad))
	wantCode(t, "a nullable partition key", err, merr.Code(merr.ErrParameterInvalid))
	_, err = c.GetService().CreateAlias(ctx, &milvuspb.CreateAliasRequest{CollectionName: "a", Alias: "x"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("CreateAlias: %v, want Unimplemented", err)
	}
}

func TestWrites(t *testing.T) {
	c, _ := connect(t, &Options{JSONMaxLength: 32})
	setup(t, c, entity.L2, false)
	ctx := t.Context()
	// A delete by key works on a released collection, one by another
	// expression does not.
	if _, err := c.Delete(ctx, milvusclient.NewDeleteOption("docs").WithExpr("id in [1]")); err != nil {
		t.Errorf("delete by key, unloaded: %v", err)
	}
	_, err := c.Delete(ctx, milvusclient.NewDeleteOption("docs").WithExpr(`color == "red"`))
	wantCode(t, "delete by expression, unloaded", err, merr.Code(merr.ErrCollectionNotLoaded))
	if _, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption("docs")); err != nil {
		t.Fatal(err)
	}
	if got := queryIDs(t, c, "id > 0", nil); !slices.Equal(got, []int64{2, 3, 4, 5, 6}) {
		t.Errorf("after the delete: %v", got)
	}
	long := milvusclient.NewColumnBasedInsertOption("docs", column.NewColumnInt64("id", []int64{7}), column.NewColumnFloatVector("vec", 2, [][]float32{{1, 1}}),
		column.NewColumnJSONBytes("meta", [][]byte{[]byte(`{"long":"0123456789012345678901234567890123456789"}`)}))
	_, err = c.Upsert(ctx, long)
	wantCode(t, "JSON longer than the limit", err, merr.Code(merr.ErrParameterInvalid))
	tooLong := milvusclient.NewColumnBasedInsertOption("docs", column.NewColumnInt64("id", []int64{7}), column.NewColumnFloatVector("vec", 2, [][]float32{{1, 1}}),
		column.NewColumnVarChar("color", []string{"a much too long color"}))
	_, err = c.Upsert(ctx, tooLong)
	wantCode(t, "VarChar longer than max_length", err, merr.Code(merr.ErrParameterInvalid))
	// An upsert replaces the row.
	up := milvusclient.NewColumnBasedInsertOption("docs", column.NewColumnInt64("id", []int64{3}), column.NewColumnFloatVector("vec", 2, [][]float32{{1, 1}}))
	if _, err := c.Upsert(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got := queryIDs(t, c, "color is null", nil); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Errorf("after the upsert, null colors: %v", got)
	}
}
