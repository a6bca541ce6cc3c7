package milvustest

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Column implements milvusexpr.Schema.
func (c *coll) Column(name string) (milvusexpr.Type, milvusexpr.Type, bool) {
	f := c.fields[name]
	if f == nil {
		return 0, 0, false
	}
	t := typeOf(f.GetDataType())
	return t, typeOf(f.GetElementType()), t != milvusexpr.TypeInvalid
}

func typeOf(t schemapb.DataType) milvusexpr.Type {
	switch t {
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32, schemapb.DataType_Int64:
		return milvusexpr.TypeInt
	case schemapb.DataType_Float, schemapb.DataType_Double:
		return milvusexpr.TypeFloat
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		return milvusexpr.TypeString
	case schemapb.DataType_Bool:
		return milvusexpr.TypeBool
	case schemapb.DataType_JSON:
		return milvusexpr.TypeJSON
	case schemapb.DataType_Array:
		return milvusexpr.TypeArray
	}
	return milvusexpr.TypeInvalid
}

// compiled is a parsed, bound and checked expression.
type compiled struct {
	all  bool            // no expression: every row
	node milvusexpr.Node // the expression
	// data, when translated, is a filter of the embedded store that holds
	// exactly where the expression does; nil means every row.
	data       *driver.Filter
	translated bool
	keyOnly    bool // only compares the primary key (a delete may run unloaded)
}

// compile parses expr with its template values.
func (c *coll) compile(expr string, tv map[string]*schemapb.TemplateValue) (*compiled, error) {
	if strings.TrimSpace(expr) == "" {
		return &compiled{all: true, translated: true}, nil
	}
	n, err := milvusexpr.Parse(expr)
	if err != nil {
		return nil, invalid("cannot parse expression: %v", err)
	}
	vals, err := milvusexpr.TemplateValues(tv)
	if err != nil {
		return nil, invalid("cannot parse expression: %v", err)
	}
	if n, err = milvusexpr.Bind(n, vals); err != nil {
		return nil, invalid("cannot parse expression: %v", err)
	}
	if err := milvusexpr.Check(n, c); err != nil {
		return nil, invalid("cannot parse expression: %v", err)
	}
	cp := &compiled{node: n, keyOnly: c.keyOnly(n)}
	cp.data, _, cp.translated = c.translate(n)
	return cp, nil
}

func (c *coll) keyOnly(n milvusexpr.Node) bool {
	switch t := n.(type) {
	case *milvusexpr.Compare:
		return t.Field.Name == c.pk.GetName() && t.Op == milvusexpr.CmpEq
	case *milvusexpr.Term:
		return t.Field.Name == c.pk.GetName() && !t.Not
	case *milvusexpr.Logical:
		if t.Op != milvusexpr.OpOr {
			return false
		}
		for _, a := range t.Args {
			if !c.keyOnly(a) {
				return false
			}
		}
		return true
	}
	return false
}

