package tlogfile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func testKeys(t testing.TB) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := GenerateKey("test.log")
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

func rec(i int) []byte { return fmt.Appendf(nil, `{"op":"search","i":%d}`, i) }

// writeLog makes a log of batches of the given sizes and returns its path
// and lines.
func writeLog(t *testing.T, skey string, batches ...int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, skey, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, n := range batches {
		var rs [][]byte
		for j := 0; j < n; j++ {
			rs = append(rs, rec(i))
			i++
		}
		if _, err := l.Append(rs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.SplitAfter(string(b), "\n")
}

func TestFrontierMatchesTlog(t *testing.T) {
	var stored []tlog.Hash
	hr := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})
	var f frontier
	for n := int64(0); n < 300; n++ {
		h := tlog.RecordHash(rec(int(n)))
		hs, err := tlog.StoredHashesForRecordHash(n, h, hr)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		f.append(h)
		want, err := tlog.TreeHash(n+1, hr)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.root(); got != want {
			t.Fatalf("size %d: root %v, want %v", n+1, got, want)
		}
	}
}

func TestAppendReopenVerify(t *testing.T) {
	skey, vkey := testKeys(t)
	path := filepath.Join(t.TempDir(), "a.log")
	var seen []*Checkpoint
	l, err := Open(path, skey, &Options{OnCheckpoint: func(c *Checkpoint) { seen = append(seen, c) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(rec(0), rec(1), rec(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("not json")); err == nil {
		t.Fatal("a non-JSON record was accepted")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(path, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.Recovery(); r.Records != 3 || r.Unsigned != 0 || r.Torn != nil {
		t.Fatalf("recovery %+v", r)
	}
	cp, err := l.Append(rec(3))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != 4 || l.Size() != 4 || l.Checkpoint() != cp {
		t.Fatalf("checkpoint size %d, log size %d", cp.Size, l.Size())
	}
	l.Close()
	rep, err := VerifyFile(path, vkey, &VerifyOptions{Known: seen})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 4 || rep.Size != 4 || rep.Checkpoints != 2 || rep.Unsigned != 0 || rep.Root != cp.Root {
		t.Fatalf("report %+v", rep)
	}
	if !strings.HasPrefix(rep.String(), "OK: 4 records, tree size 4") {
		t.Fatalf("report string %q", rep.String())
	}
	// Another key does not verify it.
	_, other := testKeys(t)
	if _, err := VerifyFile(path, other, nil); err == nil {
		t.Fatal("verified with a foreign key")
	}
}

func TestOpenTwice(t *testing.T) {
	skey, _ := testKeys(t)
	path := filepath.Join(t.TempDir(), "a.log")
	l, err := Open(path, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l2, err := Open(path, skey, nil); err == nil {
		l2.Close()
		t.Fatal("a log was opened twice for writing")
	}
}

// TestTamper checks that each kind of change is found and located.
func TestTamper(t *testing.T) {
	skey, vkey := testKeys(t)
	// Lines: records 0-4, C1 (line 5), records 5-9, C2 (line 11), records 10-14, C3 (line 17).
	_, base := writeLog(t, skey, 5, 5, 5)
	recLine := func(i int) int { return i + i/5 } // index of record i in base
	cp2 := 11
	edit := func(f func(ls []string) []string) []string {
		return f(append([]string(nil), base...))
	}
	tests := []struct {
		name  string
		lines []string
		kind  Kind
		index int64
	}{
		{"modify first record", edit(func(ls []string) []string {
			ls[recLine(0)] = strings.Replace(ls[recLine(0)], "search", "upsert", 1)
			return ls
		}), Modified, 0},
		{"modify one record", edit(func(ls []string) []string {
			ls[recLine(7)] = strings.Replace(ls[recLine(7)], `"i":7`, `"i":70`, 1)
			return ls
		}), Modified, 7},
		{"modify last record", edit(func(ls []string) []string {
			ls[recLine(14)] = strings.Replace(ls[recLine(14)], "search", "delete", 1)
			return ls
		}), Modified, 14},
		{"delete a record", edit(func(ls []string) []string {
			return append(ls[:recLine(7)], ls[recLine(7)+1:]...)
		}), Deleted, 7},
		{"delete the last record of a batch", edit(func(ls []string) []string {
			return append(ls[:recLine(9)], ls[recLine(9)+1:]...)
		}), Deleted, 9},
		{"insert a record", edit(func(ls []string) []string {
			return append(ls[:recLine(7)], append([]string{`{"op":"forged"}` + "\n"}, ls[recLine(7):]...)...)
		}), Inserted, 7},
		{"insert a copy of a record", edit(func(ls []string) []string {
			return append(ls[:recLine(7)], append([]string{ls[recLine(5)]}, ls[recLine(7):]...)...)
		}), Inserted, 7},
		{"swap two records", edit(func(ls []string) []string {
			ls[recLine(7)], ls[recLine(8)] = ls[recLine(8)], ls[recLine(7)]
			return ls
		}), Reordered, 7},
		{"move a record later", edit(func(ls []string) []string {
			r := ls[recLine(5)]
			ls = append(ls[:recLine(5)], ls[recLine(5)+1:]...)
			return append(ls[:recLine(8)], append([]string{r}, ls[recLine(8):]...)...)
		}), Reordered, 5},
		{"delete a checkpoint line", edit(func(ls []string) []string {
			return append(ls[:cp2], ls[cp2+1:]...)
		}), Deleted, -1},
		{"change a checkpoint signature", edit(func(ls []string) []string {
			ls[cp2] = "C " + strings.Repeat("A", 40) + ls[cp2][42:]
			return ls
		}), BadCheckpoint, -1},
		{"change a checkpoint hash list", edit(func(ls []string) []string {
			i := strings.LastIndexByte(ls[cp2], ' ')
			b := []byte(ls[cp2])
			if b[i+1] == 'A' {
				b[i+1] = 'B'
			} else {
				b[i+1] = 'A'
			}
			ls[cp2] = string(b)
			return ls
		}), BadCheckpoint, -1},
		{"replay a checkpoint", edit(func(ls []string) []string {
			return append(ls[:cp2+1], append([]string{ls[cp2]}, ls[cp2+1:]...)...)
		}), BadCheckpoint, -1},
		{"modify a record and its listed hash", func() []string {
			ls := edit(func(ls []string) []string { return ls })
			old := tlog.RecordHash([]byte(strings.TrimSuffix(ls[recLine(6)], "\n")))
			ls[recLine(6)] = `{"op":"forged"}` + "\n"
			nw := tlog.RecordHash([]byte(`{"op":"forged"}`))
			ls[cp2] = replaceListed(t, ls[cp2], old, nw)
			return ls
		}(), Modified, 5},
		{"garbage line", edit(func(ls []string) []string {
			ls[recLine(3)] = "garbage\n"
			return ls
		}), Modified, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Verify(strings.NewReader(strings.Join(tt.lines, "")), vkey, nil)
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want a *Problem", err)
			}
			if p.Kind != tt.kind || p.Index != tt.index {
				t.Fatalf("found %s at %d (%v), want %s at %d", p.Kind, p.Index, p, tt.kind, tt.index)
			}
			if p.Line <= 0 || rep.OK() {
				t.Fatalf("problem without a line: %v", p)
			}
		})
	}
}

func replaceListed(t *testing.T, line string, old, nw tlog.Hash) string {
	t.Helper()
	i := strings.LastIndexByte(line, ' ')
	raw := decodeB64(t, strings.TrimSuffix(line[i+1:], "\n"))
	raw = bytes.Replace(raw, old[:], nw[:], 1)
	return line[:i+1] + encodeB64(raw) + "\n"
}

func TestTruncatedAgainstKnownCheckpoint(t *testing.T) {
	skey, vkey := testKeys(t)
	path := filepath.Join(t.TempDir(), "a.log")
	var known []*Checkpoint
	l, err := Open(path, skey, &Options{NoSync: true, OnCheckpoint: func(c *Checkpoint) { known = append(known, c) }})
	if err != nil {
		t.Fatal(err)
	}
	l.Append(rec(0), rec(1))
	l.Append(rec(2), rec(3))
	l.Close()
	b, _ := os.ReadFile(path)
	ls := strings.SplitAfter(string(b), "\n")
	cut := strings.Join(ls[:3], "") // the first batch and its checkpoint
	if _, err := Verify(strings.NewReader(cut), vkey, nil); err != nil {
		t.Fatalf("a cut log verifies on its own: %v", err)
	}
	_, err = Verify(strings.NewReader(cut), vkey, &VerifyOptions{Known: known})
	var p *Problem
	if !errors.As(err, &p) || p.Kind != Truncated || p.Index != 2 {
		t.Fatalf("err = %v, want truncated at 2", err)
	}
	// A rewritten log of the same size is a fork.
	other := filepath.Join(t.TempDir(), "b.log")
	l2, _ := Open(other, skey, &Options{NoSync: true})
	l2.Append(rec(0), rec(1))
	l2.Append(rec(2), rec(30))
	l2.Close()
	_, err = VerifyFile(other, vkey, &VerifyOptions{Known: known})
	if !errors.As(err, &p) || p.Kind != Forked {
		t.Fatalf("err = %v, want forked", err)
	}
}

// TestTornTail cuts the file at every offset of its last two batches: what
// is before the cut verifies, and a partial line is reported as torn.
func TestTornTail(t *testing.T) {
	skey, vkey := testKeys(t)
	path, lines := writeLog(t, skey, 3, 2, 2)
	full := strings.Join(lines, "")
	from := len(strings.Join(lines[:4], ""))
	for cut := from; cut <= len(full); cut++ {
		data := full[:cut]
		rep, err := Verify(strings.NewReader(data), vkey, nil)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		torn := !strings.HasSuffix(data, "\n")
		if (rep.Torn != nil) != torn {
			t.Fatalf("cut %d: torn = %v, want %v", cut, rep.Torn, torn)
		}
		if rep.Size < 3 || rep.Size+rep.Unsigned != rep.Records {
			t.Fatalf("cut %d: report %+v", cut, rep)
		}
	}
	// Reopening a torn log cuts the partial line and signs what is left.
	cut := len(full) - 10
	if err := os.WriteFile(path, []byte(full[:cut]), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := l.Recovery()
	if r.Torn == nil || r.Unsigned != 2 || r.Records != 7 {
		t.Fatalf("recovery %+v", r)
	}
	l.Append(rec(7))
	l.Close()
	rep, err := VerifyFile(path, vkey, nil)
	if err != nil || rep.Size != 8 || rep.Torn != nil || rep.Unsigned != 0 {
		t.Fatalf("after recovery: %v, %v", rep, err)
	}
}

func TestOpenRefusesTamperedLog(t *testing.T) {
	skey, _ := testKeys(t)
	path, lines := writeLog(t, skey, 2, 2)
	lines[0] = `{"op":"forged"}` + "\n"
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	if l, err := Open(path, skey, nil); err == nil {
		l.Close()
		t.Fatal("opened a tampered log for appending")
	}
}

func TestProofs(t *testing.T) {
	skey, vkey := testKeys(t)
	path, _ := writeLog(t, skey, 1, 2, 3, 4, 7)
	tree, err := LoadFile(path, vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var records [][]byte
	f, _ := os.Open(path)
	ReadRecords(f, func(_ int64, r []byte) error { records = append(records, bytes.Clone(r)); return nil })
	f.Close()
	sizes := []int64{1, 3, 6, 10, 17}
	for _, size := range sizes {
		cp, ok := tree.Checkpoint(size)
		if !ok {
			t.Fatalf("no checkpoint of size %d", size)
		}
		for i := int64(0); i < size; i++ {
			p, err := tree.ProveRecord(i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckRecord(cp, i, records[i], p); err != nil {
				t.Fatalf("record %d in %d: %v", i, size, err)
			}
			if err := CheckRecord(cp, i, []byte(`{"op":"forged"}`), p); err == nil {
				t.Fatalf("forged record %d proved", i)
			}
		}
		for _, old := range sizes {
			if old > size {
				continue
			}
			ocp, _ := tree.Checkpoint(old)
			p, err := tree.ProveTree(old, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckTree(ocp, cp, p); err != nil {
				t.Fatalf("%d in %d: %v", old, size, err)
			}
		}
	}
	if _, err := tree.ProveRecord(17, 17); err == nil {
		t.Fatal("proved a record beyond the tree")
	}
}

// faultFile fails writes or syncs on demand.
type faultFile struct {
	file
	failWrite, failSync bool
}

func (f *faultFile) Write(b []byte) (int, error) {
	if f.failWrite {
		n, _ := f.file.Write(b[:len(b)/2]) // a partial write
		return n, errors.New("disk full")
	}
	return f.file.Write(b)
}

func (f *faultFile) Sync() error {
	if f.failSync {
		return errors.New("io error")
	}
	return f.file.Sync()
}

func TestWriteFailureUndone(t *testing.T) {
	skey, vkey := testKeys(t)
	path := filepath.Join(t.TempDir(), "a.log")
	l, err := Open(path, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	ff := &faultFile{file: l.f}
	l.f = ff
	l.Append(rec(0))
	ff.failWrite = true
	if _, err := l.Append(rec(1), rec(2)); err == nil {
		t.Fatal("a failed write succeeded")
	}
	ff.failWrite = false
	if _, err := l.Append(rec(3)); err != nil {
		t.Fatal(err)
	}
	ff.failSync = true
	if _, err := l.Append(rec(4)); err == nil {
		t.Fatal("a failed sync succeeded")
	}
	ff.failSync = false
	if _, err := l.Append(rec(5)); err == nil {
		t.Fatal("a log whose sync failed kept appending")
	}
	l.Close()
	rep, err := VerifyFile(path, vkey, nil)
	if err != nil || rep.Size != 3 {
		t.Fatalf("after failures: %v %v", rep, err)
	}
}

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestConcurrentAppend(t *testing.T) {
	skey, vkey := testKeys(t)
	path := filepath.Join(t.TempDir(), "a.log")
	l, err := Open(path, skey, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := l.Append(rec(g*1000+i), rec(g*1000+i+500)); err != nil {
					t.Error(err)
					return
				}
				l.Checkpoint()
			}
		}()
	}
	wg.Wait()
	l.Close()
	rep, err := VerifyFile(path, vkey, nil)
	if err != nil || rep.Size != 400 || rep.Checkpoints != 200 {
		t.Fatalf("%v %v", rep, err)
	}
}
