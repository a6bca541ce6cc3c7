package drivertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The randomized differential test of authorization runs this many
// operations (fewer under -short). VECGUARD_AUTHZ_OPS and
// VECGUARD_AUTHZ_SEED change the count and the seed, to reproduce or to
// explore.
const (
	azDefaultOps = 2000
	azShortOps   = 300
	azSeed       = 20260601
)

// testAuthorization is the randomized differential test of authorization:
// thousands of mixed operations (upsert, search, get, scroll, count,
// delete, delete by filter, update payload, recommend, admin attempts) by
// principals of several tenants, roles and attributes, through a
// vecguard.Client with the Casbin authorizer, each compared with an
// oracle that knows which rows every principal may read, write and delete.
// Not one row outside a principal's rights may be returned, counted,
// changed or deleted, and every refusal must be PermissionDenied (or
// NotFound for a recommend example the caller cannot read).
func testAuthorization(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	ops, seed := azOps(t), uint64(azSeed)
	if s := os.Getenv("VECGUARD_AUTHZ_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("VECGUARD_AUTHZ_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("%d operations, seed %d", ops, seed)
	w := newAzWorld(t, f, seed)
	for i := range ops {
		w.step(t, i)
		if t.Failed() {
			t.Fatalf("stopped at operation %d (seed %d); replay with VECGUARD_AUTHZ_SEED=%d VECGUARD_AUTHZ_OPS=%d", i, seed, seed, i+1)
		}
		if i%100 == 99 {
			w.checkStored(t)
		}
	}
	w.checkStored(t)
	if n := w.c.Violations(); n != 0 {
		t.Errorf("the client's re-check dropped %d rows: the driver returned rows outside the filter", n)
	}
	t.Logf("outcomes: %v; rows at the end: %d, %d, %d", w.outcomes, len(w.rows[azDocs]), len(w.rows[azShared]), len(w.rows[azEvil]))
}

func azOps(t *testing.T) int {
	if s := os.Getenv("VECGUARD_AUTHZ_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("VECGUARD_AUTHZ_OPS: want a count, got %q", s)
		}
		return n
	}
	if testing.Short() {
		return azShortOps
	}
	return azDefaultOps
}

// The three collections: docs is tenant-isolated and governed by the
// pattern vgt_authz_*; shared has no tenant field; evil is tenant-isolated
// and named so that a prefix pattern (vgt_authz*) would reach it, but the
// segment pattern does not.
const (
	azDocs = iota
	azShared
	azEvil
	azNumColls
)

var azCollTags = [azNumColls]string{"authz", "authzpub", "authzevil"}

// azPolicy is the policy of the test; %[1]s is the shared collection.
const azPolicy = `
p, viewer, acme, vgt_authz_*, read, allow, dept == $sub.dept
p, viewer, acme, vgt_authz_*, read, allow, public == true
p, viewer, acme, vgt_authz_*, read, deny, level > $sub.level
p, editor, acme, vgt_authz_*, write, allow, dept == $sub.dept and level <= $sub.level
p, editor, acme, vgt_authz_*, delete, allow, dept == $sub.dept and owner == $sub.id
p, alice, acme, vgt_authz_*, delete, allow, tag == 'scratch'
p, contractor, acme, vgt_authz_*, read, deny, "tag in ['secret', 'hr']"
p, contractor, acme, vgt_authz_*, write, deny
p, author, acme, vgt_authz_*, *, allow, owner == $sub.id
p, analyst, globex, vgt_authz_*, read, allow
p, analyst, globex, vgt_authz_*, write, allow, level <= $sub.level
p, analyst, globex, vgt_authz_*, delete, allow, owner == $sub.id or public == true
p, viewer, acme-evil, vgt_authz_*, read, allow
p, viewer, acme-evil, vgt_authz_*, write, allow
p, admin, *, *, *, allow
p, *, *, %[1]s, read, allow, public == true
p, editor, acme, %[1]s, write, allow, owner == $sub.id
p, editor, acme, %[1]s, delete, allow, owner == $sub.id
g, editor, viewer, acme
g, alice, editor, acme
g, bob, viewer, acme
g, dan, viewer, acme
g, root, admin, *
`

// azRow is a stored row as the oracle knows it: its normalized payload.
type azRow = map[string]any

// azPrincipal is a caller and, independently of the policy text, what the
// policy grants it: whether each action is allowed at all on each
// collection, and which rows it may read, write and delete (tenant
// isolation is added by the oracle for the tenant-isolated collections).
type azPrincipal struct {
	name    string
	p       authz.Principal
	allowed [azNumColls]map[authz.Action]bool
	read    func(coll int, r azRow) bool
	write   func(coll int, r azRow) bool
	del     func(coll int, r azRow) bool
}

