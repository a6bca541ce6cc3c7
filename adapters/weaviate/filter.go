package weaviate

import (
	"math"
	"unicode/utf8"

	"github.com/vecguard/vecguard/vecguard/driver"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/protobuf/proto"
)

// Filter translation. The neutral AST is compiled to Weaviate's gRPC filter
// tree with these equivalences (design.md's semantics, checked by the table
// tests and the conformance suite):
//
//	Eq(f, v)      f == v                 (strings wrapped, ints encoded: payload.go)
//	Ne(f, v)      Not(f == v)            true where f is absent or null
//	In(f, vs)     f ContainsAny vs       (Eq for one value)
//	NotIn(f, vs)  Not(f ContainsAny vs)
//	Range         f > / >= / < / <= bounds, And-ed; float bounds on an int
//	              field become the equivalent integer bounds
//	Exists(f)     f IsNull false         (needs indexNullState, which every
//	IsNull(f)     f IsNull true           class is created with)
//	HasID(ids)    key ContainsAny keys   (the sortable key of ids.go)
//	And/Or/Not    And/Or/Not
//
// Weaviate's Not is the complement within the collection, so Not(Eq) also
// matches objects where the property is absent or null (see not for why
// every Not is also And-ed with a filter that matches all live objects). Constant parts are
// folded first: And() is true, Or() is false, In with no values is false; a
// filter that folds to true is sent as no filter and one that folds to false
// is answered without asking Weaviate (it refuses empty And/Or).

// matchAll and matchNone are the folded constants; compare by pointer.
var (
	matchAll  = &pb.Filters{}
	matchNone = &pb.Filters{}
)

// fieldInfo is a declared payload field as stored.
type fieldInfo struct {
	name       string
	prop       string
	kind       driver.Kind
	filterable bool
}

// fieldSet maps declared field names to their stored form.
type fieldSet map[string]*fieldInfo

func newFieldSet(spec *driver.CollectionSpec) fieldSet {
	fs := make(fieldSet, len(spec.Fields))
	for _, f := range spec.Fields {
		fs[f.Name] = &fieldInfo{name: f.Name, prop: propertyName(f.Name), kind: f.Kind, filterable: f.Filterable}
	}
	return fs
}

// translate compiles f. The result is matchAll, matchNone, or a filter tree.
func (fs fieldSet) translate(f *driver.Filter) (*pb.Filters, error) {
	if f == nil {
		return matchAll, nil
	}
	return fs.node(f, 0)
}

func (fs fieldSet) node(f *driver.Filter, depth int) (*pb.Filters, error) {
	if f == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nil operand")
	}
	if depth > driver.MaxFilterDepth+4 {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nested too deeply")
	}
	switch f.Op {
	case driver.OpAnd:
		kids := make([]*pb.Filters, 0, len(f.Children))
		for _, c := range f.Children {
			k, err := fs.node(c, depth+1)
			if err != nil {
				return nil, err
			}
			switch k {
			case matchNone:
				return matchNone, nil
			case matchAll:
				continue
			}
			kids = appendNew(kids, k)
		}
		return combine(pb.Filters_OPERATOR_AND, kids, matchAll), nil
	case driver.OpOr:
		kids := make([]*pb.Filters, 0, len(f.Children))
		for _, c := range f.Children {
			k, err := fs.node(c, depth+1)
			if err != nil {
				return nil, err
			}
			switch k {
			case matchAll:
				return matchAll, nil
			case matchNone:
				continue
			}
			kids = appendNew(kids, k)
		}
		return combine(pb.Filters_OPERATOR_OR, kids, matchNone), nil
	case driver.OpNot:
		if len(f.Children) != 1 {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: not takes exactly one operand")
		}
		k, err := fs.node(f.Children[0], depth+1)
		if err != nil {
			return nil, err
		}
		return not(k), nil
	case driver.OpHasID:
		if len(f.IDs) == 0 {
			return matchNone, nil
		}
		keys := make([]string, 0, len(f.IDs))
		for _, id := range f.IDs {
			if id.IsZero() {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: empty point ID")
			}
			keys = append(keys, idKey(id))
		}
		return textIn(propKey, keys), nil
	}
	fi, ok := fs[f.Field]
	if !ok || !fi.filterable {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: field %q is not a declared filterable field", f.Field)
	}
	switch f.Op {
	case driver.OpEq:
		return fs.in(fi, []driver.Value{f.Value})
	case driver.OpNe:
		k, err := fs.in(fi, []driver.Value{f.Value})
		if err != nil {
			return nil, err
		}
		return not(k), nil
	case driver.OpIn:
		return fs.in(fi, f.Values)
	case driver.OpNotIn:
		k, err := fs.in(fi, f.Values)
		if err != nil {
			return nil, err
		}
		return not(k), nil
	case driver.OpRange:
		return fs.rng(fi, f.Lower, f.Upper)
	case driver.OpExists:
		return isNull(fi.prop, false), nil
	case driver.OpIsNull:
		return isNull(fi.prop, true), nil
	}
	return nil, driver.Errorf(driver.InvalidArgument, "filter: unknown operator %d", f.Op)
}

