package sap

import (
	"crypto/cipher"
	"encoding/binary"
	"math"
)

// The ziggurat of Marsaglia and Tsang (2000) for f(x) = exp(-x²/2): 256
// layers of area zigV, the base layer's fast region ending at zigR. A
// keystream word w gives the layer (w & 255), the sign (bit 8) and a 23-bit
// position (w >> 9).
const (
	zigLayers = 256
	zigR      = 3.6541528853610084
	zigV      = 0.0049286732339746606
	zigPosBit = 9
)

// chunkWords is how many 32-bit keystream words one refill produces at most.
const chunkWords = 4096

// zeros is the plaintext the keystream is "encrypted" from.
var zeros [4 * chunkWords]byte

// stream reads the keystream of AES-256-CTR as little-endian 32-bit words.
type stream struct {
	ctr  cipher.Stream
	buf  [4 * chunkWords]byte
	pos  int // next unread byte of buf
	fill int // bytes of buf filled
}

func (s *stream) reset(ctr cipher.Stream) {
	s.ctr = ctr
	s.pos, s.fill = 0, 0
}

// refill produces n more bytes of keystream (n a multiple of 4, at most
// len(buf)).
func (s *stream) refill(n int) {
	s.ctr.XORKeyStream(s.buf[:n], zeros[:n])
	s.pos, s.fill = 0, n
}

func (s *stream) word() uint32 {
	if s.pos == s.fill {
		s.refill(len(s.buf))
	}
	w := binary.LittleEndian.Uint32(s.buf[s.pos:])
	s.pos += 4
	return w
}

// uniform32 maps a word to (w + 1/2)·2^-32, in (0, 1).
func uniform32(w uint32) float64 { return float64(float64(w)+0.5) * 0x1p-32 }

// gaussians fills u with standard normal samples from the stream and
// returns the sum of their squares: four partial sums, sum j taking the
// squares of the samples whose index is j mod 4 in index order, combined as
// (sum0 + sum1) + (sum2 + sum3).
func (s *stream) gaussians(u []float64) float64 {
	i, n := 0, len(u)
	for i < n {
		if s.pos == s.fill {
			s.refill(len(s.buf))
		}
		p, end := s.pos, s.fill
		for p < end && i < n {
			w := binary.LittleEndian.Uint32(s.buf[p : p+4])
			p += 4
			layer := w & (zigLayers - 1)
			pos := w >> zigPosBit
			z := float64(float64(pos) * zigScale[layer])
			if pos >= zigK[layer] {
				s.pos = p
				var ok bool
				z, ok = s.slow(layer, pos)
				p, end = s.pos, s.fill
				if !ok {
					continue
				}
			}
			// Bit 8 of the word is the sign.
			u[i] = math.Float64frombits(math.Float64bits(z) ^ uint64(w>>(zigPosBit-1))<<63)
			i++
		}
		s.pos = p
	}
	var a0, a1, a2, a3 float64
	j := 0
	for ; j+4 <= n; j += 4 {
		x := u[j : j+4 : j+4]
		a0 += float64(x[0] * x[0])
		a1 += float64(x[1] * x[1])
		a2 += float64(x[2] * x[2])
		a3 += float64(x[3] * x[3])
	}
	if j < n {
		a0 += float64(u[j] * u[j])
	}
	if j+1 < n {
		a1 += float64(u[j+1] * u[j+1])
	}
	if j+2 < n {
		a2 += float64(u[j+2] * u[j+2])
	}
	return float64(a0+a1) + float64(a2+a3)
}

// slow handles a position outside the fast region of its layer: the tail
// beyond zigR for the base layer, the wedge test otherwise. ok is false when
// the candidate is rejected and sampling starts over.
func (s *stream) slow(layer, pos uint32) (z float64, ok bool) {
	z = float64(float64(pos) * zigScale[layer])
	if layer == 0 {
		if z < zigR {
			return z, true
		}
		// Marsaglia's tail method: a = -ln(u1)/R, b = -ln(u2), accept when 2b > a².
		for {
			a := float64(vgLog(uniform32(s.word())) / -zigR)
			b := -vgLog(uniform32(s.word()))
			if b+b > float64(a*a) {
				return zigR + a, true
			}
		}
	}
	y := zigFLo[layer] + float64(uniform32(s.word())*zigFDiff[layer])
	return z, y < vgExp(float64(-0.5*float64(z*z)))
}
