package milvus

import (
	"math"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// callerFilter turns the expression of an intercepted request, with its
// template values, into a filter over spec that selects exactly the rows
// Milvus would: a comparison is false where its field is null, and a not
// stays false there (see internal/milvusexpr). An empty expression is nil
// (every row). Forms the filter language cannot say — like, JSON paths
// and functions, ranges on strings or keys, the payload column — are
// refused with InvalidArgument.
func callerFilter(spec *driver.CollectionSpec, expr string, tv map[string]*schemapb.TemplateValue) (*driver.Filter, error) {
	if isBlank(expr) {
		return nil, nil
	}
	n, err := milvusexpr.Parse(expr)
	if err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "cannot parse the expression")
	}
	vals, err := milvusexpr.TemplateValues(tv)
	if err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "bad template values")
	}
	if n, err = milvusexpr.Bind(n, vals); err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "bad template values")
	}
	if err := milvusexpr.Check(n, specSchema{spec}); err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "invalid expression")
	}
	f, _, err := reverse(spec, n)
	return f, err
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
			return false
		}
	}
	return true
}

// specSchema presents the columns of a collection to milvusexpr.Check.
type specSchema struct{ spec *driver.CollectionSpec }

func (s specSchema) Column(name string) (milvusexpr.Type, milvusexpr.Type, bool) {
	switch name {
	case keyField:
		return milvusexpr.TypeString, 0, true
	case payloadField:
		return milvusexpr.TypeJSON, 0, true
	}
	f, ok := s.spec.Field(name)
	if !ok {
		return 0, 0, false
	}
	switch f.Kind {
	case driver.KindString:
		return milvusexpr.TypeString, 0, true
	case driver.KindInt:
		return milvusexpr.TypeInt, 0, true
	case driver.KindFloat:
		return milvusexpr.TypeFloat, 0, true
	}
	return milvusexpr.TypeBool, 0, true
}

func unsupported(what string) error {
	return driver.Errorf(driver.InvalidArgument, "transparent mode does not support %s in expressions", what)
}

// reverse returns the filter of the rows where n holds and of those where
// it is valid (nil: every row).
func reverse(spec *driver.CollectionSpec, n milvusexpr.Node) (data, valid *driver.Filter, err error) {
	switch t := n.(type) {
	case *milvusexpr.Logical:
		ds := make([]*driver.Filter, 0, len(t.Args))
		var vs []*driver.Filter
		allValid := false
		for _, a := range t.Args {
			d, v, err := reverse(spec, a)
			if err != nil {
				return nil, nil, err
			}
			ds = append(ds, d)
			if v == nil {
				allValid = true
			} else {
				vs = append(vs, v)
			}
		}
		if t.Op == milvusexpr.OpAnd {
			data = driver.And(ds...)
		} else {
			data = driver.Or(ds...)
		}
		if !allValid {
			valid = driver.Or(vs...)
		}
		return data, valid, nil
	case *milvusexpr.Not:
		d, v, err := reverse(spec, t.X)
		if err != nil {
			return nil, nil, err
		}
		nd := driver.Not(d)
		if v != nil {
			nd = driver.And(nd, v)
		}
		return nd, v, nil
	case *milvusexpr.IsNull:
		if err := plainField(spec, t.Field); err != nil {
			return nil, nil, err
		}
		if t.Field.Name == keyField {
			if t.Not {
				return nil, nil, nil
			}
			return driver.None(), nil, nil
		}
		if t.Not {
			return driver.Exists(t.Field.Name), nil, nil
		}
		return driver.IsNull(t.Field.Name), nil, nil
	case *milvusexpr.Compare:
		if err := plainField(spec, t.Field); err != nil {
			return nil, nil, err
		}
		lit, _ := t.Value.(*milvusexpr.Literal)
		if t.Field.Name == keyField {
			if t.Op != milvusexpr.CmpEq && t.Op != milvusexpr.CmpNe {
				return nil, nil, unsupported("ranges on " + keyField)
			}
			s, _ := lit.Value.(string)
			has := driver.HasID(idsOfKeys([]any{s})...)
			if t.Op == milvusexpr.CmpNe {
				return driver.Not(has), nil, nil
			}
			return has, nil, nil
		}
		return compareFilter(spec, t.Field.Name, t.Op, lit.Value)
	case *milvusexpr.Term:
		if err := plainField(spec, t.Field); err != nil {
			return nil, nil, err
		}
		l, _ := t.Values.(*milvusexpr.List)
		if t.Field.Name == keyField {
			has := driver.HasID(idsOfKeys(l.Elems)...)
			if t.Not {
				return driver.Not(has), nil, nil
			}
			return has, nil, nil
		}
		fs, _ := spec.Field(t.Field.Name)
		vals := make([]driver.Value, 0, len(l.Elems))
		for _, e := range l.Elems {
			v, exact := filterValue(fs, e)
			if exact {
				vals = append(vals, v)
			}
		}
		exists := driver.Exists(t.Field.Name)
		if t.Not {
			return driver.And(exists, driver.NotIn(t.Field.Name, vals...)), exists, nil
		}
		return driver.In(t.Field.Name, vals...), exists, nil
	case *milvusexpr.Like:
		return nil, nil, unsupported("like")
	case *milvusexpr.Call:
		return nil, nil, unsupported(t.Name)
	}
	return nil, nil, unsupported("this form")
}

