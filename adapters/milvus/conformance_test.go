package milvus_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/vecguard/vecguard/adapters/milvus"
	"github.com/vecguard/vecguard/adapters/milvus/internal/milvustest"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/drivertest"
)

// serverOptions are the test server's settings for the suite: Milvus's
// defaults, except a JSON limit of 1 MiB (common.JSONMaxLength), which the
// suite's largest payload needs.
var serverOptions = &milvustest.Options{JSONMaxLength: 1 << 20}

// harness connects drivers to one Milvus-protocol server: a test server
// of its own, or the live server of VECGUARD_MILVUS_ADDR.
type harness struct {
	cfg milvusclient.ClientConfig
	srv *milvustest.Server // nil in live mode
}

func (h *harness) MakeDriver(ctx context.Context) (driver.Driver, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := h.cfg
	return milvus.Open(ctx, &cfg, nil)
}

// Capabilities: FLAT indexes search exactly, on Milvus as on the test
// server.
func (h *harness) Capabilities() drivertest.Capabilities {
	return drivertest.Capabilities{Exact: true}
}

func (h *harness) Close() {
	if h.srv != nil {
		h.srv.Stop()
	}
}

// TestConformance runs the suite against the test server over gRPC.
func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		srv, err := milvustest.Listen(ctx, serverOptions)
		if err != nil {
			return nil, err
		}
		return &harness{cfg: milvusclient.ClientConfig{Address: srv.Addr()}, srv: srv}, nil
	})
}

// liveConfig returns the client settings of the live server, skipping the
// test when VECGUARD_MILVUS_ADDR is not set.
func liveConfig(tb testing.TB) milvusclient.ClientConfig {
	tb.Helper()
	addr := os.Getenv("VECGUARD_MILVUS_ADDR")
	if addr == "" {
		tb.Skip("VECGUARD_MILVUS_ADDR is not set: no live Milvus to test against")
	}
	return milvusclient.ClientConfig{Address: addr, APIKey: os.Getenv("VECGUARD_MILVUS_TOKEN")}
}

// TestConformanceLive runs the suite against the Milvus server named by
// VECGUARD_MILVUS_ADDR (host:port or an http(s) URL; VECGUARD_MILVUS_TOKEN
// is an optional API key or user:password). With the variable set and the
// server unreachable it fails.
func TestConformanceLive(t *testing.T) {
	cfg := liveConfig(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	d, err := milvus.Open(ctx, &cfg, nil)
	cancel()
	if err != nil {
		t.Fatalf("connecting to Milvus at %s: %v", cfg.Address, err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("closing: %v", err)
	}
	drivertest.RunConformanceTests(t, func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		return &harness{cfg: cfg}, nil
	})
}
