package milvusexpr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on what Parse accepts.
const (
	MaxLen   = 1 << 20 // bytes of expression text
	MaxDepth = 256     // nesting of parentheses and not
	MaxList  = 1 << 16 // elements of a literal list
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid expression")

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tKeyword // and or not in like is null true false and the functions
	tString
	tInt
	tFloat
	tTemplate
	tOp    // == != < <= > >= && || !
	tPunct // ( ) [ ] ,
)

type token struct {
	kind tokKind
	text string // identifier, lower-case keyword, operator, punctuation, template name
	val  any    // string, int64 or float64 literal
	pos  int
}

// keywords are the words Milvus's grammar reserves (matched without regard
// to case here, which is stricter than Milvus). An identifier may not be one
// of them.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "like": true, "is": true, "null": true,
	"true": true, "false": true, "exists": true,
	"json_contains": true, "json_contains_all": true, "json_contains_any": true,
	"array_contains": true, "array_contains_all": true, "array_contains_any": true,
	"array_length": true, "text_match": true, "phrase_match": true, "random_sample": true,
	"element_filter": true, "match_all": true, "match_any": true, "match_least": true,
	"match_most": true, "match_exact": true, "to": true,
}

// functions are the calls Parse understands.
var functions = map[string]bool{
	"json_contains": true, "json_contains_all": true, "json_contains_any": true,
	"array_contains": true, "array_contains_all": true, "array_contains_any": true,
}

// IsKeyword reports whether name is a word of the expression language, so
// that it cannot be used as a bare field name.
func IsKeyword(name string) bool {
	return keywords[strings.ToLower(name)] || strings.HasPrefix(strings.ToLower(name), "st_")
}

// ValidIdent reports whether name can appear in an expression as a field
// name: ASCII letters, digits and '_', not starting with a digit, and not a
// keyword.
func ValidIdent(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return !IsKeyword(name)
}

type lexer struct {
	src  string
	pos  int
	toks []token
}

func syntaxErr(pos int, format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, pos, fmt.Sprintf(format, args...))
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, nil
		}
	}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			l.pos++
		}
		word := l.src[start:l.pos]
		lower := strings.ToLower(word)
		if keywords[lower] || strings.HasPrefix(lower, "st_") {
			return token{kind: tKeyword, text: lower, pos: start}, nil
		}
		return token{kind: tIdent, text: word, pos: start}, nil
	case c >= '0' && c <= '9' || c == '-' && l.pos+1 < len(l.src) && (l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9' || l.src[l.pos+1] == '.'),
		c == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9':
		return l.number()
	case c == '"' || c == '\'':
		return l.str()
	case c == '{':
		l.pos++
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			l.pos++
		}
		name := l.src[start+1 : l.pos]
		if l.pos >= len(l.src) || l.src[l.pos] != '}' || name == "" || !isIdentStart(name[0]) {
			return token{}, syntaxErr(start, "malformed template placeholder")
		}
		l.pos++
		return token{kind: tTemplate, text: name, pos: start}, nil
	case strings.IndexByte("()[],", c) >= 0:
		l.pos++
		return token{kind: tPunct, text: string(c), pos: start}, nil
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!"} {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.pos += len(op)
			return token{kind: tOp, text: op, pos: start}, nil
		}
	}
	return token{}, syntaxErr(start, "unexpected character %q", c)
}

func (l *lexer) number() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	isFloat := false
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c >= '0' && c <= '9':
		case c == '.':
			isFloat = true
		case c == 'e' || c == 'E':
			isFloat = true
			if l.pos+1 < len(l.src) && (l.src[l.pos+1] == '+' || l.src[l.pos+1] == '-') {
				l.pos++
			}
		default:
			goto done
		}
		l.pos++
	}
done:
	text := l.src[start:l.pos]
	if l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
		return token{}, syntaxErr(start, "malformed number")
	}
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return token{}, syntaxErr(start, "malformed number")
		}
		return token{kind: tFloat, val: f, pos: start}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, syntaxErr(start, "integer out of range")
	}
	return token{kind: tInt, val: n, pos: start}, nil
}

