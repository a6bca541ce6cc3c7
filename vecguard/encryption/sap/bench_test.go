package sap

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchDims = []int{384, 768, 1536, 3072}

func benchKey(b *testing.B) *Key {
	k, err := NewKey(make([]byte, KeySize), Params{Scale: 3, Beta: 1})
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func randVec(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func BenchmarkEncryptVector(b *testing.B) {
	k := benchKey(b)
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range benchDims {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			m := randVec(r, d)
			c := make([]float32, d)
			var iv [IVSize]byte
			b.SetBytes(int64(4 * d))
			b.ReportAllocs()
			n := uint64(0)
			for b.Loop() {
				n++
				iv[15], iv[14] = byte(n), byte(n>>8)
				if err := k.Encrypt(c, m, &iv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAESGCMSeal(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 32))
	g, _ := cipher.NewGCM(blk)
	for _, d := range benchDims {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			pt := make([]byte, 4*d)
			dst := make([]byte, 0, 4*d+g.Overhead())
			nonce := make([]byte, g.NonceSize())
			b.SetBytes(int64(4 * d))
			b.ReportAllocs()
			for b.Loop() {
				nonce[0]++
				dst = g.Seal(dst[:0], nonce, pt, nil)
			}
		})
	}
}

func BenchmarkDecryptVector(b *testing.B) {
	k := benchKey(b)
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range benchDims {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			m := randVec(r, d)
			c := make([]float32, d)
			var iv [IVSize]byte
			if err := k.Encrypt(c, m, &iv); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(4 * d))
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Decrypt(m, c, &iv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAESGCMOpen(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 32))
	g, _ := cipher.NewGCM(blk)
	for _, d := range benchDims {
		b.Run(fmt.Sprintf("dim=%d", d), func(b *testing.B) {
			nonce := make([]byte, g.NonceSize())
			ct := g.Seal(nil, nonce, make([]byte, 4*d), nil)
			pt := make([]byte, 0, 4*d)
			b.SetBytes(int64(4 * d))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if pt, err = g.Open(pt[:0], nonce, ct, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
