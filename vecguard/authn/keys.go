package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
)

// The signature algorithms a token may use. Every Key is pinned to exactly
// one of them; "none" and every algorithm not listed here are refused.
const (
	HS256 = "HS256" // HMAC with SHA-256; Material is a []byte secret of at least 32 bytes
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256; Material is an *rsa.PublicKey of 2048 to 8192 bits
	ES256 = "ES256" // ECDSA on P-256 with SHA-256; Material is an *ecdsa.PublicKey on P-256
	EdDSA = "EdDSA" // Ed25519; Material is an ed25519.PublicKey
)

// algorithms are the supported algorithms, in a fixed order.
var algorithms = []string{HS256, RS256, ES256, EdDSA}

// Key is one token-verification key, pinned to one algorithm: a token whose
// header names another algorithm is never checked against it, so an RSA
// public key can never be used as an HMAC secret.
type Key struct {
	// ID is the key ID ("kid"). A token that names a kid is checked against
	// the keys with that ID and the keys without an ID; a token that names
	// none, against every key.
	ID string
	// Algorithm is HS256, RS256, ES256 or EdDSA.
	Algorithm string
	// Material is the verification key; its type must fit Algorithm (see
	// the constants). Private keys are refused: give the public half.
	Material any
}

// validate checks that the key material fits the algorithm.
func (k Key) validate() error {
	switch k.Algorithm {
	case HS256:
		b, ok := k.Material.([]byte)
		if !ok {
			return fmt.Errorf("HS256 key %q: material must be a []byte secret, not %T", k.ID, k.Material)
		}
		if len(b) < 32 {
			return fmt.Errorf("HS256 key %q: secret must have at least 32 bytes", k.ID)
		}
	case RS256:
		pk, ok := k.Material.(*rsa.PublicKey)
		if !ok || pk == nil || pk.N == nil {
			return fmt.Errorf("RS256 key %q: material must be an *rsa.PublicKey, not %T", k.ID, k.Material)
		}
		if n := pk.N.BitLen(); n < 2048 || n > 8192 {
			return fmt.Errorf("RS256 key %q: modulus must have 2048 to 8192 bits, not %d", k.ID, n)
		}
		if pk.E < 3 || pk.E%2 == 0 {
			return fmt.Errorf("RS256 key %q: invalid public exponent", k.ID)
		}
	case ES256:
		pk, ok := k.Material.(*ecdsa.PublicKey)
		if !ok || pk == nil {
			return fmt.Errorf("ES256 key %q: material must be an *ecdsa.PublicKey, not %T", k.ID, k.Material)
		}
		if pk.Curve != elliptic.P256() {
			return fmt.Errorf("ES256 key %q: key must be on P-256", k.ID)
		}
	case EdDSA:
		pk, ok := k.Material.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("EdDSA key %q: material must be an ed25519.PublicKey, not %T", k.ID, k.Material)
		}
		if len(pk) != ed25519.PublicKeySize {
			return fmt.Errorf("EdDSA key %q: public key must have %d bytes", k.ID, ed25519.PublicKeySize)
		}
	default:
		return fmt.Errorf("key %q: unsupported algorithm %q (want HS256, RS256, ES256 or EdDSA)", k.ID, k.Algorithm)
	}
	return nil
}

// matches reports whether k may check a token whose header names kid.
func (k Key) matches(kid string) bool {
	return kid == "" || k.ID == "" || k.ID == kid
}

// KeySet supplies the keys of one token issuer. Implementations must be
// safe for concurrent use.
type KeySet interface {
	// Keys returns the keys that may have signed a token whose header names
	// kid ("" when it names none). An empty result with a nil error means
	// the key is unknown.
	Keys(ctx context.Context, kid string) ([]Key, error)
}

// StaticKeys is a fixed KeySet.
type StaticKeys []Key

// Keys implements KeySet.
func (s StaticKeys) Keys(_ context.Context, kid string) ([]Key, error) {
	var out []Key
	for _, k := range s {
		if k.matches(kid) {
			out = append(out, k)
		}
	}
	return out, nil
}

// validate checks every key of a static set and copies HMAC secrets, so a
// caller that reuses its slice cannot change a verifier's keys.
func (s StaticKeys) validate() (StaticKeys, error) {
	out := make(StaticKeys, len(s))
	for i, k := range s {
		if err := k.validate(); err != nil {
			return nil, err
		}
		if b, ok := k.Material.([]byte); ok {
			k.Material = slices.Clone(b)
		}
		out[i] = k
	}
	return out, nil
}
