package sap

import (
	"math"
	"testing"
)

func TestVgLogExpAccuracy(t *testing.T) {
	worstLog, worstExp := 0.0, 0.0
	for i := 0; i < 200000; i++ {
		// Log over (0, 1] on a log scale, plus values above 1.
		x := math.Pow(2, -60*float64(i)/200000) * (1 + 0.37*math.Sin(float64(i)))
		want := math.Log(x)
		if got := vgLog(x); want != 0 {
			if e := math.Abs(got-want) / math.Max(math.Abs(want), 1e-300); e > worstLog && math.Abs(got-want) > 1e-300 {
				worstLog = e
			}
		}
		y := -45 * float64(i) / 200000
		if e := math.Abs(vgExp(y)-math.Exp(y)) / math.Exp(y); e > worstExp {
			worstExp = e
		}
	}
	if worstLog > 1e-14 || worstExp > 1e-14 {
		t.Fatalf("relative errors: log %g, exp %g", worstLog, worstExp)
	}
}

func TestVgLogExpEdges(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"log 1", vgLog(1), 0},
		{"log 2", vgLog(2), math.Ln2},
		// math.Log is wrong for subnormals on some platforms: -1074·ln 2 is exact enough.
		{"log smallest subnormal", vgLog(math.SmallestNonzeroFloat64), -1074 * math.Ln2},
		{"exp 0", vgExp(0), 1},
		{"exp -701", vgExp(-701), 0},
		{"exp 701", vgExp(701), math.Inf(1)},
	}
	for _, tc := range tests {
		if d := math.Abs(tc.got - tc.want); !(d <= 1e-15*math.Max(1, math.Abs(tc.want))) && tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	for _, x := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if v := vgLog(x); !math.IsNaN(v) {
			t.Errorf("vgLog(%v) = %v, want NaN", x, v)
		}
	}
}
