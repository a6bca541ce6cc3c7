package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// JWKSOptions configures a JWKS. The zero value (or nil) is valid.
type JWKSOptions struct {
	// Client fetches the key set. nil means a client with a 10 s timeout.
	Client *http.Client
	// MaxAge is how long a fetched key set is used before it is fetched
	// again. 0 means 1 hour.
	MaxAge time.Duration
	// MinInterval is the least time between two fetches. A token with an
	// unknown key ID triggers a fetch (keys rotate), but never more than
	// one per MinInterval, however many such tokens arrive. 0 means 30 s.
	MinInterval time.Duration
	// MaxBytes bounds the size of the key set document. 0 means 1 MiB.
	MaxBytes int64
	// Logger receives failed refreshes (when an older key set is still in
	// use). nil means slog.Default(). Reports never carry key material.
	Logger *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// JWKS is a KeySet fetched from a JSON Web Key Set URL (RFC 7517), as
// OpenID Connect providers publish at their "jwks_uri". It caches the set,
// fetches it again after MaxAge, and at most once per MinInterval when a
// token names a key ID it does not know. When a fetch fails it keeps using
// the keys it has; with none it reports Unavailable. It is safe for
// concurrent use.
//
// The URL must be https, except on a loopback host.
type JWKS struct {
	url    string
	client *http.Client
	opts   JWKSOptions

	fetchMu sync.Mutex // one fetch at a time

	mu        sync.RWMutex
	keys      []Key
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch attempt
	tried     bool      // attempted is set
}

var _ KeySet = (*JWKS)(nil)

// NewJWKS returns a JWKS for the key set at rawURL. It does not fetch yet:
// call Refresh to fail early when the URL does not serve keys.
func NewJWKS(rawURL string, opts *JWKSOptions) (*JWKS, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("authn: invalid JWKS URL")
	}
	if u.User != nil {
		return nil, errors.New("authn: JWKS URL must not carry credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, errors.New("authn: JWKS URL must use https (http only on a loopback host)")
		}
	default:
		return nil, errors.New("authn: JWKS URL must use https")
	}
	j := &JWKS{url: u.String()}
	if opts != nil {
		j.opts = *opts
	}
	if j.opts.MaxAge <= 0 {
		j.opts.MaxAge = time.Hour
	}
	if j.opts.MinInterval <= 0 {
		j.opts.MinInterval = 30 * time.Second
	}
	if j.opts.MaxBytes <= 0 {
		j.opts.MaxBytes = 1 << 20
	}
	if j.opts.Logger == nil {
		j.opts.Logger = slog.Default()
	}
	if j.opts.Now == nil {
		j.opts.Now = time.Now
	}
	j.client = j.opts.Client
	if j.client == nil {
		j.client = &http.Client{Timeout: 10 * time.Second}
	}
	return j, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Keys implements KeySet.
func (j *JWKS) Keys(ctx context.Context, kid string) ([]Key, error) {
	keys, fresh := j.lookup(kid)
	if fresh {
		return keys, nil
	}
	j.mu.RLock()
	have := j.keys != nil
	j.mu.RUnlock()
	// With keys at hand, a call that finds a fetch under way answers from
	// the cache instead of waiting for it; without, it waits.
	if have {
		if !j.fetchMu.TryLock() {
			return keys, nil
		}
	} else {
		j.fetchMu.Lock()
	}
	err := j.maybeFetch(ctx)
	j.fetchMu.Unlock()

	j.mu.RLock()
	have = j.keys != nil
	j.mu.RUnlock()
	if !have {
		if err == nil {
			err = driver.Errorf(driver.Unavailable, "token signing keys not fetched yet")
		}
		return nil, err
	}
	if err != nil {
		j.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "vecguard: JWKS refresh failed; using the cached keys",
			slog.String("error", err.Error()))
	}
	keys, _ = j.lookup(kid)
	return keys, nil
}

// lookup returns the cached keys that match kid, and whether the cache
// answers without a fetch: it is younger than MaxAge and, when kid is set,
// knows kid.
func (j *JWKS) lookup(kid string) ([]Key, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	var out []Key
	known := kid == ""
	for _, k := range j.keys {
		if k.matches(kid) {
			out = append(out, k)
			known = known || k.ID == kid
		}
	}
	fresh := j.keys != nil && j.opts.Now().Sub(j.fetched) < j.opts.MaxAge
	return out, fresh && known
}

// maybeFetch fetches the key set unless a fetch was attempted less than
// MinInterval ago. The caller holds fetchMu.
func (j *JWKS) maybeFetch(ctx context.Context) error {
	j.mu.RLock()
	recent := j.tried && j.opts.Now().Sub(j.attempted) < j.opts.MinInterval
	j.mu.RUnlock()
	if recent {
		return nil
	}
	return j.fetch(ctx)
}

