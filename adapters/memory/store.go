package memory

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Options configures a persistent Store. The zero value (or nil) is valid.
type Options struct {
	// NoSync skips the fsync after each write. Writes are faster, and a crash
	// of the machine (not of the process) may lose the latest writes or
	// damage the log's tail.
	NoSync bool
	// CompactBytes is the log size that triggers a compaction, once the log
	// is also larger than the last snapshot. 0 means 64 MiB; a negative value
	// turns automatic compaction off (Compact still works).
	CompactBytes int64
	// Logger receives recovery and compaction reports. nil means
	// slog.Default(). Reports never carry vectors or payload values.
	Logger *slog.Logger
}

// Recovery reports what Open repaired.
type Recovery struct {
	// TruncatedAt is the log offset where a torn or corrupt tail record
	// started; TruncatedBytes how many bytes were cut from there. Both are 0
	// when the log was intact.
	TruncatedAt    int64
	TruncatedBytes int64
	// StaleLog is set when Open found a log older than the snapshot (a
	// compaction was interrupted after the snapshot was written) and
	// discarded it; the snapshot already held its operations.
	StaleLog bool
}

// Store is the embedded vector store. It implements driver.Driver and
// driver.SystemNamer; its collections implement driver.Collection and
// driver.PayloadUpdater. A Store is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	colls  map[string]*collection
	closed bool

	p          *persister // nil without persistence
	logger     *slog.Logger
	compactAt  int64
	compacting atomic.Bool
	recovery   Recovery
}

var (
	_ driver.Driver         = (*Store)(nil)
	_ driver.SystemNamer    = (*Store)(nil)
	_ driver.Collection     = (*handle)(nil)
	_ driver.PayloadUpdater = (*handle)(nil)
)

// New returns an empty Store that lives only in memory.
func New() *Store {
	return &Store{colls: map[string]*collection{}, logger: slog.Default()}
}

// SystemName implements driver.SystemNamer.
func (s *Store) SystemName() string { return "memory" }

// Recovery reports what Open repaired when it loaded the store.
func (s *Store) Recovery() Recovery { return s.recovery }

// Close releases the store: a persistent store syncs and closes its files.
// Later operations fail with FailedPrecondition. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.p != nil {
		return s.p.close()
	}
	return nil
}

var errClosed = driver.Errorf(driver.FailedPrecondition, "memory store is closed")

func notFound() error { return driver.Errorf(driver.NotFound, "collection not found") }

// CreateCollection implements driver.Driver.
func (s *Store) CreateCollection(ctx context.Context, spec *driver.CollectionSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if spec == nil {
		return driver.Errorf(driver.InvalidArgument, "no collection spec")
	}
	if err := spec.Validate(true); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if _, ok := s.colls[spec.Name]; ok {
		return driver.Errorf(driver.AlreadyExists, "collection already exists")
	}
	if err := s.logRecord(func() []byte { return encodeCreate(spec) }); err != nil {
		return err
	}
	s.colls[spec.Name] = newCollection(spec)
	return nil
}

// DescribeCollection implements driver.Driver.
func (s *Store) DescribeCollection(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	c, ok := s.colls[name]
	if !ok {
		return nil, notFound()
	}
	return c.spec.Clone(), nil
}

