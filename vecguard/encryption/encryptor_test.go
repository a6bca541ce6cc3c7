package encryption

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption/sap"
)

// testKeys is a KeyProvider over raw root keys: tenant -> versions.
type testKeys struct {
	mu      sync.Mutex
	primary map[string]uint32
	roots   map[string]map[uint32]RootKey
	rings   map[string]*Keyring
}

func newTestKeys() *testKeys {
	return &testKeys{primary: map[string]uint32{}, roots: map[string]map[uint32]RootKey{}, rings: map[string]*Keyring{}}
}

// add gives tenant a new version (seeded from tenant and version) and makes
// it primary.
func (k *testKeys) add(t testing.TB, tenant string, version uint32) {
	t.Helper()
	secret := make([]byte, 32)
	copy(secret, fmt.Sprintf("%s/%d", tenant, version))
	r, err := HKDFRootKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.roots[tenant] == nil {
		k.roots[tenant] = map[uint32]RootKey{}
	}
	k.roots[tenant][version] = r
	k.primary[tenant] = version
	delete(k.rings, tenant)
}

func (k *testKeys) retire(tenant string, version uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.roots[tenant], version)
	delete(k.rings, tenant)
}

func (k *testKeys) Keyring(_ context.Context, s Scope) (*Keyring, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if kr := k.rings[s.Tenant]; kr != nil {
		return kr, nil
	}
	if len(k.roots[s.Tenant]) == 0 {
		return nil, driver.Errorf(driver.FailedPrecondition, "no keys")
	}
	kr, err := NewKeyring(k.primary[s.Tenant], k.roots[s.Tenant])
	if err != nil {
		return nil, err
	}
	k.rings[s.Tenant] = kr
	return kr, nil
}

var (
	ctx    = context.Background()
	scopeA = Scope{Tenant: "acme", Collection: "docs"}
	scopeB = Scope{Tenant: "globex", Collection: "docs"}
)

func newEnc(t testing.TB, cfg Config) (*Encryptor, *testKeys) {
	t.Helper()
	k := newTestKeys()
	k.add(t, scopeA.Tenant, 1)
	k.add(t, scopeB.Tenant, 1)
	if cfg.Fields == nil {
		cfg.Fields = map[string]FieldMode{"text": Randomized, "meta": Randomized, "dept": Deterministic}
	}
	e, err := New(k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, k
}

func vec(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i], n = float32(x), n+x*x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

func testPoints(r *rand.Rand, n, d int) []driver.Point {
	pts := make([]driver.Point, n)
	for i := range pts {
		pts[i] = driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"body": vec(r, d), "title": vec(r, 3)},
			Payload: map[string]any{
				"tenant": scopeA.Tenant,
				"text":   fmt.Sprintf("secret document %d", i),
				"meta":   map[string]any{"n": int64(i), "tags": []any{"a", 1.5, true, nil}},
				"dept":   []string{"sales", "legal", "eng"}[i%3],
				"year":   int64(2000 + i),
			},
		}
	}
	return pts
}

func clonePoints(pts []driver.Point) []driver.Point {
	out := make([]driver.Point, len(pts))
	for i := range pts {
		out[i] = pts[i].Clone()
	}
	return out
}

func isDataLoss(err error) bool { return driver.CodeOf(err) == driver.DataLoss }

