package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// switchSink fails while fail is set and counts what it records.
type switchSink struct {
	mu      sync.Mutex
	fail    bool
	entries []Entry
}

func (s *switchSink) Handle(_ context.Context, b []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("sink down")
	}
	s.entries = append(s.entries, b...)
	return nil
}

func (s *switchSink) set(fail bool) { s.mu.Lock(); s.fail = fail; s.mu.Unlock() }

func (s *switchSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.entries) }

func testRecord(op string) *Record {
	return &Record{Time: time.Now(), Subject: "s", Operation: op, Class: ClassRead, Allowed: true}
}

// errs collects the ErrorHandler's reports.
type errs struct {
	ch chan error
}

func newErrs() *errs { return &errs{ch: make(chan error, 1000)} }

func (e *errs) handler(err error) { e.ch <- err }

func TestSyncRefuse(t *testing.T) {
	ctx := context.Background()
	sink := &switchSink{}
	l, err := New(sink, &Options{Salt: testSalt, RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Audit(ctx, testRecord("a")); err != nil || sink.count() != 1 {
		t.Fatalf("audit: %v, %d recorded", err, sink.count())
	}
	sink.set(true)
	err = l.Audit(ctx, testRecord("b"))
	if driver.CodeOf(err) != driver.Unavailable {
		t.Fatalf("audit with a failed sink: %v", err)
	}
	if err := l.Ready(ctx); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("Ready after a failure: %v", err)
	}
	sink.set(false)
	// Audit itself always tries: a recovered sink records again.
	if err := l.Audit(ctx, testRecord("c")); err != nil {
		t.Fatal(err)
	}
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
	st := l.Stats()
	if st.Written != 2 || st.Refused != 1 || st.Failures != 1 || !st.Healthy {
		t.Fatalf("stats %+v", st)
	}
}

func TestAsyncRefuseRetries(t *testing.T) {
	ctx := context.Background()
	sink := &switchSink{fail: true}
	e := newErrs()
	l, err := New(sink, &Options{Salt: testSalt, Mode: Async, RetryInterval: time.Millisecond, ErrorHandler: e.handler})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Audit(ctx, testRecord("a")); err != nil {
		t.Fatalf("async audit: %v", err)
	}
	<-e.ch // the sink failed and the logger is unhealthy
	if err := l.Ready(ctx); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("Ready: %v", err)
	}
	if err := l.Audit(ctx, testRecord("b")); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("audit while unhealthy: %v", err)
	}
	sink.set(false)
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 1 || sink.entries[0].Operation != "a" {
		t.Fatalf("the failed batch was not retried: %d recorded", sink.count())
	}
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
	l.Close()
	if err := l.Audit(ctx, testRecord("c")); !errors.Is(err, ErrClosed) {
		t.Fatalf("audit after close: %v", err)
	}
}

func TestDropCounts(t *testing.T) {
	ctx := context.Background()
	sink := &switchSink{fail: true}
	e := newErrs()
	for _, mode := range []Mode{Sync, Async} {
		l, _ := New(sink, &Options{Salt: testSalt, Mode: mode, Policy: Drop, ErrorHandler: e.handler})
		for i := 0; i < 5; i++ {
			if err := l.Audit(ctx, testRecord("a")); err != nil {
				t.Fatalf("drop policy failed the audit: %v", err)
			}
		}
		l.Flush(ctx)
		if st := l.Stats(); st.Dropped != 5 || st.Written != 0 {
			t.Fatalf("mode %d: stats %+v", mode, st)
		}
		if err := <-e.ch; !strings.Contains(err.Error(), "dropped") {
			t.Fatalf("report %v", err)
		}
		l.Close()
	}
}

// gateSink blocks every Handle until release is closed.
type gateSink struct {
	entered chan struct{}
	release chan struct{}
	n       atomic.Int64
}

func (g *gateSink) Handle(_ context.Context, b []Entry) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	g.n.Add(int64(len(b)))
	return nil
}