func (l *lexer) str() (token, error) {
	start := l.pos
	quote := l.src[l.pos]
	l.pos++
	var b strings.Builder
	b.WriteByte('"')
	for {
		if l.pos >= len(l.src) {
			return token{}, syntaxErr(start, "unterminated string")
		}
		c := l.src[l.pos]
		switch {
		case c == quote:
			l.pos++
			b.WriteByte('"')
			s, err := strconv.Unquote(b.String())
			if err != nil {
				return token{}, syntaxErr(start, "malformed string")
			}
			return token{kind: tString, val: s, pos: start}, nil
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, syntaxErr(start, "unterminated string")
			}
			if quote == '\'' && l.src[l.pos+1] == '\'' {
				b.WriteByte('\'')
			} else {
				b.WriteString(l.src[l.pos : l.pos+2])
			}
			l.pos += 2
		case c == '"': // inside a single-quoted string
			b.WriteString(`\"`)
			l.pos++
		case c == '\n':
			return token{}, syntaxErr(start, "newline in string")
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
}

type parser struct {
	toks  []token
	i     int
	depth int
}

// Parse parses an expression. An empty or blank expression is an error:
// callers that mean "every row" send no expression.
func Parse(src string) (Node, error) {
	if len(src) > MaxLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrSyntax, MaxLen)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, syntaxErr(t.pos, "unexpected %s", describe(t))
	}
	return n, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString, tInt, tFloat:
		return "value"
	case tTemplate:
		return "placeholder"
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *parser) expect(kind tokKind, text string) error {
	if !p.is(kind, text) {
		t := p.peek()
		return syntaxErr(t.pos, "expected %q, found %s", text, describe(t))
	}
	p.take()
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return syntaxErr(p.peek().pos, "nested deeper than %d", MaxDepth)
	}
	return nil
}

func (p *parser) or() (Node, error) {
	return p.chain(OpOr, "or", "||", p.and)
}

func (p *parser) and() (Node, error) {
	return p.chain(OpAnd, "and", "&&", p.unary)
}