// translate returns filters of the embedded store for where n holds (data)
// and where it is valid (valid; nil means every row), following Milvus's
// null rules, or ok=false when n uses something the store's filters cannot
// say (a JSON path, like, a function, a string range, an integer compared
// with a float).
func (c *coll) translate(n milvusexpr.Node) (data, valid *driver.Filter, ok bool) {
	switch t := n.(type) {
	case *milvusexpr.Logical:
		ds := make([]*driver.Filter, 0, len(t.Args))
		var vs []*driver.Filter
		allValid := false
		for _, a := range t.Args {
			d, v, ok := c.translate(a)
			if !ok {
				return nil, nil, false
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
		return data, valid, true
	case *milvusexpr.Not:
		d, v, ok := c.translate(t.X)
		if !ok {
			return nil, nil, false
		}
		nd := driver.Not(d)
		if v != nil {
			nd = driver.And(nd, v)
		}
		return nd, v, true
	case *milvusexpr.IsNull:
		if len(t.Field.Path) > 0 || typeOf(c.fields[t.Field.Name].GetDataType()) == milvusexpr.TypeJSON {
			return nil, nil, false
		}
		if t.Not {
			return driver.Exists(t.Field.Name), nil, true
		}
		return driver.IsNull(t.Field.Name), nil, true
	case *milvusexpr.Compare:
		lit, _ := t.Value.(*milvusexpr.Literal)
		v, ok := c.storeValue(t.Field, lit.Value)
		if !ok {
			return nil, nil, false
		}
		name := t.Field.Name
		exists := driver.Exists(name)
		incl := func(in bool) driver.Bound { return driver.Bound{Value: v, Set: true, Inclusive: in} }
		switch t.Op {
		case milvusexpr.CmpEq:
			return driver.Eq(name, v), exists, true
		case milvusexpr.CmpNe:
			return driver.And(exists, driver.Ne(name, v)), exists, true
		}
		if v.Kind() != driver.KindInt && v.Kind() != driver.KindFloat {
			return nil, nil, false // a string range: evaluated row by row
		}
		switch t.Op {
		case milvusexpr.CmpLt:
			return driver.Range(name, driver.Bound{}, incl(false)), exists, true
		case milvusexpr.CmpLe:
			return driver.Range(name, driver.Bound{}, incl(true)), exists, true
		case milvusexpr.CmpGt:
			return driver.Range(name, incl(false), driver.Bound{}), exists, true
		case milvusexpr.CmpGe:
			return driver.Range(name, incl(true), driver.Bound{}), exists, true
		}
	case *milvusexpr.Term:
		l, _ := t.Values.(*milvusexpr.List)
		vals := make([]driver.Value, 0, len(l.Elems))
		for _, e := range l.Elems {
			v, ok := c.storeValue(t.Field, e)
			if !ok {
				return nil, nil, false
			}
			vals = append(vals, v)
		}
		exists := driver.Exists(t.Field.Name)
		if t.Not {
			return driver.And(exists, driver.NotIn(t.Field.Name, vals...)), exists, true
		}
		return driver.In(t.Field.Name, vals...), exists, true
	}
	return nil, nil, false
}

// storeValue converts a literal compared with a plain scalar column to a
// filter value that compares as Milvus would, or ok=false.
func (c *coll) storeValue(f *milvusexpr.Field, lit any) (driver.Value, bool) {
	if len(f.Path) > 0 {
		return driver.Value{}, false
	}
	switch typeOf(c.fields[f.Name].GetDataType()) {
	case milvusexpr.TypeString:
		if s, ok := lit.(string); ok {
			return driver.String(s), true
		}
	case milvusexpr.TypeBool:
		if b, ok := lit.(bool); ok {
			return driver.Bool(b), true
		}
	case milvusexpr.TypeInt:
		if n, ok := lit.(int64); ok {
			return driver.Int(n), true
		}
	case milvusexpr.TypeFloat:
		switch x := lit.(type) {
		case int64:
			return driver.Float(float64(x)), true
		case float64:
			return driver.Float(x), true
		}
	}
	return driver.Value{}, false
}

// match is a row an expression selected.
type match struct {
	id driver.PointID
	pk any
}

// matching returns the rows where cp holds, in primary-key order. c.mu
// is held.
func (c *coll) matching(ctx context.Context, cp *compiled) ([]match, error) {
	pkName := c.pk.GetName()
	var out []match
	proj := driver.Projection{Fields: []string{pkName}}
	var flt *driver.Filter
	if cp.translated {
		flt = cp.data
	} else {
		proj = driver.Projection{All: true}
	}
	var after driver.PointID
	for {
		pg, err := c.mem.Read(ctx, &driver.ReadRequest{Filter: flt, Limit: driver.MaxLimit, After: after, Payload: proj})
		if err != nil {
			return nil, err
		}
		for _, p := range pg.Points {
			if !cp.translated && !milvusexpr.Eval(cp.node, c.rowOf(p.Payload)) {
				continue
			}
			out = append(out, match{id: p.ID, pk: p.Payload[pkName]})
		}
		if pg.Next.IsZero() {
			break
		}
		after = pg.Next
	}
	sortByKey(out)
	return out, nil
}

func sortByKey(ms []match) {
	slices.SortFunc(ms, func(a, b match) int {
		switch x := a.pk.(type) {
		case int64:
			y, _ := b.pk.(int64)
			return cmp.Compare(x, y)
		case string:
			y, _ := b.pk.(string)
			return strings.Compare(x, y)
		}
		return 0
	})
}

// rowOf presents a stored payload to milvusexpr.Eval: JSON columns are
// decoded when asked for.
func (c *coll) rowOf(payload map[string]any) milvusexpr.Row {
	return milvusexpr.RowFunc(func(col string) any {
		v := payload[col]
		if s, ok := v.(string); ok && c.fields[col].GetDataType() == schemapb.DataType_JSON {
			d, err := decodeJSON(s)
			if err != nil {
				return nil
			}
			return d
		}
		return v
	})
}
