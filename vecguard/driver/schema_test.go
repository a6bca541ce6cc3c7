package driver_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func validSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    "docs",
		Vectors: []driver.VectorSpec{{Name: "text", Dim: 4, Distance: driver.Cosine}, {Name: "image", Dim: 2, Distance: driver.Euclid}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "year", Kind: driver.KindInt, Filterable: true},
			{Name: "score", Kind: driver.KindFloat, Filterable: true},
			{Name: "public", Kind: driver.KindBool, Filterable: true},
			{Name: "body", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

func TestCollectionSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name          string
		edit          func(s *driver.CollectionSpec)
		allowReserved bool
		ok            bool
	}{
		{"valid", func(*driver.CollectionSpec) {}, false, true},
		{"no tenant field", func(s *driver.CollectionSpec) { s.TenantField = "" }, false, true},
		{"no fields", func(s *driver.CollectionSpec) { s.Fields, s.TenantField = nil, "" }, false, true},
		{"name with dash and digit", func(s *driver.CollectionSpec) { s.Name = "a-1_b" }, false, true},
		{"empty name", func(s *driver.CollectionSpec) { s.Name = "" }, false, false},
		{"name starts with digit", func(s *driver.CollectionSpec) { s.Name = "1a" }, false, false},
		{"name starts with underscore", func(s *driver.CollectionSpec) { s.Name = "_a" }, false, false},
		{"name with dot", func(s *driver.CollectionSpec) { s.Name = "a.b" }, false, false},
		{"name 64", func(s *driver.CollectionSpec) { s.Name = strings.Repeat("a", 64) }, false, true},
		{"name 65", func(s *driver.CollectionSpec) { s.Name = strings.Repeat("a", 65) }, false, false},
		{"no vectors", func(s *driver.CollectionSpec) { s.Vectors = nil }, false, false},
		{"17 vectors", func(s *driver.CollectionSpec) {
			s.Vectors = nil
			for i := range 17 {
				s.Vectors = append(s.Vectors, driver.VectorSpec{Name: "v" + string(rune('a'+i)), Dim: 1, Distance: driver.Dot})
			}
		}, false, false},
		{"duplicate vector", func(s *driver.CollectionSpec) { s.Vectors[1].Name = "text" }, false, false},
		{"vector name with dash", func(s *driver.CollectionSpec) { s.Vectors[0].Name = "a-b" }, false, false},
		{"reserved vector name", func(s *driver.CollectionSpec) { s.Vectors[0].Name = "_vgx" }, true, false},
		{"dimension 0", func(s *driver.CollectionSpec) { s.Vectors[0].Dim = 0 }, false, false},
		{"dimension max", func(s *driver.CollectionSpec) { s.Vectors[0].Dim = driver.MaxDim }, false, true},
		{"dimension max+1", func(s *driver.CollectionSpec) { s.Vectors[0].Dim = driver.MaxDim + 1 }, false, false},
		{"no distance", func(s *driver.CollectionSpec) { s.Vectors[0].Distance = 0 }, false, false},
		{"bad distance", func(s *driver.CollectionSpec) { s.Vectors[0].Distance = driver.Euclid + 1 }, false, false},
		{"duplicate field", func(s *driver.CollectionSpec) { s.Fields[1].Name = "tenant" }, false, false},
		{"field with dash", func(s *driver.CollectionSpec) { s.Fields[1].Name = "a-b" }, false, false},
		{"field with leading underscore", func(s *driver.CollectionSpec) { s.Fields[1].Name = "_private" }, false, true},
		{"reserved field", func(s *driver.CollectionSpec) { s.Fields[1].Name = "_vg_iv" }, false, false},
		{"reserved field allowed", func(s *driver.CollectionSpec) { s.Fields[1].Name = "_vg_iv" }, true, true},
		{"invalid kind", func(s *driver.CollectionSpec) { s.Fields[1].Kind = driver.KindInvalid }, false, false},
		{"kind out of range", func(s *driver.CollectionSpec) { s.Fields[1].Kind = driver.KindBool + 1 }, false, false},
		{"too many fields", func(s *driver.CollectionSpec) {
			s.TenantField = ""
			s.Fields = nil
			for i := range driver.MaxFields + 1 {
				s.Fields = append(s.Fields, driver.FieldSpec{Name: "f" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Kind: driver.KindInt})
			}
		}, false, false},
		{"tenant field undeclared", func(s *driver.CollectionSpec) { s.TenantField = "owner" }, false, false},
		{"tenant field not a string", func(s *driver.CollectionSpec) { s.TenantField = "year" }, false, false},
		{"tenant field not filterable", func(s *driver.CollectionSpec) { s.TenantField = "body" }, false, false},
	} {
		s := validSpec()
		tc.edit(s)
		err := s.Validate(tc.allowReserved)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: code %v", tc.name, driver.CodeOf(err))
		}
	}
}

