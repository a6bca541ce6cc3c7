package drivertest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// The encryption cases run a guarded client with an encryption.Encryptor
// over the driver and then look at what the driver stored, bypassing the
// client: the database must only ever hold ciphertext, and whatever is
// changed behind the client's back must fail to open with DataLoss.

// encCanary marks every plaintext the cases write; no stored string may
// contain it.
const encCanary = "c4n4ry"

// memKeys is the key provider of the encryption cases: random root keys
// per tenant and version, in memory. (It avoids package keys, whose Tink
// keysets register protobuf files that clash with some database SDKs in the
// same test binary.)
type memKeys struct {
	mu      sync.Mutex
	tenants map[string]*memTenant
}

type memTenant struct {
	primary   uint32
	next      uint32
	secrets   map[uint32][]byte
	destroyed bool
	ring      *encryption.Keyring
}

func newMemKeys() *memKeys { return &memKeys{tenants: map[string]*memTenant{}} }

// Keyring implements encryption.KeyProvider; a tenant gets keys on first use.
func (m *memKeys) Keyring(_ context.Context, s encryption.Scope) (*encryption.Keyring, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[s.Tenant]
	if t == nil {
		t = &memTenant{secrets: map[uint32][]byte{}}
		m.tenants[s.Tenant] = t
		m.addLocked(t)
	}
	if t.destroyed {
		return nil, driver.Errorf(driver.FailedPrecondition, "the tenant's keys have been destroyed")
	}
	if t.ring == nil {
		roots := map[uint32]encryption.RootKey{}
		for v, secret := range t.secrets {
			r, err := encryption.HKDFRootKey(secret)
			if err != nil {
				return nil, err
			}
			roots[v] = r
		}
		r, err := encryption.NewKeyring(t.primary, roots)
		if err != nil {
			return nil, err
		}
		t.ring = r
	}
	return t.ring, nil
}

func (m *memKeys) addLocked(t *memTenant) uint32 {
	t.next++
	secret := make([]byte, 32)
	rand.Read(secret)
	t.secrets[t.next] = secret
	t.primary, t.ring = t.next, nil
	return t.next
}

// rotate adds a version and makes it primary.
func (m *memKeys) rotate(tenant string) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addLocked(m.tenants[tenant])
}

// retire deletes a version.
func (m *memKeys) retire(tenant string, v uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	clear(t.secrets[v])
	delete(t.secrets, v)
	t.ring = nil
}

// destroy crypto-shreds a tenant; recreate gives it new keys afterwards.
func (m *memKeys) destroy(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	for v, s := range t.secrets {
		clear(s)
		delete(t.secrets, v)
	}
	t.destroyed, t.ring = true, nil
}

func (m *memKeys) recreate(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	t.destroyed = false
	m.addLocked(t)
}

func (m *memKeys) primary(tenant string) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tenants[tenant].primary
}

// encFixture is a client fixture over one encrypted, tenant-isolated
// collection.
type encFixture struct {
	*clientFixture
	keys   *memKeys
	name   string
	stored *driver.CollectionSpec
	coll   driver.Collection // the stored collection, read directly
	plain  map[driver.PointID]driver.Point
}

// encSpec is the collection of the encryption cases: a Cosine and a Euclid
// vector, the tenant field, a deterministically encrypted filterable field
// (color), a randomized field (note) and a plain one (size).
func encSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Vectors: []driver.VectorSpec{
			{Name: "v", Dim: 8, Distance: driver.Cosine},
			{Name: "w", Dim: 5, Distance: driver.Euclid},
		},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "color", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

var encFields = map[string]encryption.FieldMode{"color": encryption.Deterministic, "note": encryption.Randomized, "doc": encryption.Randomized}

