package milvusexpr

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrType is wrapped by errors about fields and values that do not fit.
var ErrType = errors.New("invalid expression")

// Type is the type of a column as expressions see it.
type Type uint8

// The column types.
const (
	TypeInvalid Type = iota
	TypeInt          // Int8 .. Int64
	TypeFloat        // Float, Double
	TypeString       // VarChar
	TypeBool
	TypeJSON
	TypeArray
)

// Schema tells Check the type of each column.
type Schema interface {
	// Column returns the type of a filterable column; ok=false when the
	// column does not exist or cannot be filtered (a vector).
	Column(name string) (t Type, elem Type, ok bool)
}

// Bind returns a copy of n with every placeholder replaced by its value:
// string, int64, float64, bool or []any of those. A placeholder without a
// value is an error; unused values are ignored.
func Bind(n Node, values map[string]any) (Node, error) {
	var err error
	bindOp := func(o Operand, list bool) Operand {
		t, ok := o.(*Template)
		if !ok || err != nil {
			return o
		}
		v, ok := values[t.Name]
		if !ok {
			err = fmt.Errorf("%w: no value for placeholder {%s}", ErrType, t.Name)
			return o
		}
		if l, isList := v.([]any); isList {
			return &List{Elems: slices.Clone(l)}
		}
		if list {
			err = fmt.Errorf("%w: placeholder {%s} needs a list", ErrType, t.Name)
			return o
		}
		return &Literal{Value: v}
	}
	var walk func(Node) Node
	walk = func(n Node) Node {
		switch t := n.(type) {
		case *Logical:
			c := &Logical{Op: t.Op, Args: make([]Node, len(t.Args))}
			for i, a := range t.Args {
				c.Args[i] = walk(a)
			}
			return c
		case *Not:
			return &Not{X: walk(t.X)}
		case *Compare:
			return &Compare{Op: t.Op, Field: t.Field, Value: bindOp(t.Value, false)}
		case *Term:
			return &Term{Field: t.Field, Values: bindOp(t.Values, true), Not: t.Not}
		case *Like:
			return &Like{Field: t.Field, Pattern: bindOp(t.Pattern, false)}
		case *Call:
			list := strings.HasSuffix(t.Name, "_all") || strings.HasSuffix(t.Name, "_any")
			return &Call{Name: t.Name, Field: t.Field, Value: bindOp(t.Value, list)}
		}
		return n
	}
	out := walk(n)
	return out, err
}

// Check verifies that every field exists and every value fits its field,
// as Milvus's planner does. n must be bound.
func Check(n Node, s Schema) error {
	switch t := n.(type) {
	case *Logical:
		for _, a := range t.Args {
			if err := Check(a, s); err != nil {
				return err
			}
		}
		return nil
	case *Not:
		return Check(t.X, s)
	case *Compare:
		ft, err := fieldType(t.Field, s)
		if err != nil {
			return err
		}
		v, err := literal(t.Value)
		if err != nil {
			return err
		}
		if ft == TypeJSON {
			return nil
		}
		if !fits(ft, v) {
			return fmt.Errorf("%w: cannot compare field %s with a %s", ErrType, t.Field.Name, kindName(v))
		}
		if ft == TypeBool && t.Op != CmpEq && t.Op != CmpNe {
			return fmt.Errorf("%w: booleans only compare with == and !=", ErrType)
		}
		return nil
	case *Term:
		ft, err := fieldType(t.Field, s)
		if err != nil {
			return err
		}
		l, ok := t.Values.(*List)
		if !ok {
			return fmt.Errorf("%w: in needs a list", ErrType)
		}
		if ft == TypeJSON {
			return nil
		}
		for _, v := range l.Elems {
			if !fits(ft, v) {
				return fmt.Errorf("%w: field %s cannot hold a %s", ErrType, t.Field.Name, kindName(v))
			}
		}
		return nil
	case *Like:
		ft, err := fieldType(t.Field, s)
		if err != nil {
			return err
		}
		v, err := literal(t.Pattern)
		if err != nil {
			return err
		}
		if _, ok := v.(string); !ok || ft != TypeString && ft != TypeJSON {
			return fmt.Errorf("%w: like needs a string field and a string pattern", ErrType)
		}
		return nil
	case *IsNull:
		_, err := fieldType(t.Field, s)
		return err
	case *Call:
		ft, err := fieldType(t.Field, s)
		if err != nil {
			return err
		}
		if strings.HasPrefix(t.Name, "json_") && ft != TypeJSON || strings.HasPrefix(t.Name, "array_") && ft != TypeArray && ft != TypeJSON {
			return fmt.Errorf("%w: %s does not apply to field %s", ErrType, t.Name, t.Field.Name)
		}
		if _, ok := t.Value.(*Template); ok {
			return fmt.Errorf("%w: unbound placeholder", ErrType)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown node", ErrType)
}

func fieldType(f *Field, s Schema) (Type, error) {
	t, _, ok := s.Column(f.Name)
	if !ok {
		return 0, fmt.Errorf("%w: field %s does not exist", ErrType, f.Name)
	}
	if len(f.Path) > 0 {
		if t != TypeJSON && t != TypeArray {
			return 0, fmt.Errorf("%w: field %s takes no path", ErrType, f.Name)
		}
		return TypeJSON, nil
	}
	return t, nil
}

func literal(o Operand) (any, error) {
	switch t := o.(type) {
	case *Literal:
		return t.Value, nil
	case *List:
		return t.Elems, nil
	}
	return nil, fmt.Errorf("%w: unbound placeholder", ErrType)
}

func kindName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []any:
		return "list"
	}
	return "value"
}

