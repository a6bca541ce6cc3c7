package drivertest

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// testClientCollections checks collection management through the client.
func testClientCollections(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	admin, reader, nothing := cf.as(subjAdmin, ""), cf.as(subjReader, ""), cf.as(subjNothing, "")
	s, _ := cf.createVia(t, "collections", clientSpec(true))
	got, err := cf.c.DescribeCollection(reader, s.Name)
	if err != nil {
		t.Fatalf("DescribeCollection: %v", err)
	}
	if d := specDiff(s, got); d != "" {
		t.Errorf("DescribeCollection: %s", d)
	}
	names, err := cf.c.ListCollections(reader)
	if err != nil {
		t.Fatalf("ListCollections: %v", err)
	}
	if !slices.Contains(names, s.Name) {
		t.Errorf("ListCollections does not list %s for a reader", s.Name)
	}
	if names, err := cf.c.ListCollections(nothing); err != nil || slices.Contains(names, s.Name) {
		t.Errorf("ListCollections for a caller without grants: %q, %v", names, err)
	}
	wantErr(t, "CreateCollection of an existing name", cf.c.CreateCollection(admin, *s), vecguard.ErrAlreadyExists)
	wantErr(t, "DropCollection by a reader", cf.c.DropCollection(reader, s.Name), vecguard.ErrPermissionDenied)
	if err := cf.c.DropCollection(admin, s.Name); err != nil {
		t.Fatalf("DropCollection: %v", err)
	}
	wantErr(t, "DropCollection again", cf.c.DropCollection(admin, s.Name), vecguard.ErrNotFound)
	_, err = cf.c.DescribeCollection(reader, s.Name)
	wantErr(t, "DescribeCollection after drop", err, vecguard.ErrNotFound)
	_, err = cf.c.Count(reader, s.Name, nil)
	wantErr(t, "Count after drop", err, vecguard.ErrNotFound)

	// Re-created with another spec, the collection is used with the new one.
	other := clientSpec(false)
	other.Name = s.Name
	other.Vectors = []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Dot}, {Name: "w", Dim: 3, Distance: driver.Euclid}}
	if err := cf.c.CreateCollection(admin, *other); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	pts := clientPoints(91, other, 1, 5)
	cf.upsertAs(t, admin, other.Name, pts)
	if n, err := cf.c.Count(admin, other.Name, nil); err != nil || n != 5 {
		t.Errorf("Count in the re-created collection = %d, %v; want 5", n, err)
	}
}

// testClientRecommend checks recommendation by example: examples must be
// readable, are not returned, and results are best first.
func testClientRecommend(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, _ := cf.createVia(t, "recommend", clientSpec(false))
	admin := cf.as(subjAdmin, "")
	pts := clientPoints(92, s, 1, 40)
	cf.upsertAs(t, admin, s.Name, pts)
	_, err := cf.c.Recommend(admin, s.Name, vecguard.RecommendRequest{Positive: []driver.PointID{driver.NumID(99999)}})
	wantErr(t, "Recommend from a missing point", err, vecguard.ErrNotFound)
	_, err = cf.c.Recommend(admin, s.Name, vecguard.RecommendRequest{Positive: ids(pts[:1]), Negative: []driver.PointID{driver.NumID(99999)}})
	wantErr(t, "Recommend away from a missing point", err, vecguard.ErrNotFound)
	for _, vs := range s.Vectors {
		req := vecguard.RecommendRequest{Positive: ids(pts[:2]), Negative: ids(pts[2:3]), VectorName: vs.Name, Limit: 10, WithPayload: true}
		hits, err := cf.c.Recommend(admin, s.Name, req)
		if err != nil {
			t.Fatalf("Recommend(%s): %v", vs.Name, err)
		}
		if len(hits) == 0 {
			t.Fatalf("Recommend(%s) returned nothing", vs.Name)
		}
		// Qdrant's average_vector strategy: 2·avg(positive) − avg(negative).
		// The client averages the vectors the driver returns, which are
		// normalized when the driver normalizes cosine vectors.
		ex := make([][]float32, 3)
		for i := range ex {
			ex[i] = pts[i].Vectors[vs.Name]
			if cf.caps.NormalizesCosine && vs.Distance == driver.Cosine {
				ex[i] = normalized(ex[i])
			}
		}
		q := make([]float32, vs.Dim)
		for i := range q {
			p := (float64(ex[0][i]) + float64(ex[1][i])) / 2
			q[i] = float32(2*p - float64(ex[2][i]))
		}
		ref := reference(pts[3:], vs, q, nil)
		found, wanted := cf.checkHits(t, vs, ref, 0, 10, hits)
		cf.checkRecall(t, "Recommend", found, wanted)
		for _, h := range hits {
			if slices.Contains(ids(pts[:3]), h.ID) {
				t.Errorf("Recommend returned its example %v", h.ID)
			}
			if h.Payload["color"] == nil {
				t.Errorf("Recommend with payload returned %v without its payload", h.ID)
			}
		}
	}
}

