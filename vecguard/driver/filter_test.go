package driver_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

var (
	str = driver.String
	num = driver.Int
	flt = driver.Float
)

func nest(n int, leaf *driver.Filter) *driver.Filter {
	for range n {
		leaf = driver.Not(leaf)
	}
	return leaf
}

func manyChildren(n int) *driver.Filter {
	cs := make([]*driver.Filter, n)
	for i := range cs {
		cs[i] = driver.Exists("tenant")
	}
	return driver.And(cs...)
}

func manyValues(n int) []driver.Value {
	vs := make([]driver.Value, n)
	for i := range vs {
		vs[i] = num(int64(i))
	}
	return vs
}

// sameFilter is reflect.DeepEqual for filters, except that NaN values equal
// themselves.
func sameFilter(a, b *driver.Filter) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Op != b.Op || a.Field != b.Field || !sameValue(a.Value, b.Value) ||
		len(a.Values) != len(b.Values) || !slices.Equal(a.IDs, b.IDs) || len(a.Children) != len(b.Children) ||
		a.Lower.Set != b.Lower.Set || a.Lower.Inclusive != b.Lower.Inclusive || !sameValue(a.Lower.Value, b.Lower.Value) ||
		a.Upper.Set != b.Upper.Set || a.Upper.Inclusive != b.Upper.Inclusive || !sameValue(a.Upper.Value, b.Upper.Value) {
		return false
	}
	for i := range a.Values {
		if !sameValue(a.Values[i], b.Values[i]) {
			return false
		}
	}
	for i := range a.Children {
		if !sameFilter(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}

func sameValue(a, b driver.Value) bool {
	if a.Kind() == driver.KindFloat && b.Kind() == driver.KindFloat {
		return math.Float64bits(a.FloatVal()) == math.Float64bits(b.FloatVal())
	}
	return a == b
}

func TestFilterValidate(t *testing.T) {
	s := validSpec()
	ids := make([]driver.PointID, driver.MaxFilterValues+1)
	for i := range ids {
		ids[i] = driver.NumID(uint64(i))
	}
	for _, tc := range []struct {
		name string
		f    *driver.Filter
		ok   bool
	}{
		{"nil", nil, true},
		{"and()", driver.And(), true},
		{"or()", driver.Or(), true},
		{"none", driver.None(), true},
		{"not(nil)", driver.Not(nil), true},
		{"eq string", driver.Eq("tenant", str("a")), true},
		{"eq int", driver.Eq("year", num(1)), true},
		{"eq int on float field", driver.Eq("score", num(1)), true},
		{"eq float on float field", driver.Eq("score", flt(0.5)), true},
		{"eq bool", driver.Eq("public", driver.Bool(true)), true},
		{"eq float on int field", driver.Eq("year", flt(1)), false},
		{"eq int on string field", driver.Eq("tenant", num(1)), false},
		{"eq string on bool field", driver.Eq("public", str("true")), false},
		{"eq zero value", driver.Eq("tenant", driver.Value{}), false},
		{"eq not filterable", driver.Eq("body", str("a")), false},
		{"eq undeclared", driver.Eq("nope", str("a")), false},
		{"eq NaN", driver.Eq("score", flt(math.NaN())), false},
		{"ne Inf", driver.Ne("score", flt(math.Inf(1))), false},
		{"eq longest string", driver.Eq("tenant", str(strings.Repeat("s", driver.MaxStringLen))), true},
		{"eq string too long", driver.Eq("tenant", str(strings.Repeat("s", driver.MaxStringLen+1))), false},
		{"ne", driver.Ne("tenant", str("a")), true},
		{"in", driver.In("tenant", str("a"), str("b")), true},
		{"in empty", driver.In("tenant"), true},
		{"in mixed kinds", driver.In("tenant", str("a"), num(1)), false},
		{"in max values", driver.In("year", manyValues(driver.MaxFilterValues)...), true},
		{"in too many values", driver.In("year", manyValues(driver.MaxFilterValues+1)...), false},
		{"not in", driver.NotIn("year", num(1)), true},
		{"not in bad value", driver.NotIn("year", str("1")), false},
		{"gt int", driver.Gt("year", num(1)), true},
		{"lte float on int field", driver.Lte("year", flt(1.5)), true},
		{"range both", driver.Range("score", driver.Bound{Value: num(1), Set: true}, driver.Bound{Value: flt(2), Set: true, Inclusive: true}), true},
		{"range empty interval", driver.Range("score", driver.Bound{Value: num(2), Set: true}, driver.Bound{Value: num(1), Set: true}), true},
		{"range no bound", driver.Range("year", driver.Bound{}, driver.Bound{}), false},
		{"range on string field", driver.Gt("tenant", num(1)), false},
		{"range on bool field", driver.Gt("public", num(1)), false},
		{"range string bound", driver.Gt("year", str("1")), false},
		{"range unset bound is ignored", driver.Range("year", driver.Bound{Value: str("x")}, driver.Bound{Value: num(1), Set: true}), true},
		{"range NaN bound", driver.Lt("score", flt(math.NaN())), false},
		{"range Inf bound", driver.Gt("score", flt(math.Inf(-1))), false},
		{"range bool bound", driver.Lt("score", driver.Bool(true)), false},
		{"range not filterable", driver.Gt("body", num(1)), false},
		{"exists", driver.Exists("year"), true},
		{"is null", driver.IsNull("public"), true},
		{"exists not filterable", driver.Exists("body"), false},
		{"is null undeclared", driver.IsNull("nope"), false},
		{"has id", driver.HasID(driver.NumID(1), driver.MustParseUUID(uuidA)), true},
		{"has id empty", driver.HasID(), true},
		{"has id zero", driver.HasID(driver.NumID(1), driver.PointID{}), false},
		{"has id too many", driver.HasID(ids...), false},
		{"has id max", driver.HasID(ids[1:]...), true},
		{"not without operand", &driver.Filter{Op: driver.OpNot}, false},
		{"not with two operands", &driver.Filter{Op: driver.OpNot, Children: []*driver.Filter{driver.And(), driver.And()}}, false},
		{"nil operand", &driver.Filter{Op: driver.OpAnd, Children: []*driver.Filter{nil}}, false},
		{"bad nested deep", driver.And(driver.Or(driver.Exists("year"), driver.Not(driver.Eq("year", str("x"))))), false},
		{"unknown op", &driver.Filter{Op: driver.Op(99), Field: "year"}, false},
		{"zero op", &driver.Filter{Field: "year"}, false},
		{"depth 32", nest(driver.MaxFilterDepth, driver.Exists("year")), true},
		{"depth 33", nest(driver.MaxFilterDepth+1, driver.Exists("year")), false},
		{"max nodes", manyChildren(driver.MaxFilterNodes - 1), true},
		{"too many nodes", manyChildren(driver.MaxFilterNodes), false},
	} {
		before := tc.f.Clone()
		err := tc.f.Validate(s)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: code %v", tc.name, driver.CodeOf(err))
		}
		if !sameFilter(before, tc.f) {
			t.Errorf("%s: Validate changed the filter", tc.name)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	id := driver.NumID(7)
	p := map[string]any{
		"s": "a", "i": int64(2), "f": 2.5, "whole": 3.0, "b": true, "null": nil,
		"list": []any{"a"}, "obj": map[string]any{"s": "a"}, "neg": int64(-1),
	}
	lo := func(v driver.Value, incl bool) driver.Bound {
		return driver.Bound{Value: v, Set: true, Inclusive: incl}
	}
	none := driver.Bound{}
	for _, tc := range []struct {
		name string
		f    *driver.Filter
		want bool
	}{
		{"nil", nil, true},
		{"and()", driver.And(), true},
		{"or()", driver.Or(), false},
		{"none", driver.None(), false},
		{"not(nil)", driver.Not(nil), false},
		{"and true true", driver.And(driver.Exists("s"), driver.Exists("i")), true},
		{"and true false", driver.And(driver.Exists("s"), driver.Exists("zz")), false},
		{"or false true", driver.Or(driver.Exists("zz"), driver.Exists("i")), true},
		{"or false false", driver.Or(driver.Exists("zz"), driver.Exists("null")), false},
		{"not true", driver.Not(driver.Exists("s")), false},
		{"not false", driver.Not(driver.Exists("zz")), true},
		{"malformed not", &driver.Filter{Op: driver.OpNot}, false},
		{"unknown op", &driver.Filter{Op: driver.Op(99), Field: "s"}, false},
		{"zero op", &driver.Filter{}, false},

		{"eq string", driver.Eq("s", str("a")), true},
		{"eq string other", driver.Eq("s", str("b")), false},
		{"eq string vs int", driver.Eq("i", str("2")), false},
		{"eq int", driver.Eq("i", num(2)), true},
		{"eq int vs float payload", driver.Eq("whole", num(3)), true},
		{"eq float vs int payload", driver.Eq("i", flt(2)), true},
		{"eq float vs int payload, unequal", driver.Eq("i", flt(2.5)), false},
		{"eq float", driver.Eq("f", flt(2.5)), true},
		{"eq bool", driver.Eq("b", driver.Bool(true)), true},
		{"eq bool other", driver.Eq("b", driver.Bool(false)), false},
		{"eq bool vs int", driver.Eq("b", num(1)), false},
		{"eq absent", driver.Eq("zz", str("a")), false},
		{"eq null", driver.Eq("null", str("a")), false},
		{"eq list (no element match)", driver.Eq("list", str("a")), false},
		{"eq object", driver.Eq("obj", str("a")), false},
		{"eq zero value", driver.Eq("s", driver.Value{}), false},

		{"ne equal", driver.Ne("s", str("a")), false},
		{"ne other", driver.Ne("s", str("b")), true},
		{"ne absent", driver.Ne("zz", str("a")), true},
		{"ne null", driver.Ne("null", str("a")), true},
		{"ne int vs float", driver.Ne("whole", num(3)), false},

		{"in hit", driver.In("s", str("x"), str("a")), true},
		{"in miss", driver.In("s", str("x"), str("y")), false},
		{"in empty", driver.In("s"), false},
		{"in int/float", driver.In("i", flt(1), flt(2)), true},
		{"in absent", driver.In("zz", str("a")), false},
		{"in null", driver.In("null", str("a")), false},
		{"not in hit", driver.NotIn("s", str("a")), false},
		{"not in miss", driver.NotIn("s", str("b")), true},
		{"not in empty", driver.NotIn("s"), true},
		{"not in absent", driver.NotIn("zz", str("a")), true},
		{"not in null", driver.NotIn("null", str("a")), true},

		{"gt below", driver.Gt("i", num(1)), true},
		{"gt equal", driver.Gt("i", num(2)), false},
		{"gte equal", driver.Gte("i", num(2)), true},
		{"lt equal", driver.Lt("i", num(2)), false},
		{"lte equal", driver.Lte("i", num(2)), true},
		{"lt above", driver.Lt("i", num(3)), true},
		{"gt float bound on int", driver.Gt("i", flt(1.5)), true},
		{"lt float bound on int", driver.Lt("i", flt(2.0000001)), true},
		{"gte int bound on float", driver.Gte("f", num(3)), false},
		{"lte int bound on float", driver.Lte("f", num(3)), true},
		{"gt equal float", driver.Gt("f", flt(2.5)), false},
		{"gte equal float", driver.Gte("f", flt(2.5)), true},
		{"negative", driver.Lt("neg", num(0)), true},
		{"range inside", driver.Range("f", lo(num(2), false), lo(num(3), false)), true},
		{"range exclusive low edge", driver.Range("i", lo(num(2), false), lo(num(3), true)), false},
		{"range inclusive low edge", driver.Range("i", lo(num(2), true), lo(num(3), false)), true},
		{"range exclusive high edge", driver.Range("i", lo(num(1), true), lo(num(2), false)), false},
		{"range inclusive high edge", driver.Range("i", lo(num(1), false), lo(num(2), true)), true},
		{"range point", driver.Range("i", lo(num(2), true), lo(num(2), true)), true},
		{"range empty", driver.Range("i", lo(num(3), true), lo(num(1), true)), false},
		{"range unbounded on number", driver.Range("i", none, none), true},
		{"range unbounded on string", driver.Range("s", none, none), false},
		{"range on string", driver.Gt("s", num(0)), false},
		{"range on bool", driver.Gt("b", num(0)), false},
		{"range absent", driver.Gt("zz", num(0)), false},
		{"range null", driver.Lt("null", num(0)), false},
		{"not range absent", driver.Not(driver.Gt("zz", num(0))), true},
		// Malformed bounds (Validate refuses them) match nothing.
		{"range string bound", driver.Gt("i", str("1")), false},
		{"range bool bound", driver.Lte("i", driver.Bool(true)), false},
		{"range zero-value bound", driver.Lte("i", driver.Value{}), false},
		{"range NaN bound", driver.Gte("f", flt(math.NaN())), false},
		{"range NaN bound on int", driver.Lte("i", flt(math.NaN())), false},
		{"range NaN upper", driver.Range("i", lo(num(0), true), lo(flt(math.NaN()), true)), false},
		{"eq NaN", driver.Eq("f", flt(math.NaN())), false},

		{"exists", driver.Exists("s"), true},
		{"exists null", driver.Exists("null"), false},
		{"exists absent", driver.Exists("zz"), false},
		{"exists false bool", driver.Exists("b"), true},
		{"is null value", driver.IsNull("s"), false},
		{"is null null", driver.IsNull("null"), true},
		{"is null absent", driver.IsNull("zz"), true},

		{"has id", driver.HasID(driver.NumID(1), driver.NumID(7)), true},
		{"has id miss", driver.HasID(driver.NumID(1)), false},
		{"has id uuid vs num", driver.HasID(driver.MustParseUUID("00000000-0000-0000-0000-000000000007")), false},
		{"has id empty", driver.HasID(), false},
		{"not has id", driver.Not(driver.HasID(driver.NumID(7))), false},
	} {
		if got := tc.f.Match(id, p); got != tc.want {
			t.Errorf("%s: %v.Match = %v, want %v", tc.name, tc.f, got, tc.want)
		}
	}
	// A nil payload is a point with every field absent.
	for f, want := range map[*driver.Filter]bool{
		driver.IsNull("s"): true, driver.Exists("s"): false, driver.Ne("s", str("a")): true, driver.Gt("i", num(0)): false,
	} {
		if f.Match(id, nil) != want {
			t.Errorf("%v on a nil payload: want %v", f, want)
		}
	}
}

func TestFilterConstructors(t *testing.T) {
	a, b := driver.Exists("a"), driver.Exists("b")
	if f := driver.And(a, nil, b); len(f.Children) != 2 || f.Op != driver.OpAnd {
		t.Errorf("And drops nil operands: %v", f)
	}
	if driver.Or(a, nil) != nil {
		t.Error("Or with a nil (match-all) operand is not nil")
	}
	if f := driver.Not(nil); f.Match(driver.NumID(1), nil) {
		t.Error("Not(nil) matches")
	}
	vs := []driver.Value{str("a")}
	ids := []driver.PointID{driver.NumID(1)}
	in, notIn, has := driver.In("a", vs...), driver.NotIn("a", vs...), driver.HasID(ids...)
	vs[0], ids[0] = str("changed"), driver.NumID(2)
	if in.Values[0] != str("a") || notIn.Values[0] != str("a") || has.IDs[0] != driver.NumID(1) {
		t.Error("constructors keep their caller's slices")
	}
	r := driver.Range("x", driver.Bound{Value: num(1), Set: true}, driver.Bound{})
	if gt := driver.Gt("x", num(1)); !reflect.DeepEqual(gt, r) {
		t.Error("Gt is not a one-sided Range")
	}
	if gte := driver.Gte("x", num(1)); !gte.Lower.Inclusive || gte.Upper.Set {
		t.Error("Gte")
	}
	if lt := driver.Lt("x", num(1)); lt.Lower.Set || !lt.Upper.Set || lt.Upper.Inclusive {
		t.Error("Lt")
	}
	if lte := driver.Lte("x", num(1)); !lte.Upper.Inclusive {
		t.Error("Lte")
	}
}

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want driver.Value
		ok   bool
	}{
		{"s", str("s"), true},
		{7, num(7), true},
		{int8(-7), num(-7), true},
		{uint32(7), num(7), true},
		{float32(0.5), flt(0.5), true},
		{2.0, flt(2), true},
		{true, driver.Bool(true), true},
		{nil, driver.Value{}, false},
		{math.NaN(), driver.Value{}, false},
		{uint64(math.MaxUint64), driver.Value{}, false},
		{[]any{1}, driver.Value{}, false},
		{map[string]any{}, driver.Value{}, false},
		{struct{}{}, driver.Value{}, false},
	} {
		got, err := driver.ValueOf(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ValueOf(%v) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		v       driver.Value
		kind    driver.Kind
		anyv    any
		literal string
	}{
		{str(`a"b`), driver.KindString, `a"b`, `"a\"b"`},
		{num(-3), driver.KindInt, int64(-3), "-3"},
		{flt(0.25), driver.KindFloat, 0.25, "0.25"},
		{driver.Bool(false), driver.KindBool, false, "false"},
		{driver.Value{}, driver.KindInvalid, nil, "?"},
	} {
		if tc.v.Kind() != tc.kind || tc.v.Any() != tc.anyv || tc.v.Literal() != tc.literal {
			t.Errorf("%v: kind %v any %v literal %s", tc.v, tc.v.Kind(), tc.v.Any(), tc.v.Literal())
		}
	}
	if str("x").Str() != "x" || num(4).IntVal() != 4 || num(4).FloatVal() != 4 || flt(1.5).FloatVal() != 1.5 || !driver.Bool(true).BoolVal() {
		t.Error("accessors")
	}
}

func TestFilterFormat(t *testing.T) {
	f := driver.And(
		driver.Eq("tenant", str("acme")),
		driver.Or(driver.In("tag", str("a"), str("b")), driver.Not(driver.Exists("x")), driver.IsNull("y")),
		driver.Range("n", driver.Bound{Value: num(1), Set: true}, driver.Bound{Value: flt(2.5), Set: true, Inclusive: true}),
		driver.Ne("b", driver.Bool(true)),
		driver.NotIn("k"),
		driver.Gte("m", num(3)),
		driver.HasID(driver.NumID(5), driver.MustParseUUID(uuidA)),
		driver.And(), driver.Or(),
	)
	want := `(tenant == "acme" and (tag in ["a", "b"] or not x exists or y is null) and (1 < n <= 2.5) and b != true and k not in [] and (3 <= m) and id in [5, ` + uuidA + `] and true and false)`
	if got := f.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	red := f.Redacted()
	if strings.Contains(red, "acme") || strings.Contains(red, "2.5") || !strings.Contains(red, "tenant == ?") {
		t.Errorf("Redacted leaks values: %s", red)
	}
	if (*driver.Filter)(nil).String() != "true" {
		t.Error("nil filter")
	}
	if s := (&driver.Filter{Op: driver.Op(99)}).String(); s != "<invalid>" {
		t.Errorf("unknown op: %s", s)
	}
	for op, name := range map[driver.Op]string{driver.OpAnd: "and", driver.OpNotIn: "not in", driver.OpHasID: "has id", driver.Op(0): "op(0)", driver.Op(99): "op(99)"} {
		if op.String() != name {
			t.Errorf("Op(%d).String() = %s", op, op.String())
		}
	}
	if got := f.Fields(); !slices.Equal(got, []string{"tenant", "tag", "x", "y", "n", "b", "k", "m"}) {
		t.Errorf("Fields = %v", got)
	}
	n := 0
	f.Walk(func(*driver.Filter) { n++ })
	if n != 14 {
		t.Errorf("Walk visited %d nodes", n)
	}
	c := f.Clone()
	if !reflect.DeepEqual(c, f) {
		t.Fatal("Clone differs")
	}
	c.Children[0].Value = str("other")
	c.Children[1].Children[0].Values[0] = str("z")
	c.Children[6].IDs[0] = driver.NumID(6)
	if f.String() != want {
		t.Error("Clone shares state")
	}
}

func TestFilterEqual(t *testing.T) {
	a := driver.Eq("x", driver.String("1"))
	tests := []struct {
		name string
		f, g *driver.Filter
		want bool
	}{
		{"nil", nil, nil, true},
		{"nil and not", nil, a, false},
		{"same eq", a, driver.Eq("x", driver.String("1")), true},
		{"value kind", a, driver.Eq("x", driver.Int(1)), false},
		{"field", a, driver.Eq("y", driver.String("1")), false},
		{"op", a, driver.Ne("x", driver.String("1")), false},
		{"in", driver.In("x", driver.Int(1), driver.Int(2)), driver.In("x", driver.Int(1), driver.Int(2)), true},
		{"in order", driver.In("x", driver.Int(1), driver.Int(2)), driver.In("x", driver.Int(2), driver.Int(1)), false},
		{"range", driver.Gte("n", driver.Int(1)), driver.Gte("n", driver.Int(1)), true},
		{"range inclusive", driver.Gte("n", driver.Int(1)), driver.Gt("n", driver.Int(1)), false},
		{"range side", driver.Gte("n", driver.Int(1)), driver.Lte("n", driver.Int(1)), false},
		{"ids", driver.HasID(driver.NumID(1)), driver.HasID(driver.NumID(1)), true},
		{"ids differ", driver.HasID(driver.NumID(1)), driver.HasID(driver.NumID(2)), false},
		{"and", driver.And(a, driver.Exists("y")), driver.And(a, driver.Exists("y")), true},
		{"and order", driver.And(a, driver.Exists("y")), driver.And(driver.Exists("y"), a), false},
		{"and length", driver.And(a), driver.And(a, a), false},
		{"nested", driver.Not(driver.Or(a)), driver.Not(driver.Or(driver.Eq("x", driver.String("1")))), true},
	}
	for _, tt := range tests {
		if got := tt.f.Equal(tt.g); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
		if got := tt.g.Equal(tt.f); got != tt.want {
			t.Errorf("%s (reversed): Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}