func newEncFixture(t *testing.T, newHarness HarnessMaker, cfg encryption.Config, spec *driver.CollectionSpec) *encFixture {
	t.Helper()
	f := newFixture(t, newHarness)
	ef := &encFixture{keys: newMemKeys(), name: uniqueName("enc"), plain: map[driver.PointID]driver.Point{}}
	if cfg.Fields == nil {
		cfg.Fields = encFields
	}
	enc, err := encryption.New(ef.keys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ef.clientFixture = &clientFixture{fixture: f, c: vecguard.New(f.drv, &vecguard.Options{
		Authorizer: testGrants().authorizer(),
		Encryption: map[string]encryption.Protector{ef.name: enc},
	})}
	t.Cleanup(func() {
		if v := ef.c.Violations(); v != 0 {
			t.Errorf("the client dropped %d rows the driver returned outside the filter", v)
		}
	})
	s := spec.Clone()
	s.Name = ef.name
	ef.dropLater(t, s.Name)
	if err := ef.c.CreateCollection(ef.as(subjAdmin, "t1"), *s); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	if ef.stored, err = f.drv.DescribeCollection(f.ctx, s.Name); err != nil {
		t.Fatalf("DescribeCollection: %v", err)
	}
	if _, ok := ef.stored.Field(encryption.FieldKeyVersion); !ok {
		t.Fatalf("the stored spec lacks %s", encryption.FieldKeyVersion)
	}
	ef.coll = f.drv.Collection(ef.stored)
	return ef
}

// write upserts n points for tenant through the client, IDs from first on,
// and remembers their plaintext.
func (ef *encFixture) write(t *testing.T, tenant string, first uint64, n int) []driver.Point {
	t.Helper()
	r := newRand(first)
	colors := []string{"red", "green", "blue"}
	pts := make([]driver.Point, n)
	for i := range pts {
		id := driver.NumID(first + uint64(i))
		if i%5 == 4 {
			id = randomUUID(r)
		}
		pts[i] = driver.Point{
			ID:      id,
			Vectors: randomVectors(r, ef.stored),
			Payload: map[string]any{
				"color": encCanary + "-" + colors[i%3],
				"size":  int64(i),
				"note":  fmt.Sprintf("%s note %d of %s", encCanary, i, tenant),
				"doc":   map[string]any{"body": encCanary + " body", "pages": []any{int64(i), 1.5, true}},
			},
		}
	}
	ef.upsertAs(t, ef.as(tenantSubject(tenant), tenant), ef.name, pts)
	for _, p := range pts {
		p = p.Clone()
		p.Payload["tenant"] = tenant
		ef.plain[p.ID] = p
	}
	return pts
}

// tenantSubject is the subject acting for a tenant in these cases.
func tenantSubject(tenant string) string {
	if tenant == "t2" {
		return subjBob
	}
	return subjAlice
}

// raw returns every stored point, read directly from the driver.
func (ef *encFixture) raw(t *testing.T) []driver.Point {
	t.Helper()
	return ef.scrollAll(t, ef.coll, nil, 100, all, true)
}

// rawPoint returns one stored point.
func (ef *encFixture) rawPoint(t *testing.T, id driver.PointID) driver.Point {
	t.Helper()
	pts := ef.readIDs(t, ef.coll, []driver.PointID{id})
	if len(pts) != 1 {
		t.Fatalf("point %v not stored", id)
	}
	return pts[0]
}

// putRaw writes a point directly to the driver, behind the client's back.
func (ef *encFixture) putRaw(t *testing.T, p driver.Point) {
	t.Helper()
	if err := ef.coll.Upsert(ef.ctx, []driver.Point{p}); err != nil {
		t.Fatalf("raw Upsert: %v", err)
	}
}

// get reads points through the client as the tenant's subject.
func (ef *encFixture) get(tenant string, ids ...driver.PointID) ([]driver.Point, error) {
	return ef.c.Get(ef.as(tenantSubject(tenant), tenant), ef.name, ids, vecguard.ReadOptions{WithPayload: true, WithVectors: true})
}

// samePlain checks that a point read through the client is what was
// written: payload values and vectors exactly (the exact copy is sealed).
func (ef *encFixture) samePlain(t *testing.T, got driver.Point) {
	t.Helper()
	want, ok := ef.plain[got.ID]
	if !ok {
		t.Errorf("point %v was never written", got.ID)
		return
	}
	if d := encPayloadDiff(want.Payload, got.Payload); d != "" {
		t.Errorf("point %v: payload differs: %s", got.ID, d)
	}
	for name, v := range want.Vectors {
		if !slices.Equal(got.Vectors[name], v) {
			t.Errorf("point %v: vector %q differs from the one written", got.ID, name)
		}
	}
}

func encPayloadDiff(want, got map[string]any) string {
	if fmt.Sprint(want) != fmt.Sprint(got) {
		keys := func(m map[string]any) []string {
			var out []string
			for k := range m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		}
		return fmt.Sprintf("keys %v, want %v", keys(got), keys(want))
	}
	return ""
}

// testEncryption runs the encryption cases.
func testEncryption(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(*testing.T, HarnessMaker)
	}{
		{"StoresOnlyCiphertext", testEncStoresOnlyCiphertext},
		{"RoundTrip", testEncRoundTrip},
		{"DeterministicFilters", testEncFilters},
		{"UpdatePayload", testEncUpdatePayload},
		{"Tamper", testEncTamper},
		{"ForeignKey", testEncForeignKey},
		{"Rotation", testEncRotation},
		{"Shredding", testEncShredding},
		{"WithoutExactCopy", testEncWithoutExactCopy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness) })
	}
}