func TestQueueFull(t *testing.T) {
	tests := []struct {
		policy Policy
		check  func(t *testing.T, err error, l *Logger)
	}{
		{Refuse, func(t *testing.T, err error, l *Logger) {
			if !errors.Is(err, ErrQueueFull) {
				t.Fatalf("err = %v", err)
			}
			if err := l.Ready(context.Background()); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("Ready = %v", err)
			}
		}},
		{Drop, func(t *testing.T, err error, l *Logger) {
			if err != nil || l.Stats().Dropped != 1 {
				t.Fatalf("err = %v, stats %+v", err, l.Stats())
			}
		}},
		{Block, func(t *testing.T, err error, l *Logger) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
			if err := l.Ready(context.Background()); err != nil {
				t.Fatalf("Ready under Block = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		g := &gateSink{entered: make(chan struct{}, 1), release: make(chan struct{})}
		l, _ := New(g, &Options{Salt: testSalt, Mode: Async, Policy: tt.policy, QueueSize: 2, BatchSize: 1, ErrorHandler: func(error) {}})
		ctx := context.Background()
		l.Audit(ctx, testRecord("0"))
		<-g.entered // the writer holds entry 0
		l.Audit(ctx, testRecord("1"))
		l.Audit(ctx, testRecord("2"))
		ctx2, cancel := context.WithTimeout(ctx, time.Millisecond)
		err := l.Audit(ctx2, testRecord("3"))
		cancel()
		tt.check(t, err, l)
		close(g.release)
		l.Close()
		if g.n.Load() != 3 {
			t.Fatalf("policy %d: %d written, want 3", tt.policy, g.n.Load())
		}
	}
}

func TestCloseUnblocksBlockedCallers(t *testing.T) {
	g := &gateSink{entered: make(chan struct{}, 1), release: make(chan struct{})}
	l, _ := New(g, &Options{Salt: testSalt, Mode: Async, Policy: Block, QueueSize: 1, BatchSize: 1})
	ctx := context.Background()
	l.Audit(ctx, testRecord("0"))
	<-g.entered
	l.Audit(ctx, testRecord("1"))
	done := make(chan error)
	go func() { done <- l.Audit(ctx, testRecord("2")) }()
	go func() { time.Sleep(time.Millisecond); close(g.release) }()
	l.Close()
	if err := <-done; err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked audit: %v", err)
	}
}

func TestConcurrentSync(t *testing.T) {
	var buf bytes.Buffer
	sink := NewJSONSink(&buf)
	l, _ := New(sink, &Options{Salt: testSalt, BatchSize: 16})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := l.Audit(context.Background(), testRecord("op")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, ln := range lines {
		if _, err := ParseEntry([]byte(ln)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMultiSink(t *testing.T) {
	ctx := context.Background()
	a, b := &switchSink{}, &switchSink{fail: true}
	var reported []int
	m := Multi(a, b)
	m.OnError = func(i int, err error) { reported = append(reported, i) }
	if err := m.Handle(ctx, []Entry{{Operation: "x"}}); err != nil {
		t.Fatalf("one sink recorded it, yet: %v", err)
	}
	if m.Failures() != 1 || len(reported) != 1 || reported[0] != 1 {
		t.Fatalf("failures %d, reported %v", m.Failures(), reported)
	}
	m.RequireAll = true
	if err := m.Handle(ctx, []Entry{{Operation: "x"}}); err == nil {
		t.Fatal("RequireAll passed with a failed sink")
	}
	m.RequireAll = false
	a.set(true)
	if err := m.Handle(ctx, []Entry{{Operation: "x"}}); err == nil {
		t.Fatal("no sink recorded it, yet no error (fail closed)")
	}
	if err := Multi().Handle(ctx, nil); err == nil {
		t.Fatal("an empty multi sink succeeded")
	}
}

func TestSlogSink(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil)
	l, _ := New(SlogSink(h), &Options{Salt: testSalt})
	r := testRecord("search")
	r.CallerFilter = driver.Eq("k", driver.String("CANARY"))
	if err := l.Audit(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	l.Close()
	out := buf.String()
	if !strings.Contains(out, `"msg":"audit"`) || !strings.Contains(out, `"op":"search"`) || strings.Contains(out, "CANARY") {
		t.Fatalf("slog output %s", out)
	}
	// A handler that is off for Info fails loudly.
	off := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})
	l, _ = New(SlogSink(off), &Options{Salt: testSalt})
	defer l.Close()
	if err := l.Audit(context.Background(), testRecord("x")); err == nil {
		t.Fatal("a disabled slog handler dropped the entry silently")
	}
}