func fits(t Type, v any) bool {
	switch v.(type) {
	case string:
		return t == TypeString
	case int64:
		return t == TypeInt || t == TypeFloat
	case float64:
		return t == TypeInt || t == TypeFloat
	case bool:
		return t == TypeBool
	}
	return false
}

// Row gives Eval the values of one row. A null (or absent) column returns
// nil. Integers are int64, floats float64; JSON columns give decoded
// values (map[string]any, []any, string, int64, float64, bool, nil); array
// columns give []any.
type Row interface {
	Get(column string) any
}

// RowFunc adapts a function to Row.
type RowFunc func(column string) any

// Get implements Row.
func (f RowFunc) Get(column string) any { return f(column) }

// Eval evaluates a bound, checked expression on a row with Milvus's null
// rules (see the package doc) and reports whether the row matches.
func Eval(n Node, r Row) bool {
	ok, _ := eval(n, r)
	return ok
}

// eval returns the result and whether it is valid (not derived only from
// nulls).
func eval(n Node, r Row) (res, valid bool) {
	switch t := n.(type) {
	case *Logical:
		res, valid = eval(t.Args[0], r)
		for _, a := range t.Args[1:] {
			x, v := eval(a, r)
			if t.Op == OpAnd {
				res = res && x
			} else {
				res = res || x
			}
			valid = valid || v
		}
		return res, valid
	case *Not:
		x, v := eval(t.X, r)
		return !x && v, v
	case *Compare:
		fv, ok := fieldValue(t.Field, r)
		if !ok {
			return false, false
		}
		lit, _ := literal(t.Value)
		c, ok := compare(fv, lit)
		if !ok {
			return false, true
		}
		switch t.Op {
		case CmpEq:
			return c == 0, true
		case CmpNe:
			return c != 0, true
		case CmpLt:
			return c < 0, true
		case CmpLe:
			return c <= 0, true
		case CmpGt:
			return c > 0, true
		case CmpGe:
			return c >= 0, true
		}
		return false, true
	case *Term:
		fv, ok := fieldValue(t.Field, r)
		if !ok {
			return false, false
		}
		l, _ := t.Values.(*List)
		in := false
		if l != nil {
			for _, e := range l.Elems {
				if c, ok := compare(fv, e); ok && c == 0 {
					in = true
					break
				}
			}
		}
		return in != t.Not, true
	case *Like:
		fv, ok := fieldValue(t.Field, r)
		if !ok {
			return false, false
		}
		s, isStr := fv.(string)
		p, _ := literal(t.Pattern)
		ps, _ := p.(string)
		return isStr && like(s, ps), true
	case *IsNull:
		_, ok := fieldValue(t.Field, r)
		return ok == t.Not, true
	case *Call:
		fv, ok := fieldValue(t.Field, r)
		if !ok {
			return false, false
		}
		arr, isArr := fv.([]any)
		if !isArr {
			return false, true
		}
		want, _ := literal(t.Value)
		contains := func(x any) bool {
			for _, e := range arr {
				if equalJSON(e, x) {
					return true
				}
			}
			return false
		}
		switch {
		case strings.HasSuffix(t.Name, "_all"):
			ws, _ := want.([]any)
			for _, w := range ws {
				if !contains(w) {
					return false, true
				}
			}
			return true, true
		case strings.HasSuffix(t.Name, "_any"):
			ws, _ := want.([]any)
			for _, w := range ws {
				if contains(w) {
					return true, true
				}
			}
			return false, true
		}
		return contains(want), true
	}
	return false, false
}

// fieldValue returns the value at f in r; ok=false when it is null or
// absent.
func fieldValue(f *Field, r Row) (any, bool) {
	v := r.Get(f.Name)
	for _, p := range f.Path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			v = m[k]
		case int64:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= int64(len(l)) {
				return nil, false
			}
			v = l[k]
		}
	}
	return v, v != nil
}

// compare orders a row value and a literal: -1, 0, +1, or ok=false when
// they cannot be compared (different kinds).
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		if !x {
			return -1, true
		}
		return 1, true
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpInt(x, y), true
		case float64:
			return cmpIntFloat(x, y), true
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return -cmpIntFloat(y, x), true
		case float64:
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			case x == y:
				return 0, true
			}
		}
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares an integer and a float exactly.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return -1
	case f >= math.MaxInt64: // 2^63
		return -1
	case f < math.MinInt64:
		return 1
	}
	fl := math.Floor(f)
	if c := cmpInt(i, int64(fl)); c != 0 {
		return c
	}
	if fl != f {
		return -1
	}
	return 0
}

func equalJSON(a, b any) bool {
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equalJSON(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	c, ok := compare(a, b)
	return ok && c == 0
}

// like matches s against a pattern where % is any run of bytes, _ is one
// character and \ escapes the next character.
func like(s, pattern string) bool {
	// Positions in s reachable after each pattern element.
	cur := []int{0}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		var next []int
		seen := map[int]bool{}
		add := func(p int) {
			if !seen[p] {
				seen[p] = true
				next = append(next, p)
			}
		}
		switch c {
		case '%':
			if len(cur) == 0 {
				return false
			}
			lo := slices.Min(cur)
			for p := lo; p <= len(s); p++ {
				add(p)
			}
		case '_':
			for _, p := range cur {
				if p < len(s) {
					_, size := utf8.DecodeRuneInString(s[p:])
					add(p + size)
				}
			}
		default:
			if c == '\\' && i+1 < len(pattern) {
				i++
				c = pattern[i]
			}
			for _, p := range cur {
				if p < len(s) && s[p] == c {
					add(p + 1)
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			return false
		}
	}
	return slices.Contains(cur, len(s))
}
