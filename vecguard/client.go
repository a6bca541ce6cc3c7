package vecguard

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
	"github.com/vecguard/vecguard/vecguard/limits"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Options configures a Client. The zero value (or nil) is valid: it denies
// every operation, because no Authorizer is set.
type Options struct {
	// Authorizer decides every operation. nil denies everything.
	Authorizer authz.Authorizer
	// Auditor receives one record per operation; when it fails, the
	// operation is refused. nil records nothing. The record of a write,
	// delete or admin operation is delivered with a context that the
	// caller's cancellation does not end: its change may have been made.
	Auditor audit.Auditor
	// RecordResultIDs puts the IDs of returned points in audit records.
	RecordResultIDs bool
	// Encryption protects the named collections (by collection name).
	Encryption map[string]encryption.Protector
	// Limiter enforces per-principal budgets on requests, rows and
	// vectors returned and enumeration (package limits). nil: no limits.
	Limiter limits.Limiter
	// TracerProvider receives a span per operation and MeterProvider the
	// metrics (decisions, denials, violations, audit drops and queue
	// depth), by OpenTelemetry's database conventions. nil: no-op.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Client is the guarded client an application holds. It authorizes, encrypts
// and audits every operation and then calls its driver. A Client is safe for
// concurrent use.
type Client struct {
	drv        driver.Driver
	opts       Options
	authorizer authz.Authorizer
	classifier driver.ErrorClassifier
	system     string
	tel        *telemetry

	mu    sync.RWMutex
	colls map[string]*collState

	violations atomic.Int64
	closed     atomic.Bool
}

type collState struct {
	user   *driver.CollectionSpec // what callers see
	stored *driver.CollectionSpec // what the database holds
	coll   driver.Collection
	prot   encryption.Protector
	loaded time.Time // when the spec was described
}

// specTTL is how long a cached collection spec is trusted. Another client
// may drop a collection and create it again with another spec (another
// tenant field, say): the client describes a collection again once its
// cached spec is older than specTTL, and at once after an operation on it
// failed with NotFound (the memory store's handles report NotFound for a
// collection created again with another spec).
const specTTL = 5 * time.Second

// New returns a Client over the driver d. opts may be nil.
func New(d driver.Driver, opts *Options) *Client {
	c := &Client{drv: d, colls: map[string]*collState{}, system: "unknown"}
	if opts != nil {
		c.opts = *opts
	}
	c.authorizer = c.opts.Authorizer
	if c.authorizer == nil {
		c.authorizer = authz.DenyAll
	}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	c.classifier, _ = d.(driver.ErrorClassifier)
	if n, ok := d.(driver.SystemNamer); ok {
		c.system = n.SystemName()
	}
	c.tel = newTelemetry(c.opts.TracerProvider, c.opts.MeterProvider, c.opts.Auditor)
	return c
}

// Close closes the driver if it has a Close method. Later calls fail with
// FailedPrecondition.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.tel.close()
	if cl, ok := c.drv.(interface{ Close() error }); ok {
		return c.wrap("close", "", cl.Close())
	}
	return nil
}

// Violations returns how many result rows the re-check has dropped since the
// client was made. Anything but zero means a driver returned rows outside a
// caller's rights: a bug to report.
func (c *Client) Violations() int64 { return c.violations.Load() }

// call is one guarded operation in progress.
type call struct {
	c     *Client
	ctx   context.Context
	p     *authz.Principal
	start time.Time
	rec   audit.Record

	span   trace.Span
	limit  *limits.Request // the limiter's view of the operation, once charged
	denial string          // why the operation was refused: "authz", "limit", "audit"
}

