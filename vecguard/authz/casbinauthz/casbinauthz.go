package casbinauthz

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// ModelText is the Casbin model the Authorizer stores its policy in: RBAC
// with domains (tenants), an effect and a condition column. The Authorizer
// evaluates the policy itself (see the package doc); the matcher below is
// the RBAC core of that evaluation, without patterns and conditions, and is
// never run.
const ModelText = `[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft, cond

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// Watcher connects the instances that share one policy store. Update tells
// the other instances that this one changed the policy; the callback set
// with SetUpdateCallback tells this one that another did. Every Casbin
// watcher (persist.Watcher: Redis, etcd, NATS, ...) satisfies it.
type Watcher interface {
	SetUpdateCallback(func(string)) error
	Update() error
	Close()
}

// Source is where a policy is loaded from and saved to.
type Source struct {
	adapter persist.Adapter
	err     error
}

// File is a policy file of CSV lines (see "Policy format"). Rule and role
// changes are written through to the file, atomically; Reload reads it again.
func File(path string) Source {
	return Source{adapter: &csvAdapter{store: fileStore{path: path}, writeThrough: true}}
}

// Text is a policy held in memory, given as the text of a policy file.
// Rule and role changes are not written back to the text: Save does that,
// and Reload returns to the text as last saved.
func Text(policy string) Source {
	return Source{adapter: &csvAdapter{store: &memStore{data: []byte(policy)}}}
}

// CasbinAdapter is a policy kept by a Casbin adapter (a value implementing
// github.com/casbin/casbin/v2/persist.Adapter, e.g. a SQL adapter). Its
// policy must use the columns of ModelText. New refuses any other value.
func CasbinAdapter(a any) Source {
	pa, ok := a.(persist.Adapter)
	if !ok || pa == nil {
		return Source{err: driver.Errorf(driver.InvalidArgument, "casbinauthz: %T is not a Casbin adapter", a)}
	}
	return Source{adapter: pa}
}

// Options configures an Authorizer. The zero value (or nil) is valid.
type Options struct {
	// CacheSize bounds the number of compiled decisions kept: 0 means
	// DefaultCacheSize, a negative value disables the cache.
	CacheSize int
	// Watcher, when set, is told about every change made through this
	// Authorizer, and makes it reload the policy when another instance
	// changes it. The Authorizer closes it on Close.
	Watcher Watcher
	// OnReloadError, when set, receives the problems of reloads the Watcher
	// triggers: a failed load (the previous policy stays in force) or a
	// loaded policy with invalid rules (applied fail-closed).
	OnReloadError func(error)
}

// Authorizer is the Casbin-backed authz.Authorizer. It is safe for
// concurrent use.
type Authorizer struct {
	opts Options

	mu sync.Mutex // serializes edits, reloads, rebuilds and cold compiles
	e  *casbin.Enforcer

	ix *ruleIndex // the compiled rules; guarded by mu

	gen     atomic.Uint64 // bumped by every policy or role change
	pending atomic.Bool   // the watcher reported a change: reload first
	cache   atomic.Pointer[genCache]
	closed  atomic.Bool
}

// genCache is the decision cache of one policy generation, with the
// attribute names the rules of that generation refer to.
type genCache struct {
	gen  uint64
	c    *decisionCache
	refs map[string]bool
}

var _ authz.Authorizer = (*Authorizer)(nil)

// LoadFile returns an Authorizer over the policy file at path.
func LoadFile(path string, opts *Options) (*Authorizer, error) {
	return New(File(path), opts)
}

// New returns an Authorizer over the policy in src. It refuses a policy
// that cannot be loaded or holds an invalid rule. opts may be nil.
func New(src Source, opts *Options) (*Authorizer, error) {
	if src.err != nil {
		return nil, src.err
	}
	if src.adapter == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "casbinauthz: no policy source")
	}
	m, err := model.NewModelFromString(ModelText)
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "casbinauthz: model")
	}
	e, err := casbin.NewEnforcer(m, src.adapter)
	if err != nil {
		return nil, loadError(err)
	}
	a := &Authorizer{e: e}
	if opts != nil {
		a.opts = *opts
	}
	a.ix = newRuleIndex(a.policyLines())
	if err := problemsError(a.ix.problems); err != nil {
		return nil, err
	}
	a.gen.Store(1)
	a.cache.Store(&genCache{gen: 1, c: newDecisionCache(a.opts.CacheSize), refs: maps.Clone(a.ix.refs)})
	if w := a.opts.Watcher; w != nil {
		if err := e.SetWatcher(w); err != nil {
			return nil, driver.Wrap(driver.Unavailable, err, "casbinauthz: watcher")
		}
		// Replace Casbin's callback (which reloads behind our back) with ours.
		if err := w.SetUpdateCallback(a.changedElsewhere); err != nil {
			return nil, driver.Wrap(driver.Unavailable, err, "casbinauthz: watcher")
		}
	}
	return a, nil
}

// changedElsewhere is the watcher callback. It takes no lock (a watcher may
// call it from inside Update): it marks the policy stale, and the next
// Authorize reloads it.
func (a *Authorizer) changedElsewhere(string) {
	a.pending.Store(true)
	a.gen.Add(1)
}

// Authorize implements authz.Authorizer. A decision is compiled once per
// (subject, tenant, roles, attributes, action, collection) and policy
// generation, then served from a bounded cache. The Filter of a returned
// Decision is shared with the cache: like every Filter, it must not be
// modified. A denial is a Decision with Allow false, not an error.
func (a *Authorizer) Authorize(ctx context.Context, p *authz.Principal, act authz.Action, coll string) (authz.Decision, error) {
	if err := ctx.Err(); err != nil {
		return authz.Decision{}, err
	}
	if p == nil || p.Subject == "" {
		return authz.Decision{}, driver.Errorf(driver.Unauthenticated, "no principal subject")
	}
	switch {
	case !act.Valid():
		return authz.Decision{Rule: "default deny", Reason: "unknown action"}, nil
	case !driver.ValidName(coll):
		return authz.Decision{Rule: "default deny", Reason: "invalid collection name"}, nil
	case p.Tenant == Everyone:
		return authz.Decision{Rule: "default deny", Reason: "invalid tenant"}, nil
	}
	var buf [256]byte
	if gc := a.cache.Load(); gc.gen == a.gen.Load() {
		if d, ok := gc.c.get(appendKey(buf[:0], p, act, coll, gc.refs)); ok {
			return share(d), nil
		}
	}
	return a.compile(p, act, coll, buf[:0])
}

// compile is the cold path of Authorize.
func (a *Authorizer) compile(p *authz.Principal, act authz.Action, coll string, buf []byte) (authz.Decision, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	gc := a.currentLocked()
	key := appendKey(buf, p, act, coll, gc.refs)
	if d, ok := gc.c.get(key); ok {
		return share(d), nil
	}
	names, err := a.namesLocked(p)
	if err != nil {
		return authz.Decision{}, driver.Wrap(driver.Internal, err, "casbinauthz: role manager")
	}
	d := a.ix.decide(p, names, act, coll)
	gc.c.put(key, d)
	return share(d), nil
}

// share returns a cached decision. Its Filter is shared by every request
// of the same shape: filters are immutable once built (package driver), and
// neither the client, the encryption layer nor the audit log changes one. A
// deep copy per call would cost more than the rest of a cached decision
// (about 300 bytes and a write barrier per node).
func share(d authz.Decision) authz.Decision { return d }

// currentLocked returns the decision cache of the current generation,
// reloading the policy first if the watcher asked for it.
func (a *Authorizer) currentLocked() *genCache {
	g := a.gen.Load() // before pending: a callback after this bumps gen again
	gc := a.cache.Load()
	if gc.gen == g {
		return gc
	}
	if a.pending.Swap(false) {
		if err := a.e.LoadPolicy(); err != nil {
			a.report(loadError(err))
		} else {
			a.ix = newRuleIndex(a.policyLines())
			if err := problemsError(a.ix.problems); err != nil {
				a.report(err)
			}
		}
	}
	gc = &genCache{gen: g, c: newDecisionCache(a.opts.CacheSize), refs: maps.Clone(a.ix.refs)}
	a.cache.Store(gc)
	return gc
}

func (a *Authorizer) report(err error) {
	if a.opts.OnReloadError != nil {
		a.opts.OnReloadError(err)
	}
}

// policyLines returns the p lines of the stored policy (shared: read only).
func (a *Authorizer) policyLines() [][]string {
	if ast, ok := a.e.GetModel()["p"]["p"]; ok {
		return ast.Policy
	}
	return nil
}

// namesLocked expands the principal's subject and roles through the role
// links of its tenant and of every tenant (Everyone), transitively.
func (a *Authorizer) namesLocked(p *authz.Principal) ([]string, error) {
	rm := a.e.GetRoleManager()
	tenants := []string{Everyone}
	if p.Tenant != "" {
		tenants = []string{p.Tenant, Everyone}
	}
	queue := append([]string{p.Subject}, p.Roles...)
	seen := make(map[string]bool, len(queue))
	var out []string
	for i := 0; i < len(queue); i++ {
		n := queue[i]
		if seen[n] || n == Everyone {
			continue
		}
		seen[n] = true
		out = append(out, n)
		for _, t := range tenants {
			rs, err := rm.GetRoles(n, t)
			if err != nil {
				return nil, err
			}
			queue = append(queue, rs...)
		}
	}
	return out, nil
}

// changed bumps the generation after an edit; callers hold mu.
func (a *Authorizer) changed() { a.gen.Add(1) }

// AddRules adds policy rules. It refuses them all, with InvalidArgument, if
// one is invalid. Rules already present are skipped.
func (a *Authorizer) AddRules(ctx context.Context, rules ...Rule) error {
	recs, err := ruleRecords(rules)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var add [][]string
	for _, r := range recs {
		if ok, _ := a.e.HasNamedPolicy("p", r); !ok && !containsRec(add, r) {
			add = append(add, r)
		}
	}
	if len(add) == 0 {
		return nil
	}
	defer a.changed()
	if _, batch := a.e.GetAdapter().(persist.BatchAdapter); batch {
		if _, err = a.e.AddNamedPolicies("p", add); err != nil {
			return a.editFailed(err)
		}
		for _, r := range add {
			a.ix.add(r)
		}
		return nil
	}
	for _, r := range add {
		if _, err := a.e.AddNamedPolicy("p", r); err != nil {
			return a.editFailed(err)
		}
		a.ix.add(r)
	}
	return nil
}

// RemoveRules removes policy rules; rules not present are skipped.
func (a *Authorizer) RemoveRules(ctx context.Context, rules ...Rule) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var del [][]string
	for _, r := range rules {
		rec := r.fields()
		if ok, _ := a.e.HasNamedPolicy("p", rec); ok && !containsRec(del, rec) {
			del = append(del, rec)
		}
	}
	if len(del) == 0 {
		return nil
	}
	defer a.changed()
	if _, batch := a.e.GetAdapter().(persist.BatchAdapter); batch {
		if _, err := a.e.RemoveNamedPolicies("p", del); err != nil {
			return a.editFailed(err)
		}
		for _, r := range del {
			a.ix.remove(r)
		}
		return nil
	}
	for _, r := range del {
		if _, err := a.e.RemoveNamedPolicy("p", r); err != nil {
			return a.editFailed(err)
		}
		a.ix.remove(r)
	}
	return nil
}

// AddRole makes member (a subject ID or a role) inherit role in tenant
// (Everyone for every tenant): the g line "g, member, role, tenant".
func (a *Authorizer) AddRole(ctx context.Context, member, role, tenant string) error {
	if err := roleLinkError(member, role, tenant); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ok, err := a.e.AddNamedGroupingPolicy("g", member, role, tenant)
	if ok || err != nil {
		a.changed()
	}
	return editError(err)
}

// RemoveRole removes the link that AddRole adds.
func (a *Authorizer) RemoveRole(ctx context.Context, member, role, tenant string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ok, err := a.e.RemoveNamedGroupingPolicy("g", member, role, tenant)
	if ok || err != nil {
		a.changed()
	}
	return editError(err)
}

// Reload loads the policy from its source again. If the source cannot be
// loaded, the previous policy stays in force and Reload returns the error.
// A loaded policy with invalid rules is put in force with those rules
// compiled fail-closed, and Reload reports them with InvalidArgument.
func (a *Authorizer) Reload(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.e.LoadPolicy(); err != nil {
		return loadError(err)
	}
	a.ix = newRuleIndex(a.policyLines())
	a.changed()
	return problemsError(a.ix.problems)
}

// Save writes the whole policy to its source (replacing a policy file;
// comments are not kept) and notifies the Watcher.
func (a *Authorizer) Save(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.e.SavePolicy(); err != nil {
		return driver.Wrap(driver.Unavailable, err, "casbinauthz: saving the policy failed")
	}
	return nil
}

// Policy returns the policy in force as the text of a policy file: the p
// lines, then the g lines.
func (a *Authorizer) Policy() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, sec := range []string{"p", "g"} {
		if ast, ok := a.e.GetModel()[sec][sec]; ok {
			for _, r := range ast.Policy {
				b.WriteString(formatLine(sec, r))
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

// Generation returns the policy generation: it grows with every change of
// rules or role links, every reload and every change another instance
// reports through the Watcher. Cached decisions belong to one generation.
func (a *Authorizer) Generation() uint64 { return a.gen.Load() }

// Close closes the Watcher, if any. The Authorizer keeps deciding with the
// policy it holds.
func (a *Authorizer) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	if a.opts.Watcher != nil {
		a.opts.Watcher.Close()
	}
	return nil
}

func ruleRecords(rules []Rule) ([][]string, error) {
	recs := make([][]string, len(rules))
	for i, r := range rules {
		recs[i] = r.fields()
		if c := compileRule(recs[i]); c.err != nil {
			return nil, c.err
		}
	}
	return recs, nil
}

func containsRec(recs [][]string, r []string) bool {
	for _, x := range recs {
		if strings.Join(x, "\x00") == strings.Join(r, "\x00") {
			return true
		}
	}
	return false
}

func loadError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return driver.Wrap(driver.Unavailable, err, "casbinauthz: loading the policy failed")
	}
	return driver.Wrap(driver.InvalidArgument, err, "casbinauthz: loading the policy failed")
}

// editFailed handles a failed edit: the stored policy may have changed in
// part, so the index is rebuilt from it.
func (a *Authorizer) editFailed(err error) error {
	a.ix = newRuleIndex(a.policyLines())
	return editError(err)
}

func editError(err error) error {
	if err == nil {
		return nil
	}
	return driver.Wrap(driver.Unavailable, err, "casbinauthz: the policy store refused the change")
}

// problemsError reports the invalid rules of a policy.
func problemsError(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	return &driver.Error{Code: driver.InvalidArgument, Msg: "casbinauthz: the policy has invalid rules", Err: errors.Join(problems...)}
}
