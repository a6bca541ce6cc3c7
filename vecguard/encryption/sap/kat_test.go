package sap

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

var updateKAT = flag.Bool("update-kat", false, "rewrite testdata/sap_kat.json")

const katPath = "testdata/sap_kat.json"

// katFile is the known-answer file. Its format is specified in the package
// documentation.
type katFile struct {
	Scheme string    `json:"scheme"`
	Cases  []katCase `json:"cases"`
}

type katCase struct {
	Name       string   `json:"name"`
	Key        string   `json:"key"`
	Scale      string   `json:"scale"`
	Beta       string   `json:"beta"`
	IV         string   `json:"iv"`
	Keystream  []string `json:"keystream_head"`
	Plaintext  []string `json:"plaintext"`
	Noise      []string `json:"noise"`
	Ciphertext []string `json:"ciphertext"`
	Decrypted  []string `json:"decrypted"`
}

// katVector is a parsed case.
type katVector struct {
	name       string
	key        []byte
	params     Params
	iv         [IVSize]byte
	keystream  []uint32
	plaintext  []float32
	noise      []float64
	ciphertext []float32
	decrypted  []float32
}

const katScheme = "vecguard-sap-v1"

// parseKAT decodes and checks a known-answer file.
func parseKAT(data []byte) ([]katVector, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f katFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("kat: %w", err)
	}
	if dec.More() {
		return nil, errors.New("kat: trailing data")
	}
	if f.Scheme != katScheme {
		return nil, errors.New("kat: unknown scheme")
	}
	out := make([]katVector, 0, len(f.Cases))
	for i, c := range f.Cases {
		v, err := c.parse()
		if err != nil {
			return nil, fmt.Errorf("kat: case %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (c katCase) parse() (katVector, error) {
	v := katVector{name: c.Name}
	var err error
	if v.key, err = hex.DecodeString(c.Key); err != nil || len(v.key) != KeySize {
		return v, errors.New("bad key")
	}
	iv, err := hex.DecodeString(c.IV)
	if err != nil || len(iv) != IVSize {
		return v, errors.New("bad iv")
	}
	copy(v.iv[:], iv)
	if v.params.Scale, err = strconv.ParseFloat(c.Scale, 64); err != nil {
		return v, errors.New("bad scale")
	}
	if v.params.Beta, err = strconv.ParseFloat(c.Beta, 64); err != nil {
		return v, errors.New("bad beta")
	}
	for _, s := range c.Keystream {
		w, err := strconv.ParseUint(s, 16, 32)
		if err != nil || len(s) != 8 {
			return v, errors.New("bad keystream word")
		}
		v.keystream = append(v.keystream, uint32(w))
	}
	d := len(c.Plaintext)
	if d == 0 || d > MaxDim || len(c.Noise) != d || len(c.Ciphertext) != d || len(c.Decrypted) != d {
		return v, errors.New("vector lengths differ or are out of range")
	}
	f32 := func(ss []string) ([]float32, error) {
		out := make([]float32, len(ss))
		for i, s := range ss {
			x, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return nil, errors.New("bad float32")
			}
			out[i] = float32(x)
		}
		return out, nil
	}
	if v.plaintext, err = f32(c.Plaintext); err != nil {
		return v, err
	}
	if v.ciphertext, err = f32(c.Ciphertext); err != nil {
		return v, err
	}
	if v.decrypted, err = f32(c.Decrypted); err != nil {
		return v, err
	}
	v.noise = make([]float64, d)
	for i, s := range c.Noise {
		if v.noise[i], err = strconv.ParseFloat(s, 64); err != nil {
			return v, errors.New("bad float64")
		}
	}
	return v, nil
}

func hexF32(x float32) string { return strconv.FormatFloat(float64(x), 'x', -1, 32) }
func hexF64(x float64) string { return strconv.FormatFloat(x, 'x', -1, 64) }

// katInputs are the cases of the committed file: small dimensions to trace
// by hand, common embedding sizes, and IVs found to exercise the tail.
func katInputs() []katVector {
	r := rand.New(rand.NewPCG(0x5a9, 0xdcbe))
	key := func() []byte {
		b := make([]byte, KeySize)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	vec := func(d int) []float32 {
		v := make([]float32, d)
		var n float64
		for i := range v {
			v[i] = float32(r.NormFloat64())
			n += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(n))
		}
		return v
	}
	var out []katVector
	add := func(name string, k []byte, p Params, iv [IVSize]byte, m []float32) {
		out = append(out, katVector{name: name, key: k, params: p, iv: iv, plaintext: m})
	}
	zeroKey := make([]byte, KeySize)
	add("d=1 zero key zero IV", zeroKey, Params{Scale: 1, Beta: 1}, [IVSize]byte{}, []float32{0.5})
	add("d=2", key(), Params{Scale: 2, Beta: 0.5}, IVFromCounter(1, 2), []float32{0.6, -0.8})
	add("d=3 zero vector", key(), Params{Scale: 10, Beta: 2}, IVFromCounter(3, 4), []float32{0, 0, 0})
	add("d=8", key(), Params{Scale: 1.5, Beta: 1}, IVFromCounter(5, 6), vec(8))
	add("d=17", key(), Params{Scale: 100, Beta: 3}, IVFromCounter(7, 8), vec(17))
	add("d=384", key(), Params{Scale: 37.25, Beta: 1}, IVFromCounter(9, 10), vec(384))
	add("d=384 beta 1.5", key(), Params{Scale: 512, Beta: 1.5}, IVFromCounter(11, 12), vec(384))
	// A case whose keystream takes the tail branch: search IVs until the
	// noise sampler draws from beyond R.
	tk := key()
	k, _ := NewKey(tk, Params{Scale: 1, Beta: 1})
	for n := uint64(0); ; n++ {
		iv := IVFromCounter(13, n)
		if k.tailDraws(&iv, 64) > 0 {
			add("d=64 tail draw", tk, Params{Scale: 1, Beta: 1}, iv, vec(64))
			break
		}
	}
	return out
}

// tailDraws counts how many Gaussians of dimension d under iv come from the
// tail (for building KAT cases).
func (k *Key) tailDraws(iv *[IVSize]byte, d int) int {
	sc := new(scratch)
	u, _ := k.noise(sc, iv, d)
	n := 0
	for _, x := range u {
		if math.Abs(x) >= zigR {
			n++
		}
	}
	return n
}

// compute fills in the outputs of a case from its inputs.
func (v *katVector) compute() error {
	k, err := NewKey(v.key, v.params)
	if err != nil {
		return err
	}
	var sc scratch
	sc.s.reset(newCTR(k, &v.iv))
	sc.s.refill(64)
	v.keystream = nil
	for range 16 {
		v.keystream = append(v.keystream, sc.s.word())
	}
	d := len(v.plaintext)
	v.noise = make([]float64, d)
	v.ciphertext = make([]float32, d)
	v.decrypted = make([]float32, d)
	if err := k.Noise(v.noise, &v.iv); err != nil {
		return err
	}
	if err := k.Encrypt(v.ciphertext, v.plaintext, &v.iv); err != nil {
		return err
	}
	return k.Decrypt(v.decrypted, v.ciphertext, &v.iv)
}

func writeKAT(vs []katVector) ([]byte, error) {
	f := katFile{Scheme: katScheme}
	for _, v := range vs {
		c := katCase{
			Name: v.name, Key: hex.EncodeToString(v.key), IV: hex.EncodeToString(v.iv[:]),
			Scale: hexF64(v.params.Scale), Beta: hexF64(v.params.Beta),
		}
		for _, w := range v.keystream {
			c.Keystream = append(c.Keystream, fmt.Sprintf("%08x", w))
		}
		for i := range v.plaintext {
			c.Plaintext = append(c.Plaintext, hexF32(v.plaintext[i]))
			c.Noise = append(c.Noise, hexF64(v.noise[i]))
			c.Ciphertext = append(c.Ciphertext, hexF32(v.ciphertext[i]))
			c.Decrypted = append(c.Decrypted, hexF32(v.decrypted[i]))
		}
		f.Cases = append(f.Cases, c)
	}
	// One case a line keeps the file small and diffable.
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"scheme\": %q, \"cases\": [\n", f.Scheme)
	for i, c := range f.Cases {
		cb, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		b.Write(cb)
		if i < len(f.Cases)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes(), nil
}

// TestKnownAnswers checks the implementation against the committed
// known-answer file, bit for bit.
func TestKnownAnswers(t *testing.T) {
	if *updateKAT {
		vs := katInputs()
		for i := range vs {
			if err := vs[i].compute(); err != nil {
				t.Fatal(err)
			}
		}
		b, err := writeKAT(vs)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(katPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(katPath)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := parseKAT(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) < 8 {
		t.Fatalf("%d cases, want at least 8", len(vs))
	}
	for _, want := range vs {
		t.Run(want.name, func(t *testing.T) {
			got := want
			got.plaintext = append([]float32(nil), want.plaintext...)
			if err := got.compute(); err != nil {
				t.Fatal(err)
			}
			for i, w := range want.keystream {
				if got.keystream[i] != w {
					t.Fatalf("keystream word %d differs", i)
				}
			}
			for i := range want.plaintext {
				if math.Float64bits(got.noise[i]) != math.Float64bits(want.noise[i]) {
					t.Fatalf("noise[%d] differs", i)
				}
				if math.Float32bits(got.ciphertext[i]) != math.Float32bits(want.ciphertext[i]) {
					t.Fatalf("ciphertext[%d] differs", i)
				}
				if math.Float32bits(got.decrypted[i]) != math.Float32bits(want.decrypted[i]) {
					t.Fatalf("decrypted[%d] differs", i)
				}
			}
		})
	}
}

// TestKATFileCoversBranches makes sure the committed cases exercise the
// tail of the sampler (the wedge is exercised by any case of some size).
func TestKATFileCoversBranches(t *testing.T) {
	data, err := os.ReadFile(katPath)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := parseKAT(data)
	if err != nil {
		t.Fatal(err)
	}
	tail := false
	for _, v := range vs {
		k, _ := NewKey(v.key, v.params)
		tail = tail || k.tailDraws(&v.iv, len(v.plaintext)) > 0
	}
	if !tail {
		t.Fatal("no case draws from the tail")
	}
}

func TestParseKATRejects(t *testing.T) {
	good, err := os.ReadFile(katPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"not json", "{"},
		{"wrong scheme", `{"scheme":"other","cases":[]}`},
		{"unknown field", `{"scheme":"vecguard-sap-v1","cases":[],"x":1}`},
		{"trailing", `{"scheme":"vecguard-sap-v1","cases":[]} {}`},
		{"short key", `{"scheme":"vecguard-sap-v1","cases":[{"key":"00","iv":"00000000000000000000000000000000","scale":"1","beta":"1","plaintext":["0"],"noise":["0"],"ciphertext":["0"],"decrypted":["0"]}]}`},
		{"length mismatch", `{"scheme":"vecguard-sap-v1","cases":[{"key":"` + hex.EncodeToString(make([]byte, 32)) + `","iv":"00000000000000000000000000000000","scale":"1","beta":"1","plaintext":["0","0"],"noise":["0"],"ciphertext":["0"],"decrypted":["0"]}]}`},
		{"bad float", `{"scheme":"vecguard-sap-v1","cases":[{"key":"` + hex.EncodeToString(make([]byte, 32)) + `","iv":"00000000000000000000000000000000","scale":"1","beta":"1","plaintext":["x"],"noise":["0"],"ciphertext":["0"],"decrypted":["0"]}]}`},
	}
	for _, tc := range tests {
		if _, err := parseKAT([]byte(tc.data)); err == nil {
			t.Errorf("%s: parsed", tc.name)
		}
	}
	if _, err := parseKAT(good); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseKAT(f *testing.F) {
	if good, err := os.ReadFile(katPath); err == nil {
		f.Add(good)
	}
	f.Add([]byte(`{"scheme":"vecguard-sap-v1","cases":[]}`))
	f.Add([]byte(`{"scheme":"vecguard-sap-v1","cases":[{"key":"` + hex.EncodeToString(make([]byte, 32)) + `","iv":"00000000000000000000000000000000","scale":"0x1p+00","beta":"1","plaintext":["0"],"noise":["0"],"ciphertext":["0"],"decrypted":["0"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := parseKAT(data)
		if err != nil {
			return
		}
		for _, v := range vs {
			if len(v.plaintext) == 0 || len(v.noise) != len(v.plaintext) || len(v.key) != KeySize {
				t.Fatal("parseKAT accepted an inconsistent case")
			}
		}
	})
}
