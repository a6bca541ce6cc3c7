// Package limits holds the anti-extraction controls of vecguard: budgets
// per principal (subject and tenant) on requests, rows returned, stored
// vectors returned and enumeration calls (scroll and count), refilled
// continuously over a window.
//
// An attacker who holds valid credentials can still copy a collection out
// through its own rights, one page or one nearest-neighbour query at a
// time, or reconstruct documents from returned embeddings. Budgets bound
// how fast that can go and make it show in metrics and the audit log.
//
// # Errors
//
// A refusal is a *driver.Error with code ResourceExhausted and RetryAfter
// set to when the budget will have refilled enough (errors.Is(err,
// vecguard.ErrResourceExhausted)). A read whose result would overdraw the
// rows or vectors budget is refused whole: its results are withheld, and
// nothing is charged, so a smaller page can still pass.
package limits

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Request describes one operation to the Limiter.
type Request struct {
	Subject   string
	Tenant    string
	Operation string // "search", "scroll", ...
	// Enumeration marks operations that walk or size a collection (scroll,
	// count); they draw on Budget.Enumerations as well as Requests.
	Enumeration bool
}

// Limiter decides whether a principal may run an operation now. The
// guarded client calls Begin when an operation starts and, for reads that
// succeed, End with what they return. Implementations must be safe for
// concurrent use.
type Limiter interface {
	// Begin charges one request (and one enumeration). It refuses with a
	// ResourceExhausted *driver.Error carrying RetryAfter.
	Begin(ctx context.Context, r *Request) error
	// End charges the rows and stored vectors a read returns. An error
	// withholds the results.
	End(ctx context.Context, r *Request, rows, vectors int) error
}

// Budget is what one principal may spend per Window. A zero limit means
// unlimited. Spending refills continuously: a budget of 600 requests a
// minute allows a burst of 600 and then 10 a second.
type Budget struct {
	Window       time.Duration // default one minute
	Requests     int
	Rows         int
	Vectors      int
	Enumerations int
}

// Options configures a Memory limiter.
type Options struct {
	// BudgetFor, if set, returns the budget of a principal; ok false
	// falls back to the default budget.
	BudgetFor func(subject, tenant string) (b Budget, ok bool)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Memory is the in-memory Limiter: a token bucket per principal and
// counter. Principals whose buckets are full are forgotten, so memory
// follows the number of recently active principals.
type Memory struct {
	def  Budget
	opts Options

	mu    sync.Mutex
	state map[key]*buckets
	sweep int // map size at which to forget idle principals
}

var _ Limiter = (*Memory)(nil)

type key struct{ subject, tenant string }

// bucket is one token bucket; capacity 0 means unlimited.
type bucket struct {
	capacity float64
	rate     float64 // tokens per second
	tokens   float64
}

type buckets struct {
	last                              time.Time
	requests, rows, vectors, enumerat bucket
}

// NewMemory returns a Memory limiter with the default budget def. opts may
// be nil.
func NewMemory(def Budget, opts *Options) *Memory {
	m := &Memory{def: def, state: map[key]*buckets{}, sweep: 1024}
	if opts != nil {
		m.opts = *opts
	}
	if m.opts.Now == nil {
		m.opts.Now = time.Now
	}
	return m
}

func newBucket(limit int, window time.Duration) bucket {
	if limit <= 0 {
		return bucket{}
	}
	c := float64(limit)
	return bucket{capacity: c, rate: c / window.Seconds(), tokens: c}
}

func (b *bucket) refill(dt float64) {
	if b.capacity > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+dt*b.rate)
	}
}

func (b *bucket) full() bool { return b.capacity == 0 || b.tokens >= b.capacity }

// wait returns how long until the bucket holds n tokens; 0 if it does.
func (b *bucket) wait(n float64) time.Duration {
	if b.capacity == 0 || b.tokens >= n {
		return 0
	}
	if n > b.capacity {
		n = b.capacity
	}
	d := time.Duration((n - b.tokens) / b.rate * float64(time.Second))
	return max(d, time.Millisecond)
}

func (b *bucket) take(n float64) {
	if b.capacity > 0 {
		b.tokens -= n
	}
}

// get returns the principal's buckets, refilled to now. m.mu is held.
func (m *Memory) get(r *Request) *buckets {
	k := key{r.Subject, r.Tenant}
	now := m.opts.Now()
	s := m.state[k]
	if s == nil {
		if len(m.state) >= m.sweep {
			m.forgetIdle(now)
		}
		b := m.def
		if m.opts.BudgetFor != nil {
			if pb, ok := m.opts.BudgetFor(r.Subject, r.Tenant); ok {
				b = pb
			}
		}
		w := b.Window
		if w <= 0 {
			w = time.Minute
		}
		s = &buckets{last: now, requests: newBucket(b.Requests, w), rows: newBucket(b.Rows, w),
			vectors: newBucket(b.Vectors, w), enumerat: newBucket(b.Enumerations, w)}
		m.state[k] = s
		return s
	}
	if dt := now.Sub(s.last).Seconds(); dt > 0 {
		for _, b := range []*bucket{&s.requests, &s.rows, &s.vectors, &s.enumerat} {
			b.refill(dt)
		}
		s.last = now
	}
	return s
}

// forgetIdle drops principals whose buckets have refilled: forgetting them
// changes nothing.
func (m *Memory) forgetIdle(now time.Time) {
	for k, s := range m.state {
		dt := now.Sub(s.last).Seconds()
		idle := true
		for _, b := range []bucket{s.requests, s.rows, s.vectors, s.enumerat} {
			b.refill(dt)
			idle = idle && b.full()
		}
		if idle {
			delete(m.state, k)
		}
	}
	m.sweep = max(1024, 2*len(m.state))
}

func exhausted(what string, d time.Duration) error {
	return &driver.Error{Code: driver.ResourceExhausted, Msg: what + " budget spent", RetryAfter: d}
}

// Begin implements Limiter.
func (m *Memory) Begin(_ context.Context, r *Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.get(r)
	if d := s.requests.wait(1); d > 0 {
		return exhausted("request", d)
	}
	if r.Enumeration {
		if d := s.enumerat.wait(1); d > 0 {
			return exhausted("enumeration", d)
		}
		s.enumerat.take(1)
	}
	s.requests.take(1)
	return nil
}

// End implements Limiter.
func (m *Memory) End(_ context.Context, r *Request, rows, vectors int) error {
	if rows <= 0 && vectors <= 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.get(r)
	if s.rows.capacity > 0 && float64(rows) > s.rows.capacity || s.vectors.capacity > 0 && float64(vectors) > s.vectors.capacity {
		return &driver.Error{Code: driver.ResourceExhausted, Msg: "the result is larger than the whole budget; ask for fewer rows"}
	}
	if d := s.rows.wait(float64(rows)); d > 0 {
		return exhausted("rows", d)
	}
	if d := s.vectors.wait(float64(vectors)); d > 0 {
		return exhausted("vectors", d)
	}
	s.rows.take(float64(rows))
	s.vectors.take(float64(vectors))
	return nil
}