func (c *Client) begin(ctx context.Context, op string, class audit.Class, coll string) (*call, error) {
	k := &call{c: c, ctx: ctx, start: c.opts.Now()}
	k.rec = audit.Record{Time: k.start, Operation: op, Class: class, System: c.system, Collection: coll}
	k.ctx = c.tel.start(ctx, k)
	if c.closed.Load() {
		return k, driver.Errorf(driver.FailedPrecondition, "client is closed")
	}
	p, ok := authz.FromContext(ctx)
	if !ok {
		return k, driver.Errorf(driver.Unauthenticated, "no principal in context")
	}
	k.p = p
	k.rec.Subject, k.rec.Tenant, k.rec.Roles = p.Subject, p.Tenant, p.Roles
	if err := p.Validate(); err != nil {
		return k, err
	}
	if coll != "" && !driver.ValidName(coll) {
		return k, driver.Errorf(driver.InvalidArgument, "invalid collection name")
	}
	if err := ctx.Err(); err != nil {
		return k, err
	}
	// Fail closed before anything changes: an operation that would change
	// data is refused while the audit log could not record it.
	if g, ok := c.opts.Auditor.(audit.Gate); ok && class != audit.ClassRead {
		if err := g.Ready(ctx); err != nil {
			k.denial = "audit"
			k.rec.Reason = "audit log not ready"
			return k, auditError(err)
		}
	}
	if c.opts.Limiter != nil {
		r := &limits.Request{Subject: p.Subject, Tenant: p.Tenant, Operation: op, Enumeration: op == "scroll" || op == "count"}
		if err := c.opts.Limiter.Begin(ctx, r); err != nil {
			k.denial = "limit"
			k.rec.Rule, k.rec.Reason = "limits", "limit: "+limitReason(err)
			return k, err
		}
		k.limit = r
	}
	return k, nil
}

// pointReads are the operations whose results are points: the limiter
// charges their rows and vectors.
var pointReads = map[string]bool{"search": true, "recommend": true, "get": true, "scroll": true}

func limitReason(err error) string {
	var e *driver.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return "budget spent"
}

// auditError is the error an operation fails with when the audit log
// cannot record it: Unavailable unless the auditor's error has a code.
func auditError(aerr error) *driver.Error {
	e := driver.Wrap(driver.Unavailable, aerr, "audit log cannot record the operation")
	if code := driver.CodeOf(aerr); code != driver.Unknown {
		e.Code = code
	}
	return e
}

// authorize asks the authorizer and returns the row filter of an allowed
// decision. A denial or an authorizer error is returned as an error.
func (k *call) authorize(a authz.Action, coll string) (*driver.Filter, error) {
	d, err := k.c.authorizer.Authorize(k.ctx, k.p, a, coll)
	if err != nil {
		k.rec.Allowed = false
		k.rec.Reason = "authorizer failed"
		if driver.CodeOf(err) == driver.Unknown {
			return nil, driver.Wrap(driver.PermissionDenied, err, "authorizer failed")
		}
		return nil, err
	}
	k.rec.Allowed, k.rec.Rule, k.rec.Reason = d.Allow, d.Rule, d.Reason
	if !d.Allow {
		msg := string(a) + " denied"
		if d.Reason != "" {
			msg += ": " + d.Reason
		}
		return nil, driver.Errorf(driver.PermissionDenied, "%s", msg)
	}
	return d.Filter, nil
}

// scope returns the row filter for action a on st: tenant isolation AND the
// authorizer's row filter.
func (k *call) scope(st *collState, a authz.Action) (*driver.Filter, error) {
	rows, err := k.authorize(a, st.user.Name)
	if err != nil {
		return nil, err
	}
	var f *driver.Filter
	if tf := st.user.TenantField; tf != "" {
		if k.p.Tenant == "" {
			k.rec.Allowed = false
			k.rec.Reason = "principal has no tenant"
			return nil, driver.Errorf(driver.PermissionDenied, "collection is tenant-isolated and the principal has no tenant")
		}
		f = driver.Eq(tf, driver.String(k.p.Tenant))
	}
	if rows != nil {
		if err := rows.Validate(st.user); err != nil {
			k.rec.Allowed = false
			k.rec.Reason = "policy filter invalid for this collection"
			return nil, driver.Wrap(driver.PermissionDenied, err, "policy row filter does not fit the collection")
		}
		if f == nil {
			f = rows
		} else if rows = withoutConjunct(rows, f); rows != nil {
			f = driver.And(f, rows)
		}
	}
	k.rec.PolicyFilter = f
	return f, nil
}

