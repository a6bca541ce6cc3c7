package qdrant

import (
	"math"
	"testing"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// testSchema declares one filterable field of each kind.
var testSchema = &driver.CollectionSpec{
	Name:    "t",
	Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Dot}},
	Fields: []driver.FieldSpec{
		{Name: "s", Kind: driver.KindString, Filterable: true},
		{Name: "i", Kind: driver.KindInt, Filterable: true},
		{Name: "f", Kind: driver.KindFloat, Filterable: true},
		{Name: "b", Kind: driver.KindBool, Filterable: true},
	},
}

// corpus is the set of points every translated filter is checked on: each
// field present with several values, null, or absent.
func corpus() []driver.Point {
	payloads := []map[string]any{
		nil,
		{},
		{"s": "a", "i": int64(1), "f": 1.0, "b": true},
		{"s": "b", "i": int64(2), "f": 2.5, "b": false},
		{"s": nil, "i": nil, "f": nil, "b": nil},
		{"s": "", "i": int64(0), "f": 0.0},
		{"i": int64(math.MaxInt64), "f": -1.5, "b": true},
		{"s": "a", "i": int64(-7), "f": 2.0},
		{"i": int64(math.MinInt64), "f": 1e300, "other": "a"},
		{"s": "é ✓", "i": int64(1<<53 + 1), "f": 3.0, "b": false},
	}
	var pts []driver.Point
	for i, p := range payloads {
		pts = append(pts, driver.Point{ID: driver.NumID(uint64(i)), Payload: p})
	}
	pts = append(pts, driver.Point{ID: driver.MustParseUUID("00000000-0000-0000-0000-000000000001"), Payload: payloads[2]})
	pts = append(pts, driver.Point{ID: driver.NumID(math.MaxUint64), Payload: payloads[3]})
	return pts
}

