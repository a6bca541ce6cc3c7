package memory_test

import (
	"context"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/drivertest"
)

// harness makes stores for the conformance suite: in memory, or persisted
// in a directory of the test.
type harness struct {
	dir    string // "" for an in-memory store
	stores []*memory.Store
}

func (h *harness) MakeDriver(context.Context) (driver.Driver, error) {
	s := memory.New()
	if h.dir != "" {
		var err error
		if s, err = memory.Open(h.dir, &memory.Options{NoSync: true}); err != nil {
			return nil, err
		}
	}
	h.stores = append(h.stores, s)
	return s, nil
}

func (h *harness) Capabilities() drivertest.Capabilities { return drivertest.Capabilities{Exact: true} }

func (h *harness) Close() {
	for _, s := range h.stores {
		s.Close()
	}
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(context.Context, *testing.T) (drivertest.Harness, error) {
		return &harness{}, nil
	})
}

func TestConformancePersistent(t *testing.T) {
	drivertest.RunConformanceTests(t, func(_ context.Context, t *testing.T) (drivertest.Harness, error) {
		return &harness{dir: t.TempDir()}, nil
	})
}