func TestConfigCheck(t *testing.T) {
	k := newTestKeys()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"all set", Config{Beta: 2, Oversample: 8, RandomIV: true, OmitExactVector: true, Fields: map[string]FieldMode{"a": Randomized, "b": Deterministic, "c": Plain}}, true},
		{"negative beta", Config{Beta: -1}, false},
		{"NaN beta", Config{Beta: math.NaN()}, false},
		{"infinite beta", Config{Beta: math.Inf(1)}, false},
		{"oversample too big", Config{Oversample: MaxOversample + 1}, false},
		{"negative oversample", Config{Oversample: -1}, false},
		{"reserved field", Config{Fields: map[string]FieldMode{"_vg_x": Randomized}}, false},
		{"bad field name", Config{Fields: map[string]FieldMode{"a b": Randomized}}, false},
		{"bad mode", Config{Fields: map[string]FieldMode{"a": 9}}, false},
	}
	for _, tc := range tests {
		e, err := New(k, tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err == nil && tc.cfg.Beta == 0 && e.Config().Beta != DefaultBeta {
			t.Errorf("%s: beta default not applied", tc.name)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New without keys succeeded")
	}
}

func TestStoredSpec(t *testing.T) {
	base := func() *driver.CollectionSpec {
		return &driver.CollectionSpec{
			Name:    "docs",
			Vectors: []driver.VectorSpec{{Name: "body", Dim: 8, Distance: driver.Cosine}},
			Fields: []driver.FieldSpec{
				{Name: "tenant", Kind: driver.KindString, Filterable: true},
				{Name: "dept", Kind: driver.KindString, Filterable: true},
				{Name: "year", Kind: driver.KindInt, Filterable: true},
				{Name: "text", Kind: driver.KindString},
			},
			TenantField: "tenant",
		}
	}
	tests := []struct {
		name   string
		fields map[string]FieldMode
		want   string // substring of the error; "" for success
	}{
		{"ok", map[string]FieldMode{"text": Randomized, "dept": Deterministic, "undeclared": Randomized}, ""},
		{"tenant field", map[string]FieldMode{"tenant": Deterministic}, "tenant field"},
		{"deterministic int", map[string]FieldMode{"year": Deterministic}, "declared string field"},
		{"deterministic undeclared", map[string]FieldMode{"nope": Deterministic}, "declared string field"},
		{"randomized filterable", map[string]FieldMode{"dept": Randomized}, "filterable"},
	}
	for _, tc := range tests {
		e, err := New(newTestKeys(), Config{Fields: tc.fields})
		if err != nil {
			t.Fatal(err)
		}
		spec := base()
		got, err := e.StoredSpec(spec)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) || driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(spec.Fields) != 4 {
			t.Fatalf("%s: input spec modified", tc.name)
		}
		kv, ok := got.Field(FieldKeyVersion)
		if !ok || kv.Kind != driver.KindInt || !kv.Filterable {
			t.Fatalf("%s: no filterable key version field", tc.name)
		}
		for _, f := range []string{FieldMeta, FieldSecrets} {
			if _, ok := got.Field(f); !ok {
				t.Fatalf("%s: field %s missing", tc.name, f)
			}
		}
		// The user's fields are kept as declared: the client derives the
		// user's spec from the stored one.
		for _, f := range spec.Fields {
			g, _ := got.Field(f.Name)
			if g != f {
				t.Fatalf("%s: field %s changed", tc.name, f.Name)
			}
		}
	}
	e, _ := New(newTestKeys(), Config{})
	spec := base()
	spec.Fields = append(spec.Fields, driver.FieldSpec{Name: "_vg_kv", Kind: driver.KindInt})
	if _, err := e.StoredSpec(spec); err == nil {
		t.Error("a spec with a reserved field was accepted")
	}
}