// appendNew appends k unless an equal condition is there already: the
// guarded client often And-s tenant isolation with a policy filter on the
// same tenant, and Weaviate would resolve both. Only short lists are
// searched.
func appendNew(kids []*pb.Filters, k *pb.Filters) []*pb.Filters {
	if len(kids) <= 16 {
		for _, x := range kids {
			if proto.Equal(x, k) {
				return kids
			}
		}
	}
	return append(kids, k)
}

func combine(op pb.Filters_Operator, kids []*pb.Filters, empty *pb.Filters) *pb.Filters {
	switch len(kids) {
	case 0:
		return empty
	case 1:
		return kids[0]
	}
	return &pb.Filters{Operator: op, Filters: kids}
}

// and returns a AND b, folding constants.
func and(a, b *pb.Filters) *pb.Filters {
	switch {
	case a == matchNone || b == matchNone:
		return matchNone
	case a == matchAll:
		return b
	case b == matchAll:
		return a
	}
	return andOf(a, b)
}

func andOf(fs ...*pb.Filters) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_AND, Filters: fs}
}

// not negates k. Weaviate computes Not as the complement over every document
// number a shard has handed out, including those of deleted objects, so a
// bare Not counts and deletes phantoms after deletes (Count of Not(Eq) after
// deleting and re-inserting points is too high, and a batch delete by it
// removes the re-inserted objects). Every Not is therefore intersected with
// live(): key >= "", which matches exactly the objects that exist.
func not(k *pb.Filters) *pb.Filters {
	switch k {
	case matchAll:
		return matchNone
	case matchNone:
		return matchAll
	}
	if inner, ok := negated(k); ok {
		return inner
	}
	return &pb.Filters{Operator: pb.Filters_OPERATOR_AND, Filters: []*pb.Filters{
		live(),
		{Operator: pb.Filters_OPERATOR_NOT, Filters: []*pb.Filters{k}},
	}}
}

// negated returns x when k is not(x).
func negated(k *pb.Filters) (*pb.Filters, bool) {
	if k.Operator != pb.Filters_OPERATOR_AND || len(k.Filters) != 2 || !isLive(k.Filters[0]) {
		return nil, false
	}
	n := k.Filters[1]
	if n.Operator != pb.Filters_OPERATOR_NOT || len(n.Filters) != 1 {
		return nil, false
	}
	return n.Filters[0], true
}

// live matches every object that exists: all carry a key, and every key is
// >= "".
func live() *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_GREATER_THAN_EQUAL, Target: target(propKey),
		TestValue: &pb.Filters_ValueText{ValueText: ""}}
}

func isLive(f *pb.Filters) bool {
	return f.Operator == pb.Filters_OPERATOR_GREATER_THAN_EQUAL && f.GetTarget().GetProperty() == propKey &&
		f.GetValueText() == "" && f.GetTestValue() != nil
}

func target(prop string) *pb.FilterTarget {
	return &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: prop}}
}

func isNull(prop string, null bool) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_IS_NULL, Target: target(prop),
		TestValue: &pb.Filters_ValueBoolean{ValueBoolean: null}}
}

func textIn(prop string, vs []string) *pb.Filters {
	if len(vs) == 1 {
		return &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: target(prop),
			TestValue: &pb.Filters_ValueText{ValueText: vs[0]}}
	}
	return &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: target(prop),
		TestValue: &pb.Filters_ValueTextArray{ValueTextArray: &pb.TextArray{Values: vs}}}
}

// in compiles "field equals one of vs". Values that no stored value can
// equal (a fractional float on an int field, invalid UTF-8) are dropped.
func (fs fieldSet) in(fi *fieldInfo, vs []driver.Value) (*pb.Filters, error) {
	var (
		texts  []string
		floats []float64
		bools  []bool
	)
	for _, v := range vs {
		switch fi.kind {
		case driver.KindString:
			if v.Kind() != driver.KindString {
				return nil, kindMismatch(fi)
			}
			if utf8.ValidString(v.Str()) {
				texts = append(texts, wrapText(v.Str()))
			}
		case driver.KindInt:
			switch v.Kind() {
			case driver.KindInt:
				texts = append(texts, encodeInt(v.IntVal()))
			case driver.KindFloat:
				if n, ok := exactInt(v.FloatVal()); ok {
					texts = append(texts, encodeInt(n))
				}
			default:
				return nil, kindMismatch(fi)
			}
		case driver.KindFloat:
			if v.Kind() != driver.KindFloat && v.Kind() != driver.KindInt {
				return nil, kindMismatch(fi)
			}
			x := v.FloatVal()
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: value on %q is not finite", fi.name)
			}
			floats = append(floats, storedFloat(x))
		case driver.KindBool:
			if v.Kind() != driver.KindBool {
				return nil, kindMismatch(fi)
			}
			bools = append(bools, v.BoolVal())
		default:
			return nil, kindMismatch(fi)
		}
	}
	f := &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: target(fi.prop)}
	switch n := len(texts) + len(floats) + len(bools); {
	case n == 0:
		return matchNone, nil
	case n == 1:
		f.Operator = pb.Filters_OPERATOR_EQUAL
		switch {
		case len(texts) == 1:
			f.TestValue = &pb.Filters_ValueText{ValueText: texts[0]}
		case len(floats) == 1:
			f.TestValue = &pb.Filters_ValueNumber{ValueNumber: floats[0]}
		default:
			f.TestValue = &pb.Filters_ValueBoolean{ValueBoolean: bools[0]}
		}
	case len(texts) > 0:
		f.TestValue = &pb.Filters_ValueTextArray{ValueTextArray: &pb.TextArray{Values: texts}}
	case len(floats) > 0:
		f.TestValue = &pb.Filters_ValueNumberArray{ValueNumberArray: &pb.NumberArray{Values: floats}}
	default:
		f.TestValue = &pb.Filters_ValueBooleanArray{ValueBooleanArray: &pb.BooleanArray{Values: bools}}
	}
	return f, nil
}