func TestValidNames(t *testing.T) {
	for _, tc := range []struct {
		name        string
		coll, field bool
	}{
		{"a", true, true},
		{"A9", true, true},
		{"a_b", true, true},
		{"a-b", true, false},
		{"_a", false, true},
		{"_", false, true},
		{"9a", false, false},
		{"-a", false, false},
		{"", false, false},
		{"a b", false, false},
		{"é", false, false},
		{strings.Repeat("x", 64), true, true},
		{strings.Repeat("x", 65), false, false},
	} {
		if got := driver.ValidName(tc.name); got != tc.coll {
			t.Errorf("ValidName(%q) = %v", tc.name, got)
		}
		if got := driver.ValidFieldName(tc.name); got != tc.field {
			t.Errorf("ValidFieldName(%q) = %v", tc.name, got)
		}
	}
}

func TestSpecLookups(t *testing.T) {
	s := validSpec()
	if v, ok := s.Vector(""); !ok || v.Name != "text" {
		t.Error(`Vector("") is not the first vector`)
	}
	if v, ok := s.Vector("image"); !ok || v.Dim != 2 {
		t.Error("Vector(image)")
	}
	if _, ok := s.Vector("nope"); ok {
		t.Error("Vector(nope)")
	}
	if _, ok := (&driver.CollectionSpec{}).Vector(""); ok {
		t.Error(`Vector("") without vectors`)
	}
	if f, ok := s.Field("year"); !ok || f.Kind != driver.KindInt {
		t.Error("Field(year)")
	}
	for name, want := range map[string]driver.Kind{"tenant": driver.KindString, "score": driver.KindFloat, "body": driver.KindInvalid, "nope": driver.KindInvalid} {
		k, ok := s.FilterField(name)
		if k != want || ok != (want != driver.KindInvalid) {
			t.Errorf("FilterField(%s) = %v, %v", name, k, ok)
		}
	}
	c := s.Clone()
	if !reflect.DeepEqual(c, s) {
		t.Fatal("Clone differs")
	}
	c.Vectors[0].Dim, c.Fields[0].Name = 1, "x"
	if s.Vectors[0].Dim != 4 || s.Fields[0].Name != "tenant" {
		t.Error("Clone shares slices")
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{driver.Cosine.String(), "cosine"}, {driver.Dot.String(), "dot"}, {driver.Euclid.String(), "euclid"},
		{driver.Distance(0).String(), "invalid"},
		{driver.KindString.String(), "string"}, {driver.KindInt.String(), "int"}, {driver.KindFloat.String(), "float"},
		{driver.KindBool.String(), "bool"}, {driver.KindInvalid.String(), "invalid"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
	if !driver.Cosine.HigherIsBetter() || !driver.Dot.HigherIsBetter() || driver.Euclid.HigherIsBetter() {
		t.Error("HigherIsBetter")
	}
}

type myString string

func TestNormalizePayload(t *testing.T) {
	deep := func(n int, leaf any) any {
		v := leaf
		for range n {
			v = []any{v}
		}
		return v
	}
	deepMap := func(n int) map[string]any {
		m := map[string]any{"leaf": int64(1)}
		for range n {
			m = map[string]any{"m": m}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		in   map[string]any
		want map[string]any // nil with ok=false: refused
		ok   bool
	}{
		{"nil", nil, nil, true},
		{"empty", map[string]any{}, map[string]any{}, true},
		{"scalars", map[string]any{"s": "x", "b": true, "n": nil, "i64": int64(-3), "f64": 1.5},
			map[string]any{"s": "x", "b": true, "n": nil, "i64": int64(-3), "f64": 1.5}, true},
		{"integer types", map[string]any{"a": 1, "b": int8(-2), "c": int16(3), "d": int32(4), "e": uint8(5), "f": uint16(6), "g": uint32(7), "h": uint(8), "i": uint64(9)},
			map[string]any{"a": int64(1), "b": int64(-2), "c": int64(3), "d": int64(4), "e": int64(5), "f": int64(6), "g": int64(7), "h": int64(8), "i": int64(9)}, true},
		{"float32", map[string]any{"f": float32(0.5)}, map[string]any{"f": 0.5}, true},
		{"max int64 as uint64", map[string]any{"u": uint64(math.MaxInt64)}, map[string]any{"u": int64(math.MaxInt64)}, true},
		{"uint64 overflow", map[string]any{"u": uint64(math.MaxInt64) + 1}, nil, false},
		{"uint overflow", map[string]any{"u": uint(math.MaxInt64) + 1}, nil, false},
		{"NaN", map[string]any{"f": math.NaN()}, nil, false},
		{"Inf", map[string]any{"f": math.Inf(-1)}, nil, false},
		{"float32 Inf", map[string]any{"f": float32(math.Inf(1))}, nil, false},
		{"nested", map[string]any{"l": []any{1, "a", []any{float32(2)}, map[string]any{"k": uint8(1)}}},
			map[string]any{"l": []any{int64(1), "a", []any{2.0}, map[string]any{"k": int64(1)}}}, true},
		{"string slice", map[string]any{"tags": []string{"a", "b"}}, map[string]any{"tags": []any{"a", "b"}}, true},
		{"unsupported type", map[string]any{"x": struct{}{}}, nil, false},
		{"named string type", map[string]any{"x": myString("a")}, nil, false},
		{"int slice", map[string]any{"x": []int{1}}, nil, false},
		{"NaN in a list", map[string]any{"x": []any{1, math.NaN()}}, nil, false},
		{"empty key", map[string]any{"": 1}, nil, false},
		{"nested empty key", map[string]any{"m": map[string]any{"": 1}}, nil, false},
		{"long key", map[string]any{strings.Repeat("k", 4*driver.MaxNameLen+1): 1}, nil, false},
		{"key 256", map[string]any{strings.Repeat("k", 4*driver.MaxNameLen): 1}, map[string]any{strings.Repeat("k", 4*driver.MaxNameLen): int64(1)}, true},
		{"key not UTF-8", map[string]any{"a\xff": 1}, nil, false},
		{"long string", map[string]any{"s": strings.Repeat("s", 16*driver.MaxStringLen+1)}, nil, false},
		{"long string in a string slice", map[string]any{"s": []string{strings.Repeat("s", 16*driver.MaxStringLen+1)}}, nil, false},
		{"lists 16 deep", map[string]any{"d": deep(16, "x")}, map[string]any{"d": deep(16, "x")}, true},
		{"lists 17 deep", map[string]any{"d": deep(17, "x")}, nil, false},
		{"maps 16 deep", deepMap(16), deepMap(16), true},
		{"maps 17 deep", deepMap(17), nil, false},
	} {
		got, err := driver.NormalizePayload(tc.in)
		if !tc.ok {
			if err == nil || driver.CodeOf(err) != driver.InvalidArgument || got != nil {
				t.Errorf("%s: got a payload of %d keys, %v; want InvalidArgument", tc.name, len(got), err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got a different payload, %v", tc.name, err)
		}
	}
	// The result is a copy.
	in := map[string]any{"l": []any{int64(1)}, "m": map[string]any{"k": "v"}}
	out, _ := driver.NormalizePayload(in)
	out["l"].([]any)[0] = "changed"
	out["m"].(map[string]any)["k"] = "changed"
	if in["l"].([]any)[0] != int64(1) || in["m"].(map[string]any)["k"] != "v" {
		t.Error("NormalizePayload shares nested values with its input")
	}
}

func TestCheckPayload(t *testing.T) {
	s := validSpec()
	for _, tc := range []struct {
		name          string
		in            map[string]any
		allowReserved bool
		want          map[string]any // after the in-place conversion
		ok            bool
	}{
		{"fits", map[string]any{"tenant": "a", "year": int64(2020), "score": 0.5, "public": true, "body": "x", "other": []any{}},
			false, map[string]any{"tenant": "a", "year": int64(2020), "score": 0.5, "public": true, "body": "x", "other": []any{}}, true},
		{"int into float field", map[string]any{"score": int64(3)}, false, map[string]any{"score": 3.0}, true},
		{"nulls", map[string]any{"tenant": nil, "year": nil}, false, map[string]any{"tenant": nil, "year": nil}, true},
		{"undeclared any type", map[string]any{"x": map[string]any{}}, false, map[string]any{"x": map[string]any{}}, true},
		{"float into int field", map[string]any{"year": 2020.0}, false, nil, false},
		{"int into string field", map[string]any{"tenant": int64(1)}, false, nil, false},
		{"string into bool field", map[string]any{"public": "true"}, false, nil, false},
		{"bool into float field", map[string]any{"score": true}, false, nil, false},
		{"list into string field", map[string]any{"body": []any{"x"}}, false, nil, false},
		{"reserved key", map[string]any{"_vg_iv": "x"}, false, nil, false},
		{"reserved key allowed", map[string]any{"_vg_iv": "x"}, true, map[string]any{"_vg_iv": "x"}, true},
	} {
		err := s.CheckPayload(tc.in, tc.allowReserved)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err != nil {
			if driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("%s: code %v", tc.name, driver.CodeOf(err))
			}
			continue
		}
		if !reflect.DeepEqual(tc.in, tc.want) {
			t.Errorf("%s: payload became %#v", tc.name, tc.in)
		}
	}
}

func TestCheckVector(t *testing.T) {
	vs := driver.VectorSpec{Name: "v", Dim: 3, Distance: driver.Dot}
	for _, tc := range []struct {
		v  []float32
		ok bool
	}{
		{[]float32{1, 2, 3}, true},
		{[]float32{0, 0, 0}, true},
		{[]float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}, true},
		{[]float32{1, 2}, false},
		{[]float32{1, 2, 3, 4}, false},
		{nil, false},
		{[]float32{1, float32(math.NaN()), 3}, false},
		{[]float32{1, 2, float32(math.Inf(-1))}, false},
	} {
		if err := driver.CheckVector(vs, tc.v); (err == nil) != tc.ok {
			t.Errorf("CheckVector(%v) = %v", tc.v, err)
		}
	}
}

func TestClone(t *testing.T) {
	p := driver.Point{
		ID:      driver.NumID(1),
		Vectors: map[string][]float32{"v": {1, 2}},
		Payload: map[string]any{"l": []any{map[string]any{"k": "v"}}, "s": "x"},
	}
	c := p.Clone()
	if !reflect.DeepEqual(c, p) {
		t.Fatal("Clone differs")
	}
	c.Vectors["v"][0] = 9
	c.Payload["l"].([]any)[0].(map[string]any)["k"] = "changed"
	if p.Vectors["v"][0] != 1 || p.Payload["l"].([]any)[0].(map[string]any)["k"] != "v" {
		t.Error("Point.Clone shares state")
	}
	if e := (&driver.Point{ID: driver.NumID(2)}).Clone(); e.Vectors != nil || e.Payload != nil {
		t.Error("Clone of an empty point is not empty")
	}
	if driver.ClonePayload(nil) != nil {
		t.Error("ClonePayload(nil)")
	}
}

func TestProjection(t *testing.T) {
	payload := map[string]any{"a": int64(1), "b": "x", "c": nil}
	for _, tc := range []struct {
		p     driver.Projection
		wants map[string]bool
		apply map[string]any
	}{
		{driver.Projection{All: true}, map[string]bool{"a": true, "zz": true}, payload},
		{driver.Projection{}, map[string]bool{"a": false}, nil},
		{driver.Projection{Fields: []string{"a", "c", "missing"}}, map[string]bool{"a": true, "b": false, "c": true},
			map[string]any{"a": int64(1), "c": nil}},
		{driver.Projection{All: true, Fields: []string{"a"}}, map[string]bool{"b": true}, payload},
	} {
		for f, want := range tc.wants {
			if tc.p.Wants(f) != want {
				t.Errorf("%+v.Wants(%s) != %v", tc.p, f, want)
			}
		}
		if got := tc.p.Apply(payload); !reflect.DeepEqual(got, tc.apply) {
			t.Errorf("%+v.Apply = %v, want %v", tc.p, got, tc.apply)
		}
		if got := tc.p.Apply(nil); len(got) != 0 {
			t.Errorf("%+v.Apply(nil) = %v", tc.p, got)
		}
	}
}
