package qdranttest

import (
	"strconv"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// This file evaluates Qdrant filters with Qdrant's own semantics (as in
// lib/segment/src/payload_storage/query_checker.rs and condition_checker.rs
// of Qdrant), not vecguard's:
//
//   - an empty must / should / must_not list is no condition at all (true);
//     a condition with no variant set is dropped;
//   - a field condition on a key with no values (absent key) is false,
//     except is_empty (true), is_null (false) and values_count (count 0);
//   - a key whose value is an array matches when any element matches;
//   - match integer matches only integer payload values (a double 3.0 is
//     not the integer 3); range compares any number as a float;
//   - match except is false on null and absent values and true on values of
//     another type;
//   - is_empty: absent, null or [] ; is_null: an explicit null.

// subject is what a filter is evaluated on: a point, or an object inside a
// nested condition (which has no ID and no vectors).
type subject struct {
	id      pid
	hasID   bool
	payload map[string]*qdrant.Value
	vectors map[string][]float32
}

type pred func(s *subject) bool

func always(*subject) bool { return true }

func unsupported(what string) error {
	return status.Errorf(codes.Unimplemented, "the Qdrant test server does not support %s", what)
}

// compileFilter turns a filter into a predicate; nil matches everything.
func compileFilter(f *qdrant.Filter) (pred, error) {
	if f == nil {
		return always, nil
	}
	must, err := compileConds(f.GetMust())
	if err != nil {
		return nil, err
	}
	should, err := compileConds(f.GetShould())
	if err != nil {
		return nil, err
	}
	mustNot, err := compileConds(f.GetMustNot())
	if err != nil {
		return nil, err
	}
	var minShould []pred
	var minCount uint64
	hasMin := f.MinShould != nil
	if hasMin {
		minCount = f.MinShould.GetMinCount()
		if minShould, err = compileConds(f.MinShould.GetConditions()); err != nil {
			return nil, err
		}
	}
	return func(s *subject) bool {
		if len(should) > 0 {
			ok := false
			for _, p := range should {
				if p(s) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		if hasMin {
			var n uint64
			for _, p := range minShould {
				if n >= minCount {
					break
				}
				if p(s) {
					n++
				}
			}
			if n != minCount {
				return false
			}
		}
		for _, p := range must {
			if !p(s) {
				return false
			}
		}
		for _, p := range mustNot {
			if p(s) {
				return false
			}
		}
		return true
	}, nil
}

// compileConds compiles a condition list, dropping empty conditions.
func compileConds(cs []*qdrant.Condition) ([]pred, error) {
	var out []pred
	for _, c := range cs {
		p, err := compileCond(c)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// compileCond returns nil for an empty condition.
func compileCond(c *qdrant.Condition) (pred, error) {
	switch v := c.GetConditionOneOf().(type) {
	case nil:
		return nil, nil
	case *qdrant.Condition_Filter:
		return compileFilter(v.Filter)
	case *qdrant.Condition_Field:
		return compileField(v.Field)
	case *qdrant.Condition_IsEmpty:
		path, err := parsePath(v.IsEmpty.GetKey())
		if err != nil {
			return nil, err
		}
		return func(s *subject) bool {
			for _, x := range path.get(s.payload) {
				if !isNullValue(x) && !isEmptyList(x) {
					return false
				}
			}
			return true
		}, nil
	case *qdrant.Condition_IsNull:
		path, err := parsePath(v.IsNull.GetKey())
		if err != nil {
			return nil, err
		}
		return func(s *subject) bool {
			for _, x := range path.get(s.payload) {
				if isNullValue(x) {
					return true
				}
			}
			return false
		}, nil
	case *qdrant.Condition_HasId:
		ids, err := parseIDs(v.HasId.GetHasId())
		if err != nil {
			return nil, err
		}
		set := make(map[pid]struct{}, len(ids))
		for _, id := range ids {
			set[id] = struct{}{}
		}
		return func(s *subject) bool {
			if !s.hasID {
				return false
			}
			_, ok := set[s.id]
			return ok
		}, nil
	case *qdrant.Condition_HasVector:
		name := v.HasVector.GetHasVector()
		return func(s *subject) bool {
			_, ok := s.vectors[name]
			return ok
		}, nil
	case *qdrant.Condition_Nested:
		if v.Nested.GetFilter() == nil {
			return nil, status.Error(codes.InvalidArgument, "Nested condition must have a filter")
		}
		path, err := parsePath(v.Nested.GetKey())
		if err != nil {
			return nil, err
		}
		// Qdrant's nested key addresses an array of objects: key[] .
		path.items = append(path.items, pathItem{wildcard: true})
		inner, err := compileFilter(v.Nested.GetFilter())
		if err != nil {
			return nil, err
		}
		return func(s *subject) bool {
			for _, x := range path.get(s.payload) {
				obj, ok := x.GetKind().(*qdrant.Value_StructValue)
				if !ok {
					continue
				}
				if inner(&subject{payload: obj.StructValue.GetFields()}) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, unsupported("this condition type")
}

func compileField(fc *qdrant.FieldCondition) (pred, error) {
	path, err := parsePath(fc.GetKey())
	if err != nil {
		return nil, err
	}
	if fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil {
		return nil, unsupported("geo conditions")
	}
	if fc.DatetimeRange != nil {
		return nil, unsupported("datetime ranges")
	}
	var checks []func(*qdrant.Value) bool
	if fc.Match != nil {
		m, err := compileMatch(fc.Match)
		if err != nil {
			return nil, err
		}
		checks = append(checks, m)
	}
	if r := fc.Range; r != nil {
		checks = append(checks, func(v *qdrant.Value) bool {
			f, ok := asF64(v)
			return ok && inRange(f, r)
		})
	}
	vc := fc.ValuesCount
	if vc != nil {
		checks = append(checks, func(v *qdrant.Value) bool { return countOK(vc, valuesCount(v)) })
	}
	if fc.IsEmpty != nil {
		b := *fc.IsEmpty
		checks = append(checks, func(v *qdrant.Value) bool { return isEmptyIs(b, v) })
	}
	if fc.IsNull != nil {
		b := *fc.IsNull
		checks = append(checks, func(v *qdrant.Value) bool { return isNullIs(b, v) })
	}
	checkMatch := func(v *qdrant.Value) bool {
		for _, c := range checks {
			if c(v) {
				return true
			}
		}
		return false
	}
	check := func(v *qdrant.Value) bool {
		switch {
		case vc != nil:
			return countOK(vc, valuesCount(v))
		case fc.IsEmpty != nil:
			return isEmptyIs(*fc.IsEmpty, v)
		case fc.IsNull != nil:
			return isNullIs(*fc.IsNull, v)
		}
		if l, ok := v.GetKind().(*qdrant.Value_ListValue); ok {
			for _, e := range l.ListValue.GetValues() {
				if checkMatch(e) {
					return true
				}
			}
			return false
		}
		return checkMatch(v)
	}
	empty := false
	switch {
	case vc != nil:
		empty = countOK(vc, 0)
	case fc.IsEmpty != nil:
		empty = *fc.IsEmpty
	case fc.IsNull != nil:
		empty = !*fc.IsNull
	}
	return func(s *subject) bool {
		if len(path.items) == 0 { // a top-level key: no slice to build
			v, ok := s.payload[path.first]
			if !ok {
				return empty
			}
			return check(v)
		}
		vals := path.get(s.payload)
		if len(vals) == 0 {
			return empty
		}
		for _, v := range vals {
			if check(v) {
				return true
			}
		}
		return false
	}, nil
}

func compileMatch(m *qdrant.Match) (func(*qdrant.Value) bool, error) {
	switch mv := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			return ok && s.StringValue == mv.Keyword
		}, nil
	case *qdrant.Match_Integer:
		return func(v *qdrant.Value) bool {
			n, ok := v.GetKind().(*qdrant.Value_IntegerValue)
			return ok && n.IntegerValue == mv.Integer
		}, nil
	case *qdrant.Match_Boolean:
		return func(v *qdrant.Value) bool {
			b, ok := v.GetKind().(*qdrant.Value_BoolValue)
			return ok && b.BoolValue == mv.Boolean
		}, nil
	case *qdrant.Match_Text:
		return textMatch(func(s string) bool { return strings.Contains(s, mv.Text) }), nil
	case *qdrant.Match_Phrase:
		return textMatch(func(s string) bool { return strings.Contains(s, mv.Phrase) }), nil
	case *qdrant.Match_TextAny:
		toks := strings.Fields(mv.TextAny)
		return textMatch(func(s string) bool {
			for _, t := range toks {
				if strings.Contains(s, t) {
					return true
				}
			}
			return false
		}), nil
	case *qdrant.Match_Keywords:
		set := stringSet(mv.Keywords.GetStrings())
		return func(v *qdrant.Value) bool {
			s, ok := v.GetKind().(*qdrant.Value_StringValue)
			if !ok {
				return false
			}
			_, in := set[s.StringValue]
			return in
		}, nil
	case *qdrant.Match_Integers:
		set := intSet(mv.Integers.GetIntegers())
		return func(v *qdrant.Value) bool {
			n, ok := v.GetKind().(*qdrant.Value_IntegerValue)
			if !ok {
				return false
			}
			_, in := set[n.IntegerValue]
			return in
		}, nil
	case *qdrant.Match_ExceptKeywords:
		set := stringSet(mv.ExceptKeywords.GetStrings())
		return func(v *qdrant.Value) bool {
			switch k := v.GetKind().(type) {
			case *qdrant.Value_StringValue:
				_, in := set[k.StringValue]
				return !in
			case *qdrant.Value_NullValue, nil:
				return false
			}
			return true
		}, nil
	case *qdrant.Match_ExceptIntegers:
		set := intSet(mv.ExceptIntegers.GetIntegers())
		return func(v *qdrant.Value) bool {
			switch k := v.GetKind().(type) {
			case *qdrant.Value_IntegerValue:
				_, in := set[k.IntegerValue]
				return !in
			case *qdrant.Value_NullValue, nil:
				return false
			}
			return true
		}, nil
	}
	return nil, unsupported("this match type")
}

func textMatch(f func(string) bool) func(*qdrant.Value) bool {
	return func(v *qdrant.Value) bool {
		s, ok := v.GetKind().(*qdrant.Value_StringValue)
		return ok && f(s.StringValue)
	}
}

func stringSet(xs []string) map[string]struct{} {
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

func intSet(xs []int64) map[int64]struct{} {
	m := make(map[int64]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

func isNullValue(v *qdrant.Value) bool {
	switch v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return true
	}
	return false
}

func isEmptyList(v *qdrant.Value) bool {
	l, ok := v.GetKind().(*qdrant.Value_ListValue)
	return ok && len(l.ListValue.GetValues()) == 0
}

// isEmptyIs is Qdrant's check_is_empty(is_empty, value).
func isEmptyIs(b bool, v *qdrant.Value) bool {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return b
	case *qdrant.Value_ListValue:
		return (len(k.ListValue.GetValues()) == 0) == b
	}
	return !b
}

// isNullIs is Qdrant's check_is_null(is_null, value).
func isNullIs(b bool, v *qdrant.Value) bool {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return b
	case *qdrant.Value_ListValue:
		hasNull := false
		for _, e := range k.ListValue.GetValues() {
			hasNull = hasNull || isNullValue(e)
		}
		return hasNull == b
	}
	return !b
}

func valuesCount(v *qdrant.Value) uint64 {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue, nil:
		return 0
	case *qdrant.Value_ListValue:
		return uint64(len(k.ListValue.GetValues()))
	}
	return 1
}

func countOK(c *qdrant.ValuesCount, n uint64) bool {
	return (c.Lt == nil || n < *c.Lt) && (c.Gt == nil || n > *c.Gt) &&
		(c.Lte == nil || n <= *c.Lte) && (c.Gte == nil || n >= *c.Gte)
}

func asF64(v *qdrant.Value) (float64, bool) {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_IntegerValue:
		return float64(k.IntegerValue), true
	case *qdrant.Value_DoubleValue:
		return k.DoubleValue, true
	}
	return 0, false
}

func inRange(f float64, r *qdrant.Range) bool {
	return (r.Lt == nil || f < *r.Lt) && (r.Gt == nil || f > *r.Gt) &&
		(r.Lte == nil || f <= *r.Lte) && (r.Gte == nil || f >= *r.Gte)
}

// A path is a parsed payload key: a.b, a[].b, a[0], "a.b" (quoted key).
type path struct {
	first string
	items []pathItem
}

type pathItem struct {
	key      string
	index    int
	isIndex  bool
	wildcard bool
}

func badPath() error {
	return status.Error(codes.InvalidArgument, "Wrong input: invalid payload key path")
}

func parsePath(s string) (path, error) {
	var p path
	var keys []pathItem
	i := 0
	readKey := func() (string, error) {
		if i < len(s) && s[i] == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return "", badPath()
			}
			k := s[i+1 : i+1+j]
			i += j + 2
			return k, nil
		}
		start := i
		for i < len(s) && s[i] != '.' && s[i] != '[' && s[i] != ']' && s[i] != '"' {
			i++
		}
		if i == start {
			return "", badPath()
		}
		return s[start:i], nil
	}
	for {
		k, err := readKey()
		if err != nil {
			return p, err
		}
		keys = append(keys, pathItem{key: k})
		for i < len(s) && s[i] == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return p, badPath()
			}
			inner := s[i+1 : i+j]
			if inner == "" {
				keys = append(keys, pathItem{wildcard: true})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return p, badPath()
				}
				keys = append(keys, pathItem{index: n, isIndex: true})
			}
			i += j + 1
		}
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return p, badPath()
		}
		i++
	}
	p.first = keys[0].key
	p.items = keys[1:]
	return p, nil
}

