package tlogfile

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The file format, one item per line:
//
//	{...}                          a record: one JSON object, the leaf data
//	C <base64 note> <base64 hashes> a checkpoint: the signed note and the
//	                               leaf hashes of the records since the
//	                               previous checkpoint
//
// Any line that does not start with "C " is a record. The leaf hashes let a
// verifier name the exact record that changed: the signed root
// authenticates them, and each record is compared with its own.

// MaxLineSize bounds one line of the file.
const MaxLineSize = 64 << 20

// MaxBatch is the most records one checkpoint covers; larger appends are
// split.
const MaxBatch = 1 << 16

var checkpointTag = []byte("C ")

// frontier is the right edge of a Merkle tree: the roots of its perfect
// subtrees, largest first. Appending is amortized O(1); the root is
// O(log n).
type frontier struct {
	n      int64
	hashes []tlog.Hash
}

func (f *frontier) append(h tlog.Hash) {
	f.hashes = append(f.hashes, h)
	for k := f.n; k&1 == 1; k >>= 1 {
		l := len(f.hashes)
		f.hashes[l-2] = tlog.NodeHash(f.hashes[l-2], f.hashes[l-1])
		f.hashes = f.hashes[:l-1]
	}
	f.n++
}

func (f *frontier) root() tlog.Hash {
	if len(f.hashes) == 0 {
		return tlog.Hash{}
	}
	h := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}

func (f *frontier) clone() frontier {
	return frontier{n: f.n, hashes: append([]tlog.Hash(nil), f.hashes...)}
}

// rootOf returns the tree hash of leaves.
func rootOf(leaves []tlog.Hash) tlog.Hash {
	var f frontier
	for _, h := range leaves {
		f.append(h)
	}
	return f.root()
}

// cpLine is one checkpoint line as read.
type cpLine struct {
	pos    int64 // records before the line
	offset int64
	line   int64
	cp     *Checkpoint
	listed []tlog.Hash
	err    error // malformed line or bad signature
}

// parsed is what a scan of a log file found.
type parsed struct {
	leaves  []tlog.Hash
	offsets []int64 // byte offset of each record line
	lines   []int64 // line number of each record
	cps     []cpLine
	torn    *Torn
	size    int64 // bytes of complete lines
	tooLong *Problem
}

// parseCheckpointLine decodes a checkpoint line (without its newline).
func parseCheckpointLine(line []byte, vs note.Verifiers, origin string) (*Checkpoint, []tlog.Hash, error) {
	rest, ok := bytes.CutPrefix(line, checkpointTag)
	if !ok || bytes.IndexByte(rest, '\r') >= 0 {
		return nil, nil, errors.New("tlogfile: not a checkpoint line")
	}
	n64, h64, ok := bytes.Cut(rest, []byte(" "))
	if !ok {
		return nil, nil, errors.New("tlogfile: malformed checkpoint line")
	}
	enc := base64.StdEncoding.Strict()
	if enc.DecodedLen(len(n64)) > MaxCheckpointSize {
		return nil, nil, errors.New("tlogfile: checkpoint too large")
	}
	signed := make([]byte, enc.DecodedLen(len(n64)))
	n, err := enc.Decode(signed, n64)
	if err != nil {
		return nil, nil, errors.New("tlogfile: malformed checkpoint encoding")
	}
	raw := make([]byte, enc.DecodedLen(len(h64)))
	m, err := enc.Decode(raw, h64)
	if err != nil || m%tlog.HashSize != 0 || m == 0 || m/tlog.HashSize > MaxBatch {
		return nil, nil, errors.New("tlogfile: malformed leaf hash list")
	}
	listed := make([]tlog.Hash, m/tlog.HashSize)
	for i := range listed {
		copy(listed[i][:], raw[i*tlog.HashSize:])
	}
	cp, err := openCheckpoint(signed[:n], vs, origin)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(listed)) > cp.Size {
		return nil, nil, errors.New("tlogfile: checkpoint lists more leaves than its size")
	}
	return cp, listed, nil
}

// appendCheckpointLine appends the line for cp and the leaf hashes since
// the previous checkpoint.
func appendCheckpointLine(b []byte, cp *Checkpoint, leaves []tlog.Hash) []byte {
	b = append(b, checkpointTag...)
	b = base64.StdEncoding.AppendEncode(b, cp.Signed)
	b = append(b, ' ')
	raw := make([]byte, 0, len(leaves)*tlog.HashSize)
	for i := range leaves {
		raw = append(raw, leaves[i][:]...)
	}
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '\n')
}

// scan reads a log file and hashes its records.
func scan(r io.Reader, vs note.Verifiers, origin string) (*parsed, error) {
	p := &parsed{}
	br := bufio.NewReaderSize(r, 1<<16)
	var off, lineNo int64
	var acc []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			acc = append(acc, chunk...)
			if len(acc) > MaxLineSize {
				p.tooLong = &Problem{Kind: Modified, Index: int64(len(p.leaves)), Line: lineNo + 1, Offset: off,
					Detail: "a line is longer than any the log writes"}
				return p, nil
			}
			continue
		}
		line := chunk
		if len(acc) > 0 {
			acc = append(acc, chunk...)
			line = acc
		}
		if err == io.EOF {
			if len(line) > 0 {
				p.torn = &Torn{Offset: off, Length: int64(len(line)), Line: lineNo + 1}
			}
			p.size = off
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		lineNo++
		data := line[:len(line)-1]
		if bytes.HasPrefix(data, checkpointTag) {
			cp, listed, err := parseCheckpointLine(data, vs, origin)
			p.cps = append(p.cps, cpLine{pos: int64(len(p.leaves)), offset: off, line: lineNo, cp: cp, listed: listed, err: err})
		} else {
			p.leaves = append(p.leaves, tlog.RecordHash(data))
			p.offsets = append(p.offsets, off)
			p.lines = append(p.lines, lineNo)
		}
		off += int64(len(line))
		acc = acc[:0]
		if cap(acc) > 1<<20 {
			acc = nil
		}
	}
}

// ReadRecords calls fn with the index and bytes of each complete record
// line of a log, in order, without verifying anything (use Verify first).
// The bytes are valid only during the call. A torn last line is skipped.
func ReadRecords(r io.Reader, fn func(index int64, record []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var idx int64
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		data := line[:len(line)-1]
		if bytes.HasPrefix(data, checkpointTag) {
			continue
		}
		if err := fn(idx, data); err != nil {
			return err
		}
		idx++
	}
}
