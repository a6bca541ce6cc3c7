package sap

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"testing"
)

func testKey(t testing.TB, seed byte, p Params) *Key {
	t.Helper()
	b := bytes.Repeat([]byte{seed}, KeySize)
	k, err := NewKey(b, p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func unitVec(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

func TestNewKeyRejects(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		p    Params
		want error
	}{
		{"short key", make([]byte, 16), Params{Scale: 1, Beta: 1}, ErrKeySize},
		{"zero scale", make([]byte, 32), Params{Scale: 0, Beta: 1}, ErrParams},
		{"negative beta", make([]byte, 32), Params{Scale: 1, Beta: -1}, ErrParams},
		{"NaN scale", make([]byte, 32), Params{Scale: math.NaN(), Beta: 1}, ErrParams},
		{"infinite beta", make([]byte, 32), Params{Scale: 1, Beta: math.Inf(1)}, ErrParams},
	}
	for _, tc := range tests {
		if _, err := NewKey(tc.key, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDimensionErrors(t *testing.T) {
	k := testKey(t, 1, Params{Scale: 1, Beta: 1})
	var iv [IVSize]byte
	tests := []struct {
		name   string
		dst, m []float32
	}{
		{"empty", nil, nil},
		{"mismatch", make([]float32, 2), make([]float32, 3)},
		{"too large", make([]float32, MaxDim+1), make([]float32, MaxDim+1)},
	}
	for _, tc := range tests {
		if err := k.Encrypt(tc.dst, tc.m, &iv); !errors.Is(err, ErrDimension) {
			t.Errorf("Encrypt %s: %v", tc.name, err)
		}
		if err := k.Decrypt(tc.dst, tc.m, &iv); !errors.Is(err, ErrDimension) {
			t.Errorf("Decrypt %s: %v", tc.name, err)
		}
	}
	if err := k.Noise(nil, &iv); !errors.Is(err, ErrDimension) {
		t.Errorf("Noise empty: %v", err)
	}
}

// TestRoundTrip: decryption recovers the plaintext up to the binary32
// rounding of the ciphertext, for every dimension class and scale.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		d int
		p Params
	}{
		{1, Params{Scale: 1, Beta: 1}},
		{2, Params{Scale: 1000, Beta: 0.25}},
		{7, Params{Scale: 3.5, Beta: 3}},
		{384, Params{Scale: 17, Beta: 1}},
		{1536, Params{Scale: 1.25, Beta: 2}},
		{4099, Params{Scale: 900, Beta: 0.5}},
	}
	for _, tc := range tests {
		k := testKey(t, byte(tc.d), tc.p)
		m := unitVec(r, tc.d)
		c := make([]float32, tc.d)
		got := make([]float32, tc.d)
		iv := IVFromCounter(uint64(tc.d), 7)
		if err := k.Encrypt(c, m, &iv); err != nil {
			t.Fatal(err)
		}
		if err := k.Decrypt(got, c, &iv); err != nil {
			t.Fatal(err)
		}
		// |c| <= s(|m| + β/4); the error is half a binary32 ulp of that, /s.
		tol := (1 + tc.p.Beta/4) * 0x1p-23
		for i := range m {
			if math.Abs(float64(got[i])-float64(m[i])) > tol {
				t.Fatalf("d=%d: coordinate %d off by %g", tc.d, i, math.Abs(float64(got[i])-float64(m[i])))
			}
		}
		// In place works too.
		copy(c, m)
		if err := k.Encrypt(c, c, &iv); err != nil {
			t.Fatal(err)
		}
		if err := k.Decrypt(c, c, &iv); err != nil {
			t.Fatal(err)
		}
		if dist(c, got) != 0 {
			t.Fatalf("d=%d: in-place result differs", tc.d)
		}
	}
}

// TestNoiseBound: ‖λ‖ ≤ sβ/4 always, and in high dimension it is close to
// the bound (x′^(1/d) → 1).
func TestNoiseBound(t *testing.T) {
	for _, d := range []int{1, 2, 3, 16, 768} {
		p := Params{Scale: 2.5, Beta: 1.5}
		k := testKey(t, 9, p)
		lam := make([]float64, d)
		rmax := p.Scale * p.Beta / 4
		var mean float64
		const n = 2000
		for i := range n {
			iv := IVFromCounter(uint64(d), uint64(i))
			if err := k.Noise(lam, &iv); err != nil {
				t.Fatal(err)
			}
			var s float64
			for _, x := range lam {
				s += x * x
			}
			norm := math.Sqrt(s)
			if norm > rmax*(1+1e-12) {
				t.Fatalf("d=%d: ‖λ‖ = %v > sβ/4 = %v", d, norm, rmax)
			}
			mean += norm / rmax / n
		}
		// E[x′^(1/d)] = d/(d+1).
		want := float64(d) / float64(d+1)
		if math.Abs(mean-want) > 0.03 {
			t.Errorf("d=%d: mean ‖λ‖/(sβ/4) = %.4f, want %.4f", d, mean, want)
		}
	}
}

// TestDCP checks the β-DCP property on random triples.
func TestDCP(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	p := Params{Scale: 7, Beta: 0.5}
	k := testKey(t, 3, p)
	const d = 32
	checked := 0
	for i := 0; i < 3000; i++ {
		x, y, z := unitVec(r, d), unitVec(r, d), unitVec(r, d)
		// Pull y towards x so that some triples qualify.
		for j := range y {
			y[j] = float32(0.3*float64(y[j]) + 0.7*float64(x[j]))
		}
		if !(dist(x, y) < dist(x, z)-p.Beta) {
			continue
		}
		checked++
		enc := func(v []float32, n uint64) []float32 {
			c := make([]float32, d)
			iv := IVFromCounter(uint64(i), n)
			if err := k.Encrypt(c, v, &iv); err != nil {
				t.Fatal(err)
			}
			return c
		}
		cx, cy, cz := enc(x, 1), enc(y, 2), enc(z, 3)
		if !(dist(cx, cy) < dist(cx, cz)) {
			t.Fatalf("triple %d breaks β-DCP", i)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d qualifying triples", checked)
	}
}

// TestGaussianSampler checks the ziggurat's output against N(0, 1): moments,
// tail mass beyond R, and a Kolmogorov-Smirnov statistic. The stream is fixed,
// so the test is deterministic.
func TestGaussianSampler(t *testing.T) {
	k := testKey(t, 5, Params{Scale: 1, Beta: 1})
	const n = 1 << 20
	u := make([]float64, n)
	var sc stream
	iv := IVFromCounter(42, 0)
	sc.reset(newCTR(k, &iv))
	norm2 := sc.gaussians(u)
	var m1, m2, m4 float64
	beyond := 0
	for _, z := range u {
		m1 += z
		m2 += z * z
		m4 += z * z * z * z
		if math.Abs(z) > zigR {
			beyond++
		}
	}
	m1, m2, m4 = m1/n, m2/n, m4/n
	if math.Abs(m1) > 5/math.Sqrt(n) || math.Abs(m2-1) > 5*math.Sqrt(2.0/n) || math.Abs(m4-3) > 5*math.Sqrt(96.0/n) {
		t.Fatalf("moments: mean %g, variance %g, fourth %g", m1, m2, m4)
	}
	if math.Abs(norm2/n-m2) > 1e-9 {
		t.Fatalf("norm² %g disagrees with the sum of squares %g", norm2/n, m2)
	}
	// P(|Z| > R) = erfc(R/√2).
	p := math.Erfc(zigR / math.Sqrt2)
	if want := p * n; math.Abs(float64(beyond)-want) > 5*math.Sqrt(want) {
		t.Fatalf("%d samples beyond R, want about %.0f", beyond, want)
	}
	sort.Float64s(u)
	var ks float64
	for i, z := range u {
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		ks = math.Max(ks, math.Max(math.Abs(cdf-float64(i)/n), math.Abs(cdf-float64(i+1)/n)))
	}
	if ks > 1.95/math.Sqrt(n) { // the 0.1% critical value
		t.Fatalf("Kolmogorov-Smirnov statistic %g", ks)
	}
}

// TestNoiseDirection: the direction of λ is uniform on the sphere, so each
// coordinate of λ/‖λ‖ has mean 0 and mean square 1/d.
func TestNoiseDirection(t *testing.T) {
	const d, n = 3, 30000
	k := testKey(t, 6, Params{Scale: 1, Beta: 1})
	lam := make([]float64, d)
	var sum, sq [d]float64
	for i := range n {
		iv := IVFromCounter(99, uint64(i))
		if err := k.Noise(lam, &iv); err != nil {
			t.Fatal(err)
		}
		norm := math.Sqrt(lam[0]*lam[0] + lam[1]*lam[1] + lam[2]*lam[2])
		for j := range d {
			x := lam[j] / norm
			sum[j] += x
			sq[j] += x * x
		}
	}
	for j := range d {
		if math.Abs(sum[j]/n) > 0.02 || math.Abs(sq[j]/n-1.0/d) > 0.01 {
			t.Errorf("coordinate %d: mean %g, mean square %g", j, sum[j]/n, sq[j]/n)
		}
	}
}

// TestIVsAndKeysSeparate: a different IV or key gives unrelated noise;
// the same IV and key give the same noise.
func TestIVsAndKeysSeparate(t *testing.T) {
	const d = 64
	k1 := testKey(t, 1, Params{Scale: 1, Beta: 1})
	k2 := testKey(t, 2, Params{Scale: 1, Beta: 1})
	a, b, c, e := make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)
	iv1, iv2 := IVFromCounter(0, 1), IVFromCounter(0, 2)
	_ = k1.Noise(a, &iv1)
	_ = k1.Noise(b, &iv1)
	_ = k1.Noise(c, &iv2)
	_ = k2.Noise(e, &iv1)
	cos := func(x, y []float64) float64 {
		var s, nx, ny float64
		for i := range x {
			s += x[i] * y[i]
			nx += x[i] * x[i]
			ny += y[i] * y[i]
		}
		return s / math.Sqrt(nx*ny)
	}
	if cos(a, b) != 1 || a[0] != b[0] {
		t.Fatal("same key and IV gave different noise")
	}
	if math.Abs(cos(a, c)) > 0.5 || math.Abs(cos(a, e)) > 0.5 {
		t.Fatalf("noise correlated: %g, %g", cos(a, c), cos(a, e))
	}
}

// TestConcurrentUse runs encryptions in parallel (the scratch pool is
// shared) and checks each against a sequential result.
func TestConcurrentUse(t *testing.T) {
	k := testKey(t, 8, Params{Scale: 2, Beta: 1})
	r := rand.New(rand.NewPCG(3, 3))
	const n = 64
	ms := make([][]float32, n)
	want := make([][]float32, n)
	for i := range ms {
		ms[i] = unitVec(r, 100+i)
		want[i] = make([]float32, len(ms[i]))
		iv := IVFromCounter(0, uint64(i))
		if err := k.Encrypt(want[i], ms[i], &iv); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			for rep := range 20 {
				i := (w*7 + rep) % n
				c := make([]float32, len(ms[i]))
				iv := IVFromCounter(0, uint64(i))
				if err := k.Encrypt(c, ms[i], &iv); err != nil {
					done <- err
					return
				}
				if dist(c, want[i]) != 0 {
					done <- errors.New("concurrent encryption differs")
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoFusedMultiplyAdd compiles this package for architectures where Go
// fuses a*b+c and checks that no fused instruction appears: the
// specification forbids fusion, and the source prevents it with explicit
// float64 conversions.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the package for other architectures")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	fused := regexp.MustCompile(`\b(FMADDD|FMSUBD|FNMADDD|FNMSUBD|FMADDS|FMSUBS|VFMADD\w*|VFMSUB\w*|VFNMADD\w*|VFNMSUB\w*|FMADD|FMSUB|FNMADD|FNMSUB|WFMADB|WFMSDB|FMADD_D|FMSUB_D)\b`)
	for _, env := range [][]string{{"GOARCH=arm64"}, {"GOARCH=amd64", "GOAMD64=v3"}, {"GOARCH=ppc64le"}, {"GOARCH=s390x"}, {"GOARCH=riscv64"}} {
		cmd := exec.Command(gobin, "build", "-gcflags=-S", "-o", os.DevNull, ".")
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: build failed: %v\n%s", env, err, out)
		}
		if m := fused.Find(out); m != nil {
			t.Errorf("%v: fused instruction %s in the generated code", env, m)
		}
	}
}
