package milvus_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc"

	"github.com/vecguard/vecguard/adapters/milvus"
	"github.com/vecguard/vecguard/adapters/milvus/internal/milvustest"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// newTestDriver starts a test server and returns a driver connected to it.
func newTestDriver(tb testing.TB, srvOpts *milvustest.Options) (*milvus.Driver, *milvustest.Server) {
	tb.Helper()
	if srvOpts == nil {
		srvOpts = serverOptions
	}
	srv := milvustest.Start(tb, srvOpts)
	d, err := milvus.Open(tb.Context(), &milvusclient.ClientConfig{Address: srv.Addr()}, nil)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	return d, srv
}

func codeOf(d *milvus.Driver, err error) driver.Code {
	if c := driver.CodeOf(err); c != driver.Unknown {
		return c
	}
	return d.ErrorCode(err)
}

func testSpec(name string) *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    name,
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Euclid}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

// TestUnloaded checks that a collection released behind the driver's back
// (an operator, a restart) is loaded again, not reported as an error.
func TestUnloaded(t *testing.T) {
	var loads atomic.Int32
	d, srv := newTestDriver(t, &milvustest.Options{UnaryInterceptor: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/LoadCollection") {
			loads.Add(1)
		}
		return h(ctx, req)
	}})
	ctx := t.Context()
	spec := testSpec("unloaded")
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(spec)
	pts := []driver.Point{
		{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 0}}, Payload: map[string]any{"tenant": "a", "size": int64(1)}},
		{ID: driver.NumID(2), Vectors: map[string][]float32{"v": {0, 1}}, Payload: map[string]any{"tenant": "b"}},
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		run  func() error
	}{
		{"Search", func() error {
			hits, err := c.Search(ctx, &driver.Query{Vector: []float32{1, 0}, VectorName: "v", Limit: 5})
			if err == nil && len(hits) != 2 {
				t.Errorf("Search returned %d hits", len(hits))
			}
			return err
		}},
		{"Count", func() error {
			n, err := c.Count(ctx, driver.Exists("size"))
			if err == nil && n != 1 {
				t.Errorf("Count = %d", n)
			}
			return err
		}},
		{"Read", func() error {
			_, err := c.Read(ctx, &driver.ReadRequest{Limit: 10})
			return err
		}},
		{"ReadIDs", func() error {
			_, err := c.Read(ctx, &driver.ReadRequest{IDs: []driver.PointID{driver.NumID(1)}})
			return err
		}},
		{"DeleteByFilter", func() error {
			return c.Delete(ctx, &driver.Selector{Filter: driver.Eq("tenant", driver.String("nobody"))})
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			if err := srv.Release(spec.Name); err != nil {
				t.Fatal(err)
			}
			before := loads.Load()
			if err := op.run(); err != nil {
				t.Fatalf("%s on a released collection: %v", op.name, err)
			}
			if loads.Load() != before+1 {
				t.Errorf("%s loaded the collection %d times, want once", op.name, loads.Load()-before)
			}
		})
	}
}

func TestCreateCollectionErrors(t *testing.T) {
	d, _ := newTestDriver(t, nil)
	ctx := t.Context()
	good := testSpec("good")
	if err := d.CreateCollection(ctx, good); err != nil {
		t.Fatal(err)
	}
	withField := func(name string) *driver.CollectionSpec {
		s := testSpec("kw_" + name)
		s.Fields = append(s.Fields, driver.FieldSpec{Name: name, Kind: driver.KindInt})
		return s
	}
	hyphen := testSpec("with-hyphen")
	clash := testSpec("clash")
	clash.Fields = append(clash.Fields, driver.FieldSpec{Name: "v", Kind: driver.KindInt})
	own := testSpec("own")
	own.Fields = append(own.Fields, driver.FieldSpec{Name: "_vg_payload", Kind: driver.KindString})
	cases := []struct {
		name string
		spec *driver.CollectionSpec
		want driver.Code
	}{
		{"Exists", good, driver.AlreadyExists},
		{"Hyphen", hyphen, driver.InvalidArgument},
		{"KeywordIn", withField("in"), driver.InvalidArgument},
		{"KeywordLIKE", withField("LIKE"), driver.InvalidArgument},
		{"KeywordTrue", withField("True"), driver.InvalidArgument},
		{"VectorFieldClash", clash, driver.InvalidArgument},
		{"DriverColumn", own, driver.InvalidArgument},
		{"Nil", nil, driver.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := d.CreateCollection(ctx, tc.spec)
			if got := codeOf(d, err); got != tc.want {
				t.Errorf("CreateCollection: %v (code %s), want %s", err, got, tc.want)
			}
		})
	}
	names, err := d.ListCollections(ctx)
	if err != nil || len(names) != 1 {
		t.Errorf("after failed creates, ListCollections = %q, %v", names, err)
	}
}

