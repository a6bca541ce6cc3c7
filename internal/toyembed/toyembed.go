// Package toyembed is the deterministic toy embedder of the examples: it
// stands in for a real embedding model so that they run with no network and
// no model weights. Its vectors mean little; never use it for real data.
package toyembed

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Dim is the dimension of the vectors.
const Dim = 64

// Embed hashes each lower-cased word of three or more letters, and its
// first four letters (a poor man's stemmer), onto a dimension and returns
// the counts normalized to unit length (all zeros for text without such a
// word).
func Embed(text string) []float32 {
	v := make([]float32, Dim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		if len(w) < 3 {
			continue
		}
		stem := w
		if len(stem) > 4 {
			stem = stem[:4]
		}
		for _, t := range []string{w, stem + "~"} {
			h := fnv.New32a()
			h.Write([]byte(t))
			v[h.Sum32()%Dim]++
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