func kindMismatch(fi *fieldInfo) error {
	return driver.Errorf(driver.InvalidArgument, "filter: value kind does not fit field %q (%s)", fi.name, fi.kind)
}

// exactInt returns x as an int64 when it is a whole number in range.
func exactInt(x float64) (int64, bool) {
	if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
		return 0, false
	}
	return int64(x), true
}

// storedFloat is how a float is stored and compared: -0 is stored as 0, so
// that equality with 0 holds as it does in Go.
func storedFloat(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x
}

// rng compiles a numeric range. Float bounds on an int field are replaced
// by the integer bounds that select the same integers: x > 2.5 is x >= 3,
// x <= 2.5 is x <= 2. A bound no int64 can violate is dropped; a bound no
// int64 can satisfy makes the range match nothing. A range left without
// bounds still requires a value (absent and null never satisfy a range).
func (fs fieldSet) rng(fi *fieldInfo, lo, hi driver.Bound) (*pb.Filters, error) {
	if fi.kind != driver.KindInt && fi.kind != driver.KindFloat {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: range on non-numeric field %q", fi.name)
	}
	if !lo.Set && !hi.Set {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: range on %q has no bound", fi.name)
	}
	var kids []*pb.Filters
	for i, b := range []driver.Bound{lo, hi} {
		if !b.Set {
			continue
		}
		lower := i == 0
		if b.Value.Kind() != driver.KindInt && b.Value.Kind() != driver.KindFloat {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: range bound on %q is not a number", fi.name)
		}
		x := b.Value.FloatVal()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: range bound on %q is not finite", fi.name)
		}
		if fi.kind == driver.KindFloat {
			kids = append(kids, &pb.Filters{Operator: rangeOp(lower, b.Inclusive), Target: target(fi.prop),
				TestValue: &pb.Filters_ValueNumber{ValueNumber: storedFloat(x)}})
			continue
		}
		n, inclusive, verdict := intBound(b, lower)
		switch verdict {
		case boundNever:
			return matchNone, nil
		case boundAlways:
			continue
		}
		kids = append(kids, &pb.Filters{Operator: rangeOp(lower, inclusive), Target: target(fi.prop),
			TestValue: &pb.Filters_ValueText{ValueText: encodeInt(n)}})
	}
	if len(kids) == 0 {
		return isNull(fi.prop, false), nil
	}
	return combine(pb.Filters_OPERATOR_AND, kids, matchAll), nil
}

type boundVerdict uint8

const (
	boundUse boundVerdict = iota
	boundAlways
	boundNever
)

// intBound turns a bound on an int field into an int64 bound.
func intBound(b driver.Bound, lower bool) (n int64, inclusive bool, v boundVerdict) {
	if b.Value.Kind() == driver.KindInt {
		return b.Value.IntVal(), b.Inclusive, boundUse
	}
	x := b.Value.FloatVal()
	if lower {
		// smallest integer k with k > x (or k >= x when inclusive)
		k := math.Ceil(x)
		if k == x && !b.Inclusive {
			k++
		}
		switch {
		case k > math.MaxInt64 || k >= 1<<63:
			return 0, false, boundNever
		case k <= math.MinInt64:
			return 0, false, boundAlways
		}
		return int64(k), true, boundUse
	}
	// largest integer k with k < x (or k <= x when inclusive)
	k := math.Floor(x)
	if k == x && !b.Inclusive {
		k--
	}
	switch {
	case k < math.MinInt64:
		return 0, false, boundNever
	case k >= 1<<63:
		return 0, false, boundAlways
	}
	return int64(k), true, boundUse
}

func rangeOp(lower, inclusive bool) pb.Filters_Operator {
	switch {
	case lower && inclusive:
		return pb.Filters_OPERATOR_GREATER_THAN_EQUAL
	case lower:
		return pb.Filters_OPERATOR_GREATER_THAN
	case inclusive:
		return pb.Filters_OPERATOR_LESS_THAN_EQUAL
	}
	return pb.Filters_OPERATOR_LESS_THAN
}
