package qdrant

import (
	"math"
	"strings"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// The filter translation. Qdrant's conditions differ from vecguard's
// semantics in three places, and the translation works around each:
//
//   - An empty should list is no condition in Qdrant (true); vecguard's Or()
//     is false. False is written as must_not [ {} ] (not the empty filter,
//     which is true).
//   - match integer does not match a double payload value (3.0), while
//     vecguard compares numbers by value. Equality on a float field, or with
//     a float value, is written as the range [v, v]; on an int field as
//     match integer (exact for all of int64 and served by the index).
//   - match except is false on absent and null values, while NotIn is true
//     there. NotIn is written as must_not [ match any ], and Ne as
//     must_not [ match ], which hold on absent and null values as vecguard
//     requires.
//
// Exists(f) is must_not [ is_empty f ] and IsNull(f) is is_empty f: Qdrant's
// is_empty holds on absent, null and [] values, and a declared field never
// holds a list (the client checks payload kinds), so absent and null are
// one thing, as vecguard requires. is_null (an explicit null only) is not
// used for that reason.

// maxExactFloatInt is the largest integer every float64 below it holds exactly.
const maxExactFloatInt = 1 << 53

var (
	trueCond  = &qc.Condition{ConditionOneOf: &qc.Condition_Filter{Filter: &qc.Filter{}}}
	falseCond = &qc.Condition{ConditionOneOf: &qc.Condition_Filter{Filter: &qc.Filter{MustNot: []*qc.Condition{trueCond}}}}
)

// schema tells the translation the declared kind of a field; a
// *driver.CollectionSpec is one. Fields it does not know are translated by
// the kind of the filter value.
type schema interface {
	Field(name string) (driver.FieldSpec, bool)
}

// translateFilter translates a vecguard filter into a Qdrant filter with the
// same meaning on payloads that fit s. A nil filter translates to nil (every
// point). It fails with InvalidArgument on malformed filters (unknown
// operators, a not without exactly one operand, a field name Qdrant cannot
// address); error messages carry no filter values.
func translateFilter(f *driver.Filter, s schema) (*qc.Filter, error) {
	if f == nil {
		return nil, nil
	}
	t := translator{schema: s}
	c, err := t.cond(f, 0)
	if err != nil {
		return nil, err
	}
	if fc, ok := c.GetConditionOneOf().(*qc.Condition_Filter); ok {
		return fc.Filter, nil
	}
	return &qc.Filter{Must: []*qc.Condition{c}}, nil
}

type translator struct {
	schema schema
}

func (t *translator) kind(field string) driver.Kind {
	if t.schema == nil {
		return driver.KindInvalid
	}
	if fs, ok := t.schema.Field(field); ok {
		return fs.Kind
	}
	return driver.KindInvalid
}

func wrap(f *qc.Filter) *qc.Condition {
	return &qc.Condition{ConditionOneOf: &qc.Condition_Filter{Filter: f}}
}

func not(c *qc.Condition) *qc.Condition {
	return wrap(&qc.Filter{MustNot: []*qc.Condition{c}})
}

func anyOf(cs []*qc.Condition) *qc.Condition {
	switch len(cs) {
	case 0:
		return falseCond
	case 1:
		return cs[0]
	}
	return wrap(&qc.Filter{Should: cs})
}

func field(key string, fc *qc.FieldCondition) *qc.Condition {
	fc.Key = key
	return &qc.Condition{ConditionOneOf: &qc.Condition_Field{Field: fc}}
}

// pathKey returns the JSON path that addresses the top-level payload key
// name: the name itself when it is a plain identifier, else quoted.
func pathKey(name string) (string, error) {
	if name == "" {
		return "", driver.Errorf(driver.InvalidArgument, "filter: empty field name")
	}
	plain := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return name, nil
	}
	if strings.ContainsRune(name, '"') {
		return "", driver.Errorf(driver.InvalidArgument, "field name cannot be addressed in qdrant")
	}
	return `"` + name + `"`, nil
}