// checkSemantics fails t unless the translation of f selects exactly the
// points of the corpus that f itself matches.
func checkSemantics(t *testing.T, f *driver.Filter) {
	t.Helper()
	q, err := translateFilter(f, testSchema)
	if err != nil {
		t.Fatalf("translateFilter(%v): %v", f, err)
	}
	for _, p := range corpus() {
		payload, err := toPayload(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		got, err := qdranttest.Match(q, pointID(p.ID), payload)
		if err != nil {
			t.Fatalf("evaluating the translation of %v: %v", f, err)
		}
		if want := f.Match(p.ID, p.Payload); got != want {
			t.Errorf("filter %v on point %v %v: qdrant says %v, vecguard %v (translation %v)", f, p.ID, p.Payload, got, want, q)
		}
	}
}

func cond(c *qc.Condition) *qc.Filter { return &qc.Filter{Must: []*qc.Condition{c}} }

func notF(c *qc.Condition) *qc.Filter { return &qc.Filter{MustNot: []*qc.Condition{c}} }

func ptr[T any](v T) *T { return &v }

// TestTranslateFilter checks the translation of every node, by shape and by
// meaning.
func TestTranslateFilter(t *testing.T) {
	eqS := qc.NewMatchKeyword("s", "a")
	eqI := qc.NewMatchInt("i", 2)
	eqF := qc.NewRange("f", &qc.Range{Gte: ptr(2.5), Lte: ptr(2.5)})
	eqB := qc.NewMatchBool("b", true)
	isEmptyS := qc.NewIsEmpty("s")
	falseF := notF(trueCond)
	cases := []struct {
		name string
		f    *driver.Filter
		want *qc.Filter // nil: only the meaning is checked
	}{
		{"Nil", nil, nil},
		{"AndEmpty", driver.And(), &qc.Filter{}},
		{"OrEmpty", driver.Or(), falseF},
		{"None", driver.None(), falseF},
		{"NotAndEmpty", driver.Not(driver.And()), notF(trueCond)},
		{"NotNil", driver.Not(nil), notF(trueCond)},
		{"EqString", driver.Eq("s", driver.String("a")), cond(eqS)},
		{"EqEmptyString", driver.Eq("s", driver.String("")), cond(qc.NewMatchKeyword("s", ""))},
		{"EqInt", driver.Eq("i", driver.Int(2)), cond(eqI)},
		{"EqIntMax", driver.Eq("i", driver.Int(math.MaxInt64)), cond(qc.NewMatchInt("i", math.MaxInt64))},
		{"EqIntBeyondFloat", driver.Eq("i", driver.Int(1<<53+1)), cond(qc.NewMatchInt("i", 1<<53+1))},
		{"EqFloat", driver.Eq("f", driver.Float(2.5)), cond(eqF)},
		{"EqIntOnFloatField", driver.Eq("f", driver.Int(2)), cond(qc.NewRange("f", &qc.Range{Gte: ptr(2.0), Lte: ptr(2.0)}))},
		{"EqWholeFloatOnIntField", driver.Eq("i", driver.Float(2)), cond(eqI)},
		{"EqFractionOnIntField", driver.Eq("i", driver.Float(2.5)), falseF},
		{"EqBool", driver.Eq("b", driver.Bool(true)), cond(eqB)},
		{"EqBoolFalse", driver.Eq("b", driver.Bool(false)), cond(qc.NewMatchBool("b", false))},
		{"NeString", driver.Ne("s", driver.String("a")), notF(eqS)},
		{"NeInt", driver.Ne("i", driver.Int(2)), notF(eqI)},
		{"NeFloat", driver.Ne("f", driver.Float(2.5)), notF(eqF)},
		{"NeBool", driver.Ne("b", driver.Bool(true)), notF(eqB)},
		{"InStrings", driver.In("s", driver.String("a"), driver.String("b")), cond(qc.NewMatchKeywords("s", "a", "b"))},
		{"InInts", driver.In("i", driver.Int(1), driver.Int(2)), cond(qc.NewMatchInts("i", 1, 2))},
		{"InFloats", driver.In("f", driver.Float(1), driver.Float(2.5)), &qc.Filter{Should: []*qc.Condition{
			qc.NewRange("f", &qc.Range{Gte: ptr(1.0), Lte: ptr(1.0)}), eqF}}},
		{"InBools", driver.In("b", driver.Bool(true), driver.Bool(false)), &qc.Filter{Should: []*qc.Condition{eqB, qc.NewMatchBool("b", false)}}},
		{"InOne", driver.In("s", driver.String("a")), cond(eqS)},
		{"InEmpty", driver.In("s"), falseF},
		{"NotInStrings", driver.NotIn("s", driver.String("a"), driver.String("b")), notF(qc.NewMatchKeywords("s", "a", "b"))},
		{"NotInInts", driver.NotIn("i", driver.Int(2)), notF(eqI)},
		{"NotInEmpty", driver.NotIn("s"), notF(qc.NewFilterAsCondition(falseF))},
		{"Gt", driver.Gt("i", driver.Int(1)), cond(qc.NewRange("i", &qc.Range{Gt: ptr(1.0)}))},
		{"Gte", driver.Gte("f", driver.Float(1)), cond(qc.NewRange("f", &qc.Range{Gte: ptr(1.0)}))},
		{"Lt", driver.Lt("f", driver.Int(2)), cond(qc.NewRange("f", &qc.Range{Lt: ptr(2.0)}))},
		{"Lte", driver.Lte("i", driver.Int(0)), cond(qc.NewRange("i", &qc.Range{Lte: ptr(0.0)}))},
		{"Between", driver.Range("f", driver.Bound{Value: driver.Float(1), Set: true, Inclusive: true}, driver.Bound{Value: driver.Float(2.5), Set: true}),
			cond(qc.NewRange("f", &qc.Range{Gte: ptr(1.0), Lt: ptr(2.5)}))},
		{"Exists", driver.Exists("s"), notF(isEmptyS)},
		{"IsNull", driver.IsNull("s"), cond(isEmptyS)},
		{"HasID", driver.HasID(driver.NumID(2), driver.MustParseUUID("00000000-0000-0000-0000-000000000001")),
			cond(qc.NewHasID(qc.NewIDNum(2), qc.NewIDUUID("00000000-0000-0000-0000-000000000001")))},
		{"HasIDEmpty", driver.HasID(), falseF},
		{"And", driver.And(driver.Eq("s", driver.String("a")), driver.Eq("b", driver.Bool(true))), &qc.Filter{Must: []*qc.Condition{eqS, eqB}}},
		{"Or", driver.Or(driver.Eq("s", driver.String("a")), driver.Eq("i", driver.Int(2))), &qc.Filter{Should: []*qc.Condition{eqS, eqI}}},
		{"NotOr", driver.Not(driver.Or(driver.Eq("s", driver.String("a")), driver.IsNull("b"))), nil},
		{"NotNot", driver.Not(driver.Not(driver.Eq("s", driver.String("a")))), nil},
		{"NotExists", driver.Not(driver.Exists("f")), nil},
		{"NotIsNull", driver.Not(driver.IsNull("i")), nil},
		{"OrOfAnds", driver.Or(driver.And(driver.Gt("f", driver.Int(0)), driver.Ne("s", driver.String("a"))), driver.And(driver.IsNull("s"), driver.Eq("b", driver.Bool(false)))), nil},
		{"NotHasID", driver.Not(driver.HasID(driver.NumID(2), driver.NumID(3))), nil},
		{"NeOfNull", driver.And(driver.Ne("i", driver.Int(1)), driver.NotIn("b", driver.Bool(true))), nil},
		{"UnknownFieldInt", driver.Eq("other", driver.Int(3)), nil},
		{"UnknownFieldString", driver.Eq("other", driver.String("a")), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := translateFilter(tc.f, testSchema)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !proto.Equal(got, tc.want) {
				t.Errorf("translateFilter(%v)\n got %v\nwant %v", tc.f, got, tc.want)
			}
			checkSemantics(t, tc.f)
		})
	}
}

