package qdrant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard/driver"
)

func newTestDriver(t *testing.T, sopts *qdranttest.Options, opts *Options) *Driver {
	t.Helper()
	srv := qdranttest.Start(t, sopts)
	d, err := Open(&qc.Config{Host: srv.Host(), Port: srv.Port(), PoolSize: 1, SkipCompatibilityCheck: true}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var tenantSpec = &driver.CollectionSpec{
	Name:    "docs",
	Vectors: []driver.VectorSpec{{Name: "body", Dim: 3, Distance: driver.Cosine}, {Name: "title", Dim: 2, Distance: driver.Dot}},
	Fields: []driver.FieldSpec{
		{Name: "tenant", Kind: driver.KindString, Filterable: true},
		{Name: "n", Kind: driver.KindInt, Filterable: true},
		{Name: "x", Kind: driver.KindFloat, Filterable: true},
		{Name: "ok", Kind: driver.KindBool, Filterable: true},
		{Name: "text", Kind: driver.KindString},
	},
	TenantField: "tenant",
}

// TestCreateCollectionIndexes checks the Qdrant side of a created
// collection: named vectors, one payload index per filterable field, and
// is_tenant on the tenant field.
func TestCreateCollectionIndexes(t *testing.T) {
	d := newTestDriver(t, nil, nil)
	ctx := t.Context()
	if err := d.CreateCollection(ctx, tenantSpec); err != nil {
		t.Fatal(err)
	}
	info, err := d.Client().GetCollectionInfo(ctx, "docs")
	if err != nil {
		t.Fatal(err)
	}
	m := info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()
	if m["body"].GetSize() != 3 || m["body"].GetDistance() != qc.Distance_Cosine || m["title"].GetDistance() != qc.Distance_Dot {
		t.Errorf("vectors config: %v", m)
	}
	want := map[string]qc.PayloadSchemaType{
		"tenant": qc.PayloadSchemaType_Keyword, "n": qc.PayloadSchemaType_Integer,
		"x": qc.PayloadSchemaType_Float, "ok": qc.PayloadSchemaType_Bool,
	}
	schema := info.GetPayloadSchema()
	if len(schema) != len(want) {
		t.Errorf("payload indexes %v, want %v", schema, want)
	}
	for k, typ := range want {
		if schema[k].GetDataType() != typ {
			t.Errorf("index %q: %v, want %v", k, schema[k].GetDataType(), typ)
		}
	}
	if !schema["tenant"].GetParams().GetKeywordIndexParams().GetIsTenant() {
		t.Errorf("the tenant field's index is not is_tenant")
	}
}

// TestDescribeWithoutMetadata describes collections made by other tools.
func TestDescribeWithoutMetadata(t *testing.T) {
	d := newTestDriver(t, nil, nil)
	ctx := t.Context()
	c := d.Client()
	err := c.CreateCollection(ctx, &qc.CreateCollection{CollectionName: "foreign", VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{
		"b": {Size: 4, Distance: qc.Distance_Euclid}, "a": {Size: 2, Distance: qc.Distance_Cosine},
	})})
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range []struct {
		name string
		typ  qc.FieldType
		p    *qc.PayloadIndexParams
	}{
		{"org", qc.FieldType_FieldTypeKeyword, qc.NewPayloadIndexParamsKeyword(&qc.KeywordIndexParams{IsTenant: qc.PtrOf(true)})},
		{"year", qc.FieldType_FieldTypeInteger, nil},
		{"body", qc.FieldType_FieldTypeText, nil},
	} {
		if _, err := c.CreateFieldIndex(ctx, &qc.CreateFieldIndexCollection{CollectionName: "foreign", FieldName: ix.name, FieldType: ix.typ.Enum(), FieldIndexParams: ix.p}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.DescribeCollection(ctx, "foreign")
	if err != nil {
		t.Fatal(err)
	}
	want := &driver.CollectionSpec{
		Name:        "foreign",
		Vectors:     []driver.VectorSpec{{Name: "a", Dim: 2, Distance: driver.Cosine}, {Name: "b", Dim: 4, Distance: driver.Euclid}},
		Fields:      []driver.FieldSpec{{Name: "org", Kind: driver.KindString, Filterable: true}, {Name: "year", Kind: driver.KindInt, Filterable: true}},
		TenantField: "org",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DescribeCollection\n got %+v\nwant %+v", got, want)
	}

	err = c.CreateCollection(ctx, &qc.CreateCollection{CollectionName: "unnamed", VectorsConfig: qc.NewVectorsConfig(&qc.VectorParams{Size: 4, Distance: qc.Distance_Dot})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DescribeCollection(ctx, "unnamed"); driver.CodeOf(err) != driver.FailedPrecondition {
		t.Errorf("describe a collection with an unnamed vector: %v, want FailedPrecondition", err)
	}
	err = c.CreateCollection(ctx, &qc.CreateCollection{CollectionName: "manhattan", VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{"m": {Size: 4, Distance: qc.Distance_Manhattan}})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DescribeCollection(ctx, "manhattan"); driver.CodeOf(err) != driver.FailedPrecondition {
		t.Errorf("describe a Manhattan collection: %v, want FailedPrecondition", err)
	}
	// Metadata that disagrees with the vectors is refused, not trusted.
	bad := tenantSpec.Clone()
	bad.Vectors[0].Dim = 7
	err = c.CreateCollection(ctx, &qc.CreateCollection{CollectionName: "liar", Metadata: map[string]*qc.Value{metadataKey: encodeSpec(bad)},
		VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{"body": {Size: 3, Distance: qc.Distance_Cosine}, "title": {Size: 2, Distance: qc.Distance_Dot}})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DescribeCollection(ctx, "liar"); driver.CodeOf(err) != driver.FailedPrecondition {
		t.Errorf("describe with mismatched metadata: %v, want FailedPrecondition", err)
	}
}

// TestRateLimit checks that a ResourceExhausted with a retry-after trailer
// becomes a ResourceExhausted error with RetryAfter.
func TestRateLimit(t *testing.T) {
	var limited atomic.Bool
	d := newTestDriver(t, &qdranttest.Options{UnaryInterceptor: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if limited.Load() {
			_ = grpc.SetTrailer(ctx, metadata.Pairs("retry-after", "3"))
			return nil, status.Error(codes.ResourceExhausted, "Rate limiting exceeded: Read rate limit exceeded")
		}
		return h(ctx, req)
	}}, nil)
	ctx := t.Context()
	if err := d.CreateCollection(ctx, tenantSpec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(tenantSpec)
	limited.Store(true)
	_, err := c.Count(ctx, nil)
	var e *driver.Error
	if !errors.As(err, &e) || e.Code != driver.ResourceExhausted || e.RetryAfter != 3*time.Second {
		t.Fatalf("got %v, want ResourceExhausted with retry-after 3s", err)
	}
	var rl *qc.QdrantResourceExhaustedError
	if !errors.As(err, &rl) {
		t.Errorf("the go-client's error is not wrapped")
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		want driver.Code
	}{
		{status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), driver.NotFound},
		{status.Error(codes.AlreadyExists, "Wrong input: Collection `x` already exists!"), driver.AlreadyExists},
		{status.Error(codes.InvalidArgument, "Wrong input: Collection `x` already exists!"), driver.AlreadyExists},
		{status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error"), driver.InvalidArgument},
		{status.Error(codes.PermissionDenied, "Invalid api-key"), driver.PermissionDenied},
		{status.Error(codes.Unauthenticated, "Must provide an API key"), driver.Unauthenticated},
		{status.Error(codes.ResourceExhausted, "Rate limiting exceeded"), driver.ResourceExhausted},
		{&qc.QdrantResourceExhaustedError{Reason: "x", RetryAfterS: 1}, driver.ResourceExhausted},
		{status.Error(codes.Unavailable, "connection refused"), driver.Unavailable},
		{status.Error(codes.Canceled, "context canceled"), driver.Canceled},
		{status.Error(codes.DeadlineExceeded, "deadline"), driver.DeadlineExceeded},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), driver.DeadlineExceeded},
		{status.Error(codes.Internal, "Service internal error"), driver.Internal},
		{status.Error(codes.FailedPrecondition, "Storage locked"), driver.FailedPrecondition},
		{status.Error(codes.Unimplemented, "method not implemented"), driver.Unimplemented},
		{status.Error(codes.DataLoss, "Checksum mismatch"), driver.DataLoss},
		{fmt.Errorf("Get() failed: %w", status.Error(codes.NotFound, "x")), driver.NotFound},
		{errors.New("plain"), driver.Unknown},
	}
	for _, tc := range cases {
		if got := errorCode(tc.err); got != tc.want {
			t.Errorf("errorCode(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestUpsertBatches checks that a large upsert is split into requests.
func TestUpsertBatches(t *testing.T) {
	var upserts atomic.Int64
	d := newTestDriver(t, &qdranttest.Options{UnaryInterceptor: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/Upsert") {
			upserts.Add(1)
		}
		return h(ctx, req)
	}}, &Options{MaxBatchBytes: 1000})
	ctx := t.Context()
	if err := d.CreateCollection(ctx, tenantSpec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(tenantSpec)
	var pts []driver.Point
	for i := range 50 {
		pts = append(pts, driver.Point{ID: driver.NumID(uint64(i)), Vectors: map[string][]float32{"body": {1, 2, 3}, "title": {1, 0}},
			Payload: map[string]any{"tenant": "t", "text": strings.Repeat("x", 100)}})
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if n := upserts.Load(); n < 5 {
		t.Errorf("%d upsert requests, want the 50 points split into several", n)
	}
	if n, err := c.Count(ctx, nil); err != nil || n != 50 {
		t.Errorf("Count = %d, %v; want 50", n, err)
	}
}

// TestUpdatePayloadTouchingTheFilter checks that a set and an unset select
// the same points when the filter reads a key the update changes.
func TestUpdatePayloadTouchingTheFilter(t *testing.T) {
	d := newTestDriver(t, nil, nil)
	ctx := t.Context()
	if err := d.CreateCollection(ctx, tenantSpec); err != nil {
		t.Fatal(err)
	}
	c := d.Collection(tenantSpec)
	var pts []driver.Point
	for i := range 6 {
		pts = append(pts, driver.Point{ID: driver.NumID(uint64(i)), Vectors: map[string][]float32{"body": {1, 2, 3}, "title": {1, 0}},
			Payload: map[string]any{"tenant": "t", "n": int64(i % 2), "text": "keep"}})
	}
	if err := c.Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	pu := c.(driver.PayloadUpdater)
	// Sets n to 5 and removes text on the points where n == 1, in one call.
	if err := pu.UpdatePayload(ctx, &driver.Selector{Filter: driver.Eq("n", driver.Int(1))}, map[string]any{"n": int64(5)}, []string{"text"}); err != nil {
		t.Fatal(err)
	}
	pg, err := c.Read(ctx, &driver.ReadRequest{Limit: 10, Payload: driver.Projection{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pg.Points {
		odd := p.ID.Num()%2 == 1
		_, hasText := p.Payload["text"]
		if odd && (p.Payload["n"] != int64(5) || hasText) || !odd && (p.Payload["n"] != int64(0) || !hasText) {
			t.Errorf("point %v: %v", p.ID, p.Payload)
		}
	}
}

// TestErrorsCarryNoValues checks that the driver's own errors do not
// repeat payload values or vectors.
func TestErrorsCarryNoValues(t *testing.T) {
	secret := "s3cr3t-\xff"
	_, err := toPayload(map[string]any{"k": secret})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("toPayload error %v", err)
	}
	_, err = translateFilter(driver.Eq(`a"b`, driver.String("s3cr3t")), testSchema)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("translateFilter error %v", err)
	}
}
