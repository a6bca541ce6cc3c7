package casbinauthz

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Limits of the condition language. Longer or larger conditions are
// refused when a rule is added or loaded.
const (
	maxCondLen   = 4096
	maxCondDepth = 16
	maxCondNodes = 256
	maxCondList  = 256
)

// exprOp is the kind of a condition node.
type exprOp uint8

const (
	exTrue exprOp = iota + 1
	exFalse
	exAnd
	exOr
	exNot
	exCmp // field cmp arg
	exIn  // field in args
)

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	cmpEq cmpOp = iota + 1
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

var cmpNames = [...]string{cmpEq: "==", cmpNe: "!=", cmpLt: "<", cmpLe: "<=", cmpGt: ">", cmpGe: ">="}

// flip returns the operator with its operands swapped: a < b is b > a.
func (c cmpOp) flip() cmpOp {
	switch c {
	case cmpLt:
		return cmpGt
	case cmpLe:
		return cmpGe
	case cmpGt:
		return cmpLt
	case cmpGe:
		return cmpLe
	}
	return c
}

func (c cmpOp) ordering() bool { return c >= cmpLt }

// term is a value in a condition: a literal or a principal attribute.
type term struct {
	ref   string // with isRef: "id", "tenant" or an attribute name
	isRef bool
	lit   driver.Value
}

// expr is a parsed condition. It is immutable once parsed and shared by
// every decision compiled from its rule.
type expr struct {
	op    exprOp
	kids  []*expr
	field string
	cmp   cmpOp
	arg   term
	args  []term
}

// condError is a condition syntax or type error, with the byte offset.
type condError struct {
	pos int
	msg string
}

func (e *condError) Error() string {
	return "condition: " + e.msg + " at offset " + strconv.Itoa(e.pos)
}

// parseCond parses a condition. The empty condition (only blanks) is nil:
// every row.
func parseCond(s string) (*expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxCondLen {
		return nil, &condError{0, "longer than " + strconv.Itoa(maxCondLen) + " bytes"}
	}
	p := &parser{lx: lexer{src: s}}
	p.next()
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind != tEOF {
		return nil, p.errf("unexpected %s", p.tok.describe())
	}
	return e, nil
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tRef // $sub.name; text is name
	tString
	tInt
	tFloat
	tOp // == != < <= > >=
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int
	n    int64
	f    float64
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tString:
		return "string"
	case tInt, tFloat:
		return "number"
	case tRef:
		return "$sub." + t.text
	}
	return strconv.Quote(t.text)
}

type lexer struct {
	src string
	pos int
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t' || l.src[l.pos] == '\n' || l.src[l.pos] == '\r') {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tIdent, text: l.src[start:l.pos], pos: start}, nil
	case c == '$':
		const prefix = "$sub."
		if !strings.HasPrefix(l.src[l.pos:], prefix) {
			return token{}, &condError{start, "a reference must be $sub.<name>"}
		}
		l.pos += len(prefix)
		ns := l.pos
		if l.pos >= len(l.src) || !isIdentStart(l.src[l.pos]) {
			return token{}, &condError{start, "a reference must be $sub.<name>"}
		}
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		if l.pos-ns > 64 {
			return token{}, &condError{start, "attribute name longer than 64 bytes"}
		}
		return token{kind: tRef, text: l.src[ns:l.pos], pos: start}, nil
	case c == '\'' || c == '"':
		return l.str(c)
	case isDigit(c) || c == '-' || c == '+':
		return l.num()
	case c == '(':
		l.pos++
		return token{kind: tLParen, text: "(", pos: start}, nil
	case c == ')':
		l.pos++
		return token{kind: tRParen, text: ")", pos: start}, nil
	case c == '[':
		l.pos++
		return token{kind: tLBrack, text: "[", pos: start}, nil
	case c == ']':
		l.pos++
		return token{kind: tRBrack, text: "]", pos: start}, nil
	case c == ',':
		l.pos++
		return token{kind: tComma, text: ",", pos: start}, nil
	case c == '=' || c == '!' || c == '<' || c == '>':
		l.pos++
		if l.pos < len(l.src) && l.src[l.pos] == '=' {
			l.pos++
		}
		op := l.src[start:l.pos]
		if op == "=" || op == "!" {
			return token{}, &condError{start, "unknown operator " + strconv.Quote(op) + " (use == or !=, and not)"}
		}
		return token{kind: tOp, text: op, pos: start}, nil
	}
	return token{}, &condError{start, "unexpected character " + strconv.QuoteRune(rune(c))}
}

