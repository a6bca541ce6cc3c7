package tlogfile

import (
	"errors"
	"io"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

// Tree is a verified log held in memory as its Merkle tree hashes, for
// proofs. It holds 32 bytes per record and node, not the records.
type Tree struct {
	report *Report
	stored []tlog.Hash
	leaves []tlog.Hash
	cps    map[int64]*Checkpoint
}

// LoadFile is Load on the file at path.
func LoadFile(path, vkey string, opts *VerifyOptions) (*Tree, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, vkey, opts)
}

// Load verifies a log (see Verify) and builds its tree. A log that does not
// verify is refused with the *Problem.
func Load(r io.Reader, vkey string, opts *VerifyOptions) (*Tree, error) {
	p, rep, err := verify(r, vkey, opts)
	if err != nil {
		return nil, err
	}
	t := &Tree{report: rep, leaves: p.leaves[:rep.Size], cps: map[int64]*Checkpoint{}}
	for _, c := range p.cps {
		t.cps[c.cp.Size] = c.cp
	}
	t.stored = make([]tlog.Hash, 0, tlog.StoredHashCount(rep.Size))
	hr := tlog.HashReaderFunc(t.readHashes)
	for i, h := range t.leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), h, hr)
		if err != nil {
			return nil, err
		}
		t.stored = append(t.stored, hs...)
	}
	return t, nil
}

func (t *Tree) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.stored)) {
			return nil, errors.New("tlogfile: hash index out of range")
		}
		out[i] = t.stored[x]
	}
	return out, nil
}

// Report returns the verification report.
func (t *Tree) Report() *Report { return t.report }

// Size returns the number of records covered by the last checkpoint.
func (t *Tree) Size() int64 { return t.report.Size }

// Checkpoint returns the log's signed checkpoint of the given size, if it
// signed one.
func (t *Tree) Checkpoint(size int64) (*Checkpoint, bool) {
	cp, ok := t.cps[size]
	return cp, ok
}

// RecordHash returns the leaf hash of record index.
func (t *Tree) RecordHash(index int64) (tlog.Hash, error) {
	if index < 0 || index >= int64(len(t.leaves)) {
		return tlog.Hash{}, errors.New("tlogfile: record index out of range")
	}
	return t.leaves[index], nil
}

// ProveRecord proves that record index is in the tree of size records.
func (t *Tree) ProveRecord(index, size int64) (tlog.RecordProof, error) {
	if size <= 0 || size > t.Size() || index < 0 || index >= size {
		return nil, errors.New("tlogfile: record index or tree size out of range")
	}
	return tlog.ProveRecord(size, index, tlog.HashReaderFunc(t.readHashes))
}

// ProveTree proves that the tree of oldSize records is a prefix of the
// tree of newSize records.
func (t *Tree) ProveTree(oldSize, newSize int64) (tlog.TreeProof, error) {
	if oldSize <= 0 || newSize > t.Size() || oldSize > newSize {
		return nil, errors.New("tlogfile: tree sizes out of range")
	}
	return tlog.ProveTree(newSize, oldSize, tlog.HashReaderFunc(t.readHashes))
}

// CheckRecord checks an inclusion proof: record (its line, without the
// newline) is record index of the tree that cp signs.
func CheckRecord(cp *Checkpoint, index int64, record []byte, p tlog.RecordProof) error {
	return tlog.CheckRecord(p, cp.Size, cp.Root, index, tlog.RecordHash(record))
}

// CheckTree checks a consistency proof: the tree old signs is a prefix of
// the tree new signs.
func CheckTree(old, new *Checkpoint, p tlog.TreeProof) error {
	return tlog.CheckTree(p, new.Size, new.Root, old.Size, old.Root)
}