// plainField refuses JSON paths and the payload column.
func plainField(spec *driver.CollectionSpec, f *milvusexpr.Field) error {
	if len(f.Path) > 0 || f.Name == payloadField {
		return unsupported("the payload column and JSON paths")
	}
	if f.Name != keyField {
		if _, ok := spec.Field(f.Name); !ok {
			return driver.Errorf(driver.InvalidArgument, "field %q does not exist", f.Name)
		}
	}
	return nil
}

// idsOfKeys returns the point IDs of the valid keys among vs; other values
// name no point.
func idsOfKeys(vs []any) []driver.PointID {
	ids := make([]driver.PointID, 0, len(vs))
	for _, v := range vs {
		if s, ok := v.(string); ok {
			if id, err := parseKey(s); err == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// filterValue converts a literal for a field of fs; exact is false when no
// value of the field can equal it (a fraction for an integer field).
func filterValue(fs driver.FieldSpec, lit any) (v driver.Value, exact bool) {
	switch x := lit.(type) {
	case string:
		return driver.String(x), true
	case bool:
		return driver.Bool(x), true
	case int64:
		if fs.Kind == driver.KindFloat {
			return driver.Float(float64(x)), true
		}
		return driver.Int(x), true
	case float64:
		if fs.Kind == driver.KindInt {
			if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
				return driver.Int(int64(x)), true
			}
			return driver.Float(x), false
		}
		return driver.Float(x), true
	}
	return driver.Value{}, false
}

// compareFilter is field op value on a declared field.
func compareFilter(spec *driver.CollectionSpec, name string, op milvusexpr.CmpOp, lit any) (data, valid *driver.Filter, err error) {
	fs, _ := spec.Field(name)
	exists := driver.Exists(name)
	v, exact := filterValue(fs, lit)
	switch op {
	case milvusexpr.CmpEq:
		if !exact {
			return driver.None(), exists, nil
		}
		return driver.Eq(name, v), exists, nil
	case milvusexpr.CmpNe:
		if !exact {
			return exists, exists, nil
		}
		return driver.And(exists, driver.Ne(name, v)), exists, nil
	}
	if fs.Kind != driver.KindInt && fs.Kind != driver.KindFloat {
		return nil, nil, unsupported("ranges on strings")
	}
	b := driver.Bound{Value: v, Set: true}
	switch op {
	case milvusexpr.CmpLt:
		return driver.Range(name, driver.Bound{}, b), exists, nil
	case milvusexpr.CmpLe:
		b.Inclusive = true
		return driver.Range(name, driver.Bound{}, b), exists, nil
	case milvusexpr.CmpGt:
		return driver.Range(name, b, driver.Bound{}), exists, nil
	}
	b.Inclusive = true
	return driver.Range(name, b, driver.Bound{}), exists, nil
}
