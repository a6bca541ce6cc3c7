package sap_test

import (
	"fmt"
	"math"

	"github.com/vecguard/vecguard/vecguard/encryption/sap"
)

// Encrypt and decrypt one vector. Package encryption derives the key,
// picks the IV and authenticates the result; this is the bare scheme.
func ExampleKey_Encrypt() {
	key, _ := sap.NewKey(make([]byte, sap.KeySize), sap.Params{Scale: 4, Beta: 1.5})
	m := []float32{0.6, 0.8, 0}
	iv := sap.IVFromCounter(0, 1)

	c := make([]float32, len(m))
	_ = key.Encrypt(c, m, &iv)

	back := make([]float32, len(m))
	_ = key.Decrypt(back, c, &iv)

	var moved float64 // ‖c − s·m‖ ≤ s·β/4 = 1.5
	for i := range m {
		d := float64(c[i]) - 4*float64(m[i])
		moved += d * d
	}
	fmt.Println(math.Sqrt(moved) <= 1.5)
	fmt.Printf("%.4f %.4f %.4f\n", back[0], back[1], math.Abs(float64(back[2])))
	// Output:
	// true
	// 0.6000 0.8000 0.0000
}
