package main

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// toyDim is the dimension of the toy embedder's vectors.
const toyDim = 64

// embed is a deterministic toy embedder: each lower-cased word (and its
// 4-letter prefix, a poor man's stemmer) is hashed onto a dimension; the
// counts are normalized to unit length. It stands in for a real embedding
// model so that the quickstart runs with no network and no model weights.
func embed(text string) []float32 {
	v := make([]float32, toyDim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		if len(w) < 3 {
			continue
		}
		for _, t := range []string{w, prefix(w)} {
			h := fnv.New32a()
			h.Write([]byte(t))
			v[h.Sum32()%toyDim]++
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

func prefix(w string) string {
	if len(w) > 4 {
		return w[:4] + "~"
	}
	return w + "~"
}
