package authn

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// jwkOf renders a public key as a JWK map.
func jwkOf(kid string, pub any) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b := must(k.Bytes())
		return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(k)}
	}
	panic("unsupported key")
}

func jwksDoc(keys ...map[string]any) []byte {
	if keys == nil {
		keys = []map[string]any{}
	}
	return must(json.Marshal(map[string]any{"keys": keys}))
}

// jwksServer serves a key set on 127.0.0.1 and counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	doc    []byte
	status int
	hits   int
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits++
		w.WriteHeader(s.status)
		w.Write(s.doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, doc []byte) {
	s.mu.Lock()
	s.status, s.doc = status, doc
	s.mu.Unlock()
}

func (s *jwksServer) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestJWKSRotationAndRateBound(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, jwksDoc(jwkOf("k1", &k.rsa.PublicKey)))
	clk := &clock{t: testNow}
	jwks, err := NewJWKS(srv.URL+"/jwks.json", &JWKSOptions{
		Client: srv.Client(), MinInterval: time.Minute, MaxAge: time.Hour, Now: clk.now, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewJWTVerifier(JWTOptions{
		Issuers:  []Issuer{{Issuer: issIdP, Keys: jwks}},
		Audience: []string{"vecguard-rag"},
		Now:      clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	verify := func(m jwt.SigningMethod, key any, kid string) error {
		_, err := v.VerifyToken(ctx, sign(t, m, key, kid, claimsFor(issIdP, "alice", set("exp", clk.now().Add(time.Hour).Unix()))))
		return err
	}
	step := func(name string, err error, wantErr error, wantFetches int) {
		t.Helper()
		if err != wantErr {
			t.Fatalf("%s: err = %v, want %v", name, err, wantErr)
		}
		if n := srv.fetches(); n != wantFetches {
			t.Fatalf("%s: %d fetches, want %d", name, n, wantFetches)
		}
	}

	step("first token fetches", verify(jwt.SigningMethodRS256, k.rsa, "k1"), nil, 1)
	step("second token uses the cache", verify(jwt.SigningMethodRS256, k.rsa, "k1"), nil, 1)
	step("token without kid uses the cache", verify(jwt.SigningMethodRS256, k.rsa, ""), nil, 1)

	// The issuer rotates to k2; the first token with k2 arrives within the
	// minimum interval of the last fetch: no fetch, unknown key.
	srv.set(http.StatusOK, jwksDoc(jwkOf("k1", &k.rsa.PublicKey), jwkOf("k2", &k.ec.PublicKey)))
	step("unknown kid within MinInterval", verify(jwt.SigningMethodES256, k.ec, "k2"), errUnknownKey, 1)

	clk.add(time.Minute)
	step("unknown kid after MinInterval refetches", verify(jwt.SigningMethodES256, k.ec, "k2"), nil, 2)

	// A flood of tokens with made-up kids costs one fetch per interval.
	clk.add(time.Minute)
	for i := range 20 {
		err := verify(jwt.SigningMethodES256, k.ec, "random-"+strings.Repeat("x", i))
		if err != errUnknownKey {
			t.Fatalf("made-up kid: err = %v", err)
		}
	}
	step("after a flood of unknown kids", nil, nil, 3)

	// The set ages out after MaxAge and is fetched again; when that fetch
	// fails, the cached keys keep working.
	srv.set(http.StatusInternalServerError, []byte("oops"))
	clk.add(time.Hour)
	step("stale set, server failing", verify(jwt.SigningMethodRS256, k.rsa, "k1"), nil, 4)
	step("failure is rate bound too", verify(jwt.SigningMethodRS256, k.rsa, "k1"), nil, 4)

	// The issuer drops k1; the next fetch forgets it.
	srv.set(http.StatusOK, jwksDoc(jwkOf("k2", &k.ec.PublicKey)))
	clk.add(time.Hour)
	step("dropped key", verify(jwt.SigningMethodRS256, k.rsa, "k1"), errUnknownKey, 5)
	step("kept key", verify(jwt.SigningMethodES256, k.ec, "k2"), nil, 5)
}

func TestJWKSUnavailable(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, []byte("down"))
	srv.set(http.StatusServiceUnavailable, []byte("down"))
	clk := &clock{t: testNow}
	jwks := must(NewJWKS(srv.URL, &JWKSOptions{Client: srv.Client(), Now: clk.now, Logger: quietLogger()}))
	v := must(NewJWTVerifier(JWTOptions{Issuers: []Issuer{{Issuer: issIdP, Keys: jwks}}, Audience: []string{"vecguard-rag"}, Now: clk.now}))
	token := sign(t, jwt.SigningMethodRS256, k.rsa, "k1", claimsFor(issIdP, "alice"))
	for i := range 3 {
		_, err := v.VerifyToken(context.Background(), token)
		if c := driver.CodeOf(err); c != driver.Unavailable {
			t.Fatalf("try %d: code = %v (%v), want unavailable", i, c, err)
		}
		noEcho(t, err, token)
	}
	if n := srv.fetches(); n != 1 {
		t.Fatalf("%d fetches within MinInterval, want 1", n)
	}
	if err := jwks.Refresh(context.Background()); driver.CodeOf(err) != driver.Unavailable {
		t.Fatalf("Refresh: %v", err)
	}
	srv.set(http.StatusOK, jwksDoc(jwkOf("k1", &k.rsa.PublicKey)))
	if err := jwks.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err := v.VerifyToken(context.Background(), token); err != nil {
		t.Fatalf("after Refresh: %v", err)
	}
}

func TestJWKSResponses(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name   string
		status int
		body   []byte
		ok     bool
	}{
		{"ok", 200, jwksDoc(jwkOf("k1", &k.rsa.PublicKey)), true},
		{"404", 404, jwksDoc(jwkOf("k1", &k.rsa.PublicKey)), false},
		{"not JSON", 200, []byte("<html>"), false},
		{"too large", 200, append(jwksDoc(jwkOf("k1", &k.rsa.PublicKey)), bytes.Repeat([]byte(" "), 2<<10)...), false},
		{"malformed key", 200, []byte(`{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, tc.body)
			srv.set(tc.status, tc.body)
			jwks := must(NewJWKS(srv.URL, &JWKSOptions{Client: srv.Client(), MaxBytes: 2 << 10, Logger: quietLogger()}))
			keys, err := jwks.Keys(context.Background(), "k1")
			if tc.ok != (err == nil) || tc.ok != (len(keys) == 1) {
				t.Fatalf("keys = %v, err = %v", keys, err)
			}
			if err != nil && driver.CodeOf(err) != driver.Unavailable {
				t.Fatalf("code = %v", driver.CodeOf(err))
			}
		})
	}
}

func TestNewJWKSURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://idp.example/.well-known/jwks.json", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://[::1]/jwks", true},
		{"http://localhost/jwks", true},
		{"http://idp.example/jwks", false},
		{"https://user:pass@idp.example/jwks", false},
		{"ftp://idp.example/jwks", false},
		{"/jwks", false},
		{"::", false},
	} {
		_, err := NewJWKS(tc.url, nil)
		if (err == nil) != tc.ok {
			t.Errorf("NewJWKS(%q): err = %v", tc.url, err)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	k := testKeys()
	rsaJWK := jwkOf("r", &k.rsa.PublicKey)
	with := func(m map[string]any, kv ...any) map[string]any {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	weak := must(rsa.GenerateKey(rand.Reader, 1024))
	tests := []struct {
		name string
		doc  string
		algs []string // algorithms of the kept keys, in order
		err  string
	}{
		{"all three kinds", string(jwksDoc(rsaJWK, jwkOf("e", &k.ec.PublicKey), jwkOf("d", k.ed.Public()))), []string{RS256, ES256, EdDSA}, ""},
		{"empty set", `{"keys":[]}`, nil, ""},
		{"no keys member", `{}`, nil, `no "keys"`},
		{"not an object", `[]`, nil, "not a JSON object"},
		{"keys not objects", `{"keys":[1]}`, nil, "not a JSON Web Key"},
		{"encryption key skipped", string(jwksDoc(with(rsaJWK, "use", "enc"))), nil, ""},
		{"key_ops without verify skipped", string(jwksDoc(with(rsaJWK, "key_ops", []string{"encrypt"}))), nil, ""},
		{"key_ops with verify kept", string(jwksDoc(with(rsaJWK, "key_ops", []string{"verify"}))), []string{RS256}, ""},
		{"private material skipped", string(jwksDoc(with(rsaJWK, "d", "AQAB"))), nil, ""},
		{"other RSA algorithm skipped", string(jwksDoc(with(rsaJWK, "alg", "RS512"))), nil, ""},
		{"RSA without alg inferred", string(jwksDoc(with(rsaJWK, "alg", nil))), []string{RS256}, ""},
		{"weak RSA skipped", string(jwksDoc(jwkOf("w", &weak.PublicKey))), nil, ""},
		{"symmetric key skipped", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, nil, ""},
		{"unknown kty skipped", `{"keys":[{"kty":"AKP","pub":"AAAA"}]}`, nil, ""},
		{"P-384 skipped", `{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}`, nil, ""},
		{"X25519 skipped", `{"keys":[{"kty":"OKP","crv":"X25519","x":"AA"}]}`, nil, ""},
		{"EC alg mismatch skipped", string(jwksDoc(with(jwkOf("e", &k.ec.PublicKey), "alg", "ES384"))), nil, ""},
		{"EC point off the curve", `{"keys":[{"kty":"EC","crv":"P-256","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`, nil, "not on the curve"},
		{"EC short coordinate", `{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}]}`, nil, "coordinates"},
		{"Ed25519 short", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQ"}]}`, nil, "Ed25519"},
		{"RSA bad modulus", `{"keys":[{"kty":"RSA","n":"*","e":"AQAB"}]}`, nil, "modulus"},
		{"RSA even exponent", string(jwksDoc(with(rsaJWK, "e", "Ag"))), nil, "exponent"},
		{"RSA huge exponent", string(jwksDoc(with(rsaJWK, "e", "AQIDBAU"))), nil, "exponent"},
		{"padded base64 tolerated", string(jwksDoc(with(jwkOf("d", k.ed.Public()), "x", base64.URLEncoding.EncodeToString(k.ed.Public().(ed25519.PublicKey))))), []string{EdDSA}, ""},
		{"too many keys", `{"keys":[` + strings.Repeat(`{},`, 100) + `{}]}`, nil, "more than 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseJWKS([]byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var algs []string
			for _, k := range keys {
				if err := k.validate(); err != nil {
					t.Fatalf("parsed key invalid: %v", err)
				}
				algs = append(algs, k.Algorithm)
			}
			if strings.Join(algs, ",") != strings.Join(tc.algs, ",") {
				t.Fatalf("algorithms = %v, want %v", algs, tc.algs)
			}
		})
	}
}

func TestJWKSAnswersFromCacheDuringAFetch(t *testing.T) {
	k := testKeys()
	doc := jwksDoc(jwkOf("k1", &k.rsa.PublicKey))
	entered, release := make(chan struct{}), make(chan struct{})
	var calls sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Lock()
		n++
		first := n == 1
		calls.Unlock()
		if !first { // the refresh hangs until released
			entered <- struct{}{}
			<-release
		}
		w.Write(doc)
	}))
	defer srv.Close()
	clk := &clock{t: testNow}
	jwks := must(NewJWKS(srv.URL, &JWKSOptions{Client: srv.Client(), Now: clk.now, Logger: quietLogger()}))
	ctx := context.Background()
	if keys, err := jwks.Keys(ctx, "k1"); err != nil || len(keys) != 1 {
		t.Fatalf("first fetch: %v, %v", keys, err)
	}
	clk.add(2 * time.Hour) // stale
	done := make(chan error)
	go func() {
		_, err := jwks.Keys(ctx, "k1") // refreshes, and hangs in the fetch
		done <- err
	}()
	<-entered
	// The refresh is under way: this call answers from the cache.
	if keys, err := jwks.Keys(ctx, "k1"); err != nil || len(keys) != 1 {
		t.Fatalf("during the refresh: %v, %v", keys, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
