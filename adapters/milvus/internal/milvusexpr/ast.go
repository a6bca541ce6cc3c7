// Package milvusexpr parses and evaluates the subset of Milvus's boolean
// expression language that vecguard emits and that users commonly write:
//
//	comparisons   a == v, a != v, a < v, a <= v, a > v, a >= v
//	membership    a in [v, ...], a not in [v, ...], a in {p}
//	null tests    a is null, a is not null
//	patterns      a like "prefix%"
//	functions     json_contains(a["k"], v), array_contains(a, v) and their
//	              _all / _any forms
//	logic         and (&&), or (||), not (!), parentheses
//	values        strings ("..." or '...'), integers, floats, true, false,
//	              lists, and template placeholders {name}
//
// Everything the parser accepts means the same in Milvus; it refuses some
// forms Milvus accepts (arithmetic, chained ranges, field-to-field
// comparisons, a "not" before an unparenthesized comparison), so a
// difference shows up as an error rather than as a different meaning.
//
// Eval follows Milvus's treatment of null: a predicate on a null field is
// false and "invalid"; not flips a result and keeps it false where the
// operand was invalid; and / or combine the results and are valid where
// either side is. So not (a == 1) is false on a row where a is null, and
// filters that must hold on nulls say so with "a is null or ...".
package milvusexpr

import (
	"strconv"
	"strings"
)

// Node is a boolean expression.
type Node interface{ node() }

// Operand is a value position: a field, a literal, a list or a template
// placeholder.
type Operand interface{ operand() }

// LogicalOp is and or or.
type LogicalOp uint8

// The logical operators.
const (
	OpAnd LogicalOp = iota + 1
	OpOr
)

// Logical is a chain of operands joined by one operator. Parentheses are
// kept: (a and b) and c is a Logical inside a Logical.
type Logical struct {
	Op   LogicalOp
	Args []Node
}

// Not negates X.
type Not struct{ X Node }

// CmpOp is a comparison operator.
type CmpOp uint8

// The comparison operators.
const (
	CmpEq CmpOp = iota + 1
	CmpNe
	CmpLt
	CmpLe
	CmpGt
	CmpGe
)

var cmpNames = [...]string{CmpEq: "==", CmpNe: "!=", CmpLt: "<", CmpLe: "<=", CmpGt: ">", CmpGe: ">="}

func (o CmpOp) String() string {
	if int(o) < len(cmpNames) && cmpNames[o] != "" {
		return cmpNames[o]
	}
	return "?"
}

// flip returns the operator with its operands swapped: a < b is b > a.
func (o CmpOp) flip() CmpOp {
	switch o {
	case CmpLt:
		return CmpGt
	case CmpLe:
		return CmpGe
	case CmpGt:
		return CmpLt
	case CmpGe:
		return CmpLe
	}
	return o
}

// Compare compares a field with a value. The parser puts the field in
// Field even when it was written on the right (1 < a is a > 1).
type Compare struct {
	Op    CmpOp
	Field *Field
	Value Operand // *Literal or *Template
}

// Term is field in values, or field not in values.
type Term struct {
	Field  *Field
	Values Operand // *List or *Template
	Not    bool
}

// Like is field like pattern.
type Like struct {
	Field   *Field
	Pattern Operand // *Literal (string) or *Template
}

// IsNull is field is null, or field is not null.
type IsNull struct {
	Field *Field
	Not   bool
}

// Call is a function: json_contains, json_contains_all, json_contains_any,
// array_contains, array_contains_all or array_contains_any.
type Call struct {
	Name  string // lower case
	Field *Field
	Value Operand
}

func (*Logical) node() {}
func (*Not) node()     {}
func (*Compare) node() {}
func (*Term) node()    {}
func (*Like) node()    {}
func (*IsNull) node()  {}
func (*Call) node()    {}

// Field names a column, optionally with a JSON path: meta["a"][0].
type Field struct {
	Name string
	Path []any // string keys and int64 indexes
}

// Literal is a constant: string, int64, float64 or bool.
type Literal struct{ Value any }

// List is a bracketed list of literals.
type List struct{ Elems []any }

// Template is a placeholder {Name} whose value travels beside the text.
type Template struct{ Name string }

func (*Field) operand()    {}
func (*Literal) operand()  {}
func (*List) operand()     {}
func (*Template) operand() {}

// Format renders n in a canonical form that Parse reads back to the same
// tree: every Logical and Not operand in parentheses, strings double
// quoted.
func Format(n Node) string {
	var b strings.Builder
	format(&b, n)
	return b.String()
}

func format(b *strings.Builder, n Node) {
	switch t := n.(type) {
	case *Logical:
		op := " and "
		if t.Op == OpOr {
			op = " or "
		}
		for i, a := range t.Args {
			if i > 0 {
				b.WriteString(op)
			}
			b.WriteByte('(')
			format(b, a)
			b.WriteByte(')')
		}
	case *Not:
		b.WriteString("not (")
		format(b, t.X)
		b.WriteByte(')')
	case *Compare:
		formatOperand(b, t.Field)
		b.WriteString(" " + t.Op.String() + " ")
		formatOperand(b, t.Value)
	case *Term:
		formatOperand(b, t.Field)
		if t.Not {
			b.WriteString(" not in ")
		} else {
			b.WriteString(" in ")
		}
		formatOperand(b, t.Values)
	case *Like:
		formatOperand(b, t.Field)
		b.WriteString(" like ")
		formatOperand(b, t.Pattern)
	case *IsNull:
		formatOperand(b, t.Field)
		if t.Not {
			b.WriteString(" is not null")
		} else {
			b.WriteString(" is null")
		}
	case *Call:
		b.WriteString(t.Name + "(")
		formatOperand(b, t.Field)
		b.WriteString(", ")
		formatOperand(b, t.Value)
		b.WriteByte(')')
	default:
		b.WriteString("<?>")
	}
}

func formatOperand(b *strings.Builder, o Operand) {
	switch t := o.(type) {
	case *Field:
		b.WriteString(t.Name)
		for _, p := range t.Path {
			b.WriteByte('[')
			b.WriteString(formatValue(p))
			b.WriteByte(']')
		}
	case *Literal:
		b.WriteString(formatValue(t.Value))
	case *List:
		b.WriteByte('[')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(formatValue(e))
		}
		b.WriteByte(']')
	case *Template:
		b.WriteString("{" + t.Name + "}")
	default:
		b.WriteString("<?>")
	}
}

func formatValue(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		s := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "<?>"
}
