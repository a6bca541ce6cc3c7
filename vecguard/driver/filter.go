package driver

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Op is the kind of a filter node.
type Op uint8

// The filter node kinds.
const (
	OpAnd    Op = iota + 1 // all children match; no children: true
	OpOr                   // some child matches; no children: false
	OpNot                  // the one child does not match
	OpEq                   // field is present, not null, and equal to Value
	OpNe                   // NOT OpEq: also true when the field is absent or null
	OpIn                   // field equals one of Values
	OpNotIn                // NOT OpIn
	OpRange                // numeric field within the bounds
	OpExists               // field is present and not null
	OpIsNull               // NOT OpExists: field is absent or null
	OpHasID                // the point's ID is one of IDs
)

var opNames = [...]string{
	OpAnd: "and", OpOr: "or", OpNot: "not", OpEq: "==", OpNe: "!=", OpIn: "in", OpNotIn: "not in",
	OpRange: "range", OpExists: "exists", OpIsNull: "is null", OpHasID: "has id",
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Value is a typed scalar in a filter: a string, an int64, a float64 or a bool.
type Value struct {
	kind Kind
	s    string
	n    int64
	f    float64
	b    bool
}

// String returns a string filter value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int returns an integer filter value.
func Int(n int64) Value { return Value{kind: KindInt, n: n} }

// Float returns a floating-point filter value.
func Float(f float64) Value { return Value{kind: KindFloat, f: f} }

// Bool returns a boolean filter value.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// ValueOf converts a Go scalar (string, bool, any integer or float type) to a
// Value.
func ValueOf(v any) (Value, error) {
	nv, err := NormalizeValue(v, 0)
	if err != nil {
		return Value{}, err
	}
	switch t := nv.(type) {
	case string:
		return String(t), nil
	case int64:
		return Int(t), nil
	case float64:
		return Float(t), nil
	case bool:
		return Bool(t), nil
	}
	return Value{}, Errorf(InvalidArgument, "filter value must be a string, number or bool, not %T", v)
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Str returns a string value.
func (v Value) Str() string { return v.s }

// IntVal returns an integer value.
func (v Value) IntVal() int64 { return v.n }

// FloatVal returns the value as a float64 (ints converted).
func (v Value) FloatVal() float64 {
	if v.kind == KindInt {
		return float64(v.n)
	}
	return v.f
}

// BoolVal returns a boolean value.
func (v Value) BoolVal() bool { return v.b }

// Any returns the value as a normalized payload value (string, int64,
// float64 or bool).
func (v Value) Any() any {
	switch v.kind {
	case KindString:
		return v.s
	case KindInt:
		return v.n
	case KindFloat:
		return v.f
	case KindBool:
		return v.b
	}
	return nil
}

// Literal returns the value as a literal for logs: quoted strings, numbers,
// booleans. Use Filter.Format with a redactor for anything that may be logged.
func (v Value) Literal() string {
	switch v.kind {
	case KindString:
		return strconv.Quote(v.s)
	case KindInt:
		return strconv.FormatInt(v.n, 10)
	case KindFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(v.b)
	}
	return "?"
}

// Bound is one end of a range.
type Bound struct {
	Value     Value
	Set       bool
	Inclusive bool
}

// Filter is a node of the neutral filter language. A nil *Filter matches
// every point. Filters are plain data: build them with the constructors, never
// by formatting strings, and treat them as immutable once built.
type Filter struct {
	Op       Op
	Field    string    // comparisons, range, exists, is null
	Value    Value     // eq, ne
	Values   []Value   // in, not in
	Lower    Bound     // range
	Upper    Bound     // range
	IDs      []PointID // has id
	Children []*Filter // and, or (any number), not (exactly one)
}

// And matches points that match all fs. nil operands are dropped.
func And(fs ...*Filter) *Filter { return &Filter{Op: OpAnd, Children: compact(fs)} }

// Or matches points that match any of fs. nil operands match everything, so
// an Or with a nil operand is nil.
func Or(fs ...*Filter) *Filter {
	for _, f := range fs {
		if f == nil {
			return nil
		}
	}
	return &Filter{Op: OpOr, Children: append([]*Filter(nil), fs...)}
}

// Not matches points that do not match f. Not(nil) matches nothing.
func Not(f *Filter) *Filter {
	if f == nil {
		f = And()
	}
	return &Filter{Op: OpNot, Children: []*Filter{f}}
}

// None returns a filter that matches nothing.
func None() *Filter { return &Filter{Op: OpOr} }

// Eq matches points whose field equals v.
func Eq(field string, v Value) *Filter { return &Filter{Op: OpEq, Field: field, Value: v} }

// Ne matches points whose field is absent, null, or not equal to v.
func Ne(field string, v Value) *Filter { return &Filter{Op: OpNe, Field: field, Value: v} }

// In matches points whose field equals one of vs. In with no values matches nothing.
func In(field string, vs ...Value) *Filter {
	return &Filter{Op: OpIn, Field: field, Values: append([]Value(nil), vs...)}
}

// NotIn matches points whose field is absent, null, or equal to none of vs.
func NotIn(field string, vs ...Value) *Filter {
	return &Filter{Op: OpNotIn, Field: field, Values: append([]Value(nil), vs...)}
}

// Range matches points whose numeric field lies within the bounds. Use Gt,
// Gte, Lt and Lte for one-sided ranges.
func Range(field string, lower, upper Bound) *Filter {
	return &Filter{Op: OpRange, Field: field, Lower: lower, Upper: upper}
}

// Gt matches field > v.
func Gt(field string, v Value) *Filter { return Range(field, Bound{Value: v, Set: true}, Bound{}) }

// Gte matches field >= v.
func Gte(field string, v Value) *Filter {
	return Range(field, Bound{Value: v, Set: true, Inclusive: true}, Bound{})
}

// Lt matches field < v.
func Lt(field string, v Value) *Filter { return Range(field, Bound{}, Bound{Value: v, Set: true}) }

// Lte matches field <= v.
func Lte(field string, v Value) *Filter {
	return Range(field, Bound{}, Bound{Value: v, Set: true, Inclusive: true})
}

// Exists matches points whose field is present and not null.
func Exists(field string) *Filter { return &Filter{Op: OpExists, Field: field} }

// IsNull matches points whose field is absent or null.
func IsNull(field string) *Filter { return &Filter{Op: OpIsNull, Field: field} }

// HasID matches points whose ID is one of ids.
func HasID(ids ...PointID) *Filter {
	return &Filter{Op: OpHasID, IDs: append([]PointID(nil), ids...)}
}

func compact(fs []*Filter) []*Filter {
	out := make([]*Filter, 0, len(fs))
	for _, f := range fs {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}

// Schema tells filter validation which fields are filterable and of what kind.
type Schema interface {
	FilterField(name string) (Kind, bool)
}

// Validate checks f against a schema: known node kinds, declared filterable
// fields, value kinds that fit the field kinds (an int fits a float field),
// numeric ranges, and the size limits. A nil filter is valid. Validate does
// not change f.
func (f *Filter) Validate(s Schema) error {
	if f == nil {
		return nil
	}
	nodes := 0
	return f.validate(s, 0, &nodes)
}

func (f *Filter) validate(s Schema, depth int, nodes *int) error {
	if f == nil {
		return Errorf(InvalidArgument, "filter: nil operand")
	}
	*nodes++
	if *nodes > MaxFilterNodes {
		return Errorf(InvalidArgument, "filter: more than %d nodes", MaxFilterNodes)
	}
	if depth > MaxFilterDepth {
		return Errorf(InvalidArgument, "filter: nested deeper than %d", MaxFilterDepth)
	}
	switch f.Op {
	case OpAnd, OpOr, OpNot:
		if f.Op == OpNot && len(f.Children) != 1 {
			return Errorf(InvalidArgument, "filter: not takes exactly one operand")
		}
		for _, c := range f.Children {
			if err := c.validate(s, depth+1, nodes); err != nil {
				return err
			}
		}
		return nil
	case OpHasID:
		if len(f.IDs) > MaxFilterValues {
			return Errorf(InvalidArgument, "filter: more than %d IDs", MaxFilterValues)
		}
		for _, id := range f.IDs {
			if id.IsZero() {
				return Errorf(InvalidArgument, "filter: empty point ID")
			}
		}
		return nil
	}
	kind, ok := s.FilterField(f.Field)
	if !ok {
		return Errorf(InvalidArgument, "filter: field %q is not a declared filterable field", f.Field)
	}
	switch f.Op {
	case OpEq, OpNe:
		return checkValue(f.Field, kind, f.Value)
	case OpIn, OpNotIn:
		if len(f.Values) > MaxFilterValues {
			return Errorf(InvalidArgument, "filter: more than %d values", MaxFilterValues)
		}
		for _, v := range f.Values {
			if err := checkValue(f.Field, kind, v); err != nil {
				return err
			}
		}
		return nil
	case OpRange:
		if kind != KindInt && kind != KindFloat {
			return Errorf(InvalidArgument, "filter: range on non-numeric field %q", f.Field)
		}
		if !f.Lower.Set && !f.Upper.Set {
			return Errorf(InvalidArgument, "filter: range on %q has no bound", f.Field)
		}
		for _, b := range []Bound{f.Lower, f.Upper} {
			if !b.Set {
				continue
			}
			if b.Value.kind != KindInt && b.Value.kind != KindFloat {
				return Errorf(InvalidArgument, "filter: range bound on %q is not a number", f.Field)
			}
			if b.Value.kind == KindFloat && (math.IsNaN(b.Value.f) || math.IsInf(b.Value.f, 0)) {
				return Errorf(InvalidArgument, "filter: range bound on %q is not finite", f.Field)
			}
		}
		return nil
	case OpExists, OpIsNull:
		return nil
	}
	return Errorf(InvalidArgument, "filter: unknown operator %d", f.Op)
}

func checkValue(field string, kind Kind, v Value) error {
	switch {
	case v.kind == kind:
	case kind == KindFloat && v.kind == KindInt:
	default:
		return Errorf(InvalidArgument, "filter: field %q is %s, value is %s", field, kind, v.kind)
	}
	if v.kind == KindString && len(v.s) > MaxStringLen {
		return Errorf(InvalidArgument, "filter: string value too long")
	}
	if v.kind == KindFloat && (math.IsNaN(v.f) || math.IsInf(v.f, 0)) {
		return Errorf(InvalidArgument, "filter: value on %q is not finite", field)
	}
	return nil
}

// Match evaluates f against a point's ID and normalized payload. A nil filter
// matches. Unknown node kinds match nothing (fail closed).
func (f *Filter) Match(id PointID, payload map[string]any) bool {
	if f == nil {
		return true
	}
	switch f.Op {
	case OpAnd:
		for _, c := range f.Children {
			if !c.Match(id, payload) {
				return false
			}
		}
		return true
	case OpOr:
		for _, c := range f.Children {
			if c.Match(id, payload) {
				return true
			}
		}
		return false
	case OpNot:
		if len(f.Children) != 1 {
			return false
		}
		return !f.Children[0].Match(id, payload)
	case OpEq:
		return valueEqual(payload[f.Field], f.Value)
	case OpNe:
		return !valueEqual(payload[f.Field], f.Value)
	case OpIn:
		return valueIn(payload[f.Field], f.Values)
	case OpNotIn:
		return !valueIn(payload[f.Field], f.Values)
	case OpRange:
		return inRange(payload[f.Field], f.Lower, f.Upper)
	case OpExists:
		return payload[f.Field] != nil
	case OpIsNull:
		return payload[f.Field] == nil
	case OpHasID:
		for _, x := range f.IDs {
			if x == id {
				return true
			}
		}
		return false
	}
	return false
}

func valueIn(pv any, vs []Value) bool {
	for _, v := range vs {
		if valueEqual(pv, v) {
			return true
		}
	}
	return false
}

func valueEqual(pv any, v Value) bool {
	switch t := pv.(type) {
	case string:
		return v.kind == KindString && t == v.s
	case bool:
		return v.kind == KindBool && t == v.b
	case int64:
		switch v.kind {
		case KindInt:
			return t == v.n
		case KindFloat:
			return float64(t) == v.f
		}
	case float64:
		switch v.kind {
		case KindInt:
			return t == float64(v.n)
		case KindFloat:
			return t == v.f
		}
	}
	return false
}

// cmpNum compares a payload number with a numeric value: -1, 0, +1, or
// ok=false when pv is not a number, v is not numeric, or either is NaN (so
// a malformed bound matches nothing).
func cmpNum(pv any, v Value) (int, bool) {
	if v.kind != KindInt && v.kind != KindFloat {
		return 0, false
	}
	switch t := pv.(type) {
	case int64:
		if v.kind == KindInt {
			switch {
			case t < v.n:
				return -1, true
			case t > v.n:
				return 1, true
			}
			return 0, true
		}
		return cmpFloat(float64(t), v.FloatVal())
	case float64:
		return cmpFloat(t, v.FloatVal())
	}
	return 0, false
}

func cmpFloat(a, b float64) (int, bool) {
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	case a == b:
		return 0, true
	}
	return 0, false
}

func inRange(pv any, lo, hi Bound) bool {
	if lo.Set {
		c, ok := cmpNum(pv, lo.Value)
		if !ok || c < 0 || (c == 0 && !lo.Inclusive) {
			return false
		}
	}
	if hi.Set {
		c, ok := cmpNum(pv, hi.Value)
		if !ok || c > 0 || (c == 0 && !hi.Inclusive) {
			return false
		}
	}
	if !lo.Set && !hi.Set {
		_, ok := cmpNum(pv, Value{kind: KindInt})
		return ok
	}
	return true
}

// Fields returns the distinct field names f refers to, in first-seen order.
func (f *Filter) Fields() []string {
	var out []string
	seen := map[string]bool{}
	f.Walk(func(n *Filter) {
		if n.Field != "" && !seen[n.Field] {
			seen[n.Field] = true
			out = append(out, n.Field)
		}
	})
	return out
}

// Walk calls fn for every node of f in depth-first pre-order.
func (f *Filter) Walk(fn func(*Filter)) {
	if f == nil {
		return
	}
	fn(f)
	for _, c := range f.Children {
		c.Walk(fn)
	}
}

// Clone returns a deep copy of f.
func (f *Filter) Clone() *Filter {
	if f == nil {
		return nil
	}
	c := *f
	c.Values = append([]Value(nil), f.Values...)
	c.IDs = append([]PointID(nil), f.IDs...)
	if f.Children != nil {
		c.Children = make([]*Filter, len(f.Children))
		for i, ch := range f.Children {
			c.Children[i] = ch.Clone()
		}
	}
	return &c
}

// Equal reports whether f and g are the same filter node for node: same
// operators, fields, values (of the same kind), bounds, IDs and children in
// the same order. Equal filters match the same points; filters that are
// not Equal may still do so (A∧B and B∧A). Two nil filters are Equal.
func (f *Filter) Equal(g *Filter) bool {
	if f == nil || g == nil {
		return f == g
	}
	bound := func(a, b Bound) bool { return a.Set == b.Set && a.Inclusive == b.Inclusive && a.Value.same(b.Value) }
	if f.Op != g.Op || f.Field != g.Field || !f.Value.same(g.Value) || !bound(f.Lower, g.Lower) || !bound(f.Upper, g.Upper) ||
		!slices.EqualFunc(f.Values, g.Values, Value.same) || !slices.Equal(f.IDs, g.IDs) || len(f.Children) != len(g.Children) {
		return false
	}
	for i := range f.Children {
		if !f.Children[i].Equal(g.Children[i]) {
			return false
		}
	}
	return true
}

// same reports whether v and w are the same value: the same kind and the
// same bits (a NaN is the same as itself).
func (v Value) same(w Value) bool {
	return v.kind == w.kind && v.s == w.s && v.n == w.n && v.b == w.b && math.Float64bits(v.f) == math.Float64bits(w.f)
}

// String renders f with its literal values. Do not log it where values may be
// sensitive: use Format with a redactor (package audit has one), or Redacted.
func (f *Filter) String() string { return f.Format(Value.Literal) }

// Redacted renders f with every value replaced by "?", as OpenTelemetry's
// db.query.text asks.
func (f *Filter) Redacted() string { return f.Format(func(Value) string { return "?" }) }

// Format renders f, writing each value with lit. The output is for humans
// and logs; no database ever receives it.
func (f *Filter) Format(lit func(Value) string) string {
	var b strings.Builder
	f.format(&b, lit)
	return b.String()
}

func (f *Filter) format(b *strings.Builder, lit func(Value) string) {
	if f == nil {
		b.WriteString("true")
		return
	}
	switch f.Op {
	case OpAnd, OpOr:
		if len(f.Children) == 0 {
			if f.Op == OpAnd {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
			return
		}
		b.WriteByte('(')
		for i, c := range f.Children {
			if i > 0 {
				b.WriteString(" " + f.Op.String() + " ")
			}
			c.format(b, lit)
		}
		b.WriteByte(')')
	case OpNot:
		b.WriteString("not ")
		if len(f.Children) == 1 {
			f.Children[0].format(b, lit)
		}
	case OpEq, OpNe:
		b.WriteString(f.Field + " " + f.Op.String() + " " + lit(f.Value))
	case OpIn, OpNotIn:
		b.WriteString(f.Field + " " + f.Op.String() + " [")
		for i, v := range f.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(lit(v))
		}
		b.WriteByte(']')
	case OpRange:
		b.WriteByte('(')
		if f.Lower.Set {
			b.WriteString(lit(f.Lower.Value))
			if f.Lower.Inclusive {
				b.WriteString(" <= ")
			} else {
				b.WriteString(" < ")
			}
		}
		b.WriteString(f.Field)
		if f.Upper.Set {
			if f.Upper.Inclusive {
				b.WriteString(" <= ")
			} else {
				b.WriteString(" < ")
			}
			b.WriteString(lit(f.Upper.Value))
		}
		b.WriteByte(')')
	case OpExists:
		b.WriteString(f.Field + " exists")
	case OpIsNull:
		b.WriteString(f.Field + " is null")
	case OpHasID:
		b.WriteString("id in [")
		for i, id := range f.IDs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(id.String())
		}
		b.WriteByte(']')
	default:
		b.WriteString("<invalid>")
	}
}
