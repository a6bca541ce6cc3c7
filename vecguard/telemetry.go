package vecguard

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// instrumentationScope names vecguard's tracer and meter.
const instrumentationScope = "github.com/vecguard/vecguard/vecguard"

// The metric attributes vecguard adds to the database conventions.
const (
	attrDecision = attribute.Key("vecguard.decision")     // "allow" or "deny"
	attrCause    = attribute.Key("vecguard.denial.cause") // "authz", "limit" or "audit"
)

// telemetry holds the client's tracer and instruments. Spans and
// attributes follow OpenTelemetry's database semantic conventions:
// span name "{db.operation.name} {db.collection.name}", db.system.name,
// db.query.text with every literal replaced by "?", never a vector.
type telemetry struct {
	tracer     trace.Tracer
	decisions  metric.Int64Counter
	denials    metric.Int64Counter
	violations metric.Int64Counter
	duration   metric.Float64Histogram
	reg        metric.Registration
	metrics    bool // a meter provider was given: record the instruments
	tracing    bool // a tracer provider was given: name and describe spans
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider, auditor audit.Auditor) *telemetry {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	metrics, tracing := mp != nil, tp != nil
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	t := &telemetry{tracer: tp.Tracer(instrumentationScope), metrics: metrics, tracing: tracing}
	m := mp.Meter(instrumentationScope)
	noop := metricnoop.Meter{}
	var err error
	if t.decisions, err = m.Int64Counter("vecguard.decisions", metric.WithUnit("{operation}"),
		metric.WithDescription("Operations by authorization decision (vecguard.decision: allow or deny).")); err != nil {
		t.decisions, _ = noop.Int64Counter("")
	}
	if t.denials, err = m.Int64Counter("vecguard.denials", metric.WithUnit("{operation}"),
		metric.WithDescription("Refused operations by cause (vecguard.denial.cause: authz, limit or audit).")); err != nil {
		t.denials, _ = noop.Int64Counter("")
	}
	if t.violations, err = m.Int64Counter("vecguard.violations", metric.WithUnit("{row}"),
		metric.WithDescription("Result rows outside the caller's rights dropped by the re-check (a driver bug).")); err != nil {
		t.violations, _ = noop.Int64Counter("")
	}
	if t.duration, err = m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of guarded database operations.")); err != nil {
		t.duration, _ = noop.Float64Histogram("")
	}
	if sr, ok := auditor.(audit.StatsReporter); ok {
		dropped, err1 := m.Int64ObservableCounter("vecguard.audit.dropped", metric.WithUnit("{record}"),
			metric.WithDescription("Audit records dropped under the Drop policy or at close."))
		failures, err2 := m.Int64ObservableCounter("vecguard.audit.failures", metric.WithUnit("{write}"),
			metric.WithDescription("Failed writes of the audit sink."))
		depth, err3 := m.Int64ObservableGauge("vecguard.audit.queue.depth", metric.WithUnit("{record}"),
			metric.WithDescription("Audit records waiting for the sink."))
		if err1 == nil && err2 == nil && err3 == nil {
			t.reg, _ = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
				s := sr.Stats()
				o.ObserveInt64(dropped, s.Dropped)
				o.ObserveInt64(failures, s.Failures)
				o.ObserveInt64(depth, int64(s.Queued))
				return nil
			}, dropped, failures, depth)
		}
	}
	return t
}

func (t *telemetry) close() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}

// start opens the operation's span and puts its IDs in the audit record.
func (t *telemetry) start(ctx context.Context, k *call) context.Context {
	r := &k.rec
	if !t.tracing {
		// The no-op tracer's span carries the caller's span context (its
		// IDs still go into the audit record) and records nothing.
		ctx, k.span = t.tracer.Start(ctx, r.Operation)
		t.ids(k)
		return ctx
	}
	name := r.Operation
	attrs := []attribute.KeyValue{semconv.DBSystemNameKey.String(r.System), semconv.DBOperationName(r.Operation)}
	if r.Collection != "" {
		name += " " + r.Collection
		attrs = append(attrs, semconv.DBCollectionName(r.Collection))
	}
	ctx, k.span = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	t.ids(k)
	return ctx
}

// ids puts the span's trace and span IDs in the audit record.
func (t *telemetry) ids(k *call) {
	if sc := k.span.SpanContext(); sc.HasTraceID() {
		k.rec.TraceID = sc.TraceID().String()
		if sc.HasSpanID() {
			k.rec.SpanID = sc.SpanID().String()
		}
	}
}

// finish records the operation's metrics and ends its span.
func (t *telemetry) finish(k *call, err error) {
	span := k.span
	if !t.metrics && !span.IsRecording() {
		span.End() // nothing records: skip building attributes
		return
	}
	r := &k.rec
	ctx := k.ctx
	base := []attribute.KeyValue{semconv.DBSystemNameKey.String(r.System), semconv.DBOperationName(r.Operation)}
	if r.Collection != "" {
		base = append(base, semconv.DBCollectionName(r.Collection))
	}
	decision := "deny"
	if r.Allowed {
		decision = "allow"
	}
	t.decisions.Add(ctx, 1, metric.WithAttributes(append(base, attrDecision.String(decision))...))
	if k.denial != "" {
		t.denials.Add(ctx, 1, metric.WithAttributes(append(base, attrCause.String(k.denial))...))
	}
	if r.Violations > 0 {
		t.violations.Add(ctx, int64(r.Violations), metric.WithAttributes(base...))
	}
	if text := queryText(r); text != "" {
		span.SetAttributes(semconv.DBQueryText(text))
	}
	if r.Class == audit.ClassRead && err == nil {
		span.SetAttributes(semconv.DBResponseReturnedRows(r.ResultCount))
	}
	span.SetAttributes(attrDecision.String(decision))
	if err != nil {
		code := errorType(err)
		span.SetStatus(codes.Error, code)
		span.SetAttributes(semconv.ErrorTypeKey.String(code))
		base = append(base, semconv.ErrorTypeKey.String(code))
	}
	t.duration.Record(ctx, r.Latency.Seconds(), metric.WithAttributes(base...))
	span.End()
}

// errorType is the error's code in snake case, e.g. "permission_denied".
func errorType(err error) string {
	return strings.ReplaceAll(driver.CodeOf(err).String(), " ", "_")
}

// queryText renders the operation as sanitized query text: the effective
// filter with every literal replaced by "?" (never a value, never a
// vector).
func queryText(r *audit.Record) string {
	f := driver.And(r.PolicyFilter, r.CallerFilter)
	if len(f.Children) == 0 && r.TopK == 0 {
		return ""
	}
	s := r.Operation
	if r.Collection != "" {
		s += " " + r.Collection
	}
	if len(f.Children) > 0 {
		s += " where " + f.Redacted()
	}
	if r.TopK > 0 {
		s += " limit ?"
	}
	return s
}
