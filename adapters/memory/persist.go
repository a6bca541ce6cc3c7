package memory

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// File names inside a store directory.
const (
	logName  = "log"
	snapName = "snapshot"
	lockName = "LOCK"
	tmpExt   = ".tmp"
)

// File header: 8-byte magic, uint32 format version, uint64 generation,
// CRC-32C of the 20 bytes before it.
const (
	logMagic     = "VGMEMLOG"
	snapMagic    = "VGMEMSNP"
	version      = 1
	headerSize   = 24
	frameHeader  = 12        // frameMagic, uint32 body length, uint32 CRC-32C
	frameMagic   = "\xd5VGR" // marks the start of each record
	maxRecord    = 1 << 30   // larger lengths are corruption
	snapChunk    = 1 << 22   // target bytes of vector data per snapshot record
	defaultLimit = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frame fills in the frame header of b (whose body starts at frameHeader):
// the magic, the body length and the CRC-32C of the length bytes and the
// body.
func frame(b []byte) []byte {
	copy(b, frameMagic)
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-frameHeader))
	crc := crc32.Update(crc32.Update(0, castagnoli, b[4:8]), castagnoli, b[frameHeader:])
	binary.LittleEndian.PutUint32(b[8:12], crc)
	return b
}

// frameLen checks a frame header and returns the body length it announces.
func frameLen(h []byte) (int, bool) {
	if len(h) < frameHeader || string(h[:4]) != frameMagic {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(h[4:8])
	if n == 0 || n > maxRecord {
		return 0, false
	}
	return int(n), true
}

// frameOK reports whether b starts with a whole, intact frame and returns
// its body.
func frameOK(b []byte) ([]byte, bool) {
	n, ok := frameLen(b)
	if !ok || n > len(b)-frameHeader {
		return nil, false
	}
	body := b[frameHeader : frameHeader+n]
	crc := crc32.Update(crc32.Update(0, castagnoli, b[4:8]), castagnoli, body)
	return body, crc == binary.LittleEndian.Uint32(b[8:12])
}

func fileHeader(magic string, gen uint64) []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, gen)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func parseHeader(b []byte, magic string) (gen uint64, ok bool) {
	if len(b) < headerSize || string(b[:8]) != magic ||
		binary.LittleEndian.Uint32(b[8:12]) != version ||
		crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:24]) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[12:20]), true
}

func dataLoss(format string, args ...any) error {
	return driver.Errorf(driver.DataLoss, "memory store: "+format, args...)
}

// Open opens the store kept in the directory path, creating it if needed,
// and loads it: the snapshot, then the log. A torn or corrupt record at the
// end of the log (an interrupted write) is cut off, logged and reported by
// Recovery; any other damage fails with DataLoss. One Store at a time may
// hold a directory: Open fails with FailedPrecondition while another does
// (on systems with flock). opts may be nil.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	s := New()
	if o.Logger != nil {
		s.logger = o.Logger
	}
	s.compactAt = o.CompactBytes
	if s.compactAt == 0 {
		s.compactAt = defaultLimit
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockDir(filepath.Join(path, lockName))
	if err != nil {
		return nil, err
	}
	p := &persister{dir: path, sync: !o.NoSync, lock: lock}
	if err := s.load(p); err != nil {
		if p.f != nil {
			p.f.Close()
		}
		lock.Close()
		return nil, err
	}
	s.p = p
	return s, nil
}

