package milvus

import (
	"math"
	"strconv"
	"strings"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// A filter compiles in two steps. First it becomes a plan: a tree of and /
// or over atoms in negation normal form, with constants folded away.
// Negation is pushed down to the atoms because Milvus keeps a not false on
// a row where its operand compared a null (see internal/milvusexpr), while
// vecguard's Not is the plain complement; each negated atom carries the
// guard ("f is null or ...") that makes the two agree. Then the plan is
// printed: field names, checked against the spec and the expression
// grammar, go into the text; every value goes into a template parameter.

// atomOp is the kind of a plan atom. Each holds exactly on rows where its
// field is present and not null, except isNull.
type atomOp uint8

const (
	atomEq       atomOp = iota + 1 // f == {p}
	atomNe                         // f != {p}
	atomIn                         // f in {p}
	atomNotIn                      // not (f in {p})
	atomCmp                        // f < <= > >= {p}
	atomIsNull                     // f is null
	atomNotNull                    // f is not null
	atomKeyIn                      // _vg_id in {p}
	atomKeyNotIn                   // not (_vg_id in {p})
)

// planKind is the kind of a plan node.
type planKind uint8

const (
	planTrue planKind = iota + 1
	planFalse
	planAnd
	planOr
	planAtom
)

type plan struct {
	kind     planKind
	children []*plan // and, or: at least two
	op       atomOp
	cmp      milvusexpr.CmpOp
	field    string
	value    any // string, int64, float64, bool, or a slice of one of them
}

var (
	truePlan  = &plan{kind: planTrue}
	falsePlan = &plan{kind: planFalse}
)

// expression is a compiled filter.
type expression struct {
	text   string         // "" when the filter is constant
	params map[string]any // template values by name
	always bool           // the filter holds on every row (text is "")
	never  bool           // the filter holds on no row (text is "")
}

// compileFilter compiles f for the collection spec. A nil filter holds on
// every row.
func compileFilter(spec *driver.CollectionSpec, f *driver.Filter) (expression, error) {
	p, err := planOf(spec, f)
	if err != nil {
		return expression{}, err
	}
	return printPlan(p), nil
}

// planOf returns the plan of f.
func planOf(spec *driver.CollectionSpec, f *driver.Filter) (*plan, error) {
	if f == nil {
		return truePlan, nil
	}
	nodes := 0
	return toPlan(spec, f, false, 0, &nodes)
}

func and(ps ...*plan) *plan { return combine(planAnd, ps) }
func or(ps ...*plan) *plan  { return combine(planOr, ps) }

// combine folds constants: true and x is x, false or x is x, and so on.
func combine(kind planKind, ps []*plan) *plan {
	unit, zero := truePlan, falsePlan
	if kind == planOr {
		unit, zero = falsePlan, truePlan
	}
	var kept []*plan
	for _, p := range ps {
		switch p.kind {
		case unit.kind:
			continue
		case zero.kind:
			return zero
		case kind: // (a or b) or c is a or b or c
			kept = append(kept, p.children...)
			continue
		}
		kept = append(kept, p)
	}
	switch len(kept) {
	case 0:
		return unit
	case 1:
		return kept[0]
	}
	return &plan{kind: kind, children: kept}
}

func atom(op atomOp, field string, value any) *plan {
	return &plan{kind: planAtom, op: op, field: field, value: value}
}

func cmpAtom(op milvusexpr.CmpOp, field string, value any) *plan {
	return &plan{kind: planAtom, op: atomCmp, cmp: op, field: field, value: value}
}

// toPlan returns the plan of f, or of not f when neg.
func toPlan(spec *driver.CollectionSpec, f *driver.Filter, neg bool, depth int, nodes *int) (*plan, error) {
	if f == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: nil operand")
	}
	*nodes++
	if *nodes > driver.MaxFilterNodes || depth > driver.MaxFilterDepth {
		return nil, driver.Errorf(driver.InvalidArgument, "filter too large")
	}
	switch f.Op {
	case driver.OpAnd, driver.OpOr:
		ps := make([]*plan, 0, len(f.Children))
		for _, c := range f.Children {
			p, err := toPlan(spec, c, neg, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if (f.Op == driver.OpAnd) != neg { // De Morgan under a not
			return and(ps...), nil
		}
		return or(ps...), nil
	case driver.OpNot:
		if len(f.Children) != 1 {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: not takes exactly one operand")
		}
		return toPlan(spec, f.Children[0], !neg, depth+1, nodes)
	case driver.OpHasID:
		if len(f.IDs) > driver.MaxFilterValues {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: more than %d IDs", driver.MaxFilterValues)
		}
		for _, id := range f.IDs {
			if id.IsZero() {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: empty point ID")
			}
		}
		if len(f.IDs) == 0 {
			return constant(neg), nil
		}
		if neg {
			return atom(atomKeyNotIn, keyField, keysOf(f.IDs)), nil
		}
		return atom(atomKeyIn, keyField, keysOf(f.IDs)), nil
	}
	fs, err := filterField(spec, f.Field)
	if err != nil {
		return nil, err
	}
	// nullGuard is "f is null", false on the tenant field, which cannot be
	// null.
	nullGuard := atom(atomIsNull, f.Field, nil)
	notNull := atom(atomNotNull, f.Field, nil)
	if f.Field == spec.TenantField {
		nullGuard, notNull = falsePlan, truePlan
	}
	switch f.Op {
	case driver.OpEq, driver.OpNe:
		v, err := valueFor(fs, f.Value)
		if err != nil {
			return nil, err
		}
		eq := (f.Op == driver.OpEq) != neg
		if eq {
			return atom(atomEq, f.Field, v), nil
		}
		return or(nullGuard, atom(atomNe, f.Field, v)), nil
	case driver.OpIn, driver.OpNotIn:
		if len(f.Values) > driver.MaxFilterValues {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: more than %d values", driver.MaxFilterValues)
		}
		in := (f.Op == driver.OpIn) != neg
		if len(f.Values) == 0 {
			return constant(!in), nil
		}
		vs, err := listFor(fs, f.Values)
		if err != nil {
			return nil, err
		}
		if in {
			return atom(atomIn, f.Field, vs), nil
		}
		return or(nullGuard, atom(atomNotIn, f.Field, vs)), nil
	case driver.OpExists, driver.OpIsNull:
		if (f.Op == driver.OpExists) != neg {
			return notNull, nil
		}
		return nullGuard, nil
	case driver.OpRange:
		lo, hi, err := rangePlans(fs, f)
		if err != nil {
			return nil, err
		}
		if !neg {
			if r := and(lo.pos, hi.pos); r.kind != planTrue {
				return r, nil
			}
			return notNull, nil // a range holds on every number
		}
		return or(nullGuard, lo.neg, hi.neg), nil
	}
	return nil, driver.Errorf(driver.InvalidArgument, "filter: unknown operator %d", f.Op)
}

func constant(b bool) *plan {
	if b {
		return truePlan
	}
	return falsePlan
}

// filterField returns the spec of a field a filter may name: declared,
// filterable, and a valid bare identifier in an expression.
func filterField(spec *driver.CollectionSpec, name string) (driver.FieldSpec, error) {
	fs, ok := spec.Field(name)
	if !ok || !fs.Filterable {
		return fs, driver.Errorf(driver.InvalidArgument, "filter: field %q is not a declared filterable field", name)
	}
	if !driver.ValidFieldName(name) || !milvusexpr.ValidIdent(name) || name == keyField || name == payloadField {
		return fs, driver.Errorf(driver.InvalidArgument, "filter: field %q cannot be named in a Milvus expression", name)
	}
	return fs, nil
}

// valueFor returns v as the Go type of the field's column: string, int64,
// float64 (an int in a float field is converted) or bool.
func valueFor(fs driver.FieldSpec, v driver.Value) (any, error) {
	switch {
	case fs.Kind == driver.KindString && v.Kind() == driver.KindString:
		if len(v.Str()) > driver.MaxStringLen {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: string value too long")
		}
		return v.Str(), nil
	case fs.Kind == driver.KindInt && v.Kind() == driver.KindInt:
		return v.IntVal(), nil
	case fs.Kind == driver.KindFloat && (v.Kind() == driver.KindFloat || v.Kind() == driver.KindInt):
		x := v.FloatVal()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: value on %q is not finite", fs.Name)
		}
		return x, nil
	case fs.Kind == driver.KindBool && v.Kind() == driver.KindBool:
		return v.BoolVal(), nil
	}
	return nil, driver.Errorf(driver.InvalidArgument, "filter: field %q is %s, value is %s", fs.Name, fs.Kind, v.Kind())
}

// listFor returns vs as a slice of the column's Go type.
func listFor(fs driver.FieldSpec, vs []driver.Value) (any, error) {
	var (
		strs  []string
		ints  []int64
		flts  []float64
		bools []bool
	)
	for _, v := range vs {
		x, err := valueFor(fs, v)
		if err != nil {
			return nil, err
		}
		switch t := x.(type) {
		case string:
			strs = append(strs, t)
		case int64:
			ints = append(ints, t)
		case float64:
			flts = append(flts, t)
		case bool:
			bools = append(bools, t)
		}
	}
	switch fs.Kind {
	case driver.KindString:
		return strs, nil
	case driver.KindInt:
		return ints, nil
	case driver.KindFloat:
		return flts, nil
	}
	return bools, nil
}

// bound is the plan of one end of a range and of its complement, both on
// rows where the field is not null.
type bound struct{ pos, neg *plan }

// rangePlans returns the plans of the two ends of a range filter. On an
// integer field a float bound becomes the equivalent integer bound, found
// with the same float64 comparison Filter.Match makes, so that huge
// integers compare as Match compares them.
func rangePlans(fs driver.FieldSpec, f *driver.Filter) (lo, hi bound, err error) {
	if fs.Kind != driver.KindInt && fs.Kind != driver.KindFloat {
		return lo, hi, driver.Errorf(driver.InvalidArgument, "filter: range on non-numeric field %q", fs.Name)
	}
	if !f.Lower.Set && !f.Upper.Set {
		return lo, hi, driver.Errorf(driver.InvalidArgument, "filter: range on %q has no bound", fs.Name)
	}
	lo, hi = bound{truePlan, falsePlan}, bound{truePlan, falsePlan}
	for _, end := range []struct {
		b     driver.Bound
		lower bool
		out   *bound
	}{{f.Lower, true, &lo}, {f.Upper, false, &hi}} {
		if !end.b.Set {
			continue
		}
		v := end.b.Value
		if v.Kind() != driver.KindInt && v.Kind() != driver.KindFloat {
			return lo, hi, driver.Errorf(driver.InvalidArgument, "filter: range bound on %q is not a number", fs.Name)
		}
		if x := v.FloatVal(); math.IsNaN(x) || math.IsInf(x, 0) {
			return lo, hi, driver.Errorf(driver.InvalidArgument, "filter: range bound on %q is not finite", fs.Name)
		}
		*end.out = boundPlan(fs, v, end.lower, end.b.Inclusive)
	}
	return lo, hi, nil
}

func boundPlan(fs driver.FieldSpec, v driver.Value, lower, inclusive bool) bound {
	op := milvusexpr.CmpGt
	switch {
	case lower && inclusive:
		op = milvusexpr.CmpGe
	case !lower && inclusive:
		op = milvusexpr.CmpLe
	case !lower:
		op = milvusexpr.CmpLt
	}
	var value any
	switch {
	case fs.Kind == driver.KindFloat:
		value = v.FloatVal()
	case v.Kind() == driver.KindInt:
		value = v.IntVal()
	default:
		// An integer field and a float bound: x op f holds exactly for
		// the integers on one side of a threshold.
		f := v.FloatVal()
		var pred func(int64) bool
		switch op {
		case milvusexpr.CmpGt:
			pred = func(x int64) bool { return float64(x) > f }
		case milvusexpr.CmpGe:
			pred = func(x int64) bool { return float64(x) >= f }
		case milvusexpr.CmpLt:
			pred = func(x int64) bool { return !(float64(x) < f) }
		default:
			pred = func(x int64) bool { return !(float64(x) <= f) }
		}
		t, found := firstTrue(pred)
		if lower {
			// x >= t exactly where the bound holds.
			switch {
			case !found:
				return bound{falsePlan, truePlan}
			case t == math.MinInt64:
				return bound{truePlan, falsePlan}
			}
			op, value = milvusexpr.CmpGe, t
		} else {
			// The bound holds exactly for x < t.
			switch {
			case !found:
				return bound{truePlan, falsePlan}
			case t == math.MinInt64:
				return bound{falsePlan, truePlan}
			}
			op, value = milvusexpr.CmpLt, t
		}
	}
	return bound{cmpAtom(op, fs.Name, value), cmpAtom(negateCmp(op), fs.Name, value)}
}

// firstTrue returns the smallest int64 for which the monotone predicate
// (false, then true) holds.
func firstTrue(pred func(int64) bool) (int64, bool) {
	if !pred(math.MaxInt64) {
		return 0, false
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64) // pred(hi) holds
	for lo < hi {
		mid := lo + int64((uint64(hi)-uint64(lo))/2)
		if pred(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, true
}

func negateCmp(op milvusexpr.CmpOp) milvusexpr.CmpOp {
	switch op {
	case milvusexpr.CmpGt:
		return milvusexpr.CmpLe
	case milvusexpr.CmpGe:
		return milvusexpr.CmpLt
	case milvusexpr.CmpLt:
		return milvusexpr.CmpGe
	}
	return milvusexpr.CmpGt
}

// printPlan prints a plan as an expression with numbered parameters.
func printPlan(p *plan) expression {
	switch p.kind {
	case planTrue:
		return expression{always: true}
	case planFalse:
		return expression{never: true}
	}
	pr := &printer{params: map[string]any{}}
	pr.print(p)
	return expression{text: pr.b.String(), params: pr.params}
}

type printer struct {
	b      strings.Builder
	params map[string]any
}

func (pr *printer) param(v any) string {
	name := "p" + strconv.Itoa(len(pr.params))
	pr.params[name] = v
	return "{" + name + "}"
}

func (pr *printer) print(p *plan) {
	switch p.kind {
	case planAnd, planOr:
		sep := " and "
		if p.kind == planOr {
			sep = " or "
		}
		for i, c := range p.children {
			if i > 0 {
				pr.b.WriteString(sep)
			}
			pr.b.WriteByte('(')
			pr.print(c)
			pr.b.WriteByte(')')
		}
		return
	}
	f := p.field
	switch p.op {
	case atomEq:
		pr.b.WriteString(f + " == " + pr.param(p.value))
	case atomNe:
		pr.b.WriteString(f + " != " + pr.param(p.value))
	case atomIn, atomKeyIn:
		pr.b.WriteString(f + " in " + pr.param(p.value))
	case atomNotIn, atomKeyNotIn:
		pr.b.WriteString("not (" + f + " in " + pr.param(p.value) + ")")
	case atomCmp:
		pr.b.WriteString(f + " " + p.cmp.String() + " " + pr.param(p.value))
	case atomIsNull:
		pr.b.WriteString(f + " is null")
	case atomNotNull:
		pr.b.WriteString(f + " is not null")
	}
}

// conjoin returns "(a) and (b)", or either alone when the other is empty.
func conjoin(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") and (" + b + ")"
}
