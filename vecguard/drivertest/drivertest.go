// Package drivertest is the conformance suite every vecguard driver runs,
// in the manner of gocloud.dev's drivertest and testing/slogtest. A driver's
// test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
//			return &harness{...}, nil
//		})
//	}
//
// The suite exercises the driver both directly (the driver contract) and
// through a *vecguard.Client built over it (authorization, encryption and
// audit cases), so every adapter proves the whole product, not only itself.
//
// # What the suite expects
//
// Expected results are computed in the test: filters with driver.Filter.Match
// over the same data, rankings by brute force. Exact drivers must return the
// exact top-k (scores within 1e-4 relative; near-ties may swap, exact ties
// are ordered by ID); approximate ones must return only matching points with
// correct scores, best first, and reach Capabilities.RecallFloor.
//
// Every test makes its own harness and driver, creates collections named
// "vgt_<case>_<random hex>" and drops them when it ends, so runs may share a
// server with each other and with other data. Errors are classified as the
// client does: driver.CodeOf, then the driver's ErrorClassifier.
package drivertest

import (
	"context"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Harness gives the suite drivers to test.
type Harness interface {
	// MakeDriver returns a driver connected to an empty-or-shared database.
	// Tests create collections with unique names and drop them afterwards,
	// so a shared server works.
	MakeDriver(ctx context.Context) (driver.Driver, error)
	// Capabilities describes what the driver promises.
	Capabilities() Capabilities
	// Close releases the harness.
	Close()
}

// Capabilities tells the suite which promises to hold a driver to.
type Capabilities struct {
	// Exact drivers return the exact top-k; approximate ones are held to
	// RecallFloor instead.
	Exact bool
	// RecallFloor is the minimum recall@10 an approximate driver must reach
	// (0 means 0.9).
	RecallFloor float64
	// NormalizesCosine is set when the database stores cosine vectors
	// normalized (Qdrant), so returned vectors are compared by direction.
	NormalizesCosine bool
	// UUIDOnly is set when the database only has UUID IDs and maps numeric
	// IDs onto UUIDs (Weaviate); the suite still uses both kinds.
	UUIDOnly bool
}

// HarnessMaker makes a Harness for one test.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// RunConformanceTests runs the whole suite against the drivers newHarness makes.
func RunConformanceTests(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	t.Run("Driver", func(t *testing.T) { testDriver(t, newHarness) })
	t.Run("Client", func(t *testing.T) { testClient(t, newHarness) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newHarness) })
	t.Run("Authorization", func(t *testing.T) { testAuthorization(t, newHarness) })
	t.Run("Encryption", func(t *testing.T) { testEncryption(t, newHarness) })
}