// ListCollections implements driver.Driver.
func (s *Store) ListCollections(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	names := make([]string, 0, len(s.colls))
	for n := range s.colls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// DropCollection implements driver.Driver.
func (s *Store) DropCollection(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	c, ok := s.colls[name]
	if !ok {
		return notFound()
	}
	// Wait for the collection's in-flight operations, so that the log
	// holds every write to it before the drop.
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.logRecord(func() []byte { return encodeDrop(name) }); err != nil {
		return err
	}
	c.dropped = true
	delete(s.colls, name)
	return nil
}

// Collection implements driver.Driver. The handle finds the collection by
// name on every call, so it sees a collection created later and reports
// NotFound after a drop. It serves only a collection of the spec it was made
// for: once the name holds a collection created with another spec (dropped
// and created again, say with another tenant field), it reports NotFound,
// so that a caller holding the old spec describes the collection again.
func (s *Store) Collection(spec *driver.CollectionSpec) driver.Collection {
	return &handle{s: s, name: spec.Name, spec: spec.Clone()}
}

// logRecord appends a record to the log of a persistent store. Callers hold
// the lock that orders the operation (the store's for create and drop, the
// collection's for data operations).
func (s *Store) logRecord(encode func() []byte) error {
	if s.p == nil {
		return nil
	}
	return s.p.append(encode())
}

// afterWrite starts a compaction when the log has grown enough. It runs in
// the writer's goroutine after every lock is released; a failure is logged,
// never returned, because the write itself is already durable.
func (s *Store) afterWrite() {
	if s.p == nil || s.compactAt <= 0 || !s.p.wantsCompaction(s.compactAt) {
		return
	}
	if !s.compacting.CompareAndSwap(false, true) {
		return
	}
	defer s.compacting.Store(false)
	if err := s.Compact(); err != nil {
		s.logger.Error("memory: compaction failed; the log keeps growing", "err", err)
	}
}

// handle is the driver.Collection of a Store.
type handle struct {
	s     *Store
	name  string
	spec  *driver.CollectionSpec     // the spec the handle was made for
	bound atomic.Pointer[collection] // the last collection found to have spec
}

// lookup returns the collection the handle names, unlocked.
func (h *handle) lookup(ctx context.Context) (*collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.s.mu.RLock()
	c, closed := h.s.colls[h.name], h.s.closed
	h.s.mu.RUnlock()
	if closed {
		return nil, errClosed
	}
	if c == nil {
		return nil, notFound()
	}
	if h.bound.Load() != c {
		if !sameSpec(c.spec, h.spec) {
			return nil, notFound() // the handle's collection was dropped
		}
		h.bound.Store(c)
	}
	return c, nil
}

// sameSpec reports whether a and b describe the same vectors, fields and
// tenant field.
func sameSpec(a, b *driver.CollectionSpec) bool {
	return a.Name == b.Name && a.TenantField == b.TenantField &&
		slices.Equal(a.Vectors, b.Vectors) && slices.Equal(a.Fields, b.Fields)
}

// get returns the live collection, read-locked or write-locked.
func (h *handle) get(ctx context.Context, write bool) (*collection, error) {
	c, err := h.lookup(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.lock(write); err != nil {
		return nil, err
	}
	return c, nil
}

// Upsert implements driver.Collection.
func (h *handle) Upsert(ctx context.Context, points []driver.Point) error {
	c, err := h.lookup(ctx)
	if err != nil {
		return err
	}
	// Check, copy and encode before taking the lock: the spec never changes.
	pts, err := prepare(c.spec, points)
	if err != nil {
		return err
	}
	var rec []byte
	if h.s.p != nil {
		rec = encodeUpsert(h.name, pts)
	}
	if err := c.lock(true); err != nil {
		return err
	}
	err = h.s.logRecord(func() []byte { return rec })
	if err == nil {
		c.upsert(pts)
	}
	c.mu.Unlock()
	if err == nil {
		h.s.afterWrite()
	}
	return err
}

// Search implements driver.Collection.
func (h *handle) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	c, err := h.get(ctx, false)
	if err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	return c.search(ctx, q)
}

// Read implements driver.Collection.
func (h *handle) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	c, err := h.get(ctx, false)
	if err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	if r.IDs != nil {
		return c.readIDs(r), nil
	}
	return c.scroll(ctx, r)
}

// Count implements driver.Collection.
func (h *handle) Count(ctx context.Context, f *driver.Filter) (int64, error) {
	c, err := h.get(ctx, false)
	if err != nil {
		return 0, err
	}
	defer c.mu.RUnlock()
	if f == nil {
		return int64(len(c.slotOf)), nil
	}
	var n int64
	err = c.each(ctx, f, func(int32) bool { n++; return true })
	return n, err
}

// Delete implements driver.Collection.
func (h *handle) Delete(ctx context.Context, sel *driver.Selector) error {
	c, err := h.get(ctx, true)
	if err != nil {
		return err
	}
	slots, err := c.selectSlots(ctx, sel)
	if err == nil && len(slots) > 0 {
		if err = h.s.logRecord(func() []byte { return encodeDelete(h.name, c.idsOf(slots)) }); err == nil {
			c.deleteSlots(slots)
		}
	}
	c.mu.Unlock()
	if err == nil && len(slots) > 0 {
		h.s.afterWrite()
	}
	return err
}

// UpdatePayload implements driver.PayloadUpdater.
func (h *handle) UpdatePayload(ctx context.Context, sel *driver.Selector, set map[string]any, unset []string) error {
	set, err := driver.NormalizePayload(set)
	if err != nil {
		return err
	}
	unset = slices.Clone(unset)
	c, err := h.get(ctx, true)
	if err != nil {
		return err
	}
	slots, err := c.selectSlots(ctx, sel)
	if err == nil && len(slots) > 0 {
		if err = h.s.logRecord(func() []byte { return encodeSetPayload(h.name, c.idsOf(slots), set, unset) }); err == nil {
			c.updatePayload(slots, set, unset)
		}
	}
	c.mu.Unlock()
	if err == nil && len(slots) > 0 {
		h.s.afterWrite()
	}
	return err
}