// testEncStoresOnlyCiphertext scans what the driver stored: no plaintext
// canary in any stored string, no randomized field stored as such,
// deterministic values replaced, and vectors that are not the plaintext
// vectors nor their normalization.
func testEncStoresOnlyCiphertext(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	ef.write(t, "t1", 1, 20)
	ef.write(t, "t2", 100, 20)
	stored := ef.raw(t)
	if len(stored) != 40 {
		t.Fatalf("%d points stored, want 40", len(stored))
	}
	for _, p := range stored {
		walkStrings(p.Payload, func(path, s string) {
			if strings.Contains(s, encCanary) {
				t.Errorf("point %v: stored %s holds plaintext", p.ID, path)
			}
		})
		for _, k := range []string{"note", "doc"} {
			if _, ok := p.Payload[k]; ok {
				t.Errorf("point %v: randomized field %q stored in place", p.ID, k)
			}
		}
		if _, ok := p.Payload["color"].(string); !ok {
			t.Errorf("point %v: deterministic field not stored as a string", p.ID)
		}
		plain := ef.plain[p.ID]
		if p.Payload["tenant"] != plain.Payload["tenant"] || !sameNumber(p.Payload["size"], plain.Payload["size"]) {
			t.Errorf("point %v: plain fields not stored as written", p.ID)
		}
		for name, m := range plain.Vectors {
			if c := p.Vectors[name]; directionDistance(c, m) < 1e-3 {
				t.Errorf("point %v: stored vector %q is the plaintext vector", p.ID, name)
			}
		}
	}
}

func sameNumber(a, b any) bool {
	f := func(v any) (float64, bool) {
		switch n := v.(type) {
		case int64:
			return float64(n), true
		case float64:
			return n, true
		}
		return 0, false
	}
	x, ok1 := f(a)
	y, ok2 := f(b)
	return ok1 && ok2 && x == y
}

// walkStrings calls fn for every string in a payload, with its path.
func walkStrings(v any, fn func(path, s string)) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case string:
			fn(path, t)
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			for k, e := range t {
				fn(path+" key", k)
				walk(path+"."+k, e)
			}
		}
	}
	walk("payload", v)
}

// directionDistance is the largest coordinate difference between a and b
// normalized to unit length (0 when one is a positive multiple of the other).
func directionDistance(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var na, nb float64
	for i := range a {
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])/math.Sqrt(na)-float64(b[i])/math.Sqrt(nb)))
	}
	return d
}

// testEncRoundTrip reads back through the client: Get, Scroll and Search
// return the plaintext; Search ranks exactly.
func testEncRoundTrip(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	pts := ef.write(t, "t1", 1, 20)
	ef.write(t, "t2", 100, 20)
	got, err := ef.get("t1", ids(pts)...)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(got) != len(pts) {
		t.Fatalf("Get returned %d points, want %d", len(got), len(pts))
	}
	for _, p := range got {
		ef.samePlain(t, p)
	}
	page, err := ef.c.Scroll(ef.as(subjAlice, "t1"), ef.name, vecguard.ScrollRequest{Limit: 100, WithPayload: true, WithVectors: true})
	if err != nil {
		t.Fatalf("Scroll: %v", err)
	}
	if len(page.Points) != 20 {
		t.Fatalf("Scroll returned %d points, want t1's 20", len(page.Points))
	}
	for _, p := range page.Points {
		ef.samePlain(t, p)
	}
	// Search ranks by the exact plaintext scores.
	r := newRand(7)
	for _, vs := range ef.stored.Vectors {
		q := randomVector(r, vs.Dim, vs.Distance)
		hits, err := ef.c.Search(ef.as(subjAlice, "t1"), ef.name, vecguard.SearchRequest{Vector: q, VectorName: vs.Name, Limit: 5, WithPayload: true})
		if err != nil {
			t.Fatalf("Search %s: %v", vs.Name, err)
		}
		ef.sameHits(t, "Search "+vs.Name, hitIDs(hits), encBruteForce(pts, vs, q, 5))
		for _, h := range hits {
			ef.samePlain(t, driver.Point{ID: h.ID, Payload: h.Payload, Vectors: ef.plain[h.ID].Vectors})
		}
	}
}

