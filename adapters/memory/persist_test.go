package memory

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// quiet is a logger for tests that expect warnings.
func quiet(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func openT(t *testing.T, dir string, opts *Options) *Store {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = quiet(&bytes.Buffer{})
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dump is the whole state of a store: specs and every point, fully.
type dump map[string]struct {
	Spec   *driver.CollectionSpec
	Points []driver.Point
}

func dumpStore(t *testing.T, s *Store) dump {
	t.Helper()
	ctx := context.Background()
	names, err := s.ListCollections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := dump{}
	for _, n := range names {
		spec, err := s.DescribeCollection(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		var pts []driver.Point
		var after driver.PointID
		for {
			pg, err := s.Collection(spec).Read(ctx, &driver.ReadRequest{Limit: 64, After: after, Payload: driver.Projection{All: true}, WithVectors: true})
			if err != nil {
				t.Fatal(err)
			}
			pts = append(pts, pg.Points...)
			if pg.Next.IsZero() {
				break
			}
			after = pg.Next
		}
		d[n] = struct {
			Spec   *driver.CollectionSpec
			Points []driver.Point
		}{spec, pts}
	}
	return d
}

// workload runs a mix of every write operation with payloads of every type.
func workload(t *testing.T, s *Store, seed uint64, rounds int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed))
	spec := testSpec(fmt.Sprintf("w%d", seed), driver.Cosine, 3)
	if err := s.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	c := s.Collection(spec)
	for r := range rounds {
		var pts []driver.Point
		for i := range 20 {
			id := mixedID(rng.IntN(100))
			pts = append(pts, driver.Point{ID: id, Vectors: map[string][]float32{"v": {rng.Float32(), -1e-30, 3e38}, "w": {0, float32(i)}},
				Payload: map[string]any{
					"tenant": fmt.Sprintf("t%d", i%3), "n": int64(1) << 62, "f": 2.0, "neg": int64(-5), "b": r%2 == 0,
					"null": nil, "s": "ünïcode\x00", "l": []any{int64(1), 1.5, "x", nil, []any{}, map[string]any{"k": false}},
				}})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{mixedID(rng.IntN(100)), mixedID(rng.IntN(100))}}); err != nil {
			t.Fatal(err)
		}
		if err := c.(driver.PayloadUpdater).UpdatePayload(ctx, &driver.Selector{Filter: driver.Eq("tenant", driver.String("t1"))},
			map[string]any{"u": int64(r), "f": 3}, []string{"s"}); err != nil {
			t.Fatal(err)
		}
		if r == rounds/2 {
			if err := c.Delete(ctx, &driver.Selector{Filter: driver.Eq("tenant", driver.String("t2"))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A dropped and re-created collection, and an empty one.
	tmp := testSpec("tmp", driver.Euclid, 1)
	for range 2 {
		_ = s.DropCollection(ctx, "tmp")
		if err := s.CreateCollection(ctx, tmp); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPersistReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	workload(t, s, 1, 30)
	want := dumpStore(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, nil)
	got := dumpStore(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("state after reopen differs")
	}
	// Types survive: int64 stays int64 (even past 2^53), float64 stays float64.
	p := got["w1"].Points[0].Payload
	if _, ok := p["n"].(int64); !ok || p["n"] != int64(1)<<62 {
		t.Fatalf("int payload came back as %T", p["n"])
	}
	if s.Recovery() != (Recovery{}) {
		t.Fatalf("clean log reported a recovery: %+v", s.Recovery())
	}

	// Compaction, more writes, reopen: same state; then reopen again.
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	workload(t, s, 2, 10)
	want = dumpStore(t, s)
	s.Close()
	for range 2 {
		s = openT(t, dir, nil)
		if got := dumpStore(t, s); !reflect.DeepEqual(got, want) {
			t.Fatal("state after compaction and reopen differs")
		}
		s.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, snapName+tmpExt)); !os.IsNotExist(err) {
		t.Fatal("a temporary file was left behind")
	}
}

func TestPersistAutoCompact(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, &Options{CompactBytes: 4096, NoSync: true})
	workload(t, s, 3, 40)
	want := dumpStore(t, s)
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if sn, err := os.Stat(filepath.Join(dir, snapName)); err != nil || fi.Size() > 2*sn.Size()+8192 {
		t.Fatalf("log not compacted: log %d bytes (%v)", fi.Size(), err)
	}
	s = openT(t, dir, nil)
	defer s.Close()
	if got := dumpStore(t, s); !reflect.DeepEqual(got, want) {
		t.Fatal("state after automatic compaction differs")
	}
}

// logOffsets returns the offset of each record in a log file.
func logOffsets(t *testing.T, b []byte) []int {
	t.Helper()
	var offs []int
	for off := headerSize; off < len(b); {
		offs = append(offs, off)
		off += frameHeader + int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	return offs
}

func TestPersistTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(b []byte, last int) []byte
	}{
		{"half a record", func(b []byte, last int) []byte { return b[:last+(len(b)-last)/2] }},
		{"half a header", func(b []byte, last int) []byte { return b[:last+3] }},
		{"garbage body", func(b []byte, last int) []byte { b[len(b)-2] ^= 0xff; return b }},
		{"zeros after", func(b []byte, last int) []byte { return append(b, make([]byte, 4096)...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, nil)
			workload(t, s, 4, 5)
			before := dumpStore(t, s)
			c := s.Collection(testSpec("w4", driver.Cosine, 3))
			if err := c.Delete(context.Background(), &driver.Selector{}); err != nil {
				t.Fatal(err)
			}
			after := dumpStore(t, s)
			s.Close()

			path := filepath.Join(dir, logName)
			b, _ := os.ReadFile(path)
			offs := logOffsets(t, b)
			last := offs[len(offs)-1]
			size := len(b)
			if tc.name == "zeros after" {
				last = size // the whole last record stays
			}
			if err := os.WriteFile(path, tc.tear(b, last), 0o600); err != nil {
				t.Fatal(err)
			}

			var logs bytes.Buffer
			s = openT(t, dir, &Options{Logger: quiet(&logs)})
			rec := s.Recovery()
			if rec.TruncatedAt != int64(last) || rec.TruncatedBytes == 0 {
				t.Fatalf("recovery %+v, want a cut at %d", rec, last)
			}
			if !strings.Contains(logs.String(), "torn") {
				t.Fatalf("no warning logged: %q", logs.String())
			}
			want := before // the torn delete is gone
			if tc.name == "zeros after" {
				want = after // the intact delete stays
			}
			if !reflect.DeepEqual(dumpStore(t, s), want) {
				t.Fatal("state after a torn tail is not the state before the torn write")
			}
			// The log is usable again, and clean on the next open.
			workload(t, s, 5, 2)
			want = dumpStore(t, s)
			s.Close()
			s = openT(t, dir, nil)
			defer s.Close()
			if s.Recovery() != (Recovery{}) || !reflect.DeepEqual(dumpStore(t, s), want) {
				t.Fatal("second reopen after repair")
			}
		})
	}
}

func TestPersistCorruption(t *testing.T) {
	build := func(t *testing.T) string {
		dir := t.TempDir()
		s := openT(t, dir, nil)
		workload(t, s, 6, 5)
		s.Close()
		return dir
	}
	mangle := func(t *testing.T, path string, fn func([]byte) []byte) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, fn(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		hurt func(t *testing.T, dir string)
	}{
		{"flipped byte in the middle", func(t *testing.T, dir string) {
			mangle(t, filepath.Join(dir, logName), func(b []byte) []byte {
				offs := logOffsets(t, b)
				b[offs[2]+frameHeader+3] ^= 1
				return b
			})
		}},
		{"length in the middle", func(t *testing.T, dir string) {
			mangle(t, filepath.Join(dir, logName), func(b []byte) []byte {
				offs := logOffsets(t, b)
				binary.LittleEndian.PutUint32(b[offs[1]+4:], 1<<29)
				return b
			})
		}},
		{"record removed", func(t *testing.T, dir string) {
			mangle(t, filepath.Join(dir, logName), func(b []byte) []byte {
				offs := logOffsets(t, b) // the create: later records name a missing collection
				return append(b[:offs[0]:offs[0]], b[offs[1]:]...)
			})
		}},
		{"log header", func(t *testing.T, dir string) {
			mangle(t, filepath.Join(dir, logName), func(b []byte) []byte { b[9] ^= 1; return b })
		}},
		{"snapshot byte", func(t *testing.T, dir string) {
			s := openT(t, dir, nil)
			s.Compact()
			s.Close()
			mangle(t, filepath.Join(dir, snapName), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		}},
		{"snapshot truncated", func(t *testing.T, dir string) {
			s := openT(t, dir, nil)
			s.Compact()
			s.Close()
			mangle(t, filepath.Join(dir, snapName), func(b []byte) []byte { return b[:len(b)-10] })
		}},
		{"snapshot missing", func(t *testing.T, dir string) {
			s := openT(t, dir, nil)
			s.Compact()
			s.Close()
			os.Remove(filepath.Join(dir, snapName))
		}},
		{"log missing", func(t *testing.T, dir string) {
			s := openT(t, dir, nil)
			s.Compact()
			s.Close()
			os.Remove(filepath.Join(dir, logName))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := build(t)
			tc.hurt(t, dir)
			s, err := Open(dir, &Options{Logger: quiet(&bytes.Buffer{})})
			if err == nil {
				s.Close()
			}
			mustCode(t, err, driver.DataLoss)
		})
	}
}

// TestPersistInterruptedCompaction simulates a crash after the snapshot was
// renamed into place and before the new log was: the old log must be
// ignored, not replayed on top of the snapshot.
func TestPersistInterruptedCompaction(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	workload(t, s, 7, 5)
	want := dumpStore(t, s)
	s.Close()
	old, _ := os.ReadFile(filepath.Join(dir, logName))
	s = openT(t, dir, nil)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, logName), old, 0o600); err != nil {
		t.Fatal(err)
	}
	// A leftover temporary file is removed too.
	os.WriteFile(filepath.Join(dir, logName+tmpExt), []byte("partial"), 0o600)
	s = openT(t, dir, nil)
	defer s.Close()
	if !s.Recovery().StaleLog {
		t.Fatal("stale log not reported")
	}
	if !reflect.DeepEqual(dumpStore(t, s), want) {
		t.Fatal("state after an interrupted compaction differs")
	}
	if _, err := os.Stat(filepath.Join(dir, logName+tmpExt)); !os.IsNotExist(err) {
		t.Fatal("temporary file left")
	}
}

func TestPersistLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	_, err := Open(dir, nil)
	mustCode(t, err, driver.FailedPrecondition)
	s.Close()
	s = openT(t, dir, nil) // released by Close
	s.Close()
	mustCode(t, s.Compact(), driver.FailedPrecondition)
	mustCode(t, s.CreateCollection(context.Background(), testSpec("x", driver.Dot, 1)), driver.FailedPrecondition)
}

