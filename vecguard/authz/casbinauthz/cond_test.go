package casbinauthz

import (
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestParseCond(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "true"},
		{"   ", "true"},
		{"true", "true"},
		{"false", "false"},
		{"department == $sub.department", "department == $sub.department"},
		{"clearance <= $sub.clearance", "clearance <= $sub.clearance"},
		{"owner == $sub.id", "owner == $sub.id"},
		{"tenant_copy == $sub.tenant", "tenant_copy == $sub.tenant"},
		{"$sub.clearance >= clearance", "clearance <= $sub.clearance"},
		{"3 < level", "level > 3"},
		{"level != -2", "level != -2"},
		{"score >= 0.5", "score >= 0.5"},
		{"score < 1e3", "score < 1000.0"},
		{"public == true", "public == true"},
		{"true == public", "public == true"},
		{`name == 'o\'brien'`, `name == 'o\'brien'`},
		{`name == "x\"y"`, `name == 'x"y'`},
		{`name == 'a,b'`, `name == 'a,b'`},
		{"tag in ['a', 'b', $sub.team]", "tag in ['a', 'b', $sub.team]"},
		{"tag in []", "tag in []"},
		{"tag not in [1, 2.5, true]", "not tag in [1, 2.5, true]"},
		{"a == 1 and b == 2 or c == 3", "((a == 1 and b == 2) or c == 3)"},
		{"a == 1 or b == 2 and c == 3", "(a == 1 or (b == 2 and c == 3))"},
		{"not a == 1 and b == 2", "(not a == 1 and b == 2)"},
		{"not (a == 1 and b == 2)", "not (a == 1 and b == 2)"},
		{"((a == 1))", "a == 1"},
		{"a==1&&b==2", ""}, // error: & is not an operator
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := parseCond(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseCond(%q) = %s, want an error", tt.in, e)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCond(%q): %v", tt.in, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("parseCond(%q) = %s, want %s", tt.in, got, tt.want)
			}
			// The canonical form parses to itself.
			again, err := parseCond(e.String())
			if err != nil || again.String() != e.String() {
				t.Errorf("canonical form %q does not round-trip: %v", e.String(), err)
			}
		})
	}
}

func TestParseCondErrors(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{"department", "expected a comparison"},
		{"department = 'x'", "unknown operator"},
		{"department == ", "expected a value"},
		{"department == other_field", "expected a value"},
		{"'a' == 'b'", "one side of a comparison must be a field"},
		{"$sub.x == $sub.y", "one side of a comparison must be a field"},
		{"clearance < 'high'", "needs a number"},
		{"clearance < true", "needs a number"},
		{"(a == 1", "expected )"},
		{"a == 1)", "unexpected"},
		{"a == 1 and", "unexpected end"},
		{"a == 1 b == 2", "unexpected"},
		{"$sub == 1", "$sub.<name>"},
		{"$other.x == 1", "$sub.<name>"},
		{"a == 'unterminated", "unterminated"},
		{`a == 'bad \n escape'`, "unknown escape"},
		{"a == 99999999999999999999", "out of range"},
		{"a == 1e999", "out of range"},
		{"a == 1.", "malformed number"},
		{"a == 12abc", "malformed number"},
		{"_vg_key == 1", "reserved"},
		{"tag in ['a' 'b']", "expected , or ]"},
		{"tag in 'a'", "expected ["},
		{"tag not == 1", "expected in after not"},
		{"and == 1", "unexpected"},
		{"a == 1 or or b == 1", "unexpected"},
		{"a == 1; drop", "unexpected character"},
		{strings.Repeat("not ", 20) + "a == 1", "nested deeper"},
		{strings.Repeat("(", 20) + "a == 1" + strings.Repeat(")", 20), "nested deeper"},
		{"a in [" + strings.Repeat("1, ", 300) + "1]", "values in a list"},
		{strings.Repeat("a == 1 or ", 300) + "a == 1", "nodes"},
		{"a == '" + strings.Repeat("x", 5000) + "'", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			_, err := parseCond(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("parseCond(%q) error = %v, want one containing %q", tt.in, err, tt.msg)
			}
		})
	}
}