// sameHits compares search results with the exact answer: equal for exact
// drivers; for approximate ones at least RecallFloor of them, in any order.
func (ef *encFixture) sameHits(t *testing.T, what string, got, want []driver.PointID) {
	t.Helper()
	if ef.caps.Exact {
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	found := 0
	for _, id := range want {
		if slices.Contains(got, id) {
			found++
		}
	}
	if float64(found) < ef.caps.RecallFloor*float64(len(want)) {
		t.Errorf("%s: found %d of the %d nearest points", what, found, len(want))
	}
}

// encBruteForce returns the IDs of the k best points for q.
func encBruteForce(pts []driver.Point, vs driver.VectorSpec, q []float32, k int) []driver.PointID {
	type scored struct {
		id driver.PointID
		s  float64
	}
	var all []scored
	for _, p := range pts {
		v := p.Vectors[vs.Name]
		var dot, nq, nv, eu float64
		for i := range q {
			dot += float64(q[i]) * float64(v[i])
			nq += float64(q[i]) * float64(q[i])
			nv += float64(v[i]) * float64(v[i])
			d := float64(q[i]) - float64(v[i])
			eu += d * d
		}
		s := dot
		switch vs.Distance {
		case driver.Cosine:
			s = dot / math.Sqrt(nq*nv)
		case driver.Euclid:
			s = -math.Sqrt(eu)
		}
		all = append(all, scored{p.ID, s})
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return a.id.Compare(b.id)
	})
	var out []driver.PointID
	for i := 0; i < k && i < len(all); i++ {
		out = append(out, all[i].id)
	}
	return out
}

// testEncFilters: filters on the deterministic field work through the
// client; ranges on it are refused.
func testEncFilters(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	ef.write(t, "t1", 1, 30)
	ef.write(t, "t2", 100, 30)
	ctx := ef.as(subjAlice, "t1")
	red, green := driver.String(encCanary+"-red"), driver.String(encCanary+"-green")
	tests := []struct {
		name string
		f    *driver.Filter
		want int64
	}{
		{"eq", driver.Eq("color", red), 10},
		{"ne", driver.Ne("color", red), 20},
		{"in", driver.In("color", red, green), 20},
		{"not in", driver.NotIn("color", red, green), 10},
		{"eq and plain range", driver.And(driver.Eq("color", red), driver.Lt("size", driver.Int(15))), 5},
		{"no such value", driver.Eq("color", driver.String("nope")), 0},
		{"exists", driver.Exists("color"), 30},
	}
	for _, tc := range tests {
		n, err := ef.c.Count(ctx, ef.name, tc.f)
		if err != nil {
			t.Errorf("Count %s: %v", tc.name, err)
			continue
		}
		if n != tc.want {
			t.Errorf("Count %s = %d, want %d", tc.name, n, tc.want)
		}
		page, err := ef.c.Scroll(ctx, ef.name, vecguard.ScrollRequest{Filter: tc.f, Limit: 100, WithPayload: true})
		if err != nil {
			t.Errorf("Scroll %s: %v", tc.name, err)
			continue
		}
		if int64(len(page.Points)) != tc.want {
			t.Errorf("Scroll %s returned %d points, want %d", tc.name, len(page.Points), tc.want)
		}
		for _, p := range page.Points {
			if !tc.f.Match(p.ID, p.Payload) {
				t.Errorf("Scroll %s returned point %v, which does not match in plaintext", tc.name, p.ID)
			}
		}
	}
	hits, err := ef.c.Search(ctx, ef.name, vecguard.SearchRequest{Vector: randomVector(newRand(3), 8, driver.Cosine), Filter: driver.Eq("color", red), Limit: 30, WithPayload: true})
	if err != nil {
		t.Fatalf("Search with filter: %v", err)
	}
	if len(hits) != 10 {
		t.Errorf("Search with filter returned %d points, want 10", len(hits))
	}
	_, err = ef.c.Count(ctx, ef.name, driver.Gt("color", driver.String("a")))
	wantErr(t, "range on an encrypted field", err, vecguard.ErrInvalidArgument)
	if err != nil && strings.Contains(err.Error(), encCanary) {
		t.Errorf("error holds a filter value: %v", err)
	}
}

