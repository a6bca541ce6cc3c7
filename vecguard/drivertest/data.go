package drivertest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// The standard collection: three named vectors of different dimensions and
// distances, a filterable field of every kind, a field that is declared but
// not filterable, and undeclared nested payload.
func standardSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Vectors: []driver.VectorSpec{
			{Name: "cos", Dim: 8, Distance: driver.Cosine},
			{Name: "dot", Dim: 6, Distance: driver.Dot},
			{Name: "euc", Dim: 4, Distance: driver.Euclid},
		},
		Fields: []driver.FieldSpec{
			{Name: "color", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
			{Name: "price", Kind: driver.KindFloat, Filterable: true},
			{Name: "active", Kind: driver.KindBool, Filterable: true},
			{Name: "note", Kind: driver.KindString},
		},
	}
}

// absent marks a field a generated point leaves out of its payload.
type absentT struct{}

var absent absentT

// The values of the filterable fields. Each list holds an explicit null and
// an absent entry; "" and 0 are real values, distinct from null.
var (
	colorValues  = []any{"red", "green", "blue", "", nil, absent, "grün ✓", `it's "quoted" \ `}
	sizeValues   = []any{int64(-5), int64(0), int64(1), int64(2), int64(3), int64(10), int64(math.MaxInt64), nil, absent}
	priceValues  = []any{-1.5, 0.0, 2.0, 2.5, 3.0, 99.99, nil, absent}
	activeValues = []any{true, false, nil, absent}
)

// Numeric IDs with the edges a driver can get wrong: 0 (not the zero
// PointID), values beyond float64 precision, and the top bit set.
var edgeNumIDs = []uint64{0, 1 << 32, 1<<53 + 1, 1 << 63, math.MaxUint64}

// UUIDs at the edges of the byte order.
var edgeUUIDs = []string{"00000001-0000-4000-8000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}

// newRand returns a deterministic generator, so failures reproduce.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x7665636775617264)) }

// randomUUID returns a version-4 UUID point ID drawn from r.
func randomUUID(r *rand.Rand) driver.PointID {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return driver.UUIDFromBytes(b)
}

// randomVector returns a vector of dim components, none of them all zero.
// Dot vectors get varied lengths so that length matters to the ranking.
func randomVector(r *rand.Rand, dim int, d driver.Distance) []float32 {
	v := make([]float32, dim)
	scale := 1.0
	if d == driver.Dot {
		scale = 0.25 + 2*r.Float64()
	}
	for {
		nonzero := false
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
			nonzero = nonzero || v[i] != 0
		}
		if nonzero {
			return v
		}
	}
}

// randomVectors returns one vector for every vector of spec.
func randomVectors(r *rand.Rand, spec *driver.CollectionSpec) map[string][]float32 {
	m := make(map[string][]float32, len(spec.Vectors))
	for _, vs := range spec.Vectors {
		m[vs.Name] = randomVector(r, vs.Dim, vs.Distance)
	}
	return m
}

