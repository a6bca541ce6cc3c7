package audit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Mode says when Audit returns.
type Mode uint8

const (
	// Sync returns once the entry's batch is recorded by the sink (group
	// commit: the entries that queue up during one write go in the next).
	// An acknowledged entry survives a crash of the process.
	Sync Mode = iota
	// Async returns once the entry is queued.
	Async
)

// Policy says what happens when the queue is full or the sink fails.
type Policy uint8

const (
	// Refuse fails closed: an entry that cannot be queued, or (Sync) whose
	// batch the sink fails, fails Audit, so the client refuses the
	// operation. In Async mode a failed batch is kept and retried, and new
	// entries are refused until the sink records it. Ready reports the
	// condition so that writes are refused before they change anything.
	Refuse Policy = iota
	// Block waits for room in the queue (until the context passed to Audit
	// ends; see the package doc for the contexts the client passes) and
	// retries a failed batch until the sink records it.
	Block
	// Drop drops the entry or the failed batch, counts it in
	// Stats.Dropped and reports it to the ErrorHandler; Audit succeeds.
	Drop
)

// Errors of the Logger. They are *driver.Error values with code
// Unavailable; test them with errors.Is.
var (
	ErrQueueFull = &driver.Error{Code: driver.Unavailable, Msg: "audit queue is full"}
	ErrUnhealthy = &driver.Error{Code: driver.Unavailable, Msg: "audit sink is failing"}
	ErrClosed    = &driver.Error{Code: driver.Unavailable, Msg: "audit logger is closed"}
)

// Options configures a Logger. The zero value is valid: Sync, Refuse, a
// random salt and default sizes.
type Options struct {
	// Salt keys the HMAC of redacted values (at least 16 bytes). nil draws
	// a random salt: values are still hidden, but nobody can search for a
	// known value later. Keep the salt secret and apart from the log.
	Salt []byte
	// Mode is Sync (the default) or Async.
	Mode Mode
	// Policy is Refuse (the default), Block or Drop.
	Policy Policy
	// QueueSize bounds the entries waiting for the sink (default 8192).
	QueueSize int
	// BatchSize bounds the entries of one Handle call (default 512).
	BatchSize int
	// RetryInterval is the first wait before retrying a failed batch; it
	// doubles up to 32 times itself. Under Refuse in Sync mode it is also
	// how long Ready reports a failed sink. Default 100ms.
	RetryInterval time.Duration
	// ErrorHandler is told of every sink failure and every dropped entry
	// (nil: slog.Default at level Error). It must not block.
	ErrorHandler func(error)
}

// Stats is a snapshot of a Logger's counters.
type Stats struct {
	Queued   int   // entries waiting for the sink
	Written  int64 // entries the sink recorded
	Dropped  int64 // entries lost under the Drop policy or at Close
	Refused  int64 // Audit calls that failed (the operation was refused)
	Failures int64 // failed Handle calls
	Healthy  bool  // the last Handle call succeeded
}

// Gate is an optional interface of an Auditor: Ready reports whether an
// entry written now could be recorded. The guarded client asks it before a
// write, delete or admin operation changes anything, so that under a
// fail-closed policy such an operation is refused up front rather than
// done and then refused. A window remains: a sink that fails between Ready
// and the end of the operation fails the operation after its change.
type Gate interface {
	Ready(ctx context.Context) error
}

// StatsReporter is an optional interface of an Auditor; the guarded client
// exports its counters as metrics (drops, queue depth).
type StatsReporter interface {
	Stats() Stats
}

// Logger is the audit pipeline: it redacts each Record into an Entry in the
// caller's goroutine, queues it, and a single writer hands batches to the
// sink. It implements Auditor, Gate and StatsReporter and is safe for
// concurrent use.
type Logger struct {
	sink  Sink
	red   *Redactor
	opts  Options
	queue chan item
	stop  chan struct{} // closed by Close: stop retrying, stop blocking
	done  chan struct{} // closed when the writer has exited

	mu     sync.RWMutex // held for reading while sending to queue
	closed bool
	once   sync.Once

	written, dropped, refused, failures atomic.Int64
	unhealthy                           atomic.Bool
	lastFail                            atomic.Int64 // unix nanos of the last failure
	closeErr                            error
	lostAtClose                         int64 // written by the writer before done closes
}