// testClientReadVectors checks that stored vectors are returned only to
// callers granted read_vectors.
func testClientReadVectors(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "vectors", clientSpec(false))
	pts := clientPoints(93, s, 1, 10)
	cf.upsertAs(t, cf.as(subjAdmin, ""), s.Name, pts)
	q := pts[0].Vectors["v"]
	reads := []struct {
		name string
		call func(ctx context.Context, withVectors bool) ([]driver.Point, error)
	}{
		{"Search", func(ctx context.Context, wv bool) ([]driver.Point, error) {
			hits, err := cf.c.Search(ctx, s.Name, vecguard.SearchRequest{Vector: q, Limit: 5, WithVectors: wv})
			return scoredPoints(hits), err
		}},
		{"Recommend", func(ctx context.Context, wv bool) ([]driver.Point, error) {
			hits, err := cf.c.Recommend(ctx, s.Name, vecguard.RecommendRequest{Positive: ids(pts[:1]), Limit: 5, WithVectors: wv})
			return scoredPoints(hits), err
		}},
		{"Get", func(ctx context.Context, wv bool) ([]driver.Point, error) {
			return cf.c.Get(ctx, s.Name, ids(pts[:4]), vecguard.ReadOptions{WithVectors: wv})
		}},
		{"Scroll", func(ctx context.Context, wv bool) ([]driver.Point, error) {
			pg, err := cf.c.Scroll(ctx, s.Name, vecguard.ScrollRequest{Limit: 5, WithVectors: wv})
			return pg.Points, err
		}},
	}
	orig := byID(pts)
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			for _, subj := range []string{subjReader, subjWriter} {
				_, err := rd.call(cf.as(subj, ""), true)
				wantErr(t, subj+" with vectors", err, vecguard.ErrPermissionDenied)
				got, err := rd.call(cf.as(subj, ""), false)
				if err != nil {
					t.Fatalf("%s without vectors: %v", subj, err)
				}
				for _, p := range got {
					if len(p.Vectors) != 0 {
						t.Errorf("%s without vectors: %v came with vectors", subj, p.ID)
					}
				}
			}
			got, err := rd.call(cf.as(subjAlice, ""), true)
			if err != nil {
				t.Fatalf("with read_vectors: %v", err)
			}
			if len(got) == 0 {
				t.Fatal("with read_vectors: no points")
			}
			for _, p := range got {
				want := orig[p.ID]
				if d := vectorsDiff(s, cf.caps, want.Vectors, p.Vectors); d != "" {
					t.Errorf("point %v: %s", p.ID, d)
				}
			}
		})
	}
	_ = c
}

