package authn

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

var testPepper = []byte("server-pepper-0123456789abcdef-0123456789")

func TestAPIKeys(t *testing.T) {
	acmeKey, globexKey := NewAPIKey(), NewAPIKey()
	keys, err := NewAPIKeys(testPepper, []APIKey{
		{Hash: HashAPIKey(testPepper, acmeKey), Principal: authz.Principal{Subject: "indexer", Tenant: "acme", Roles: []string{"writer"}}},
		{Hash: HashAPIKey(testPepper, globexKey), Principal: authz.Principal{Subject: "search", Tenant: "globex", Attributes: map[string]any{"level": 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		want *authz.Principal
		err  error
	}{
		{name: "acme", key: acmeKey, want: &authz.Principal{Subject: "indexer", Tenant: "acme", Roles: []string{"writer"}}},
		{name: "globex", key: globexKey, want: &authz.Principal{Subject: "search", Tenant: "globex", Attributes: map[string]any{"level": int64(2)}}},
		{name: "unknown", key: NewAPIKey(), err: errAPIKey},
		{name: "a prefix of a key", key: acmeKey[:len(acmeKey)-1], err: errAPIKey},
		{name: "a key with a suffix", key: acmeKey + "x", err: errAPIKey},
		{name: "the hash itself", key: HashAPIKey(testPepper, acmeKey), err: errAPIKey},
		{name: "too long", key: strings.Repeat("k", 513), err: errAPIKey},
		{name: "empty", key: "", err: ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := keys.VerifyToken(context.Background(), tc.key)
			noEcho(t, err, tc.key)
			if tc.want != nil {
				if err != nil || !reflect.DeepEqual(&p, tc.want) {
					t.Fatalf("got %+v, %v; want %+v", p, err, *tc.want)
				}
				return
			}
			if err != tc.err || driver.CodeOf(err) != driver.Unauthenticated {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}

	// The verifier hands out copies.
	p, _ := keys.VerifyToken(context.Background(), acmeKey)
	p.Roles[0] = "admin"
	if p, _ := keys.VerifyToken(context.Background(), acmeKey); p.Roles[0] != "writer" {
		t.Fatal("a caller changed the configured principal")
	}

	// Another server's pepper makes every key unknown.
	other, err := NewAPIKeys([]byte(strings.Repeat("p", 32)), []APIKey{{Hash: HashAPIKey(testPepper, acmeKey), Principal: authz.Principal{Subject: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.VerifyToken(context.Background(), acmeKey); err != errAPIKey {
		t.Fatalf("other pepper: err = %v", err)
	}
}

func TestHashAPIKey(t *testing.T) {
	h := HashAPIKey(testPepper, "vgk_example")
	if !strings.HasPrefix(h, APIKeyHashPrefix) || len(h) != len(APIKeyHashPrefix)+64 || strings.Contains(h, "example") {
		t.Fatalf("hash = %q", h)
	}
	if h != HashAPIKey(testPepper, "vgk_example") {
		t.Fatal("hash not deterministic")
	}
	if h == HashAPIKey([]byte(strings.Repeat("q", 32)), "vgk_example") {
		t.Fatal("hash ignores the pepper")
	}
	if a, b := NewAPIKey(), NewAPIKey(); a == b || !strings.HasPrefix(a, "vgk_") || len(a) != 4+43 {
		t.Fatalf("NewAPIKey: %q, %q", a, b)
	}
}

func TestNewAPIKeysRefuses(t *testing.T) {
	good := HashAPIKey(testPepper, "k")
	p := authz.Principal{Subject: "s"}
	tests := []struct {
		name   string
		pepper []byte
		keys   []APIKey
		want   string
	}{
		{"short pepper", []byte("short"), nil, "pepper"},
		{"plain key instead of a hash", testPepper, []APIKey{{Hash: "vgk_abc", Principal: p}}, "must start with"},
		{"short hash", testPepper, []APIKey{{Hash: good[:20], Principal: p}}, "hex digits"},
		{"not hex", testPepper, []APIKey{{Hash: APIKeyHashPrefix + strings.Repeat("zz", 32), Principal: p}}, "not hex"},
		{"duplicate", testPepper, []APIKey{{Hash: good, Principal: p}, {Hash: good, Principal: p}}, "twice"},
		{"no subject", testPepper, []APIKey{{Hash: good}}, "subject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAPIKeys(tc.pepper, tc.keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
