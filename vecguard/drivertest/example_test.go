package drivertest_test

import (
	"context"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/drivertest"
)

// harness gives the suite drivers of the embedded store. A database
// adapter's harness connects to its server in MakeDriver (the suite creates
// uniquely named collections and drops them, so a shared server works) and
// reports what the database promises in Capabilities.
type harness struct{ stores []*memory.Store }

func (h *harness) MakeDriver(context.Context) (driver.Driver, error) {
	s := memory.New()
	h.stores = append(h.stores, s)
	return s, nil
}

func (h *harness) Capabilities() drivertest.Capabilities {
	// An approximate (HNSW) index would say Exact: false and a RecallFloor.
	return drivertest.Capabilities{Exact: true}
}

func (h *harness) Close() {
	for _, s := range h.stores {
		s.Close()
	}
}

// An adapter runs the whole suite from one test function in its package.
func ExampleRunConformanceTests() {
	testConformance := func(t *testing.T) {
		drivertest.RunConformanceTests(t, func(context.Context, *testing.T) (drivertest.Harness, error) {
			return &harness{}, nil
		})
	}
	_ = testConformance // func TestConformance(t *testing.T) { ... } in a _test.go file
}
