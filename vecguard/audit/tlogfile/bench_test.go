package tlogfile

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
)

func benchRecord() *audit.Record {
	return &audit.Record{
		Time: time.Now(), Subject: "svc-retriever", Tenant: "acme", Roles: []string{"reader"},
		Operation: "search", Class: audit.ClassRead, System: "memory", Collection: "docs",
		PolicyFilter: driver.Eq("tenant", driver.String("acme")),
		CallerFilter: driver.And(driver.Eq("lang", driver.String("en")), driver.Gte("year", driver.Int(2020))),
		TopK:         10, ResultCount: 10, Allowed: true, Rule: "p1", Latency: 800 * time.Microsecond,
	}
}

// BenchmarkAuditAppend measures the audit pipeline into the Merkle file
// log: async (Audit returns once queued; the benchmark includes draining
// the queue to disk) and sync (Audit returns once the record's batch is
// written and fsynced; many callers share one fsync: group commit).
func BenchmarkAuditAppend(b *testing.B) {
	skey, _ := testKeys(b)
	open := func(b *testing.B, mode audit.Mode, noSync bool) (*audit.Logger, *Log) {
		lg, err := Open(filepath.Join(b.TempDir(), "bench.log"), skey, &Options{NoSync: noSync})
		if err != nil {
			b.Fatal(err)
		}
		l, err := audit.New(lg, &audit.Options{Mode: mode, Policy: audit.Block, Salt: []byte("bench salt of sixteen bytes+")})
		if err != nil {
			b.Fatal(err)
		}
		return l, lg
	}
	// Async acknowledges before the disk, so the log need not fsync each
	// batch: written records survive a crash of the process.
	b.Run("async", func(b *testing.B) {
		l, lg := open(b, audit.Async, true)
		r := benchRecord()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := l.Audit(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		l.Close()
		if lg.Size() != int64(b.N) {
			b.Fatalf("%d records written, want %d", lg.Size(), b.N)
		}
	})
	syncBench := func(b *testing.B, noSync bool) {
		l, _ := open(b, audit.Sync, noSync)
		defer l.Close()
		ctx := context.Background()
		var mu sync.Mutex
		var lat []time.Duration
		b.SetParallelism(16)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := benchRecord()
			mine := make([]time.Duration, 0, 1024)
			for pb.Next() {
				t0 := time.Now()
				if err := l.Audit(ctx, r); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.StopTimer()
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	// fsync per batch: acknowledged records survive a crash of the machine.
	b.Run("sync", func(b *testing.B) { syncBench(b, false) })
	// Written, not fsynced: acknowledged records survive a kill of the process.
	b.Run("sync-nofsync", func(b *testing.B) { syncBench(b, true) })
}
