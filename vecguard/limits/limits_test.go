package limits

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1e9, 0)} }
func retryAfter(err error) (time.Duration, bool) {
	var e *driver.Error
	if errors.As(err, &e) && e.Code == driver.ResourceExhausted {
		return e.RetryAfter, true
	}
	return 0, false
}

func TestBudgets(t *testing.T) {
	ctx := context.Background()
	alice := &Request{Subject: "alice", Tenant: "t1", Operation: "search"}
	scroll := &Request{Subject: "alice", Tenant: "t1", Operation: "scroll", Enumeration: true}
	tests := []struct {
		name   string
		budget Budget
		run    func(t *testing.T, m *Memory, c *clock)
	}{
		{"requests refill continuously", Budget{Window: time.Minute, Requests: 60}, func(t *testing.T, m *Memory, c *clock) {
			for i := 0; i < 60; i++ {
				if err := m.Begin(ctx, alice); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			err := m.Begin(ctx, alice)
			if d, ok := retryAfter(err); !ok || d != time.Second {
				t.Fatalf("61st request: %v", err)
			}
			c.advance(time.Second)
			if err := m.Begin(ctx, alice); err != nil {
				t.Fatalf("after a refill: %v", err)
			}
		}},
		{"principals are apart", Budget{Requests: 1}, func(t *testing.T, m *Memory, c *clock) {
			m.Begin(ctx, alice)
			if err := m.Begin(ctx, &Request{Subject: "alice", Tenant: "t2"}); err != nil {
				t.Fatalf("another tenant: %v", err)
			}
			if err := m.Begin(ctx, &Request{Subject: "bob", Tenant: "t1"}); err != nil {
				t.Fatalf("another subject: %v", err)
			}
			if err := m.Begin(ctx, alice); err == nil {
				t.Fatal("budget not kept")
			}
		}},
		{"enumerations", Budget{Window: time.Minute, Enumerations: 2}, func(t *testing.T, m *Memory, c *clock) {
			m.Begin(ctx, scroll)
			m.Begin(ctx, scroll)
			if _, ok := retryAfter(m.Begin(ctx, scroll)); !ok {
				t.Fatal("third scroll allowed")
			}
			if err := m.Begin(ctx, alice); err != nil {
				t.Fatalf("a search after scrolls: %v", err)
			}
		}},
		{"rows are strict and not charged when refused", Budget{Window: time.Minute, Rows: 100}, func(t *testing.T, m *Memory, c *clock) {
			if err := m.End(ctx, alice, 80, 0); err != nil {
				t.Fatal(err)
			}
			err := m.End(ctx, alice, 30, 0)
			if d, ok := retryAfter(err); !ok || d != 6*time.Second {
				t.Fatalf("overdraw: %v", err)
			}
			if err := m.End(ctx, alice, 20, 0); err != nil {
				t.Fatalf("a page that fits: %v", err)
			}
			if err := m.End(ctx, alice, 101, 0); err == nil {
				t.Fatal("a result larger than the budget passed")
			}
		}},
		{"vectors", Budget{Vectors: 5}, func(t *testing.T, m *Memory, c *clock) {
			if err := m.End(ctx, alice, 5, 5); err != nil {
				t.Fatal(err)
			}
			if _, ok := retryAfter(m.End(ctx, alice, 1, 1)); !ok {
				t.Fatal("vector budget not kept")
			}
			if err := m.End(ctx, alice, 3, 0); err != nil {
				t.Fatalf("rows without vectors: %v", err)
			}
		}},
		{"zero is unlimited", Budget{}, func(t *testing.T, m *Memory, c *clock) {
			for i := 0; i < 1000; i++ {
				if err := m.Begin(ctx, scroll); err != nil {
					t.Fatal(err)
				}
				if err := m.End(ctx, scroll, 10000, 10000); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			tt.run(t, NewMemory(tt.budget, &Options{Now: c.now}), c)
		})
	}
}

func TestBudgetFor(t *testing.T) {
	m := NewMemory(Budget{Requests: 1}, &Options{BudgetFor: func(s, _ string) (Budget, bool) {
		return Budget{Requests: 3}, s == "batch"
	}})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := m.Begin(ctx, &Request{Subject: "batch"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Begin(ctx, &Request{Subject: "batch"}); err == nil {
		t.Fatal("override not kept")
	}
}

func TestForgetIdle(t *testing.T) {
	c := newClock()
	m := NewMemory(Budget{Requests: 10}, &Options{Now: c.now})
	ctx := context.Background()
	for i := 0; i < 5000; i++ {
		m.Begin(ctx, &Request{Subject: fmt.Sprint(i)})
		if i%1000 == 999 {
			c.advance(time.Minute)
		}
	}
	if n := len(m.state); n > 2048 {
		t.Fatalf("%d principals kept", n)
	}
}

func TestConcurrent(t *testing.T) {
	m := NewMemory(Budget{Requests: 1000, Rows: 1 << 20}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := &Request{Subject: "s"}
				if m.Begin(context.Background(), r) == nil {
					m.End(context.Background(), r, 1, 0)
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed < 1000 || allowed > 1010 {
		t.Fatalf("%d of 1600 allowed with a budget of 1000", allowed)
	}
}
