package milvusexpr

import "testing"

// FuzzParse checks that Parse never panics and that whatever it accepts
// formats to text that parses back to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`s == "x"`, `(s == "a") and ((i > {p0}) or (s is null))`, `not (s in ["a", 'b'])`,
		`json_contains_any(j["k"][0], [1, "x", 2.5, true])`, `s like "a\%%"`, `3 <= i`, `!(b != false) || i not in {p}`,
		`s == "\u00e9\x00\""`, `f >= -1e-300`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			return
		}
		text := Format(n)
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Format(Parse(%q)) = %q does not parse: %v", src, text, err)
		}
		if got := Format(again); got != text {
			t.Fatalf("round trip of %q: %q, then %q", src, text, got)
		}
		// Bind and evaluate on an empty row must not panic either.
		if b, err := Bind(n, map[string]any{}); err == nil && Check(b, schema) == nil {
			Eval(b, row{})
		}
	})
}
