package weaviate_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vecguard/vecguard/adapters/weaviate"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/drivertest"
)

// serverAddrs returns the Weaviate server the integration tests use. With
// neither variable set the tests skip; with them set and the server
// unreachable they fail.
func serverAddrs(tb testing.TB) (httpAddr, grpcAddr string) {
	tb.Helper()
	httpAddr = os.Getenv("VECGUARD_WEAVIATE_ADDR")
	grpcAddr = os.Getenv("VECGUARD_WEAVIATE_GRPC_ADDR")
	switch {
	case httpAddr == "" && grpcAddr == "":
		tb.Skip("VECGUARD_WEAVIATE_ADDR and VECGUARD_WEAVIATE_GRPC_ADDR are not set: no Weaviate server to test against (.ci/weaviate.sh starts one)")
	case httpAddr == "" || grpcAddr == "":
		tb.Fatal("set both VECGUARD_WEAVIATE_ADDR (HTTP host:port) and VECGUARD_WEAVIATE_GRPC_ADDR (gRPC host:port)")
	}
	return httpAddr, grpcAddr
}

// open connects a driver to the test server or fails the test.
func open(tb testing.TB, opts *weaviate.Options) *weaviate.Driver {
	tb.Helper()
	httpAddr, grpcAddr := serverAddrs(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := weaviate.Open(ctx, httpAddr, grpcAddr, opts)
	if err != nil {
		tb.Fatalf("connecting to Weaviate at %s (gRPC %s): %v", httpAddr, grpcAddr, err)
	}
	return d
}

type harness struct {
	httpAddr, grpcAddr string
	opts               weaviate.Options
}

func (h *harness) MakeDriver(ctx context.Context) (driver.Driver, error) {
	return weaviate.Open(ctx, h.httpAddr, h.grpcAddr, &h.opts)
}

func (h *harness) Capabilities() drivertest.Capabilities {
	return drivertest.Capabilities{Exact: false, RecallFloor: 0.9, UUIDOnly: true}
}

func (h *harness) Close() {}

func runConformance(t *testing.T, opts weaviate.Options) {
	httpAddr, grpcAddr := serverAddrs(t)
	drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		return &harness{httpAddr: httpAddr, grpcAddr: grpcAddr, opts: opts}, nil
	})
}

func TestConformance(t *testing.T) { runConformance(t, weaviate.Options{}) }

// TestConformanceNativeTenancy runs the suite again with every tenant of a
// tenant-isolated collection in its own Weaviate tenant.
func TestConformanceNativeTenancy(t *testing.T) {
	runConformance(t, weaviate.Options{NativeMultiTenancy: true})
}