// TestTenantRequired checks that a point without its tenant is refused:
// the tenant field is the partition key, which Milvus does not let be null.
func TestTenantRequired(t *testing.T) {
	d, _ := newTestDriver(t, nil)
	ctx := t.Context()
	spec := testSpec("tenants")
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	for _, p := range []map[string]any{nil, {"tenant": nil}, {"tenant": int64(3)}} {
		err := d.Collection(spec).Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1, 1}}, Payload: p}})
		if codeOf(d, err) != driver.InvalidArgument {
			t.Errorf("Upsert with payload %v: %v, want InvalidArgument", p, err)
		}
	}
}

// TestNotVecguard checks that a collection made without the driver is
// described as FailedPrecondition, not misread.
func TestNotVecguard(t *testing.T) {
	d, _ := newTestDriver(t, nil)
	ctx := t.Context()
	schema := entity.NewSchema().WithName("foreign").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(2))
	if err := d.Client().CreateCollection(ctx, milvusclient.NewCreateCollectionOption("foreign", schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client().CreateIndex(ctx, milvusclient.NewCreateIndexOption("foreign", "vec", index.NewFlatIndex(entity.L2))); err != nil {
		t.Fatal(err)
	}
	_, err := d.DescribeCollection(ctx, "foreign")
	if codeOf(d, err) != driver.FailedPrecondition {
		t.Errorf("DescribeCollection of a foreign collection: %v", err)
	}
	names, err := d.ListCollections(ctx)
	if err != nil || len(names) != 1 || names[0] != "foreign" {
		t.Errorf("ListCollections = %q, %v", names, err)
	}
}

// TestNoValuesInErrors checks that refused writes and filters do not echo
// payload values or filter values, from the driver or from the server.
func TestNoValuesInErrors(t *testing.T) {
	const canary = "c4n4ry-s3cr3t"
	d, _ := newTestDriver(t, &milvustest.Options{JSONMaxLength: 1024})
	ctx := t.Context()
	spec := testSpec("canary")
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(spec)
	vec := map[string][]float32{"v": {1, 1}}
	errs := []error{
		c.Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: vec, Payload: map[string]any{"tenant": "t", "extra": strings.Repeat(canary, 100)}}}),
		c.Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: vec, Payload: map[string]any{"tenant": "t", "note": strings.Repeat(canary, 7000)}}}),
		c.Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: vec, Payload: map[string]any{"tenant": "t", "size": canary}}}),
		c.Upsert(ctx, []driver.Point{{ID: driver.NumID(1), Vectors: vec, Payload: map[string]any{"tenant": "t", "x": canary + "\xff"}}}),
	}
	_, err := c.Count(ctx, driver.Eq("size", driver.String(canary)))
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("case %d: the error repeats a value: %v", i, err)
		}
		if code := codeOf(d, err); code != driver.InvalidArgument {
			t.Errorf("case %d: %v (code %s), want InvalidArgument", i, err, code)
		}
	}
}

// TestSearchTiesBeyondK checks the tie handling: more equal scores than
// Milvus was first asked for still come back in ID order.
func TestSearchTiesBeyondK(t *testing.T) {
	d, _ := newTestDriver(t, nil)
	ctx := t.Context()
	spec := testSpec("ties")
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(spec)
	var pts []driver.Point
	for i := range 50 {
		pts = append(pts, driver.Point{ID: driver.NumID(uint64(1000 - i)), Vectors: map[string][]float32{"v": {3, 4}}, Payload: map[string]any{"tenant": "t"}})
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	hits, err := c.Search(ctx, &driver.Query{Vector: []float32{0, 0}, VectorName: "v", Limit: 3, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 || hits[0].ID != driver.NumID(953) || hits[2].ID != driver.NumID(955) || hits[0].Score != 5 {
		t.Errorf("got %v", hits)
	}
}

// TestOpenUnreachable checks that Open fails, not hangs, when no server
// answers.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := milvus.Open(ctx, &milvusclient.ClientConfig{Address: "127.0.0.1:1"}, nil); err == nil {
		t.Fatal("Open of an unreachable address succeeded")
	}
}
