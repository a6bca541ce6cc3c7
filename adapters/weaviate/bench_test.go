package weaviate_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vecguard/vecguard/adapters/weaviate"
	"github.com/vecguard/vecguard/internal/benchtest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
)

// searchBench is a collection with points in benchtest.Tenants tenants, and the
// two ways to search it: the official client directly (raw) and the guarded
// client over this driver.
type searchBench struct {
	spec    *driver.CollectionSpec
	raw     func(q []float32) ([]graphql.SearchResult, error)
	guarded func(q []float32) ([]vecguard.ScoredPoint, error)
	// direct searches through the driver alone, as guarded does.
	direct    func(q []float32) error
	encrypted func(q []float32) ([]vecguard.ScoredPoint, error)
	// encrypted1 searches the encrypted collection without oversampling.
	encrypted1 func(q []float32) ([]vecguard.ScoredPoint, error)
	// candidates fetches through the driver alone what encrypted fetches.
	candidates func(q []float32) error
	clients    []*vecguard.Client
}

func newSearchBench(tb testing.TB, name string, points, dim int, r *rand.Rand) *searchBench {
	tb.Helper()
	httpAddr, grpcAddr := serverAddrs(tb)
	ctx := context.Background()
	d := open(tb, nil)
	tb.Cleanup(func() { d.Close() })
	spec := &driver.CollectionSpec{
		Name:    fmt.Sprintf("%s%x", name, r.Uint64()),
		Vectors: []driver.VectorSpec{{Name: "v", Dim: dim, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "title", Kind: driver.KindString},
		},
	}
	if err := d.CreateCollection(ctx, spec); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := d.DropCollection(context.Background(), spec.Name); err != nil {
			tb.Errorf("dropping the benchmark collection: %v", err)
		}
	})
	pts := benchtest.PointsOf(r, points, dim)
	coll := d.Collection(spec)
	for start := 0; start < len(pts); start += 1000 {
		if err := coll.Upsert(ctx, pts[start:min(start+1000, len(pts))]); err != nil {
			tb.Fatal(err)
		}
	}

	// raw: what an application does with the official client alone, with
	// the tenant filter it would send itself. (The driver stores strings
	// quoted, see the package doc, so the filter value is "'t3'".)
	wc, err := wv.NewClient(wv.Config{Host: httpAddr, Scheme: "http", GrpcConfig: &wvgrpc.Config{Host: grpcAddr},
		StartupTimeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	class := weaviate.ClassPrefix + spec.Name // lowercase letters and digits map to themselves
	where := filters.Where().WithPath([]string{"tenant"}).WithOperator(filters.Equal).WithValueText("'" + benchtest.Tenant + "'")
	raw := func(q []float32) ([]graphql.SearchResult, error) {
		return wc.Experimental().Search().WithCollection(class).
			WithNearVector((&graphql.NearVectorArgumentBuilder{}).WithVector(q).WithTargetVectors("v")).
			WithWhere(where).WithLimit(benchtest.TopK).
			WithProperties("tenant", "title").
			WithMetadata(&graphql.Metadata{ID: true, Distance: true}).
			Do(ctx)
	}

	logger, err := audit.New(audit.NewJSONSink(io.Discard), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { logger.Close() })
	client := vecguard.New(d, &vecguard.Options{Authorizer: benchtest.TenantRows, Auditor: logger})
	pctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "bench", Tenant: benchtest.Tenant})
	guarded := func(q []float32) ([]vecguard.ScoredPoint, error) {
		return client.Search(pctx, spec.Name, vecguard.SearchRequest{Vector: q, Limit: benchtest.TopK, WithPayload: true})
	}

	// The same points in a collection the guarded client encrypts: SAP
	// vectors (default β) with an exact AES-GCM copy, the title randomized
	// (AES-GCM); searched with the default oversampling and exact
	// rescoring, and with none (encrypted1: Weaviate's ranking of the
	// ciphertexts, exact scores).
	encSpec := spec.Clone()
	encSpec.Name += "enc"
	enc, err := benchtest.EncryptedClients(ctx, d, encSpec, pts, logger, 0, 1)
	tb.Cleanup(func() {
		if err := d.DropCollection(context.Background(), encSpec.Name); err != nil && driver.CodeOf(err) != driver.NotFound {
			tb.Errorf("dropping %s: %v", encSpec.Name, err)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	encSearch := func(c *vecguard.Client) func(q []float32) ([]vecguard.ScoredPoint, error) {
		return func(q []float32) ([]vecguard.ScoredPoint, error) {
			return c.Search(pctx, encSpec.Name, vecguard.SearchRequest{Vector: q, Limit: benchtest.TopK, WithPayload: true})
		}
	}
	// What the default encrypted search fetches, through the driver alone.
	candidates, err := benchtest.Candidates(ctx, d, encSpec.Name, benchtest.Tenant, benchtest.TopK, encryption.DefaultOversample)
	if err != nil {
		tb.Fatal(err)
	}
	// The driver alone, without the guard: what the adapter adds to raw.
	tenantFilter := driver.Eq("tenant", driver.String(benchtest.Tenant))
	direct := func(q []float32) error {
		hits, err := coll.Search(ctx, &driver.Query{Vector: q, VectorName: "v", Limit: benchtest.TopK, Filter: tenantFilter, Payload: driver.Projection{All: true}})
		if err == nil && len(hits) != benchtest.TopK {
			err = fmt.Errorf("%d results", len(hits))
		}
		return err
	}
	return &searchBench{spec: spec, raw: raw, direct: direct, guarded: guarded, encrypted: encSearch(enc[0]), encrypted1: encSearch(enc[1]),
		candidates: candidates, clients: []*vecguard.Client{client, enc[0], enc[1]}}
}

// fixedKeys hands out one keyring for every scope.
type fixedKeys struct{ k *encryption.Keyring }

func (f fixedKeys) Keyring(context.Context, encryption.Scope) (*encryption.Keyring, error) {
	return f.k, nil
}

// newEncryptedClient creates the collection spec through a guarded client
// that encrypts it with cfg, and returns the client. Everything is allowed
// (the recall harness).
func newEncryptedClient(tb testing.TB, d *weaviate.Driver, spec *driver.CollectionSpec, a audit.Auditor, cfg encryption.Config) *vecguard.Client {
	tb.Helper()
	root, err := encryption.HKDFRootKey([]byte("benchmark root key, 32 bytes ok!"))
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		tb.Fatal(err)
	}
	enc, err := encryption.New(fixedKeys{kr}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c := vecguard.New(d, &vecguard.Options{
		Authorizer: authz.AuthorizerFunc(func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
			return authz.Decision{Allow: true}, nil
		}),
		Auditor:    a,
		Encryption: map[string]encryption.Protector{spec.Name: enc},
	})
	if err := c.CreateCollection(vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: "admin"}), *spec); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := d.DropCollection(context.Background(), spec.Name); err != nil && driver.CodeOf(err) != driver.NotFound {
			tb.Errorf("dropping %s: %v", spec.Name, err)
		}
	})
	return c
}

