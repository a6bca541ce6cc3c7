package weaviate

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

// evalStored evaluates a translated filter on an object as stored (property
// name → stored value), the way Weaviate does: text compares bytes, numbers
// compare numerically, IsNull tests presence, Not is the complement.
func evalStored(f *pb.Filters, props map[string]any) bool {
	switch f {
	case matchAll:
		return true
	case matchNone:
		return false
	}
	switch f.Operator {
	case pb.Filters_OPERATOR_AND:
		for _, c := range f.Filters {
			if !evalStored(c, props) {
				return false
			}
		}
		return true
	case pb.Filters_OPERATOR_OR:
		for _, c := range f.Filters {
			if evalStored(c, props) {
				return true
			}
		}
		return false
	case pb.Filters_OPERATOR_NOT:
		return !evalStored(f.Filters[0], props)
	}
	v, present := props[f.GetTarget().GetProperty()]
	if f.Operator == pb.Filters_OPERATOR_IS_NULL {
		return !present == f.GetValueBoolean()
	}
	if !present {
		return false
	}
	cmp := func(want any) int {
		switch a := v.(type) {
		case string:
			return strings.Compare(a, want.(string))
		case float64:
			b := want.(float64)
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		case bool:
			if a == want.(bool) {
				return 0
			}
			return 1
		}
		panic("unexpected stored type")
	}
	var values []any
	switch t := f.TestValue.(type) {
	case *pb.Filters_ValueText:
		values = []any{t.ValueText}
	case *pb.Filters_ValueNumber:
		values = []any{t.ValueNumber}
	case *pb.Filters_ValueBoolean:
		values = []any{t.ValueBoolean}
	case *pb.Filters_ValueTextArray:
		for _, x := range t.ValueTextArray.Values {
			values = append(values, x)
		}
	case *pb.Filters_ValueNumberArray:
		for _, x := range t.ValueNumberArray.Values {
			values = append(values, x)
		}
	case *pb.Filters_ValueBooleanArray:
		for _, x := range t.ValueBooleanArray.Values {
			values = append(values, x)
		}
	}
	if reflect.TypeOf(values[0]) != reflect.TypeOf(v) {
		return false
	}
	switch f.Operator {
	case pb.Filters_OPERATOR_EQUAL:
		return cmp(values[0]) == 0
	case pb.Filters_OPERATOR_CONTAINS_ANY:
		for _, w := range values {
			if cmp(w) == 0 {
				return true
			}
		}
		return false
	case pb.Filters_OPERATOR_GREATER_THAN:
		return cmp(values[0]) > 0
	case pb.Filters_OPERATOR_GREATER_THAN_EQUAL:
		return cmp(values[0]) >= 0
	case pb.Filters_OPERATOR_LESS_THAN:
		return cmp(values[0]) < 0
	case pb.Filters_OPERATOR_LESS_THAN_EQUAL:
		return cmp(values[0]) <= 0
	}
	panic("unexpected operator " + f.Operator.String())
}

var (
	fuzzStrings = []string{"", "a", " a", "a ", "acme", "Acme", "\xff", "'a'"}
	fuzzInts    = []int64{math.MinInt64, -1 << 53, -3, -1, 0, 1, 2, 3, 1<<53 + 1, math.MaxInt64}
	fuzzFloats  = []float64{math.Inf(-1), -1e19, -2.5, -1, math.Copysign(0, -1), 0, 0.5, 1, 2, 2.5, 1e19, math.NaN()}
	fuzzIDs     = []driver.PointID{driver.NumID(0), driver.NumID(1), driver.NumID(math.MaxUint64),
		driver.MustParseUUID("00000000-0000-0000-0000-000000000001"), driver.MustParseUUID("ffffffff-ffff-ffff-ffff-ffffffffffff")}
)

// fuzzValue picks a value of kind k (or another kind, rarely) from the pools.
func fuzzValue(r *bytes.Reader, k driver.Kind) driver.Value {
	b, _ := r.ReadByte()
	switch kk := driver.Kind(b%5 + 1); {
	case b >= 250:
		k = kk // a wrong kind now and then: translation must refuse or cope
	}
	c, _ := r.ReadByte()
	switch k {
	case driver.KindString:
		return driver.String(fuzzStrings[int(c)%len(fuzzStrings)])
	case driver.KindInt:
		if c%4 == 0 {
			return driver.Float(fuzzFloats[int(c/4)%len(fuzzFloats)])
		}
		return driver.Int(fuzzInts[int(c)%len(fuzzInts)])
	case driver.KindFloat:
		if c%3 == 0 {
			return driver.Int(fuzzInts[int(c/3)%len(fuzzInts)])
		}
		return driver.Float(fuzzFloats[int(c)%len(fuzzFloats)])
	default:
		return driver.Bool(c%2 == 0)
	}
}

var fuzzFields = []string{"tenant", "size", "score", "ok", "userId"}