// str lexes a quoted string; the escapes are \\, \' and \".
func (l *lexer) str(q byte) (token, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			if b.Len() > driver.MaxStringLen {
				return token{}, &condError{start, "string literal too long"}
			}
			return token{kind: tString, text: b.String(), pos: start}, nil
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, &condError{l.pos, "unterminated escape"}
			}
			e := l.src[l.pos+1]
			if e != '\\' && e != '\'' && e != '"' {
				return token{}, &condError{l.pos, "unknown escape (only \\\\, \\' and \\\" are allowed)"}
			}
			b.WriteByte(e)
			l.pos += 2
		case c < 0x20:
			return token{}, &condError{l.pos, "control character in string literal"}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return token{}, &condError{start, "unterminated string literal"}
}

// num lexes an integer or a finite float: -?digits[.digits][e[+-]digits].
func (l *lexer) num() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' || l.src[l.pos] == '+' {
		l.pos++
	}
	digits := func() int {
		s := l.pos
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
		return l.pos - s
	}
	if digits() == 0 {
		return token{}, &condError{start, "malformed number"}
	}
	isFloat := false
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		isFloat = true
		l.pos++
		if digits() == 0 {
			return token{}, &condError{start, "malformed number"}
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		isFloat = true
		l.pos++
		if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
			l.pos++
		}
		if digits() == 0 {
			return token{}, &condError{start, "malformed number"}
		}
	}
	if l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
		return token{}, &condError{start, "malformed number"}
	}
	text := l.src[start:l.pos]
	if !isFloat {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return token{}, &condError{start, "integer out of range"}
		}
		return token{kind: tInt, text: text, pos: start, n: n}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return token{}, &condError{start, "number out of range"}
	}
	return token{kind: tFloat, text: text, pos: start, f: f}, nil
}

type parser struct {
	lx    lexer
	tok   token
	err   error
	nodes int
}

func (p *parser) next() {
	if p.err != nil {
		return
	}
	t, err := p.lx.next()
	if err != nil {
		p.err = err
		p.tok = token{kind: tEOF, pos: p.lx.pos}
		return
	}
	p.tok = t
}

func (p *parser) errf(format string, args ...any) error {
	if p.err != nil {
		return p.err
	}
	return &condError{p.tok.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) keyword(kw string) bool { return p.tok.kind == tIdent && p.tok.text == kw }

func (p *parser) node(e *expr) (*expr, error) {
	p.nodes++
	if p.nodes > maxCondNodes {
		return nil, p.errf("more than %d nodes", maxCondNodes)
	}
	return e, nil
}

func (p *parser) or(depth int) (*expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	if !p.keyword("or") {
		return left, nil
	}
	kids := []*expr{left}
	for p.keyword("or") {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, right)
	}
	return p.node(&expr{op: exOr, kids: kids})
}

func (p *parser) and(depth int) (*expr, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	if !p.keyword("and") {
		return left, nil
	}
	kids := []*expr{left}
	for p.keyword("and") {
		p.next()
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, right)
	}
	return p.node(&expr{op: exAnd, kids: kids})
}

func (p *parser) unary(depth int) (*expr, error) {
	if depth > maxCondDepth {
		return nil, p.errf("nested deeper than %d", maxCondDepth)
	}
	if p.keyword("not") {
		p.next()
		k, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return p.node(&expr{op: exNot, kids: []*expr{k}})
	}
	return p.primary(depth)
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "true": true, "false": true}

