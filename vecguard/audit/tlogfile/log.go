package tlogfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Options configures a Log. nil means the defaults.
type Options struct {
	// Origin names the log in its checkpoints; "" uses the key's name.
	Origin string
	// NoSync skips the fsync after each append. Appended records then
	// survive a crash of the process but not of the machine.
	NoSync bool
	// OnCheckpoint, if set, receives every checkpoint the log signs, after
	// it is durable. Ship them somewhere the log's writer cannot change
	// (a witness): Verify with VerifyOptions.Known detects a log cut short
	// only against such copies. It must not block.
	OnCheckpoint func(*Checkpoint)
}

// Recovery says what Open found in an existing file.
type Recovery struct {
	Records  int64 // complete records found
	Unsigned int64 // records after the last checkpoint; Open signed them
	Torn     *Torn // an incomplete last line; Open cut it off
}

// file is what a Log writes to (an *os.File; tests inject faults).
type file interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Log is an append-only, tamper-evident audit file: JSON-lines records
// and, after each append, a signed checkpoint of the Merkle tree (RFC 6962)
// over all records. It is an audit.Sink; one append (one batch) is one
// write and one fsync, so a Logger in Sync mode commits in groups. A Log
// is safe for concurrent use; one process at a time may hold a file open.
type Log struct {
	mu       sync.Mutex
	f        file
	unlock   func()
	signer   note.Signer
	origin   string
	opts     Options
	fr       frontier
	size     int64 // bytes written
	last     *Checkpoint
	recovery Recovery
	broken   error // a failed write that could not be undone
	closed   bool

	buf    []byte
	leaves []tlog.Hash
}

var _ audit.Sink = (*Log)(nil)

// Open opens the log at path for appending, creating it if needed, with
// the Ed25519 signer key skey (see GenerateKey). An existing file is
// verified first; a changed log is refused with a *Problem, so a damaged
// log is never extended. A torn last line is cut off and records after the
// last checkpoint are signed; Recovery reports both.
func Open(path, skey string, opts *Options) (*Log, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("tlogfile: signer key: %w", err)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	l := &Log{signer: signer}
	if opts != nil {
		l.opts = *opts
	}
	l.origin = l.opts.Origin
	if l.origin == "" {
		l.origin = signer.Name()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		unlock()
		f.Close()
		return nil, err
	}
	p, err := scan(f, note.VerifierList(v), l.origin)
	if err == nil {
		rep := p.check(l.origin)
		if rep.Problem != nil {
			err = rep.Problem
		}
	}
	if err != nil {
		unlock()
		f.Close()
		return nil, err
	}
	l.f, l.unlock = f, unlock
	l.recovery = Recovery{Records: int64(len(p.leaves)), Torn: p.torn}
	if p.torn != nil {
		if err := f.Truncate(p.size); err != nil {
			l.Close()
			return nil, err
		}
	}
	l.size = p.size
	for _, h := range p.leaves {
		l.fr.append(h)
	}
	if n := len(p.cps); n > 0 {
		l.last = p.cps[n-1].cp
	}
	signed := int64(0)
	if l.last != nil {
		signed = l.last.Size
	}
	if unsigned := l.fr.n - signed; unsigned > 0 {
		l.recovery.Unsigned = unsigned
		if err := l.commit(nil, p.leaves[signed:]); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Recovery reports what Open found.
func (l *Log) Recovery() Recovery { return l.recovery }

// Checkpoint returns the latest signed checkpoint (nil for an empty log).
func (l *Log) Checkpoint() *Checkpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Size returns the number of records in the log.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fr.n
}

// Handle implements audit.Sink: it appends the entries and a checkpoint in
// one write and syncs.
func (l *Log) Handle(_ context.Context, batch []audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(batch) > 0 {
		n := min(len(batch), MaxBatch)
		if err := l.appendLocked(n, func(b []byte, i int) []byte { return batch[i].AppendJSON(b) }); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// Append appends records, each one JSON object without a newline, and a
// checkpoint, and returns the checkpoint once it is durable.
func (l *Log) Append(records ...[]byte) (*Checkpoint, error) {
	for _, r := range records {
		if len(r) == 0 || r[0] != '{' || bytes.IndexByte(r, '\n') >= 0 || len(r) > audit.MaxEntrySize {
			return nil, driver.Errorf(driver.InvalidArgument, "a record must be one JSON object on one line")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(records) > 0 {
		n := min(len(records), MaxBatch)
		rs := records[:n]
		if err := l.appendLocked(n, func(b []byte, i int) []byte { return append(b, rs[i]...) }); err != nil {
			return nil, err
		}
		records = records[n:]
	}
	return l.last, nil
}

func (l *Log) appendLocked(n int, encode func(b []byte, i int) []byte) error {
	if l.closed {
		return errors.New("tlogfile: log is closed")
	}
	if l.broken != nil {
		return l.broken
	}
	if n == 0 {
		return nil
	}
	b := l.buf[:0]
	leaves := l.leaves[:0]
	for i := 0; i < n; i++ {
		start := len(b)
		b = encode(b, i)
		leaves = append(leaves, tlog.RecordHash(b[start:]))
		b = append(b, '\n')
	}
	l.buf, l.leaves = b, leaves
	return l.commit(b, leaves)
}

// commit writes the record lines b (hashes leaves, not yet in the tree),
// then a checkpoint over the grown tree, in one write, and syncs. On
// failure the file and the tree are put back as they were.
func (l *Log) commit(b []byte, leaves []tlog.Hash) error {
	prev := l.fr.clone()
	if b != nil {
		for _, h := range leaves {
			l.fr.append(h)
		}
	}
	cp, err := signCheckpoint(l.signer, l.origin, l.fr.n, l.fr.root())
	if err != nil {
		l.fr = prev
		return err
	}
	b = appendCheckpointLine(b, cp, leaves)
	if b != nil {
		l.buf = b[:0]
	}
	if _, err := l.f.Write(b); err != nil {
		l.fr = prev
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("tlogfile: write failed and could not be undone; reopen the log: %w", err)
		}
		return err
	}
	if !l.opts.NoSync {
		if err := l.f.Sync(); err != nil {
			// After a failed fsync the file's state is unknown.
			l.fr = prev
			l.broken = fmt.Errorf("tlogfile: sync failed; reopen the log: %w", err)
			return l.broken
		}
	}
	l.size += int64(len(b))
	l.last = cp
	if l.opts.OnCheckpoint != nil {
		l.opts.OnCheckpoint(cp)
	}
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.unlock != nil {
		l.unlock()
	}
	return l.f.Close()
}
