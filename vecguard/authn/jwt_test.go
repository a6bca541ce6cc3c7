package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

const (
	issIdP    = "https://idp.example"
	issAcme   = "https://idp.example/tenants/acme"
	issShared = "https://shared.example"
)

var (
	secretAcme   = []byte("acme-hs256-secret-0123456789abcdef")
	secretAcme2  = []byte("acme-shared-secret-0123456789abcdef")
	secretGlobex = []byte("globex-shared-secret-0123456789abcd")
)

// testVerifier trusts:
//   - issIdP, for any tenant (from the "tenant" claim), with RS256, ES256
//     and EdDSA keys;
//   - issAcme, bound to tenant acme, with an HS256 secret;
//   - issShared, which signs acme's tokens with one secret and globex's
//     with another.
func testVerifier(t testing.TB, change ...func(*JWTOptions)) *JWTVerifier {
	t.Helper()
	k := testKeys()
	opts := JWTOptions{
		Issuers: []Issuer{
			{Issuer: issIdP, Keys: StaticKeys{
				{ID: "rsa1", Algorithm: RS256, Material: &k.rsa.PublicKey},
				{ID: "ec1", Algorithm: ES256, Material: &k.ec.PublicKey},
				{ID: "ed1", Algorithm: EdDSA, Material: k.ed.Public()},
			}},
			{Issuer: issAcme, Tenant: "acme", Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme}}},
			{Issuer: issShared, Tenant: "acme", Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme2}}},
			{Issuer: issShared, Tenant: "globex", Keys: StaticKeys{{Algorithm: HS256, Material: secretGlobex}}},
		},
		Audience: []string{"vecguard-rag"},
		Leeway:   30 * time.Second,
		Claims: ClaimMapping{
			Roles:      "/realm_access/roles",
			Attributes: map[string]string{"department": "dept", "level": "lvl", "admin": "adm", "score": "score"},
		},
		Now: fixedNow,
	}
	for _, f := range change {
		f(&opts)
	}
	v, err := NewJWTVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func set(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
func del(k string) func(jwt.MapClaims)        { return func(c jwt.MapClaims) { delete(c, k) } }

// tamper replaces the claims segment of a signed token.
func tamper(t testing.TB, token string, claims jwt.MapClaims) string {
	t.Helper()
	other := sign(t, jwt.SigningMethodHS256, []byte("x"), "", claims)
	p := strings.Split(token, ".")
	p[1] = strings.Split(other, ".")[1]
	return strings.Join(p, ".")
}

// flipSig changes one byte of the signature.
func flipSig(token string) string {
	p := strings.Split(token, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(p[2])
	sig[len(sig)/2] ^= 0x01
	p[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(p, ".")
}

func TestJWTVerifier(t *testing.T) {
	k := testKeys()
	v := testVerifier(t)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	rsaPubDER := must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))
	good := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("tenant", "acme")))

	tests := []struct {
		name  string
		token string
		want  *authz.Principal
		err   error // one of the fixed errors, or nil
		code  driver.Code
	}{
		{
			name: "RS256 with roles and attributes",
			token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice",
				set("tenant", "acme"),
				set("realm_access", map[string]any{"roles": []any{"reader", "writer"}}),
				set("dept", "search"), set("lvl", 3), set("adm", false), set("score", 0.5))),
			want: &authz.Principal{Subject: "alice", Tenant: "acme", Roles: []string{"reader", "writer"},
				Attributes: map[string]any{"department": "search", "level": int64(3), "admin": false, "score": 0.5}},
		},
		{
			name:  "ES256",
			token: sign(t, jwt.SigningMethodES256, k.ec, "ec1", claimsFor(issIdP, "bob", set("tenant", "globex"))),
			want:  &authz.Principal{Subject: "bob", Tenant: "globex"},
		},
		{
			name:  "EdDSA",
			token: sign(t, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsFor(issIdP, "carol")),
			want:  &authz.Principal{Subject: "carol"},
		},
		{
			name:  "no kid: every key of the algorithm is tried",
			token: sign(t, jwt.SigningMethodES256, k.ec, "", claimsFor(issIdP, "bob")),
			want:  &authz.Principal{Subject: "bob"},
		},
		{
			name:  "HS256 of a tenant-bound issuer, no tenant claim",
			token: sign(t, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc")),
			want:  &authz.Principal{Subject: "svc", Tenant: "acme"},
		},
		{
			name:  "HS256 of a tenant-bound issuer, same tenant claimed",
			token: sign(t, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc", set("tenant", "acme"))),
			want:  &authz.Principal{Subject: "svc", Tenant: "acme"},
		},
		{
			name:  "shared issuer, each tenant's own key",
			token: sign(t, jwt.SigningMethodHS256, secretGlobex, "", claimsFor(issShared, "svc", set("tenant", "globex"))),
			want:  &authz.Principal{Subject: "svc", Tenant: "globex"},
		},
		{
			name:  "scope-style roles string",
			token: sign(t, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsFor(issIdP, "carol", set("realm_access", map[string]any{"roles": "a b  c"}))),
			want:  &authz.Principal{Subject: "carol", Roles: []string{"a", "b", "c"}},
		},
		{
			name:  "expired within the leeway",
			token: sign(t, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsFor(issIdP, "carol", set("exp", testNow.Add(-20*time.Second).Unix()))),
			want:  &authz.Principal{Subject: "carol"},
		},
		{
			name:  "not yet valid within the leeway",
			token: sign(t, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsFor(issIdP, "carol", set("nbf", testNow.Add(20*time.Second).Unix()))),
			want:  &authz.Principal{Subject: "carol"},
		},
		{
			name:  "audience in a list",
			token: sign(t, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsFor(issIdP, "carol", set("aud", []string{"other", "vecguard-rag"}))),
			want:  &authz.Principal{Subject: "carol"},
		},

		// Forgeries.
		{name: "forged signature", token: flipSig(good), err: errSignature},
		{name: "claims changed after signing", token: tamper(t, good, claimsFor(issIdP, "alice", set("tenant", "globex"))), err: errSignature},
		{name: "signed by another RSA key under a known kid", token: sign(t, jwt.SigningMethodRS256, k.rsaOther, "rsa1", claimsFor(issIdP, "alice")), err: errSignature},
		{name: "signed by another EC key", token: sign(t, jwt.SigningMethodES256, k.ecOther, "ec1", claimsFor(issIdP, "alice")), err: errSignature},
		{name: "signed by another Ed25519 key", token: sign(t, jwt.SigningMethodEdDSA, k.edOther, "ed1", claimsFor(issIdP, "alice")), err: errSignature},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claimsFor(issIdP, "alice")), err: errAlgorithm},
		{name: "alg none with a signature", token: noneWithSig(good), err: errAlgorithm},
		{name: "HS256 signed with the RSA public key (PEM)", token: sign(t, jwt.SigningMethodHS256, rsaPubPEM, "rsa1", claimsFor(issIdP, "alice")), err: errUnknownKey},
		{name: "HS256 signed with the RSA public key (DER)", token: sign(t, jwt.SigningMethodHS256, rsaPubDER, "", claimsFor(issIdP, "alice")), err: errUnknownKey},
		{name: "RS384 is not accepted", token: sign(t, jwt.SigningMethodRS384, k.rsa, "rsa1", claimsFor(issIdP, "alice")), err: errAlgorithm},
		{name: "PS256 is not accepted", token: sign(t, jwt.SigningMethodPS256, k.rsa, "rsa1", claimsFor(issIdP, "alice")), err: errAlgorithm},
		{name: "RS256 for an HS256-only issuer", token: sign(t, jwt.SigningMethodRS256, k.rsa, "", claimsFor(issAcme, "svc")), err: errUnknownKey},
		{name: "unknown kid", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa9", claimsFor(issIdP, "alice")), err: errUnknownKey},

		// Time.
		{name: "expired", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("exp", testNow.Add(-time.Minute).Unix()))), err: errExpired},
		{name: "no exp", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", del("exp"))), err: errMissingClaim},
		{name: "not valid yet", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("nbf", testNow.Add(time.Minute).Unix()))), err: errNotYetValid},
		{name: "issued in the future", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("iat", testNow.Add(time.Hour).Unix()))), err: errNotYetValid},
		{name: "exp not a number", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("exp", "tomorrow"))), err: errInvalidClaims},

		// Audience and issuer.
		{name: "wrong audience", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("aud", "billing"))), err: errAudience},
		{name: "no audience", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", del("aud"))), err: errMissingClaim},
		{name: "unknown issuer", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor("https://evil.example", "alice")), err: errIssuer},
		{name: "no issuer", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", del("iss"))), err: errIssuer},
		{name: "issuer not a string", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("iss", 7))), err: errIssuer},

		// Tenants.
		{name: "tenant-bound issuer's key claiming another tenant", token: sign(t, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc", set("tenant", "globex"))), err: errTenant},
		{name: "shared issuer: acme's key claiming globex", token: sign(t, jwt.SigningMethodHS256, secretAcme2, "", claimsFor(issShared, "svc", set("tenant", "globex"))), err: errSignature},
		{name: "shared issuer: a tenant it does not serve", token: sign(t, jwt.SigningMethodHS256, secretAcme2, "", claimsFor(issShared, "svc", set("tenant", "initech"))), err: errTenant},
		{name: "shared issuer: no tenant claim", token: sign(t, jwt.SigningMethodHS256, secretAcme2, "", claimsFor(issShared, "svc")), err: errNoTenant},
		{name: "tenant claim not a string", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("tenant", 42))), code: driver.Unauthenticated},

		// Claims.
		{name: "no subject", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", del("sub"))), code: driver.Unauthenticated},
		{name: "empty subject", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "")), code: driver.Unauthenticated},
		{name: "roles not strings", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("realm_access", map[string]any{"roles": []any{1}}))), code: driver.Unauthenticated},
		{name: "attribute an object", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("dept", map[string]any{"a": 1}))), code: driver.Unauthenticated},
		{name: "attribute an array", token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("dept", []any{"a"}))), code: driver.Unauthenticated},

		// Shape.
		{name: "empty", token: "", err: ErrNoCredentials},
		{name: "two segments", token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", err: errMalformed},
		{name: "garbage", token: "not-a-token-at-all", err: errMalformed},
		{name: "bad base64", token: "e!.e!.e!", err: errMalformed},
		{name: "too large", token: strings.Repeat("a", 9000), err: errTooLarge},
		{name: "crit header", token: withHeader(t, k, "crit", []string{"exp"}), err: errCritical},
		{name: "no alg", token: noAlg(good), err: errAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.VerifyToken(context.Background(), tc.token)
			noEcho(t, err, tc.token)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if !reflect.DeepEqual(&p, tc.want) {
					t.Fatalf("principal = %+v, want %+v", p, *tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, principal %+v", p)
			}
			if !reflect.DeepEqual(p, authz.Principal{}) {
				t.Errorf("a failed verification returned principal %+v", p)
			}
			if tc.err != nil && err != tc.err {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if c := driver.CodeOf(err); c != driver.Unauthenticated {
				t.Errorf("code = %v, want unauthenticated", c)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// noneWithSig rewrites a token's header to alg "none", keeping its
// signature.
func noneWithSig(token string) string {
	p := strings.Split(token, ".")
	p[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return strings.Join(p, ".")
}

// noAlg rewrites a token's header without an alg.
func noAlg(token string) string {
	p := strings.Split(token, ".")
	p[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","kid":"rsa1"}`))
	return strings.Join(p, ".")
}

func withHeader(t testing.TB, k *testKeyPairs, name string, val any) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(issIdP, "alice"))
	tok.Header["kid"] = "rsa1"
	tok.Header[name] = val
	s, err := tok.SignedString(k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTVerifierPinsIssuerAlgorithms(t *testing.T) {
	k := testKeys()
	v := testVerifier(t, func(o *JWTOptions) { o.Issuers[0].Algorithms = []string{ES256} })
	_, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice")))
	if err != errAlgorithm {
		t.Fatalf("RS256 for an ES256-only issuer: err = %v", err)
	}
	if _, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodES256, k.ec, "ec1", claimsFor(issIdP, "alice"))); err != nil {
		t.Fatalf("ES256: %v", err)
	}
}

func TestJWTVerifierPerIssuerAudience(t *testing.T) {
	k := testKeys()
	v := testVerifier(t, func(o *JWTOptions) { o.Issuers[0].Audience = []string{"search"} })
	_, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice")))
	if err != errAudience {
		t.Fatalf("default audience for an issuer with its own: err = %v", err)
	}
	if _, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("aud", "search")))); err != nil {
		t.Fatalf("issuer audience: %v", err)
	}
	// The other issuers keep the default.
	if _, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc"))); err != nil {
		t.Fatalf("default audience: %v", err)
	}
}

// failingKeys is a KeySet that cannot answer.
type failingKeys struct{ err error }

func (f failingKeys) Keys(context.Context, string) ([]Key, error) { return nil, f.err }

func TestJWTVerifierKeySetFailure(t *testing.T) {
	k := testKeys()
	for _, tc := range []struct {
		name string
		err  error
		want driver.Code
	}{
		{"raw error", errors.New("dial tcp: refused"), driver.Unavailable},
		{"vecguard error", driver.Errorf(driver.Unavailable, "down"), driver.Unavailable},
		{"canceled", context.Canceled, driver.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(t, func(o *JWTOptions) { o.Issuers[0].Keys = failingKeys{tc.err} })
			_, err := v.VerifyToken(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice")))
			if c := driver.CodeOf(err); c != tc.want {
				t.Fatalf("code = %v (%v), want %v", c, err, tc.want)
			}
		})
	}
}

func TestNewJWTVerifierRefusesWeakConfigurations(t *testing.T) {
	k := testKeys()
	weakRSA := must(rsa.GenerateKey(rand.Reader, 1024))
	p384 := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	iss := func(keys ...Key) []Issuer { return []Issuer{{Issuer: issIdP, Keys: StaticKeys(keys)}} }
	tests := []struct {
		name string
		opts JWTOptions
		want string
	}{
		{"no issuers", JWTOptions{Audience: []string{"a"}}, "no trusted issuers"},
		{"no audience", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: secretAcme})}, "no audience"},
		{"empty audience", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: secretAcme}), Audience: []string{""}}, "no audience"},
		{"no keys", JWTOptions{Issuers: []Issuer{{Issuer: issIdP}}, Audience: []string{"a"}}, "no keys"},
		{"empty static keys", JWTOptions{Issuers: iss(), Audience: []string{"a"}}, "no keys"},
		{"no iss", JWTOptions{Issuers: []Issuer{{Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme}}}}, Audience: []string{"a"}}, "without an iss"},
		{"HS256 with an RSA public key", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: &k.rsa.PublicKey}), Audience: []string{"a"}}, "must be a []byte"},
		{"short HMAC secret", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: []byte("short")}), Audience: []string{"a"}}, "at least 32 bytes"},
		{"RS256 with a private key", JWTOptions{Issuers: iss(Key{Algorithm: RS256, Material: k.rsa}), Audience: []string{"a"}}, "*rsa.PublicKey"},
		{"RS256 with an HMAC secret", JWTOptions{Issuers: iss(Key{Algorithm: RS256, Material: secretAcme}), Audience: []string{"a"}}, "*rsa.PublicKey"},
		{"RS256 of 1024 bits", JWTOptions{Issuers: iss(Key{Algorithm: RS256, Material: &weakRSA.PublicKey}), Audience: []string{"a"}}, "2048 to 8192"},
		{"ES256 on P-384", JWTOptions{Issuers: iss(Key{Algorithm: ES256, Material: &p384.PublicKey}), Audience: []string{"a"}}, "P-256"},
		{"ES256 with an RSA key", JWTOptions{Issuers: iss(Key{Algorithm: ES256, Material: &k.rsa.PublicKey}), Audience: []string{"a"}}, "*ecdsa.PublicKey"},
		{"EdDSA with a private key", JWTOptions{Issuers: iss(Key{Algorithm: EdDSA, Material: k.ed}), Audience: []string{"a"}}, "ed25519.PublicKey"},
		{"alg none", JWTOptions{Issuers: iss(Key{Algorithm: "none", Material: []byte{}}), Audience: []string{"a"}}, "unsupported algorithm"},
		{"issuer algorithm none", JWTOptions{Issuers: []Issuer{{Issuer: issIdP, Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme}}, Algorithms: []string{"none"}}}, Audience: []string{"a"}}, "unsupported algorithm"},
		{"duplicate issuer and tenant", JWTOptions{Issuers: []Issuer{
			{Issuer: issIdP, Tenant: "t", Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme}}},
			{Issuer: issIdP, Tenant: "t", Keys: StaticKeys{{Algorithm: HS256, Material: secretAcme2}}},
		}, Audience: []string{"a"}}, "listed twice"},
		{"bad claim pointer", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: secretAcme}), Audience: []string{"a"}, Claims: ClaimMapping{Roles: "/a//b"}}, "empty segment"},
		{"negative leeway", JWTOptions{Issuers: iss(Key{Algorithm: HS256, Material: secretAcme}), Audience: []string{"a"}, Leeway: -time.Second}, "leeway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewJWTVerifier(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestStaticKeysAreCopied(t *testing.T) {
	secret := append([]byte(nil), secretAcme...)
	v, err := NewJWTVerifier(JWTOptions{
		Issuers:  []Issuer{{Issuer: issAcme, Keys: StaticKeys{{Algorithm: HS256, Material: secret}}}},
		Audience: []string{"vecguard-rag"},
		Now:      fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	token := sign(t, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc"))
	secret[0] ^= 0xff // the caller reuses its buffer
	if _, err := v.VerifyToken(context.Background(), token); err != nil {
		t.Fatalf("verifier shares the caller's secret buffer: %v", err)
	}
}
