package sap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vecguard/vecguard/internal/recalltest"
)

// The recall harness compares nearest-neighbour search over SAP ciphertexts
// with exact search over the plaintexts. It is off by default (it takes tens
// of seconds); run it with
//
//	go test ./vecguard/encryption/sap -run TestRecall -v -args -recall
//	go test ./vecguard/encryption/sap -run TestRecall -v -args -recall -recall.fvecs=base.fvecs [-recall.queries=q.fvecs] [-recall.n=20000]
var (
	recallFlag    = flag.Bool("recall", false, "run the recall harness")
	recallFvecs   = flag.String("recall.fvecs", "", "base vectors (.fvecs) instead of the synthetic data")
	recallQueries = flag.String("recall.queries", "", "query vectors (.fvecs); default: the last vectors of -recall.fvecs, held out")
	recallN       = flag.Int("recall.n", 10000, "base vectors to use")
	recallQ       = flag.Int("recall.q", 200, "queries to use")
)

// recallBetas are the approximation factors the table reports.
var recallBetas = []float64{0.25, 0.5, 1, 1.5, 2, 3}

// recallOversample is the client's default candidates per result
// (encryption.DefaultOversample).
const recallOversample = 4

const recallK = 10

// recallResult is one row of the table.
type recallResult struct {
	beta                     float64
	rawRecall, rawNDCG       float64 // the database's ciphertext ranking (Cosine), top 10
	clientRecall, clientNDCG float64 // top 40 by ciphertext, rescored exactly (the client's default)
	over8Recall, over8NDCG   float64 // top 80 by ciphertext, rescored exactly (Oversample 8)
	euclidRecall             float64 // the raw recall when the database ranks by Euclidean distance
}

func TestRecall(t *testing.T) {
	if !*recallFlag {
		t.Skip("run with -args -recall")
	}
	if *recallFvecs != "" {
		base, queries, err := loadRecallFvecs(*recallFvecs, *recallQueries, *recallN, *recallQ)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d base vectors, %d queries, d = %d", *recallFvecs, len(base), len(queries), len(base[0]))
		logRecallTable(t, recallTable(base, queries))
		return
	}
	for _, d := range []int{384, 768} {
		base, queries := recalltest.Clustered(d, *recallN, *recallQ, 42)
		t.Logf("synthetic clustered data: %d base vectors, %d queries, d = %d", len(base), len(queries), d)
		logRecallTable(t, recallTable(base, queries))
	}
}

// TestRecallSmall runs a small version of the harness on every test run:
// recall falls as β grows and stays high for small β.
func TestRecallSmall(t *testing.T) {
	base, queries := recalltest.Clustered(64, 2000, 40, 7)
	rows := recallTable(base, queries)
	if rows[0].clientRecall < 0.95 {
		t.Errorf("β = %v: client recall %.3f", rows[0].beta, rows[0].clientRecall)
	}
	if last := rows[len(rows)-1]; last.rawRecall >= rows[0].rawRecall {
		t.Errorf("raw recall does not fall with β: %.3f at β = %v, %.3f at β = %v", rows[0].rawRecall, rows[0].beta, last.rawRecall, last.beta)
	}
	for _, r := range rows {
		if r.clientRecall+1e-9 < r.rawRecall {
			t.Errorf("β = %v: rescoring 4x candidates lowered recall", r.beta)
		}
	}
}

func logRecallTable(t *testing.T, rows []recallResult) {
	t.Logf("| β | recall@10 | nDCG@10 | recall@10, 4× + rescore | nDCG@10, 4× + rescore | recall@10, 8× + rescore | nDCG@10, 8× + rescore | recall@10 (Euclid) |")
	t.Logf("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		t.Logf("| %.2g | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |", r.beta, r.rawRecall, r.rawNDCG, r.clientRecall, r.clientNDCG, r.over8Recall, r.over8NDCG, r.euclidRecall)
	}
}