func (p *parser) primary(depth int) (*expr, error) {
	if p.err != nil {
		return nil, p.err
	}
	switch p.tok.kind {
	case tLParen:
		p.next()
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errf("expected ) but found %s", p.tok.describe())
		}
		p.next()
		return e, nil
	case tIdent:
		if (p.tok.text == "true" || p.tok.text == "false") && !p.peekOp() {
			op := exTrue
			if p.tok.text == "false" {
				op = exFalse
			}
			p.next()
			return p.node(&expr{op: op})
		}
		if !keywords[p.tok.text] {
			return p.fieldFirst()
		}
	}
	if p.tok.kind == tEOF && p.err == nil {
		return nil, p.errf("unexpected end of condition")
	}
	if isValueTok(p.tok) {
		return p.valueFirst()
	}
	return nil, p.errf("unexpected %s", p.tok.describe())
}

// peekOp reports whether the token after the current one is a comparison
// operator (so that "true == flag" is a comparison, not a constant).
func (p *parser) peekOp() bool {
	save := p.lx
	t, err := p.lx.next()
	p.lx = save
	return err == nil && t.kind == tOp
}

func isValueTok(t token) bool {
	switch t.kind {
	case tString, tInt, tFloat, tRef:
		return true
	case tIdent:
		return t.text == "true" || t.text == "false"
	}
	return false
}

func (p *parser) field() (string, error) {
	name := p.tok.text
	if !driver.ValidFieldName(name) {
		return "", p.errf("invalid field name %q", name)
	}
	if strings.HasPrefix(name, driver.ReservedPrefix) {
		return "", p.errf("field %q is reserved", name)
	}
	p.next()
	return name, nil
}

// fieldFirst parses "field op value" or "field [not] in [values]".
func (p *parser) fieldFirst() (*expr, error) {
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	negated := false
	if p.keyword("not") {
		p.next()
		if !p.keyword("in") {
			return nil, p.errf("expected in after not")
		}
		negated = true
	}
	if p.keyword("in") {
		p.next()
		list, err := p.list()
		if err != nil {
			return nil, err
		}
		in, err := p.node(&expr{op: exIn, field: f, args: list})
		if err != nil || !negated {
			return in, err
		}
		return p.node(&expr{op: exNot, kids: []*expr{in}})
	}
	if p.tok.kind != tOp {
		return nil, p.errf("expected a comparison after field %q", f)
	}
	op := opOf(p.tok.text)
	p.next()
	if !isValueTok(p.tok) {
		return nil, p.errf("expected a value or $sub reference after %s", cmpNames[op])
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return p.cmp(f, op, v)
}

// valueFirst parses "value op field".
func (p *parser) valueFirst() (*expr, error) {
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tOp {
		return nil, p.errf("expected a comparison operator but found %s", p.tok.describe())
	}
	op := opOf(p.tok.text)
	p.next()
	if p.tok.kind != tIdent || keywords[p.tok.text] {
		return nil, p.errf("one side of a comparison must be a field")
	}
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	return p.cmp(f, op.flip(), v)
}

func (p *parser) cmp(f string, op cmpOp, v term) (*expr, error) {
	if op.ordering() && !v.isRef {
		if k := v.lit.Kind(); k != driver.KindInt && k != driver.KindFloat {
			return nil, p.errf("%s needs a number", cmpNames[op])
		}
	}
	return p.node(&expr{op: exCmp, field: f, cmp: op, arg: v})
}

func opOf(s string) cmpOp {
	switch s {
	case "==":
		return cmpEq
	case "!=":
		return cmpNe
	case "<":
		return cmpLt
	case "<=":
		return cmpLe
	case ">":
		return cmpGt
	}
	return cmpGe
}

func (p *parser) value() (term, error) {
	t := p.tok
	var v term
	switch t.kind {
	case tString:
		v.lit = driver.String(t.text)
	case tInt:
		v.lit = driver.Int(t.n)
	case tFloat:
		v.lit = driver.Float(t.f)
	case tRef:
		v.isRef, v.ref = true, t.text
	case tIdent:
		v.lit = driver.Bool(t.text == "true")
	default:
		return v, p.errf("expected a value but found %s", t.describe())
	}
	p.next()
	return v, p.err
}

func (p *parser) list() ([]term, error) {
	if p.tok.kind != tLBrack {
		return nil, p.errf("expected [ after in")
	}
	p.next()
	var out []term
	for p.tok.kind != tRBrack {
		if len(out) > 0 {
			if p.tok.kind != tComma {
				return nil, p.errf("expected , or ] in list but found %s", p.tok.describe())
			}
			p.next()
		}
		if !isValueTok(p.tok) {
			return nil, p.errf("expected a value in list but found %s", p.tok.describe())
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if len(out) > maxCondList {
			return nil, p.errf("more than %d values in a list", maxCondList)
		}
	}
	p.next()
	return out, p.err
}

// String renders a parsed condition in canonical form (for tests and rule
// text); literals are written as in the source language.
func (e *expr) String() string {
	if e == nil {
		return "true"
	}
	var b strings.Builder
	e.format(&b)
	return b.String()
}

func (e *expr) format(b *strings.Builder) {
	switch e.op {
	case exTrue:
		b.WriteString("true")
	case exFalse:
		b.WriteString("false")
	case exAnd, exOr:
		sep := " and "
		if e.op == exOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range e.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b)
		}
		b.WriteByte(')')
	case exNot:
		b.WriteString("not ")
		e.kids[0].format(b)
	case exCmp:
		b.WriteString(e.field + " " + cmpNames[e.cmp] + " " + e.arg.String())
	case exIn:
		b.WriteString(e.field + " in [")
		for i, a := range e.args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.String())
		}
		b.WriteByte(']')
	}
}

