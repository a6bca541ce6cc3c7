package weaviate_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vecguard/vecguard/internal/recalltest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// The recall harness of package encryption/sap, run through a real HNSW
// index: for each β of that harness it stores the same points encrypted
// (through the guarded client) and measures recall@10 against exact
// plaintext search, for the ciphertext ranking Weaviate returns and for the
// client's result (4× oversampling, exact rescoring), beside Weaviate's own
// recall on the plaintexts. It needs a server and takes minutes, so it is
// off by default:
//
//	go test ./adapters/weaviate -run TestRecallWeaviate -v -args -recall [-recall.n=10000] [-recall.q=200] [-recall.d=384]
var (
	recallFlag = flag.Bool("recall", false, "run the recall harness against the Weaviate server")
	recallN    = flag.Int("recall.n", 10000, "base vectors")
	recallQ    = flag.Int("recall.q", 200, "queries")
	recallD    = flag.Int("recall.d", 384, "dimensions")
)

// recallBetas are the β values of package sap's recall table.
var recallBetas = []float64{0.25, 0.5, 1, 1.5, 2, 3}

const recallK = 10

func TestRecallWeaviate(t *testing.T) {
	if !*recallFlag {
		t.Skip("run with -args -recall")
	}
	rows := recallTable(t, *recallN, *recallQ, *recallD, recallBetas)
	t.Logf("synthetic clustered data (package sap's generator): %d base vectors, %d queries, d = %d, Cosine, HNSW defaults", *recallN, *recallQ, *recallD)
	t.Logf("| β | recall@10, plaintext (HNSW) | recall@10, ciphertext ranking (HNSW) | recall@10, client: 4× + rescore | nDCG@10, client |")
	t.Logf("|---|---|---|---|---|")
	for _, r := range rows {
		t.Logf("| %.2g | %.3f | %.3f | %.3f | %.3f |", r.beta, r.plain, r.cipher, r.client, r.clientNDCG)
	}
}

// TestRecallWeaviateSmall is a small run of the harness on every test run
// with a server: the client's results through Weaviate's HNSW index keep
// recall at the default β.
func TestRecallWeaviateSmall(t *testing.T) {
	serverAddrs(t)
	rows := recallTable(t, 2000, 40, 64, []float64{encryption.DefaultBeta})
	if r := rows[0]; r.client < 0.9 || r.plain < 0.9 {
		t.Errorf("β = %v: recall@10 plaintext %.3f, client %.3f; want >= 0.9", r.beta, r.plain, r.client)
	}
}

type recallRow struct {
	beta                              float64
	plain, cipher, client, clientNDCG float64
}

func recallTable(t *testing.T, n, nq, dim int, betas []float64) []recallRow {
	ctx := context.Background()
	d := open(t, nil)
	t.Cleanup(func() { d.Close() })
	base, queries := recalltest.Clustered(dim, n, nq, 42)
	pts := make([]driver.Point, n)
	for i := range pts {
		pts[i] = driver.Point{ID: driver.NumID(uint64(i)), Vectors: map[string][]float32{"v": base[i]}, Payload: map[string]any{}}
	}
	truth := make([][]driver.PointID, nq)
	for i, q := range queries {
		truth[i] = exactTopK(base, q, recallK)
	}
	tag := rand.Uint64()
	spec := &driver.CollectionSpec{Name: fmt.Sprintf("vgt_recall_%x", tag), Vectors: []driver.VectorSpec{{Name: "v", Dim: dim, Distance: driver.Cosine}}}

	// Plaintext, straight through the driver.
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.DropCollection(context.Background(), spec.Name) })
	coll := d.Collection(spec)
	for start := 0; start < n; start += 1000 {
		if err := coll.Upsert(ctx, pts[start:min(start+1000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	var plain float64
	for i, q := range queries {
		hits, err := coll.Search(ctx, &driver.Query{Vector: q, VectorName: "v", Limit: recallK})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := recalltest.RecallNDCG(truth[i], hitIDs(hits))
		plain += r
	}
	plain /= float64(nq)

	var rows []recallRow
	pctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "recall"})
	for bi, beta := range betas {
		es := spec.Clone()
		es.Name = fmt.Sprintf("vgt_recall_%x_%d", tag, bi)
		c := newEncryptedClient(t, d, es, nil, encryption.Config{Beta: beta})
		for start := 0; start < n; start += 1000 {
			if err := c.Upsert(pctx, es.Name, pts[start:min(start+1000, n)]); err != nil {
				t.Fatal(err)
			}
		}
		// The ciphertext ranking: the stored collection searched with the
		// encrypted query, as Weaviate ranks it.
		stored, err := d.DescribeCollection(ctx, es.Name)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := encryption.New(recallKeys(t), encryption.Config{Beta: beta})
		if err != nil {
			t.Fatal(err)
		}
		raw := d.Collection(stored)
		row := recallRow{beta: beta, plain: plain}
		for i, q := range queries {
			eqs, err := enc.Queries(ctx, encryption.Scope{Collection: es.Name}, "v", q)
			if err != nil || len(eqs) != 1 {
				t.Fatalf("encrypting the query: %d queries, %v", len(eqs), err)
			}
			hits, err := raw.Search(ctx, &driver.Query{Vector: eqs[0].Vector, VectorName: "v", Limit: recallK, Filter: eqs[0].Filter})
			if err != nil {
				t.Fatal(err)
			}
			r, _ := recalltest.RecallNDCG(truth[i], hitIDs(hits))
			row.cipher += r
			res, err := c.Search(pctx, es.Name, vecguard.SearchRequest{Vector: q, Limit: recallK})
			if err != nil {
				t.Fatal(err)
			}
			r, g := recalltest.RecallNDCG(truth[i], hitIDs(res))
			row.client += r
			row.clientNDCG += g
		}
		q := float64(nq)
		row.cipher, row.client, row.clientNDCG = row.cipher/q, row.client/q, row.clientNDCG/q
		rows = append(rows, row)
		if err := d.DropCollection(ctx, es.Name); err != nil { // free the server's memory early
			t.Fatal(err)
		}
	}
	return rows
}

// recallKeys is the keyring newEncryptedClient uses (the same root key), so
// that queries encrypted here match what the client stored.
func recallKeys(t *testing.T) fixedKeys {
	root, err := encryption.HKDFRootKey([]byte("benchmark root key, 32 bytes ok!"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		t.Fatal(err)
	}
	return fixedKeys{kr}
}

func hitIDs(hits []driver.ScoredPoint) []driver.PointID {
	ids := make([]driver.PointID, len(hits))
	for i := range hits {
		ids[i] = hits[i].ID
	}
	return ids
}

// exactTopK returns the IDs (indexes) of the k base vectors most similar
// to q by cosine.
func exactTopK(base [][]float32, q []float32, k int) []driver.PointID {
	type scored struct {
		i int
		s float64
	}
	all := make([]scored, len(base))
	for i, v := range base {
		var dot, nv, nq float64
		for j := range q {
			dot += float64(q[j]) * float64(v[j])
			nv += float64(v[j]) * float64(v[j])
			nq += float64(q[j]) * float64(q[j])
		}
		all[i] = scored{i, dot / math.Sqrt(nv*nq)}
	}
	slices.SortFunc(all, func(a, b scored) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return a.i - b.i
	})
	ids := make([]driver.PointID, k)
	for i := range ids {
		ids[i] = driver.NumID(uint64(all[i].i))
	}
	return ids
}