// standardIDs returns the IDs of the standard data set: numeric IDs with
// gaps and at the edges, random UUIDs and edge UUIDs, shuffled.
func standardIDs(r *rand.Rand) []driver.PointID {
	var out []driver.PointID
	for i := range 30 {
		out = append(out, driver.NumID(uint64(3*i+1)))
	}
	for _, n := range edgeNumIDs {
		out = append(out, driver.NumID(n))
	}
	for range 20 {
		out = append(out, randomUUID(r))
	}
	for _, s := range edgeUUIDs {
		out = append(out, driver.MustParseUUID(s))
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// standardPoints returns the standard data set for spec (the standard spec
// or one with the same fields). Every combination of present, null and
// absent appears for the filterable fields.
func standardPoints(seed uint64, spec *driver.CollectionSpec) []driver.Point {
	r := newRand(seed)
	idl := standardIDs(r)
	pts := make([]driver.Point, len(idl))
	for i, id := range idl {
		p := map[string]any{
			"note": fmt.Sprintf("point %d", i),
			"meta": map[string]any{"rank": int64(i), "ratio": float64(i) + 0.25, "tags": []any{"t", int64(i % 3)}},
		}
		put := func(k string, v any) {
			if v != absent {
				p[k] = v
			}
		}
		put("color", colorValues[i%len(colorValues)])
		put("size", sizeValues[(i*7)%len(sizeValues)])
		put("price", priceValues[(i*5+3)%len(priceValues)])
		put("active", activeValues[(i/3)%len(activeValues)])
		pts[i] = driver.Point{ID: id, Vectors: randomVectors(r, spec), Payload: p}
	}
	return pts
}

// richPayload holds every normalized payload type, nested.
func richPayload() map[string]any {
	return map[string]any{
		"color":  "red",
		"size":   int64(42),
		"price":  2.0, // an integral float stays a float
		"active": false,
		"note":   "héllo, wörld ✓",
		"empty":  "",
		"zero":   int64(0),
		"null":   nil,
		"maxint": int64(math.MaxInt64),
		"minint": int64(math.MinInt64),
		"bigint": int64(1<<53 + 1),
		"float":  -0.125,
		"whole":  3.0,
		"tiny":   1e-300,
		"list":   []any{int64(1), "two", 3.5, true, nil, []any{int64(4)}, map[string]any{"five": int64(5)}},
		"nested": map[string]any{
			"a": map[string]any{"b": map[string]any{"c": int64(-7), "d": []any{"x", "y"}}},
			"e": 6.0,
			"f": false,
		},
		"emptylist": []any{},
		"emptymap":  map[string]any{},
		"huge":      1e308,
		"long":      strings.Repeat("long text ", 1<<13),
		// Keys a database may treat specially: case, paths, spaces,
		// operators, names of its own fields.
		"camelCase":  int64(1),
		"camelcase":  int64(2),
		"dotted.key": "dot",
		"with space": "space",
		"ключ":       "unicode",
		"$set":       "dollar",
		"id":         "not the ID",
		"vector":     "not the vector",
		"quote\"key": "quote",
	}
}

// payloadDiff describes how got differs from want, or returns "". Absent
// and null map entries are the same thing; list elements keep their nulls.
// Values are compared with their types: an int64 is not a float64.
func payloadDiff(want, got map[string]any) string {
	var diffs []string
	diffMap("", want, got, &diffs)
	if len(diffs) == 0 {
		return ""
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func diffMap(path string, want, got map[string]any, diffs *[]string) {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		diffValue(path+k, want[k], got[k], diffs)
	}
}

func diffValue(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %s, want a map", path, describe(got)))
			return
		}
		diffMap(path+".", w, g, diffs)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %s, want %s", path, describe(got), describe(want)))
			return
		}
		for i := range w {
			diffValue(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %s, want %s", path, describe(got), describe(want)))
		}
	}
}

func describe(v any) string {
	if v == nil {
		return "null/absent"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// vectorsDiff describes how the vectors got differ from want, or returns "".
// Cosine vectors are compared by direction when the driver normalizes them.
func vectorsDiff(spec *driver.CollectionSpec, caps Capabilities, want, got map[string][]float32) string {
	var diffs []string
	for _, vs := range spec.Vectors {
		w, g := want[vs.Name], got[vs.Name]
		if len(g) != len(w) {
			diffs = append(diffs, fmt.Sprintf("vector %q: got %d components, want %d", vs.Name, len(g), len(w)))
			continue
		}
		if caps.NormalizesCosine && vs.Distance == driver.Cosine {
			if c := cosine(w, g); c < 1-1e-5 {
				diffs = append(diffs, fmt.Sprintf("vector %q: direction differs (cosine %g)", vs.Name, c))
			}
			continue
		}
		for i := range w {
			if !close32(float64(w[i]), float64(g[i]), 1e-6) {
				diffs = append(diffs, fmt.Sprintf("vector %q[%d]: got %g, want %g", vs.Name, i, g[i], w[i]))
				break
			}
		}
	}
	if len(got) > len(spec.Vectors) {
		diffs = append(diffs, fmt.Sprintf("got %d vectors, the collection has %d", len(got), len(spec.Vectors)))
	}
	return strings.Join(diffs, "; ")
}

// close32 reports whether a and b agree within rel, relative to the larger
// of 1 and |a|.
func close32(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Abs(a))
}

// pointsDiff compares read points with the expected ones (same order),
// payload by projection and vectors when withVectors.
func pointsDiff(spec *driver.CollectionSpec, caps Capabilities, want, got []driver.Point, proj driver.Projection, withVectors bool) string {
	if !sameIDs(ids(want), ids(got)) {
		return fmt.Sprintf("got IDs %s, want %s", idList(ids(got)), idList(ids(want)))
	}
	for i := range want {
		if d := pointDiff(spec, caps, &want[i], &got[i], proj, withVectors); d != "" {
			return fmt.Sprintf("point %v: %s", want[i].ID, d)
		}
	}
	return ""
}

// pointDiff compares one point read back with what was written.
func pointDiff(spec *driver.CollectionSpec, caps Capabilities, want, got *driver.Point, proj driver.Projection, withVectors bool) string {
	var diffs []string
	if got.ID != want.ID {
		diffs = append(diffs, fmt.Sprintf("ID %v, want %v", got.ID, want.ID))
	}
	if d := payloadDiff(proj.Apply(want.Payload), got.Payload); d != "" {
		diffs = append(diffs, "payload: "+d)
	}
	switch {
	case withVectors:
		if d := vectorsDiff(spec, caps, want.Vectors, got.Vectors); d != "" {
			diffs = append(diffs, d)
		}
	case len(got.Vectors) > 0:
		diffs = append(diffs, fmt.Sprintf("got %d vectors without WithVectors", len(got.Vectors)))
	}
	return strings.Join(diffs, "; ")
}

// refHit is one result of the brute-force reference search.
type refHit struct {
	id    driver.PointID
	score float64
}

// score computes the score the contract asks for, in float64.
func score(d driver.Distance, q, v []float32) float64 {
	switch d {
	case driver.Dot:
		var s float64
		for i := range q {
			s += float64(q[i]) * float64(v[i])
		}
		return s
	case driver.Euclid:
		var s float64
		for i := range q {
			x := float64(q[i]) - float64(v[i])
			s += x * x
		}
		return math.Sqrt(s)
	}
	return cosine(q, v)
}

func cosine(a, b []float32) float64 {
	var s, na, nb float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return s / math.Sqrt(na*nb)
}

// better reports whether score a ranks before score b under d.
func better(d driver.Distance, a, b float64) bool {
	if d.HigherIsBetter() {
		return a > b
	}
	return a < b
}

// reference returns every point matching flt ranked for q by brute force,
// best first, ties by ascending ID.
func reference(pts []driver.Point, vs driver.VectorSpec, q []float32, flt *driver.Filter) []refHit {
	var out []refHit
	for i := range pts {
		if flt.Match(pts[i].ID, pts[i].Payload) {
			out = append(out, refHit{pts[i].ID, score(vs.Distance, q, pts[i].Vectors[vs.Name])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return better(vs.Distance, out[i].score, out[j].score)
		}
		return out[i].id.Compare(out[j].id) < 0
	})
	return out
}

// scoreTol is how far a driver's score may be from the reference: 1e-4
// relative, and absolute below 1.
func scoreTol(want float64) float64 { return 1e-4 * math.Max(1, math.Abs(want)) }

// filterPoints returns the points that match flt, in the order given.
func filterPoints(pts []driver.Point, flt *driver.Filter) []driver.Point {
	var out []driver.Point
	for i := range pts {
		if flt.Match(pts[i].ID, pts[i].Payload) {
			out = append(out, pts[i])
		}
	}
	return out
}

// sortedPoints returns a copy of pts in scroll order.
func sortedPoints(pts []driver.Point) []driver.Point {
	out := append([]driver.Point(nil), pts...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Compare(out[j].ID) < 0 })
	return out
}

// byID indexes points by ID.
func byID(pts []driver.Point) map[driver.PointID]driver.Point {
	m := make(map[driver.PointID]driver.Point, len(pts))
	for _, p := range pts {
		m[p.ID] = p
	}
	return m
}