// testEncUpdatePayload: payload updates go through seal again; the stored
// form stays ciphertext.
func testEncUpdatePayload(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	pts := ef.write(t, "t1", 1, 6)
	err := ef.c.UpdatePayload(ef.as(subjAlice, "t1"), ef.name, vecguard.PayloadUpdate{
		IDs: ids(pts[:3]), Set: map[string]any{"note": encCanary + " updated", "color": encCanary + "-updated"},
	})
	if err != nil {
		t.Fatalf("UpdatePayload: %v", err)
	}
	for _, p := range pts[:3] {
		pl := ef.plain[p.ID]
		pl.Payload["note"], pl.Payload["color"] = encCanary+" updated", encCanary+"-updated"
	}
	got, err := ef.get("t1", ids(pts)...)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for _, p := range got {
		ef.samePlain(t, p)
	}
	n, err := ef.c.Count(ef.as(subjAlice, "t1"), ef.name, driver.Eq("color", driver.String(encCanary+"-updated")))
	if err != nil || n != 3 {
		t.Errorf("Count of updated points = %d, %v; want 3", n, err)
	}
	for _, p := range ef.raw(t) {
		walkStrings(p.Payload, func(path, s string) {
			if strings.Contains(s, encCanary) {
				t.Errorf("point %v: stored %s holds plaintext after the update", p.ID, path)
			}
		})
	}
}

// testEncTamper changes stored points behind the client's back; reading
// them must fail with DataLoss.
func testEncTamper(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	pts := ef.write(t, "t1", 1, 12)
	flipString := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name string
		fn   func(p *driver.Point)
	}{
		{"vector bit", func(p *driver.Point) {
			p.Vectors["w"][2] = math.Float32frombits(math.Float32bits(p.Vectors["w"][2]) ^ 1<<20)
		}},
		{"vector sign", func(p *driver.Point) { p.Vectors["v"][0] = -p.Vectors["v"][0] }},
		{"metadata (IV or tag)", func(p *driver.Point) {
			p.Payload[encryption.FieldMeta] = flipString(p.Payload[encryption.FieldMeta].(string))
		}},
		{"sealed secrets", func(p *driver.Point) {
			p.Payload[encryption.FieldSecrets] = flipString(p.Payload[encryption.FieldSecrets].(string))
		}},
		{"deterministic field", func(p *driver.Point) { p.Payload["color"] = flipString(p.Payload["color"].(string)) }},
		{"key version", func(p *driver.Point) { p.Payload[encryption.FieldKeyVersion] = int64(12345) }},
		{"metadata removed", func(p *driver.Point) { delete(p.Payload, encryption.FieldMeta) }},
	}
	for i, tc := range cases {
		p := ef.rawPoint(t, pts[i].ID)
		tc.fn(&p)
		ef.putRaw(t, p)
		_, err := ef.get("t1", p.ID)
		wantErr(t, "Get after tampering with the "+tc.name, err, vecguard.ErrDataLoss)
	}
	// Vectors swapped between two points of the tenant.
	a, b := ef.rawPoint(t, pts[10].ID), ef.rawPoint(t, pts[11].ID)
	a.Vectors, b.Vectors = b.Vectors, a.Vectors
	ef.putRaw(t, a)
	_, err := ef.get("t1", a.ID)
	wantErr(t, "Get after swapping vectors", err, vecguard.ErrDataLoss)
	// Searches that meet a tampered point fail too, rather than return it.
	_, err = ef.c.Search(ef.as(subjAlice, "t1"), ef.name, vecguard.SearchRequest{Vector: randomVector(newRand(4), 5, driver.Euclid), VectorName: "w", Limit: 12})
	wantErr(t, "Search over tampered points", err, vecguard.ErrDataLoss)

	// A point whose stored vector was tampered with, found by a search for
	// its own plaintext vector: with exact copies sealed (the default) the
	// client ranks and opens the candidates from those copies, so the point
	// comes back with its authentic vector and exact score, never the
	// tampered one; Get, which returns what is stored, fails. Without exact
	// copies the stored vector is what the point decrypts to, and the
	// search fails, also when the client ranks more candidates than it
	// returns (one result, oversampled).
	for _, omit := range []bool{false, true} {
		ef = newEncFixture(t, newHarness, encryption.Config{OmitExactVector: omit}, encSpec())
		pts = ef.write(t, "t1", 100, 12)
		p := ef.rawPoint(t, pts[2].ID)
		p.Vectors["w"][2] = math.Float32frombits(math.Float32bits(p.Vectors["w"][2]) ^ 1<<20)
		ef.putRaw(t, p)
		hits, err := ef.c.Search(ef.as(subjAlice, "t1"), ef.name, vecguard.SearchRequest{Vector: pts[2].Vectors["w"], VectorName: "w", Limit: 1, WithVectors: true})
		if omit {
			wantErr(t, "Search returning a tampered point (no exact copies)", err, vecguard.ErrDataLoss)
			continue
		}
		switch {
		case err != nil:
			t.Errorf("Search finding a point with a tampered stored vector: %v", err)
		case len(hits) == 1 && hits[0].ID == pts[2].ID:
			if !slices.Equal(hits[0].Vectors["w"], pts[2].Vectors["w"]) || hits[0].Score != 0 {
				t.Errorf("Search returned the tampered point with vector %v and score %g, want its written vector and 0", hits[0].Vectors["w"], hits[0].Score)
			}
		default:
			t.Errorf("Search for a point's own vector returned %d hits, want the point %v", len(hits), pts[2].ID)
		}
		_, err = ef.get("t1", p.ID)
		wantErr(t, "Get of a point with a tampered stored vector", err, vecguard.ErrDataLoss)
	}
}

