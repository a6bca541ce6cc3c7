package drivertest

import "testing"

// driverCases are the driver-contract cases, run against the driver
// directly, without the guarded client.
var driverCases = []struct {
	name string
	fn   func(*testing.T, HarnessMaker)
}{
	{"Collections", testCollections},
	{"UpsertRead", testUpsertRead},
	{"UpsertOverwrite", testUpsertOverwrite},
	{"ReadByIDs", testReadByIDs},
	{"Scroll", testScroll},
	{"Delete", testDelete},
	{"UpdatePayload", testUpdatePayload},
	{"Filters", testFilters},
	{"SearchExact", testSearchExact},
	{"SearchTies", testSearchTies},
	{"SearchThreshold", testSearchThreshold},
	{"SearchOffset", testSearchOffset},
	{"SearchProjection", testSearchProjection},
	{"Context", testContext},
	{"Limits", testLimits},
	{"Concurrent", testConcurrent},
}

// testDriver runs the driver-contract cases.
func testDriver(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	for _, tc := range driverCases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness) })
	}
}
