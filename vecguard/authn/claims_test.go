package authn

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestParseClaimPath(t *testing.T) {
	tests := []struct {
		in   string
		want claimPath
		err  bool
	}{
		{in: "sub", want: claimPath{"sub"}},
		{in: "https://example.com/tenant", want: claimPath{"https://example.com/tenant"}},
		{in: "a.b", want: claimPath{"a.b"}},
		{in: "/realm_access/roles", want: claimPath{"realm_access", "roles"}},
		{in: "/a~1b/c~0d", want: claimPath{"a/b", "c~d"}},
		{in: "/~01", want: claimPath{"~1"}},
		{in: "/x", want: claimPath{"x"}},
		{in: "", err: true},
		{in: "/", err: true},
		{in: "/a//b", err: true},
		{in: "/a/", err: true},
		{in: "/a~2", err: true},
		{in: "/a~", err: true},
		{in: "/1/2/3/4/5/6/7/8/9", err: true},
		{in: strings.Repeat("a", 257), err: true},
	}
	for _, tc := range tests {
		got, err := parseClaimPath(tc.in)
		if tc.err != (err != nil) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseClaimPath(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// decodeClaims decodes JSON claims the way the verifier does (numbers as
// json.Number).
func decodeClaims(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimMapping(t *testing.T) {
	m, err := compileClaimMapping(ClaimMapping{
		Subject: "/user/id",
		Tenant:  "https://example.com/tenant",
		Roles:   "scope",
		Attributes: map[string]string{
			"dept": "department", "clearance": "/ext/clearance", "ratio": "ratio", "vip": "vip",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		claims string
		want   authz.Principal
		tenant string
		err    bool
	}{
		{
			name:   "everything",
			claims: `{"user":{"id":"u1"},"https://example.com/tenant":"acme","scope":"read write","department":"r&d","ext":{"clearance":2},"ratio":0.25,"vip":true}`,
			want:   authz.Principal{Subject: "u1", Roles: []string{"read", "write"}, Attributes: map[string]any{"dept": "r&d", "clearance": int64(2), "ratio": 0.25, "vip": true}},
			tenant: "acme",
		},
		{name: "minimal", claims: `{"user":{"id":"u1"}}`, want: authz.Principal{Subject: "u1"}},
		{name: "null attribute is absent", claims: `{"user":{"id":"u1"},"department":null}`, want: authz.Principal{Subject: "u1"}},
		{name: "empty scope", claims: `{"user":{"id":"u1"},"scope":""}`, want: authz.Principal{Subject: "u1", Roles: []string{}}},
		{name: "roles array", claims: `{"user":{"id":"u1"},"scope":["a","b"]}`, want: authz.Principal{Subject: "u1", Roles: []string{"a", "b"}}},
		{name: "large integer stays integer", claims: `{"user":{"id":"u1"},"ext":{"clearance":9007199254740993}}`, want: authz.Principal{Subject: "u1", Attributes: map[string]any{"clearance": int64(9007199254740993)}}},
		{name: "exponent is a float", claims: `{"user":{"id":"u1"},"ratio":1e300}`, want: authz.Principal{Subject: "u1", Attributes: map[string]any{"ratio": 1e300}}},
		{name: "subject at the wrong level", claims: `{"id":"u1"}`, err: true},
		{name: "subject not a string", claims: `{"user":{"id":7}}`, err: true},
		{name: "subject through a non-object", claims: `{"user":"u1"}`, err: true},
		{name: "subject too long", claims: `{"user":{"id":"` + strings.Repeat("x", 300) + `"}}`, err: true},
		{name: "roles with an empty string", claims: `{"user":{"id":"u1"},"scope":["a",""]}`, err: true},
		{name: "roles a number", claims: `{"user":{"id":"u1"},"scope":1}`, err: true},
		{name: "too many roles", claims: `{"user":{"id":"u1"},"scope":"` + strings.Repeat("r ", 65) + `"}`, err: true},
		{name: "attribute an object", claims: `{"user":{"id":"u1"},"department":{}}`, err: true},
		{name: "attribute an array", claims: `{"user":{"id":"u1"},"vip":[true]}`, err: true},
		{name: "number out of range", claims: `{"user":{"id":"u1"},"ratio":1e999}`, err: true},
		{name: "tenant not a string", claims: `{"user":{"id":"u1"},"https://example.com/tenant":["acme"]}`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := decodeClaims(t, tc.claims)
			p, err := m.principal(claims)
			var tenant string
			if err == nil {
				tenant, err = m.tenantClaim(claims)
			}
			if tc.err {
				if err == nil {
					t.Fatalf("accepted: %+v", p)
				}
				if driver.CodeOf(err) != driver.Unauthenticated {
					t.Fatalf("code = %v", driver.CodeOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tc.want) || tenant != tc.tenant {
				t.Fatalf("got %+v tenant %q, want %+v tenant %q", p, tenant, tc.want, tc.tenant)
			}
		})
	}
}

func TestCompileClaimMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    ClaimMapping
	}{
		{"bad subject pointer", ClaimMapping{Subject: "/"}},
		{"bad attribute pointer", ClaimMapping{Attributes: map[string]string{"a": "/x~"}}},
		{"empty attribute claim", ClaimMapping{Attributes: map[string]string{"a": ""}}},
		{"empty attribute name", ClaimMapping{Attributes: map[string]string{"": "x"}}},
	} {
		if _, err := compileClaimMapping(tc.m); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
