package grpcauth

import (
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestParseBearer(t *testing.T) {
	tests := []struct {
		in     string
		token  string
		bearer bool
		err    bool
	}{
		{in: "Bearer abc.def.ghi", token: "abc.def.ghi", bearer: true},
		{in: "bearer a-b_c~d+e/f==", token: "a-b_c~d+e/f==", bearer: true},
		{in: "BEARER   x", token: "x", bearer: true},
		{in: "Basic eDp5"},
		{in: "Bearerx"},
		{in: ""},
		{in: "abc.def.ghi"},
		{in: "Bearer", bearer: true, err: true},
		{in: "Bearer ", bearer: true, err: true},
		{in: "Bearer a b", bearer: true, err: true},
		{in: "Bearer =abc", bearer: true, err: true},
		{in: "Bearer ab=c", bearer: true, err: true},
		{in: "Bearer a\tb", bearer: true, err: true},
		{in: "Bearer é", bearer: true, err: true},
		{in: "Bearer " + strings.Repeat("a", maxCredentialBytes), bearer: true, err: true},
	}
	for _, tc := range tests {
		token, bearer, err := parseBearer(tc.in)
		if token != tc.token || bearer != tc.bearer || (err != nil) != tc.err {
			t.Errorf("parseBearer(%.20q) = %q, %v, %v", tc.in, token, bearer, err)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  x==", "Basic x", "Bearer", "Bearer a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		token, bearer, err := parseBearer(h)
		if err != nil {
			if !bearer || token != "" {
				t.Fatalf("error with bearer=%v token=%q", bearer, token)
			}
			if err != errMalformedHeader { // a fixed text: it never echoes the header
				t.Fatalf("error %v", err)
			}
			return
		}
		if !bearer {
			if token != "" {
				t.Fatalf("token %q from a non-bearer header", token)
			}
			return
		}
		if !isB64Token(token) || !strings.HasSuffix(h, token) || len(token) > maxCredentialBytes {
			t.Fatalf("parseBearer(%q) = %q", h, token)
		}
	})
}

func FuzzParseAPIKey(f *testing.F) {
	for _, s := range []string{"vgk_abc", "", "a b", "\x00", "ключ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := parseAPIKey(s)
		if err != nil {
			if err != errMalformedKey || driver.CodeOf(err) != driver.Unauthenticated || key != "" {
				t.Fatalf("parseAPIKey(%q) = %q, %v", s, key, err)
			}
			return
		}
		if key != s || s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("parseAPIKey(%q) accepted %q", s, key)
		}
	})
}
