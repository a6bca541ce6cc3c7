package tlogfile

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Kind is the kind of change Verify found.
type Kind string

// The kinds of change.
const (
	Modified      Kind = "modified"       // a record's bytes changed
	Deleted       Kind = "deleted"        // a record (or a checkpoint line) is missing
	Inserted      Kind = "inserted"       // a record that was never logged is present
	Reordered     Kind = "reordered"      // records are out of their logged order
	BadCheckpoint Kind = "bad checkpoint" // a checkpoint line is malformed, unsigned or out of order
	Truncated     Kind = "truncated"      // the log is shorter than a checkpoint known to the verifier
	Forked        Kind = "forked"         // the log disagrees with a checkpoint known to the verifier
)

// Problem is the first change Verify found: its kind, the index of the
// first record affected (-1 when it is not about one record), and where in
// the file (1-based line number and byte offset) it shows.
type Problem struct {
	Kind   Kind
	Index  int64
	Line   int64
	Offset int64
	Detail string
}

func (p *Problem) Error() string {
	s := "tlogfile: log was " + string(p.Kind)
	if p.Kind == BadCheckpoint {
		s = "tlogfile: bad checkpoint"
	}
	if p.Index >= 0 {
		s += " at record " + strconv.FormatInt(p.Index, 10)
	}
	s += " (line " + strconv.FormatInt(p.Line, 10) + ", offset " + strconv.FormatInt(p.Offset, 10) + ")"
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Torn describes an incomplete last line, as a crash in the middle of a
// write leaves. Everything before it is verified as usual.
type Torn struct {
	Offset int64 // where the line starts
	Length int64 // its bytes (no newline)
	Line   int64
}

// Report is the result of Verify.
type Report struct {
	Records     int64       // complete record lines in the file
	Checkpoints int         // checkpoint lines that verified
	Size        int64       // records covered by the last checkpoint that verified
	Root        tlog.Hash   // the root hash at Size
	Last        *Checkpoint // the last checkpoint that verified (nil if none)
	Unsigned    int64       // complete records after Last, covered by no signature
	Torn        *Torn       // an incomplete last line, if any
	Problem     *Problem    // the first change found; nil if none
}

// OK reports whether no change was found.
func (r *Report) OK() bool { return r.Problem == nil }

// String summarizes the report in one line.
func (r *Report) String() string {
	var s string
	if r.Problem != nil {
		s = "FAILED: " + r.Problem.Error()
	} else {
		s = fmt.Sprintf("OK: %d records, tree size %d, root %s", r.Records, r.Size, base64.StdEncoding.EncodeToString(r.Root[:]))
	}
	if r.Unsigned > 0 {
		s += fmt.Sprintf("; %d records after the last checkpoint are not signed", r.Unsigned)
	}
	if r.Torn != nil {
		s += fmt.Sprintf("; torn last line at offset %d (%d bytes)", r.Torn.Offset, r.Torn.Length)
	}
	return s
}

// VerifyOptions adjusts Verify.
type VerifyOptions struct {
	// Origin, if set, is the log name every checkpoint must carry.
	Origin string
	// Known are checkpoints of this log kept elsewhere (by a witness, or
	// from Options.OnCheckpoint). The log must contain each; this is what
	// detects a log cut short together with its last checkpoints.
	Known []*Checkpoint
}

// VerifyFile is Verify on the file at path.
func VerifyFile(path, vkey string, opts *VerifyOptions) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Verify(f, vkey, opts)
}

// Verify checks a log against the verifier key vkey. It returns the report
// and, when the log was changed, a *Problem as the error; other errors are
// I/O or key errors. Any modified, deleted, inserted or reordered record
// up to the last checkpoint is found and named by index. Records after
// the last checkpoint (Report.Unsigned) and a torn last line are reported
// but are not errors: a crash leaves them.
func Verify(r io.Reader, vkey string, opts *VerifyOptions) (*Report, error) {
	_, rep, err := verify(r, vkey, opts)
	return rep, err
}

// verify is Verify, also returning the scanned log (nil with an I/O or
// key error).
func verify(r io.Reader, vkey string, opts *VerifyOptions) (*parsed, *Report, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("tlogfile: verifier key: %w", err)
	}
	var o VerifyOptions
	if opts != nil {
		o = *opts
	}
	p, err := scan(r, note.VerifierList(v), o.Origin)
	if err != nil {
		return nil, nil, err
	}
	rep := p.check(o.Origin)
	if rep.Problem == nil {
		rep.Problem = p.checkKnown(rep, o.Known, note.VerifierList(v))
	}
	if rep.Problem != nil {
		return p, rep, rep.Problem
	}
	return p, rep, nil
}

