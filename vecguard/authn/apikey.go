package authn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
)

// APIKeyHashPrefix starts every API key hash (see HashAPIKey).
const APIKeyHashPrefix = "hmac-sha256:"

// maxAPIKeyBytes bounds the length of a presented API key.
const maxAPIKeyBytes = 512

// HashAPIKey returns the stored form of an API key: "hmac-sha256:" and the
// hex HMAC-SHA-256 of the key under the server's pepper. Only hashes are
// configured in a server; the keys themselves go to their holders.
func HashAPIKey(pepper []byte, key string) string {
	d := digest(pepper, key)
	return APIKeyHashPrefix + hex.EncodeToString(d[:])
}

func digest(pepper []byte, key string) [sha256.Size]byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(key))
	var d [sha256.Size]byte
	m.Sum(d[:0])
	return d
}

// parseAPIKeyHash decodes the output of HashAPIKey.
func parseAPIKeyHash(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	h, ok := strings.CutPrefix(s, APIKeyHashPrefix)
	if !ok {
		return d, fmt.Errorf("API key hash must start with %q", APIKeyHashPrefix)
	}
	if len(h) != 2*sha256.Size {
		return d, fmt.Errorf("API key hash must have %d hex digits", 2*sha256.Size)
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return d, errors.New("API key hash is not hex")
	}
	return d, nil
}

// NewAPIKey returns a new random API key: "vgk_" and 32 random bytes in
// base64url.
func NewAPIKey() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return "vgk_" + base64.RawURLEncoding.EncodeToString(b)
}

// APIKey is one configured API key: its hash and the principal it stands
// for.
type APIKey struct {
	Hash      string // HashAPIKey(pepper, key)
	Principal authz.Principal
}

// APIKeys verifies API keys against a fixed set of hashes. It is safe for
// concurrent use.
//
// A presented key is HMAC-ed with the pepper; the first 8 bytes of the
// digest pick the candidate entries and the whole digest is then compared
// with subtle.ConstantTimeCompare. A caller cannot predict the digest of a
// guess without the pepper, so how long a look-up takes says nothing about
// how much of a real key the guess got right.
type APIKeys struct {
	pepper  []byte
	buckets map[uint64][]apiKeyEntry
}

type apiKeyEntry struct {
	digest    [sha256.Size]byte
	principal *authz.Principal
}

var _ TokenVerifier = (*APIKeys)(nil)

// NewAPIKeys returns a verifier of the given keys. pepper is the server's
// secret HMAC key (at least 32 bytes); it must be the one the hashes were
// made with.
func NewAPIKeys(pepper []byte, keys []APIKey) (*APIKeys, error) {
	if len(pepper) < 32 {
		return nil, errors.New("authn: API key pepper must have at least 32 bytes")
	}
	a := &APIKeys{pepper: append([]byte(nil), pepper...), buckets: make(map[uint64][]apiKeyEntry, len(keys))}
	seen := make(map[[sha256.Size]byte]bool, len(keys))
	for i, k := range keys {
		d, err := parseAPIKeyHash(k.Hash)
		if err != nil {
			return nil, fmt.Errorf("authn: API key %d: %w", i, err)
		}
		if seen[d] {
			return nil, fmt.Errorf("authn: API key %d: hash listed twice", i)
		}
		seen[d] = true
		if err := k.Principal.Validate(); err != nil {
			return nil, fmt.Errorf("authn: API key %d: %w", i, err)
		}
		b := binary.BigEndian.Uint64(d[:8])
		a.buckets[b] = append(a.buckets[b], apiKeyEntry{digest: d, principal: k.Principal.Clone()})
	}
	return a, nil
}

var errAPIKey = unauthenticated("invalid API key")

// VerifyToken implements TokenVerifier: it returns the principal of a
// configured API key.
func (a *APIKeys) VerifyToken(_ context.Context, key string) (authz.Principal, error) {
	if key == "" {
		return authz.Principal{}, ErrNoCredentials
	}
	if len(key) > maxAPIKeyBytes {
		return authz.Principal{}, errAPIKey
	}
	d := digest(a.pepper, key)
	var found *authz.Principal
	for _, e := range a.buckets[binary.BigEndian.Uint64(d[:8])] {
		if subtle.ConstantTimeCompare(e.digest[:], d[:]) == 1 {
			found = e.principal
		}
	}
	if found == nil {
		return authz.Principal{}, errAPIKey
	}
	return *found.Clone(), nil
}