// get returns the values at the path, as Qdrant's JsonPath::value_get does:
// arrays are only entered through [] or [n]; the final value is returned
// as is (an array stays one value).
func (p path) get(payload map[string]*qdrant.Value) []*qdrant.Value {
	v, ok := payload[p.first]
	if !ok {
		return nil
	}
	if len(p.items) == 0 {
		return []*qdrant.Value{v}
	}
	var out []*qdrant.Value
	valueGet(p.items, v, &out)
	return out
}

func valueGet(items []pathItem, v *qdrant.Value, out *[]*qdrant.Value) {
	if len(items) == 0 {
		*out = append(*out, v)
		return
	}
	head, tail := items[0], items[1:]
	switch {
	case head.wildcard:
		if l, ok := v.GetKind().(*qdrant.Value_ListValue); ok {
			for _, e := range l.ListValue.GetValues() {
				valueGet(tail, e, out)
			}
		}
	case head.isIndex:
		if l, ok := v.GetKind().(*qdrant.Value_ListValue); ok && head.index < len(l.ListValue.GetValues()) {
			valueGet(tail, l.ListValue.GetValues()[head.index], out)
		}
	default:
		if o, ok := v.GetKind().(*qdrant.Value_StructValue); ok {
			if e, ok := o.StructValue.GetFields()[head.key]; ok {
				valueGet(tail, e, out)
			}
		}
	}
}

// Match evaluates a Qdrant filter on one point with the server's (Qdrant's)
// semantics, without a server: tests use it to compare a translated filter
// with the filter it came from. A nil filter matches.
func Match(f *qdrant.Filter, id *qdrant.PointId, payload map[string]*qdrant.Value) (bool, error) {
	p, err := compileFilter(f)
	if err != nil {
		return false, err
	}
	s := &subject{payload: payload}
	if id != nil {
		if s.id, err = parseID(id); err != nil {
			return false, err
		}
		s.hasID = true
	}
	return p(s), nil
}