func (t term) String() string {
	if t.isRef {
		return "$sub." + t.ref
	}
	if t.lit.Kind() == driver.KindString {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(t.lit.Str()) + "'"
	}
	if t.lit.Kind() == driver.KindFloat {
		s := strconv.FormatFloat(t.lit.FloatVal(), 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	}
	return t.lit.Literal()
}

// refs returns the attribute names a condition refers to, in first-seen order.
func (e *expr) refs() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*expr)
	add := func(t term) {
		if t.isRef && !seen[t.ref] {
			seen[t.ref] = true
			out = append(out, t.ref)
		}
	}
	walk = func(e *expr) {
		if e == nil {
			return
		}
		add(e.arg)
		for _, a := range e.args {
			add(a)
		}
		for _, k := range e.kids {
			walk(k)
		}
	}
	walk(e)
	return out
}

// resolve returns the value a term takes for principal p, or ok=false when
// the principal has no such attribute (or one of an unsupported type).
func (t term) resolve(p *authz.Principal) (driver.Value, bool) {
	if !t.isRef {
		return t.lit, true
	}
	switch t.ref {
	case "id":
		return driver.String(p.Subject), p.Subject != ""
	case "tenant":
		return driver.String(p.Tenant), p.Tenant != ""
	}
	switch v := p.Attributes[t.ref].(type) {
	case string:
		return driver.String(v), true
	case int64:
		return driver.Int(v), true
	case int:
		return driver.Int(int64(v)), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return driver.Value{}, false
		}
		return driver.Float(v), true
	case bool:
		return driver.Bool(v), true
	}
	return driver.Value{}, false
}

// bindMode says how a condition treats a reference the principal cannot
// bind: an allow rule does not apply at all (its condition is unknown and
// grants nothing); a deny rule widens to every row the reference could
// select (the unknown comparison is taken as true where that widens the
// deny and false under a not).
type bindMode uint8

const (
	bindAllow bindMode = iota + 1
	bindDeny
)