// recallTable measures every β in recallBetas.
func recallTable(base, queries [][]float32) []recallResult {
	d := len(base[0])
	truth := make([][]int, len(queries))
	parallelFor(len(queries), func(i int) { truth[i] = topK(base, queries[i], recallK, cosineScore) })
	var rows []recallResult
	for bi, beta := range recallBetas {
		key := make([]byte, KeySize)
		key[0] = byte(bi)
		k, err := NewKey(key, Params{Scale: 7.5, Beta: beta})
		if err != nil {
			panic(err)
		}
		enc := func(vs [][]float32, prefix uint64) [][]float32 {
			out := make([][]float32, len(vs))
			parallelFor(len(vs), func(i int) {
				out[i] = make([]float32, d)
				iv := IVFromCounter(prefix, uint64(i))
				if err := k.Encrypt(out[i], vs[i], &iv); err != nil {
					panic(err)
				}
			})
			return out
		}
		cbase, cq := enc(base, 1), enc(queries, 2)
		row := recallResult{beta: beta}
		var mu sync.Mutex
		parallelFor(len(queries), func(i int) {
			raw := topK(cbase, cq[i], 2*recallK*recallOversample, cosineScore)
			r1, n1 := recalltest.RecallNDCG(truth[i], raw[:recallK])
			r2, n2 := recalltest.RecallNDCG(truth[i], rescore(base, queries[i], raw[:recallK*recallOversample], recallK))
			r3, n3 := recalltest.RecallNDCG(truth[i], rescore(base, queries[i], raw, recallK))
			r4, _ := recalltest.RecallNDCG(truth[i], topK(cbase, cq[i], recallK, euclidScore))
			mu.Lock()
			row.rawRecall += r1
			row.rawNDCG += n1
			row.clientRecall += r2
			row.clientNDCG += n2
			row.over8Recall += r3
			row.over8NDCG += n3
			row.euclidRecall += r4
			mu.Unlock()
		})
		q := float64(len(queries))
		row.rawRecall, row.rawNDCG, row.clientRecall, row.clientNDCG = row.rawRecall/q, row.rawNDCG/q, row.clientRecall/q, row.clientNDCG/q
		row.over8Recall, row.over8NDCG, row.euclidRecall = row.over8Recall/q, row.over8NDCG/q, row.euclidRecall/q
		rows = append(rows, row)
	}
	return rows
}

type scoreFunc func(q, v []float32) float64

// cosineScore is the similarity a database computes for Cosine (higher is
// better); the inputs need not be unit vectors.
func cosineScore(q, v []float32) float64 {
	var dot, nq, nv float32
	for i := range q {
		dot += q[i] * v[i]
		nq += q[i] * q[i]
		nv += v[i] * v[i]
	}
	return float64(dot) / math.Sqrt(float64(nq)*float64(nv))
}

// euclidScore is minus the Euclidean distance (higher is better).
func euclidScore(q, v []float32) float64 {
	var s float32
	for i := range q {
		d := q[i] - v[i]
		s += d * d
	}
	return -math.Sqrt(float64(s))
}

// topK returns the indexes of the k best vectors for q, best first, ties
// by index.
func topK(vs [][]float32, q []float32, k int, score scoreFunc) []int {
	type hit struct {
		i int
		s float64
	}
	best := make([]hit, 0, k+1)
	for i, v := range vs {
		s := score(q, v)
		if len(best) == k && s <= best[k-1].s {
			continue
		}
		j := len(best)
		best = append(best, hit{})
		for j > 0 && best[j-1].s < s {
			best[j] = best[j-1]
			j--
		}
		best[j] = hit{i, s}
		if len(best) > k {
			best = best[:k]
		}
	}
	out := make([]int, len(best))
	for i, h := range best {
		out[i] = h.i
	}
	return out
}