func fuzzFilter(r *bytes.Reader, depth int) *driver.Filter {
	op, err := r.ReadByte()
	if err != nil {
		return driver.Exists("size")
	}
	fb, _ := r.ReadByte()
	field := fuzzFields[int(fb)%len(fuzzFields)]
	fs, _ := testSpec.Field(field)
	k := fs.Kind
	if depth > 4 {
		op %= 9
	}
	switch op % 12 {
	case 0:
		return driver.Eq(field, fuzzValue(r, k))
	case 1:
		return driver.Ne(field, fuzzValue(r, k))
	case 2, 3:
		n, _ := r.ReadByte()
		vs := make([]driver.Value, int(n%4))
		for i := range vs {
			vs[i] = fuzzValue(r, k)
		}
		if op%12 == 2 {
			return driver.In(field, vs...)
		}
		return driver.NotIn(field, vs...)
	case 4:
		if k != driver.KindInt && k != driver.KindFloat {
			field, k = "size", driver.KindInt
		}
		m, _ := r.ReadByte()
		lo := driver.Bound{Value: fuzzValue(r, k), Set: m&1 != 0, Inclusive: m&2 != 0}
		hi := driver.Bound{Value: fuzzValue(r, k), Set: m&4 != 0 || m&1 == 0, Inclusive: m&8 != 0}
		return driver.Range(field, lo, hi)
	case 5:
		return driver.Exists(field)
	case 6:
		return driver.IsNull(field)
	case 7, 8:
		n, _ := r.ReadByte()
		ids := make([]driver.PointID, int(n%4))
		for i := range ids {
			b, _ := r.ReadByte()
			ids[i] = fuzzIDs[int(b)%len(fuzzIDs)]
		}
		return driver.HasID(ids...)
	case 9:
		return driver.Not(fuzzFilter(r, depth+1))
	default:
		n, _ := r.ReadByte()
		kids := make([]*driver.Filter, int(n%4))
		for i := range kids {
			kids[i] = fuzzFilter(r, depth+1)
		}
		if op%12 == 10 {
			return driver.And(kids...)
		}
		return &driver.Filter{Op: driver.OpOr, Children: kids}
	}
}

// fuzzPoints are stored points covering every pool value, absent and null.
func fuzzPoints() []driver.Point {
	var pts []driver.Point
	add := func(p map[string]any) {
		pts = append(pts, driver.Point{ID: fuzzIDs[len(pts)%len(fuzzIDs)], Payload: p})
	}
	add(map[string]any{})
	add(map[string]any{"tenant": nil, "size": nil, "score": nil, "ok": nil, "userId": nil})
	for _, s := range fuzzStrings {
		if s != "\xff" {
			add(map[string]any{"tenant": s, "userId": s})
		}
	}
	for _, n := range fuzzInts {
		add(map[string]any{"size": n, "score": float64(n)})
	}
	for _, x := range fuzzFloats {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			add(map[string]any{"score": x, "ok": x > 0})
		}
	}
	return pts
}

// FuzzTranslate checks that a translated filter selects, on stored objects,
// exactly the points driver.Filter.Match selects on their payloads.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{1, 1, 0, 9})
	f.Add([]byte{4, 1, 7, 0, 3, 0, 200})
	f.Add([]byte{10, 0, 3, 9, 0, 5, 2, 6, 1, 0, 3, 0, 0, 1})
	f.Add([]byte{9, 0, 2, 0, 2, 0, 1, 0, 5})
	c := newCollection(&Driver{}, testSpec)
	pts := fuzzPoints()
	stored := make([]map[string]any, len(pts))
	for i := range pts {
		obj, err := c.object(&pts[i])
		if err != nil {
			f.Fatalf("object: %v", err)
		}
		stored[i] = obj.Properties.(map[string]any)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flt := fuzzFilter(bytes.NewReader(data), 0)
		got, err := c.fields.translate(flt)
		if err != nil {
			if flt.Validate(testSpec) == nil && !hasNonFinite(flt) {
				t.Fatalf("translate(%s): %v, but the filter is valid", flt, err)
			}
			return
		}
		for i := range pts {
			want := flt.Match(pts[i].ID, pts[i].Payload)
			if evalStored(got, stored[i]) != want {
				t.Fatalf("filter %s on point %s %v: stored evaluation %v, Match %v\ntranslated: %s",
					flt, pts[i].ID, pts[i].Payload, !want, want, show(got))
			}
		}
	})
}

func hasNonFinite(f *driver.Filter) bool {
	bad := false
	f.Walk(func(n *driver.Filter) {
		for _, v := range append([]driver.Value{n.Value, n.Lower.Value, n.Upper.Value}, n.Values...) {
			if v.Kind() == driver.KindFloat && (math.IsNaN(v.FloatVal()) || math.IsInf(v.FloatVal(), 0)) {
				bad = true
			}
		}
	})
	return bad
}