// testEncForeignKey: a point of one tenant moved into another tenant's rows
// (tenant field rewritten, new ID) does not open there.
func testEncForeignKey(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	ef.write(t, "t1", 1, 3)
	t2 := ef.write(t, "t2", 100, 3)
	for i, id := range []driver.PointID{t2[0].ID, t2[1].ID} {
		p := ef.rawPoint(t, id)
		p.Payload["tenant"] = "t1"
		if i == 1 {
			p.ID = driver.NumID(999) // moved and renamed
		}
		ef.putRaw(t, p)
		_, err := ef.get("t1", p.ID)
		wantErr(t, "Get of another tenant's point", err, vecguard.ErrDataLoss)
	}
}

// testEncRotation: after a rotation old and new points read and search
// together; Reencrypt moves every point to the new version, after which the
// old version can be retired.
func testEncRotation(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	old := ef.write(t, "t1", 1, 10)
	ef.write(t, "t2", 100, 5)
	v1 := ef.keys.primary("t1")
	v2 := ef.keys.rotate("t1")
	fresh := ef.write(t, "t1", 200, 10)
	versions := func() map[int64]int {
		m := map[int64]int{}
		for _, p := range ef.raw(t) {
			if p.Payload["tenant"] == "t1" {
				v, _ := p.Payload[encryption.FieldKeyVersion].(int64)
				m[v]++
			}
		}
		return m
	}
	if m := versions(); m[int64(v1)] != 10 || m[int64(v2)] != 10 {
		t.Fatalf("stored versions %v, want 10 under %d and 10 under %d", m, v1, v2)
	}
	all := append(slices.Clone(old), fresh...)
	got, err := ef.get("t1", ids(all)...)
	if err != nil || len(got) != 20 {
		t.Fatalf("Get across versions: %d points, %v", len(got), err)
	}
	q := randomVector(newRand(5), 8, driver.Cosine)
	hits, err := ef.c.Search(ef.as(subjAlice, "t1"), ef.name, vecguard.SearchRequest{Vector: q, Limit: 5})
	if err != nil {
		t.Fatalf("Search across versions: %v", err)
	}
	ef.sameHits(t, "Search across versions", hitIDs(hits), encBruteForce(all, ef.stored.Vectors[0], q, 5))
	n, err := ef.c.Count(ef.as(subjAlice, "t1"), ef.name, driver.Eq("color", driver.String(encCanary+"-red")))
	if err != nil || n != 8 { // 4 red points in each batch of 10
		t.Errorf("Count across versions = %d, %v; want 8", n, err)
	}
	// Tenant t1's admin re-encrypts t1's points only.
	st, err := ef.c.Reencrypt(ef.as(subjAdmin, "t1"), ef.name, encryption.ReencryptOptions{BatchSize: 4})
	if err != nil {
		t.Fatalf("Reencrypt: %v", err)
	}
	if st.Reencrypted != 10 {
		t.Errorf("Reencrypt rewrote %d points, want 10", st.Reencrypted)
	}
	if m := versions(); m[int64(v2)] != 20 {
		t.Fatalf("after Reencrypt: versions %v", m)
	}
	_, err = ef.c.Reencrypt(ef.as(subjAlice, "t1"), ef.name, encryption.ReencryptOptions{})
	wantErr(t, "Reencrypt without admin", err, vecguard.ErrPermissionDenied)
	_, err = ef.c.Reencrypt(ef.as(subjAdmin, "t1"), ef.name, encryption.ReencryptOptions{Tenant: "t2"})
	wantErr(t, "Reencrypt of another tenant", err, vecguard.ErrPermissionDenied)
	ef.keys.retire("t1", v1)
	if got, err = ef.get("t1", ids(all)...); err != nil || len(got) != 20 {
		t.Fatalf("Get after retiring the old version: %d points, %v", len(got), err)
	}
	for _, p := range got {
		ef.samePlain(t, p)
	}
}