// withoutConjunct returns rows without the conjuncts equal to c, which the
// caller ANDs with it anyway (a policy that repeats the tenant condition),
// so that the database does not evaluate them twice; nil when nothing is
// left. The result AND c matches exactly what rows AND c matches.
func withoutConjunct(rows, c *driver.Filter) *driver.Filter {
	if rows.Equal(c) {
		return nil
	}
	if rows.Op != driver.OpAnd {
		return rows
	}
	var kept []*driver.Filter
	for i, ch := range rows.Children {
		if ch.Equal(c) {
			if kept == nil {
				kept = append(make([]*driver.Filter, 0, len(rows.Children)), rows.Children[:i]...)
			}
			continue
		}
		if kept != nil {
			kept = append(kept, ch)
		}
	}
	switch {
	case kept == nil:
		return rows // nothing removed
	case len(kept) == 0:
		return nil
	}
	return driver.And(kept...)
}

func (k *call) encScope(st *collState) encryption.Scope {
	s := encryption.Scope{Collection: st.user.Name}
	if st.user.TenantField != "" {
		s.Tenant = k.p.Tenant
	}
	return s
}

// end finishes an operation: it wraps err once, writes the audit record and
// returns the error the caller sees. A failed audit refuses the operation:
// callers return no results with a non-nil error from end.
func (k *call) end(err error) error {
	c := k.c
	k.rec.Latency = c.opts.Now().Sub(k.start)
	if !boundedFilter(k.rec.CallerFilter) {
		k.rec.CallerFilter = nil // refused for its size; too large to render
	}
	if err == nil && k.limit != nil && pointReads[k.rec.Operation] {
		if lerr := c.opts.Limiter.End(k.ctx, k.limit, k.rec.ResultCount, k.rec.Vectors); lerr != nil {
			err = lerr
			k.denial = "limit"
			k.rec.Allowed, k.rec.Rule, k.rec.Reason = false, "limits", "limit: "+limitReason(lerr)
		}
	}
	err = c.wrap(k.rec.Operation, k.rec.Collection, err)
	if err != nil {
		k.rec.Code = driver.CodeOf(err)
		k.rec.Err = err.Error()
		if k.rec.Code == driver.NotFound && k.rec.Collection != "" {
			c.forget(k.rec.Collection) // the cached spec may be stale
		}
		if k.rec.Allowed && (k.rec.Code == driver.PermissionDenied || k.rec.Code == driver.Unauthenticated) {
			// The authorizer allowed the action but the guard refused it
			// (another tenant's row, a row outside the write condition):
			// the operation was denied, and the record says so and why.
			k.rec.Allowed = false
			var e *driver.Error
			if errors.As(err, &e) {
				k.rec.Reason = e.Msg
			}
		}
		if k.denial == "" && !k.rec.Allowed && (k.rec.Code == driver.PermissionDenied || k.rec.Code == driver.Unauthenticated) {
			k.denial = "authz"
		}
	}
	if c.opts.Auditor != nil {
		actx := k.ctx
		if k.rec.Class != audit.ClassRead {
			// A change may have been made: it is recorded even if the
			// caller gave up meanwhile.
			actx = context.WithoutCancel(k.ctx)
		}
		if aerr := c.opts.Auditor.Audit(actx, &k.rec); aerr != nil {
			e := auditError(aerr)
			e.Op, e.Collection = k.rec.Operation, k.rec.Collection
			k.denial = "audit"
			c.tel.finish(k, e)
			return e
		}
	}
	c.tel.finish(k, err)
	return err
}

// boundedFilter reports whether walking f visits at most MaxFilterNodes
// nodes, MaxFilterDepth deep, with at most MaxFilterValues values or IDs
// each, as Validate requires. A caller's filter may share nodes (or form a
// cycle) so that rendering it for the audit record and the span would never
// end; such a filter is refused and not recorded.
func boundedFilter(f *driver.Filter) bool {
	nodes := 0
	var walk func(f *driver.Filter, depth int) bool
	walk = func(f *driver.Filter, depth int) bool {
		nodes++
		if nodes > driver.MaxFilterNodes || depth > driver.MaxFilterDepth {
			return false
		}
		if f == nil {
			return true
		}
		if len(f.Values) > driver.MaxFilterValues || len(f.IDs) > driver.MaxFilterValues || len(f.Field) > driver.MaxNameLen {
			return false
		}
		for _, ch := range f.Children {
			if !walk(ch, depth+1) {
				return false
			}
		}
		return true
	}
	return f == nil || walk(f, 0)
}

