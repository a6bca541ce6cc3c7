package milvus_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/vecguard/vecguard/adapters/milvus"
	"github.com/vecguard/vecguard/internal/benchtest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

func benchSpec(dim int) *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    "bench",
		Vectors: []driver.VectorSpec{{Name: "v", Dim: dim, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "title", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

// rawSearch is what an application does with milvusclient itself: the
// tenant filter as a template value, the same output fields the driver
// asks for.
func rawSearch(ctx context.Context, c *milvusclient.Client, q []float32, k int) (milvusclient.ResultSet, error) {
	rs, err := c.Search(ctx, milvusclient.NewSearchOption("bench", k, []entity.Vector{entity.FloatVector(q)}).
		WithANNSField("v").WithConsistencyLevel(entity.ClStrong).
		WithFilter("tenant == {t}").WithTemplateParam("t", benchtest.Tenant).
		WithOutputFields("tenant", "title", "_vg_payload"))
	if err != nil {
		return milvusclient.ResultSet{}, err
	}
	return rs[0], nil
}

// tenantRows allows everything within the principal's tenant.
var tenantRows = benchtest.TenantRows

// BenchmarkMilvusSearch compares, in one run against the Milvus-protocol
// test server over gRPC, a top-10 search of 10,000 points of 768
// dimensions (Cosine) made with plain milvusclient (raw), with this driver
// alone (driver), and with the guarded client over it (guarded:
// authorization with a tenant row filter, and a synchronous, fail-closed
// audit logger writing JSON lines; guarded-encrypted: the same over a copy
// of the collection that the client encrypts). All search within one tenant (a tenth of the
// points) and return the payload; raw sends the tenant filter an
// application would send itself.
func BenchmarkMilvusSearch(b *testing.B) {
	d, _ := newTestDriver(b, nil)
	ctx := context.Background()
	spec := benchSpec(benchtest.Dim)
	if err := d.CreateCollection(ctx, spec); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pts := benchtest.PointsOf(r, benchtest.Points, benchtest.Dim)
	if err := d.Collection(spec).Upsert(ctx, pts); err != nil {
		b.Fatal(err)
	}
	queries := benchtest.Queries(r, 64, benchtest.Dim)

	raw := func(q []float32) error {
		rs, err := rawSearch(ctx, d.Client(), q, benchtest.TopK)
		if err == nil && rs.ResultCount != benchtest.TopK {
			err = fmt.Errorf("%d results", rs.ResultCount)
		}
		return err
	}

	// The driver alone, without the guard: what the adapter adds to raw.
	coll := d.Collection(spec)
	tenantFilter := driver.Eq("tenant", driver.String(benchtest.Tenant))
	direct := func(q []float32) error {
		hits, err := coll.Search(ctx, &driver.Query{Vector: q, VectorName: "v", Limit: benchtest.TopK, Filter: tenantFilter, Payload: driver.Projection{All: true}})
		if err == nil && len(hits) != benchtest.TopK {
			err = fmt.Errorf("%d results", len(hits))
		}
		return err
	}

	logger, err := audit.New(audit.NewJSONSink(io.Discard), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer logger.Close()
	client := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows, Auditor: logger})
	pctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "bench", Tenant: benchtest.Tenant})
	guarded := benchtest.GuardedSearch(pctx, client, "bench", benchtest.TopK)

	// The same points in a collection the guarded client encrypts: SAP
	// vectors with an exact AES-GCM copy, the title randomized (AES-GCM);
	// searched with the default oversampling and exact rescoring, and with
	// none (the database's ranking of ciphertexts, exact scores).
	enc, err := benchEncryptedClients(ctx, d, spec, pts, logger, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	pts = nil
	encrypted, encrypted1 := benchtest.GuardedSearch(pctx, enc[0], "bench_enc", benchtest.TopK), benchtest.GuardedSearch(pctx, enc[1], "bench_enc", benchtest.TopK)
	// What the default encrypted search fetches, through the driver alone.
	candidates, err := benchtest.Candidates(ctx, d, "bench_enc", benchtest.Tenant, benchtest.TopK, encryption.DefaultOversample)
	if err != nil {
		b.Fatal(err)
	}

	// CPU time per search: of the whole process (client, guard, audit and
	// the in-process server). The unencrypted paths, which allocate alike,
	// also interleaved: the guard's overhead least disturbed by the
	// machine's load.
	benchtest.Compare(b, queries, "cpu-ns/op", []string{"raw", "driver", "guarded"},
		benchtest.Path{Name: "raw", Search: raw},
		benchtest.Path{Name: "driver", Search: direct},
		benchtest.Path{Name: "guarded", Search: guarded},
		benchtest.Path{Name: "guarded-encrypted", Search: encrypted},
		benchtest.Path{Name: "guarded-encrypted-1x", Search: encrypted1},
		benchtest.Path{Name: "driver-candidates", Search: candidates},
	)
	if v := client.Violations() + enc[0].Violations() + enc[1].Violations(); v != 0 {
		b.Fatalf("%d re-check violations", v)
	}
}