func (p *parser) chain(op LogicalOp, word, sym string, sub func() (Node, error)) (Node, error) {
	first, err := sub()
	if err != nil {
		return nil, err
	}
	args := []Node{first}
	for p.is(tKeyword, word) || p.is(tOp, sym) {
		p.take()
		n, err := sub()
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &Logical{Op: op, Args: args}, nil
}

// unary parses "not" followed by a parenthesized expression, a function
// call or another not, or a primary.
func (p *parser) unary() (Node, error) {
	if p.is(tKeyword, "not") || p.is(tOp, "!") {
		t := p.take()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		next := p.peek()
		if !(next.kind == tPunct && next.text == "(" || next.kind == tKeyword && (functions[next.text] || next.text == "not") || next.kind == tOp && next.text == "!") {
			return nil, syntaxErr(t.pos, "not must be followed by a parenthesized expression or a function call")
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Node, error) {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "(":
		p.take()
		if err := p.enter(); err != nil {
			return nil, err
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return nil, err
		}
		return n, nil
	case t.kind == tKeyword && functions[t.text]:
		return p.call()
	case t.kind == tIdent:
		return p.predicate()
	case t.kind == tString || t.kind == tInt || t.kind == tFloat || t.kind == tTemplate || t.kind == tKeyword && (t.text == "true" || t.text == "false"):
		// value op field
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		op, ok := cmpOp(p.peek())
		if !ok {
			return nil, syntaxErr(p.peek().pos, "expected a comparison after a value")
		}
		p.take()
		if p.peek().kind != tIdent {
			return nil, syntaxErr(p.peek().pos, "expected a field after the comparison")
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		if p.isCmp() {
			return nil, syntaxErr(p.peek().pos, "chained comparisons are not supported")
		}
		return &Compare{Op: op.flip(), Field: f, Value: v}, nil
	}
	return nil, syntaxErr(t.pos, "unexpected %s", describe(t))
}

func cmpOp(t token) (CmpOp, bool) {
	if t.kind != tOp {
		return 0, false
	}
	switch t.text {
	case "==":
		return CmpEq, true
	case "!=":
		return CmpNe, true
	case "<":
		return CmpLt, true
	case "<=":
		return CmpLe, true
	case ">":
		return CmpGt, true
	case ">=":
		return CmpGe, true
	}
	return 0, false
}

func (p *parser) isCmp() bool {
	_, ok := cmpOp(p.peek())
	return ok
}

func (p *parser) predicate() (Node, error) {
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if op, ok := cmpOp(t); ok {
		p.take()
		if p.peek().kind == tIdent {
			return nil, syntaxErr(p.peek().pos, "comparisons between fields are not supported")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if p.isCmp() {
			return nil, syntaxErr(p.peek().pos, "chained comparisons are not supported")
		}
		return &Compare{Op: op, Field: f, Value: v}, nil
	}
	switch {
	case p.is(tKeyword, "in"):
		p.take()
		vs, err := p.list()
		if err != nil {
			return nil, err
		}
		return &Term{Field: f, Values: vs}, nil
	case p.is(tKeyword, "not"):
		p.take()
		if err := p.expect(tKeyword, "in"); err != nil {
			return nil, err
		}
		vs, err := p.list()
		if err != nil {
			return nil, err
		}
		return &Term{Field: f, Values: vs, Not: true}, nil
	case p.is(tKeyword, "like"):
		p.take()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if l, ok := v.(*Literal); ok {
			if _, ok := l.Value.(string); !ok {
				return nil, syntaxErr(t.pos, "like needs a string pattern")
			}
		}
		return &Like{Field: f, Pattern: v}, nil
	case p.is(tKeyword, "is"):
		p.take()
		not := false
		if p.is(tKeyword, "not") {
			p.take()
			not = true
		}
		if err := p.expect(tKeyword, "null"); err != nil {
			return nil, err
		}
		return &IsNull{Field: f, Not: not}, nil
	}
	return nil, syntaxErr(t.pos, "expected a comparison, in, like or is after a field, found %s", describe(t))
}

func (p *parser) call() (Node, error) {
	name := p.take().text
	if err := p.expect(tPunct, "("); err != nil {
		return nil, err
	}
	if p.peek().kind != tIdent {
		return nil, syntaxErr(p.peek().pos, "%s takes a field first", name)
	}
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tPunct, ","); err != nil {
		return nil, err
	}
	var v Operand
	if strings.HasSuffix(name, "_all") || strings.HasSuffix(name, "_any") {
		v, err = p.list()
	} else {
		v, err = p.value()
	}
	if err != nil {
		return nil, err
	}
	if err := p.expect(tPunct, ")"); err != nil {
		return nil, err
	}
	return &Call{Name: name, Field: f, Value: v}, nil
}

func (p *parser) field() (*Field, error) {
	t := p.take()
	f := &Field{Name: t.text}
	for p.is(tPunct, "[") {
		p.take()
		k := p.take()
		switch k.kind {
		case tString, tInt:
			f.Path = append(f.Path, k.val)
		default:
			return nil, syntaxErr(k.pos, "a JSON path takes string keys or integer indexes")
		}
		if err := p.expect(tPunct, "]"); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// value parses a scalar literal or a placeholder.
func (p *parser) value() (Operand, error) {
	t := p.peek()
	switch {
	case t.kind == tTemplate:
		p.take()
		return &Template{Name: t.text}, nil
	case t.kind == tPunct && t.text == "[":
		return p.list()
	}
	v, err := p.scalar()
	if err != nil {
		return nil, err
	}
	return &Literal{Value: v}, nil
}

func (p *parser) scalar() (any, error) {
	t := p.take()
	switch {
	case t.kind == tString || t.kind == tInt || t.kind == tFloat:
		return t.val, nil
	case t.kind == tKeyword && t.text == "true":
		return true, nil
	case t.kind == tKeyword && t.text == "false":
		return false, nil
	}
	return nil, syntaxErr(t.pos, "expected a value, found %s", describe(t))
}

// list parses [v, ...] or a placeholder.
func (p *parser) list() (Operand, error) {
	if t := p.peek(); t.kind == tTemplate {
		p.take()
		return &Template{Name: t.text}, nil
	}
	if err := p.expect(tPunct, "["); err != nil {
		return nil, err
	}
	l := &List{Elems: []any{}}
	for !p.is(tPunct, "]") {
		if len(l.Elems) > 0 {
			if err := p.expect(tPunct, ","); err != nil {
				return nil, err
			}
		}
		if len(l.Elems) >= MaxList {
			return nil, syntaxErr(p.peek().pos, "list longer than %d", MaxList)
		}
		v, err := p.scalar()
		if err != nil {
			return nil, err
		}
		l.Elems = append(l.Elems, v)
	}
	p.take()
	return l, nil
}
