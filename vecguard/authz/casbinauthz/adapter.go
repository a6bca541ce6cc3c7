package casbinauthz

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// csvAdapter is the Casbin adapter of File and Text sources. Unlike
// Casbin's own file adapter it quotes fields when it writes them (a
// condition may hold commas), accepts a p line without its condition, and,
// for a file, writes changes through (AddPolicy, RemovePolicy) so that
// other instances reloading the file see them. Lines are parsed one at a
// time as CSV records; a field cannot span lines. '#' starts a comment line.
type csvAdapter struct {
	mu           sync.Mutex
	store        store
	writeThrough bool
}

// errNotImplemented tells Casbin to keep a change in memory only.
var errNotImplemented = errors.New("not implemented")

var (
	_ persist.Adapter      = (*csvAdapter)(nil)
	_ persist.BatchAdapter = (*csvAdapter)(nil)
)

// store holds the text of a policy.
type store interface {
	read() ([]byte, error)
	write([]byte) error
}

type fileStore struct{ path string }

func (s fileStore) read() ([]byte, error) { return os.ReadFile(s.path) }

// write replaces the file atomically (a temporary file renamed over it).
func (s fileStore) write(b []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(s.path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

type memStore struct{ data []byte }

func (s *memStore) read() ([]byte, error) { return bytes.Clone(s.data), nil }
func (s *memStore) write(b []byte) error  { s.data = bytes.Clone(b); return nil }

// parseLine parses one policy line. It returns nil for blank and comment
// lines. A p line has 5 or 6 fields after "p" (the condition may be left
// out); a g line has 3 (member, role, tenant).
func parseLine(line string) ([]string, error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil, nil
	}
	r := csv.NewReader(strings.NewReader(line))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil, err
	}
	for i := range rec {
		rec[i] = strings.TrimRight(rec[i], " \t")
	}
	switch rec[0] {
	case "p":
		switch len(rec) {
		case 6:
			rec = append(rec, "")
		case 7:
		default:
			return nil, fmt.Errorf("a p line has 5 or 6 fields (subject, tenant, collection, action, effect[, condition]), not %d", len(rec)-1)
		}
	case "g":
		if len(rec) != 4 {
			return nil, fmt.Errorf("a g line has 3 fields (member, role, tenant), not %d", len(rec)-1)
		}
	default:
		return nil, fmt.Errorf("unknown line type %q (want p or g)", rec[0])
	}
	return rec, nil
}

// parseText parses a whole policy text into p and g records.
func parseText(text []byte) ([][]string, error) {
	var out [][]string
	for i, line := range strings.Split(string(text), "\n") {
		rec, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("policy line %d: %w", i+1, err)
		}
		if rec != nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// LoadPolicy implements persist.Adapter.
func (a *csvAdapter) LoadPolicy(m model.Model) error {
	a.mu.Lock()
	text, err := a.store.read()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	recs, err := parseText(text)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := persist.LoadPolicyArray(rec, m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy implements persist.Adapter: it rewrites the whole policy (p
// lines, then g lines). Comments are not kept.
func (a *csvAdapter) SavePolicy(m model.Model) error {
	var b strings.Builder
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				b.WriteString(formatLine(ptype, rule))
				b.WriteByte('\n')
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store.write([]byte(b.String()))
}

// AddPolicy implements persist.Adapter (auto-save): it appends the line.
func (a *csvAdapter) AddPolicy(sec, ptype string, rule []string) error {
	return a.AddPolicies(sec, ptype, [][]string{rule})
}

// AddPolicies implements persist.BatchAdapter.
func (a *csvAdapter) AddPolicies(sec, ptype string, rules [][]string) error {
	if !a.writeThrough {
		return errNotImplemented
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	text, err := a.store.read()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(text)
	if len(text) > 0 && text[len(text)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, r := range rules {
		b.WriteString(formatLine(ptype, r))
		b.WriteByte('\n')
	}
	return a.store.write(b.Bytes())
}

// RemovePolicy implements persist.Adapter (auto-save): it drops the lines
// that hold the rule and keeps every other line as written.
func (a *csvAdapter) RemovePolicy(sec, ptype string, rule []string) error {
	return a.RemovePolicies(sec, ptype, [][]string{rule})
}

// RemovePolicies implements persist.BatchAdapter.
func (a *csvAdapter) RemovePolicies(sec, ptype string, rules [][]string) error {
	if !a.writeThrough {
		return errNotImplemented
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	text, err := a.store.read()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if !slices.ContainsFunc(rules, func(r []string) bool { return len(r) > 0 && strings.Contains(line, r[0]) }) {
			b.WriteString(line) // cannot hold a removed rule: skip parsing it
			continue
		}
		rec, err := parseLine(line)
		if err == nil && rec != nil && rec[0] == ptype && slices.ContainsFunc(rules, func(r []string) bool { return slices.Equal(padRule(ptype, r), rec[1:]) }) {
			continue
		}
		b.WriteString(line)
	}
	return a.store.write([]byte(b.String()))
}

func padRule(ptype string, r []string) []string {
	if ptype == "p" && len(r) == 5 {
		return append(slices.Clone(r), "")
	}
	return r
}

// RemoveFilteredPolicy implements persist.Adapter; vecguard never calls it.
func (a *csvAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errNotImplemented
}