type item struct {
	e     Entry
	done  chan error    // Sync: told the outcome
	flush chan struct{} // a Flush marker, no entry
}

var (
	_ Auditor       = (*Logger)(nil)
	_ Gate          = (*Logger)(nil)
	_ StatsReporter = (*Logger)(nil)
)

// New starts a Logger over sink. opts may be nil.
func New(sink Sink, opts *Options) (*Logger, error) {
	if sink == nil {
		return nil, errors.New("audit: nil sink")
	}
	l := &Logger{sink: sink, stop: make(chan struct{}), done: make(chan struct{})}
	if opts != nil {
		l.opts = *opts
	}
	o := &l.opts
	if o.Mode > Async || o.Policy > Drop {
		return nil, errors.New("audit: invalid mode or policy")
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 100 * time.Millisecond
	}
	if o.ErrorHandler == nil {
		o.ErrorHandler = func(err error) { slog.Default().Error("audit", "err", err) }
	}
	salt := o.Salt
	if salt == nil {
		var err error
		if salt, err = NewSalt(); err != nil {
			return nil, err
		}
	}
	red, err := NewRedactor(salt)
	if err != nil {
		return nil, err
	}
	o.Salt = nil
	l.red = red
	l.queue = make(chan item, o.QueueSize)
	go l.run()
	return l, nil
}

// Redactor returns the Logger's redactor, to hash a known value the way
// the log writes it.
func (l *Logger) Redactor() *Redactor { return l.red }

// Audit implements Auditor: it redacts r and queues the entry; in Sync mode
// it waits until the sink has recorded it. An error means the operation
// must be refused.
func (l *Logger) Audit(ctx context.Context, r *Record) error {
	it := item{e: l.red.Entry(r)}
	if l.opts.Mode == Sync {
		it.done = donePool.Get().(chan error)
	}
	if err := l.enqueue(ctx, it); err != nil {
		if err != errDropped {
			l.refused.Add(1)
			return err
		}
		return nil
	}
	if it.done == nil {
		return nil
	}
	select {
	case err := <-it.done:
		donePool.Put(it.done)
		if err != nil {
			l.refused.Add(1)
		}
		return err
	case <-ctx.Done():
		// The entry stays queued and may still be recorded.
		l.refused.Add(1)
		return ctx.Err()
	}
}

var donePool = sync.Pool{New: func() any { return make(chan error, 1) }}

var errDropped = errors.New("dropped")

func (l *Logger) enqueue(ctx context.Context, it item) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	switch l.opts.Policy {
	case Refuse:
		if l.opts.Mode == Async && l.unhealthy.Load() {
			return ErrUnhealthy
		}
		select {
		case l.queue <- it:
			return nil
		default:
			return ErrQueueFull
		}
	case Drop:
		select {
		case l.queue <- it:
			return nil
		default:
			l.dropped.Add(1)
			l.opts.ErrorHandler(errors.New("audit: queue full, 1 entry dropped"))
			return errDropped
		}
	default: // Block
		select {
		case l.queue <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stop:
			return ErrClosed
		}
	}
}

// Ready implements Gate. Under Refuse it fails when the queue is full or
// the sink is failing (in Sync mode: failed within the last RetryInterval);
// under Block and Drop it fails only when the Logger is closed.
func (l *Logger) Ready(ctx context.Context) error {
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if l.opts.Policy != Refuse {
		return nil
	}
	if len(l.queue) >= cap(l.queue) {
		return ErrQueueFull
	}
	if l.unhealthy.Load() {
		if l.opts.Mode == Async || time.Since(time.Unix(0, l.lastFail.Load())) < l.opts.RetryInterval {
			return ErrUnhealthy
		}
	}
	return ctx.Err()
}

// Stats implements StatsReporter.
func (l *Logger) Stats() Stats {
	return Stats{
		Queued:   len(l.queue),
		Written:  l.written.Load(),
		Dropped:  l.dropped.Load(),
		Refused:  l.refused.Load(),
		Failures: l.failures.Load(),
		Healthy:  !l.unhealthy.Load(),
	}
}

