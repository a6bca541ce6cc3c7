package qdrant

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/drivertest"
)

// liveEnv names the environment variable that points the suite at a real
// Qdrant (host:grpc-port).
const liveEnv = "VECGUARD_QDRANT_ADDR"

type harness struct {
	addr string
}

func (h *harness) MakeDriver(ctx context.Context) (driver.Driver, error) {
	return openDriver(ctx, h.addr)
}

func (h *harness) Capabilities() drivertest.Capabilities {
	// The test server is exact; a live Qdrant is asked for exact search.
	return drivertest.Capabilities{Exact: true, NormalizesCosine: true}
}

func (h *harness) Close() {}

// openDriver opens a driver on addr and checks that the server answers.
func openDriver(ctx context.Context, addr string) (*Driver, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, err
	}
	d, err := Open(&qc.Config{Host: host, Port: port, PoolSize: 1, SkipCompatibilityCheck: true}, &Options{ExactSearch: true})
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := d.Client().HealthCheck(hctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// TestConformance runs the conformance suite against the Qdrant-protocol
// test server, over gRPC on a 127.0.0.1 listener.
func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		srv := qdranttest.Start(t, nil)
		return &harness{addr: srv.Addr()}, nil
	})
}

// TestConformanceLive runs the suite against the Qdrant at
// VECGUARD_QDRANT_ADDR. With the variable set, an unreachable Qdrant fails
// the test.
func TestConformanceLive(t *testing.T) {
	addr := os.Getenv(liveEnv)
	if addr == "" {
		t.Skip(liveEnv + " is not set")
	}
	d, err := openDriver(t.Context(), addr)
	if err != nil {
		t.Fatalf("%s=%s: Qdrant is not reachable: %v", liveEnv, addr, err)
	}
	d.Close()
	drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		return &harness{addr: addr}, nil
	})
}