// wrap classifies err and wraps it exactly once as an *Error that names the
// operation and collection.
func (c *Client) wrap(op, coll string, err error) error {
	if err == nil {
		return nil
	}
	var e *driver.Error
	if errors.As(err, &e) {
		if e.Op != "" {
			return err // wrapped already
		}
		cp := *e
		cp.Op, cp.Collection = op, coll
		return &cp
	}
	code := driver.CodeOf(err)
	if code == driver.Unknown && c.classifier != nil {
		code = c.classifier.ErrorCode(err)
	}
	return &driver.Error{Code: code, Op: op, Collection: coll, Err: err}
}

// state returns the cached description of a collection, loading it from the
// driver on first use.
func (c *Client) state(ctx context.Context, name string) (*collState, error) {
	now := c.opts.Now()
	c.mu.RLock()
	st := c.colls[name]
	c.mu.RUnlock()
	if st != nil && now.Sub(st.loaded) < specTTL {
		return st, nil
	}
	stored, err := c.drv.DescribeCollection(ctx, name)
	if err != nil {
		return nil, err
	}
	st = c.newState(stored)
	st.loaded = now
	c.mu.Lock()
	c.colls[name] = st
	c.mu.Unlock()
	return st, nil
}

func (c *Client) newState(stored *driver.CollectionSpec) *collState {
	user := stored.Clone()
	user.Fields = user.Fields[:0]
	for _, f := range stored.Fields {
		if len(f.Name) < len(driver.ReservedPrefix) || f.Name[:len(driver.ReservedPrefix)] != driver.ReservedPrefix {
			user.Fields = append(user.Fields, f)
		}
	}
	return &collState{user: user, stored: stored, coll: c.drv.Collection(stored), prot: c.opts.Encryption[stored.Name]}
}

func (c *Client) forget(name string) {
	c.mu.Lock()
	delete(c.colls, name)
	c.mu.Unlock()
}

// lookup resolves a collection for action a; a missing collection forgets
// the cache entry. A caller not allowed a gets the denial instead of
// NotFound, so that it cannot probe which collections exist.
func (k *call) lookup(name string, a authz.Action) (*collState, error) {
	st, err := k.c.state(k.ctx, name)
	if err != nil {
		k.c.forget(name)
		code := driver.CodeOf(err)
		if code == driver.Unknown && k.c.classifier != nil {
			code = k.c.classifier.ErrorCode(err)
		}
		if code == driver.NotFound {
			if _, aerr := k.authorize(a, name); aerr != nil {
				return nil, aerr
			}
		}
		return nil, err
	}
	return st, nil
}

// CreateCollection creates a collection. It needs the admin action on it.
func (c *Client) CreateCollection(ctx context.Context, spec CollectionSpec) (err error) {
	k, err := c.begin(ctx, "create_collection", audit.ClassAdmin, spec.Name)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	if _, err := k.authorize(authz.Admin, spec.Name); err != nil {
		return err
	}
	s := spec.Clone()
	if err := s.Validate(false); err != nil {
		return err
	}
	stored := s
	if p := c.opts.Encryption[s.Name]; p != nil {
		if stored, err = p.StoredSpec(s); err != nil {
			return err
		}
	}
	c.forget(s.Name)
	return c.drv.CreateCollection(ctx, stored)
}

// DescribeCollection returns a collection's spec as its creator declared
// it. It needs the read action on the collection.
func (c *Client) DescribeCollection(ctx context.Context, name string) (spec *CollectionSpec, err error) {
	k, err := c.begin(ctx, "describe_collection", audit.ClassRead, name)
	defer func() {
		if err = k.end(err); err != nil {
			spec = nil // withheld: see end
		}
	}()
	if err != nil {
		return nil, err
	}
	if _, err := k.authorize(authz.Read, name); err != nil {
		return nil, err
	}
	c.forget(name)
	st, err := k.lookup(name, authz.Read)
	if err != nil {
		return nil, err
	}
	return st.user.Clone(), nil
}