// check walks the checkpoints in order and stops at the first problem.
func (p *parsed) check(origin string) *Report {
	rep := &Report{Records: int64(len(p.leaves)), Torn: p.torn}
	var fr frontier // over leaves[:good]
	var good, goodPos int64
	for i := range p.cps {
		c := &p.cps[i]
		if c.err != nil {
			rep.Problem = &Problem{Kind: BadCheckpoint, Index: -1, Line: c.line, Offset: c.offset, Detail: c.err.Error()}
			break
		}
		if origin == "" {
			origin = c.cp.Origin
		} else if c.cp.Origin != origin {
			rep.Problem = &Problem{Kind: BadCheckpoint, Index: -1, Line: c.line, Offset: c.offset, Detail: "checkpoint of another log"}
			break
		}
		n, listed := c.cp.Size, c.listed
		start := n - int64(len(listed))
		if n <= good || start < good {
			rep.Problem = &Problem{Kind: BadCheckpoint, Index: -1, Line: c.line, Offset: c.offset, Detail: "checkpoint does not extend the one before it (replayed or reordered)"}
			break
		}
		if c.pos == n && n <= int64(len(p.leaves)) {
			next := fr.clone()
			for _, h := range p.leaves[good:n] {
				next.append(h)
			}
			if next.root() == c.cp.Root {
				if start != good {
					rep.Problem = &Problem{Kind: Deleted, Index: -1, Line: c.line, Offset: c.offset,
						Detail: "a checkpoint line before this one was removed; the records are intact"}
					break
				}
				if !slices.Equal(listed, p.leaves[start:n]) {
					rep.Problem = &Problem{Kind: BadCheckpoint, Index: -1, Line: c.line, Offset: c.offset,
						Detail: "the leaf hash list of this checkpoint was changed; the records are intact"}
					break
				}
				fr, good, goodPos = next, n, c.pos
				rep.Checkpoints++
				rep.Last = c.cp
				continue
			}
		}
		rep.Problem = p.locate(c, fr, good, goodPos)
		break
	}
	rep.Size = good
	rep.Root = fr.root()
	if rep.Problem == nil && p.tooLong != nil {
		rep.Problem = p.tooLong
	}
	if rep.Problem == nil {
		rep.Unsigned = int64(len(p.leaves)) - goodPos
	}
	return rep
}

// locate names the change that made checkpoint c fail, given that the log
// verified up to good records (goodPos records precede the last good
// checkpoint line, equal to good).
func (p *parsed) locate(c *cpLine, fr frontier, good, goodPos int64) *Problem {
	n, listed := c.cp.Size, c.listed
	start := n - int64(len(listed))
	cur := p.leaves[goodPos:c.pos]
	// The records a removed checkpoint covered are taken as they are.
	gap := start - good
	if gap > int64(len(cur)) {
		gap = int64(len(cur))
	}
	want := append(append([]tlog.Hash(nil), cur[:gap]...), listed...)
	auth := fr.clone()
	for _, h := range want {
		auth.append(h)
	}
	if auth.n == n && auth.root() == c.cp.Root {
		kind, i := classify(cur, want)
		pr := &Problem{Kind: kind, Index: good + int64(i)}
		if pos := goodPos + int64(i); pos < c.pos {
			pr.Line, pr.Offset = p.lines[pos], p.offsets[pos]
		} else {
			pr.Line, pr.Offset = c.line, c.offset
		}
		switch kind {
		case Deleted:
			pr.Detail = "the record logged at this index is missing"
		case Inserted:
			pr.Detail = "this record was not logged here"
		case Reordered:
			pr.Detail = "this record was logged at another position"
		default:
			pr.Detail = "this record differs from the one logged"
		}
		return pr
	}
	// The listed hashes do not match the signed root.
	if n <= int64(len(p.leaves)) && c.pos >= n && rootOf(p.leaves[:n]) == c.cp.Root {
		return &Problem{Kind: BadCheckpoint, Index: -1, Line: c.line, Offset: c.offset,
			Detail: "the leaf hash list of this checkpoint was changed; the records are intact"}
	}
	pr := &Problem{Kind: Modified, Index: good, Line: c.line, Offset: c.offset,
		Detail: fmt.Sprintf("records %d to %d or this checkpoint's hash list were changed", good, n-1)}
	if goodPos < int64(len(p.leaves)) {
		pr.Line, pr.Offset = p.lines[goodPos], p.offsets[goodPos]
	}
	return pr
}

// classify compares the records found with those logged and returns the
// kind of the first difference and its position.
func classify(cur, want []tlog.Hash) (Kind, int) {
	i := 0
	for i < len(cur) && i < len(want) && cur[i] == want[i] {
		i++
	}
	switch {
	case i == len(cur):
		return Deleted, i
	case i == len(want):
		return Inserted, i
	}
	index := func(hs []tlog.Hash, h tlog.Hash, from int) int {
		for j := from; j < len(hs); j++ {
			if hs[j] == h {
				return j
			}
		}
		return -1
	}
	j := index(want, cur[i], 0)
	switch {
	case j < 0:
		if i+1 < len(cur) && cur[i+1] == want[i] {
			return Inserted, i
		}
		return Modified, i
	case j < i:
		return Inserted, i // a copy of an earlier record
	case index(cur, want[i], i+1) >= 0:
		return Reordered, i
	default:
		return Deleted, i
	}
}

// checkKnown checks the log against checkpoints kept elsewhere.
func (p *parsed) checkKnown(rep *Report, known []*Checkpoint, vs note.Verifiers) *Problem {
	total := int64(len(p.leaves))
	for _, k := range known {
		if k == nil {
			continue
		}
		if len(k.Signed) > 0 {
			cp, err := openCheckpoint(k.Signed, vs, "")
			if err != nil {
				return &Problem{Kind: BadCheckpoint, Index: -1, Detail: "known checkpoint: " + err.Error()}
			}
			k = cp
		}
		if k.Size > total {
			pr := &Problem{Kind: Truncated, Index: total, Offset: p.size,
				Detail: fmt.Sprintf("a known checkpoint has %d records; the log has %d", k.Size, total)}
			pr.Line = int64(len(p.leaves) + len(p.cps))
			return pr
		}
		if rootOf(p.leaves[:k.Size]) != k.Root {
			return &Problem{Kind: Forked, Index: -1, Detail: fmt.Sprintf("the first %d records do not match a known checkpoint", k.Size)}
		}
	}
	return nil
}