// TestPersistConcurrentWriters writes from several goroutines, compacting
// meanwhile; run it with -race.
func TestPersistConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, &Options{CompactBytes: 32 << 10})
	ctx := context.Background()
	specs := []*driver.CollectionSpec{testSpec("c0", driver.Dot, 2), testSpec("c1", driver.Cosine, 2)}
	for _, sp := range specs {
		if err := s.CreateCollection(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		c := s.Collection(specs[w%2])
		wg.Go(func() {
			for i := range 60 {
				id := driver.NumID(uint64(w*1000 + i))
				err := c.Upsert(ctx, []driver.Point{{ID: id, Vectors: map[string][]float32{"v": {1, float32(i)}, "w": {0, 1}},
					Payload: map[string]any{"tenant": "t", "n": int64(i)}}})
				if err == nil && i%5 == 0 {
					err = c.(driver.PayloadUpdater).UpdatePayload(ctx, &driver.Selector{IDs: []driver.PointID{id}}, map[string]any{"tag": "x"}, nil)
				}
				if err == nil && i%7 == 0 {
					err = c.Delete(ctx, &driver.Selector{IDs: []driver.PointID{id}})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Compact(); err != nil {
				t.Error(err)
			}
			if _, err := s.Collection(specs[0]).Read(ctx, &driver.ReadRequest{Limit: 10}); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	want := dumpStore(t, s)
	s.Close()
	s = openT(t, dir, nil)
	defer s.Close()
	got := dumpStore(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("state after concurrent writes differs on reopen")
	}
	if n := len(got["c0"].Points) + len(got["c1"].Points); n != 4*(60-9) {
		t.Fatalf("%d points, want %d", n, 4*(60-9))
	}
}

func TestCodecRoundTrip(t *testing.T) {
	spec := testSpec("codec", driver.Euclid, 2)
	pts := []driver.Point{
		{ID: driver.NumID(1<<64 - 1), Vectors: map[string][]float32{"v": {1, -2}, "w": {0, 0}}},
		{ID: driver.MustParseUUID("00112233-4455-6677-8899-aabbccddeeff"), Vectors: map[string][]float32{"v": {1, 2}, "w": {3, 4}},
			Payload: map[string]any{"a": int64(-1 << 63), "b": math.Copysign(0, -1), "c": map[string]any{}, "d": []any{nil, true}}},
	}
	for _, fr := range [][]byte{encodeCreate(spec), encodeDrop("x"), encodeUpsert("codec", pts),
		encodeDelete("codec", ids(pts)), encodeSetPayload("codec", ids(pts), map[string]any{"z": "v"}, []string{"a"}), encodeEnd(7)} {
		body, ok := frameOK(fr)
		if !ok || len(body) != len(fr)-frameHeader {
			t.Fatal("frame does not check")
		}
		r, err := decodeRecord(body)
		if err != nil {
			t.Fatal(err)
		}
		switch r.op {
		case opCreate:
			if !reflect.DeepEqual(r.spec, spec) {
				t.Fatalf("spec %+v", r.spec)
			}
		case opUpsert:
			if !reflect.DeepEqual(r.points, pts) {
				t.Fatalf("points %#v", r.points)
			}
		case opSetPayload:
			if !reflect.DeepEqual(r.set, map[string]any{"z": "v"}) || !reflect.DeepEqual(r.unset, []string{"a"}) || len(r.ids) != 2 {
				t.Fatal("set payload")
			}
		case opEnd:
			if r.count != 7 {
				t.Fatal("end")
			}
		}
		// Every strict prefix of a body fails to decode.
		for i := range body {
			if _, err := decodeRecord(body[:i]); err == nil {
				t.Fatalf("op %d: prefix of %d bytes decoded", r.op, i)
			}
		}
	}
}

// FuzzDecodeRecord checks that no body panics the decoder or makes it
// allocate beyond its input.
func FuzzDecodeRecord(f *testing.F) {
	spec := testSpec("f", driver.Dot, 2)
	pts := []driver.Point{{ID: driver.NumID(3), Vectors: map[string][]float32{"v": {1, 2}, "w": {3, 4}},
		Payload: map[string]any{"a": []any{int64(1), map[string]any{"b": 1.5}}}}}
	for _, fr := range [][]byte{encodeCreate(spec), encodeUpsert("f", pts), encodeDelete("f", ids(pts)),
		encodeSetPayload("f", ids(pts), map[string]any{"x": nil}, []string{"y"}), encodeEnd(1)} {
		f.Add(fr[frameHeader:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if r.op == opUpsert {
			for _, p := range r.points {
				if _, err := driver.NormalizePayload(p.Payload); err != nil {
					t.Fatalf("decoded an unnormalized payload: %v", err)
				}
			}
		}
	})
}

// FuzzOpenLog writes arbitrary records after a valid log header: Open must
// either load the store or fail with DataLoss, never panic.
func FuzzOpenLog(f *testing.F) {
	spec := testSpec("f", driver.Dot, 2)
	pts := []driver.Point{{ID: driver.NumID(3), Vectors: map[string][]float32{"v": {1, 2}, "w": {3, 4}}}}
	good := append(encodeCreate(spec), encodeUpsert("f", pts)...)
	f.Add(good)
	f.Add(append(append([]byte{}, good...), encodeDrop("f")[:5]...))
	f.Add(append(encodeDrop("f"), good...))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, logName), append(fileHeader(logMagic, 0), b...), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, &Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NoSync: true})
		if err != nil {
			if driver.CodeOf(err) != driver.DataLoss {
				t.Fatalf("Open: %v, want DataLoss", err)
			}
			return
		}
		s.Close()
	})
}
