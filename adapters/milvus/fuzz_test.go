package milvus

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// filterGen builds filters over filterSpec from fuzz bytes and values.
type filterGen struct {
	b    []byte
	strs []string
	ints []int64
	flts []float64
	ids  []driver.PointID
}

func (g *filterGen) next() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *filterGen) value(kind driver.Kind) driver.Value {
	c := int(g.next())
	switch kind {
	case driver.KindString:
		return driver.String(g.strs[c%len(g.strs)])
	case driver.KindInt:
		return driver.Int(g.ints[c%len(g.ints)])
	case driver.KindFloat:
		if c%3 == 0 {
			return driver.Int(g.ints[c%len(g.ints)])
		}
		return driver.Float(g.flts[c%len(g.flts)])
	}
	return driver.Bool(c%2 == 0)
}

var genFields = []driver.FieldSpec{
	{Name: "tenant", Kind: driver.KindString}, {Name: "color", Kind: driver.KindString},
	{Name: "size", Kind: driver.KindInt}, {Name: "price", Kind: driver.KindFloat}, {Name: "active", Kind: driver.KindBool},
}

func (g *filterGen) filter(depth int) *driver.Filter {
	op := g.next() % 14
	if depth > 5 {
		op = 3 + op%10
	}
	f := genFields[int(g.next())%len(genFields)]
	switch op {
	case 0, 1:
		n := int(g.next() % 4)
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
		return driver.Eq(f.Name, g.value(f.Kind))
	case 4:
		return driver.Ne(f.Name, g.value(f.Kind))
	case 5, 6:
		vs := make([]driver.Value, g.next()%4)
		for i := range vs {
			vs[i] = g.value(f.Kind)
		}
		if op == 5 {
			return driver.In(f.Name, vs...)
		}
		return driver.NotIn(f.Name, vs...)
	case 7, 8:
		num := genFields[2+int(g.next())%2]
		r := driver.Range(num.Name, driver.Bound{}, driver.Bound{})
		mode := g.next()
		if mode&1 != 0 || mode&2 == 0 {
			r.Lower = driver.Bound{Value: g.bound(), Set: true, Inclusive: mode&4 != 0}
		}
		if mode&2 != 0 {
			r.Upper = driver.Bound{Value: g.bound(), Set: true, Inclusive: mode&8 != 0}
		}
		return r
	case 9:
		return driver.Exists(f.Name)
	case 10:
		return driver.IsNull(f.Name)
	case 11:
		ids := make([]driver.PointID, g.next()%3)
		for i := range ids {
			ids[i] = g.ids[int(g.next())%len(g.ids)]
		}
		return driver.HasID(ids...)
	}
	return driver.Eq(f.Name, g.value(f.Kind))
}

func (g *filterGen) bound() driver.Value {
	c := int(g.next())
	if c%2 == 0 {
		return driver.Int(g.ints[c%len(g.ints)])
	}
	return driver.Float(g.flts[c%len(g.flts)])
}

// genRows returns rows that take every value the generator can use, and
// nulls, for every field.
func (g *filterGen) rows() []driver.Point {
	var rows []driver.Point
	n := max(len(g.strs), len(g.ints), len(g.flts)) + 2
	for i := range n {
		p := map[string]any{"tenant": g.strs[i%len(g.strs)]}
		if i%5 != 4 {
			p["color"] = g.strs[(i+1)%len(g.strs)]
		}
		if i%4 != 3 {
			p["size"] = g.ints[i%len(g.ints)]
		}
		if i%3 != 2 {
			if i%2 == 0 {
				p["price"] = g.flts[i%len(g.flts)]
			} else {
				p["price"] = float64(g.ints[i%len(g.ints)])
			}
		}
		if i%3 != 1 {
			p["active"] = i%2 == 0
		}
		rows = append(rows, driver.Point{ID: g.ids[i%len(g.ids)], Payload: p})
	}
	return rows
}

// exprSchema presents filterSpec to milvusexpr.Check.
type exprSchema struct{ spec *driver.CollectionSpec }

