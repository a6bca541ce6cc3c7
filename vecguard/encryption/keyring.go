package encryption

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// KeyProvider supplies the key versions that protect a scope. The guarded
// client asks for the keyring on every operation, so a provider should
// cache; replacing its cached keyring is how rotation and destruction take
// effect (the subkeys derived from a keyring are cached in it, and dropped
// with it).
//
// Errors should be *driver.Error values: NotFound or FailedPrecondition
// when the scope has no usable keys (FailedPrecondition after its keys were
// destroyed), Unavailable when the key store cannot be reached.
type KeyProvider interface {
	Keyring(ctx context.Context, s Scope) (*Keyring, error)
}

// Refresher is an optional interface of a KeyProvider: it reloads a scope's
// keyring, bypassing caches. The Encryptor calls it once when it meets a key
// version its cached keyring lacks (another process may have rotated).
type Refresher interface {
	Refresh(ctx context.Context, s Scope) (*Keyring, error)
}

// RootKey is one version of a root key. Derive returns the first n bytes of
// HKDF-SHA256 (RFC 5869) with the root key as input keying material, an
// empty salt and the given info. A Tink HKDF-SHA256 PRF key computes
// exactly this; HKDFRootKey builds one from raw bytes.
type RootKey interface {
	Derive(info []byte, n int) ([]byte, error)
}

type hkdfRoot struct{ secret []byte }

// HKDFRootKey returns a RootKey over a raw secret of at least 32 bytes (the
// slice is copied). Use it with secrets fetched from a KMS or vault; the
// local provider in package keys keeps its root keys in a Tink keyset.
func HKDFRootKey(secret []byte) (RootKey, error) {
	if len(secret) < 32 {
		return nil, driver.Errorf(driver.InvalidArgument, "encryption: a root key needs at least 32 bytes")
	}
	return &hkdfRoot{secret: slices.Clone(secret)}, nil
}

func (r *hkdfRoot) Derive(info []byte, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, r.secret, nil, string(info), n)
}

// Keyring is the set of active versions of a scope's root key: the primary
// version encrypts, every version decrypts, and searches fan out over all
// of them. A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	primary  uint32
	versions []uint32 // primary first, then descending
	roots    map[uint32]RootKey
	cache    sync.Map // subkeyID -> *versionKeys
}

// NewKeyring returns a keyring whose active versions are the keys of roots
// and whose primary version is primary. Version numbers are opaque
// non-zero uint32s (Tink key IDs, say).
func NewKeyring(primary uint32, roots map[uint32]RootKey) (*Keyring, error) {
	if primary == 0 || roots[primary] == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "encryption: the primary key version is missing")
	}
	k := &Keyring{primary: primary, roots: make(map[uint32]RootKey, len(roots))}
	for v, r := range roots {
		if v == 0 || r == nil {
			return nil, driver.Errorf(driver.InvalidArgument, "encryption: key version 0 or nil root key")
		}
		k.roots[v] = r
		if v != primary {
			k.versions = append(k.versions, v)
		}
	}
	slices.Sort(k.versions)
	slices.Reverse(k.versions)
	k.versions = append([]uint32{primary}, k.versions...)
	return k, nil
}

// Primary returns the version that encrypts.
func (k *Keyring) Primary() uint32 { return k.primary }

// Versions returns the active versions, primary first.
func (k *Keyring) Versions() []uint32 { return slices.Clone(k.versions) }

// Has reports whether version v is active.
func (k *Keyring) Has(v uint32) bool { return k.roots[v] != nil }

// Key purposes: each subkey is derived for one purpose only.
const (
	purposeSAP      = "sap-prf"   // per vector name: the AES-256 key of the noise PRF
	purposeScale    = "sap-scale" // per vector name: 8 bytes that fix the scaling factor s
	purposeIV       = "iv"        // HMAC-SHA256 key of synthetic IVs
	purposeTag      = "tag"       // HMAC-SHA256 key of point tags
	purposeDAEAD    = "daead"     // AES-SIV key (64 bytes) of deterministic fields
	purposeAEAD     = "aead"      // AES-256-GCM key of the sealed secrets
	derivationLabel = "vecguard key v1"
)

// deriveInfo builds the HKDF info of a subkey: length-prefixed fields, so no
// two (tenant, collection, purpose, qualifier) tuples share an encoding.
//
//	info = lp("vecguard key v1") ‖ lp(tenant) ‖ lp(collection) ‖ lp(purpose) ‖ lp(qualifier) ‖ be32(version)
//	lp(x) = be32(len(x)) ‖ x
func deriveInfo(s Scope, purpose, qualifier string, version uint32) []byte {
	b := make([]byte, 0, 4*6+len(derivationLabel)+len(s.Tenant)+len(s.Collection)+len(purpose)+len(qualifier))
	for _, f := range []string{derivationLabel, s.Tenant, s.Collection, purpose, qualifier} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint32(b, version)
}

// derive returns n bytes of the subkey for (s, purpose, qualifier, version).
func (k *Keyring) derive(s Scope, purpose, qualifier string, version uint32, n int) ([]byte, error) {
	r := k.roots[version]
	if r == nil {
		return nil, errUnknownVersion
	}
	out, err := r.Derive(deriveInfo(s, purpose, qualifier, version), n)
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: key derivation failed")
	}
	if len(out) != n {
		return nil, driver.Errorf(driver.Internal, "encryption: key derivation returned %d bytes, want %d", len(out), n)
	}
	return out, nil
}