// testEncShredding: destroying a tenant's keys makes its stored points
// unreadable for good, and leaves the other tenants alone.
func testEncShredding(t *testing.T, newHarness HarnessMaker) {
	ef := newEncFixture(t, newHarness, encryption.Config{}, encSpec())
	t1 := ef.write(t, "t1", 1, 5)
	t2 := ef.write(t, "t2", 100, 5)
	ef.keys.destroy("t2")
	_, err := ef.get("t2", ids(t2)...)
	wantErr(t, "Get after shredding", err, vecguard.ErrFailedPrecondition)
	_, err = ef.c.Search(ef.as(subjBob, "t2"), ef.name, vecguard.SearchRequest{Vector: randomVector(newRand(6), 8, driver.Cosine)})
	wantErr(t, "Search after shredding", err, vecguard.ErrFailedPrecondition)
	got, err := ef.get("t1", ids(t1)...)
	if err != nil || len(got) != 5 {
		t.Fatalf("the other tenant after shredding: %d points, %v", len(got), err)
	}
	// New keys for the tenant do not bring the old data back.
	ef.keys.recreate("t2")
	_, err = ef.get("t2", ids(t2)...)
	wantErr(t, "Get under new keys after shredding", err, vecguard.ErrDataLoss)
	// The stored points are still ciphertext.
	for _, p := range ef.raw(t) {
		walkStrings(p.Payload, func(path, s string) {
			if strings.Contains(s, encCanary) {
				t.Errorf("point %v: stored %s holds plaintext", p.ID, path)
			}
		})
	}
}

// testEncWithoutExactCopy runs without the sealed exact vectors on a Euclid
// and Dot collection (databases store those verbatim): vectors come back
// within float32 rounding, and a flipped bit is still detected.
func testEncWithoutExactCopy(t *testing.T, newHarness HarnessMaker) {
	spec := encSpec()
	spec.Vectors = []driver.VectorSpec{{Name: "w", Dim: 6, Distance: driver.Euclid}, {Name: "d", Dim: 4, Distance: driver.Dot}}
	ef := newEncFixture(t, newHarness, encryption.Config{OmitExactVector: true}, spec)
	pts := ef.write(t, "t1", 1, 8)
	got, err := ef.get("t1", ids(pts)...)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for _, p := range got {
		want := ef.plain[p.ID]
		for name, v := range want.Vectors {
			for i := range v {
				if math.Abs(float64(p.Vectors[name][i]-v[i])) > 1e-5*(1+math.Abs(float64(v[i]))) {
					t.Fatalf("point %v: vector %q[%d] off by %g", p.ID, name, i, p.Vectors[name][i]-v[i])
				}
			}
		}
	}
	p := ef.rawPoint(t, pts[0].ID)
	p.Vectors["w"][0] = math.Float32frombits(math.Float32bits(p.Vectors["w"][0]) ^ 1)
	ef.putRaw(t, p)
	_, err = ef.get("t1", p.ID)
	wantErr(t, "Get after flipping the lowest bit of a stored vector", err, vecguard.ErrDataLoss)
	if errors.Is(err, vecguard.ErrDataLoss) && strings.Contains(err.Error(), encCanary) {
		t.Errorf("error holds plaintext: %v", err)
	}
}