func azStr(r azRow, k string) (string, bool) { s, ok := r[k].(string); return s, ok }
func azInt(r azRow, k string) (int64, bool)  { n, ok := r[k].(int64); return n, ok }
func azIs(r azRow, k string, v any) bool     { return r[k] != nil && r[k] == v }

// azPrincipals returns the callers of the test with their rights; in
// acts, r, w, d and v stand for read, write, delete and read_vectors.
func azPrincipals() []*azPrincipal {
	none := func(int, azRow) bool { return false }
	all := func(int, azRow) bool { return true }
	public := func(r azRow) bool { return azIs(r, "public", true) }
	levelAbove := func(r azRow, lv int64) bool { n, ok := azInt(r, "level"); return ok && n > lv }
	viewerRead := func(r azRow, dept string, lv int64) bool {
		return (azIs(r, "dept", dept) || public(r)) && !levelAbove(r, lv)
	}
	acts := func(docs, shared, evil string) [azNumColls]map[authz.Action]bool {
		var out [azNumColls]map[authz.Action]bool
		for i, s := range []string{docs, shared, evil} {
			out[i] = map[authz.Action]bool{}
			for _, c := range s {
				switch c {
				case 'r':
					out[i][authz.Read] = true
				case 'w':
					out[i][authz.Write] = true
				case 'd':
					out[i][authz.Delete] = true
				case 'v':
					out[i][authz.ReadVectors] = true
				}
			}
		}
		return out
	}
	attrs := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	sharedRead := func(coll int, r azRow) bool { return coll == azShared && public(r) }
	var ps []*azPrincipal
	add := func(name string, p authz.Principal, allowed [azNumColls]map[authz.Action]bool, read, write, del func(int, azRow) bool) {
		ps = append(ps, &azPrincipal{name: name, p: p, allowed: allowed, read: read, write: write, del: del})
	}
	// alice: editor (and so viewer) through role links, plus a subject rule.
	add("alice", authz.Principal{Subject: "alice", Tenant: "acme", Attributes: attrs("dept", "eng", "level", int64(2))},
		acts("rwd", "rwd", ""),
		func(c int, r azRow) bool { return c == azDocs && viewerRead(r, "eng", 2) || sharedRead(c, r) },
		func(c int, r azRow) bool {
			if c == azShared {
				return azIs(r, "owner", "alice")
			}
			n, ok := azInt(r, "level")
			return c == azDocs && azIs(r, "dept", "eng") && ok && n <= 2
		},
		func(c int, r azRow) bool {
			if c == azShared {
				return azIs(r, "owner", "alice")
			}
			return c == azDocs && (azIs(r, "dept", "eng") && azIs(r, "owner", "alice") || azIs(r, "tag", "scratch"))
		})
	// bob: viewer through a role link.
	add("bob", authz.Principal{Subject: "bob", Tenant: "acme", Attributes: attrs("dept", "sales", "level", 1)},
		acts("r", "r", ""),
		func(c int, r azRow) bool { return c == azDocs && viewerRead(r, "sales", 1) || sharedRead(c, r) }, none, none)
	// carol: viewer and contractor from her credentials.
	add("carol", authz.Principal{Subject: "carol", Tenant: "acme", Roles: []string{"contractor", "viewer"}, Attributes: attrs("dept", "eng", "level", int64(3))},
		acts("r", "r", ""),
		func(c int, r azRow) bool {
			if c == azShared {
				return public(r)
			}
			tag, _ := azStr(r, "tag")
			return c == azDocs && viewerRead(r, "eng", 3) && tag != "secret" && tag != "hr"
		}, none, none)
	// dan: viewer without a level: the level deny applies to every row.
	add("dan", authz.Principal{Subject: "dan", Tenant: "acme", Attributes: attrs("dept", "eng")},
		acts("", "r", ""), sharedRead, none, none)
	// olga: author rules on her own rows (admin is not granted by them).
	add("olga", authz.Principal{Subject: "olga", Tenant: "acme", Roles: []string{"author"}},
		acts("rwdv", "r", ""),
		func(c int, r azRow) bool { return c == azDocs && azIs(r, "owner", "olga") || sharedRead(c, r) },
		func(c int, r azRow) bool { return c == azDocs && azIs(r, "owner", "olga") },
		func(c int, r azRow) bool { return c == azDocs && azIs(r, "owner", "olga") })
	// erin: analyst of tenant globex.
	add("erin", authz.Principal{Subject: "erin", Tenant: "globex", Roles: []string{"analyst"}, Attributes: attrs("level", int64(1))},
		acts("rwd", "r", ""),
		func(c int, r azRow) bool { return c == azDocs || sharedRead(c, r) },
		func(c int, r azRow) bool { n, ok := azInt(r, "level"); return c == azDocs && ok && n <= 1 },
		func(c int, r azRow) bool { return c == azDocs && (azIs(r, "owner", "erin") || public(r)) })
	// frank: viewer of tenant acme-evil, whose rules grant everything there.
	add("frank", authz.Principal{Subject: "frank", Tenant: "acme-evil", Roles: []string{"viewer"}, Attributes: attrs("dept", "eng", "level", int64(9))},
		acts("rw", "r", ""),
		func(c int, r azRow) bool { return c == azDocs || sharedRead(c, r) },
		func(c int, r azRow) bool { return c == azDocs }, none)
	// mallory: no role at all.
	add("mallory", authz.Principal{Subject: "mallory", Tenant: "acme", Attributes: attrs("dept", "eng", "level", int64(9))},
		acts("", "r", ""), sharedRead, none, none)
	// root: admin in every tenant, through a role link of tenant *.
	for _, ten := range []string{"acme", "globex", "acme-evil"} {
		add("root@"+ten, authz.Principal{Subject: "root", Tenant: ten}, acts("rwdv", "rwdv", "rwdv"), all, all, all)
	}
	return ps
}

