package drivertest

import (
	"math"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// filterCase is a filter whose expected result the suite computes with
// driver.Filter.Match over the same data.
type filterCase struct {
	name string
	flt  *driver.Filter
}

// filterCases returns a case for every node kind and edge of the filter
// language, over the standard data set. someIDs are IDs of stored points.
func filterCases(someIDs []driver.PointID) []filterCase {
	s, i, fl, b := driver.String, driver.Int, driver.Float, driver.Bool
	missing := driver.MustParseUUID("3f1e0d2c-1b0a-4f9e-8d7c-6b5a49382716")
	incl := func(v driver.Value) driver.Bound { return driver.Bound{Value: v, Set: true, Inclusive: true} }
	excl := func(v driver.Value) driver.Bound { return driver.Bound{Value: v, Set: true} }
	many := []driver.Value{s("red")}
	for n := range 200 {
		many = append(many, s("c"+string(rune('a'+n%26))+string(rune('a'+n/26))))
	}
	return []filterCase{
		{"Nil", nil},
		{"AndEmpty", driver.And()},
		{"OrEmpty", driver.None()},
		{"NotNothing", driver.Not(driver.None())},

		{"EqString", driver.Eq("color", s("red"))},
		{"EqEmptyString", driver.Eq("color", s(""))},
		{"EqNoMatch", driver.Eq("color", s("purple"))},
		{"EqCaseSensitive", driver.Eq("color", s("RED"))},
		{"EqUnicode", driver.Eq("color", s("grün ✓"))},
		{"EqQuotes", driver.Eq("color", s(`it's "quoted" \ `))},
		{"NeQuotes", driver.Ne("color", s(`it's "quoted" \ `))},
		{"InQuotes", driver.In("color", s(`it's "quoted" \ `), s("grün ✓"))},
		// Values that would change the meaning of a filter built by
		// formatting strings: they must match nothing.
		{"InjectDoubleQuote", driver.Eq("color", s(`red" || color != "`))},
		{"InjectSingleQuote", driver.Eq("color", s(`red' OR '1'='1`))},
		{"InjectBackslash", driver.Eq("color", s(`red\" or 1==1 or color=="`))},
		{"InjectGraphQL", driver.Eq("color", s(`red"}) { id } #`))},
		{"InjectNe", driver.Ne("color", s(`x" && color == "red`))},
		{"InjectIn", driver.In("color", s(`red", "green`), s(`blue') or ('1'='1`))},
		{"InjectNUL", driver.Eq("color", s("red\x00"))},
		{"PrefixNotEqual", driver.Eq("color", s("re"))},
		{"WildcardNotPattern", driver.Eq("color", s("r*"))},
		{"LikeNotPattern", driver.Eq("color", s("r%"))},
		{"EqInt", driver.Eq("size", i(2))},
		{"EqNegativeInt", driver.Eq("size", i(-5))},
		{"EqZeroInt", driver.Eq("size", i(0))},
		{"EqMaxInt", driver.Eq("size", i(math.MaxInt64))},
		{"EqMaxIntMinusOne", driver.Eq("size", i(math.MaxInt64-1))},
		{"EqFloat", driver.Eq("price", fl(2.5))},
		{"EqFloatByInt", driver.Eq("price", i(2))},
		{"EqFloatZeroByInt", driver.Eq("price", i(0))},
		{"EqBoolTrue", driver.Eq("active", b(true))},
		{"EqBoolFalse", driver.Eq("active", b(false))},

		{"NeString", driver.Ne("color", s("red"))},
		{"NeEmptyString", driver.Ne("color", s(""))},
		{"NeInt", driver.Ne("size", i(2))},
		{"NeFloatByInt", driver.Ne("price", i(2))},
		{"NeBool", driver.Ne("active", b(true))},

		{"InString", driver.In("color", s("red"), s("blue"))},
		{"InOne", driver.In("color", s("green"))},
		{"InEmpty", driver.In("color")},
		{"InMany", driver.In("color", many...)},
		{"InInt", driver.In("size", i(0), i(3), i(10))},
		{"InFloatMixed", driver.In("price", i(3), fl(2.5), fl(-1.5))},
		{"InBool", driver.In("active", b(false))},
		{"NotInString", driver.NotIn("color", s("red"), s("blue"))},
		{"NotInEmpty", driver.NotIn("color")},
		{"NotInInt", driver.NotIn("size", i(0), i(3))},
		{"NotInFloatByInt", driver.NotIn("price", i(2), i(3))},

		{"GtInt", driver.Gt("size", i(2))},
		{"GteInt", driver.Gte("size", i(2))},
		{"LtInt", driver.Lt("size", i(2))},
		{"LteInt", driver.Lte("size", i(2))},
		{"GtIntByFloat", driver.Gt("size", fl(1.5))},
		{"GteIntByWholeFloat", driver.Gte("size", fl(2))},
		{"LtIntByFloat", driver.Lt("size", fl(0.5))},
		{"RangeIntInclusive", driver.Range("size", incl(i(0)), incl(i(3)))},
		{"RangeIntExclusive", driver.Range("size", excl(i(0)), excl(i(3)))},
		{"RangeIntMixed", driver.Range("size", incl(i(-5)), excl(i(2)))},
		{"RangeIntEmpty", driver.Range("size", excl(i(2)), excl(i(3)))},
		{"RangeIntInverted", driver.Range("size", incl(i(5)), incl(i(1)))},
		{"RangeIntHuge", driver.Gte("size", i(math.MaxInt64))},
		{"GtFloatByInt", driver.Gt("price", i(2))},
		{"GteFloatByInt", driver.Gte("price", i(2))},
		{"LtFloat", driver.Lt("price", fl(0))},
		{"LteFloat", driver.Lte("price", fl(0))},
		{"RangeFloat", driver.Range("price", incl(fl(-1.5)), excl(fl(3)))},
		{"RangeFloatPoint", driver.Range("price", incl(fl(2.5)), incl(fl(2.5)))},

		{"ExistsString", driver.Exists("color")},
		{"ExistsInt", driver.Exists("size")},
		{"ExistsFloat", driver.Exists("price")},
		{"ExistsBool", driver.Exists("active")},
		{"IsNullString", driver.IsNull("color")},
		{"IsNullInt", driver.IsNull("size")},
		{"IsNullFloat", driver.IsNull("price")},
		{"IsNullBool", driver.IsNull("active")},

		{"HasID", driver.HasID(someIDs[0], someIDs[3], someIDs[7], missing)},
		{"HasIDEmpty", driver.HasID()},
		{"HasIDMissing", driver.HasID(missing, driver.NumID(999999))},
		{"NotHasID", driver.Not(driver.HasID(someIDs[1], someIDs[2]))},

		{"NotEq", driver.Not(driver.Eq("color", s("red")))},
		{"NotExists", driver.Not(driver.Exists("price"))},
		{"NotIsNull", driver.Not(driver.IsNull("size"))},
		{"NotNe", driver.Not(driver.Ne("active", b(true)))},
		{"NotRange", driver.Not(driver.Gte("size", i(2)))},
		{"NotNotIn", driver.Not(driver.NotIn("color", s("red")))},
		{"DoubleNot", driver.Not(driver.Not(driver.Eq("color", s("blue"))))},

		{"AndTwo", driver.And(driver.Eq("color", s("red")), driver.Gte("size", i(1)))},
		{"AndSame", driver.And(driver.Eq("color", s("red")), driver.Eq("color", s("red")))},
		{"AndContradiction", driver.And(driver.Eq("color", s("red")), driver.Eq("color", s("blue")))},
		{"AndWithEmptyOr", driver.And(driver.Exists("color"), driver.None())},
		{"OrTwo", driver.Or(driver.Eq("color", s("red")), driver.Gt("size", i(2)))},
		{"OrWithEmptyAnd", driver.Or(driver.Eq("color", s("red")), driver.And())},
		{"OrNulls", driver.Or(driver.IsNull("color"), driver.IsNull("active"))},
		{"Nested", driver.And(
			driver.Or(driver.Eq("color", s("red")), driver.Eq("color", s("green")), driver.IsNull("color")),
			driver.Not(driver.Or(driver.In("size", i(1), i(2)), driver.Eq("active", b(false)))),
			driver.Or(driver.Lt("price", fl(2.6)), driver.IsNull("price")),
		)},
		{"NestedWithID", driver.Or(
			driver.And(driver.HasID(someIDs[4], someIDs[5], someIDs[6]), driver.Exists("size")),
			driver.And(driver.Not(driver.HasID(someIDs[4])), driver.Eq("active", b(true))),
		)},
		{"Deep", deepFilter(20)},
	}
}

// deepFilter nests depth levels of alternating not/and/or.
func deepFilter(depth int) *driver.Filter {
	f := driver.Eq("color", driver.String("red"))
	for d := range depth {
		switch d % 3 {
		case 0:
			f = driver.Not(f)
		case 1:
			f = driver.And(f, driver.Exists("size"))
		default:
			f = driver.Or(f, driver.Eq("active", driver.Bool(true)))
		}
	}
	return f
}

// testFilters checks every filter case against driver.Filter.Match over the
// same data, for Count, scroll, read by IDs and Search, then for Delete.
func testFilters(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "filters", standardSpec())
	pts := standardPoints(21, s)
	f.upsert(t, c, pts)
	sorted := sortedPoints(pts)
	cases := filterCases(ids(pts))
	for _, fc := range cases {
		if err := fc.flt.Validate(s); err != nil {
			t.Fatalf("filter case %s is invalid: %v", fc.name, err)
		}
	}
	// Reading all IDs in a scrambled order exercises read-by-IDs with a
	// filter; a missing ID is left out.
	scrambled := append([]driver.PointID{driver.NumID(123456789)}, ids(pts)...)
	newRand(22).Shuffle(len(scrambled), func(i, j int) { scrambled[i], scrambled[j] = scrambled[j], scrambled[i] })
	byIDs := byID(pts)

	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			want := filterPoints(sorted, fc.flt)
			if n := f.count(t, c, fc.flt); n != int64(len(want)) {
				t.Errorf("Count = %d, want %d", n, len(want))
			}
			if got := f.allIDs(t, c, fc.flt); !sameIDs(got, ids(want)) {
				t.Errorf("scroll: got %s, want %s", idList(got), idList(ids(want)))
			}
			pg, err := c.Read(f.ctx, &driver.ReadRequest{IDs: scrambled, Filter: fc.flt, Payload: driver.Projection{All: true}})
			if err != nil {
				t.Fatalf("Read(IDs, filter): %v", err)
			}
			var wantRead []driver.PointID
			for _, id := range scrambled {
				if p, ok := byIDs[id]; ok && fc.flt.Match(id, p.Payload) {
					wantRead = append(wantRead, id)
				}
			}
			if got := ids(pg.Points); !sameIDs(got, wantRead) {
				t.Errorf("Read(IDs): got %s, want %s", idList(got), idList(wantRead))
			}
			for _, vs := range s.Vectors {
				q := randomVector(newRand(uint64(len(fc.name))), vs.Dim, vs.Distance)
				hits := f.search(t, c, &driver.Query{Vector: q, VectorName: vs.Name, Limit: len(pts), Filter: fc.flt})
				found, wanted := f.checkHits(t, vs, reference(pts, vs, q, fc.flt), 0, len(pts), hits)
				f.checkRecall(t, "filtered search ("+vs.Distance.String()+")", found, wanted)
			}
		})
	}

	// Deleting by each filter removes exactly the matching points; the
	// deleted points are written back before the next case.
	for _, fc := range cases {
		t.Run("Delete/"+fc.name, func(t *testing.T) {
			gone := filterPoints(sorted, fc.flt)
			if err := c.Delete(f.ctx, &driver.Selector{Filter: fc.flt}); err != nil {
				t.Fatalf("Delete(filter): %v", err)
			}
			want := filterPoints(sorted, driver.Not(fc.flt))
			if got := f.allIDs(t, c, nil); !sameIDs(got, ids(want)) {
				t.Errorf("after Delete: got %s, want %s", idList(got), idList(ids(want)))
			}
			if n := f.count(t, c, nil); n != int64(len(want)) {
				t.Errorf("Count after Delete = %d, want %d", n, len(want))
			}
			if len(gone) > 0 {
				f.upsert(t, c, gone)
			}
			if n := f.count(t, c, nil); n != int64(len(pts)) {
				t.Fatalf("Count after restoring = %d, want %d", n, len(pts))
			}
		})
	}
}
