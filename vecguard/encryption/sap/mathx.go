package sap

import "math"

// This file holds the only transcendental functions the sampler uses. They
// are built from IEEE 754 binary64 additions, subtractions, multiplications
// and divisions, each rounded on its own (never fused), so every conforming
// implementation computes the same bits on every platform. math.Exp and
// math.Log are not used: their last bit differs between architectures.

// Constants of the reductions, as exact binary64 values.
const (
	ln2Hi  = 0x1.62e42fee00000p-1  // ln 2, high part: 33 significant bits, so k*ln2Hi is exact for |k| < 2^20
	ln2Lo  = 0x1.a39ef35793c76p-33 // ln 2 - ln2Hi
	invLn2 = 0x1.71547652b82fep+0  // 1/ln 2
	sqrt2  = 0x1.6a09e667f3bcdp+0  // √2 rounded to nearest
)

// logCoef[j] is 1/(2j+1) rounded to nearest: ln m = 2t·Σ t^(2j)/(2j+1).
var logCoef = [11]float64{
	1.0 / 1, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11,
	1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21,
}

// expCoef[j] is 1/j! rounded to nearest.
var expCoef = [14]float64{
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
	1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
	1.0 / 479001600, 1.0 / 6227020800,
}

// vgLog returns ln x for finite x > 0 (relative error below 1e-15). It
// returns NaN for x <= 0, NaN or +Inf, which the sampler never passes.
//
// Specification: write x = m·2^e with m in [1, 2) (subnormal x is first
// multiplied by 2^54); if m > sqrt2 then m = m/2, e = e+1. With
// t = (m-1)/(m+1) and t2 = t·t, evaluate p = logCoef[10]; then for
// j = 9 down to 0: p = p·t2 + logCoef[j]. Return
// e·ln2Hi + (e·ln2Lo + (t·p)·2).
func vgLog(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.NaN()
	}
	e := 0
	if x < 0x1p-1022 {
		x = float64(x * 0x1p54)
		e = -54
	}
	b := math.Float64bits(x)
	e += int(b>>52&0x7ff) - 1023
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52)
	if m > sqrt2 {
		m = float64(m * 0.5)
		e++
	}
	t := float64(m-1) / float64(m+1)
	t2 := float64(t * t)
	p := logCoef[10]
	for j := 9; j >= 0; j-- {
		p = float64(p*t2) + logCoef[j]
	}
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(fe*ln2Lo) + float64(float64(t*p)*2))
}

// vgExp returns e^x for finite x (relative error below 1e-15); it returns 0
// for x < -700 and +Inf for x > 700.
//
// Specification: k = floor(x·invLn2 + 0.5); r = (x - k·ln2Hi) - k·ln2Lo;
// with c = expCoef, r2 = r·r, r4 = r2·r2, r8 = r4·r4 and qj = c[2j] + c[2j+1]·r
// for j = 0..6, evaluate (Estrin's scheme)
//
//	p = ((q0 + q1·r2) + (q2 + q3·r2)·r4) + ((q4 + q5·r2) + q6·r4)·r8
//
// and return p·2^k (exact: the result is a normal number).
func vgExp(x float64) float64 {
	switch {
	case x < -700:
		return 0
	case x > 700:
		return math.Inf(1)
	case x != x:
		return x
	}
	k := math.Floor(float64(x*invLn2) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	c := &expCoef
	r2 := float64(r * r)
	r4 := float64(r2 * r2)
	r8 := float64(r4 * r4)
	q0 := c[0] + float64(c[1]*r)
	q1 := c[2] + float64(c[3]*r)
	q2 := c[4] + float64(c[5]*r)
	q3 := c[6] + float64(c[7]*r)
	q4 := c[8] + float64(c[9]*r)
	q5 := c[10] + float64(c[11]*r)
	q6 := c[12] + float64(c[13]*r)
	lo := float64(q0+float64(q1*r2)) + float64(float64(q2+float64(q3*r2))*r4)
	hi := float64(q4+float64(q5*r2)) + float64(q6*r4)
	p := lo + float64(hi*r8)
	// k is in [-1010, 1010], so 2^k is a normal number and the product is
	// exact.
	return float64(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
}