// Refresh fetches the key set now, whatever the cache holds, and reports
// why it could not.
func (j *JWKS) Refresh(ctx context.Context) error {
	j.fetchMu.Lock()
	defer j.fetchMu.Unlock()
	return j.fetch(ctx)
}

// fetch gets and parses the key set; the caller holds fetchMu.
func (j *JWKS) fetch(ctx context.Context) error {
	j.mu.Lock()
	j.attempted, j.tried = j.opts.Now(), true
	j.mu.Unlock()
	keys, err := j.get(ctx)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.keys, j.fetched = keys, j.opts.Now()
	j.mu.Unlock()
	return nil
}

func (j *JWKS) get(ctx context.Context) ([]Key, error) {
	unavailable := func(msg string) error { return driver.Errorf(driver.Unavailable, "token signing keys: %s", msg) }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, unavailable("cannot build request")
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, unavailable("key set server unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, unavailable(fmt.Sprintf("key set server answered %d", resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, j.opts.MaxBytes+1))
	if err != nil {
		return nil, unavailable("reading the key set failed")
	}
	if int64(len(body)) > j.opts.MaxBytes {
		return nil, unavailable("key set too large")
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return nil, unavailable(err.Error())
	}
	if keys == nil {
		keys = []Key{} // fetched, and empty: not the same as never fetched
	}
	return keys, nil
}

// maxJWKSKeys bounds the number of keys in a key set.
const maxJWKSKeys = 100

// jwk is the subset of a JSON Web Key (RFC 7517, 7518, 8037) vecguard reads.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	D      string   `json:"d"`
}

// ParseJWKS decodes a JSON Web Key Set into verification keys. It keeps
// the public signature keys it supports (RSA of 2048 to 8192 bits for
// RS256, EC P-256 for ES256, OKP Ed25519 for EdDSA) and skips the others:
// encryption keys, symmetric keys, other curves and algorithms, and any key
// published with private material. A supported key that is malformed fails
// the whole set.
func ParseJWKS(data []byte) ([]Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, errors.New("key set is not a JSON object")
	}
	if doc.Keys == nil {
		return nil, errors.New(`key set has no "keys" array`)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("key set has more than %d keys", maxJWKSKeys)
	}
	var out []Key
	for i, raw := range doc.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, fmt.Errorf("key %d is not a JSON Web Key", i)
		}
		key, ok, err := k.key()
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if ok {
			out = append(out, key)
		}
	}
	return out, nil
}

// key converts a JWK. ok is false for keys vecguard does not use.
func (k *jwk) key() (_ Key, ok bool, _ error) {
	if k.Use != "" && k.Use != "sig" {
		return Key{}, false, nil
	}
	if k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify") {
		return Key{}, false, nil
	}
	if k.D != "" {
		return Key{}, false, nil // private material published: never trust it
	}
	if len(k.Kid) > 256 {
		return Key{}, false, errors.New("key ID longer than 256 bytes")
	}
	key := Key{ID: k.Kid}
	switch k.Kty {
	case "RSA":
		if !algOK(k.Alg, RS256) {
			return Key{}, false, nil
		}
		n, err := b64(k.N, 1024)
		if err != nil || len(n) == 0 {
			return Key{}, false, errors.New("invalid RSA modulus")
		}
		e, err := b64(k.E, 4)
		if err != nil || len(e) == 0 {
			return Key{}, false, errors.New("invalid RSA exponent")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		pk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
		if bits := pk.N.BitLen(); bits < 2048 || bits > 8192 {
			return Key{}, false, nil // too weak (or too large) to use
		}
		if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
			return Key{}, false, errors.New("invalid RSA exponent")
		}
		key.Algorithm, key.Material = RS256, pk
	case "EC":
		if k.Crv != "P-256" || !algOK(k.Alg, ES256) {
			return Key{}, false, nil
		}
		x, errX := b64(k.X, 32)
		y, errY := b64(k.Y, 32)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return Key{}, false, errors.New("invalid P-256 coordinates")
		}
		pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return Key{}, false, errors.New("P-256 point not on the curve")
		}
		key.Algorithm, key.Material = ES256, pk
	case "OKP":
		if k.Crv != "Ed25519" || !algOK(k.Alg, EdDSA) {
			return Key{}, false, nil
		}
		x, err := b64(k.X, ed25519.PublicKeySize)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return Key{}, false, errors.New("invalid Ed25519 public key")
		}
		key.Algorithm, key.Material = EdDSA, ed25519.PublicKey(x)
	default:
		return Key{}, false, nil // "oct" (symmetric) and unknown key types
	}
	return key, true, nil
}

// algOK reports whether a JWK's "alg" (possibly absent) allows want.
func algOK(alg, want string) bool { return alg == "" || alg == want }

// b64 decodes base64url without padding (padding is tolerated), refusing
// more than max bytes of output.
func b64(s string, max int) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if base64.RawURLEncoding.DecodedLen(len(s)) > max {
		return nil, errors.New("too long")
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}
