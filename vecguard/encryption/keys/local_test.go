package keys

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	hkdfpb "github.com/tink-crypto/tink-go/v2/proto/hkdf_prf_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

var ctx = context.Background()

func newKEK(t testing.TB) KEK {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	k, err := KEKFromKeyset(h)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newLocal(t testing.TB, store Store, opts *LocalOptions) *Local {
	t.Helper()
	l, err := NewLocal(store, newKEK(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func code(err error) driver.Code { return driver.CodeOf(err) }

func TestStores(t *testing.T) {
	dir, err := NewDirStore(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Store{"mem": &MemStore{}, "dir": dir} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Load(ctx, "tenant-a"); code(err) != driver.NotFound {
				t.Fatalf("load missing: %v", err)
			}
			steps := []struct {
				name     string
				old, new []byte
				want     driver.Code // Unknown: success
			}{
				{"create", nil, []byte("one"), driver.Unknown},
				{"create again", nil, []byte("two"), driver.FailedPrecondition},
				{"swap with a stale old", []byte("zzz"), []byte("two"), driver.FailedPrecondition},
				{"swap", []byte("one"), []byte("two"), driver.Unknown},
				{"empty old is not nil", []byte{}, []byte("three"), driver.FailedPrecondition},
			}
			for _, st := range steps {
				err := s.Swap(ctx, "tenant-a", st.old, st.new)
				if st.want == driver.Unknown && err != nil || st.want != driver.Unknown && code(err) != st.want {
					t.Fatalf("%s: %v", st.name, err)
				}
			}
			if b, err := s.Load(ctx, "tenant-a"); err != nil || string(b) != "two" {
				t.Fatalf("load: %q %v", b, err)
			}
		})
	}
	if _, err := dir.Load(ctx, "../etc/passwd"); code(err) != driver.InvalidArgument {
		t.Fatalf("path traversal: %v", err)
	}
}

func TestLocalLifecycle(t *testing.T) {
	store := &MemStore{}
	now := time.Unix(1000, 0)
	l := newLocal(t, store, &LocalOptions{Now: func() time.Time { return now }})
	s := encryption.Scope{Tenant: "acme", Collection: "docs"}
	kr, err := l.Keyring(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.Versions()) != 1 {
		t.Fatalf("versions %v", kr.Versions())
	}
	v1 := kr.Primary()
	// Cached: the same keyring until the TTL passes.
	if kr2, _ := l.Keyring(ctx, s); kr2 != kr {
		t.Fatal("not cached")
	}
	// The store holds ciphertext only: no record contains the tenant name.
	for name, rec := range store.Records() {
		if bytes.Contains(rec, []byte("acme")) || bytes.Contains([]byte(name), []byte("acme")) {
			t.Fatal("the store learns the tenant name")
		}
	}
	v2, err := l.Rotate(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	kr, _ = l.Keyring(ctx, s)
	if kr.Primary() != v2 || !slices.Equal(kr.Versions(), []uint32{v2, v1}) {
		t.Fatalf("after rotation: primary %d versions %v", kr.Primary(), kr.Versions())
	}
	p, vs, err := l.Versions(ctx, "acme")
	if err != nil || p != v2 || len(vs) != 2 {
		t.Fatalf("Versions: %d %v %v", p, vs, err)
	}
	if err := l.Retire(ctx, "acme", v2); code(err) != driver.FailedPrecondition {
		t.Fatalf("retire primary: %v", err)
	}
	if err := l.Retire(ctx, "acme", 12345); code(err) != driver.NotFound {
		t.Fatalf("retire unknown: %v", err)
	}
	if err := l.Retire(ctx, "acme", v1); err != nil {
		t.Fatal(err)
	}
	if kr, _ = l.Keyring(ctx, s); kr.Has(v1) || !kr.Has(v2) {
		t.Fatal("retired version still active")
	}
	if err := l.Create(ctx, "acme"); code(err) != driver.AlreadyExists {
		t.Fatalf("create over active keys: %v", err)
	}
	if err := l.Destroy(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := l.Destroy(ctx, "acme"); err != nil {
		t.Fatalf("destroy twice: %v", err)
	}
	if _, err := l.Keyring(ctx, s); code(err) != driver.FailedPrecondition {
		t.Fatalf("keyring after destroy: %v", err)
	}
	if _, err := l.Rotate(ctx, "acme"); code(err) != driver.FailedPrecondition {
		t.Fatalf("rotate after destroy: %v", err)
	}
	// A fresh provider over the same store sees the tombstone too.
	if _, err := newLocal(t, store, nil).Keyring(ctx, s); code(err) == driver.Unknown || err == nil {
		t.Fatalf("tombstone ignored: %v", err)
	}
	if err := l.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	kr, err = l.Keyring(ctx, s)
	if err != nil || kr.Has(v2) {
		t.Fatalf("after re-creation: %v, old version present %v", err, err == nil && kr.Has(v2))
	}
	// Destroying a tenant that never had keys blocks auto-creation.
	if err := l.Destroy(ctx, "never"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Keyring(ctx, encryption.Scope{Tenant: "never"}); code(err) != driver.FailedPrecondition {
		t.Fatalf("destroyed unknown tenant: %v", err)
	}
}

func TestLocalCacheAndRefresh(t *testing.T) {
	store := &MemStore{}
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a := newLocal(t, store, &LocalOptions{Now: clock, CacheTTL: time.Minute})
	kek := a.kek
	b, _ := NewLocal(store, kek, &LocalOptions{Now: clock, CacheTTL: time.Minute})
	s := encryption.Scope{Tenant: "t"}
	ka, err := a.Keyring(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Keyring(ctx, s); err != nil {
		t.Fatal(err)
	}
	v2, err := a.Rotate(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	// b still has the old keyring; Refresh is rate-limited, then rereads.
	if kb, _ := b.Keyring(ctx, s); kb.Has(v2) {
		t.Fatal("b saw the rotation through its cache")
	}
	if kb, _ := b.Refresh(ctx, s); kb.Has(v2) {
		t.Fatal("refresh not rate-limited")
	}
	now = now.Add(2 * time.Second)
	if kb, _ := b.Refresh(ctx, s); !kb.Has(v2) {
		t.Fatal("refresh did not reread")
	}
	now = now.Add(2 * time.Minute)
	if kb, _ := b.Keyring(ctx, s); !kb.Has(v2) || !kb.Has(ka.Primary()) {
		t.Fatal("TTL did not reread")
	}
}

func TestLocalCacheBound(t *testing.T) {
	l := newLocal(t, &MemStore{}, &LocalOptions{CacheSize: 3})
	for i := range 10 {
		if _, err := l.Keyring(ctx, encryption.Scope{Tenant: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(l.cache); n > 3 {
		t.Fatalf("cache holds %d tenants", n)
	}
}

func TestLocalNoAutoCreate(t *testing.T) {
	l := newLocal(t, &MemStore{}, &LocalOptions{NoAutoCreate: true})
	s := encryption.Scope{Tenant: "t"}
	if _, err := l.Keyring(ctx, s); code(err) != driver.FailedPrecondition {
		t.Fatalf("auto-created: %v", err)
	}
	if err := l.Create(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Keyring(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// TestLocalConcurrentCreation: many goroutines asking for a new tenant's
// keyring at once end up with one keyset.
func TestLocalConcurrentCreation(t *testing.T) {
	store := &MemStore{}
	kek := newKEK(t)
	var wg sync.WaitGroup
	primaries := make([]uint32, 16)
	errs := make([]error, 16)
	for i := range primaries {
		wg.Go(func() {
			l, _ := NewLocal(store, kek, nil) // separate caches, like separate processes
			kr, err := l.Keyring(ctx, encryption.Scope{Tenant: "new"})
			errs[i] = err
			if err == nil {
				primaries[i] = kr.Primary()
			}
		})
	}
	wg.Wait()
	for i := range primaries {
		if errs[i] != nil || primaries[i] != primaries[0] {
			t.Fatalf("goroutine %d: primary %d (first %d), err %v", i, primaries[i], primaries[0], errs[i])
		}
	}
}

// TestKeysetBinding: a record is bound to its tenant and to the KEK.
func TestKeysetBinding(t *testing.T) {
	store := &MemStore{}
	l := newLocal(t, store, nil)
	if _, err := l.Keyring(ctx, encryption.Scope{Tenant: "a"}); err != nil {
		t.Fatal(err)
	}
	recA := store.Records()[recordName("a")]
	if err := store.Swap(ctx, recordName("b"), nil, recA); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Keyring(ctx, encryption.Scope{Tenant: "b"}); code(err) != driver.DataLoss {
		t.Fatalf("record copied to another tenant: %v", err)
	}
	other := newLocal(t, store, nil) // another KEK
	if _, err := other.Keyring(ctx, encryption.Scope{Tenant: "a"}); code(err) != driver.DataLoss {
		t.Fatalf("wrong KEK: %v", err)
	}
	bad := slices.Clone(recA)
	bad[len(bad)-1] ^= 1
	store2 := &MemStore{}
	_ = store2.Swap(ctx, recordName("a"), nil, bad)
	l2, _ := NewLocal(store2, l.kek, nil)
	if _, err := l2.Keyring(ctx, encryption.Scope{Tenant: "a"}); code(err) != driver.DataLoss {
		t.Fatalf("damaged record: %v", err)
	}
}

// TestTinkRootMatchesHKDF: a Tink HKDF PRF key derives exactly what
// encryption.HKDFRootKey derives from the same bytes, which is what the
// package documentation specifies.
func TestTinkRootMatchesHKDF(t *testing.T) {
	h, err := keyset.NewHandle(prf.HKDFSHA256PRFKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	set, err := prf.NewPRFSet(h)
	if err != nil {
		t.Fatal(err)
	}
	// Read the key bytes out of the keyset (tests only).
	ks := insecurecleartextkeyset.KeysetMaterial(h)
	var key hkdfpb.HkdfPrfKey
	if err := proto.Unmarshal(ks.GetKey()[0].GetKeyData().GetValue(), &key); err != nil {
		t.Fatal(err)
	}
	raw, err := encryption.HKDFRootKey(key.GetKeyValue())
	if err != nil {
		t.Fatal(err)
	}
	info := []byte("some info")
	want, _ := hkdf.Key(sha256.New, key.GetKeyValue(), nil, string(info), 64)
	got, err := tinkRoot{set.PRFs[set.PrimaryID]}.Derive(info, 64)
	if err != nil {
		t.Fatal(err)
	}
	viaRaw, _ := raw.Derive(info, 64)
	if !bytes.Equal(got, want) || !bytes.Equal(viaRaw, want) {
		t.Fatal("Tink's HKDF PRF and HKDF-SHA256 disagree")
	}
}

func TestRecordFormat(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"active", marshalRecord(stateActive, []byte{1, 2}), true},
		{"destroyed", marshalRecord(stateDestroyed, nil), true},
		{"active without body", marshalRecord(stateActive, nil), false},
		{"destroyed with body", marshalRecord(stateDestroyed, []byte{1}), false},
		{"unknown state", marshalRecord(9, []byte{1}), false},
		{"bad magic", append([]byte("XXXX"), 1, 1, 1), false},
		{"bad format", append([]byte("VGKS"), 2, 1, 1), false},
		{"short", []byte("VGK"), false},
	}
	for _, tc := range tests {
		_, _, err := parseRecord(tc.b)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(marshalRecord(stateActive, []byte{0x0a, 0x01, 0x00}))
	f.Add(marshalRecord(stateDestroyed, nil))
	kek := newKEK(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		state, body, err := parseRecord(b)
		if err != nil {
			return
		}
		if !bytes.Equal(marshalRecord(state, body), b) {
			t.Fatal("record does not re-encode to its input")
		}
		if state == stateActive {
			// Decrypting garbage must fail cleanly.
			_, _ = keyset.ReadWithContext(ctx, keyset.NewBinaryReader(bytes.NewReader(body)), kek, keysetAD("t"))
		}
	})
}

// fakeKMS is a remote AEAD that counts calls and sees only what it is
// given.
type fakeKMS struct {
	a     KEK
	calls int
	seen  [][]byte
}

func (k *fakeKMS) EncryptWithContext(ctx context.Context, pt, ad []byte) ([]byte, error) {
	k.calls++
	k.seen = append(k.seen, slices.Clone(pt))
	return k.a.EncryptWithContext(ctx, pt, ad)
}

func (k *fakeKMS) DecryptWithContext(ctx context.Context, ct, ad []byte) ([]byte, error) {
	k.calls++
	return k.a.DecryptWithContext(ctx, ct, ad)
}

func TestEnvelopeKEK(t *testing.T) {
	kms := &fakeKMS{a: newKEK(t)}
	kek, err := EnvelopeKEK(kms)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(&MemStore{}, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Keyring(ctx, encryption.Scope{Tenant: "t"}); err != nil {
		t.Fatal(err)
	}
	if kms.calls == 0 {
		t.Fatal("the KMS was not used")
	}
	for _, pt := range kms.seen {
		if len(pt) > 100 {
			t.Fatalf("the KMS saw %d bytes: more than a data key", len(pt))
		}
	}
	if _, err := EnvelopeKEK(nil); err == nil {
		t.Fatal("nil remote accepted")
	}
	if _, err := NewLocal(nil, kek, nil); err == nil {
		t.Fatal("nil store accepted")
	}
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Load(context.Context, string) ([]byte, error) {
	return nil, errors.New("disk on fire")
}
func (failingStore) Swap(context.Context, string, []byte, []byte) error {
	return errors.New("disk on fire")
}

func TestStoreFailure(t *testing.T) {
	l := newLocal(t, failingStore{}, nil)
	if _, err := l.Keyring(ctx, encryption.Scope{Tenant: "t"}); code(err) != driver.Unavailable {
		t.Fatalf("failing store: %v", err)
	}
}

func TestDirStorePersists(t *testing.T) {
	dir := t.TempDir()
	s1, _ := NewDirStore(dir)
	kek := newKEK(t)
	l1, _ := NewLocal(s1, kek, nil)
	kr1, err := l1.Keyring(ctx, encryption.Scope{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewDirStore(dir)
	l2, _ := NewLocal(s2, kek, nil)
	kr2, err := l2.Keyring(ctx, encryption.Scope{Tenant: "t"})
	if err != nil || kr2.Primary() != kr1.Primary() {
		t.Fatalf("reopened: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, _ := e.Info(); info.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s is readable by others", e.Name())
		}
	}
}

// TestLocalWithEncryptor runs the Encryptor over a Local provider: rotation
// keeps old points readable, and destroying the tenant's keys makes its
// points unreadable for good, also to a fresh provider over the same store.
func TestLocalWithEncryptor(t *testing.T) {
	store := &MemStore{}
	kek := newKEK(t)
	l, _ := NewLocal(store, kek, nil)
	enc, err := encryption.New(l, encryption.Config{Fields: map[string]encryption.FieldMode{"text": encryption.Randomized}})
	if err != nil {
		t.Fatal(err)
	}
	s := encryption.Scope{Tenant: "acme", Collection: "docs"}
	point := func(id uint64) []driver.Point {
		return []driver.Point{{ID: driver.NumID(id), Vectors: map[string][]float32{"v": {0.6, 0.8, 0}}, Payload: map[string]any{"text": "secret"}}}
	}
	old, err := enc.Seal(ctx, s, point(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rotate(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	fresh, err := enc.Seal(ctx, s, point(2))
	if err != nil {
		t.Fatal(err)
	}
	if old[0].Payload[encryption.FieldKeyVersion] == fresh[0].Payload[encryption.FieldKeyVersion] {
		t.Fatal("rotation did not change the sealing version")
	}
	both := []driver.Point{old[0].Clone(), fresh[0].Clone()}
	if err := enc.Open(ctx, s, both); err != nil || both[0].Payload["text"] != "secret" {
		t.Fatalf("open across versions: %v", err)
	}
	if err := l.Destroy(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := enc.Open(ctx, s, []driver.Point{old[0].Clone()}); code(err) != driver.FailedPrecondition {
		t.Fatalf("open after destroy: %v", err)
	}
	if err := l.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Local{l, mustLocal(t, store, kek)} {
		e, _ := encryption.New(p, encryption.Config{Fields: map[string]encryption.FieldMode{"text": encryption.Randomized}})
		if err := e.Open(ctx, s, []driver.Point{fresh[0].Clone()}); code(err) != driver.DataLoss {
			t.Fatalf("open of a shredded point under new keys: %v", err)
		}
	}
}

func mustLocal(t *testing.T, store Store, kek KEK) *Local {
	t.Helper()
	l, err := NewLocal(store, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
