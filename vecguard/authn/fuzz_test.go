package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func FuzzParseClaimPath(f *testing.F) {
	for _, s := range []string{"sub", "/a/b", "/a~1b/c~0", "/", "//", "/~", "https://x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseClaimPath(s)
		if err != nil {
			return
		}
		if len(p) == 0 || len(p) > 8 {
			t.Fatalf("%q: %d segments", s, len(p))
		}
		if s[0] != '/' && (len(p) != 1 || p[0] != s) {
			t.Fatalf("%q: plain name became %q", s, p)
		}
		// A pointer built back from the segments parses to the same path.
		if s[0] == '/' {
			var b strings.Builder
			for _, seg := range p {
				b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(seg))
			}
			q, err := parseClaimPath(b.String())
			if err != nil || strings.Join(q, "\x00") != strings.Join(p, "\x00") {
				t.Fatalf("%q: round trip %q gave %q, %v", s, b.String(), q, err)
			}
		}
	})
}

func FuzzClaimMapping(f *testing.F) {
	f.Add(`{"sub":"u","tenant":"t","roles":["a"],"realm":{"lvl":3,"dept":"x","on":true,"r":0.5}}`)
	f.Add(`{"sub":"u","roles":"a b c","realm":{"lvl":1e400}}`)
	f.Add(`{"sub":7,"roles":[null],"realm":[]}`)
	m, err := compileClaimMapping(ClaimMapping{Attributes: map[string]string{
		"lvl": "/realm/lvl", "dept": "/realm/dept", "on": "/realm/on", "r": "/realm/r",
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var claims map[string]any
		if d.Decode(&claims) != nil {
			return
		}
		p, err := m.principal(claims)
		if _, terr := m.tenantClaim(claims); terr != nil && driver.CodeOf(terr) != driver.Unauthenticated {
			t.Fatalf("tenant error code %v", driver.CodeOf(terr))
		}
		if err != nil {
			if driver.CodeOf(err) != driver.Unauthenticated {
				t.Fatalf("code %v", driver.CodeOf(err))
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid principal %+v: %v", p, err)
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	k := testKeys()
	f.Add(jwksDoc(jwkOf("r", &k.rsa.PublicKey), jwkOf("e", &k.ec.PublicKey), jwkOf("d", k.ed.Public())))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"AA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		if len(keys) > maxJWKSKeys {
			t.Fatalf("%d keys", len(keys))
		}
		for _, key := range keys {
			if err := key.validate(); err != nil {
				t.Fatalf("ParseJWKS returned an unusable key: %v", err)
			}
		}
	})
}

func FuzzVerifyToken(f *testing.F) {
	k := testKeys()
	f.Add(sign(f, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsFor(issIdP, "alice", set("tenant", "acme"))))
	f.Add(sign(f, jwt.SigningMethodHS256, secretAcme, "", claimsFor(issAcme, "svc")))
	f.Add(sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claimsFor(issIdP, "alice")))
	f.Add("a.b.c")
	f.Add("")
	v := testVerifier(f)
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.VerifyToken(context.Background(), token)
		if err != nil {
			if c := driver.CodeOf(err); c != driver.Unauthenticated {
				t.Fatalf("code %v: %v", c, err)
			}
			noEcho(t, err, token)
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid principal: %v", err)
		}
	})
}

func FuzzParseAPIKeyHash(f *testing.F) {
	f.Add(HashAPIKey(testPepper, "k"))
	f.Add(APIKeyHashPrefix + "zz")
	f.Add("sha256:00")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAPIKeyHash(s)
		if err != nil {
			return
		}
		// What parses is the prefix and the digest in hex, nothing else.
		if got := APIKeyHashPrefix + hexLower(d[:]); !strings.EqualFold(got, s) {
			t.Fatalf("%q decoded to %q", s, got)
		}
	})
}

func hexLower(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
