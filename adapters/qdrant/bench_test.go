package qdrant

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/internal/benchtest"
	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// BenchmarkQdrantSearch compares, in one run against the Qdrant-protocol
// test server over gRPC, a top-10 search of 10,000 points of 768
// dimensions (Cosine) made with the plain go-client (raw) and with the
// guarded client over this driver (guarded: authorization with a tenant row
// filter, and a synchronous, fail-closed audit logger writing JSON lines;
// guarded-encrypted: the same over a copy of the collection that the
// client encrypts). All search within one tenant (a tenth of the points)
// and return the payload; raw sends the tenant filter an application would
// send itself.
func BenchmarkQdrantSearch(b *testing.B) {
	srv := qdranttest.Start(b, nil)
	ctx := context.Background()
	d, err := Open(&qc.Config{Host: srv.Host(), Port: srv.Port(), PoolSize: 1, SkipCompatibilityCheck: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	spec := &driver.CollectionSpec{
		Name:    "bench",
		Vectors: []driver.VectorSpec{{Name: "v", Dim: benchtest.Dim, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "title", Kind: driver.KindString},
		},
	}
	if err := d.CreateCollection(ctx, spec); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pts := benchtest.PointsOf(r, benchtest.Points, benchtest.Dim)
	if err := d.Collection(spec).Upsert(ctx, pts); err != nil {
		b.Fatal(err)
	}
	queries := benchtest.Queries(r, 64, benchtest.Dim)
	const tenant = benchtest.Tenant

	points := d.Client().GetPointsClient()
	limit, using := uint64(benchtest.TopK), "v"
	flt := &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeyword("tenant", tenant)}}
	raw := func(q []float32) error {
		res, err := points.Query(ctx, &qc.QueryPoints{
			CollectionName: "bench", Query: qc.NewQueryDense(q), Using: &using,
			Filter: flt, Limit: &limit, WithPayload: qc.NewWithPayload(true),
		})
		if err == nil && len(res.GetResult()) != benchtest.TopK {
			err = fmt.Errorf("%d results", len(res.GetResult()))
		}
		return err
	}

	logger, err := audit.New(audit.NewJSONSink(io.Discard), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer logger.Close()
	client := vecguard.New(d, &vecguard.Options{Authorizer: benchtest.TenantRows, Auditor: logger})
	pctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "bench", Tenant: tenant})
	guarded := benchtest.GuardedSearch(pctx, client, "bench", benchtest.TopK)

	// The same points in a collection the guarded client encrypts: SAP
	// vectors with an exact AES-GCM copy, the title randomized (AES-GCM);
	// searched with the default oversampling and exact rescoring, and with
	// none (the database's ranking of ciphertexts, exact scores).
	es := *spec.Clone()
	es.Name = "bench_enc"
	enc, err := benchtest.EncryptedClients(ctx, d, &es, pts, logger, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	pts = nil
	encrypted, encrypted1 := benchtest.GuardedSearch(pctx, enc[0], "bench_enc", benchtest.TopK), benchtest.GuardedSearch(pctx, enc[1], "bench_enc", benchtest.TopK)
	// What the default encrypted search fetches, through the driver alone.
	candidates, err := benchtest.Candidates(ctx, d, "bench_enc", tenant, benchtest.TopK, encryption.DefaultOversample)
	if err != nil {
		b.Fatal(err)
	}

	// CPU time per search: of the whole process (client, guard, audit and
	// the in-process server). The unencrypted paths, which allocate alike,
	// also interleaved: the guard's overhead least disturbed by the
	// machine's load.
	benchtest.Compare(b, queries, "cpu-ns/op", []string{"raw", "guarded"},
		benchtest.Path{Name: "raw", Search: raw},
		benchtest.Path{Name: "guarded", Search: guarded},
		benchtest.Path{Name: "guarded-encrypted", Search: encrypted},
		benchtest.Path{Name: "guarded-encrypted-1x", Search: encrypted1},
		benchtest.Path{Name: "driver-candidates", Search: candidates},
	)
	if v := client.Violations() + enc[0].Violations() + enc[1].Violations(); v != 0 {
		b.Fatalf("%d re-check violations", v)
	}
}

// TestBenchmarkSetup runs the benchmark's two searches on a small data set
// and checks that they agree: the guarded client returns what the raw
// query with the tenant filter returns.
func TestBenchmarkSetup(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := newTestDriver(t, nil, nil)
	ctx := t.Context()
	spec := &driver.CollectionSpec{Name: "bench", Vectors: []driver.VectorSpec{{Name: "v", Dim: 16, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}}}
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	pts := benchtest.PointsOf(r, 500, 16) // point 7 is tenant t7's
	if err := d.Collection(spec).Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	client := vecguard.New(d, &vecguard.Options{Authorizer: benchtest.TenantRows})
	q := pts[7].Vectors["v"]
	hits, err := client.Search(vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "s", Tenant: "t7"}), "bench", vecguard.SearchRequest{Vector: q, Limit: 10, WithPayload: true})
	if err != nil {
		t.Fatal(err)
	}
	using, limit := "v", uint64(10)
	raw, err := d.Client().GetPointsClient().Query(ctx, &qc.QueryPoints{CollectionName: "bench", Query: qc.NewQueryDense(q), Using: &using, Limit: &limit,
		Filter: &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeyword("tenant", "t7")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 || len(raw.GetResult()) != 10 {
		t.Fatalf("%d guarded and %d raw results, want 10", len(hits), len(raw.GetResult()))
	}
	for i, h := range hits {
		if h.ID.Num() != raw.GetResult()[i].GetId().GetNum() || math.Abs(float64(h.Score-raw.GetResult()[i].GetScore())) > 1e-6 {
			t.Errorf("result %d: guarded %v (%g), raw %v (%g)", i, h.ID, h.Score, raw.GetResult()[i].GetId(), raw.GetResult()[i].GetScore())
		}
		if h.Payload["tenant"] != "t7" {
			t.Errorf("result %d from tenant %v", i, h.Payload["tenant"])
		}
	}
	// The encrypted paths: both oversampling factors find the point, and
	// the candidates path fetches 40 points.
	es := spec.Clone()
	es.Name = "bench_enc"
	enc, err := benchtest.EncryptedClients(ctx, d, es, pts, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range enc {
		hits, err := c.Search(vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "s", Tenant: "t7"}), "bench_enc", vecguard.SearchRequest{Vector: q, Limit: 10, WithPayload: true})
		if err != nil || len(hits) != 10 || hits[0].ID != pts[7].ID {
			t.Fatalf("encrypted client %d: %d hits, %v", i, len(hits), err)
		}
	}
	candidates, err := benchtest.Candidates(ctx, d, "bench_enc", "t7", 10, encryption.DefaultOversample)
	if err != nil {
		t.Fatal(err)
	}
	if err := candidates(q); err != nil {
		t.Error(err)
	}
}
