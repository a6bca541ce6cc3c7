package milvus

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// filterSpec is the collection the filter tests compile against.
func filterSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    "filters",
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "color", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
			{Name: "price", Kind: driver.KindFloat, Filterable: true},
			{Name: "active", Kind: driver.KindBool, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

func TestCompileFilter(t *testing.T) {
	s, i, fl, b := driver.String, driver.Int, driver.Float, driver.Bool
	incl := func(v driver.Value) driver.Bound { return driver.Bound{Value: v, Set: true, Inclusive: true} }
	excl := func(v driver.Value) driver.Bound { return driver.Bound{Value: v, Set: true} }
	uuid := driver.MustParseUUID("0a2b6d1e-3c4a-4b5d-9e6f-0a1b2c3d4e5f")
	type P = map[string]any
	cases := []struct {
		name   string
		flt    *driver.Filter
		text   string
		params P
		always bool
		never  bool
	}{
		{name: "Nil", flt: nil, always: true},
		{name: "AndEmpty", flt: driver.And(), always: true},
		{name: "None", flt: driver.None(), never: true},
		{name: "NotNone", flt: driver.Not(driver.None()), always: true},
		{name: "Eq", flt: driver.Eq("color", s("red")), text: "color == {p0}", params: P{"p0": "red"}},
		{name: "EqInjection", flt: driver.Eq("color", s(`red" or 1==1 or color=="`)), text: "color == {p0}", params: P{"p0": `red" or 1==1 or color=="`}},
		{name: "Ne", flt: driver.Ne("color", s("red")), text: "(color is null) or (color != {p0})", params: P{"p0": "red"}},
		{name: "NeTenant", flt: driver.Ne("tenant", s("t1")), text: "tenant != {p0}", params: P{"p0": "t1"}},
		{name: "NotEq", flt: driver.Not(driver.Eq("size", i(2))), text: "(size is null) or (size != {p0})", params: P{"p0": int64(2)}},
		{name: "NotNe", flt: driver.Not(driver.Ne("active", b(true))), text: "active == {p0}", params: P{"p0": true}},
		{name: "In", flt: driver.In("color", s("a"), s("b")), text: "color in {p0}", params: P{"p0": []string{"a", "b"}}},
		{name: "InEmpty", flt: driver.In("color"), never: true},
		{name: "NotInEmpty", flt: driver.NotIn("color"), always: true},
		{name: "NotIn", flt: driver.NotIn("size", i(1), i(2)), text: "(size is null) or (not (size in {p0}))", params: P{"p0": []int64{1, 2}}},
		{name: "InFloatMixed", flt: driver.In("price", i(3), fl(2.5)), text: "price in {p0}", params: P{"p0": []float64{3, 2.5}}},
		{name: "EqFloatByInt", flt: driver.Eq("price", i(2)), text: "price == {p0}", params: P{"p0": 2.0}},
		{name: "GtIntByFloat", flt: driver.Gt("size", fl(1.5)), text: "size >= {p0}", params: P{"p0": int64(2)}},
		{name: "LteIntByFloat", flt: driver.Lte("size", fl(1.5)), text: "size < {p0}", params: P{"p0": int64(2)}},
		{name: "GteIntByWholeFloat", flt: driver.Gte("size", fl(2)), text: "size >= {p0}", params: P{"p0": int64(2)}},
		{name: "LtIntByFloat", flt: driver.Lt("size", fl(0.5)), text: "size < {p0}", params: P{"p0": int64(1)}},
		{name: "GteIntBeyondRange", flt: driver.Gte("size", fl(1e19)), never: true},
		{name: "LtIntBeyondRange", flt: driver.Lt("size", fl(1e19)), text: "size is not null"},
		{name: "NotLtIntBeyondRange", flt: driver.Not(driver.Lt("size", fl(1e19))), text: "size is null"},
		{name: "GteIntNearMax", flt: driver.Gte("size", fl(float64(math.MaxInt64))), text: "size >= {p0}", params: P{"p0": int64(math.MaxInt64 - 511)}},
		{name: "Range", flt: driver.Range("size", incl(i(0)), excl(i(3))), text: "(size >= {p0}) and (size < {p1})", params: P{"p0": int64(0), "p1": int64(3)}},
		{name: "NotRange", flt: driver.Not(driver.Range("size", incl(i(0)), excl(i(3)))), text: "(size is null) or (size < {p0}) or (size >= {p1})", params: P{"p0": int64(0), "p1": int64(3)}},
		{name: "RangeFloat", flt: driver.Range("price", incl(i(-1)), excl(fl(3))), text: "(price >= {p0}) and (price < {p1})", params: P{"p0": -1.0, "p1": 3.0}},
		{name: "Exists", flt: driver.Exists("price"), text: "price is not null"},
		{name: "IsNull", flt: driver.IsNull("price"), text: "price is null"},
		{name: "NotExists", flt: driver.Not(driver.Exists("active")), text: "active is null"},
		{name: "IsNullTenant", flt: driver.IsNull("tenant"), never: true},
		{name: "ExistsTenant", flt: driver.Exists("tenant"), always: true},
		{name: "HasID", flt: driver.HasID(driver.NumID(255), uuid), text: "_vg_id in {p0}", params: P{"p0": []string{"n00000000000000ff", "u0a2b6d1e3c4a4b5d9e6f0a1b2c3d4e5f"}}},
		{name: "HasIDEmpty", flt: driver.HasID(), never: true},
		{name: "NotHasID", flt: driver.Not(driver.HasID(driver.NumID(1))), text: "not (_vg_id in {p0})", params: P{"p0": []string{"n0000000000000001"}}},
		{name: "And", flt: driver.And(driver.Eq("color", s("red")), driver.Gte("size", i(1))), text: "(color == {p0}) and (size >= {p1})", params: P{"p0": "red", "p1": int64(1)}},
		{name: "NotAnd", flt: driver.Not(driver.And(driver.Eq("color", s("red")), driver.Gte("size", i(1)))),
			text: "(color is null) or (color != {p0}) or (size is null) or (size < {p1})", params: P{"p0": "red", "p1": int64(1)}},
		{name: "OrWithTrue", flt: driver.Or(driver.Eq("color", s("red")), driver.And()), always: true},
		{name: "AndWithFalse", flt: driver.And(driver.Exists("color"), driver.None()), never: true},
		{name: "DoubleNot", flt: driver.Not(driver.Not(driver.Eq("color", s("blue")))), text: "color == {p0}", params: P{"p0": "blue"}},
		{name: "NotOr", flt: driver.Not(driver.Or(driver.IsNull("color"), driver.Eq("active", b(false)))),
			text: "(color is not null) and ((active is null) or (active != {p0}))", params: P{"p0": false}},
	}
	spec := filterSpec()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.flt.Validate(spec); err != nil {
				t.Fatalf("case is invalid: %v", err)
			}
			e, err := compileFilter(spec, tc.flt)
			if err != nil {
				t.Fatalf("compileFilter: %v", err)
			}
			if e.always != tc.always || e.never != tc.never {
				t.Fatalf("always %v never %v, want %v %v (text %q)", e.always, e.never, tc.always, tc.never, e.text)
			}
			if e.text != tc.text {
				t.Errorf("text %q, want %q", e.text, tc.text)
			}
			if len(tc.params) > 0 || len(e.params) > 0 {
				if !reflect.DeepEqual(e.params, tc.params) {
					t.Errorf("params %#v, want %#v", e.params, tc.params)
				}
			}
		})
	}
}