// azWorld is the state of the test: the client, the collections, the
// oracle's copy of every row and the random source.
type azWorld struct {
	f        *fixture
	c        *vecguard.Client
	rng      *rand.Rand
	specs    [azNumColls]*driver.CollectionSpec
	rows     [azNumColls]map[driver.PointID]azRow
	vecs     [azNumColls]map[driver.PointID][]float32
	ps       []*azPrincipal
	outcomes map[string]int
}

const azDim = 4

func newAzWorld(t *testing.T, f *fixture, seed uint64) *azWorld {
	w := &azWorld{f: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ps: azPrincipals(), outcomes: map[string]int{}}
	for i := range azNumColls {
		s := &driver.CollectionSpec{
			Name:    uniqueName(azCollTags[i]),
			Vectors: []driver.VectorSpec{{Name: "v", Dim: azDim, Distance: driver.Euclid}},
			Fields: []driver.FieldSpec{
				{Name: "tenant", Kind: driver.KindString, Filterable: true},
				{Name: "dept", Kind: driver.KindString, Filterable: true},
				{Name: "level", Kind: driver.KindInt, Filterable: true},
				{Name: "owner", Kind: driver.KindString, Filterable: true},
				{Name: "public", Kind: driver.KindBool, Filterable: true},
				{Name: "tag", Kind: driver.KindString, Filterable: true},
			},
		}
		if i != azShared {
			s.TenantField = "tenant"
		}
		f.mustCreate(t, s)
		w.specs[i] = s
		w.rows[i] = map[driver.PointID]azRow{}
		w.vecs[i] = map[driver.PointID][]float32{}
	}
	az, err := casbinauthz.New(casbinauthz.Text(fmt.Sprintf(azPolicy, w.specs[azShared].Name)), nil)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	w.c = vecguard.New(f.drv, &vecguard.Options{Authorizer: az})
	// Seed rows: root writes some rows of every tenant into every collection.
	for _, p := range w.ps {
		if !strings.HasPrefix(p.name, "root@") {
			continue
		}
		for coll := range azNumColls {
			var pts []driver.Point
			for range 6 {
				id := w.freeID(coll)
				pt := w.randomPoint(coll, id, p.p.Tenant, false)
				pts = append(pts, pt)
				w.vecs[coll][id] = pt.Vectors["v"] // reserve the ID
			}
			if err := w.c.Upsert(w.as(p), w.specs[coll].Name, pts); err != nil {
				t.Fatalf("seeding %s as %s: %v", w.specs[coll].Name, p.name, err)
			}
			for _, pt := range pts {
				w.store(coll, pt, p.p.Tenant)
			}
		}
	}
	return w
}

func (w *azWorld) as(p *azPrincipal) context.Context {
	return vecguard.WithPrincipal(w.f.ctx, p.p)
}

// azIDPool is the size of each collection's ID space: small, so that
// operations collide on rows of other principals and tenants.
var azIDPool = [azNumColls]int{azDocs: 64, azShared: 32, azEvil: 24}

