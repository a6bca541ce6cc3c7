package weaviate

import (
	"math"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/protobuf/proto"
)

var testSpec = &driver.CollectionSpec{
	Name:    "docs",
	Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Cosine}},
	Fields: []driver.FieldSpec{
		{Name: "tenant", Kind: driver.KindString, Filterable: true},
		{Name: "size", Kind: driver.KindInt, Filterable: true},
		{Name: "score", Kind: driver.KindFloat, Filterable: true},
		{Name: "ok", Kind: driver.KindBool, Filterable: true},
		{Name: "userId", Kind: driver.KindString, Filterable: true},
		{Name: "note", Kind: driver.KindString},
	},
	TenantField: "tenant",
}

// Builders for expected trees.
func eqText(prop, v string) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: target(prop), TestValue: &pb.Filters_ValueText{ValueText: v}}
}

func anyText(prop string, vs ...string) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: target(prop),
		TestValue: &pb.Filters_ValueTextArray{ValueTextArray: &pb.TextArray{Values: vs}}}
}

func eqNum(prop string, v float64) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: target(prop), TestValue: &pb.Filters_ValueNumber{ValueNumber: v}}
}

func anyNum(prop string, vs ...float64) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: target(prop),
		TestValue: &pb.Filters_ValueNumberArray{ValueNumberArray: &pb.NumberArray{Values: vs}}}
}

func eqBool(prop string, v bool) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: target(prop), TestValue: &pb.Filters_ValueBoolean{ValueBoolean: v}}
}

func anyBool(prop string, vs ...bool) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: target(prop),
		TestValue: &pb.Filters_ValueBooleanArray{ValueBooleanArray: &pb.BooleanArray{Values: vs}}}
}

func cmpText(op pb.Filters_Operator, prop, v string) *pb.Filters {
	return &pb.Filters{Operator: op, Target: target(prop), TestValue: &pb.Filters_ValueText{ValueText: v}}
}

func cmpNum(op pb.Filters_Operator, prop string, v float64) *pb.Filters {
	return &pb.Filters{Operator: op, Target: target(prop), TestValue: &pb.Filters_ValueNumber{ValueNumber: v}}
}

func orOf(fs ...*pb.Filters) *pb.Filters {
	return &pb.Filters{Operator: pb.Filters_OPERATOR_OR, Filters: fs}
}

func notOf(f *pb.Filters) *pb.Filters {
	return andOf(live(), &pb.Filters{Operator: pb.Filters_OPERATOR_NOT, Filters: []*pb.Filters{f}})
}

const (
	gt  = pb.Filters_OPERATOR_GREATER_THAN
	gte = pb.Filters_OPERATOR_GREATER_THAN_EQUAL
	lt  = pb.Filters_OPERATOR_LESS_THAN
	lte = pb.Filters_OPERATOR_LESS_THAN_EQUAL
)

