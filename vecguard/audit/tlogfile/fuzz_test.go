package tlogfile

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func FuzzParseCheckpointBody(f *testing.F) {
	f.Add(formatBody("example.log", 42, tlog.RecordHash([]byte("x"))))
	f.Add("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n")
	f.Add("o\n01\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		origin, size, root, err := parseBody(text)
		if err != nil {
			return
		}
		if size < 0 || origin == "" {
			t.Fatalf("parsed %q as size %d origin %q", text, size, origin)
		}
		// The three first lines re-format to the same text.
		if got := formatBody(origin, size, root); !strings.HasPrefix(text, got) {
			t.Fatalf("re-formatted %q as %q", text, got)
		}
	})
}

func FuzzParseCheckpointLine(f *testing.F) {
	skey, vkey, _ := GenerateKey("fuzz.log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	leaves := []tlog.Hash{tlog.RecordHash([]byte("{}"))}
	cp, _ := signCheckpoint(s, "fuzz.log", 1, rootOf(leaves))
	f.Add(bytes.TrimSuffix(appendCheckpointLine(nil, cp, leaves), []byte("\n")))
	f.Add([]byte("C  "))
	f.Add([]byte("C AAAA AAAA"))
	f.Fuzz(func(t *testing.T, line []byte) {
		cp, listed, err := parseCheckpointLine(line, note.VerifierList(v), "")
		if err != nil {
			return
		}
		if int64(len(listed)) > cp.Size || len(listed) == 0 {
			t.Fatalf("checkpoint of size %d lists %d leaves", cp.Size, len(listed))
		}
	})
}

// FuzzVerify feeds arbitrary files to Verify: it must not panic, and what
// it calls OK must be consistent.
func FuzzVerify(f *testing.F) {
	skey, vkey, _ := GenerateKey("fuzz.log")
	s, _ := note.NewSigner(skey)
	var b []byte
	var fr frontier
	for batch := 0; batch < 3; batch++ {
		var leaves []tlog.Hash
		for i := 0; i < 2; i++ {
			r := rec(batch*2 + i)
			b = append(append(b, r...), '\n')
			h := tlog.RecordHash(r)
			leaves = append(leaves, h)
			fr.append(h)
		}
		cp, _ := signCheckpoint(s, "fuzz.log", fr.n, fr.root())
		b = appendCheckpointLine(b, cp, leaves)
	}
	f.Add(b)
	f.Add([]byte("{}\n{}"))
	f.Add([]byte("C x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data), vkey, nil)
		if rep == nil {
			t.Fatalf("no report: %v", err)
		}
		if err == nil && (rep.Size > rep.Records || rep.Size+rep.Unsigned != rep.Records) {
			t.Fatalf("inconsistent report %+v", rep)
		}
	})
}
