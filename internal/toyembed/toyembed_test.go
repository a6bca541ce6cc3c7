package toyembed

import (
	"math"
	"testing"
)

func TestEmbed(t *testing.T) {
	a, b := Embed("Vacation policy"), Embed("vacation POLICY!")
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("case and punctuation change the vector at %d", i)
		}
	}
	var n float64
	for _, x := range a {
		n += float64(x) * float64(x)
	}
	if math.Abs(n-1) > 1e-5 {
		t.Errorf("norm² = %v, want 1", n)
	}
	for _, x := range Embed("a b") {
		if x != 0 {
			t.Fatal("text without a word of three letters gives a non-zero vector")
		}
	}
	if len(Embed("")) != Dim {
		t.Errorf("dimension %d, want %d", len(Embed("")), Dim)
	}
}
