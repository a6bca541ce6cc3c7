package vecguard_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/limits"
)

// keep is an Auditor that keeps records.
type keep struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (k *keep) Audit(_ context.Context, r *audit.Record) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.recs = append(k.recs, *r)
	return nil
}

func (k *keep) last() audit.Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.recs[len(k.recs)-1]
}

var allowAll = authz.AuthorizerFunc(func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
	return authz.Decision{Allow: true, Rule: "all"}, nil
})

func guardCtx(subject string) context.Context {
	return vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: subject, Tenant: "t1"})
}

// guarded returns a client over a memory store holding collection "docs"
// with n points, and the store, made through an unrestricted client.
func guarded(t *testing.T, opts vecguard.Options, n int) (*vecguard.Client, driver.Driver) {
	t.Helper()
	d := memory.New()
	setupClient := vecguard.New(d, &vecguard.Options{Authorizer: allowAll})
	ctx := guardCtx("admin")
	spec := vecguard.CollectionSpec{Name: "docs", Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Euclid}},
		Fields:      []vecguard.FieldSpec{{Name: "tenant", Kind: vecguard.KindString, Filterable: true}, {Name: "tag", Kind: vecguard.KindString, Filterable: true}},
		TenantField: "tenant"}
	if err := setupClient.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		pts := make([]vecguard.Point, n)
		for i := range pts {
			pts[i] = vecguard.Point{ID: vecguard.NumID(uint64(i + 1)), Vectors: map[string][]float32{"v": {float32(i), 1}},
				Payload: map[string]any{"tag": "red"}}
		}
		if err := setupClient.Upsert(ctx, "docs", pts); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Authorizer == nil {
		opts.Authorizer = allowAll
	}
	return vecguard.New(d, &opts), d
}