// load replays the directory into s and opens the log for appending.
func (s *Store) load(p *persister) error {
	for _, n := range []string{logName, snapName} {
		if err := os.Remove(filepath.Join(p.dir, n+tmpExt)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	var snapGen uint64
	haveSnap := false
	if f, err := os.Open(filepath.Join(p.dir, snapName)); err == nil {
		snapGen, err = s.loadSnapshot(f)
		f.Close()
		if err != nil {
			return err
		}
		haveSnap = true
		if fi, err := os.Stat(filepath.Join(p.dir, snapName)); err == nil {
			p.snapSize = fi.Size()
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	logPath := filepath.Join(p.dir, logName)
	f, err := os.OpenFile(logPath, os.O_RDWR, 0)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if haveSnap {
			return dataLoss("the log is missing")
		}
		return p.newLog(0)
	case err != nil:
		return err
	}
	defer f.Close()
	var hdr [headerSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	gen, ok := parseHeader(hdr[:], logMagic)
	switch {
	case !ok:
		return dataLoss("the log header is damaged")
	case gen < snapGen:
		// A compaction wrote the snapshot and stopped before replacing the
		// log: the snapshot holds everything the log does.
		s.recovery.StaleLog = true
		s.logger.Warn("memory: discarded a log older than the snapshot (interrupted compaction)")
		return p.newLog(snapGen)
	case gen > snapGen:
		return dataLoss("the log is newer than the snapshot; the snapshot is missing or old")
	}
	end, err := s.replayLog(f)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if cut := fi.Size() - end; cut > 0 {
		if err := f.Truncate(end); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		s.recovery.TruncatedAt, s.recovery.TruncatedBytes = end, cut
		s.logger.Warn("memory: cut a torn or corrupt record off the end of the log",
			"offset", end, "bytes", cut)
	}
	p.gen = gen
	return p.openLog(end)
}

// loadSnapshot replays a snapshot. Every record must be intact and the last
// must be the end record that counts the others.
func (s *Store) loadSnapshot(f *os.File) (uint64, error) {
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, dataLoss("the snapshot header is damaged")
	}
	gen, ok := parseHeader(hdr[:], snapMagic)
	if !ok {
		return 0, dataLoss("the snapshot header is damaged")
	}
	var n uint64
	for off := int64(headerSize); ; {
		body, err := readFrame(r)
		if err != nil {
			return 0, dataLoss("the snapshot is damaged at offset %d", off)
		}
		rec, err := decodeRecord(body)
		if err != nil {
			return 0, dataLoss("the snapshot is damaged at offset %d", off)
		}
		off += int64(frameHeader + len(body))
		if rec.op == opEnd {
			if rec.count != n {
				return 0, dataLoss("the snapshot is incomplete")
			}
			if _, err := r.ReadByte(); err != io.EOF {
				return 0, dataLoss("the snapshot has data after its end")
			}
			return gen, nil
		}
		if err := s.apply(rec); err != nil {
			return 0, dataLoss("snapshot record at offset %d does not apply: %v", off, err)
		}
		n++
	}
}

// readFrame reads one frame and returns its body. Any framing problem,
// including EOF, is an error.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n, ok := frameLen(h[:])
	if !ok {
		return nil, errMalformed
	}
	b := make([]byte, frameHeader+n)
	copy(b, h[:])
	if _, err := io.ReadFull(r, b[frameHeader:]); err != nil {
		return nil, err
	}
	body, ok := frameOK(b)
	if !ok {
		return nil, errMalformed
	}
	return body, nil
}

// replayLog replays the records of the log after its header and returns the
// offset after the last intact one. A bad frame followed by nothing that
// looks like a frame is a torn tail: replay stops there. A bad frame
// followed by an intact frame is damage in the middle: DataLoss.
func (s *Store) replayLog(f *os.File) (int64, error) {
	r := bufio.NewReaderSize(f, 1<<20)
	off := int64(headerSize)
	for {
		if _, err := r.Peek(1); err == io.EOF {
			return off, nil
		}
		body, err := readFrame(r)
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF && err != errMalformed {
				return 0, err
			}
			if rerr := checkTail(f, off); rerr != nil {
				return 0, rerr
			}
			return off, nil
		}
		rec, err := decodeRecord(body)
		if err != nil {
			return 0, dataLoss("log record at offset %d is intact but does not decode", off)
		}
		if rec.op == opEnd {
			return 0, dataLoss("log record at offset %d is not a log operation", off)
		}
		if err := s.apply(rec); err != nil {
			return 0, dataLoss("log record at offset %d does not apply: %v", off, err)
		}
		off += int64(frameHeader + len(body))
	}
}

// checkTail looks for an intact frame after the bad frame at off: it finds
// one only when the damage is not at the end of the log. Only positions that
// hold the frame magic are checked, so the scan is linear.
func checkTail(f *os.File, off int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	rest := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(rest, off); err != nil && err != io.EOF {
		return err
	}
	for i := 1; ; i++ {
		j := bytes.Index(rest[i:], []byte(frameMagic))
		if j < 0 {
			return nil
		}
		i += j
		if _, ok := frameOK(rest[i:]); ok {
			return dataLoss("the log is damaged at offset %d and intact records follow", off)
		}
	}
}

// apply replays one decoded record. It checks what the live operations
// check, so a record that does not fit the state is reported.
func (s *Store) apply(r *record) error {
	if r.op == opCreate {
		if err := r.spec.Validate(true); err != nil {
			return err
		}
		if s.colls[r.name] != nil {
			return errors.New("collection exists already")
		}
		s.colls[r.name] = newCollection(r.spec)
		return nil
	}
	c := s.colls[r.name]
	if c == nil {
		return errors.New("no such collection")
	}
	switch r.op {
	case opDrop:
		delete(s.colls, r.name)
	case opUpsert:
		pts, err := prepare(c.spec, r.points)
		if err != nil {
			return err
		}
		c.upsert(pts)
	case opDelete, opSetPayload:
		slots := make([]int32, len(r.ids))
		seen := make(map[int32]bool, len(r.ids))
		for i, id := range r.ids {
			slot, ok := c.slotOf[id]
			if !ok || seen[slot] {
				return errors.New("a point it names is missing or repeated")
			}
			seen[slot] = true
			slots[i] = slot
		}
		if r.op == opDelete {
			c.deleteSlots(slots)
		} else {
			c.updatePayload(slots, r.set, r.unset)
		}
	default:
		return errors.New("unknown operation")
	}
	return nil
}

// persister appends records to the log of a store directory.
type persister struct {
	mu       sync.Mutex
	dir      string
	f        *os.File // the log, open for appending; nil once closed
	size     int64    // bytes of intact records in the log, header included
	snapSize int64
	gen      uint64 // generation of the snapshot and the log
	sync     bool
	broken   error // when set, the log may not match memory: no more writes
	lock     *os.File
}

// newLog replaces the log with an empty one of generation gen.
func (p *persister) newLog(gen uint64) error {
	if err := writeFileSync(filepath.Join(p.dir, logName+tmpExt), fileHeader(logMagic, gen)); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(p.dir, logName+tmpExt), filepath.Join(p.dir, logName)); err != nil {
		return err
	}
	if err := syncDir(p.dir); err != nil {
		return err
	}
	p.gen = gen
	return p.openLog(headerSize)
}