// FuzzIDMapping checks that IDs map to keys and UUIDs and back exactly, and
// that key order is scroll order.
func FuzzIDMapping(f *testing.F) {
	f.Add(uint64(0), []byte{}, uint64(1), []byte{0xff})
	f.Add(uint64(math.MaxUint64), []byte{0, 0, 0, 0, 0x76, 0x67, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint64(5), []byte{1})
	f.Fuzz(func(t *testing.T, n1 uint64, u1 []byte, n2 uint64, u2 []byte) {
		ids := []driver.PointID{driver.NumID(n1), driver.NumID(n2)}
		for _, u := range [][]byte{u1, u2} {
			var b [16]byte
			copy(b[:], u)
			ids = append(ids, driver.UUIDFromBytes(b))
		}
		for _, id := range ids {
			back, ok := parseKey(idKey(id))
			if !ok || back != id {
				t.Fatalf("parseKey(idKey(%s)) = %s, %v", id, back, ok)
			}
			if reservedUUID(id) {
				continue
			}
			back, ok = pointIDFromUUID(objectID(id))
			if !ok || back != id {
				t.Fatalf("pointIDFromUUID(objectID(%s)) = %s, %v", id, back, ok)
			}
		}
		for _, a := range ids {
			for _, b := range ids {
				if got, want := strings.Compare(idKey(a), idKey(b)), a.Compare(b); got != want {
					t.Fatalf("key order of %s, %s is %d, scroll order %d", a, b, got, want)
				}
				if a != b && !reservedUUID(a) && !reservedUUID(b) && objectID(a) == objectID(b) {
					t.Fatalf("%s and %s share the object %s", a, b, objectID(a))
				}
			}
		}
	})
}

// FuzzNames checks that collection and field names map to Weaviate names
// reversibly and that different names never meet, even case-folded.
func FuzzNames(f *testing.F) {
	f.Add("docs", "Docs")
	f.Add("my_docs", "myDocs")
	f.Add("a-b", "a_0b")
	f.Add("id", "vgw_key")
	f.Add("_vg_iv", "vgf___vg__iv")
	f.Fuzz(func(t *testing.T, a, b string) {
		if driver.ValidName(a) {
			cl := className(a)
			if back, ok := collectionName(cl); !ok || back != a {
				t.Fatalf("collectionName(className(%q)) = %q, %v", a, back, ok)
			}
			if driver.ValidName(b) && a != b && strings.EqualFold(cl, className(b)) {
				t.Fatalf("collections %q and %q meet as %q", a, b, cl)
			}
		}
		if driver.ValidFieldName(a) {
			p := propertyName(a)
			if back, ok := fieldName(p); !ok || back != a {
				t.Fatalf("fieldName(propertyName(%q)) = %q, %v", a, back, ok)
			}
			if p[0] == '_' || p == "id" || strings.EqualFold(p, propKey) || strings.EqualFold(p, propPayload) {
				t.Fatalf("field %q maps to a property Weaviate or the adapter reserves: %q", a, p)
			}
			if driver.ValidFieldName(b) && a != b && strings.EqualFold(p, propertyName(b)) {
				t.Fatalf("fields %q and %q meet as %q", a, b, p)
			}
		}
		// Decoding never accepts a name the encoder would not produce.
		if n, ok := collectionName(a); ok && className(n) != a {
			t.Fatalf("collectionName(%q) = %q, which encodes differently", a, n)
		}
		if n, ok := fieldName(a); ok && propertyName(n) != a {
			t.Fatalf("fieldName(%q) = %q, which encodes differently", a, n)
		}
	})
}

// FuzzPayloadJSON checks that the stored JSON of undeclared payload keeps
// values and number kinds.
func FuzzPayloadJSON(f *testing.F) {
	f.Add(`{"a":1,"b":1.0,"c":[1,2.5,"x",null,true],"d":{"e":-9223372036854775808}}`)
	f.Add(`{"x":1e300,"y":-0.0,"z":""}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := decodeExtra(s)
		if err != nil {
			return
		}
		norm, err := driver.NormalizePayload(m)
		if err != nil {
			return
		}
		js, err := encodeExtra(norm)
		if err != nil {
			t.Fatalf("encodeExtra of a decoded payload: %v", err)
		}
		back, err := decodeExtra(js)
		if err != nil {
			t.Fatalf("decodeExtra(encodeExtra(...)): %v", err)
		}
		if !reflect.DeepEqual(back, norm) {
			t.Fatalf("round trip changed the payload:\n got %#v\nwant %#v", back, norm)
		}
	})
}

func TestEncodeIntOrder(t *testing.T) {
	for i, a := range fuzzInts {
		if back, ok := decodeInt(encodeInt(a)); !ok || back != a {
			t.Errorf("decodeInt(encodeInt(%d)) = %d, %v", a, back, ok)
		}
		for _, b := range fuzzInts[i+1:] {
			if encodeInt(a) >= encodeInt(b) {
				t.Errorf("encodeInt(%d) = %s sorts after encodeInt(%d) = %s", a, encodeInt(a), b, encodeInt(b))
			}
		}
	}
	for _, s := range []string{"", "p", "x0000000000000000000", "p9223372036854775808", "p000000000000000000a"} {
		if _, ok := decodeInt(s); ok {
			t.Errorf("decodeInt(%q) accepted", s)
		}
	}
}
