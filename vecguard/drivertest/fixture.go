package drivertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// defaultRecallFloor is the recall@10 an approximate driver must reach when
// its Capabilities leave RecallFloor at zero.
const defaultRecallFloor = 0.9

// fixture is what one test case works with: a driver from a fresh harness
// and the promises the harness makes for it.
type fixture struct {
	ctx        context.Context
	drv        driver.Driver
	caps       Capabilities
	classifier driver.ErrorClassifier
}

// newFixture makes a harness and a driver for one test. Both are released
// when the test ends, after the collections it created are dropped.
func newFixture(t *testing.T, newHarness HarnessMaker) *fixture {
	t.Helper()
	ctx := t.Context()
	h, err := newHarness(ctx, t)
	if err != nil {
		t.Fatalf("making harness: %v", err)
	}
	t.Cleanup(h.Close)
	drv, err := h.MakeDriver(ctx)
	if err != nil {
		t.Fatalf("MakeDriver: %v", err)
	}
	if c, ok := drv.(interface{ Close() error }); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("closing driver: %v", err)
			}
		})
	}
	f := &fixture{ctx: ctx, drv: drv, caps: h.Capabilities()}
	if f.caps.RecallFloor == 0 {
		f.caps.RecallFloor = defaultRecallFloor
	}
	f.classifier, _ = drv.(driver.ErrorClassifier)
	return f
}

// codeOf classifies err the way the guarded client does: *driver.Error and
// context errors first, then the driver's ErrorClassifier.
func (f *fixture) codeOf(err error) driver.Code {
	code := driver.CodeOf(err)
	if code == driver.Unknown && err != nil && f.classifier != nil {
		code = f.classifier.ErrorCode(err)
	}
	return code
}

// wantCode fails the test unless err has the given code. what names the call.
func (f *fixture) wantCode(t *testing.T, what string, err error, want driver.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %s", what, want)
		return
	}
	got := f.codeOf(err)
	if got != want && !errors.Is(err, &driver.Error{Code: want}) {
		t.Errorf("%s: got error %v (code %s), want code %s", what, err, got, want)
	}
}

// uniqueName returns a collection name no other test uses, also on a shared
// server: a readable tag and a random suffix.
func uniqueName(tag string) string {
	return fmt.Sprintf("vgt_%s_%016x", tag, rand.Uint64())
}

// create creates a collection from spec under a unique name derived from
// tag (spec.Name is ignored) and drops it when the test ends. It returns the
// stored spec and the collection's data operations.
func (f *fixture) create(t *testing.T, tag string, spec *driver.CollectionSpec) (*driver.CollectionSpec, driver.Collection) {
	t.Helper()
	s := spec.Clone()
	s.Name = uniqueName(tag)
	f.mustCreate(t, s)
	return s, f.drv.Collection(s)
}

// mustCreate creates the collection s (with its own name) and drops it when
// the test ends.
func (f *fixture) mustCreate(t *testing.T, s *driver.CollectionSpec) {
	t.Helper()
	if err := f.drv.CreateCollection(f.ctx, s); err != nil {
		t.Fatalf("CreateCollection(%s): %v", s.Name, err)
	}
	f.dropLater(t, s.Name)
}

// dropLater drops a collection when the test ends; a collection the test
// dropped itself is fine.
func (f *fixture) dropLater(t *testing.T, name string) {
	t.Cleanup(func() {
		// t.Context is done by now; the drop must still reach the database.
		err := f.drv.DropCollection(context.Background(), name)
		if err != nil && f.codeOf(err) != driver.NotFound {
			t.Errorf("dropping collection %s: %v", name, err)
		}
	})
}

// upsert writes points in batches, failing the test on error.
func (f *fixture) upsert(t *testing.T, c driver.Collection, pts []driver.Point) {
	t.Helper()
	const batch = 256
	for len(pts) > 0 {
		n := min(batch, len(pts))
		if err := c.Upsert(f.ctx, clonePoints(pts[:n])); err != nil {
			t.Fatalf("Upsert: %v", err)
		}
		pts = pts[n:]
	}
}

// scrollAll reads every point matching flt in ID order with the given page
// size, checking the page contract on the way.
func (f *fixture) scrollAll(t *testing.T, c driver.Collection, flt *driver.Filter, pageSize int, proj driver.Projection, withVectors bool) []driver.Point {
	t.Helper()
	var out []driver.Point
	var after driver.PointID
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("scroll does not end")
		}
		pg, err := c.Read(f.ctx, &driver.ReadRequest{Filter: flt, Limit: pageSize, After: after, Payload: proj, WithVectors: withVectors})
		if err != nil {
			t.Fatalf("Read (scroll, page size %d, after %v): %v", pageSize, after, err)
		}
		if len(pg.Points) > pageSize {
			t.Fatalf("scroll page has %d points, page size is %d", len(pg.Points), pageSize)
		}
		out = append(out, pg.Points...)
		if pg.Next.IsZero() {
			return out
		}
		if len(pg.Points) == 0 {
			t.Fatalf("scroll page is empty but Next is %v", pg.Next)
		}
		if last := pg.Points[len(pg.Points)-1].ID; pg.Next != last {
			t.Fatalf("scroll page Next = %v, want the last ID of the page %v", pg.Next, last)
		}
		after = pg.Next
	}
}

// allIDs returns the IDs of every point matching flt, in scroll order.
func (f *fixture) allIDs(t *testing.T, c driver.Collection, flt *driver.Filter) []driver.PointID {
	t.Helper()
	return ids(f.scrollAll(t, c, flt, 100, driver.Projection{}, false))
}

// count returns Count(flt), failing the test on error.
func (f *fixture) count(t *testing.T, c driver.Collection, flt *driver.Filter) int64 {
	t.Helper()
	n, err := c.Count(f.ctx, flt)
	if err != nil {
		t.Fatalf("Count(%v): %v", flt, err)
	}
	return n
}

// readIDs reads points by ID with the whole payload and every vector.
func (f *fixture) readIDs(t *testing.T, c driver.Collection, want []driver.PointID) []driver.Point {
	t.Helper()
	pg, err := c.Read(f.ctx, &driver.ReadRequest{IDs: want, Payload: driver.Projection{All: true}, WithVectors: true})
	if err != nil {
		t.Fatalf("Read(IDs): %v", err)
	}
	return pg.Points
}

// ids returns the IDs of pts in order.
func ids(pts []driver.Point) []driver.PointID {
	out := make([]driver.PointID, len(pts))
	for i := range pts {
		out[i] = pts[i].ID
	}
	return out
}

// hitIDs returns the IDs of search results in order.
func hitIDs(hits []driver.ScoredPoint) []driver.PointID {
	out := make([]driver.PointID, len(hits))
	for i := range hits {
		out[i] = hits[i].ID
	}
	return out
}

func clonePoints(pts []driver.Point) []driver.Point {
	out := make([]driver.Point, len(pts))
	for i := range pts {
		out[i] = pts[i].Clone()
	}
	return out
}

// idList formats IDs for failure messages.
func idList(xs []driver.PointID) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// sameIDs reports whether a and b hold the same IDs in the same order.
func sameIDs(a, b []driver.PointID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