func (w *azWorld) randomID(coll int) driver.PointID {
	return driver.NumID(uint64(1 + w.rng.IntN(azIDPool[coll])))
}

// freeID returns an ID no row holds, or any ID when every one is taken.
func (w *azWorld) freeID(coll int) driver.PointID {
	if len(w.vecs[coll]) >= azIDPool[coll] {
		return w.randomID(coll)
	}
	for {
		id := w.randomID(coll)
		if _, used := w.vecs[coll][id]; !used {
			return id
		}
	}
}

func azPick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// randomPayload draws a payload; each field may be absent.
func (w *azWorld) randomPayload() map[string]any {
	p := map[string]any{}
	maybe := func(k string, v any) {
		if w.rng.IntN(6) > 0 {
			p[k] = v
		}
	}
	maybe("dept", azPick(w.rng, "eng", "sales", "hr"))
	maybe("level", int64(w.rng.IntN(4)))
	maybe("owner", azPick(w.rng, "alice", "bob", "olga", "erin", "carol", "frank"))
	maybe("public", w.rng.IntN(3) == 0)
	maybe("tag", azPick(w.rng, "secret", "hr", "scratch", "misc"))
	return p
}

// randomPoint draws a point. For a tenant-isolated collection the tenant
// is usually left to the client; sometimes it is set, to the caller's
// tenant or (when foreign) another one.
func (w *azWorld) randomPoint(coll int, id driver.PointID, tenant string, foreign bool) driver.Point {
	v := make([]float32, azDim)
	for i := range v {
		v[i] = float32(w.rng.IntN(2001)-1000) / 1000
	}
	p := w.randomPayload()
	switch {
	case coll == azShared:
		if w.rng.IntN(4) == 0 {
			p["tenant"] = azPick(w.rng, "acme", "globex")
		}
	case foreign:
		p["tenant"] = azPick(w.rng, "acme", "globex", "acme-evil")
	case w.rng.IntN(4) == 0:
		p["tenant"] = tenant
	}
	return driver.Point{ID: id, Vectors: map[string][]float32{"v": v}, Payload: p}
}

// store records a written point in the oracle, with the tenant the client
// fills in.
func (w *azWorld) store(coll int, pt driver.Point, tenant string) {
	r := azRow{}
	for k, v := range pt.Payload {
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		r[k] = v
	}
	if coll != azShared && r["tenant"] == nil {
		r["tenant"] = tenant
	}
	w.rows[coll][pt.ID] = r
	w.vecs[coll][pt.ID] = append([]float32(nil), pt.Vectors["v"]...)
}

// The oracle's rights: the principal's row rights plus tenant isolation.
func (w *azWorld) canRead(p *azPrincipal, coll int, r azRow) bool {
	return p.allowed[coll][authz.Read] && w.inTenant(p, coll, r) && p.read(coll, r)
}

func (w *azWorld) canWrite(p *azPrincipal, coll int, r azRow) bool {
	return p.allowed[coll][authz.Write] && w.inTenant(p, coll, r) && p.write(coll, r)
}

func (w *azWorld) canDelete(p *azPrincipal, coll int, r azRow) bool {
	return p.allowed[coll][authz.Delete] && w.inTenant(p, coll, r) && p.del(coll, r)
}

func (w *azWorld) inTenant(p *azPrincipal, coll int, r azRow) bool {
	return coll == azShared || p.p.Tenant != "" && azIs(r, "tenant", p.p.Tenant)
}