func TestBind(t *testing.T) {
	p := &authz.Principal{Subject: "alice", Tenant: "acme", Attributes: map[string]any{
		"department": "eng", "clearance": int64(2), "level": 3, "score": 0.5, "contractor": false,
	}}
	noTenant := &authz.Principal{Subject: "bob"}
	tests := []struct {
		name  string
		cond  string
		p     *authz.Principal
		mode  bindMode
		want  string // the filter, "" when the rule does not apply
		apply bool
	}{
		{"string attr", "department == $sub.department", p, bindAllow, `department == "eng"`, true},
		{"int attr", "clearance <= $sub.clearance", p, bindAllow, "(clearance <= 2)", true},
		{"int kind attr", "level >= $sub.level", p, bindAllow, "(3 <= level)", true},
		{"float attr", "score > $sub.score", p, bindAllow, "(0.5 < score)", true},
		{"bool attr", "contractor == $sub.contractor", p, bindAllow, "contractor == false", true},
		{"subject id", "owner == $sub.id", p, bindAllow, `owner == "alice"`, true},
		{"tenant", "org == $sub.tenant", p, bindAllow, `org == "acme"`, true},
		{"in with refs", "team in ['x', $sub.department]", p, bindAllow, `team in ["x", "eng"]`, true},
		{"empty in", "team in []", p, bindAllow, "false", true},
		{"constant folding", "true and (false or a == 1)", p, bindAllow, "a == 1", true},
		{"double not", "not not a == 1", p, bindAllow, "a == 1", true},
		{"not in", "team not in [1]", p, bindAllow, "not team in [1]", true},

		{"allow: missing attribute", "region == $sub.region", p, bindAllow, "", false},
		{"allow: missing anywhere", "public == true or region == $sub.region", p, bindAllow, "", false},
		{"allow: missing under not", "not region == $sub.region", p, bindAllow, "", false},
		{"allow: empty tenant", "org == $sub.tenant", noTenant, bindAllow, "", false},
		{"allow: ordering on a string", "clearance < $sub.department", p, bindAllow, "", false},
		{"allow: missing in list", "team in ['x', $sub.team]", p, bindAllow, "", false},

		{"deny: missing is every row", "region == $sub.region", p, bindDeny, "true", true},
		{"deny: missing in a conjunction", "classified == true and region != $sub.region", p, bindDeny, "classified == true", true},
		{"deny: missing in a disjunction", "classified == true or region != $sub.region", p, bindDeny, "true", true},
		{"deny: missing under not", "classified == true and not region == $sub.region", p, bindDeny, "classified == true", true},
		{"deny: missing under double not", "not (public == true or not level > $sub.missing)", p, bindDeny, "not public == true", true},
		{"deny: missing under not in a disjunction", "not (a == 1 or b == $sub.x)", p, bindDeny, "not a == 1", true},
		{"deny: ordering on a string", "clearance > $sub.department", p, bindDeny, "true", true},
		{"deny: bound", "clearance > $sub.clearance", p, bindDeny, "(2 < clearance)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseCond(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := e.bind(tt.p, tt.mode)
			if ok != tt.apply {
				t.Fatalf("bind(%q) applies = %v, want %v", tt.cond, ok, tt.apply)
			}
			if !ok {
				return
			}
			if got := f.String(); got != tt.want {
				t.Errorf("bind(%q) = %s, want %s", tt.cond, got, tt.want)
			}
		})
	}
}

// A deny rule's filter with unbound references must cover the filter the
// same rule gives for every binding of them (it never denies less).
func TestBindDenyCoversEveryBinding(t *testing.T) {
	conds := []string{
		"classified == true and region != $sub.region",
		"not (region == $sub.region) or level > $sub.level",
		"not (a == 1 and not b in ['x', $sub.region])",
		"level >= $sub.level and not (level > $sub.level)",
	}
	values := []any{"x", "y", int64(0), int64(1), int64(2), 1.5, true}
	var rows []map[string]any
	for _, a := range []any{nil, int64(1), int64(2)} {
		for _, b := range []any{nil, "x", "y"} {
			for _, lv := range []any{nil, int64(0), int64(1), int64(2)} {
				for _, r := range []any{nil, "x", "y"} {
					for _, c := range []any{nil, true, false} {
						rows = append(rows, map[string]any{"a": a, "b": b, "level": lv, "region": r, "classified": c})
					}
				}
			}
		}
	}
	for _, c := range conds {
		e, err := parseCond(c)
		if err != nil {
			t.Fatal(err)
		}
		wide, _ := e.bind(&authz.Principal{Subject: "s"}, bindDeny)
		for _, rv := range values {
			for _, lv := range values {
				p := &authz.Principal{Subject: "s", Attributes: map[string]any{"region": rv, "level": lv, "x": rv}}
				f, _ := e.bind(p, bindDeny)
				for _, row := range rows {
					if f.Match(driver.NumID(1), row) && !wide.Match(driver.NumID(1), row) {
						t.Fatalf("%q: bound deny %s covers %v but the unbound form %s does not", c, f, row, wide)
					}
				}
			}
		}
	}
}

func FuzzParseCond(f *testing.F) {
	for _, s := range []string{
		"department == $sub.department",
		"clearance <= $sub.clearance and not (tag in ['a', \"b\", 3, 2.5, true])",
		"$sub.level > level or owner != $sub.id",
		"a == 'x\\'y' or (b == false and c >= -1e3)",
		"x not in [] or true",
	} {
		f.Add(s)
	}
	p := &authz.Principal{Subject: "s", Tenant: "t", Attributes: map[string]any{"department": "d", "clearance": int64(1), "level": 2.5}}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCond(s)
		if err != nil {
			return
		}
		// The canonical form parses to the same condition.
		again, err := parseCond(e.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", e.String(), s, err)
		}
		if again.String() != e.String() {
			t.Fatalf("canonical form changed: %q -> %q", e.String(), again.String())
		}
		for _, mode := range []bindMode{bindAllow, bindDeny} {
			f, ok := e.bind(p, mode)
			if !ok {
				if mode == bindDeny {
					t.Fatalf("a deny always binds")
				}
				continue
			}
			n, depth := 0, 0
			var walk func(*driver.Filter, int)
			walk = func(f *driver.Filter, d int) {
				n++
				depth = max(depth, d)
				for _, c := range f.Children {
					walk(c, d+1)
				}
			}
			if f != nil {
				walk(f, 1)
			}
			if n > driver.MaxFilterNodes || depth > driver.MaxFilterDepth-8 {
				t.Fatalf("%q compiles to %d nodes, depth %d", s, n, depth)
			}
			// Only declared-style field names reach the filter.
			for _, fld := range f.Fields() {
				if !driver.ValidFieldName(fld) || strings.HasPrefix(fld, driver.ReservedPrefix) {
					t.Fatalf("%q yields field %q", s, fld)
				}
			}
		}
	})
}
