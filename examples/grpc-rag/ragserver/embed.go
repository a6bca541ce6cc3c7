package ragserver

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// dim is the dimension of the toy embedder's vectors.
const dim = 64

// embed is a deterministic toy embedder: each lower-cased word of three or
// more letters, and its first four letters (a poor man's stemmer), is hashed
// onto a dimension; the counts are normalized. It stands in for a real
// embedding model so the example runs without network or model weights.
func embed(text string) []float32 {
	v := make([]float32, dim)
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
			v[h.Sum32()%dim]++
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
