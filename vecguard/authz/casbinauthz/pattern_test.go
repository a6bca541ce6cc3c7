package casbinauthz

import (
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"docs", []string{"docs"}, []string{"docs2", "doc", "docs-v2", "Docs"}},
		{"*", []string{"docs", "acme-docs", "a_b-c"}, nil},
		{"**", []string{"docs", "acme-docs-v2"}, nil},
		{"acme-*", []string{"acme-docs", "acme-faq", "acme-evil", "acme-2"},
			[]string{"acme", "acme-", "acme-docs-v2", "acme_docs", "acmecorp-docs", "acme--x", "xacme-docs"}},
		{"acme-**", []string{"acme-docs", "acme-docs-v2", "acme-evil-x", "acme--x", "acme-a_b"},
			[]string{"acme", "acme-", "acme_docs", "acmecorp-docs", "acmedocs"}},
		{"*-docs", []string{"acme-docs", "globex-docs"}, []string{"docs", "acme-hr-docs", "acme_docs", "acme-docs2"}},
		{"acme-*-docs", []string{"acme-hr-docs", "acme-it-docs"}, []string{"acme-docs", "acme-hr-it-docs", "acme-hr-docs-v2"}},
		{"acme_*", []string{"acme_docs"}, []string{"acme-docs", "acme_docs_v2"}},
		{"t1-*_**", []string{"t1-a_b", "t1-a_b-c"}, []string{"t1-a-b", "t1-a_"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := parsePattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.match {
				if !p.match(n) {
					t.Errorf("%q does not match %q", tt.pattern, n)
				}
			}
			for _, n := range tt.noMatch {
				if p.match(n) {
					t.Errorf("%q matches %q", tt.pattern, n)
				}
			}
		})
	}
}

func TestPatternRefused(t *testing.T) {
	tests := []struct {
		pattern, msg string
	}{
		{"acme*", "whole segment"},
		{"*acme", "whole segment"},
		{"ac*me-docs", "whole segment"},
		{"acme-doc*", "whole segment"},
		{"acme-***", "whole segment"},
		{"acme-**-docs", "last segment"},
		{"acme--*", "empty segment"},
		{"acme-*-", "empty segment"},
		{"-*", "empty segment"},
		{"acme.*", "invalid character"},
		{"1acme-*", "start with a letter"},
		{"", "not a valid"},
		{"acme docs", "not a valid"},
		{"acme-" + strings.Repeat("x", 70) + "-*", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := parsePattern(tt.pattern)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("parsePattern(%q) = %v, want an error containing %q", tt.pattern, err, tt.msg)
			}
		})
	}
}

// The hazard of prefix matching: a rule meant for acme's collections must
// not reach a collection of tenant acme-evil, and acme* is refused
// outright.
func TestPatternPrefixHazard(t *testing.T) {
	if _, err := parsePattern("acme*"); err == nil {
		t.Fatal("acme* accepted")
	}
	p, _ := parsePattern("acme-*")
	for _, n := range []string{"acme-evil-docs", "acmeevil", "acme_evil"} {
		if p.match(n) {
			t.Errorf("acme-* matches %q", n)
		}
	}
}

func FuzzPattern(f *testing.F) {
	f.Add("acme-*", "acme-docs")
	f.Add("acme-**", "acme-docs-v2")
	f.Add("*-x_*", "a-x_b")
	f.Fuzz(func(t *testing.T, pat, name string) {
		p, err := parsePattern(pat)
		if err != nil || !driver.ValidName(name) {
			return
		}
		if !p.match(name) {
			return
		}
		// A match keeps every literal segment of the pattern in place: the
		// pattern with its wildcards replaced by the name's segments is the
		// name, and a literal segment is never matched as a prefix.
		if p.isExact() && name != pat {
			t.Fatalf("exact %q matches %q", pat, name)
		}
		if !p.all && !strings.Contains(pat, "**") {
			if strings.Count(pat, "-")+strings.Count(pat, "_") != strings.Count(name, "-")+strings.Count(name, "_") {
				t.Fatalf("%q matches %q with a different number of segments", pat, name)
			}
		}
		if i := strings.Index(pat, "*"); i > 0 && !strings.HasPrefix(name, pat[:i]) {
			t.Fatalf("%q matches %q without its literal prefix", pat, name)
		}
	})
}