// randomFilter draws a caller filter: sometimes nil, often an attempt to
// widen (or, not, other tenants, every ID).
func (w *azWorld) randomFilter(depth int) *driver.Filter {
	str := func(k string) driver.Value {
		switch k {
		case "tenant":
			return driver.String(azPick(w.rng, "acme", "globex", "acme-evil"))
		case "dept":
			return driver.String(azPick(w.rng, "eng", "sales", "hr"))
		case "owner":
			return driver.String(azPick(w.rng, "alice", "bob", "olga", "erin"))
		}
		return driver.String(azPick(w.rng, "secret", "hr", "scratch", "misc"))
	}
	strField := azPick(w.rng, "tenant", "dept", "owner", "tag")
	switch n := w.rng.IntN(14); {
	case n == 0 && depth == 0:
		return nil
	case n <= 2 && depth < 2:
		kids := make([]*driver.Filter, 1+w.rng.IntN(3))
		for i := range kids {
			kids[i] = w.randomFilter(depth + 1)
		}
		if n == 1 {
			return driver.Or(kids...)
		}
		return driver.And(kids...)
	case n == 3 && depth < 2:
		return driver.Not(w.randomFilter(depth + 1))
	case n == 4:
		return driver.Eq(strField, str(strField))
	case n == 5:
		return driver.Ne(strField, str(strField))
	case n == 6:
		return driver.In(strField, str(strField), str(strField))
	case n == 7:
		return driver.NotIn(strField, str(strField))
	case n == 8:
		return driver.Lte("level", driver.Int(int64(w.rng.IntN(4))))
	case n == 9:
		return driver.Gt("level", driver.Float(float64(w.rng.IntN(4))-0.5))
	case n == 10:
		return driver.Eq("public", driver.Bool(w.rng.IntN(2) == 0))
	case n == 11:
		return driver.Exists(azPick(w.rng, "owner", "level", "tag"))
	case n == 12:
		ids := make([]driver.PointID, 1+w.rng.IntN(8))
		for i := range ids {
			ids[i] = driver.NumID(uint64(1 + w.rng.IntN(64)))
		}
		return driver.HasID(slices.Compact(ids)...)
	}
	return driver.Or(driver.Eq("dept", driver.String("eng")), driver.And()) // always true
}

// visible returns the IDs of the rows of coll that p may read and that
// match flt, in ascending ID order.
func (w *azWorld) visible(p *azPrincipal, coll int, flt *driver.Filter) []driver.PointID {
	var out []driver.PointID
	for id, r := range w.rows[coll] {
		if w.canRead(p, coll, r) && flt.Match(id, r) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, driver.PointID.Compare)
	return out
}

