package qdrant

import (
	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// The reverse translation, for transparent mode: a Qdrant filter sent by an
// unchanged client becomes the caller's vecguard filter. The guarded client
// then validates it against the collection's schema and AND-s it with the
// policy, so a caller filter can only narrow what the caller may see.
//
// Conditions vecguard has no equivalent for (text match, geo, datetime,
// values_count, nested, has_vector, JSON paths into objects or arrays) are
// refused with InvalidArgument. is_null is served as vecguard's IsNull
// (absent or null): vecguard does not tell an explicit null from an
// absent key.

// maxMinShouldTerms bounds the expansion of min_should into an Or of Ands.
const maxMinShouldTerms = 256

func unsupportedFilter(what string) error {
	return driver.Errorf(driver.InvalidArgument, "transparent mode does not support %s in filters", what)
}

// fromQdrantFilter translates a Qdrant filter; nil stays nil.
func fromQdrantFilter(f *qc.Filter) (*driver.Filter, error) {
	if f == nil {
		return nil, nil
	}
	return fromFilter(f, 0)
}

func fromFilter(f *qc.Filter, depth int) (*driver.Filter, error) {
	if depth > driver.MaxFilterDepth {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nested deeper than %d", driver.MaxFilterDepth)
	}
	var parts []*driver.Filter
	must, err := fromConds(f.GetMust(), depth)
	if err != nil {
		return nil, err
	}
	parts = append(parts, must...)
	should, err := fromConds(f.GetShould(), depth)
	if err != nil {
		return nil, err
	}
	if len(should) > 0 {
		parts = append(parts, driver.Or(should...))
	}
	mustNot, err := fromConds(f.GetMustNot(), depth)
	if err != nil {
		return nil, err
	}
	for _, c := range mustNot {
		parts = append(parts, driver.Not(c))
	}
	if ms := f.GetMinShould(); ms != nil {
		conds, err := fromConds(ms.GetConditions(), depth)
		if err != nil {
			return nil, err
		}
		m, err := minShould(conds, ms.GetMinCount())
		if err != nil {
			return nil, err
		}
		parts = append(parts, m)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return driver.And(parts...), nil
}

// minShould is "at least k of cs": an Or over the k-subsets.
func minShould(cs []*driver.Filter, k uint64) (*driver.Filter, error) {
	n := uint64(len(cs))
	switch {
	case k == 0:
		return driver.And(), nil
	case k > n:
		return driver.None(), nil
	}
	terms := uint64(1)
	for i := uint64(0); i < k; i++ {
		terms = terms * (n - i) / (i + 1)
		if terms > maxMinShouldTerms {
			return nil, unsupportedFilter("a min_should this large")
		}
	}
	var out []*driver.Filter
	var pick func(start int, chosen []*driver.Filter)
	pick = func(start int, chosen []*driver.Filter) {
		if uint64(len(chosen)) == k {
			out = append(out, driver.And(append([]*driver.Filter(nil), chosen...)...))
			return
		}
		for i := start; i < len(cs); i++ {
			pick(i+1, append(chosen, cs[i]))
		}
	}
	pick(0, nil)
	return driver.Or(out...), nil
}

// fromConds translates conditions, dropping empty ones as Qdrant does.
func fromConds(cs []*qc.Condition, depth int) ([]*driver.Filter, error) {
	var out []*driver.Filter
	for _, c := range cs {
		f, err := fromCond(c, depth)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// plainKey checks that a Qdrant key addresses a top-level payload field.
func plainKey(key string) (string, error) {
	if !driver.ValidFieldName(key) {
		return "", unsupportedFilter("this key (only top-level field names)")
	}
	return key, nil
}

func fromCond(c *qc.Condition, depth int) (*driver.Filter, error) {
	switch v := c.GetConditionOneOf().(type) {
	case nil:
		return nil, nil
	case *qc.Condition_Filter:
		return fromFilter(v.Filter, depth+1)
	case *qc.Condition_IsEmpty:
		key, err := plainKey(v.IsEmpty.GetKey())
		if err != nil {
			return nil, err
		}
		return driver.IsNull(key), nil
	case *qc.Condition_IsNull:
		key, err := plainKey(v.IsNull.GetKey())
		if err != nil {
			return nil, err
		}
		return driver.IsNull(key), nil
	case *qc.Condition_HasId:
		ids := make([]driver.PointID, 0, len(v.HasId.GetHasId()))
		for _, p := range v.HasId.GetHasId() {
			id, err := fromPointID(p)
			if err != nil {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: malformed point ID")
			}
			ids = append(ids, id)
		}
		return driver.HasID(ids...), nil
	case *qc.Condition_Field:
		return fromField(v.Field)
	case *qc.Condition_Nested:
		return nil, unsupportedFilter("nested conditions")
	case *qc.Condition_HasVector:
		return nil, unsupportedFilter("has_vector")
	}
	return nil, unsupportedFilter("this condition")
}

func fromField(fc *qc.FieldCondition) (*driver.Filter, error) {
	key, err := plainKey(fc.GetKey())
	if err != nil {
		return nil, err
	}
	switch {
	case fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil:
		return nil, unsupportedFilter("geo conditions")
	case fc.DatetimeRange != nil:
		return nil, unsupportedFilter("datetime ranges")
	case fc.ValuesCount != nil:
		return nil, unsupportedFilter("values_count")
	}
	// Qdrant ORs the parts a field condition sets.
	var alts []*driver.Filter
	if fc.Match != nil {
		m, err := fromMatch(key, fc.Match)
		if err != nil {
			return nil, err
		}
		alts = append(alts, m)
	}
	if r := fc.Range; r != nil {
		var lo, hi driver.Bound
		switch {
		case r.Gte != nil:
			lo = driver.Bound{Value: driver.Float(*r.Gte), Set: true, Inclusive: true}
		case r.Gt != nil:
			lo = driver.Bound{Value: driver.Float(*r.Gt), Set: true}
		}
		switch {
		case r.Lte != nil:
			hi = driver.Bound{Value: driver.Float(*r.Lte), Set: true, Inclusive: true}
		case r.Lt != nil:
			hi = driver.Bound{Value: driver.Float(*r.Lt), Set: true}
		}
		if (r.Gte != nil && r.Gt != nil) || (r.Lte != nil && r.Lt != nil) {
			return nil, unsupportedFilter("a range with two lower or two upper bounds")
		}
		if !lo.Set && !hi.Set {
			return nil, unsupportedFilter("a range without bounds")
		}
		alts = append(alts, driver.Range(key, lo, hi))
	}
	if fc.IsEmpty != nil {
		if *fc.IsEmpty {
			alts = append(alts, driver.IsNull(key))
		} else {
			alts = append(alts, driver.Exists(key))
		}
	}
	if fc.IsNull != nil {
		if !*fc.IsNull {
			return nil, unsupportedFilter("is_null=false")
		}
		alts = append(alts, driver.IsNull(key))
	}
	switch len(alts) {
	case 0:
		return driver.None(), nil
	case 1:
		return alts[0], nil
	}
	return driver.Or(alts...), nil
}

func fromMatch(key string, m *qc.Match) (*driver.Filter, error) {
	switch v := m.GetMatchValue().(type) {
	case *qc.Match_Keyword:
		return driver.Eq(key, driver.String(v.Keyword)), nil
	case *qc.Match_Integer:
		return driver.Eq(key, driver.Int(v.Integer)), nil
	case *qc.Match_Boolean:
		return driver.Eq(key, driver.Bool(v.Boolean)), nil
	case *qc.Match_Keywords:
		return driver.In(key, stringValues(v.Keywords.GetStrings())...), nil
	case *qc.Match_Integers:
		return driver.In(key, intValues(v.Integers.GetIntegers())...), nil
	case *qc.Match_ExceptKeywords:
		// except is false on absent and null values; NotIn is true there.
		return driver.And(driver.Exists(key), driver.NotIn(key, stringValues(v.ExceptKeywords.GetStrings())...)), nil
	case *qc.Match_ExceptIntegers:
		return driver.And(driver.Exists(key), driver.NotIn(key, intValues(v.ExceptIntegers.GetIntegers())...)), nil
	case *qc.Match_Text, *qc.Match_Phrase, *qc.Match_TextAny:
		return nil, unsupportedFilter("full-text match")
	}
	return nil, unsupportedFilter("this match")
}

func stringValues(xs []string) []driver.Value {
	out := make([]driver.Value, len(xs))
	for i, x := range xs {
		out[i] = driver.String(x)
	}
	return out
}

func intValues(xs []int64) []driver.Value {
	out := make([]driver.Value, len(xs))
	for i, x := range xs {
		out[i] = driver.Int(x)
	}
	return out
}
