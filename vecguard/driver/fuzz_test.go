package driver_test

import (
	"math"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// fuzzIn decodes fuzz bytes into filters, payloads and IDs. Every byte
// string decodes to something; reading past the end yields zeros.
type fuzzIn struct{ b []byte }

func (z *fuzzIn) next() byte {
	if len(z.b) == 0 {
		return 0
	}
	c := z.b[0]
	z.b = z.b[1:]
	return c
}

// The fields the fuzz filters use: those of validSpec (tenant, year, score,
// public filterable; body not), plus one undeclared.
var fuzzFields = []string{"tenant", "year", "score", "public", "body", "nope"}

var fuzzIDs = []driver.PointID{
	{}, driver.NumID(0), driver.NumID(1), driver.NumID(2),
	driver.MustParseUUID("00000000-0000-0000-0000-000000000001"), driver.MustParseUUID(uuidA),
}

func (z *fuzzIn) field() string { return fuzzFields[int(z.next())%len(fuzzFields)] }

func (z *fuzzIn) id() driver.PointID { return fuzzIDs[int(z.next())%len(fuzzIDs)] }

// value returns a filter value; a few are invalid (zero, NaN, infinite).
func (z *fuzzIn) value() driver.Value {
	c := z.next()
	switch c % 5 {
	case 0:
		return driver.String([]string{"", "a", "b", "acme"}[int(c/5)%4])
	case 1:
		return driver.Int([]int64{-1, 0, 1, 2, 3, math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1}[int(c/5)%9])
	case 2:
		return driver.Float([]float64{0, 1, 1.5, 2, -0.5, 1 << 53, math.NaN(), math.Inf(1), math.Copysign(0, -1)}[int(c/5)%9])
	case 3:
		return driver.Bool(c&8 != 0)
	}
	return driver.Value{}
}

func (z *fuzzIn) bound() driver.Bound {
	c := z.next()
	return driver.Bound{Value: z.value(), Set: c&1 != 0, Inclusive: c&2 != 0}
}

// filter decodes one node; nil is one of the outcomes, as are malformed
// nodes (a Not without its operand, unknown operators).
func (z *fuzzIn) filter(depth int) *driver.Filter {
	op := z.next() % 14
	if depth > 40 {
		op = 9 // stop nesting: an Exists
	}
	switch op {
	case 0:
		return nil
	case 1, 2:
		n := int(z.next() % 4)
		cs := make([]*driver.Filter, n)
		for i := range cs {
			cs[i] = z.filter(depth + 1)
		}
		return &driver.Filter{Op: driver.OpAnd + driver.Op(op-1), Children: cs}
	case 3:
		c := z.next()
		f := &driver.Filter{Op: driver.OpNot}
		switch c % 8 {
		case 0: // no operand
		case 1:
			f.Children = []*driver.Filter{z.filter(depth + 1), z.filter(depth + 1)}
		default:
			f.Children = []*driver.Filter{z.filter(depth + 1)}
		}
		return f
	case 4:
		return driver.Eq(z.field(), z.value())
	case 5:
		return driver.Ne(z.field(), z.value())
	case 6, 7:
		field, n := z.field(), int(z.next()%4)
		vs := make([]driver.Value, n)
		for i := range vs {
			vs[i] = z.value()
		}
		if op == 6 {
			return driver.In(field, vs...)
		}
		return driver.NotIn(field, vs...)
	case 8:
		return driver.Range(z.field(), z.bound(), z.bound())
	case 9:
		return driver.Exists(z.field())
	case 10:
		return driver.IsNull(z.field())
	case 11:
		n := int(z.next() % 4)
		ids := make([]driver.PointID, n)
		for i := range ids {
			ids[i] = z.id()
		}
		return driver.HasID(ids...)
	case 12:
		return &driver.Filter{Op: driver.Op(z.next()), Field: z.field(), Value: z.value()}
	}
	return driver.And()
}

// payloadValue returns a normalized payload value of any type.
func (z *fuzzIn) payloadValue() any {
	c := z.next()
	switch c % 8 {
	case 0:
		return nil
	case 1:
		return []string{"", "a", "b", "acme"}[int(c/8)%4]
	case 2:
		return []int64{-1, 0, 1, 2, 3, math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1}[int(c/8)%9]
	case 3:
		return []float64{0, 1, 1.5, 2, -0.5, 1 << 53, 3, math.Copysign(0, -1)}[int(c/8)%8]
	case 4:
		return c&16 != 0
	case 5:
		return []any{"a"}
	case 6:
		return map[string]any{"a": int64(1)}
	}
	return "other"
}

// payload gives each field absent (no key) or some value, null included.
func (z *fuzzIn) payload() map[string]any {
	if z.next()%16 == 0 {
		return nil
	}
	p := map[string]any{}
	for _, f := range fuzzFields {
		if c := z.next(); c%4 != 0 {
			p[f] = z.payloadValue()
		}
	}
	return p
}

// refMatch is a reference evaluation of the filter semantics, written from
// the design rules rather than from Match: absent and null are alike;
// numbers compare as integers when both are, otherwise as float64.
func refMatch(f *driver.Filter, id driver.PointID, p map[string]any) bool {
	if f == nil {
		return true
	}
	v, present := p[f.Field]
	isNull := !present || v == nil
	eq := func(x driver.Value) bool {
		if isNull {
			return false
		}
		switch x.Kind() {
		case driver.KindString:
			s, ok := v.(string)
			return ok && s == x.Str()
		case driver.KindBool:
			b, ok := v.(bool)
			return ok && b == x.BoolVal()
		case driver.KindInt, driver.KindFloat:
			c, ok := refCmp(v, x)
			return ok && c == 0
		}
		return false
	}
	switch f.Op {
	case driver.OpAnd:
		r := true
		for _, c := range f.Children {
			r = refMatch(c, id, p) && r
		}
		return r
	case driver.OpOr:
		r := false
		for _, c := range f.Children {
			r = refMatch(c, id, p) || r
		}
		return r
	case driver.OpNot:
		return len(f.Children) == 1 && !refMatch(f.Children[0], id, p)
	case driver.OpEq:
		return eq(f.Value)
	case driver.OpNe:
		return !eq(f.Value)
	case driver.OpIn, driver.OpNotIn:
		hit := false
		for _, x := range f.Values {
			hit = hit || eq(x)
		}
		return hit == (f.Op == driver.OpIn)
	case driver.OpRange:
		if _, ok := refCmp(v, driver.Int(0)); !ok {
			return false
		}
		if f.Lower.Set {
			c, ok := refCmp(v, f.Lower.Value)
			if !ok || c < 0 || c == 0 && !f.Lower.Inclusive {
				return false
			}
		}
		if f.Upper.Set {
			c, ok := refCmp(v, f.Upper.Value)
			if !ok || c > 0 || c == 0 && !f.Upper.Inclusive {
				return false
			}
		}
		return true
	case driver.OpExists:
		return !isNull
	case driver.OpIsNull:
		return isNull
	case driver.OpHasID:
		for _, x := range f.IDs {
			if x.Compare(id) == 0 {
				return true
			}
		}
		return false
	}
	return false
}

// refCmp compares a payload number with a numeric filter value.
func refCmp(v any, x driver.Value) (int, bool) {
	var a float64
	switch t := v.(type) {
	case int64:
		if x.Kind() == driver.KindInt {
			switch {
			case t < x.IntVal():
				return -1, true
			case t > x.IntVal():
				return 1, true
			}
			return 0, true
		}
		a = float64(t)
	case float64:
		a = t
	default:
		return 0, false
	}
	var b float64
	switch x.Kind() {
	case driver.KindInt:
		b = float64(x.IntVal())
	case driver.KindFloat:
		b = x.FloatVal()
	default:
		return 0, false
	}
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	case a == b:
		return 0, true
	}
	return 0, false // NaN bound: comparisons are false, so every bound fails
}