func (w *azWorld) randomIDs(coll, max int) []driver.PointID {
	ids := make([]driver.PointID, 1+w.rng.IntN(max))
	for i := range ids {
		ids[i] = w.randomID(coll)
	}
	slices.SortFunc(ids, driver.PointID.Compare)
	ids = slices.Compact(ids)
	w.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

// step runs one random operation and checks it against the oracle.
func (w *azWorld) step(t *testing.T, i int) {
	p := w.ps[w.rng.IntN(len(w.ps))]
	coll := azPick(w.rng, azDocs, azDocs, azDocs, azDocs, azDocs, azShared, azShared, azEvil)
	ops := []struct {
		name string
		fn   func(*testing.T, *azPrincipal, int) string
	}{
		{"upsert", w.opUpsert}, {"search", w.opSearch}, {"get", w.opGet}, {"scroll", w.opScroll},
		{"count", w.opCount}, {"delete", w.opDelete}, {"delete_by_filter", w.opDeleteByFilter},
		{"update_payload", w.opUpdate}, {"recommend", w.opRecommend}, {"admin", w.opAdmin},
	}
	weights := []int{4, 3, 2, 2, 2, 2, 1, 3, 2, 1}
	n := w.rng.IntN(22)
	k := 0
	for n >= weights[k] {
		n -= weights[k]
		k++
	}
	op := ops[k]
	outcome := op.fn(t, p, coll)
	w.outcomes[op.name+":"+outcome]++
	if t.Failed() {
		t.Logf("operation %d: %s on %s by %s", i, op.name, azCollTags[coll], p.name)
	}
}

// azExpectDenied checks a refusal; it reports whether err is one.
func azExpectDenied(t *testing.T, what string, err error, denied bool) bool {
	t.Helper()
	switch {
	case denied && !errors.Is(err, vecguard.ErrPermissionDenied):
		t.Errorf("%s: err = %v, want PermissionDenied", what, err)
	case !denied && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	}
	return denied
}

func (w *azWorld) opUpsert(t *testing.T, p *azPrincipal, coll int) string {
	n := 1 + w.rng.IntN(3)
	pts := make([]driver.Point, 0, n)
	seen := map[driver.PointID]bool{}
	for range n {
		id := w.randomID(coll)
		if w.rng.IntN(2) == 0 {
			id = w.freeID(coll)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		pt := w.randomPoint(coll, id, p.p.Tenant, w.rng.IntN(10) == 0)
		if w.rng.IntN(2) == 0 { // fitted to the caller's write rules
			for _, k := range []string{"dept", "level"} {
				if v, ok := p.p.Attributes[k]; ok {
					pt.Payload[k] = v
				}
			}
			if n, ok := pt.Payload["level"].(int); ok {
				pt.Payload["level"] = int64(n)
			}
			pt.Payload["owner"] = p.p.Subject
		}
		pts = append(pts, pt)
	}
	ok := true
	for _, pt := range pts {
		r := azRow{}
		for k, v := range pt.Payload {
			r[k] = v
		}
		if coll != azShared && r["tenant"] == nil {
			r["tenant"] = p.p.Tenant
		}
		if !w.canWrite(p, coll, r) {
			ok = false
		}
		if old, exists := w.rows[coll][pt.ID]; exists && !w.canWrite(p, coll, old) {
			ok = false
		}
	}
	err := w.c.Upsert(w.as(p), w.specs[coll].Name, clonePoints(pts))
	if azExpectDenied(t, "upsert", err, !ok) {
		return "denied"
	}
	if err == nil {
		for _, pt := range pts {
			w.store(coll, pt, p.p.Tenant)
		}
	}
	return "ok"
}

func (w *azWorld) randomVector() []float32 {
	v := make([]float32, azDim)
	for i := range v {
		v[i] = float32(w.rng.IntN(2001)-1000) / 1000
	}
	return v
}

func azEuclid(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// checkHits checks search results against the rows the caller may see:
// every hit eligible and no duplicate; for an exact driver, the top k.
func (w *azWorld) checkHits(t *testing.T, what string, coll int, q []float32, k int, hits []driver.ScoredPoint, eligible []driver.PointID) {
	t.Helper()
	in := map[driver.PointID]bool{}
	for _, id := range eligible {
		in[id] = true
	}
	got := map[driver.PointID]bool{}
	worst := 0.0
	for _, h := range hits {
		if !in[h.ID] {
			t.Errorf("%s returned %v, outside the caller's rows %s", what, h.ID, idList(eligible))
			return
		}
		if got[h.ID] {
			t.Errorf("%s returned %v twice", what, h.ID)
		}
		got[h.ID] = true
		worst = max(worst, azEuclid(q, w.vecs[coll][h.ID]))
	}
	if len(hits) > k {
		t.Errorf("%s returned %d hits, limit %d", what, len(hits), k)
	}
	if !w.f.caps.Exact {
		return
	}
	if want := min(k, len(eligible)); len(hits) != want {
		t.Errorf("%s returned %d hits, want %d of %s", what, len(hits), want, idList(eligible))
	}
	for _, id := range eligible {
		if !got[id] && azEuclid(q, w.vecs[coll][id]) < worst-1e-4 {
			t.Errorf("%s missed %v, nearer than a returned hit", what, id)
		}
	}
}

func (w *azWorld) opSearch(t *testing.T, p *azPrincipal, coll int) string {
	flt := w.randomFilter(0)
	q, k := w.randomVector(), 1+w.rng.IntN(10)
	hits, err := w.c.Search(w.as(p), w.specs[coll].Name, vecguard.SearchRequest{Vector: q, Limit: k, Filter: flt, WithPayload: true})
	if azExpectDenied(t, "search", err, !p.allowed[coll][authz.Read]) || err != nil {
		return "denied"
	}
	w.checkHits(t, fmt.Sprintf("search (filter %s)", flt), coll, q, k, hits, w.visible(p, coll, flt))
	return "ok"
}

func (w *azWorld) opRecommend(t *testing.T, p *azPrincipal, coll int) string {
	flt := w.randomFilter(0)
	pos := w.randomIDs(coll, 2)
	if vis := w.visible(p, coll, nil); len(vis) > 0 && w.rng.IntN(4) > 0 {
		pos = []driver.PointID{vis[w.rng.IntN(len(vis))]}
	}
	var neg []driver.PointID
	if w.rng.IntN(2) == 0 {
		if id := w.randomID(coll); !slices.Contains(pos, id) {
			neg = []driver.PointID{id}
		}
	}
	k := 1 + w.rng.IntN(8)
	hits, err := w.c.Recommend(w.as(p), w.specs[coll].Name, vecguard.RecommendRequest{Positive: pos, Negative: neg, Limit: k, Filter: flt})
	if !p.allowed[coll][authz.Read] {
		azExpectDenied(t, "recommend", err, true)
		return "denied"
	}
	examples := append(slices.Clone(pos), neg...)
	readable := true
	for _, id := range examples {
		r, ok := w.rows[coll][id]
		readable = readable && ok && w.canRead(p, coll, r)
	}
	if !readable {
		if !errors.Is(err, vecguard.ErrNotFound) {
			t.Errorf("recommend from an example the caller cannot read: err = %v, want NotFound", err)
		}
		return "not_found"
	}
	if err != nil {
		t.Errorf("recommend: %v", err)
		return "error"
	}
	eligible := slices.DeleteFunc(w.visible(p, coll, flt), func(id driver.PointID) bool { return slices.Contains(examples, id) })
	in := map[driver.PointID]bool{}
	for _, id := range eligible {
		in[id] = true
	}
	for _, h := range hits {
		if !in[h.ID] {
			t.Errorf("recommend returned %v, outside the caller's rows %s", h.ID, idList(eligible))
		}
	}
	if w.f.caps.Exact && len(hits) != min(k, len(eligible)) {
		t.Errorf("recommend returned %d hits, want %d", len(hits), min(k, len(eligible)))
	}
	return "ok"
}

func (w *azWorld) opGet(t *testing.T, p *azPrincipal, coll int) string {
	asked := w.randomIDs(coll, 6)
	wv := w.rng.IntN(4) == 0
	pts, err := w.c.Get(w.as(p), w.specs[coll].Name, asked, vecguard.ReadOptions{WithPayload: true, WithVectors: wv})
	if azExpectDenied(t, "get", err, !p.allowed[coll][authz.Read] || wv && !p.allowed[coll][authz.ReadVectors]) || err != nil {
		return "denied"
	}
	for _, pt := range pts {
		if wv != (len(pt.Vectors["v"]) == azDim) {
			t.Errorf("get (vectors %v): point %v has vectors %v", wv, pt.ID, pt.Vectors)
		}
	}
	var want []driver.PointID
	for _, id := range asked {
		if r, ok := w.rows[coll][id]; ok && w.canRead(p, coll, r) {
			want = append(want, id)
		}
	}
	if got := ids(pts); !sameIDs(got, want) {
		t.Errorf("get %s = %s, want %s", idList(asked), idList(got), idList(want))
	}
	w.checkPayloads(t, "get", coll, pts)
	return "ok"
}

func (w *azWorld) opScroll(t *testing.T, p *azPrincipal, coll int) string {
	flt := w.randomFilter(0)
	size := 1 + w.rng.IntN(9)
	var got []driver.PointID
	cursor := ""
	for range 1000 {
		pg, err := w.c.Scroll(w.as(p), w.specs[coll].Name, vecguard.ScrollRequest{Filter: flt, Limit: size, Cursor: cursor, WithPayload: true})
		if azExpectDenied(t, "scroll", err, !p.allowed[coll][authz.Read]) || err != nil {
			return "denied"
		}
		got = append(got, ids(pg.Points)...)
		w.checkPayloads(t, "scroll", coll, pg.Points)
		if cursor = pg.Cursor; cursor == "" {
			break
		}
	}
	slices.SortFunc(got, driver.PointID.Compare)
	if want := w.visible(p, coll, flt); !sameIDs(got, want) {
		t.Errorf("scroll (filter %s) = %s, want %s", flt, idList(got), idList(want))
	}
	return "ok"
}

func (w *azWorld) opCount(t *testing.T, p *azPrincipal, coll int) string {
	flt := w.randomFilter(0)
	n, err := w.c.Count(w.as(p), w.specs[coll].Name, flt)
	if azExpectDenied(t, "count", err, !p.allowed[coll][authz.Read]) || err != nil {
		return "denied"
	}
	if want := len(w.visible(p, coll, flt)); n != int64(want) {
		t.Errorf("count (filter %s) = %d, want %d", flt, n, want)
	}
	return "ok"
}

func (w *azWorld) opDelete(t *testing.T, p *azPrincipal, coll int) string {
	ids := w.randomIDs(coll, 5)
	err := w.c.Delete(w.as(p), w.specs[coll].Name, ids)
	if azExpectDenied(t, "delete", err, !p.allowed[coll][authz.Delete]) || err != nil {
		return "denied"
	}
	for _, id := range ids {
		if r, ok := w.rows[coll][id]; ok && w.canDelete(p, coll, r) {
			delete(w.rows[coll], id)
			delete(w.vecs[coll], id)
		}
	}
	return "ok"
}

func (w *azWorld) opDeleteByFilter(t *testing.T, p *azPrincipal, coll int) string {
	flt := w.randomFilter(0)
	if flt == nil {
		flt = driver.And()
	}
	err := w.c.DeleteByFilter(w.as(p), w.specs[coll].Name, flt)
	if azExpectDenied(t, "delete by filter", err, !p.allowed[coll][authz.Delete]) || err != nil {
		return "denied"
	}
	for id, r := range w.rows[coll] {
		if w.canDelete(p, coll, r) && flt.Match(id, r) {
			delete(w.rows[coll], id)
			delete(w.vecs[coll], id)
		}
	}
	return "ok"
}

func (w *azWorld) opUpdate(t *testing.T, p *azPrincipal, coll int) string {
	u := vecguard.PayloadUpdate{}
	if w.rng.IntN(2) == 0 {
		u.IDs = w.randomIDs(coll, 5)
		if w.rng.IntN(2) == 0 {
			u.Filter = w.randomFilter(1)
		}
	} else {
		if u.Filter = w.randomFilter(0); u.Filter == nil {
			u.Filter = driver.And()
		}
	}
	setKey := azPick(w.rng, "dept", "level", "owner", "public", "tag")
	u.Set = map[string]any{setKey: w.randomPayload()[setKey]}
	if u.Set[setKey] == nil {
		u.Set = map[string]any{"tag": "misc"}
		setKey = "tag"
	}
	if w.rng.IntN(4) == 0 {
		if k := azPick(w.rng, "dept", "level", "owner", "public", "tag"); k != setKey {
			u.Unset = []string{k}
		}
	}
	apply := func(r azRow) azRow {
		c := azRow{}
		for k, v := range r {
			c[k] = v
		}
		for k, v := range u.Set {
			c[k] = v
		}
		for _, k := range u.Unset {
			delete(c, k)
		}
		return c
	}
	var sel []driver.PointID
	ok := true
	for id, r := range w.rows[coll] {
		if u.IDs != nil && !slices.Contains(u.IDs, id) || !u.Filter.Match(id, r) || !w.canWrite(p, coll, r) {
			continue
		}
		sel = append(sel, id)
		if !w.canWrite(p, coll, apply(r)) {
			ok = false
		}
	}
	err := w.c.UpdatePayload(w.as(p), w.specs[coll].Name, u)
	if azExpectDenied(t, "update payload", err, !p.allowed[coll][authz.Write] || !ok) || err != nil {
		return "denied"
	}
	for _, id := range sel {
		w.rows[coll][id] = apply(w.rows[coll][id])
	}
	return "ok"
}

// opAdmin tries a collection-level operation: only root may drop or
// create collections.
func (w *azWorld) opAdmin(t *testing.T, p *azPrincipal, coll int) string {
	if strings.HasPrefix(p.name, "root@") {
		return "skipped"
	}
	if w.rng.IntN(2) == 0 {
		err := w.c.DropCollection(w.as(p), w.specs[coll].Name)
		azExpectDenied(t, "drop collection", err, true)
		return "denied"
	}
	s := w.specs[coll].Clone()
	s.Name = uniqueName("authzadm")
	err := w.c.CreateCollection(w.as(p), *s)
	if err == nil {
		w.f.dropLater(t, s.Name)
	}
	azExpectDenied(t, "create collection", err, true)
	return "denied"
}

// checkPayloads compares returned payloads with the oracle's rows.
func (w *azWorld) checkPayloads(t *testing.T, what string, coll int, pts []driver.Point) {
	t.Helper()
	for _, pt := range pts {
		want, ok := w.rows[coll][pt.ID]
		if !ok {
			t.Errorf("%s returned %v, which the oracle does not hold", what, pt.ID)
			continue
		}
		if d := azPayloadDiff(want, pt.Payload); d != "" {
			t.Errorf("%s: point %v: %s", what, pt.ID, d)
		}
	}
}

// azPayloadDiff compares the declared fields of two payloads; absent and
// null are the same.
func azPayloadDiff(want, got map[string]any) string {
	for _, k := range []string{"tenant", "dept", "level", "owner", "public", "tag"} {
		if !azSameValue(want[k], got[k]) {
			return fmt.Sprintf("field %s = %v, want %v", k, got[k], want[k])
		}
	}
	return ""
}

func azSameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := b.(float64); ok {
		if n, ok := a.(int64); ok {
			return float64(n) == x
		}
	}
	return a == b
}

// checkStored compares every stored row, read through the driver, with
// the oracle: nothing was written, changed or deleted that should not be.
func (w *azWorld) checkStored(t *testing.T) {
	t.Helper()
	for coll := range azNumColls {
		c := w.f.drv.Collection(w.specs[coll])
		pts := w.f.scrollAll(t, c, nil, 100, driver.Projection{All: true}, false)
		if len(pts) != len(w.rows[coll]) {
			t.Errorf("%s holds %d rows, the oracle %d", azCollTags[coll], len(pts), len(w.rows[coll]))
		}
		w.checkPayloads(t, "stored "+azCollTags[coll], coll, pts)
	}
}