func TestTranslateFilterErrors(t *testing.T) {
	cases := map[string]*driver.Filter{
		"NotWithTwo":    {Op: driver.OpNot, Children: []*driver.Filter{driver.And(), driver.And()}},
		"NilChild":      {Op: driver.OpAnd, Children: []*driver.Filter{nil}},
		"UnknownOp":     {Op: 99, Field: "s"},
		"EmptyField":    {Op: driver.OpEq, Value: driver.String("a")},
		"QuoteInField":  driver.Eq(`a"b`, driver.String("a")),
		"NaN":           driver.Eq("f", driver.Float(math.NaN())),
		"StringBound":   driver.Gt("f", driver.String("a")),
		"ZeroID":        driver.HasID(driver.PointID{}),
		"ValueWithKind": {Op: driver.OpEq, Field: "s"},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := translateFilter(f, testSchema)
			if driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("got %v, want InvalidArgument", err)
			}
		})
	}
}

// filterGen builds a valid filter over testSchema from fuzz input.
type filterGen struct {
	data  []byte
	nodes int
}

func (g *filterGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *filterGen) value(kind driver.Kind) driver.Value {
	b := g.byte()
	switch kind {
	case driver.KindString:
		return driver.String([]string{"a", "b", "", "é ✓", "z"}[int(b)%5])
	case driver.KindInt:
		return driver.Int([]int64{0, 1, 2, -7, math.MaxInt64, math.MinInt64, 1<<53 + 1, int64(int8(g.byte()))}[int(b)%8])
	case driver.KindFloat:
		if b%3 == 0 {
			return driver.Int([]int64{0, 1, 2, 3}[int(g.byte())%4])
		}
		return driver.Float([]float64{0, 1, 2.5, -1.5, 2, 1e300, 3, float64(int8(g.byte())) / 4}[int(b)%8])
	}
	return driver.Bool(b%2 == 0)
}

func (g *filterGen) filter(depth int) *driver.Filter {
	g.nodes++
	op := g.byte() % 12
	if depth > 4 || g.nodes > 40 {
		op = 3 + op%8
	}
	fs := testSchema.Fields[int(g.byte())%len(testSchema.Fields)]
	switch op {
	case 0, 1:
		n := int(g.byte() % 4)
		cs := make([]*driver.Filter, n)
		for i := range cs {
			cs[i] = g.filter(depth + 1)
		}
		if op == 0 {
			return driver.And(cs...)
		}
		return &driver.Filter{Op: driver.OpOr, Children: cs}
	case 2:
		return driver.Not(g.filter(depth + 1))
	case 3:
		return driver.Eq(fs.Name, g.value(fs.Kind))
	case 4:
		return driver.Ne(fs.Name, g.value(fs.Kind))
	case 5, 6:
		vs := make([]driver.Value, g.byte()%4)
		for i := range vs {
			vs[i] = g.value(fs.Kind)
		}
		if op == 5 {
			return driver.In(fs.Name, vs...)
		}
		return driver.NotIn(fs.Name, vs...)
	case 7:
		num := []string{"i", "f"}[g.byte()%2]
		kind, _ := testSchema.FilterField(num)
		b := g.byte()
		lo := driver.Bound{Set: b&1 != 0, Inclusive: b&2 != 0, Value: g.value(kind)}
		hi := driver.Bound{Set: b&4 != 0 || b&1 == 0, Inclusive: b&8 != 0, Value: g.value(kind)}
		return driver.Range(num, lo, hi)
	case 8:
		return driver.Exists(fs.Name)
	case 9:
		return driver.IsNull(fs.Name)
	}
	ids := make([]driver.PointID, g.byte()%4)
	for i := range ids {
		ids[i] = driver.NumID(uint64(g.byte() % 12))
	}
	return driver.HasID(ids...)
}

// FuzzTranslateFilter checks that every valid filter translates, and that
// the translation selects, with Qdrant's semantics, exactly the points of
// the corpus the filter matches with vecguard's.
func FuzzTranslateFilter(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 3, 3, 1, 4, 2, 5})
	f.Add([]byte{1, 2, 2, 4, 1, 0, 2, 9, 3, 6, 0, 2, 1, 2, 3, 7, 1, 5, 0, 1})
	f.Add([]byte{2, 1, 1, 0, 5, 2, 3, 2, 2, 7, 3, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &filterGen{data: data}
		flt := g.filter(0)
		if err := flt.Validate(testSchema); err != nil {
			t.Skip()
		}
		checkSemantics(t, flt)
	})
}

