package recalltest

import (
	"math"
	"testing"
)

func TestRecallNDCG(t *testing.T) {
	// idcg for k = 2: 2/log2(2) + 1/log2(3).
	idcg := 2 + 1/math.Log2(3)
	tests := []struct {
		name         string
		truth, got   []int
		recall, ndcg float64
	}{
		{"exact", []int{1, 2}, []int{1, 2}, 1, 1},
		{"swapped", []int{1, 2}, []int{2, 1}, 1, (1 + 2/math.Log2(3)) / idcg},
		{"second only", []int{1, 2}, []int{9, 2}, 0.5, (1 / math.Log2(3)) / idcg},
		{"first only, late", []int{1, 2}, []int{9, 8, 1}, 0.5, (2 / math.Log2(4)) / idcg},
		{"none", []int{1, 2}, []int{7, 8}, 0, 0},
		{"empty result", []int{1, 2}, nil, 0, 0},
		{"no truth", nil, []int{1}, 0, 0},
	}
	for _, tt := range tests {
		r, n := RecallNDCG(tt.truth, tt.got)
		if math.Abs(r-tt.recall) > 1e-12 || math.Abs(n-tt.ndcg) > 1e-12 {
			t.Errorf("%s: RecallNDCG = %v, %v; want %v, %v", tt.name, r, n, tt.recall, tt.ndcg)
		}
	}
}

func TestClustered(t *testing.T) {
	base, queries := Clustered(16, 100, 5, 1)
	if len(base) != 100 || len(queries) != 5 {
		t.Fatalf("%d base vectors and %d queries, want 100 and 5", len(base), len(queries))
	}
	b2, _ := Clustered(16, 100, 5, 1)
	for i, v := range append(base, queries...) {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if len(v) != 16 || math.Abs(n-1) > 1e-5 {
			t.Fatalf("vector %d: dimension %d, squared norm %v; want 16 and 1", i, len(v), n)
		}
		if i < len(b2) && b2[i][0] != v[0] {
			t.Fatalf("vector %d differs between two draws with one seed", i)
		}
	}
}