func fuzzSeeds(f *testing.F) {
	for _, s := range [][]byte{
		{}, {4, 0, 0}, {1, 2, 4, 0, 5, 9, 1}, {3, 2, 8, 1, 7, 3, 3, 1, 1, 5, 9, 4, 12},
		{2, 3, 6, 1, 3, 0, 5, 10, 11, 3, 1, 2, 5}, {11, 3, 1, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		{3, 1, 4, 0, 0, 4, 0, 5}, {12, 99, 1, 1}, {8, 2, 3, 11, 1, 6, 1, 255, 255, 255},
	} {
		f.Add(s)
	}
}

// FuzzFilterValidate checks that Validate never panics and never changes
// the filter, and that the other methods cope with whatever it accepts or
// refuses.
func FuzzFilterValidate(f *testing.F) {
	fuzzSeeds(f)
	spec := validSpec()
	f.Fuzz(func(t *testing.T, b []byte) {
		flt := (&fuzzIn{b}).filter(0)
		before := flt.Clone()
		err := flt.Validate(spec)
		if err != nil && driver.CodeOf(err) != driver.InvalidArgument {
			t.Fatalf("Validate: %v, want InvalidArgument", err)
		}
		if !sameFilter(before, flt) {
			t.Fatal("Validate changed the filter")
		}
		_ = flt.String()
		_ = flt.Redacted()
		_ = flt.Fields()
		if err == nil {
			// Accepted filters compare only declared filterable fields.
			flt.Walk(func(n *driver.Filter) {
				if n.Op < driver.OpEq || n.Op > driver.OpIsNull {
					return
				}
				if _, ok := spec.FilterField(n.Field); !ok {
					t.Fatalf("Validate accepted field %q", n.Field)
				}
			})
		}
	})
}

// FuzzFilterMatch checks Match against refMatch and the algebraic
// identities the drivers rely on.
func FuzzFilterMatch(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		z := &fuzzIn{b}
		flt := z.filter(0)
		g := z.filter(0)
		p := z.payload()
		id := z.id()
		m := flt.Match(id, p)
		if want := refMatch(flt, id, p); m != want {
			t.Fatalf("%v on %v: Match = %v, reference = %v", flt, p, m, want)
		}
		mg := g.Match(id, p)
		check := func(name string, h *driver.Filter, want bool) {
			t.Helper()
			if got := h.Match(id, p); got != want {
				t.Fatalf("%s: %v on %v = %v, want %v", name, h, p, got, want)
			}
		}
		check("not not", driver.Not(driver.Not(flt)), m)
		check("not", driver.Not(flt), !m)
		check("clone", flt.Clone(), m)
		if !flt.Equal(flt.Clone()) || !flt.Clone().Equal(flt) {
			t.Fatalf("%v is not Equal to its clone", flt)
		}
		if flt.Equal(g) && (m != mg || flt.String() != g.String() || !g.Equal(flt)) {
			t.Fatalf("Equal filters %v and %v differ", flt, g)
		}
		check("and", driver.And(flt, g), m && mg)
		check("or", &driver.Filter{Op: driver.OpOr, Children: []*driver.Filter{flt, g}}, m || mg)
		check("de morgan", driver.Not(driver.And(flt, g)), !m || !mg)
		check("and with itself", driver.And(flt, flt), m)
		if flt == nil {
			return
		}
		field := flt.Field
		switch flt.Op {
		case driver.OpEq:
			check("ne == not eq", driver.Ne(field, flt.Value), !m)
			check("in of one", driver.In(field, flt.Value), m)
		case driver.OpNe:
			check("eq == not ne", driver.Eq(field, flt.Value), !m)
		case driver.OpIn, driver.OpNotIn:
			var eqs []*driver.Filter
			for _, v := range flt.Values {
				eqs = append(eqs, driver.Eq(field, v))
			}
			or := &driver.Filter{Op: driver.OpOr, Children: eqs}
			if flt.Op == driver.OpIn {
				check("in == or of eq", or, m)
				check("not in == not in", driver.NotIn(field, flt.Values...), !m)
			} else {
				check("not in == not or of eq", driver.Not(or), m)
			}
		case driver.OpExists:
			check("is null == not exists", driver.IsNull(field), !m)
		case driver.OpIsNull:
			check("exists == not is null", driver.Exists(field), !m)
		case driver.OpRange:
			if flt.Lower.Set && flt.Upper.Set {
				split := driver.And(driver.Range(field, flt.Lower, driver.Bound{}), driver.Range(field, driver.Bound{}, flt.Upper))
				check("range == lower and upper", split, m)
			}
			if m && !(flt.Lower.Set || flt.Upper.Set) {
				check("unbounded range means a number", driver.Not(driver.IsNull(field)), true)
			}
		case driver.OpHasID:
			check("has id twice", driver.HasID(append(flt.IDs, flt.IDs...)...), m)
		}
	})
}
