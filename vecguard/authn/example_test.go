package authn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
)

func ExampleNewJWTVerifier() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	v, err := authn.NewJWTVerifier(authn.JWTOptions{
		Issuers: []authn.Issuer{{
			Issuer: "https://idp.example",
			Keys:   authn.StaticKeys{{ID: "2026-03", Algorithm: authn.EdDSA, Material: pub}},
		}},
		Audience: []string{"rag-service"},
		Leeway:   30 * time.Second,
		Claims: authn.ClaimMapping{
			Tenant:     "org",
			Roles:      "/realm_access/roles",
			Attributes: map[string]string{"clearance": "clearance"},
		},
	})
	if err != nil {
		panic(err)
	}

	// What an identity provider would issue.
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://idp.example", "aud": "rag-service", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "org": "acme",
		"realm_access": map[string]any{"roles": []string{"analyst"}}, "clearance": 2,
	})
	tok.Header["kid"] = "2026-03"
	signed, _ := tok.SignedString(priv)

	p, err := v.VerifyToken(context.Background(), signed)
	fmt.Println(p.Subject, p.Tenant, p.Roles, p.Attributes["clearance"], err)

	_, err = v.VerifyToken(context.Background(), signed[:len(signed)-4]+"AAAA")
	fmt.Println(err, errors.Is(err, vecguard.ErrUnauthenticated))
	// Output:
	// alice acme [analyst] 2 <nil>
	// vecguard: unauthenticated: invalid token signature true
}

func ExampleIssuer_tenants() {
	acmeKey, globexKey := []byte("acme-signing-secret-0123456789abcdef"), []byte("globex-signing-secret-0123456789abcd")
	// One issuer signs each tenant's tokens with that tenant's own key.
	v, _ := authn.NewJWTVerifier(authn.JWTOptions{
		Issuers: []authn.Issuer{
			{Issuer: "https://auth.example", Tenant: "acme", Keys: authn.StaticKeys{{Algorithm: authn.HS256, Material: acmeKey}}},
			{Issuer: "https://auth.example", Tenant: "globex", Keys: authn.StaticKeys{{Algorithm: authn.HS256, Material: globexKey}}},
		},
		Audience: []string{"rag-service"},
	})
	token := func(key []byte, tenant string) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "https://auth.example", "aud": "rag-service", "sub": "svc",
			"exp": time.Now().Add(time.Hour).Unix(), "tenant": tenant,
		}).SignedString(key)
		return s
	}
	p, err := v.VerifyToken(context.Background(), token(acmeKey, "acme"))
	fmt.Println(p.Tenant, err)
	_, err = v.VerifyToken(context.Background(), token(acmeKey, "globex"))
	fmt.Println(err)
	// Output:
	// acme <nil>
	// vecguard: unauthenticated: invalid token signature
}

func ExampleNewJWKS() {
	jwks, err := authn.NewJWKS("https://idp.example/.well-known/jwks.json", &authn.JWKSOptions{
		MaxAge:      time.Hour,        // refetch hourly
		MinInterval: 30 * time.Second, // at most one fetch per 30 s for unknown key IDs
	})
	if err != nil {
		panic(err)
	}
	_, err = authn.NewJWTVerifier(authn.JWTOptions{
		Issuers:  []authn.Issuer{{Issuer: "https://idp.example", Keys: jwks, Algorithms: []string{authn.RS256}}},
		Audience: []string{"rag-service"},
	})
	fmt.Println(err)
	// Output: <nil>
}

func ExampleParseJWKS() {
	keys, err := authn.ParseJWKS([]byte(`{"keys":[
		{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
		{"kty":"oct","kid":"b","k":"c2VjcmV0"}]}`))
	for _, k := range keys {
		fmt.Println(k.ID, k.Algorithm)
	}
	fmt.Println(err)
	// Output:
	// a EdDSA
	// <nil>
}

func ExampleNewAPIKeys() {
	pepper := []byte("a-server-side-secret-of-32-bytes-or-more")
	key := authn.NewAPIKey() // give this to the caller; store only the hash
	keys, err := authn.NewAPIKeys(pepper, []authn.APIKey{{
		Hash:      authn.HashAPIKey(pepper, key),
		Principal: authz.Principal{Subject: "indexer", Tenant: "acme", Roles: []string{"writer"}},
	}})
	if err != nil {
		panic(err)
	}
	p, err := keys.VerifyToken(context.Background(), key)
	fmt.Println(p.Subject, p.Tenant, err)
	_, err = keys.VerifyToken(context.Background(), authn.NewAPIKey())
	fmt.Println(err)
	// Output:
	// indexer acme <nil>
	// vecguard: unauthenticated: invalid API key
}

func ExampleNewCertMapper() {
	// The CAs that issue each tenant's client certificates, parsed from
	// their PEM files. The TLS server trusts them all (tls.Config.ClientCAs,
	// ClientAuth: tls.RequireAndVerifyClientCert).
	var acmeCA, globexCA *x509.Certificate

	m, err := authn.NewCertMapper(&authn.CertOptions{
		Subject:   authn.URI, // a SPIFFE ID
		URIPrefix: "spiffe://example.org/",
		Roles:     authn.OrganizationalUnit,
		// The tenant is the one whose CA issued the certificate.
		TenantCAs: map[string][]*x509.Certificate{"acme": {acmeCA}, "globex": {globexCA}},
	})
	if err != nil {
		panic(err)
	}
	_ = m // grpcauth.ClientCertificate(m) reads the certificate of each call
}