func TestTranslate(t *testing.T) {
	fs := newFieldSet(testSpec)
	s := driver.String
	n := driver.Int
	x := driver.Float
	uuid := driver.MustParseUUID("0a000000-0000-4000-8000-000000000003")
	tests := []struct {
		name string
		in   *driver.Filter
		want *pb.Filters
	}{
		{"nil", nil, matchAll},
		{"and empty", driver.And(), matchAll},
		{"or empty", driver.Or(), matchNone},
		{"none", driver.None(), matchNone},
		{"not and empty", driver.Not(driver.And()), matchNone},
		{"not or empty", driver.Not(driver.Or()), matchAll},
		{"eq string", driver.Eq("tenant", s("acme")), eqText("tenant", "'acme'")},
		{"eq empty string", driver.Eq("tenant", s("")), eqText("tenant", "''")},
		{"eq string spaces kept", driver.Eq("tenant", s(" a ")), eqText("tenant", "' a '")},
		{"eq string escaped field", driver.Eq("userId", s("u")), eqText("vgf_user_id", "'u'")},
		{"eq string invalid utf8", driver.Eq("tenant", s("\xff")), matchNone},
		{"eq int", driver.Eq("size", n(42)), eqText("size", "p0000000000000000042")},
		{"eq int negative", driver.Eq("size", n(-1)), eqText("size", "n9223372036854775807")},
		{"eq int by whole float", driver.Eq("size", x(3)), eqText("size", "p0000000000000000003")},
		{"eq int by fraction", driver.Eq("size", x(3.5)), matchNone},
		{"eq float", driver.Eq("score", x(1.5)), eqNum("score", 1.5)},
		{"eq float by int", driver.Eq("score", n(2)), eqNum("score", 2)},
		{"eq float negative zero", driver.Eq("score", x(math.Copysign(0, -1))), eqNum("score", 0)},
		{"eq bool", driver.Eq("ok", driver.Bool(true)), eqBool("ok", true)},
		{"ne string", driver.Ne("tenant", s("acme")), notOf(eqText("tenant", "'acme'"))},
		{"ne int", driver.Ne("size", n(1)), notOf(eqText("size", "p0000000000000000001"))},
		{"ne bool", driver.Ne("ok", driver.Bool(false)), notOf(eqBool("ok", false))},
		{"ne int by fraction", driver.Ne("size", x(0.5)), matchAll},
		{"in strings", driver.In("tenant", s("a"), s("b")), anyText("tenant", "'a'", "'b'")},
		{"in one", driver.In("tenant", s("a")), eqText("tenant", "'a'")},
		{"in none", driver.In("tenant"), matchNone},
		{"in ints", driver.In("size", n(1), n(2)), anyText("size", "p0000000000000000001", "p0000000000000000002")},
		{"in floats", driver.In("score", x(1), n(2)), anyNum("score", 1, 2)},
		{"in bools", driver.In("ok", driver.Bool(true), driver.Bool(false)), anyBool("ok", true, false)},
		{"not in", driver.NotIn("tenant", s("a"), s("b")), notOf(anyText("tenant", "'a'", "'b'"))},
		{"not in none", driver.NotIn("tenant"), matchAll},
		{"gt int", driver.Gt("size", n(5)), cmpText(gt, "size", "p0000000000000000005")},
		{"gte int", driver.Gte("size", n(-5)), cmpText(gte, "size", encodeInt(-5))},
		{"lt int", driver.Lt("size", n(5)), cmpText(lt, "size", encodeInt(5))},
		{"lte int", driver.Lte("size", n(5)), cmpText(lte, "size", encodeInt(5))},
		{"gt int by float", driver.Gt("size", x(2.5)), cmpText(gte, "size", encodeInt(3))},
		{"gt int by whole float", driver.Gt("size", x(2)), cmpText(gte, "size", encodeInt(3))},
		{"gte int by float", driver.Gte("size", x(2.5)), cmpText(gte, "size", encodeInt(3))},
		{"lt int by float", driver.Lt("size", x(2.5)), cmpText(lte, "size", encodeInt(2))},
		{"lt int by whole float", driver.Lt("size", x(2)), cmpText(lte, "size", encodeInt(1))},
		{"lte int by negative float", driver.Lte("size", x(-2.5)), cmpText(lte, "size", encodeInt(-3))},
		{"gt int by huge float", driver.Gt("size", x(1e19)), matchNone},
		{"lt int by huge float", driver.Lt("size", x(1e19)), isNull("size", false)},
		{"gt int by tiny float", driver.Gt("size", x(-1e19)), isNull("size", false)},
		{"lt int by tiny float", driver.Lt("size", x(-1e19)), matchNone},
		{"range int", driver.Range("size", driver.Bound{Value: n(1), Set: true, Inclusive: true}, driver.Bound{Value: n(9), Set: true}),
			andOf(cmpText(gte, "size", encodeInt(1)), cmpText(lt, "size", encodeInt(9)))},
		{"range float", driver.Range("score", driver.Bound{Value: x(0.5), Set: true}, driver.Bound{Value: n(2), Set: true, Inclusive: true}),
			andOf(cmpNum(gt, "score", 0.5), cmpNum(lte, "score", 2))},
		{"exists", driver.Exists("tenant"), isNull("tenant", false)},
		{"is null", driver.IsNull("size"), isNull("size", true)},
		{"not exists", driver.Not(driver.Exists("ok")), notOf(isNull("ok", false))},
		{"has id", driver.HasID(driver.NumID(7)), eqText(propKey, "n0000000000000007")},
		{"has ids", driver.HasID(driver.NumID(7), uuid), anyText(propKey, "n0000000000000007", "u0a000000000040008000000000000003")},
		{"has no id", driver.HasID(), matchNone},
		{"and", driver.And(driver.Eq("ok", driver.Bool(true)), driver.Exists("size")), andOf(eqBool("ok", true), isNull("size", false))},
		{"and drops duplicates", driver.And(driver.Eq("tenant", s("a")), driver.Eq("tenant", s("a")), driver.Exists("size")),
			andOf(eqText("tenant", "'a'"), isNull("size", false))},
		{"and of duplicates", driver.And(driver.Eq("tenant", s("a")), driver.Eq("tenant", s("a"))), eqText("tenant", "'a'")},
		{"or drops duplicates", driver.Or(driver.Exists("size"), driver.Exists("size")), isNull("size", false)},
		{"and drops true", driver.And(driver.And(), driver.Exists("size")), isNull("size", false)},
		{"and with false", driver.And(driver.Or(), driver.Exists("size")), matchNone},
		{"or", driver.Or(driver.Eq("ok", driver.Bool(true)), driver.Exists("size")), orOf(eqBool("ok", true), isNull("size", false))},
		{"or drops false", driver.Or(driver.In("tenant"), driver.Exists("size")), isNull("size", false)},
		{"or with true", driver.Or(driver.And(), driver.Exists("size")), matchAll},
		{"not", driver.Not(driver.Eq("ok", driver.Bool(true))), notOf(eqBool("ok", true))},
		{"double not", driver.Not(driver.Not(driver.Eq("ok", driver.Bool(true)))), eqBool("ok", true)},
		{"not ne", driver.Not(driver.Ne("tenant", s("a"))), eqText("tenant", "'a'")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fs.translate(tt.in)
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			if got != tt.want && !(got != matchAll && got != matchNone && proto.Equal(got, tt.want)) {
				t.Errorf("translate(%s)\n got %s\nwant %s", tt.in, show(got), show(tt.want))
			}
		})
	}
}