func TestPayloadRoundTrip(t *testing.T) {
	in := map[string]any{
		"s": "héllo", "empty": "", "i": int64(math.MaxInt64), "min": int64(math.MinInt64), "whole": 3.0,
		"f": -0.125, "tiny": 1e-300, "b": false, "null": nil,
		"list":   []any{int64(1), "two", 3.5, true, nil, []any{int64(4)}, map[string]any{"five": int64(5)}},
		"nested": map[string]any{"a": map[string]any{"b": []any{}}}, "emptymap": map[string]any{},
	}
	qv, err := toPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := qv["i"].GetKind().(*qc.Value_IntegerValue); !ok {
		t.Errorf("int64 is sent as %T, want integer_value", qv["i"].GetKind())
	}
	if _, ok := qv["whole"].GetKind().(*qc.Value_DoubleValue); !ok {
		t.Errorf("3.0 is sent as %T, want double_value", qv["whole"].GetKind())
	}
	b, err := proto.Marshal(&qc.Struct{Fields: qv})
	if err != nil {
		t.Fatal(err)
	}
	var back qc.Struct
	if err := proto.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	out, err := fromPayload(back.GetFields())
	if err != nil {
		t.Fatal(err)
	}
	if !equalPayload(in, out) {
		t.Errorf("round trip\n got %#v\nwant %#v", out, in)
	}
	// Go types that are not normalized yet are converted.
	qv, err = toPayload(map[string]any{"int": 7, "f32": float32(0.5), "strs": []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if qv["int"].GetIntegerValue() != 7 || qv["f32"].GetDoubleValue() != 0.5 || qv["strs"].GetListValue().GetValues()[0].GetStringValue() != "a" {
		t.Errorf("unnormalized values: %v", qv)
	}
	for name, bad := range map[string]map[string]any{
		"NaN": {"x": math.NaN()}, "Inf": {"x": math.Inf(1)}, "BadUTF8": {"x": "\xff"}, "BadKey": {"\xff": 1},
		"Chan": {"x": make(chan int)}, "Deep": {"x": deep(maxValueDepth + 2)},
	} {
		if _, err := toPayload(bad); driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", name, err)
		}
	}
}

func deep(n int) any {
	var v any = int64(1)
	for range n {
		v = []any{v}
	}
	return v
}

func equalPayload(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalPayload(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalPayload(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// FuzzPayloadValue decodes arbitrary bytes as a Qdrant value (what a server
// may send), converts it to a vecguard value and back: the conversion never
// panics, and a decoded value converts back to an equal one.
func FuzzPayloadValue(f *testing.F) {
	for _, v := range []any{nil, "a", int64(-1), 2.5, true, []any{int64(1), "x"}, map[string]any{"k": []any{nil}}} {
		qv, err := toValue(v, 0)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := proto.Marshal(qv)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var qv qc.Value
		if proto.Unmarshal(data, &qv) != nil {
			return
		}
		v, err := fromValue(&qv, 0)
		if err != nil {
			return
		}
		back, err := toValue(v, 0)
		if err != nil {
			// Only values Qdrant could not have stored are refused.
			if f, ok := v.(float64); !ok || !(math.IsNaN(f) || math.IsInf(f, 0)) {
				if driver.CodeOf(err) != driver.InvalidArgument {
					t.Fatalf("toValue: %v", err)
				}
			}
			return
		}
		again, err := fromValue(back, 0)
		if err != nil {
			t.Fatalf("fromValue of a converted value: %v", err)
		}
		if !equalPayloadNaN(v, again) {
			t.Fatalf("round trip changed the value")
		}
	})
}

func equalPayloadNaN(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	}
	return equalPayload(a, b)
}

func TestSuccessor(t *testing.T) {
	maxU := driver.MustParseUUID("ffffffff-ffff-ffff-ffff-ffffffffffff")
	cases := []struct {
		in, want driver.PointID
		ok       bool
	}{
		{driver.NumID(0), driver.NumID(1), true},
		{driver.NumID(math.MaxUint64), driver.UUIDFromBytes([16]byte{}), true},
		{driver.MustParseUUID("00000000-0000-0000-0000-0000000000ff"), driver.MustParseUUID("00000000-0000-0000-0000-000000000100"), true},
		{driver.MustParseUUID("0fffffff-ffff-ffff-ffff-ffffffffffff"), driver.MustParseUUID("10000000-0000-0000-0000-000000000000"), true},
		{maxU, driver.PointID{}, false},
	}
	for _, tc := range cases {
		got, ok := successor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("successor(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && tc.in.Compare(got) >= 0 {
			t.Errorf("successor(%v) = %v is not after it", tc.in, got)
		}
	}
}