// BenchmarkWeaviateSearch compares, in one run against a real Weaviate
// server, a top-10 search of 10,000 points of 768 dimensions (Cosine, HNSW)
// made with the official Go client over gRPC (raw) and with the guarded
// client over this driver (guarded: authorization with a tenant row filter,
// and a synchronous, fail-closed audit logger writing JSON lines). Both
// search within one tenant (a tenth of the points) and return the payload.
//
// guarded-encrypted searches the same points in a collection the guarded
// client encrypts (SAP vectors at the default β, searched with 4×
// oversampling and exact rescoring; the title sealed with AES-GCM);
// guarded-encrypted-1x searches it without oversampling.
func BenchmarkWeaviateSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	sb := newSearchBench(b, "bench", benchtest.Points, benchtest.Dim, r)
	queries := benchtest.Queries(r, 64, benchtest.Dim)
	raw := func(q []float32) error {
		res, err := sb.raw(q)
		if err == nil && len(res) != benchtest.TopK {
			err = fmt.Errorf("%d results", len(res))
		}
		return err
	}
	topK := func(search func([]float32) ([]vecguard.ScoredPoint, error)) func([]float32) error {
		return func(q []float32) error {
			hits, err := search(q)
			if err == nil && len(hits) != benchtest.TopK {
				err = fmt.Errorf("%d results", len(hits))
			}
			return err
		}
	}
	guarded, encrypted, encrypted1 := topK(sb.guarded), topK(sb.encrypted), topK(sb.encrypted1)
	// CPU time per search: of the client process (the server is another).
	// The unencrypted paths, which allocate alike, also interleaved: the
	// guard's overhead least disturbed by the machine's load.
	benchtest.Compare(b, queries, "client-cpu-ns/op", []string{"raw", "driver", "guarded"},
		benchtest.Path{Name: "raw", Search: raw},
		benchtest.Path{Name: "driver", Search: sb.direct},
		benchtest.Path{Name: "guarded", Search: guarded},
		benchtest.Path{Name: "guarded-encrypted", Search: encrypted},
		benchtest.Path{Name: "guarded-encrypted-1x", Search: encrypted1},
		benchtest.Path{Name: "driver-candidates", Search: sb.candidates},
	)
	for _, c := range sb.clients {
		if v := c.Violations(); v != 0 {
			b.Fatalf("%d re-check violations", v)
		}
	}
}

// TestBenchmarkSetup runs the benchmark's searches on a small collection and
// checks that they agree: the guarded client returns what the raw query
// with the tenant filter returns, with the same scores.
func TestBenchmarkSetup(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sb := newSearchBench(t, "benchsetup", 500, 16, r)
	q := benchtest.Vector(r, 16)
	hits, err := sb.guarded(q)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sb.raw(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != benchtest.TopK || len(raw) != benchtest.TopK {
		t.Fatalf("%d guarded and %d raw results, want %d", len(hits), len(raw), benchtest.TopK)
	}
	for i, h := range hits {
		want := 1 - raw[i].Metadata.Distance
		if math.Abs(float64(h.Score-want)) > 1e-6 {
			t.Errorf("result %d: guarded score %g, raw %g", i, h.Score, want)
		}
		if h.Payload["tenant"] != benchtest.Tenant {
			t.Errorf("result %d from tenant %v", i, h.Payload["tenant"])
		}
		if raw[i].Properties["tenant"] != "'"+benchtest.Tenant+"'" {
			t.Errorf("raw result %d from tenant %v", i, raw[i].Properties["tenant"])
		}
	}
	enc, err := sb.encrypted(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != benchtest.TopK {
		t.Fatalf("%d encrypted results, want %d", len(enc), benchtest.TopK)
	}
	for i, h := range enc {
		if h.Payload["tenant"] != benchtest.Tenant || h.Payload["title"] == nil {
			t.Errorf("encrypted result %d: payload %v", i, h.Payload)
		}
	}
	for _, c := range sb.clients {
		if v := c.Violations(); v != 0 {
			t.Fatalf("%d re-check violations", v)
		}
	}
}
