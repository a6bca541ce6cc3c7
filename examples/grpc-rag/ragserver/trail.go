package ragserver

import (
	"context"
	"sync"

	"github.com/vecguard/vecguard/vecguard/audit"
)

// trail keeps the latest audit entries in memory for the AuditTrail call.
// It is an audit.Sink: it only ever sees redacted entries.
type trail struct {
	mu      sync.Mutex
	entries []audit.Entry // a ring of cap entries
	next    int
	full    bool
}

func newTrail(n int) *trail { return &trail{entries: make([]audit.Entry, n)} }

// Handle implements audit.Sink.
func (t *trail) Handle(_ context.Context, batch []audit.Entry) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range batch {
		t.entries[t.next] = e
		t.next = (t.next + 1) % len(t.entries)
		t.full = t.full || t.next == 0
	}
	return nil
}

// last returns up to n of the latest entries of tenant, oldest first.
func (t *trail) last(tenant string, n int) []audit.Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []audit.Entry
	size := t.next
	if t.full {
		size = len(t.entries)
	}
	for i := 1; i <= size && len(out) < n; i++ {
		e := t.entries[(t.next-i+len(t.entries))%len(t.entries)]
		if e.Tenant == tenant {
			out = append(out, e)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