func TestCompileFilterErrors(t *testing.T) {
	spec := filterSpec()
	keyword := spec.Clone()
	keyword.Fields = append(keyword.Fields, driver.FieldSpec{Name: "like", Kind: driver.KindString, Filterable: true})
	cases := []struct {
		name string
		spec *driver.CollectionSpec
		flt  *driver.Filter
	}{
		{"Undeclared", spec, driver.Eq("nosuch", driver.String("x"))},
		{"NotFilterable", spec, driver.Eq("note", driver.String("x"))},
		{"WrongKind", spec, driver.Eq("color", driver.Int(1))},
		{"FloatOnInt", spec, driver.Eq("size", driver.Float(1.5))},
		{"RangeOnString", spec, driver.Gt("color", driver.Int(1))},
		{"NaN", spec, driver.Lt("price", driver.Float(math.NaN()))},
		{"Keyword", keyword, driver.Eq("like", driver.String("x"))},
		{"KeyColumn", spec, driver.Eq(keyField, driver.String("x"))},
		{"NotTwo", spec, &driver.Filter{Op: driver.OpNot, Children: []*driver.Filter{driver.And(), driver.And()}}},
		{"NilChild", spec, &driver.Filter{Op: driver.OpAnd, Children: []*driver.Filter{nil}}},
		{"UnknownOp", spec, &driver.Filter{Op: 99, Field: "color"}},
		{"EmptyID", spec, driver.HasID(driver.PointID{})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileFilter(tc.spec, tc.flt)
			if !errors.Is(err, &driver.Error{Code: driver.InvalidArgument}) {
				t.Errorf("got %v, want InvalidArgument", err)
			}
		})
	}
}

func TestConjoin(t *testing.T) {
	if got := conjoin("a == {p0}", "(b == {p1}) or (c is null)"); got != "(a == {p0}) and ((b == {p1}) or (c is null))" {
		t.Errorf("conjoin = %q", got)
	}
	if conjoin("", "x") != "x" || conjoin("x", "") != "x" {
		t.Error("conjoin with an empty side")
	}
}
