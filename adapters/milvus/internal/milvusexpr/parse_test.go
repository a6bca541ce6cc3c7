package milvusexpr

import (
	"errors"
	"testing"
)

type testSchema map[string]Type

func (s testSchema) Column(name string) (Type, Type, bool) {
	t, ok := s[name]
	return t, TypeInvalid, ok
}

var schema = testSchema{"s": TypeString, "i": TypeInt, "f": TypeFloat, "b": TypeBool, "j": TypeJSON, "a": TypeArray, "pk": TypeString}

func TestParseFormat(t *testing.T) {
	cases := []struct{ in, want string }{
		{`s == "x"`, `s == "x"`},
		{`s == 'it''s'`, ""}, // '' is not an escape: error
		{`s == 'a"b'`, `s == "a\"b"`},
		{`s == 'a\'b'`, `s == "a'b"`},
		{`s != "x\u00e9\n"`, `s != "xé\n"`},
		{`i > -5`, `i > -5`},
		{`3 < i`, `i > 3`},
		{`f >= 1.5e3`, `f >= 1500.0`},
		{`f <= .5`, `f <= 0.5`},
		{`b == true`, `b == true`},
		{`b == FALSE`, `b == false`},
		{`i in [1, 2, 3]`, `i in [1, 2, 3]`},
		{`i not in []`, `i not in []`},
		{`s in {p0}`, `s in {p0}`},
		{`s == {p_1}`, `s == {p_1}`},
		{`s like "ab%"`, `s like "ab%"`},
		{`s is null`, `s is null`},
		{`s IS NOT NULL`, `s is not null`},
		{`a and b`, ""},
		{`s == "a" and i == 1 or b == true`, `((s == "a") and (i == 1)) or (b == true)`},
		{`s == "a" && (i == 1 || b == true)`, `(s == "a") and ((i == 1) or (b == true))`},
		{`not (s == "a")`, `not (s == "a")`},
		{`!(s == "a")`, `not (s == "a")`},
		{`not not (s == "a")`, `not (not (s == "a"))`},
		{`not s == "a"`, ""},
		{`json_contains(j["tags"], "x")`, `json_contains(j["tags"], "x")`},
		{`json_contains_any(j["k"][0], [1, "x"])`, `json_contains_any(j["k"][0], [1, "x"])`},
		{`not array_contains(a, 3)`, `not (array_contains(a, 3))`},
		{`j["a"]["b"] > 3`, `j["a"]["b"] > 3`},
		{`1 < i < 5`, ""},
		{`i < j`, ""},
		{`i + 1 > 3`, ""},
		{`s == "unterminated`, ""},
		{`{bad-name} == s`, ""},
		{``, ""},
		{`()`, ""},
		{`s == "a")`, ""},
		{`in == 1`, ""},
		{`i == 99999999999999999999`, ""},
		{`i == 1x`, ""},
	}
	for _, tc := range cases {
		n, err := Parse(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %s, want an error", tc.in, Format(n))
			} else if !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q): error %v does not wrap ErrSyntax", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := Format(n); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
		again, err := Parse(Format(n))
		if err != nil || Format(again) != Format(n) {
			t.Errorf("Format(%q) does not parse back: %v", tc.in, err)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := ""
	for range MaxDepth + 5 {
		deep += "("
	}
	deep += `s == "x"`
	for range MaxDepth + 5 {
		deep += ")"
	}
	if _, err := Parse(deep); err == nil {
		t.Error("an expression nested too deeply parsed")
	}
}

type row map[string]any

func (r row) Get(c string) any { return r[c] }

func TestEvalNulls(t *testing.T) {
	null := row{"s": nil}
	set := row{"s": "x", "i": int64(2), "f": 2.0, "b": true, "j": map[string]any{"tags": []any{"a", int64(1)}, "n": 2.5}, "a": []any{int64(1), int64(3)}}
	cases := []struct {
		expr      string
		onNull    bool
		onSet     bool
		templates map[string]any
	}{
		{`s == "x"`, false, true, nil},
		{`s != "x"`, false, false, nil},
		{`s != "y"`, false, true, nil},
		{`not (s == "x")`, false, false, nil}, // null stays false under not
		{`not (s == "y")`, false, true, nil},
		{`s is null or s != "y"`, true, true, nil},
		{`s is null or not (s in ["y"])`, true, true, nil},
		{`not (s is null)`, false, true, nil},
		{`not (s == "y" and i == 2)`, false, true, nil}, // and over two nulls stays invalid
		{`not (s is null and i == 3)`, true, true, nil}, // valid because one side is
		{`s in {p}`, false, true, map[string]any{"p": []any{"x", "z"}}},
		{`s not in {p}`, false, false, map[string]any{"p": []any{"x"}}},
		{`i > {p}`, false, true, map[string]any{"p": 1.5}},
		{`i >= {p}`, false, false, map[string]any{"p": 2.5}},
		{`f == {p}`, false, true, map[string]any{"p": int64(2)}},
		{`s like "x%"`, false, true, nil},
		{`s like "%y"`, false, false, nil},
		{`json_contains(j["tags"], 1)`, false, true, nil},
		{`json_contains_all(j["tags"], ["a", 1])`, false, true, nil},
		{`j["n"] > 2`, false, true, nil},
		{`array_contains_any(a, [5, 3])`, false, true, nil},
		{`b != false`, false, true, nil},
	}
	for _, tc := range cases {
		n, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.expr, err)
		}
		if n, err = Bind(n, tc.templates); err != nil {
			t.Fatalf("Bind(%q): %v", tc.expr, err)
		}
		if err := Check(n, schema); err != nil {
			t.Fatalf("Check(%q): %v", tc.expr, err)
		}
		if got := Eval(n, null); got != tc.onNull {
			t.Errorf("%s on nulls = %v, want %v", tc.expr, got, tc.onNull)
		}
		if got := Eval(n, set); got != tc.onSet {
			t.Errorf("%s = %v, want %v", tc.expr, got, tc.onSet)
		}
	}
}

func TestCheck(t *testing.T) {
	bad := []struct {
		expr string
		vals map[string]any
	}{
		{`nosuch == 1`, nil},
		{`s == 1`, nil},
		{`i == "1"`, nil},
		{`b > true`, nil},
		{`s == {p}`, nil},
		{`s in {p}`, map[string]any{"p": "x"}},
		{`i like "1%"`, nil},
		{`json_contains(s, "x")`, nil},
		{`s["k"] == "x"`, nil},
	}
	for _, tc := range bad {
		n, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.expr, err)
		}
		n, err = Bind(n, tc.vals)
		if err == nil {
			err = Check(n, schema)
		}
		if !errors.Is(err, ErrType) {
			t.Errorf("%s: got %v, want an ErrType error", tc.expr, err)
		}
	}
}

func TestLike(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "ab", false}, {"abc", "a%", true}, {"abc", "%c", true},
		{"abc", "%b%", true}, {"abc", "a_c", true}, {"aéc", "a_c", true}, {"a%c", `a\%c`, true},
		{"abc", `a\%c`, false}, {"", "%", true}, {"", "_", false}, {"abc", "%%%", true},
	}
	for _, tc := range cases {
		if got := like(tc.s, tc.p); got != tc.want {
			t.Errorf("like(%q, %q) = %v", tc.s, tc.p, got)
		}
	}
}