func show(f *pb.Filters) string {
	switch f {
	case matchAll:
		return "<all>"
	case matchNone:
		return "<none>"
	}
	return f.String()
}

func TestTranslateErrors(t *testing.T) {
	fs := newFieldSet(testSpec)
	tests := []struct {
		name string
		in   *driver.Filter
	}{
		{"undeclared field", driver.Eq("nope", driver.String("x"))},
		{"not filterable", driver.Eq("note", driver.String("x"))},
		{"kind mismatch", driver.Eq("tenant", driver.Int(1))},
		{"bool for int", driver.Eq("size", driver.Bool(true))},
		{"range on string", driver.Gt("tenant", driver.Int(1))},
		{"range without bounds", driver.Range("size", driver.Bound{}, driver.Bound{})},
		{"range by string", driver.Gt("size", driver.String("a"))},
		{"range by NaN", driver.Gt("score", driver.Float(math.NaN()))},
		{"not with two", &driver.Filter{Op: driver.OpNot, Children: []*driver.Filter{driver.And(), driver.And()}}},
		{"nil child", &driver.Filter{Op: driver.OpAnd, Children: []*driver.Filter{nil}}},
		{"unknown op", &driver.Filter{Op: 99, Field: "size"}},
		{"zero id", driver.HasID(driver.PointID{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fs.translate(tt.in); driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("translate: got %v, want an InvalidArgument error", err)
			} else if strings.Contains(err.Error(), "'x'") {
				t.Errorf("error quotes a filter value: %v", err)
			}
		})
	}
}

func TestIntBoundRoundTrip(t *testing.T) {
	// The integer bound must select exactly the integers the float bound does.
	for _, x := range []float64{-3.5, -3, -0.5, 0, 0.5, 2, 2.5, 1e15 + 0.5} {
		for _, lower := range []bool{true, false} {
			for _, incl := range []bool{true, false} {
				b := driver.Bound{Value: driver.Float(x), Set: true, Inclusive: incl}
				k, kincl, v := intBound(b, lower)
				if v != boundUse || !kincl {
					t.Fatalf("intBound(%v, %v, %v) = %d, %v, %v", x, lower, incl, k, kincl, v)
				}
				for n := int64(math.Floor(x)) - 3; n <= int64(math.Ceil(x))+3; n++ {
					var want bool
					switch {
					case lower && incl:
						want = float64(n) >= x
					case lower:
						want = float64(n) > x
					case incl:
						want = float64(n) <= x
					default:
						want = float64(n) < x
					}
					got := (lower && n >= k) || (!lower && n <= k)
					if got != want {
						t.Errorf("bound %v (lower %v, inclusive %v) on %d: got %v, want %v", x, lower, incl, n, got, want)
					}
				}
			}
		}
	}
}
