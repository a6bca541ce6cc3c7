package authn

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// testKeys are generated once per test binary.
type testKeyPairs struct {
	rsa, rsaOther *rsa.PrivateKey
	ec, ecOther   *ecdsa.PrivateKey
	ed, edOther   ed25519.PrivateKey
}

var keysOnce = sync.OnceValue(func() *testKeyPairs {
	k := &testKeyPairs{}
	var err error
	for _, p := range []**rsa.PrivateKey{&k.rsa, &k.rsaOther} {
		if *p, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	for _, p := range []**ecdsa.PrivateKey{&k.ec, &k.ecOther} {
		if *p, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	}
	for _, p := range []*ed25519.PrivateKey{&k.ed, &k.edOther} {
		if _, *p, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	}
	return k
})

func testKeys() *testKeyPairs { return keysOnce() }

// sign mints a token. kid "" leaves the header without a kid.
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

// claimsFor returns valid claims of issuer iss for subject sub, changed by
// the given functions.
func claimsFor(iss, sub string, change ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": iss,
		"sub": sub,
		"aud": "vecguard-rag",
		"exp": testNow.Add(time.Hour).Unix(),
		"iat": testNow.Add(-time.Minute).Unix(),
		"nbf": testNow.Add(-time.Minute).Unix(),
	}
	for _, f := range change {
		f(c)
	}
	return c
}

// noEcho fails the test when err's text holds any 8-byte piece of the
// token (the error must not echo it).
func noEcho(t testing.TB, err error, token string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, part := range strings.Split(token, ".") {
		for i := 0; i+8 <= len(part); i++ {
			if strings.Contains(msg, part[i:i+8]) {
				t.Fatalf("error %q echoes the token", msg)
			}
		}
	}
}