// normalized returns v scaled to unit length.
func normalized(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

func scoredPoints(hits []driver.ScoredPoint) []driver.Point {
	out := make([]driver.Point, len(hits))
	for i := range hits {
		out[i] = hits[i].Point
	}
	return out
}

// testClientCursors checks that scroll cursors are opaque, page through
// every readable point once and that a malformed cursor is refused.
func testClientCursors(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, c := cf.createVia(t, "cursors", clientSpec(false))
	admin := cf.as(subjAdmin, "")
	pts := clientPoints(94, s, 1, 23)
	cf.upsertAs(t, admin, s.Name, pts)
	want := cf.visible(t, c, nil)
	var got []driver.PointID
	var cursors []string
	cursor := ""
	for range 100 {
		pg, err := cf.c.Scroll(admin, s.Name, vecguard.ScrollRequest{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatalf("Scroll: %v", err)
		}
		got = append(got, ids(pg.Points)...)
		if cursor = pg.Cursor; cursor == "" {
			break
		}
		cursors = append(cursors, cursor)
		last := pg.Points[len(pg.Points)-1].ID
		if cursor == last.String() {
			t.Errorf("cursor %q is the bare ID", cursor)
		}
		if _, err := driver.ParseID(cursor); err == nil {
			t.Errorf("cursor %q parses as a point ID", cursor)
		}
	}
	if !sameIDs(got, want) {
		t.Errorf("scrolled %s, want %s", idList(got), idList(want))
	}
	if len(cursors) == 0 {
		t.Fatal("no cursor was returned")
	}
	valid := cursors[0]
	malformed := []string{
		"x",
		"c1.",
		"c1.@@@@",
		"c1." + base64.RawURLEncoding.EncodeToString([]byte("not an id")),
		"c1." + base64.RawURLEncoding.EncodeToString([]byte("")),
		"c1." + base64.RawURLEncoding.EncodeToString([]byte("18446744073709551616")),
		"c2." + valid[3:],
		valid + "=",
		" " + valid,
		strings.Repeat("A", 10000),
		want[0].String(),
	}
	for _, m := range malformed {
		_, err := cf.c.Scroll(admin, s.Name, vecguard.ScrollRequest{Limit: 4, Cursor: m})
		wantErr(t, "Scroll with a malformed cursor", err, vecguard.ErrInvalidArgument)
	}
}

// testClientPayload checks that the client stores payloads normalized:
// Go integer types as int64, float32 as float64, ints in float fields as
// floats.
func testClientPayload(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, _ := cf.createVia(t, "payload", clientSpec(false))
	admin := cf.as(subjAdmin, "")
	p := clientPoints(95, s, 1, 1)[0]
	p.Payload = map[string]any{
		"color": "red",
		"size":  int32(7),
		"price": int(3),
		"u8":    uint8(8),
		"f32":   float32(0.5),
		"strs":  []string{"a", "b"},
		"deep":  map[string]any{"n": int16(-2), "l": []any{uint32(9), float32(1.5)}},
		"null":  nil,
	}
	if err := cf.c.Upsert(admin, s.Name, []driver.Point{p}); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	got, err := cf.c.Get(admin, s.Name, []driver.PointID{p.ID}, vecguard.ReadOptions{WithPayload: true})
	if err != nil || len(got) != 1 {
		t.Fatalf("Get: %d points, %v", len(got), err)
	}
	want := map[string]any{
		"color": "red",
		"size":  int64(7),
		"price": float64(3),
		"u8":    int64(8),
		"f32":   0.5,
		"strs":  []any{"a", "b"},
		"deep":  map[string]any{"n": int64(-2), "l": []any{int64(9), 1.5}},
	}
	if d := payloadDiff(want, got[0].Payload); d != "" {
		t.Errorf("payload: %s", d)
	}
	if n, err := cf.c.Count(admin, s.Name, driver.Eq("price", driver.Int(3))); err != nil || n != 1 {
		t.Errorf("Count(price == 3) = %d, %v; want 1", n, err)
	}
	fields, err := cf.c.Get(admin, s.Name, []driver.PointID{p.ID}, vecguard.ReadOptions{PayloadFields: []string{"size", "deep", "absent"}})
	if err != nil || len(fields) != 1 {
		t.Fatalf("Get: %d points, %v", len(fields), err)
	}
	if d := payloadDiff(map[string]any{"size": want["size"], "deep": want["deep"]}, fields[0].Payload); d != "" {
		t.Errorf("projected payload: %s", d)
	}
	none, err := cf.c.Get(admin, s.Name, []driver.PointID{p.ID}, vecguard.ReadOptions{})
	if err != nil || len(none) != 1 {
		t.Fatalf("Get: %d points, %v", len(none), err)
	}
	if len(none[0].Payload) != 0 || len(none[0].Vectors) != 0 {
		t.Errorf("Get without payload or vectors returned %d keys, %d vectors", len(none[0].Payload), len(none[0].Vectors))
	}
}

// testClientErrors checks the error shape: one *vecguard.Error naming the
// operation and collection, matched by errors.Is on its code only.
func testClientErrors(t *testing.T, newHarness HarnessMaker) {
	cf := newClientFixture(t, newHarness)
	s, _ := cf.createVia(t, "errors", clientSpec(false))
	admin := cf.as(subjAdmin, "")
	cases := []struct {
		name string
		err  error
		op   string
		code driver.Code
	}{
		{"InvalidArgument", cf.c.Upsert(admin, s.Name, nil), "upsert", driver.InvalidArgument},
		{"NotFound", cf.c.DropCollection(admin, s.Name+"_gone"), "drop_collection", driver.NotFound},
		{"PermissionDenied", cf.c.DropCollection(cf.as(subjReader, ""), s.Name), "drop_collection", driver.PermissionDenied},
		{"Unauthenticated", cf.c.Delete(cf.ctx, s.Name, []driver.PointID{driver.NumID(1)}), "delete", driver.Unauthenticated},
		{"AlreadyExists", cf.c.CreateCollection(admin, *s), "create_collection", driver.AlreadyExists},
	}
	canceled, cancel := context.WithCancel(admin)
	cancel()
	_, err := cf.c.Count(canceled, s.Name, nil)
	cases = append(cases, struct {
		name string
		err  error
		op   string
		code driver.Code
	}{"Canceled", err, "count", driver.Canceled})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e *vecguard.Error
			if !errors.As(tc.err, &e) {
				t.Fatalf("error %v (%T) is not a *vecguard.Error", tc.err, tc.err)
			}
			if e.Code != tc.code || e.Op != tc.op {
				t.Errorf("error %v: code %s, op %q; want %s, %q", tc.err, e.Code, e.Op, tc.code, tc.op)
			}
			if !strings.HasPrefix(e.Collection, s.Name) {
				t.Errorf("error %v names collection %q", tc.err, e.Collection)
			}
			if !errors.Is(tc.err, &vecguard.Error{Code: tc.code}) {
				t.Errorf("errors.Is(%v, code %s) is false", tc.err, tc.code)
			}
			if errors.Is(tc.err, &vecguard.Error{Code: tc.code, Op: tc.op}) {
				t.Errorf("errors.Is matched a target with more than a code")
			}
			if tc.code == driver.Canceled && !errors.Is(tc.err, vecguard.ErrCanceled) {
				t.Errorf("a cancelled call is not ErrCanceled: %v", tc.err)
			}
		})
	}
}