// Flush waits until every entry queued before it has been handed to the
// sink (recorded, or dropped by policy).
func (l *Logger) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.queue <- item{flush: ch}:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	case <-l.stop:
		l.mu.RUnlock()
		return ErrClosed
	}
	l.mu.RUnlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting entries, writes those queued (one attempt each, no
// retries), and closes the sink if it is an io.Closer. It reports entries
// that could not be written. Later Audit calls fail with ErrClosed.
func (l *Logger) Close() error {
	l.once.Do(func() {
		close(l.stop)
		l.mu.Lock()
		l.closed = true
		close(l.queue)
		l.mu.Unlock()
		<-l.done
		var errs []error
		if c, ok := l.sink.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		if l.lostAtClose > 0 {
			errs = append(errs, errors.New("audit: entries not written at close"))
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// run is the single writer.
func (l *Logger) run() {
	defer close(l.done)
	batch := make([]item, 0, l.opts.BatchSize)
	entries := make([]Entry, 0, l.opts.BatchSize)
	for {
		it, ok := <-l.queue
		if !ok {
			return
		}
		batch = append(batch[:0], it)
		var flushes []chan struct{}
	fill:
		for len(batch) < l.opts.BatchSize {
			select {
			case it, ok := <-l.queue:
				if !ok {
					break fill
				}
				batch = append(batch, it)
			default:
				break fill
			}
		}
		entries = entries[:0]
		for i := range batch {
			if batch[i].flush != nil {
				flushes = append(flushes, batch[i].flush)
				continue
			}
			entries = append(entries, batch[i].e)
		}
		if len(entries) > 0 {
			l.write(batch, entries)
			if l.opts.Mode == Sync {
				// Let the callers just acknowledged run before the next
				// batch: they queue their next entries behind it, which
				// keeps batches large and waits fair.
				runtime.Gosched()
			}
		}
		for _, f := range flushes {
			close(f)
		}
		clear(entries) // drop references to strings
	}
}

// write hands one batch to the sink and applies the policy to a failure.
func (l *Logger) write(batch []item, entries []Entry) {
	ctx := context.Background()
	wait := l.opts.RetryInterval
	for {
		err := l.sink.Handle(ctx, entries)
		if err == nil {
			l.unhealthy.Store(false)
			l.written.Add(int64(len(entries)))
			ack(batch, nil)
			return
		}
		l.failures.Add(1)
		l.lastFail.Store(time.Now().UnixNano())
		l.unhealthy.Store(true)
		n := int64(len(entries))
		stopping := isClosed(l.stop)
		switch {
		case l.opts.Policy == Drop:
			l.dropped.Add(n)
			l.opts.ErrorHandler(&dropError{n: n, err: err})
			ack(batch, nil)
			return
		case l.opts.Policy == Refuse && l.opts.Mode == Sync:
			l.opts.ErrorHandler(&sinkError{n: n, err: err})
			ack(batch, driver.Wrap(driver.Unavailable, err, "audit sink failed"))
			return
		case stopping:
			l.dropped.Add(n)
			l.lostAtClose += n
			l.opts.ErrorHandler(&dropError{n: n, err: err})
			ack(batch, ErrClosed)
			return
		}
		// Block, or Refuse in Async mode: keep the batch and retry.
		l.opts.ErrorHandler(&sinkError{n: n, err: err, retry: wait})
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.stop:
			t.Stop()
		}
		if wait < 32*l.opts.RetryInterval {
			wait *= 2
		}
	}
}

func ack(batch []item, err error) {
	for i := range batch {
		if batch[i].done != nil {
			batch[i].done <- err
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

type sinkError struct {
	n     int64
	err   error
	retry time.Duration
}

func (e *sinkError) Error() string {
	s := "audit: sink failed to record " + itoa(e.n) + " entries"
	if e.retry > 0 {
		s += ", retrying in " + e.retry.String()
	}
	return s + ": " + e.err.Error()
}

func (e *sinkError) Unwrap() error { return e.err }

type dropError struct {
	n   int64
	err error
}

func (e *dropError) Error() string {
	return "audit: " + itoa(e.n) + " entries dropped: " + e.err.Error()
}

func (e *dropError) Unwrap() error { return e.err }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