// benchEncryptedClients creates collection bench_enc like spec, encrypted,
// writes pts into it and returns one client over it per oversampling factor
// (benchtest.EncryptedClients).
func benchEncryptedClients(ctx context.Context, d *milvus.Driver, spec *driver.CollectionSpec, pts []driver.Point, a audit.Auditor, oversample ...int) ([]*vecguard.Client, error) {
	es := spec.Clone()
	es.Name = "bench_enc"
	return benchtest.EncryptedClients(ctx, d, es, pts, a, oversample...)
}

// TestBenchmarkSetup runs the benchmark's searches on a small data set and
// checks that they agree: the guarded client returns what the raw search
// with the tenant filter returns, and the encrypted collection finds the
// same points.
func TestBenchmarkSetup(t *testing.T) {
	d, _ := newTestDriver(t, nil)
	ctx := t.Context()
	spec := benchSpec(16)
	if err := d.CreateCollection(ctx, spec); err != nil {
		t.Fatal(err)
	}
	pts := benchtest.PointsOf(rand.New(rand.NewPCG(3, 4)), 500, 16)
	if err := d.Collection(spec).Upsert(ctx, pts); err != nil {
		t.Fatal(err)
	}
	client := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows})
	pctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "s", Tenant: benchtest.Tenant})
	q := pts[3].Vectors["v"]
	hits, err := client.Search(pctx, "bench", vecguard.SearchRequest{Vector: q, Limit: 10, WithPayload: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rawSearch(ctx, d.Client(), q, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 || raw.ResultCount != 10 {
		t.Fatalf("%d guarded and %d raw results, want 10", len(hits), raw.ResultCount)
	}
	for i, h := range hits {
		key, _ := raw.IDs.GetAsString(i)
		if key != fmt.Sprintf("n%016x", h.ID.Num()) || math.Abs(float64(h.Score-raw.Scores[i])) > 1e-6 {
			t.Errorf("result %d: guarded %v (%g), raw %s (%g)", i, h.ID, h.Score, key, raw.Scores[i])
		}
		if h.Payload["tenant"] != benchtest.Tenant {
			t.Errorf("result %d from tenant %v", i, h.Payload["tenant"])
		}
	}
	if hits[0].ID != pts[3].ID {
		t.Errorf("the query's own point is not first: %v", hits[0].ID)
	}
	encs, err := benchEncryptedClients(ctx, d, spec, pts, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ehits, err := encs[0].Search(pctx, "bench_enc", vecguard.SearchRequest{Vector: q, Limit: 10, WithPayload: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ehits) != 10 || ehits[0].ID != pts[3].ID || ehits[0].Payload["title"] != pts[3].Payload["title"] {
		t.Errorf("encrypted search: %d hits, first %v", len(ehits), ehits[0].ID)
	}
}