// TestRoundTrip seals and opens points in every mode and checks the
// plaintext comes back: exactly with the sealed vector copy, within
// binary32 rounding without it.
func TestRoundTrip(t *testing.T) {
	for _, cfg := range []Config{{}, {OmitExactVector: true}, {RandomIV: true}, {Beta: 3, OmitExactVector: true, RandomIV: true}} {
		t.Run(fmt.Sprintf("omit=%v random=%v beta=%v", cfg.OmitExactVector, cfg.RandomIV, cfg.Beta), func(t *testing.T) {
			e, _ := newEnc(t, cfg)
			r := rand.New(rand.NewPCG(1, 2))
			pts := testPoints(r, 40, 64) // 40 points: Seal and Open run in parallel
			orig := clonePoints(pts)
			sealed, err := e.Seal(ctx, scopeA, pts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range pts {
				if !reflectEqual(pts[i], orig[i]) {
					t.Fatal("Seal modified its input")
				}
			}
			opened := clonePoints(sealed)
			if err := e.Open(ctx, scopeA, opened); err != nil {
				t.Fatal(err)
			}
			for i := range opened {
				if !reflectEqual(opened[i].Payload, orig[i].Payload) {
					t.Fatalf("point %d: payload %v, want %v", i, opened[i].Payload, orig[i].Payload)
				}
				for name, want := range orig[i].Vectors {
					got := opened[i].Vectors[name]
					for j := range want {
						diff := math.Abs(float64(got[j]) - float64(want[j]))
						if !cfg.OmitExactVector && diff != 0 || diff > 1e-6 {
							t.Fatalf("point %d vector %s[%d] off by %g", i, name, j, diff)
						}
					}
				}
			}
		})
	}
}

func reflectEqual(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// TestStoredFormHidesPlaintext checks what the database receives.
func TestStoredFormHidesPlaintext(t *testing.T) {
	e, _ := newEnc(t, Config{})
	r := rand.New(rand.NewPCG(3, 4))
	pts := testPoints(r, 5, 16)
	sealed, err := e.Seal(ctx, scopeA, pts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range sealed {
		dump := fmt.Sprintf("%v", p.Payload)
		for _, canary := range []string{"secret document", "sales", "legal", "tags"} {
			if strings.Contains(dump, canary) {
				t.Fatalf("point %d: stored payload contains %q", i, canary)
			}
		}
		if p.Payload["tenant"] != scopeA.Tenant || p.Payload["year"] != pts[i].Payload["year"] {
			t.Fatalf("point %d: plain fields not kept", i)
		}
		if _, ok := p.Payload["text"]; ok {
			t.Fatal("randomized field stored in place")
		}
		for name, c := range p.Vectors {
			m := pts[i].Vectors[name]
			if d := distance(c, m); d < 0.01 {
				t.Fatalf("point %d: stored vector %s is the plaintext", i, name)
			}
		}
	}
	// Deterministic: equal values, equal ciphertexts; different, different.
	if sealed[0].Payload["dept"] != sealed[3].Payload["dept"] || sealed[0].Payload["dept"] == sealed[1].Payload["dept"] {
		t.Fatal("deterministic encryption is not deterministic")
	}
}

func distance(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// tamperCase changes one sealed point.
type tamperCase struct {
	name string
	fn   func(p, other *driver.Point)
}

func flipBase64(s string, bit int) string {
	raw, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	raw[bit/8%len(raw)] ^= 1 << (bit % 8)
	return b64.EncodeToString(raw)
}

func tamperCases() []tamperCase {
	var tcs []tamperCase
	// Every bit of the metadata record: format, version, flags, names, IVs, tag.
	for bit := 0; bit < 8*(7+2*(1+5)+2*16+32); bit++ {
		tcs = append(tcs, tamperCase{fmt.Sprintf("meta bit %d", bit), func(p, _ *driver.Point) {
			p.Payload[FieldMeta] = flipBase64(p.Payload[FieldMeta].(string), bit)
		}})
	}
	for _, bit := range []int{0, 7, 100, 1000, 2000, 4095} {
		tcs = append(tcs, tamperCase{fmt.Sprintf("secrets bit %d", bit), func(p, _ *driver.Point) {
			p.Payload[FieldSecrets] = flipBase64(p.Payload[FieldSecrets].(string), bit)
		}})
	}
	for _, bit := range []int{0, 9, 64, 130, 200} {
		tcs = append(tcs, tamperCase{fmt.Sprintf("deterministic field bit %d", bit), func(p, _ *driver.Point) {
			p.Payload["dept"] = flipBase64(p.Payload["dept"].(string), bit)
		}})
	}
	tcs = append(tcs,
		tamperCase{"key version changed", func(p, _ *driver.Point) { p.Payload[FieldKeyVersion] = int64(2) }},
		tamperCase{"key version removed", func(p, _ *driver.Point) { delete(p.Payload, FieldKeyVersion) }},
		tamperCase{"key version not an int", func(p, _ *driver.Point) { p.Payload[FieldKeyVersion] = "1" }},
		tamperCase{"metadata removed", func(p, _ *driver.Point) { delete(p.Payload, FieldMeta) }},
		tamperCase{"metadata not base64", func(p, _ *driver.Point) { p.Payload[FieldMeta] = "!!" }},
		tamperCase{"secrets removed", func(p, _ *driver.Point) { delete(p.Payload, FieldSecrets) }},
		tamperCase{"secrets not a string", func(p, _ *driver.Point) { p.Payload[FieldSecrets] = int64(1) }},
		tamperCase{"deterministic field removed", func(p, _ *driver.Point) { delete(p.Payload, "dept") }},
		tamperCase{"deterministic field not a string", func(p, _ *driver.Point) { p.Payload["dept"] = int64(3) }},
		tamperCase{"plaintext shadows a sealed field", func(p, _ *driver.Point) { p.Payload["text"] = "forged" }},
		tamperCase{"vector removed", func(p, _ *driver.Point) { delete(p.Vectors, "title") }},
		tamperCase{"vector added", func(p, _ *driver.Point) { p.Vectors["extra"] = []float32{1} }},
		tamperCase{"vector truncated", func(p, _ *driver.Point) { p.Vectors["body"] = p.Vectors["body"][:4] }},
		tamperCase{"vector scaled", func(p, _ *driver.Point) {
			for i := range p.Vectors["body"] {
				p.Vectors["body"][i] *= 2
			}
		}},
		tamperCase{"vectors swapped with another point", func(p, o *driver.Point) { p.Vectors, o.Vectors = o.Vectors, p.Vectors }},
		tamperCase{"secrets swapped with another point", func(p, o *driver.Point) {
			p.Payload[FieldSecrets], o.Payload[FieldSecrets] = o.Payload[FieldSecrets], p.Payload[FieldSecrets]
		}},
		tamperCase{"deterministic field swapped with another point", func(p, o *driver.Point) {
			p.Payload["dept"], o.Payload["dept"] = o.Payload["dept"], p.Payload["dept"]
		}},
		tamperCase{"metadata swapped with another point", func(p, o *driver.Point) {
			p.Payload[FieldMeta], o.Payload[FieldMeta] = o.Payload[FieldMeta], p.Payload[FieldMeta]
		}},
		tamperCase{"ID changed", func(p, _ *driver.Point) { p.ID = driver.NumID(999) }},
	)
	return tcs
}

// TestTamperDetection: every change to a sealed point fails to open with
// DataLoss, in both vector modes.
func TestTamperDetection(t *testing.T) {
	for _, omit := range []bool{false, true} {
		e, _ := newEnc(t, Config{OmitExactVector: omit})
		r := rand.New(rand.NewPCG(5, 6))
		pts := testPoints(r, 2, 8)
		pts[1].Payload["dept"] = "other" // so the swap changes something
		sealed, err := e.Seal(ctx, scopeA, pts)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tamperCases() {
			cp := clonePoints(sealed)
			tc.fn(&cp[0], &cp[1])
			err := e.Open(ctx, scopeA, cp[:1])
			if !isDataLoss(err) {
				t.Errorf("omit=%v %s: Open = %v, want DataLoss", omit, tc.name, err)
			}
		}
		// Every bit of every component of both vectors.
		for _, name := range []string{"body", "title"} {
			for i := range sealed[0].Vectors[name] {
				for bit := 0; bit < 32; bit++ {
					cp := clonePoints(sealed[:1])
					v := cp[0].Vectors[name]
					v[i] = math.Float32frombits(math.Float32bits(v[i]) ^ 1<<bit)
					if err := e.Open(ctx, scopeA, cp); !isDataLoss(err) {
						t.Errorf("omit=%v: flipped bit %d of %s[%d]: Open = %v, want DataLoss", omit, bit, name, i, err)
					}
				}
			}
		}
	}
}

// TestNormalizedStorage: a database that stores Cosine vectors normalized
// is accepted when the exact copy is sealed, and detected without it.
func TestNormalizedStorage(t *testing.T) {
	for _, omit := range []bool{false, true} {
		e, _ := newEnc(t, Config{OmitExactVector: omit})
		r := rand.New(rand.NewPCG(7, 8))
		pts := testPoints(r, 3, 384)
		sealed, err := e.Seal(ctx, scopeA, pts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sealed {
			for _, v := range sealed[i].Vectors {
				normalizeF32(v)
			}
		}
		err = e.Open(ctx, scopeA, sealed)
		if omit && !isDataLoss(err) || !omit && err != nil {
			t.Fatalf("omit=%v: Open of normalized vectors = %v", omit, err)
		}
		if !omit {
			for i := range sealed {
				if distance(sealed[i].Vectors["body"], pts[i].Vectors["body"]) != 0 {
					t.Fatal("exact copy not returned")
				}
			}
		}
	}
}

// normalizeF32 normalizes the way a database does, in binary32.
func normalizeF32(v []float32) {
	var s float32
	for _, x := range v {
		s += x * x
	}
	n := float32(math.Sqrt(float64(s)))
	for i := range v {
		v[i] /= n
	}
}

func TestStoredMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	c := vec(r, 64)
	for i := range c {
		c[i] *= 37
	}
	norm := func(v []float32) []float32 {
		out := slices.Clone(v)
		normalizeF32(out)
		return out
	}
	scaled := func(v []float32, f float32) []float32 {
		out := slices.Clone(v)
		for i := range out {
			out[i] *= f
		}
		return out
	}
	flip := func(v []float32, i, bit int) []float32 {
		out := slices.Clone(v)
		out[i] = math.Float32frombits(math.Float32bits(out[i]) ^ 1<<bit)
		return out
	}
	nan := slices.Clone(c)
	nan[3] = float32(math.NaN())
	tests := []struct {
		name   string
		stored []float32
		want   bool
	}{
		{"verbatim", c, true},
		{"normalized", norm(c), true},
		{"scaled by 2", scaled(c, 2), false},
		{"scaled by 1/37 but not unit", scaled(c, 1.0/36), false},
		{"low bit flipped", flip(c, 5, 0), false},
		{"sign flipped", flip(c, 5, 31), false},
		{"normalized then a high bit flipped", flip(norm(c), 5, 20), false},
		{"NaN", nan, false},
		{"short", c[:10], false},
		{"zeros", make([]float32, 64), false},
	}
	for _, tc := range tests {
		if got := storedMatches(tc.stored, c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTenantAndCollectionSeparation: a point sealed for one scope does not
// open in another.
func TestTenantAndCollectionSeparation(t *testing.T) {
	e, _ := newEnc(t, Config{})
	r := rand.New(rand.NewPCG(10, 11))
	sealed, err := e.Seal(ctx, scopeA, testPoints(r, 1, 8))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Scope{scopeB, {Tenant: scopeA.Tenant, Collection: "other"}} {
		if err := e.Open(ctx, s, clonePoints(sealed)); !isDataLoss(err) {
			t.Errorf("open under %+v: %v, want DataLoss", s, err)
		}
	}
	// Different tenants get different ciphertexts for the same plaintext.
	pb := testPoints(rand.New(rand.NewPCG(10, 11)), 1, 8)
	sb, err := e.Seal(ctx, scopeB, pb)
	if err != nil {
		t.Fatal(err)
	}
	if sb[0].Payload["dept"] == sealed[0].Payload["dept"] || distance(sb[0].Vectors["body"], sealed[0].Vectors["body"]) == 0 {
		t.Fatal("tenants share ciphertexts")
	}
	// An unknown tenant's provider error passes through.
	if err := e.Open(ctx, Scope{Tenant: "nobody", Collection: "docs"}, clonePoints(sealed)); driver.CodeOf(err) != driver.FailedPrecondition {
		t.Fatalf("unknown tenant: %v", err)
	}
}

// TestRotation: after a new version becomes primary, old points still open,
// new points use the new version, queries and filters cover both, and a
// retired version's points fail with DataLoss.
func TestRotation(t *testing.T) {
	e, keys := newEnc(t, Config{})
	r := rand.New(rand.NewPCG(12, 13))
	old, err := e.Seal(ctx, scopeA, testPoints(r, 3, 8))
	if err != nil {
		t.Fatal(err)
	}
	keys.add(t, scopeA.Tenant, 7)
	fresh, err := e.Seal(ctx, scopeA, testPoints(r, 3, 8))
	if err != nil {
		t.Fatal(err)
	}
	if old[0].Payload[FieldKeyVersion] != int64(1) || fresh[0].Payload[FieldKeyVersion] != int64(7) {
		t.Fatalf("versions %v, %v", old[0].Payload[FieldKeyVersion], fresh[0].Payload[FieldKeyVersion])
	}
	all := append(clonePoints(old), clonePoints(fresh)...)
	if err := e.Open(ctx, scopeA, all); err != nil {
		t.Fatal(err)
	}
	qs, err := e.Queries(ctx, scopeA, "body", vec(r, 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Filter.Value.IntVal() != 7 || qs[1].Filter.Value.IntVal() != 1 {
		t.Fatalf("queries: %+v", qs)
	}
	f, err := e.RewriteFilter(ctx, scopeA, driver.Eq("dept", driver.String("sales")))
	if err != nil {
		t.Fatal(err)
	}
	if f.Op != driver.OpIn || len(f.Values) != 2 {
		t.Fatalf("rewritten filter %v", f.Redacted())
	}
	// The rewritten filter matches the stored points of both versions.
	n := 0
	for _, p := range append(clonePoints(old), clonePoints(fresh)...) {
		if f.Match(p.ID, p.Payload) {
			n++
		}
	}
	if n != 2 { // points 0 of each batch have dept "sales"
		t.Fatalf("rewritten filter matched %d stored points, want 2", n)
	}
	keys.retire(scopeA.Tenant, 1)
	if err := e.Open(ctx, scopeA, clonePoints(old)); !isDataLoss(err) {
		t.Fatalf("retired version: %v", err)
	}
	if err := e.Open(ctx, scopeA, clonePoints(fresh)); err != nil {
		t.Fatal(err)
	}
}

func TestRewriteFilter(t *testing.T) {
	e, _ := newEnc(t, Config{})
	enc := func(v string) string {
		kr, _ := e.keys.Keyring(ctx, scopeA)
		vk, _ := e.versionKeys(kr, scopeA, 1)
		ct, _ := vk.encryptDet("dept", v)
		return ct
	}
	s := driver.String
	tests := []struct {
		name string
		in   *driver.Filter
		want string // Format of the result; "" for an error
	}{
		{"nil", nil, "true"},
		{"plain field", driver.Eq("year", driver.Int(3)), "year == 3"},
		{"eq", driver.Eq("dept", s("sales")), fmt.Sprintf("dept in [%q]", enc("sales"))},
		{"ne", driver.Ne("dept", s("sales")), fmt.Sprintf("dept not in [%q]", enc("sales"))},
		{"in", driver.In("dept", s("a"), s("b")), fmt.Sprintf("dept in [%q, %q]", enc("a"), enc("b"))},
		{"not in", driver.NotIn("dept", s("a")), fmt.Sprintf("dept not in [%q]", enc("a"))},
		{"exists", driver.Exists("dept"), "dept exists"},
		{"is null", driver.IsNull("dept"), "dept is null"},
		{"nested", driver.And(driver.Eq("tenant", s("acme")), driver.Not(driver.Or(driver.Eq("dept", s("x")), driver.HasID(driver.NumID(4))))),
			fmt.Sprintf("(tenant == \"acme\" and not (dept in [%q] or id in [4]))", enc("x"))},
		{"range on deterministic", driver.Gt("dept", driver.Int(1)), ""},
		{"randomized eq", driver.Eq("text", s("x")), ""},
		{"randomized exists", driver.Exists("text"), ""},
		{"reserved field", driver.Eq(FieldKeyVersion, driver.Int(1)), ""},
		{"non-string value", driver.Eq("dept", driver.Int(1)), ""},
		{"too many values", driver.In("dept", slices.Repeat([]driver.Value{s("v")}, driver.MaxFilterValues+1)...), ""},
	}
	for _, tc := range tests {
		got, err := e.RewriteFilter(ctx, scopeA, tc.in)
		if tc.want == "" {
			if driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("%s: err = %v, want InvalidArgument", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got.String(), tc.want)
		}
	}
	// The error never echoes the value.
	_, err := e.RewriteFilter(ctx, scopeA, driver.Gt("dept", driver.Int(123456)))
	if strings.Contains(err.Error(), "123456") {
		t.Error("error contains the filter value")
	}
}

// TestSyntheticIVs: the same vector gives the same ciphertext (no fresh
// noise to average), queries and points use different IVs, and RandomIV
// gives fresh IVs.
func TestSyntheticIVs(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 15))
	v := vec(r, 32)
	for _, random := range []bool{false, true} {
		e, _ := newEnc(t, Config{RandomIV: random})
		p := []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": v}}}
		a, _ := e.Seal(ctx, scopeA, p)
		b, _ := e.Seal(ctx, scopeA, p)
		q1, _ := e.Queries(ctx, scopeA, "v", v)
		q2, _ := e.Queries(ctx, scopeA, "v", v)
		sameStored := distance(a[0].Vectors["v"], b[0].Vectors["v"]) == 0
		sameQuery := distance(q1[0].Vector, q2[0].Vector) == 0
		if sameStored == random || sameQuery == random {
			t.Errorf("random=%v: same stored %v, same query %v", random, sameStored, sameQuery)
		}
		if distance(q1[0].Vector, a[0].Vectors["v"]) == 0 {
			t.Errorf("random=%v: the query equals the stored ciphertext", random)
		}
	}
}

// TestIVUniqueness: a million IVs, synthetic (over distinct vectors) and
// random, have no repeats.
func TestIVUniqueness(t *testing.T) {
	if testing.Short() {
		t.Skip("a million IVs")
	}
	const n = 1_000_000
	for _, random := range []bool{false, true} {
		e, _ := newEnc(t, Config{RandomIV: random})
		kr, _ := e.keys.Keyring(ctx, scopeA)
		vk, err := e.versionKeys(kr, scopeA, 1)
		if err != nil {
			t.Fatal(err)
		}
		ivs := make([][sap.IVSize]byte, n)
		v := make([]float32, 4)
		for i := range ivs {
			v[0] = float32(i)
			if ivs[i], err = e.iv(vk, domainPointIV, "v", v); err != nil {
				t.Fatal(err)
			}
		}
		sort.Slice(ivs, func(i, j int) bool { return bytes.Compare(ivs[i][:], ivs[j][:]) < 0 })
		for i := 1; i < n; i++ {
			if ivs[i] == ivs[i-1] {
				t.Fatalf("random=%v: IV repeated", random)
			}
		}
	}
}

// TestDerivation pins the key derivation: the info encoding and the
// subkeys of a known root key, so another implementation can match them.
func TestDerivation(t *testing.T) {
	info := deriveInfo(Scope{Tenant: "t", Collection: "docs"}, purposeTag, "", 7)
	want := "0000000f" + fmt.Sprintf("%x", "vecguard key v1") + "00000001" + "74" + "00000004" + fmt.Sprintf("%x", "docs") +
		"00000003" + fmt.Sprintf("%x", "tag") + "00000000" + "00000007"
	if got := fmt.Sprintf("%x", info); got != want {
		t.Fatalf("info = %s, want %s", got, want)
	}
	// Length prefixes keep ("ab", "c") and ("a", "bc") apart.
	if bytes.Equal(deriveInfo(Scope{Tenant: "ab", Collection: "c"}, "x", "", 1), deriveInfo(Scope{Tenant: "a", Collection: "bc"}, "x", "", 1)) {
		t.Fatal("ambiguous info")
	}
	root, err := HKDFRootKey(bytes.Repeat([]byte{0x0b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := NewKeyring(7, map[uint32]RootKey{7: root})
	if err != nil {
		t.Fatal(err)
	}
	s := Scope{Tenant: "t", Collection: "docs"}
	known := []struct {
		purpose, qualifier string
		n                  int
		want               string
	}{
		// Computed with an independent HKDF-SHA256 implementation.
		{purposeTag, "", 32, "cd0781d123efc26576344f8f0d1dc8ab76b1d51609091e9c642dbb58efea05ff"},
		{purposeAEAD, "", 32, "8fa3889e4ecaaf6e60db74a9e779d74ac96c93183cbdd5dad147a6ae98a90c7f"},
		{purposeDAEAD, "", 64, "3bf4b0d8813302a5641e63e7e0f3466662e72a602796d422b588f7dd9458f4cd16c3b1b78209b580f85836553c8db2026ddf38ff20866037d1f733698d6b96d1"},
		{purposeIV, "", 32, "9490d0057e5898a87e4ab18a9850a18f2b56bc391818ae0808a461251d8a30c3"},
		{purposeSAP, "body", 32, "46eec31a6d41b524eb03719e030e4bb5c1332d4d586d94422e5a597087edd2de"},
		{purposeScale, "body", 8, "ee34145780a65150"},
	}
	for _, k := range known {
		got, err := kr.derive(s, k.purpose, k.qualifier, 7, k.n)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%x", got) != k.want {
			t.Errorf("%s/%s = %x, want %s", k.purpose, k.qualifier, got, k.want)
		}
	}
	vk, err := (&Encryptor{cfg: Config{Beta: 1}}).versionKeys(kr, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := vk.sapKey("body")
	if err != nil {
		t.Fatal(err)
	}
	// s = 1 + 1023·((0xee34145780a65150 >> 11)·2^-53).
	if p := sk.Params(); p.Scale != 0x1.dc710ea4d58c5p+9 || p.Beta != 1 {
		t.Fatalf("SAP params %+v", p)
	}
	if _, err := HKDFRootKey(make([]byte, 16)); err == nil {
		t.Fatal("short root key accepted")
	}
	if _, err := kr.derive(s, purposeTag, "", 8, 32); !errors.Is(err, errUnknownVersion) {
		t.Fatalf("unknown version: %v", err)
	}
}

func TestNewKeyring(t *testing.T) {
	root, _ := HKDFRootKey(make([]byte, 32))
	tests := []struct {
		name    string
		primary uint32
		roots   map[uint32]RootKey
		want    []uint32
	}{
		{"one", 5, map[uint32]RootKey{5: root}, []uint32{5}},
		{"primary first then descending", 2, map[uint32]RootKey{1: root, 2: root, 9: root}, []uint32{2, 9, 1}},
		{"primary missing", 3, map[uint32]RootKey{1: root}, nil},
		{"zero version", 1, map[uint32]RootKey{1: root, 0: root}, nil},
		{"nil root", 1, map[uint32]RootKey{1: nil}, nil},
	}
	for _, tc := range tests {
		kr, err := NewKeyring(tc.primary, tc.roots)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
			continue
		}
		if err != nil || !slices.Equal(kr.Versions(), tc.want) || kr.Primary() != tc.primary {
			t.Errorf("%s: %v %v", tc.name, kr, err)
		}
	}
}

func TestSealRejects(t *testing.T) {
	e, _ := newEnc(t, Config{})
	tests := []struct {
		name string
		p    driver.Point
	}{
		{"no vectors", driver.Point{ID: driver.NumID(1)}},
		{"reserved key", driver.Point{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1}}, Payload: map[string]any{"_vg_x": "a"}}},
		{"deterministic non-string", driver.Point{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1}}, Payload: map[string]any{"dept": int64(4)}}},
		{"empty vector", driver.Point{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {}}}},
	}
	for _, tc := range tests {
		if _, err := e.Seal(ctx, scopeA, []driver.Point{tc.p}); driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := e.Seal(ctx, Scope{Tenant: "nobody"}, []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": {1}}}}); driver.CodeOf(err) != driver.FailedPrecondition {
		t.Errorf("no keys: %v", err)
	}
}

// TestErrorsCarryNoValues: DataLoss errors name the point, never its data.
func TestErrorsCarryNoValues(t *testing.T) {
	e, _ := newEnc(t, Config{})
	r := rand.New(rand.NewPCG(16, 17))
	sealed, _ := e.Seal(ctx, scopeA, testPoints(r, 1, 8))
	sealed[0].Payload["dept"] = "forged-value-xyz"
	err := e.Open(ctx, scopeA, sealed)
	if !isDataLoss(err) || strings.Contains(err.Error(), "forged") || !strings.Contains(err.Error(), "point 1") {
		t.Fatalf("error: %v", err)
	}
}

func TestParseMeta(t *testing.T) {
	good := meta{version: 3, flags: flagExact, vectors: []vectorIV{{name: "a"}, {name: "b"}}}
	enc := good.marshal()
	m, err := parseMeta(enc)
	if err != nil || m.version != 3 || len(m.vectors) != 2 || m.vectors[1].name != "b" {
		t.Fatalf("parse: %+v %v", m, err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(slices.Clone(enc)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", enc[:10]},
		{"format", mut(func(b []byte) []byte { b[0] = 2; return b })},
		{"version 0", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[1:], 0); return b })},
		{"unknown flag", mut(func(b []byte) []byte { b[5] = 0x80; return b })},
		{"no vectors", mut(func(b []byte) []byte { b[6] = 0; return b })},
		{"too many vectors", mut(func(b []byte) []byte { b[6] = 17; return b })},
		{"names out of order", mut(func(b []byte) []byte { b[8], b[8+1+16+1] = 'b', 'a'; return b })},
		{"trailing", append(slices.Clone(enc[:len(enc)-tagSize]), append([]byte{0}, enc[len(enc)-tagSize:]...)...)},
		{"empty name", mut(func(b []byte) []byte { b[7] = 0; return b })},
	}
	for _, tc := range tests {
		if _, err := parseMeta(tc.b); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestValueCodec(t *testing.T) {
	values := []any{
		nil, "", "héllo", int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), 0.0, -1.5, math.MaxFloat64,
		true, false, []any{}, []any{int64(1), "x", nil, []any{true}}, map[string]any{}, map[string]any{"b": int64(1), "a": map[string]any{"c": 2.5}},
	}
	for _, v := range values {
		b := encodeValue(nil, v)
		d := decoder{b: b}
		got := d.value(0)
		if !d.ok() || len(d.b) != 0 || !reflectEqual(got, v) {
			t.Errorf("%#v: decoded %#v (ok %v, left %d)", v, got, d.ok(), len(d.b))
		}
	}
	bad := [][]byte{
		{}, {8}, {tagString, 5, 'a'}, {tagFloat, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, // NaN
		{tagMap, 2, 1, 'b', tagNull, 1, 'a', tagNull}, // keys out of order
		{tagMap, 1, 0, tagNull},                       // empty key
		{tagInt, 0x80, 0x00},                          // non-minimal varint
		{tagList, 0xff, 0xff, 0xff, 0xff, 0x0f},       // count beyond the input
	}
	for _, b := range bad {
		d := decoder{b: b}
		d.value(0)
		if d.ok() {
			t.Errorf("% x decoded", b)
		}
	}
	deep := []byte{}
	for range driver.MaxPayloadDepth + 2 {
		deep = append(deep, tagList, 1)
	}
	deep = append(deep, tagNull)
	d := decoder{b: deep}
	d.value(0)
	if d.ok() {
		t.Error("over-deep value decoded")
	}
}

func TestSecretsAndDetCodec(t *testing.T) {
	s := secrets{vectors: map[string][]float32{"a": {1, -2}, "b": {float32(math.Inf(1))}}, fields: map[string]any{"x": "y", "z": int64(3)}}
	b := s.marshal(nil)
	if len(b)%secretsPad != 0 {
		t.Fatal("not padded")
	}
	got, err := parseSecrets(b)
	if err != nil || !reflectEqual(got.fields, s.fields) || len(got.vectors) != 2 || got.vectors["a"][1] != -2 {
		t.Fatalf("%+v %v", got, err)
	}
	b[len(b)-1] = 1
	if _, err := parseSecrets(b); err == nil {
		t.Fatal("non-zero padding accepted")
	}
	if _, err := parseSecrets(append(s.marshal(nil), make([]byte, secretsPad)...)); err == nil {
		t.Fatal("extra padding accepted")
	}
	for _, v := range []string{"", "a", strings.Repeat("x", 15), strings.Repeat("y", 16), "日本"} {
		enc := encodeDet(v)
		if len(enc)%detPad != 0 {
			t.Fatal("not padded")
		}
		if got, ok := decodeDet(enc); !ok || got != v {
			t.Fatalf("%q: %q %v", v, got, ok)
		}
	}
	if _, ok := decodeDet([]byte{1, 'a', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); ok {
		t.Fatal("bad det padding accepted")
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add((&meta{version: 1, vectors: []vectorIV{{name: "v"}}}).marshal())
	f.Add((&meta{version: 9, flags: 3, vectors: []vectorIV{{name: "a"}, {name: "b"}}}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.marshal(), b) {
			t.Fatal("metadata does not re-encode to its input")
		}
	})
}

func FuzzParseSecrets(f *testing.F) {
	f.Add((&secrets{vectors: map[string][]float32{"v": {1, 2}}, fields: map[string]any{"t": "x"}}).marshal(nil))
	f.Add((&secrets{fields: map[string]any{"m": map[string]any{"a": []any{int64(1), nil}}}}).marshal(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSecrets(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.marshal(nil), b) {
			t.Fatal("secrets do not re-encode to their input")
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	f.Add(encodeValue(nil, map[string]any{"a": []any{int64(1), 2.5, "s", true, nil}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decoder{b: b}
		v := d.value(0)
		if !d.ok() {
			return
		}
		if enc := encodeValue(nil, v); !bytes.Equal(enc, b[:len(b)-len(d.b)]) {
			t.Fatal("value does not re-encode to its input")
		}
	})
}

func FuzzDecodeDet(f *testing.F) {
	f.Add(encodeDet("sales"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := decodeDet(b)
		if ok && !bytes.Equal(encodeDet(s), b) {
			t.Fatal("det plaintext does not re-encode to its input")
		}
	})
}

// FuzzSecretVector: the ranking's partial reader of sealed secrets never
// panics, and on every record parseSecrets accepts it returns exactly the
// parsed vectors (and nil for names the record does not hold).
func FuzzSecretVector(f *testing.F) {
	f.Add((&secrets{vectors: map[string][]float32{"v": {1, 2}, "w": {3}}, fields: map[string]any{"t": "x"}}).marshal(nil), "w")
	f.Add((&secrets{fields: map[string]any{"t": "x"}}).marshal(nil), "v")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		got := secretVector(b, name)
		s, err := parseSecrets(b)
		if err != nil {
			return
		}
		want, ok := s.vectors[name]
		if !ok {
			if got != nil {
				t.Fatalf("vector %q not in the record, secretVector returned %v", name, got)
			}
			return
		}
		if !slices.EqualFunc(got, want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Fatalf("vector %q: secretVector %v, parseSecrets %v", name, got, want)
		}
	})
}
