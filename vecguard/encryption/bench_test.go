package encryption

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func benchPoints(n, d int) []driver.Point {
	r := rand.New(rand.NewPCG(1, 2))
	pts := make([]driver.Point, n)
	for i := range pts {
		pts[i] = driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"v": vec(r, d)},
			Payload: map[string]any{"text": "a document of a few hundred bytes, " + fmt.Sprint(i), "dept": "sales", "year": int64(i)},
		}
	}
	return pts
}

// BenchmarkSeal seals one point: one SAP encryption, the synthetic IV, the
// sealed exact copy and text (AES-GCM), one AES-SIV field and the tag.
func BenchmarkSeal(b *testing.B) {
	for _, d := range []int{384, 768, 1536, 3072} {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			e, _ := newEnc(b, Config{})
			pts := benchPoints(1, d)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(ctx, scopeA, pts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen opens one point, including the check of the stored vector
// against its sealed exact copy (a SAP encryption).
func BenchmarkOpen(b *testing.B) {
	for _, d := range []int{384, 768, 1536, 3072} {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			e, _ := newEnc(b, Config{})
			sealed, _ := e.Seal(ctx, scopeA, benchPoints(1, d))
			b.ReportAllocs()
			for b.Loop() {
				pts := clonePoints(sealed)
				if err := e.Open(ctx, scopeA, pts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealBatch seals 1,000 points of dimension 1536 in one call (on
// every core); ns/op is per batch.
func BenchmarkSealBatch(b *testing.B) {
	e, _ := newEnc(b, Config{})
	pts := benchPoints(1000, 1536)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Seal(ctx, scopeA, pts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoredMatches checks one 768-dimension vector that the database
// stored normalized (the slow path; a verbatim copy is a comparison).
func BenchmarkStoredMatches(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	c := vec(r, 768)
	for i := range c {
		c[i] *= 300
	}
	stored := slices.Clone(c)
	normalizeF32(stored)
	for b.Loop() {
		if !storedMatches(stored, c) {
			b.Fatal("no match")
		}
	}
}
