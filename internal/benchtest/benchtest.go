// Package benchtest runs the adapters' side-by-side search benchmarks: the
// same queries through each path (raw client, guarded, guarded-encrypted)
// in one run, so that their ratios can be compared on a noisy machine.
package benchtest

import (
	"math/rand/v2"
	"runtime"
	"slices"
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

// Compare runs queries through every path once to warm them up, collects
// the setup's garbage, runs one sub-benchmark per path (RunSearches, with
// the CPU time as metric) and then the paths named in interleaved, first
// the baseline, alternating (RunInterleaved). Name in interleaved only
// paths that allocate alike.
func Compare(b *testing.B, queries [][]float32, metric string, interleaved []string, paths ...Path) {
	for _, q := range queries {
		for _, p := range paths {
			if err := p.Search(q); err != nil {
				b.Fatalf("%s: %v", p.Name, err)
			}
		}
	}
	runtime.GC()
	RunSearches(b, queries, metric, paths...)
	var inter []Path
	for _, name := range interleaved {
		i := slices.IndexFunc(paths, func(p Path) bool { return p.Name == name })
		if i < 0 {
			b.Fatalf("benchtest: no path %q", name)
		}
		inter = append(inter, paths[i])
	}
	if len(inter) > 1 {
		RunInterleaved(b, queries, inter...)
	}
}

// RunInterleaved runs one sub-benchmark, "interleaved", in which every
// iteration runs each path once on the same query, in a random order (the
// same sequence every run), and times each search. It reports each path's
// mean time per search as "<name>-ns/op" and its ratio to the first path's
// as "<name>/<first>". Unlike the per-path sub-benchmarks, which run one
// after another, the paths share every moment of the machine's load. Give
// it paths that allocate alike: the garbage one path leaves is collected
// while the others run too.
func RunInterleaved(b *testing.B, queries [][]float32, paths ...Path) {
	b.Run("interleaved", func(b *testing.B) {
		total := make([]time.Duration, len(paths))
		r := rand.New(rand.NewPCG(7, 11))
		order := make([]int, len(paths))
		for k := range order {
			order[k] = k
		}
		i := 0
		for b.Loop() {
			q := queries[i%len(queries)]
			r.Shuffle(len(order), func(x, y int) { order[x], order[y] = order[y], order[x] })
			for _, k := range order {
				start := time.Now()
				if err := paths[k].Search(q); err != nil {
					b.Fatal(err)
				}
				total[k] += time.Since(start)
			}
			i++
		}
		if i == 0 {
			return
		}
		for k, p := range paths {
			b.ReportMetric(float64(total[k].Nanoseconds())/float64(i), p.Name+"-ns/op")
			if k > 0 && total[0] > 0 {
				b.ReportMetric(float64(total[k])/float64(total[0]), p.Name+"/"+paths[0].Name)
			}
		}
	})
}