// rescore ranks candidates by their exact plaintext score and keeps k: what
// the client does after decrypting them.
func rescore(base [][]float32, q []float32, cand []int, k int) []int {
	out := slices.Clone(cand)
	slices.SortStableFunc(out, func(a, b int) int {
		sa, sb := cosineScore(q, base[a]), cosineScore(q, base[b])
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return a - b
	})
	return out[:min(k, len(out))]
}

func parallelFor(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// readFvecs decodes the .fvecs format: each vector is a little-endian int32
// dimension followed by that many little-endian float32s. Every vector must
// have the same dimension (1..MaxDim) and finite components; at most max
// vectors are read (max <= 0: all).
func readFvecs(r io.Reader, max int) ([][]float32, error) {
	br := bufio.NewReader(r)
	var out [][]float32
	dim := -1
	for max <= 0 || len(out) < max {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			break
		} else if err != nil {
			return nil, errors.New("fvecs: truncated dimension")
		}
		d := int(int32(binary.LittleEndian.Uint32(hdr[:])))
		if d <= 0 || d > MaxDim || dim >= 0 && d != dim {
			return nil, errors.New("fvecs: bad or inconsistent dimension")
		}
		dim = d
		buf := make([]byte, 4*d)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, errors.New("fvecs: truncated vector")
		}
		v := make([]float32, d)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) {
				return nil, errors.New("fvecs: non-finite component")
			}
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("fvecs: no vectors")
	}
	return out, nil
}

// loadRecallFvecs reads base (and query) vectors and normalizes them to
// unit length, as β is defined for unit vectors.
func loadRecallFvecs(basePath, queryPath string, n, q int) (base, queries [][]float32, err error) {
	read := func(path string, max int) ([][]float32, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readFvecs(f, max)
	}
	if queryPath == "" {
		all, err := read(basePath, n+q)
		if err != nil {
			return nil, nil, err
		}
		if len(all) <= q {
			return nil, nil, fmt.Errorf("fvecs: %d vectors, need more than %d", len(all), q)
		}
		base, queries = all[:len(all)-q], all[len(all)-q:]
	} else {
		if base, err = read(basePath, n); err != nil {
			return nil, nil, err
		}
		if queries, err = read(queryPath, q); err != nil {
			return nil, nil, err
		}
		if len(queries[0]) != len(base[0]) {
			return nil, nil, errors.New("fvecs: base and query dimensions differ")
		}
	}
	for _, v := range append(slices.Clone(base), queries...) {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if s == 0 {
			continue
		}
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(s))
		}
	}
	return base, queries, nil
}

func TestReadFvecs(t *testing.T) {
	enc := func(vs ...[]float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			for _, x := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
		return b
	}
	got, err := readFvecs(bytes.NewReader(enc([]float32{1, 2}, []float32{3, 4})), 0)
	if err != nil || len(got) != 2 || got[1][1] != 4 {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := readFvecs(bytes.NewReader(enc([]float32{1}, []float32{2}, []float32{3})), 2); len(got) != 2 {
		t.Fatalf("max not honoured: %d", len(got))
	}
	bad := map[string][]byte{
		"empty":          nil,
		"truncated dim":  {1, 0},
		"zero dim":       enc([]float32{}),
		"negative dim":   {0xff, 0xff, 0xff, 0xff},
		"truncated data": enc([]float32{1, 2})[:8],
		"mixed dims":     enc([]float32{1, 2}, []float32{1}),
		"NaN":            enc([]float32{float32(math.NaN())}),
	}
	for name, b := range bad {
		if _, err := readFvecs(bytes.NewReader(b), 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if !strings.Contains(fmt.Sprint(recallBetas), "1.5") {
		t.Fatal("the table must report β = 1.5")
	}
}

func FuzzReadFvecs(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := readFvecs(bytes.NewReader(b), 100)
		if err != nil {
			return
		}
		for _, v := range vs {
			if len(v) != len(vs[0]) || len(v) == 0 {
				t.Fatal("inconsistent vectors accepted")
			}
		}
	})
}