func (p *persister) openLog(size int64) error {
	f, err := os.OpenFile(filepath.Join(p.dir, logName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	p.f, p.size = f, size
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; renames are durable
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (p *persister) usable() error {
	if p.broken != nil {
		return driver.Wrap(driver.FailedPrecondition, p.broken, "memory store: an earlier log write failed; reopen the store")
	}
	if p.f == nil {
		return errClosed
	}
	return nil
}

// append writes one frame to the log and, unless NoSync, syncs it. A failed
// write is cut back off so the log stays a sequence of whole records; when
// that is impossible, or a sync failed, the store refuses further writes.
func (p *persister) append(fr []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	_, err := p.f.Write(fr)
	if err != nil {
		if terr := p.f.Truncate(p.size); terr != nil {
			p.broken = err
		}
		return driver.Wrap(driver.Unavailable, err, "memory store: cannot write the log")
	}
	if p.sync {
		if err := p.f.Sync(); err != nil {
			// After a failed fsync the file's state is unknown.
			p.broken = err
			return driver.Wrap(driver.Unavailable, err, "memory store: cannot sync the log")
		}
	}
	p.size += int64(len(fr))
	return nil
}

func (p *persister) wantsCompaction(limit int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken == nil && p.f != nil && p.size > limit && p.size > p.snapSize
}

func (p *persister) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if p.f != nil {
		if p.sync && p.broken == nil {
			err = p.f.Sync()
		}
		if cerr := p.f.Close(); err == nil {
			err = cerr
		}
		p.f = nil
	}
	if p.lock != nil {
		if cerr := p.lock.Close(); err == nil {
			err = cerr
		}
		p.lock = nil
	}
	return err
}

// Compact writes the whole state to a new snapshot and starts an empty log.
// Writes wait while it runs; reads go on. A store without persistence has
// nothing to do.
//
// The sequence is crash-safe: an empty log and the snapshot are written to
// temporary files and synced; renaming the snapshot into place commits the
// compaction (Open then ignores the older log); renaming the new log into
// place finishes it.
func (s *Store) Compact() error {
	if s.p == nil {
		return nil
	}
	// The store's read lock keeps collections from being created or dropped;
	// each collection's read lock holds off its writers, not its readers.
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	names := make([]string, 0, len(s.colls))
	for n, c := range s.colls {
		names = append(names, n)
		c.mu.RLock()
		defer c.mu.RUnlock()
	}
	slices.Sort(names)
	return s.p.compact(func(emit func([]byte) error) error {
		for _, n := range names {
			if err := s.colls[n].snapshot(emit); err != nil {
				return err
			}
		}
		return nil
	})
}

// snapshot emits the records that re-create c. Callers hold its read lock.
func (c *collection) snapshot(emit func([]byte) error) error {
	if err := emit(encodeCreate(c.spec)); err != nil {
		return err
	}
	rowBytes := 0
	for _, v := range c.vecs {
		rowBytes += 4 * v.dim
	}
	per := max(1, snapChunk/max(1, rowBytes))
	batch := make([]driver.Point, 0, min(per, len(c.slotOf)))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(encodeUpsert(c.spec.Name, batch))
		batch = batch[:0]
		return err
	}
	for slot, id := range c.ids {
		if id.IsZero() {
			continue
		}
		p := driver.Point{ID: id, Payload: c.payloads[slot], Vectors: make(map[string][]float32, len(c.vecs))}
		for i, vs := range c.spec.Vectors {
			p.Vectors[vs.Name] = c.vecs[i].at(int32(slot))
		}
		batch = append(batch, p)
		if len(batch) == per {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// compact runs the compaction sequence; write emits the state's records.
func (p *persister) compact(write func(emit func([]byte) error) error) (err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	gen := p.gen + 1
	logTmp, snapTmp := filepath.Join(p.dir, logName+tmpExt), filepath.Join(p.dir, snapName+tmpExt)
	committed := false
	defer func() {
		if !committed {
			os.Remove(logTmp)
			os.Remove(snapTmp)
		}
	}()
	if err := writeFileSync(logTmp, fileHeader(logMagic, gen)); err != nil {
		return err
	}
	size, err := writeSnapshot(snapTmp, gen, write)
	if err != nil {
		return err
	}
	if err := os.Rename(snapTmp, filepath.Join(p.dir, snapName)); err != nil {
		return err
	}
	committed = true
	// From here on the old log is stale: on failure, stop writing to it.
	defer func() {
		if err != nil {
			p.broken = err
		}
	}()
	if err := syncDir(p.dir); err != nil {
		return err
	}
	if err := os.Rename(logTmp, filepath.Join(p.dir, logName)); err != nil {
		return err
	}
	if err := syncDir(p.dir); err != nil {
		return err
	}
	old := p.f
	if err := p.openLog(headerSize); err != nil {
		return err
	}
	old.Close()
	p.gen, p.snapSize = gen, size
	return nil
}

func writeSnapshot(path string, gen uint64, write func(emit func([]byte) error) error) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	size := int64(headerSize)
	var n uint64
	w.Write(fileHeader(snapMagic, gen))
	emit := func(fr []byte) error {
		_, err := w.Write(fr)
		size += int64(len(fr))
		n++
		return err
	}
	if err := write(emit); err != nil {
		return 0, err
	}
	end := encodeEnd(n)
	if _, err := w.Write(end); err != nil {
		return 0, err
	}
	size += int64(len(end))
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("closing the snapshot: %w", err)
	}
	return size, nil
}
