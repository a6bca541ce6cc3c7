package sap

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"math"
	"sync"
)

// Sizes of the scheme's inputs.
const (
	KeySize = 32 // the AES-256 key of the noise PRF
	IVSize  = 16 // the per-encryption IV, the first counter block
	MaxDim  = 65536
)

// Params are the public-to-the-key, secret-to-everyone-else parameters of a
// key: the scaling factor s and the approximation factor β.
type Params struct {
	Scale float64 // s, finite and > 0
	Beta  float64 // β, finite and > 0: the noise radius is s·β/4
}

// Key is a SAP key: an AES-256 key for the noise PRF plus Params. A Key is
// safe for concurrent use.
type Key struct {
	block cipher.Block
	p     Params
	rmax  float64 // s·β/4
}

// Errors of NewKey and of the encryption functions.
var (
	ErrKeySize   = errors.New("sap: the PRF key must be 32 bytes")
	ErrParams    = errors.New("sap: scale and beta must be finite and positive")
	ErrDimension = errors.New("sap: vector lengths differ, or are 0 or above MaxDim")
)

// NewKey returns a key for the 32-byte PRF key prf and parameters p.
func NewKey(prf []byte, p Params) (*Key, error) {
	if len(prf) != KeySize {
		return nil, ErrKeySize
	}
	if !(p.Scale > 0) || !(p.Beta > 0) || math.IsInf(p.Scale, 0) || math.IsInf(p.Beta, 0) {
		return nil, ErrParams
	}
	b, err := aes.NewCipher(prf)
	if err != nil {
		return nil, err
	}
	return &Key{block: b, p: p, rmax: float64(float64(p.Scale*p.Beta) * 0.25)}, nil
}

// Params returns the key's parameters.
func (k *Key) Params() Params { return k.p }

// scratch is the per-call state, pooled.
type scratch struct {
	s stream
	u []float64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// noise computes the unit-free Gaussian vector u for iv into sc.u and
// returns it with the factor f = x/‖u‖ that scales it to λ = f·u.
func (k *Key) noise(sc *scratch, iv *[IVSize]byte, d int) ([]float64, float64) {
	if cap(sc.u) < d {
		sc.u = make([]float64, d)
	}
	u := sc.u[:d]
	sc.s.reset(newCTR(k, iv))
	// The first refill is sized to the usual need: 2 radius words, d
	// Gaussian words and a little slack for rejections.
	n := 4 * (2 + d + d/32 + 8)
	if n > len(sc.s.buf) {
		n = len(sc.s.buf)
	}
	sc.s.refill(n)
	w0 := uint64(sc.s.word())
	w1 := uint64(sc.s.word())
	x := uniform53(w0 | w1<<32)
	r := float64(k.rmax * vgExp(float64(vgLog(x)/float64(d))))
	norm2 := sc.s.gaussians(u)
	return u, float64(r / math.Sqrt(norm2))
}

// newCTR returns the keystream of iv: AES-256-CTR, the whole 16-byte block a
// big-endian counter.
func newCTR(k *Key, iv *[IVSize]byte) cipher.Stream { return cipher.NewCTR(k.block, iv[:]) }

// uniform53 maps a 64-bit word to ((w >> 11) + 1/2)·2^-53, in (0, 1).
func uniform53(w uint64) float64 { return float64(float64(w>>11)+0.5) * 0x1p-53 }

// Encrypt writes the encryption of m under iv to dst: dst[i] =
// float32(s·m[i] + λ[i]). dst and m must have the same length, 1 to MaxDim;
// they may be the same slice.
func (k *Key) Encrypt(dst, m []float32, iv *[IVSize]byte) error {
	if len(dst) != len(m) || len(m) == 0 || len(m) > MaxDim {
		return ErrDimension
	}
	sc := scratchPool.Get().(*scratch)
	u, f := k.noise(sc, iv, len(m))
	u, dst = u[:len(m)], dst[:len(m)]
	s := k.p.Scale
	for i, x := range m {
		dst[i] = float32(float64(s*float64(x)) + float64(f*u[i]))
	}
	scratchPool.Put(sc)
	return nil
}

// Decrypt writes the decryption of c under iv to dst: dst[i] =
// float32((c[i] - λ[i]) / s). dst and c must have the same length, 1 to
// MaxDim; they may be the same slice. Decrypt cannot tell a wrong key or a
// tampered ciphertext: authenticate first.
func (k *Key) Decrypt(dst, c []float32, iv *[IVSize]byte) error {
	if len(dst) != len(c) || len(c) == 0 || len(c) > MaxDim {
		return ErrDimension
	}
	sc := scratchPool.Get().(*scratch)
	u, f := k.noise(sc, iv, len(c))
	u, dst = u[:len(c)], dst[:len(c)]
	s := k.p.Scale
	for i, x := range c {
		dst[i] = float32(float64(float64(x)-float64(f*u[i])) / s)
	}
	scratchPool.Put(sc)
	return nil
}

// Noise writes the perturbation λ for iv and dimension len(dst) to dst.
// It is exposed for known-answer tests and analysis.
func (k *Key) Noise(dst []float64, iv *[IVSize]byte) error {
	if len(dst) == 0 || len(dst) > MaxDim {
		return ErrDimension
	}
	sc := scratchPool.Get().(*scratch)
	u, f := k.noise(sc, iv, len(dst))
	for i := range dst {
		dst[i] = float64(f * u[i])
	}
	scratchPool.Put(sc)
	return nil
}

// IVFromCounter is a helper for tests and KATs: the IV whose last 8 bytes
// are n big-endian and first 8 bytes are prefix big-endian.
func IVFromCounter(prefix, n uint64) [IVSize]byte {
	var iv [IVSize]byte
	binary.BigEndian.PutUint64(iv[:8], prefix)
	binary.BigEndian.PutUint64(iv[8:], n)
	return iv
}