// ListCollections lists the collections the caller may read.
func (c *Client) ListCollections(ctx context.Context) (names []string, err error) {
	k, err := c.begin(ctx, "list_collections", audit.ClassRead, "")
	defer func() {
		if err = k.end(err); err != nil {
			names = nil // withheld: see end
		}
	}()
	if err != nil {
		return nil, err
	}
	all, err := c.drv.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		d, err := c.authorizer.Authorize(ctx, k.p, authz.Read, n)
		if err != nil {
			return nil, driver.Wrap(driver.PermissionDenied, err, "authorizer failed")
		}
		if d.Allow {
			names = append(names, n)
		}
	}
	k.rec.Allowed = true
	k.rec.ResultCount = len(names)
	return names, nil
}

// DropCollection deletes a collection and all its points. It needs the
// admin action on it. A tenant-isolated collection holds the rows of every
// tenant: only a principal without a tenant (an operator) may drop it.
func (c *Client) DropCollection(ctx context.Context, name string) (err error) {
	k, err := c.begin(ctx, "drop_collection", audit.ClassAdmin, name)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	if _, err := k.authorize(authz.Admin, name); err != nil {
		return err
	}
	c.forget(name)
	if k.p.Tenant != "" {
		// Ask the database, not the cache: the collection may have been
		// re-created with a tenant field by another client.
		spec, err := c.drv.DescribeCollection(ctx, name)
		if err != nil {
			return err
		}
		if spec.TenantField != "" {
			k.rec.Allowed = false
			k.rec.Reason = "tenant-isolated collection and the principal has a tenant"
			return driver.Errorf(driver.PermissionDenied, "the collection holds the rows of every tenant: only a principal without a tenant may drop it")
		}
	}
	return c.drv.DropCollection(ctx, name)
}

// Refuse records an operation the guard refuses without serving it — an
// RPC outside the table of a transparent-mode interceptor, or a request
// option it cannot honour — as a denied operation of the principal in ctx,
// and returns the error to give the caller: reason, wrapped with the
// operation and collection, or what refused the attempt earlier (no
// principal, a spent limit, an audit log that cannot record). reason must
// be a *driver.Error whose code says why (PermissionDenied for an operation
// the guard does not serve, InvalidArgument for an option it cannot
// honour); its message goes into the record and must name no value. The
// record names operation and, when it is a valid name, collection; class
// is the operation's audit class. Nothing reaches the database. An error a
// Client operation returned (it names its operation) was audited by that
// operation: Refuse returns it unchanged and records nothing, so an
// interceptor can hand it every error of a failed RPC.
func (c *Client) Refuse(ctx context.Context, operation string, class audit.Class, collection string, reason error) (err error) {
	var done *driver.Error
	if errors.As(reason, &done) && done.Op != "" {
		return reason
	}
	if !driver.ValidName(collection) {
		collection = ""
	}
	k, err := c.begin(ctx, operation, class, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	var e *driver.Error
	if !errors.As(reason, &e) {
		e = driver.Errorf(driver.PermissionDenied, "refused by the guard")
		reason = e
	}
	k.rec.Allowed, k.rec.Rule, k.rec.Reason = false, "guard", e.Msg
	return reason
}

// CursorAfter returns the scroll cursor that continues after id: a Scroll
// with it returns the points whose IDs follow id in scroll order. Adapters
// that translate another protocol's scroll offsets use it. A cursor only
// names a position; it grants nothing, and the zero ID gives "" (the start).
func CursorAfter(id PointID) string { return encodeCursor(id) }

// encodeCursor and decodeCursor make scroll positions opaque to callers.
func encodeCursor(id driver.PointID) string {
	if id.IsZero() {
		return ""
	}
	return "c1." + base64.RawURLEncoding.EncodeToString([]byte(id.String()))
}

func decodeCursor(s string) (driver.PointID, error) {
	if s == "" {
		return driver.PointID{}, nil
	}
	bad := driver.Errorf(driver.InvalidArgument, "malformed scroll cursor")
	if len(s) < 4 || s[:3] != "c1." || len(s) > 128 {
		return driver.PointID{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s[3:])
	if err != nil {
		return driver.PointID{}, bad
	}
	id, err := driver.ParseID(string(b))
	if err != nil {
		return driver.PointID{}, bad
	}
	return id, nil
}