func TestLimiterRefusesWithRetryAfter(t *testing.T) {
	rec := &keep{}
	c, _ := guarded(t, vecguard.Options{Auditor: rec, Limiter: limits.NewMemory(limits.Budget{Requests: 3, Rows: 10, Enumerations: 1}, nil)}, 8)
	ctx := guardCtx("alice")
	q := vecguard.SearchRequest{Vector: []float32{0, 1}, Limit: 6}
	if res, err := c.Search(ctx, "docs", q); err != nil || len(res) != 6 {
		t.Fatalf("first search: %v, %d", err, len(res))
	}
	res, err := c.Search(ctx, "docs", q)
	var e *vecguard.Error
	if !errors.Is(err, vecguard.ErrResourceExhausted) || !errors.As(err, &e) || e.RetryAfter <= 0 || res != nil {
		t.Fatalf("6 more rows with 4 left: %v (%d results)", err, len(res))
	}
	if r := rec.last(); r.Allowed || r.Rule != "limits" || !strings.Contains(r.Reason, "rows") {
		t.Fatalf("record %+v", r)
	}
	q.Limit = 4
	if res, err := c.Search(ctx, "docs", q); err != nil || len(res) != 4 {
		t.Fatalf("a page that fits: %v, %d", err, len(res))
	}
	// Three requests spent: the third is refused before it runs.
	_, err = c.Count(ctx, "docs", nil)
	if !errors.As(err, &e) || e.Code != driver.ResourceExhausted || e.RetryAfter <= 0 {
		t.Fatalf("third request: %v", err)
	}
	// Another principal has its own budget; scroll and count share the
	// enumeration budget.
	bob := guardCtx("bob")
	if _, err := c.Count(bob, "docs", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Scroll(bob, "docs", vecguard.ScrollRequest{Limit: 1}); !errors.Is(err, vecguard.ErrResourceExhausted) {
		t.Fatalf("second enumeration: %v", err)
	}
}

// down is a sink that fails.
type down struct{}

func (down) Handle(context.Context, []audit.Entry) error { return errors.New("disk gone") }

func TestAuditGateRefusesWritesBeforeTheyChangeAnything(t *testing.T) {
	l, err := audit.New(down{}, &audit.Options{ErrorHandler: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, d := guarded(t, vecguard.Options{Auditor: l}, 3)
	ctx := guardCtx("alice")
	// The sink fails: the read is refused, and the log turns unhealthy.
	if _, err := c.Count(ctx, "docs", nil); !errors.Is(err, vecguard.ErrUnavailable) {
		t.Fatalf("count with a failed sink: %v", err)
	}
	writes := []struct {
		name string
		call func() error
	}{
		{"upsert", func() error {
			return c.Upsert(ctx, "docs", []vecguard.Point{{ID: vecguard.NumID(99), Vectors: map[string][]float32{"v": {1, 1}}}})
		}},
		{"delete", func() error { return c.Delete(ctx, "docs", []vecguard.PointID{vecguard.NumID(1)}) }},
		{"update", func() error {
			return c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{IDs: []vecguard.PointID{vecguard.NumID(1)}, Set: map[string]any{"tag": "x"}})
		}},
		{"drop", func() error { return c.DropCollection(ctx, "docs") }},
	}
	for _, w := range writes {
		if err := w.call(); !errors.Is(err, vecguard.ErrUnavailable) {
			t.Fatalf("%s with a failed audit log: %v", w.name, err)
		}
	}
	check := vecguard.New(d, &vecguard.Options{Authorizer: allowAll})
	pts, err := check.Scroll(ctx, "docs", vecguard.ScrollRequest{Limit: 10, WithPayload: true})
	if err != nil || len(pts.Points) != 3 {
		t.Fatalf("the store changed: %v, %d points", err, len(pts.Points))
	}
	for _, p := range pts.Points {
		if p.Payload["tag"] != "red" {
			t.Fatalf("point %v changed", p.ID)
		}
	}
}

func TestTelemetry(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l, _ := audit.New(audit.SinkFunc(func(context.Context, []audit.Entry) error { return nil }), nil)
	defer l.Close()
	rec := &keep{}
	c, d := guarded(t, vecguard.Options{Auditor: audit.Auditor(multiAuditor{l, rec}), TracerProvider: tp, MeterProvider: mp}, 4)
	ctx := guardCtx("alice")
	f := vecguard.Ne("tag", vecguard.String("CANARY-red"))
	if _, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0.123456789, 1}, Filter: f}); err != nil {
		t.Fatal(err)
	}
	deny := vecguard.New(d, &vecguard.Options{MeterProvider: mp}) // no authorizer: denies
	if _, err := deny.Count(ctx, "docs", nil); !errors.Is(err, vecguard.ErrPermissionDenied) {
		t.Fatalf("count without an authorizer: %v", err)
	}

	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans", len(ended))
	}
	s := ended[0]
	if s.Name() != "search docs" {
		t.Fatalf("span name %q", s.Name())
	}
	attrs := map[string]string{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	want := map[string]string{"db.system.name": "memory", "db.operation.name": "search", "db.collection.name": "docs",
		"db.response.returned_rows": "4", "vecguard.decision": "allow"}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("%s = %q, want %q", k, attrs[k], v)
		}
	}
	q := attrs["db.query.text"]
	if q != "search docs where (tenant == ? and tag != ?) limit ?" {
		t.Errorf("db.query.text = %q", q)
	}
	for k, v := range attrs {
		if strings.Contains(v, "CANARY") || strings.Contains(v, "0.1234") || strings.Contains(v, "t1") {
			t.Errorf("attribute %s shows a value: %q", k, v)
		}
	}
	if r := rec.last(); r.TraceID != s.SpanContext().TraceID().String() || r.SpanID != s.SpanContext().SpanID().String() || r.System != "memory" {
		t.Errorf("record trace %s/%s system %q, span %s/%s", r.TraceID, r.SpanID, r.System, s.SpanContext().TraceID(), s.SpanContext().SpanID())
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = true
			if m.Name == "vecguard.decisions" {
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					v, _ := dp.Attributes.Value("vecguard.decision")
					got["decision:"+v.AsString()] = true
				}
			}
		}
	}
	for _, name := range []string{"vecguard.decisions", "vecguard.denials", "db.client.operation.duration",
		"vecguard.audit.dropped", "vecguard.audit.queue.depth", "decision:allow", "decision:deny"} {
		if !got[name] {
			t.Errorf("metric %s missing (have %v)", name, got)
		}
	}
}

// multiAuditor calls a Logger (so the client sees its Stats) and a keep.
type multiAuditor struct {
	*audit.Logger
	k *keep
}

func (m multiAuditor) Audit(ctx context.Context, r *audit.Record) error {
	m.k.Audit(ctx, r)
	return m.Logger.Audit(ctx, r)
}

// TestAuditCarriesCallerTraceWithoutTracing: without a TracerProvider the
// client makes no spans, but its audit records still carry the caller's
// trace and span IDs, and the caller's span is left alone.
func TestAuditCarriesCallerTraceWithoutTracing(t *testing.T) {
	rec := &recorder{}
	c := vecguard.New(memory.New(), &vecguard.Options{Authorizer: allow, Auditor: rec})
	tp := sdktrace.NewTracerProvider()
	ctx, parent := tp.Tracer("app").Start(as("alice", "t1"), "request")
	if err := c.CreateCollection(ctx, spec("docs", true)); err != nil {
		t.Fatal(err)
	}
	r := rec.last()
	sc := parent.SpanContext()
	if r.TraceID != sc.TraceID().String() || r.SpanID != sc.SpanID().String() {
		t.Errorf("record trace %s/%s, caller's span %s/%s", r.TraceID, r.SpanID, sc.TraceID(), sc.SpanID())
	}
	if !parent.IsRecording() {
		t.Error("the client ended the caller's span")
	}
	parent.End()
}
