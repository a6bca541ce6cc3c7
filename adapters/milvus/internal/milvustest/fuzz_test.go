package milvustest

import (
	"testing"

	"github.com/milvus-io/milvus/client/v2/entity"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// FuzzTranslate checks the server's two ways of running an expression
// against each other: the filter of the embedded store it translates to
// (the fast path) must select exactly the rows that row-by-row evaluation
// with Milvus's null rules selects.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		`s == "a"`, `s != "a"`, `not (s == "a")`, `not (s == "a" and i > 1)`, `not (s is null or f < 2.5)`,
		`i in [1, 2] or b == true`, `not (i not in [3]) && !(b != false)`, `f >= 1 and f <= 2`, `2 < i`,
		`pk in ["k1", "k3"]`, `not (not (s is not null))`, `i == 1.5`, `s > "a"`, `j["x"] == 1`,
	} {
		f.Add(s)
	}
	sch := entity.NewSchema().WithName("t").
		WithField(entity.NewField().WithName("pk").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("v").WithDataType(entity.FieldTypeFloatVector).WithDim(1)).
		WithField(entity.NewField().WithName("s").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8).WithNullable(true)).
		WithField(entity.NewField().WithName("i").WithDataType(entity.FieldTypeInt64).WithNullable(true)).
		WithField(entity.NewField().WithName("f").WithDataType(entity.FieldTypeDouble).WithNullable(true)).
		WithField(entity.NewField().WithName("b").WithDataType(entity.FieldTypeBool).WithNullable(true)).
		WithField(entity.NewField().WithName("j").WithDataType(entity.FieldTypeJSON).WithNullable(true))
	c, err := newColl(sch.ProtoMessage())
	if err != nil {
		f.Fatal(err)
	}
	var rows []map[string]any
	ss := []any{nil, "a", "b", ""}
	is := []any{nil, int64(1), int64(2), int64(3)}
	fs := []any{nil, 1.0, 2.5, -1.0}
	bs := []any{nil, true, false}
	for n := range 48 {
		r := map[string]any{"pk": "k" + string(rune('0'+n%10)) + string(rune('a'+n/10))}
		put := func(k string, v any) {
			if v != nil {
				r[k] = v
			}
		}
		put("s", ss[n%len(ss)])
		put("i", is[(n/2)%len(is)])
		put("f", fs[(n/3)%len(fs)])
		put("b", bs[(n/5)%len(bs)])
		rows = append(rows, r)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := milvusexpr.Parse(src)
		if err != nil {
			return
		}
		if n, err = milvusexpr.Bind(n, nil); err != nil || milvusexpr.Check(n, c) != nil {
			return
		}
		data, _, ok := c.translate(n)
		if !ok {
			return
		}
		for i, r := range rows {
			want := milvusexpr.Eval(n, c.rowOf(r))
			if got := data.Match(driver.NumID(uint64(i+1)), r); got != want {
				t.Fatalf("%s on row %v: the store's filter %v gives %v, evaluation %v", milvusexpr.Format(n), r, data, got, want)
			}
		}
	})
}
