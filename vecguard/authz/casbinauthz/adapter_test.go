package casbinauthz

import (
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want []string // nil: blank or comment
		err  string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"# p, a, b, c, read, allow", nil, ""},
		{"p, viewer, acme, docs, read, allow", []string{"p", "viewer", "acme", "docs", "read", "allow", ""}, ""},
		{"p,viewer,acme,docs,read,allow,owner == $sub.id", []string{"p", "viewer", "acme", "docs", "read", "allow", "owner == $sub.id"}, ""},
		{`p, v, acme, docs, read, allow, "tag in ['a', 'b']"`, []string{"p", "v", "acme", "docs", "read", "allow", "tag in ['a', 'b']"}, ""},
		{`p, v, acme, docs, read, allow, "x == ""q"""`, []string{"p", "v", "acme", "docs", "read", "allow", `x == "q"`}, ""},
		{"p, v, acme, docs, read, allow   ", []string{"p", "v", "acme", "docs", "read", "allow", ""}, ""},
		{"g, alice, editor, acme", []string{"g", "alice", "editor", "acme"}, ""},
		{"p, v, acme, docs, read", nil, "5 or 6 fields"},
		{"g, alice, editor", nil, "3 fields"},
		{"g, alice, editor, acme, x", nil, "3 fields"},
		{"q, a, b, c", nil, "unknown line type"},
		{`p, v, acme, docs, read, allow, "unterminated`, nil, "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := parseLine(tt.line)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseLine = %q, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") || (got == nil) != (tt.want == nil) {
				t.Fatalf("parseLine = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Any policy text either is refused or loads; a loaded policy written out
// by Policy loads again to the same policy.
func FuzzPolicyText(f *testing.F) {
	f.Add("p, viewer, acme, docs, read, allow, department == $sub.department\ng, alice, viewer, acme\n")
	f.Add(`p, v, *, acme-**, *, deny, "tag in ['a, b', ""c""]"` + "\n# c\n")
	f.Add("p, *, *, *, read, allow\n")
	f.Fuzz(func(t *testing.T, text string) {
		a, err := New(Text(text), &Options{CacheSize: -1})
		if err != nil {
			return
		}
		out := a.Policy()
		b, err := New(Text(out), &Options{CacheSize: -1})
		if err != nil {
			t.Fatalf("the written policy %q of %q does not load: %v", out, text, err)
		}
		if again := b.Policy(); again != out {
			t.Fatalf("policy changed on a round trip:\n%s\n---\n%s", out, again)
		}
	})
}
