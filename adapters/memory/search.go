package memory

import (
	"math"
	"slices"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// dot returns the dot product of a and b (len(b) >= len(a)). Eight
// independent accumulators let the CPU overlap the multiply-adds.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for len(a) >= 8 {
		x, y := a[:8:8], b[:8:8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
		a, b = a[8:], b[8:]
	}
	for i := range a {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sqDist returns the squared Euclidean distance of a and b (len(b) >= len(a)).
func sqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for len(a) >= 8 {
		x, y := a[:8:8], b[:8:8]
		d0, d1, d2, d3 := x[0]-y[0], x[1]-y[1], x[2]-y[2], x[3]-y[3]
		d4, d5, d6, d7 := x[4]-y[4], x[5]-y[5], x[6]-y[6], x[7]-y[7]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
		a, b = a[8:], b[8:]
	}
	for i := range a {
		d := a[i] - b[i]
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// norm returns the Euclidean norm of v, summed in float64.
func norm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return float32(math.Sqrt(s))
}

// cosine returns the cosine similarity from a dot product and two norms; 0
// when either vector is zero.
func cosine(dot, qn, vn float32) float32 {
	if qn == 0 || vn == 0 {
		return 0
	}
	return float32(float64(dot) / (float64(qn) * float64(vn)))
}

type hit struct {
	score float32
	slot  int32
}

// topK keeps the k best hits seen in a heap whose root is the worst of them.
// Better means a higher score (or a lower one when !higher), then a smaller ID.
type topK struct {
	k      int
	higher bool
	ids    []driver.PointID // by slot, for ties
	h      []hit
}

// worse reports whether a ranks below b.
func (t *topK) worse(a, b hit) bool {
	if a.score != b.score {
		return (a.score < b.score) == t.higher
	}
	return t.ids[a.slot].Compare(t.ids[b.slot]) > 0
}

func (t *topK) push(slot int32, score float32) {
	x := hit{score: score, slot: slot}
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		t.up(len(t.h) - 1)
		return
	}
	// Cheap rejection on the score alone: the common case once full.
	if r := t.h[0].score; score != r && (score < r) == t.higher {
		return
	}
	if !t.worse(t.h[0], x) {
		return
	}
	t.h[0] = x
	t.down(0)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(t.h[i], t.h[p]) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		w := i
		if l := 2*i + 1; l < n && t.worse(t.h[l], t.h[w]) {
			w = l
		}
		if r := 2*i + 2; r < n && t.worse(t.h[r], t.h[w]) {
			w = r
		}
		if w == i {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// sorted returns the hits best first.
func (t *topK) sorted() []hit {
	out := t.h
	slices.SortFunc(out, func(a, b hit) int {
		switch {
		case t.worse(b, a):
			return -1
		case t.worse(a, b):
			return 1
		}
		return 0
	})
	return out
}