// bind compiles e for principal p into a neutral filter. nil means every
// row and isFalse(f) no row. ok is false only in bindAllow mode when a
// reference cannot be bound: the rule then does not apply.
func (e *expr) bind(p *authz.Principal, mode bindMode) (f *driver.Filter, ok bool) {
	if e == nil {
		return nil, true
	}
	return e.bindPol(p, mode, true)
}

func (e *expr) bindPol(p *authz.Principal, mode bindMode, positive bool) (*driver.Filter, bool) {
	switch e.op {
	case exTrue:
		return nil, true
	case exFalse:
		return driver.None(), true
	case exNot:
		k, ok := e.kids[0].bindPol(p, mode, !positive)
		if !ok {
			return nil, false
		}
		return fNot(k), true
	case exAnd, exOr:
		kids := make([]*driver.Filter, 0, len(e.kids))
		for _, c := range e.kids {
			k, ok := c.bindPol(p, mode, positive)
			if !ok {
				return nil, false
			}
			kids = append(kids, k)
		}
		if e.op == exAnd {
			return fAnd(kids...), true
		}
		return fOr(kids...), true
	case exCmp:
		v, ok := e.arg.resolve(p)
		if ok && e.cmp.ordering() && v.Kind() != driver.KindInt && v.Kind() != driver.KindFloat {
			ok = false // an ordering needs a number
		}
		if !ok {
			return unknown(mode, positive)
		}
		switch e.cmp {
		case cmpEq:
			return driver.Eq(e.field, v), true
		case cmpNe:
			return driver.Ne(e.field, v), true
		case cmpLt:
			return driver.Lt(e.field, v), true
		case cmpLe:
			return driver.Lte(e.field, v), true
		case cmpGt:
			return driver.Gt(e.field, v), true
		default:
			return driver.Gte(e.field, v), true
		}
	case exIn:
		vs := make([]driver.Value, 0, len(e.args))
		for _, a := range e.args {
			v, ok := a.resolve(p)
			if !ok {
				return unknown(mode, positive)
			}
			vs = append(vs, v)
		}
		if len(vs) == 0 {
			return driver.None(), true
		}
		return driver.In(e.field, vs...), true
	}
	return unknown(mode, positive)
}

// unknown is the value of a comparison whose reference cannot be bound.
func unknown(mode bindMode, positive bool) (*driver.Filter, bool) {
	if mode == bindAllow {
		return nil, false
	}
	if positive {
		return nil, true // deny: as if it matched every row
	}
	return driver.None(), true // under a not: as if it matched none
}

// isFalse reports whether f is the constant that matches no row.
func isFalse(f *driver.Filter) bool { return f != nil && f.Op == driver.OpOr && len(f.Children) == 0 }

// fAnd, fOr and fNot build filters, folding the constants nil (every row)
// and None (no row).
func fAnd(fs ...*driver.Filter) *driver.Filter {
	kids := make([]*driver.Filter, 0, len(fs))
	for _, f := range fs {
		switch {
		case f == nil:
		case isFalse(f):
			return driver.None()
		default:
			kids = append(kids, f)
		}
	}
	switch len(kids) {
	case 0:
		return nil
	case 1:
		return kids[0]
	}
	return driver.And(kids...)
}

func fOr(fs ...*driver.Filter) *driver.Filter {
	kids := make([]*driver.Filter, 0, len(fs))
	for _, f := range fs {
		switch {
		case f == nil:
			return nil
		case isFalse(f):
		default:
			kids = append(kids, f)
		}
	}
	if len(kids) == 1 {
		return kids[0]
	}
	return &driver.Filter{Op: driver.OpOr, Children: kids}
}

func fNot(f *driver.Filter) *driver.Filter {
	switch {
	case f == nil:
		return driver.None()
	case isFalse(f):
		return nil
	case f.Op == driver.OpNot && len(f.Children) == 1:
		return f.Children[0]
	}
	return driver.Not(f)
}