func (t *translator) cond(f *driver.Filter, depth int) (*qc.Condition, error) {
	if f == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nil operand")
	}
	if depth > driver.MaxFilterDepth+1 {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nested deeper than %d", driver.MaxFilterDepth)
	}
	switch f.Op {
	case driver.OpAnd:
		if len(f.Children) == 0 {
			return trueCond, nil
		}
		cs, err := t.conds(f.Children, depth)
		if err != nil {
			return nil, err
		}
		return wrap(&qc.Filter{Must: cs}), nil
	case driver.OpOr:
		cs, err := t.conds(f.Children, depth)
		if err != nil {
			return nil, err
		}
		return anyOf(cs), nil
	case driver.OpNot:
		if len(f.Children) != 1 {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: not takes exactly one operand")
		}
		c, err := t.cond(f.Children[0], depth+1)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case driver.OpHasID:
		if len(f.IDs) == 0 {
			return falseCond, nil
		}
		for _, id := range f.IDs {
			if id.IsZero() {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: empty point ID")
			}
		}
		return &qc.Condition{ConditionOneOf: &qc.Condition_HasId{HasId: &qc.HasIdCondition{HasId: pointIDs(f.IDs)}}}, nil
	}
	key, err := pathKey(f.Field)
	if err != nil {
		return nil, err
	}
	switch f.Op {
	case driver.OpEq:
		return t.eq(key, f.Field, []driver.Value{f.Value})
	case driver.OpNe:
		c, err := t.eq(key, f.Field, []driver.Value{f.Value})
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case driver.OpIn:
		return t.eq(key, f.Field, f.Values)
	case driver.OpNotIn:
		c, err := t.eq(key, f.Field, f.Values)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case driver.OpRange:
		r := &qc.Range{}
		if b := f.Lower; b.Set {
			x, err := bound(b.Value)
			if err != nil {
				return nil, err
			}
			if b.Inclusive {
				r.Gte = &x
			} else {
				r.Gt = &x
			}
		}
		if b := f.Upper; b.Set {
			x, err := bound(b.Value)
			if err != nil {
				return nil, err
			}
			if b.Inclusive {
				r.Lte = &x
			} else {
				r.Lt = &x
			}
		}
		return field(key, &qc.FieldCondition{Range: r}), nil
	case driver.OpExists:
		return not(isEmpty(key)), nil
	case driver.OpIsNull:
		return isEmpty(key), nil
	}
	return nil, driver.Errorf(driver.InvalidArgument, "filter: unknown operator %d", f.Op)
}

func (t *translator) conds(fs []*driver.Filter, depth int) ([]*qc.Condition, error) {
	out := make([]*qc.Condition, 0, len(fs))
	for _, c := range fs {
		cond, err := t.cond(c, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, cond)
	}
	return out, nil
}

func isEmpty(key string) *qc.Condition {
	return &qc.Condition{ConditionOneOf: &qc.Condition_IsEmpty{IsEmpty: &qc.IsEmptyCondition{Key: key}}}
}

func bound(v driver.Value) (float64, error) {
	switch v.Kind() {
	case driver.KindInt, driver.KindFloat:
		x := v.FloatVal()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, driver.Errorf(driver.InvalidArgument, "filter: range bound is not finite")
		}
		return x, nil
	}
	return 0, driver.Errorf(driver.InvalidArgument, "filter: range bound is not a number")
}

func pointRange(x float64) *qc.FieldCondition {
	return &qc.FieldCondition{Range: &qc.Range{Gte: &x, Lte: &x}}
}

// eq translates "field equals one of vs" (an In; Eq is In with one value).
func (t *translator) eq(key, name string, vs []driver.Value) (*qc.Condition, error) {
	kind := t.kind(name)
	var strs []string
	var ints []int64
	var cs []*qc.Condition
	for _, v := range vs {
		switch v.Kind() {
		case driver.KindString:
			strs = append(strs, v.Str())
		case driver.KindBool:
			cs = append(cs, field(key, &qc.FieldCondition{Match: &qc.Match{MatchValue: &qc.Match_Boolean{Boolean: v.BoolVal()}}}))
		case driver.KindInt:
			n := v.IntVal()
			switch {
			case kind == driver.KindFloat:
				// The payload holds a float64.
				cs = append(cs, field(key, pointRange(float64(n))))
			case kind == driver.KindInvalid && n > -maxExactFloatInt && n < maxExactFloatInt:
				// Unknown field: the payload may hold an int or a float.
				ints = append(ints, n)
				cs = append(cs, field(key, pointRange(float64(n))))
			default:
				ints = append(ints, n)
			}
		case driver.KindFloat:
			x := v.FloatVal()
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: value is not finite")
			}
			if kind == driver.KindInt {
				// An int field holds int64s: only an integral float in
				// range can equal one.
				if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
					ints = append(ints, int64(x))
				}
				continue
			}
			cs = append(cs, field(key, pointRange(x)))
		default:
			return nil, driver.Errorf(driver.InvalidArgument, "filter: value has no kind")
		}
	}
	switch len(strs) {
	case 0:
	case 1:
		cs = append(cs, field(key, &qc.FieldCondition{Match: &qc.Match{MatchValue: &qc.Match_Keyword{Keyword: strs[0]}}}))
	default:
		cs = append(cs, field(key, &qc.FieldCondition{Match: &qc.Match{MatchValue: &qc.Match_Keywords{Keywords: &qc.RepeatedStrings{Strings: strs}}}}))
	}
	switch len(ints) {
	case 0:
	case 1:
		cs = append(cs, field(key, &qc.FieldCondition{Match: &qc.Match{MatchValue: &qc.Match_Integer{Integer: ints[0]}}}))
	default:
		cs = append(cs, field(key, &qc.FieldCondition{Match: &qc.Match{MatchValue: &qc.Match_Integers{Integers: &qc.RepeatedIntegers{Integers: ints}}}}))
	}
	return anyOf(cs), nil
}
