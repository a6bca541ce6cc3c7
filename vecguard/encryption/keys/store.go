package keys

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Store keeps the encrypted keyset records of a Local provider. Records are
// opaque bytes already encrypted under the key-encryption key; a Store needs
// no secrecy, only durability and an atomic compare-and-swap.
type Store interface {
	// Load returns the record named name, or an error with code NotFound.
	Load(ctx context.Context, name string) ([]byte, error)
	// Swap replaces the record named name with data if the current record
	// equals old (old nil: if there is no record), and otherwise changes
	// nothing and fails with code FailedPrecondition.
	Swap(ctx context.Context, name string, old, data []byte) error
}

var errConflict = driver.Errorf(driver.FailedPrecondition, "keys: the record changed concurrently")

// MemStore is a Store in memory, for tests and for processes that persist
// records some other way. The zero value is ready to use.
type MemStore struct {
	mu   sync.Mutex
	recs map[string][]byte
}

// Load implements Store.
func (m *MemStore) Load(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.recs[name]
	if !ok {
		return nil, driver.Errorf(driver.NotFound, "keys: no record")
	}
	return bytes.Clone(b), nil
}

// Swap implements Store.
func (m *MemStore) Swap(_ context.Context, name string, old, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.recs[name]
	if ok != (old != nil) || !bytes.Equal(cur, old) {
		return errConflict
	}
	if m.recs == nil {
		m.recs = map[string][]byte{}
	}
	m.recs[name] = bytes.Clone(data)
	return nil
}

// Records returns a copy of every record, by name (for tests and backups).
func (m *MemStore) Records() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(m.recs))
	for k, v := range m.recs {
		out[k] = bytes.Clone(v)
	}
	return out
}

// DirStore is a Store of one file per record in a directory. Writes go to a
// temporary file that is synced and renamed into place. Its
// compare-and-swap holds within one process only: when several processes
// share the keys, give them a Store over a database with conditional
// writes instead.
type DirStore struct {
	dir string
	mu  sync.Mutex
}

// NewDirStore returns a DirStore over dir, creating it (mode 0700) if
// needed.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, driver.Wrap(driver.Unavailable, err, "keys: cannot create the key directory")
	}
	return &DirStore{dir: dir}, nil
}

func (d *DirStore) path(name string) (string, error) {
	if !validRecordName(name) {
		return "", driver.Errorf(driver.InvalidArgument, "keys: invalid record name")
	}
	return filepath.Join(d.dir, name), nil
}

// Load implements Store.
func (d *DirStore) Load(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, driver.Errorf(driver.NotFound, "keys: no record")
	}
	if err != nil {
		return nil, driver.Wrap(driver.Unavailable, err, "keys: cannot read a key record")
	}
	return b, nil
}

// Swap implements Store.
func (d *DirStore) Swap(ctx context.Context, name string, old, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.Load(ctx, name)
	switch {
	case driver.CodeOf(err) == driver.NotFound:
		if old != nil {
			return errConflict
		}
	case err != nil:
		return err
	case old == nil || !bytes.Equal(cur, old):
		return errConflict
	}
	f, err := os.CreateTemp(d.dir, ".tmp-"+name+"-*")
	if err != nil {
		return driver.Wrap(driver.Unavailable, err, "keys: cannot write a key record")
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		os.Remove(tmp)
		return driver.Wrap(driver.Unavailable, werr, "keys: cannot write a key record")
	}
	if dir, err := os.Open(d.dir); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// validRecordName: the names Local uses are "tenant-" and 64 hex digits.
func validRecordName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
