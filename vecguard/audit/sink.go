package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Sink records batches of redacted entries. It is the one interface every
// destination implements, small in the way slog.Handler is: a Logger does
// the redaction, queueing, batching and back-pressure, and a sink only
// writes. An adapter for any slog.Handler (SlogSink), a JSON-lines writer
// (JSONSink), a fan-out (Multi) and the tamper-evident file log (package
// tlogfile) are provided.
//
// A sink that also implements io.Closer is closed by Logger.Close.
type Sink interface {
	// Handle records entries, in order. A nil error means every entry is
	// recorded as durably as the sink promises; an error means the batch
	// may not be, and the Logger applies its Policy to all of it. Handle is
	// called from one goroutine at a time and must not keep the slice.
	Handle(ctx context.Context, batch []Entry) error
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(ctx context.Context, batch []Entry) error

// Handle calls f.
func (f SinkFunc) Handle(ctx context.Context, batch []Entry) error { return f(ctx, batch) }

// JSONSink writes each entry as one line of JSON to a writer, one Write per
// batch. It does not sync: for a durable, tamper-evident file use package
// tlogfile.
type JSONSink struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

var _ Sink = (*JSONSink)(nil)

// NewJSONSink returns a sink that writes JSON lines to w.
func NewJSONSink(w io.Writer) *JSONSink { return &JSONSink{w: w} }

// Handle implements Sink.
func (s *JSONSink) Handle(_ context.Context, batch []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf[:0]
	for i := range batch {
		b = batch[i].AppendJSON(b)
		b = append(b, '\n')
	}
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// SlogSink hands each entry to a slog.Handler as one record with message
// "audit" at level Info, its fields as attributes. A handler that is not
// enabled for that level fails the batch rather than drop it silently.
func SlogSink(h slog.Handler) Sink { return &slogSink{h: h, level: slog.LevelInfo} }

type slogSink struct {
	h     slog.Handler
	level slog.Level
}

func (s *slogSink) Handle(ctx context.Context, batch []Entry) error {
	if !s.h.Enabled(ctx, s.level) {
		return errors.New("audit: slog handler is not enabled for audit records")
	}
	for i := range batch {
		e := &batch[i]
		r := slog.NewRecord(e.Time, s.level, "audit", 0)
		r.AddAttrs(e.Attrs()...)
		if err := s.h.Handle(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Attrs returns the entry's non-empty fields as slog attributes, named as
// in its JSON form.
func (e *Entry) Attrs() []slog.Attr {
	a := make([]slog.Attr, 0, 24)
	str := func(k, v string) {
		if v != "" {
			a = append(a, slog.String(k, v))
		}
	}
	num := func(k string, v int, always bool) {
		if v != 0 || always {
			a = append(a, slog.Int(k, v))
		}
	}
	str("subject", e.Subject)
	str("tenant", e.Tenant)
	if len(e.Roles) > 0 {
		a = append(a, slog.Any("roles", e.Roles))
	}
	str("op", e.Operation)
	str("class", string(e.Class))
	str("db_system", e.System)
	str("collection", e.Collection)
	str("policy_filter", e.PolicyFilter)
	str("caller_filter", e.CallerFilter)
	num("top_k", e.TopK, false)
	num("result_count", e.ResultCount, true)
	if len(e.ResultIDs) > 0 {
		a = append(a, slog.Any("result_ids", e.ResultIDs))
	}
	num("vectors", e.Vectors, false)
	str("decision", e.Decision)
	str("rule", e.Rule)
	str("reason", e.Reason)
	num("violations", e.Violations, false)
	a = append(a, slog.Duration("latency", e.Latency))
	str("code", e.Code)
	str("error", e.Error)
	str("trace_id", e.TraceID)
	str("span_id", e.SpanID)
	return a
}

// MultiSink hands every batch to several sinks in turn. By Vault's rule a
// batch is recorded when at least one sink records it; set RequireAll to
// need every sink. Failures that do not fail the batch are counted and
// reported to OnError, never dropped silently. Set the fields before use.
type MultiSink struct {
	Sinks []Sink
	// RequireAll fails a batch when any sink fails.
	RequireAll bool
	// OnError, if set, is told of every sink failure (i indexes Sinks).
	OnError func(i int, err error)

	failures atomic.Int64
}

var _ Sink = (*MultiSink)(nil)

// Multi returns a MultiSink over sinks.
func Multi(sinks ...Sink) *MultiSink { return &MultiSink{Sinks: sinks} }

// Handle implements Sink.
func (m *MultiSink) Handle(ctx context.Context, batch []Entry) error {
	if len(m.Sinks) == 0 {
		return errors.New("audit: multi sink has no sinks")
	}
	var errs []error
	for i, s := range m.Sinks {
		if err := s.Handle(ctx, batch); err != nil {
			m.failures.Add(1)
			if m.OnError != nil {
				m.OnError(i, err)
			}
			errs = append(errs, fmt.Errorf("sink %d: %w", i, err))
		}
	}
	if len(errs) == 0 || (!m.RequireAll && len(errs) < len(m.Sinks)) {
		return nil
	}
	return errors.Join(errs...)
}

// Failures returns how many times one of the sinks has failed.
func (m *MultiSink) Failures() int64 { return m.failures.Load() }

// Close closes every sink that is an io.Closer.
func (m *MultiSink) Close() error {
	var errs []error
	for _, s := range m.Sinks {
		if c, ok := s.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
