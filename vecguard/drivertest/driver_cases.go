package drivertest

import "testing"

// testDriver holds the driver-contract cases (being written).
func testDriver(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
}
