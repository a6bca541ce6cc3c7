// Package benchtest runs the adapters' side-by-side search benchmarks: the
// same queries through each path (raw client, guarded, guarded-encrypted)
// in one run, so that their ratios can be compared on a noisy machine.
package benchtest

import (
	"testing"
	"time"
)

// Path is one way of running a search.
type Path struct {
	Name   string
	Search func(query []float32) error
}

// RunSearches runs one sub-benchmark per path over queries, in order. It
// reports allocations and, where the platform measures it, the CPU time
// the process used per search under metric (e.g. "cpu-ns/op"): unlike
// ns/op, it does not count time spent waiting for a CPU that other
// processes hold.
func RunSearches(b *testing.B, queries [][]float32, metric string, paths ...Path) {
	for _, p := range paths {
		b.Run(p.Name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := ProcessCPU()
			for b.Loop() {
				if err := p.Search(queries[i%len(queries)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if cpu := ProcessCPU() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), metric)
			}
		})
	}
}

// ProcessCPU returns the CPU time (user and system) the process has used,
// or 0 where it is not measured.
func ProcessCPU() time.Duration { return processCPU() }