func (s exprSchema) Column(name string) (milvusexpr.Type, milvusexpr.Type, bool) {
	if name == keyField {
		return milvusexpr.TypeString, 0, true
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

// planShape and astShape describe a plan and a parsed expression the same
// way, with values left out.
func planShape(p *plan) string {
	switch p.kind {
	case planAnd, planOr:
		parts := make([]string, len(p.children))
		for i, c := range p.children {
			parts[i] = planShape(c)
		}
		op := "and"
		if p.kind == planOr {
			op = "or"
		}
		return op + "(" + strings.Join(parts, ",") + ")"
	case planAtom:
		switch p.op {
		case atomEq:
			return "==(" + p.field + ")"
		case atomNe:
			return "!=(" + p.field + ")"
		case atomIn, atomKeyIn:
			return "in(" + p.field + ")"
		case atomNotIn, atomKeyNotIn:
			return "not(in(" + p.field + "))"
		case atomCmp:
			return p.cmp.String() + "(" + p.field + ")"
		case atomIsNull:
			return "null(" + p.field + ")"
		case atomNotNull:
			return "notnull(" + p.field + ")"
		}
	}
	return fmt.Sprintf("const(%v)", p.kind)
}

func astShape(t *testing.T, n milvusexpr.Node) string {
	switch x := n.(type) {
	case *milvusexpr.Logical:
		parts := make([]string, len(x.Args))
		for i, a := range x.Args {
			parts[i] = astShape(t, a)
		}
		op := "and"
		if x.Op == milvusexpr.OpOr {
			op = "or"
		}
		return op + "(" + strings.Join(parts, ",") + ")"
	case *milvusexpr.Not:
		return "not(" + astShape(t, x.X) + ")"
	case *milvusexpr.Compare:
		if _, ok := x.Value.(*milvusexpr.Template); !ok || len(x.Field.Path) > 0 {
			t.Fatalf("a value or a path outside a template parameter: %s", milvusexpr.Format(n))
		}
		return x.Op.String() + "(" + x.Field.Name + ")"
	case *milvusexpr.Term:
		if _, ok := x.Values.(*milvusexpr.Template); !ok || x.Not || len(x.Field.Path) > 0 {
			t.Fatalf("a list outside a template parameter: %s", milvusexpr.Format(n))
		}
		return "in(" + x.Field.Name + ")"
	case *milvusexpr.IsNull:
		if x.Not {
			return "notnull(" + x.Field.Name + ")"
		}
		return "null(" + x.Field.Name + ")"
	}
	t.Fatalf("unexpected node %T in %s", n, milvusexpr.Format(n))
	return ""
}

// FuzzCompileFilter checks that no value and no shape of filter can
// change the structure of the expression: the text parses back to exactly
// the plan's tree, every value is a template parameter, every name is a
// column of the spec, and the expression evaluated with Milvus's null
// rules selects exactly the rows Filter.Match selects.
func FuzzCompileFilter(f *testing.F) {
	f.Add([]byte{3, 1, 0}, "red", `x" or 1==1 or color == "`, int64(2), 1.5)
	f.Add([]byte{2, 0, 0, 2, 3, 1, 1, 7, 2, 5, 9, 4}, "a) or (b", "{p0}", int64(math.MaxInt64), 9.223372036854775e18)
	f.Add([]byte{1, 0, 3, 4, 1, 6, 2, 3, 1, 2, 8, 3, 15, 7, 11}, "", "not (color is null)", int64(-5), -0.5)
	f.Add([]byte{0, 0, 2, 5, 2, 1, 2, 3, 10, 4, 11, 1, 2, 5}, "'; drop", "\\\"", int64(0), 2.0)
	f.Fuzz(func(t *testing.T, shape []byte, s1, s2 string, n int64, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) || len(shape) > 256 {
			return
		}
		g := &filterGen{
			b:    shape,
			strs: []string{s1, s2, "red", ""},
			ints: []int64{n, n + 1, n - 1, 0, 3, math.MaxInt64, math.MinInt64},
			flts: []float64{x, math.Floor(x), x + 0.5, 2.5, -1.5},
			ids:  []driver.PointID{driver.NumID(0), driver.NumID(uint64(n)), driver.MustParseUUID("0a2b6d1e-3c4a-4b5d-9e6f-0a1b2c3d4e5f"), driver.NumID(math.MaxUint64)},
		}
		spec := filterSpec()
		flt := g.filter(0)
		if flt.Validate(spec) != nil {
			return
		}
		p, err := planOf(spec, flt)
		if err != nil {
			t.Fatalf("planOf(%v): %v", flt.Redacted(), err)
		}
		e := printPlan(p)
		rows := g.rows()
		if e.always || e.never {
			for _, r := range rows {
				if flt.Match(r.ID, r.Payload) != e.always {
					t.Fatalf("%v compiled to a constant %v, but row %v disagrees", flt.Redacted(), e.always, r.ID)
				}
			}
			return
		}
		node, err := milvusexpr.Parse(e.text)
		if err != nil {
			t.Fatalf("compiled %v to %q, which does not parse: %v", flt.Redacted(), e.text, err)
		}
		if got, want := astShape(t, node), planShape(p); got != want {
			t.Fatalf("the expression's structure %s differs from the plan's %s", got, want)
		}
		tv := map[string]*schemapb.TemplateValue{}
		for k, v := range e.params {
			if tv[k], err = templateValue(v); err != nil {
				t.Fatal(err)
			}
		}
		vals, err := milvusexpr.TemplateValues(tv)
		if err != nil {
			t.Fatal(err)
		}
		bound, err := milvusexpr.Bind(node, vals)
		if err != nil {
			t.Fatalf("binding %q: %v", e.text, err)
		}
		if err := milvusexpr.Check(bound, exprSchema{spec}); err != nil {
			t.Fatalf("checking %q: %v", e.text, err)
		}
		for _, r := range rows {
			row := milvusexpr.RowFunc(func(col string) any {
				if col == keyField {
					return keyOf(r.ID)
				}
				return r.Payload[col]
			})
			if got, want := milvusexpr.Eval(bound, row), flt.Match(r.ID, r.Payload); got != want {
				t.Fatalf("%v compiled to %q: on row %v (payload kinds %v) Milvus's rules give %v, Match gives %v",
					flt.Redacted(), e.text, r.ID, kinds(r.Payload), got, want)
			}
		}
	})
}

func kinds(p map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range p {
		out[k] = reflect.TypeOf(v).String()
	}
	return out
}
