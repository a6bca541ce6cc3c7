// Package recalltest generates the synthetic data of vecguard's recall
// harnesses (package sap's, and the adapters' through real indexes), so that
// every recall table is measured on the same vectors.
package recalltest

import (
	"math"
	"math/rand/v2"
)

// Clustered draws unit vectors from a two-level mixture: 40 topics of
// 25 subtopics, points scattered around their subtopic. For d = 384 and
// 10,000 points a query's cosine similarity to its 1st, 10th, 40th, 100th
// and 1000th neighbour averages about 0.72, 0.62, 0.51, 0.48 and 0.07: a
// smooth decay like that of sentence embeddings, with no gap after the
// 10th neighbour that would make oversampling look better than it is.
// Queries come from the same distribution and are not in the base set.
func Clustered(d, n, q int, seed uint64) (base, queries [][]float32) {
	r := rand.New(rand.NewPCG(seed, 0x7265636c))
	gauss := func(scale float64) []float64 {
		v := make([]float64, d)
		for i := range v {
			v[i] = r.NormFloat64() * scale / math.Sqrt(float64(d))
		}
		return v
	}
	unit := func(v []float64) []float32 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		out := make([]float32, d)
		for i := range v {
			out[i] = float32(v[i] / math.Sqrt(s))
		}
		return out
	}
	const topics, subs = 40, 25
	centers := make([][]float64, topics*subs)
	for tp := range topics {
		top := gauss(1)
		for s := range subs {
			c := gauss(0.7)
			for i := range c {
				c[i] += top[i]
			}
			centers[tp*subs+s] = c
		}
	}
	point := func() []float32 {
		c := centers[r.IntN(len(centers))]
		v := gauss(0.8)
		for i := range v {
			v[i] += c[i]
		}
		return unit(v)
	}
	for range n {
		base = append(base, point())
	}
	for range q {
		queries = append(queries, point())
	}
	return base, queries
}

// RecallNDCG scores a result list against the true top k (truth, best
// first): recall is the share of the true top k found; nDCG gives the true
// i-th neighbour (from 1) the gain k+1-i, 0 outside the true top k, and
// discounts position p (from 1) by log2(p+1). Every recall table of the
// project uses it.
func RecallNDCG[T comparable](truth, got []T) (recall, ndcg float64) {
	k := len(truth)
	if k == 0 {
		return 0, 0
	}
	rank := make(map[T]int, k)
	for i, id := range truth {
		rank[id] = i
	}
	var dcg, idcg float64
	hits := 0
	for p, id := range got {
		if i, ok := rank[id]; ok {
			hits++
			dcg += float64(k-i) / math.Log2(float64(p+2))
		}
	}
	for p := range k {
		idcg += float64(k-p) / math.Log2(float64(p+2))
	}
	return float64(hits) / float64(k), dcg / idcg
}
