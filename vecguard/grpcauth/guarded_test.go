package grpcauth_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/grpcauth"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// searchService searches the collection named in the request body with
// the guarded client, for the principal the interceptor established.
type searchService struct {
	testpb.UnimplementedTestServiceServer
	client *vecguard.Client
}

func (s searchService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	res, err := s.client.Search(ctx, string(req.GetPayload().GetBody()), vecguard.SearchRequest{
		Vector: []float32{1, 0}, Limit: 10, WithPayload: true,
	})
	if err != nil {
		return nil, err // grpcerr maps it
	}
	var rows []string
	for _, r := range res {
		rows = append(rows, fmt.Sprintf("%v:%v", r.ID, r.Payload["title"]))
	}
	return &testpb.SimpleResponse{Username: strings.Join(rows, " ")}, nil
}

// recorder is an Auditor that keeps the records.
type recorder struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (r *recorder) Audit(_ context.Context, rec *audit.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, *rec)
	r.mu.Unlock()
	return nil
}

// tenantPolicy lets the operator do everything, a tenant's principals read
// and write the collections named after their tenant and the shared,
// tenant-isolated collection, and denies the rest.
var tenantPolicy = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, coll string) (authz.Decision, error) {
	switch {
	case p.Subject == "operator":
		return authz.Decision{Allow: true, Rule: "operator"}, nil
	case a != authz.Read && a != authz.Write:
	case coll == "shared":
		return authz.Decision{Allow: true, Rule: "shared"}, nil
	case p.Tenant != "" && strings.HasPrefix(coll, p.Tenant+"_"):
		return authz.Decision{Allow: true, Rule: "own-tenant"}, nil
	}
	return authz.Decision{Allow: false, Rule: "default", Reason: "not a collection of your tenant"}, nil
})

func seed(t *testing.T, c *vecguard.Client) {
	t.Helper()
	ctx := context.Background()
	op := vecguard.WithPrincipal(ctx, authz.Principal{Subject: "operator"})
	vec := []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Cosine}}
	for _, spec := range []vecguard.CollectionSpec{
		{Name: "acme_docs", Vectors: vec},
		{Name: "globex_docs", Vectors: vec},
		{Name: "shared", Vectors: vec, Fields: []vecguard.FieldSpec{{Name: "tenant", Kind: vecguard.KindString, Filterable: true}}, TenantField: "tenant"},
	} {
		if err := c.CreateCollection(op, spec); err != nil {
			t.Fatal(err)
		}
	}
	pt := func(id uint64, title string) vecguard.Point {
		return vecguard.Point{ID: vecguard.NumID(id), Vectors: map[string][]float32{"v": {1, float32(id) / 10}}, Payload: map[string]any{"title": title}}
	}
	writes := []struct {
		who  authz.Principal
		coll string
		pts  []vecguard.Point
	}{
		{authz.Principal{Subject: "operator"}, "acme_docs", []vecguard.Point{pt(1, "acme-plan")}},
		{authz.Principal{Subject: "operator"}, "globex_docs", []vecguard.Point{pt(2, "globex-plan")}},
		{authz.Principal{Subject: "w", Tenant: "acme"}, "shared", []vecguard.Point{pt(10, "acme-memo")}},
		{authz.Principal{Subject: "w", Tenant: "globex"}, "shared", []vecguard.Point{pt(20, "globex-memo")}},
	}
	for _, w := range writes {
		if err := c.Upsert(vecguard.WithPrincipal(ctx, w.who), w.coll, w.pts); err != nil {
			t.Fatalf("seed %s: %v", w.coll, err)
		}
	}
}

// TestGuardedService runs the interceptors, the guarded client and the
// audit log together, as a service would.
func TestGuardedService(t *testing.T) {
	d := newIdP(t)
	rec := &recorder{}
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: tenantPolicy, Auditor: rec})
	t.Cleanup(func() { client.Close() })
	seed(t, client)
	rec.mu.Lock()
	rec.recs = nil
	rec.mu.Unlock()

	lis := must(net.Listen("tcp", "127.0.0.1:0"))
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(
		selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(grpcauth.Bearer(d.verifier(t))), grpcauth.NotHealthCheck),
		grpcerr.UnaryServerInterceptor(),
	))
	testpb.RegisterTestServiceServer(gs, searchService{client: client})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cc := must(grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())))
	t.Cleanup(func() { cc.Close() })
	svc := testpb.NewTestServiceClient(cc)

	acme := sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims(issShared, "alice", "tenant", "acme"))
	globex := sign(jwt.SigningMethodHS256, secretGlobex, "", claims(issGlobex, "bob"))
	acmeKeyClaimingGlobex := sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "mallory", "tenant", "globex"))
	acmeKeyAsGlobexIssuer := sign(jwt.SigningMethodHS256, secretAcme, "", claims(issGlobex, "mallory"))

	tests := []struct {
		name  string
		token string
		coll  string
		rows  string
		code  codes.Code
		msg   string
	}{
		{name: "acme reads its collection", token: acme, coll: "acme_docs", rows: "1:acme-plan"},
		{name: "globex reads its collection", token: globex, coll: "globex_docs", rows: "2:globex-plan"},
		{name: "acme reaches for globex's collection", token: acme, coll: "globex_docs", code: codes.PermissionDenied, msg: "not a collection of your tenant"},
		{name: "globex reaches for acme's collection", token: globex, coll: "acme_docs", code: codes.PermissionDenied, msg: "not a collection of your tenant"},
		{name: "acme sees its rows of the shared collection", token: acme, coll: "shared", rows: "10:acme-memo"},
		{name: "globex sees its rows of the shared collection", token: globex, coll: "shared", rows: "20:globex-memo"},
		{name: "acme's key claiming globex", token: acmeKeyClaimingGlobex, coll: "globex_docs", code: codes.Unauthenticated, msg: "not trusted for the tenant"},
		{name: "acme's key under globex's issuer", token: acmeKeyAsGlobexIssuer, coll: "globex_docs", code: codes.Unauthenticated, msg: "invalid token signature"},
		{name: "no token", coll: "acme_docs", code: codes.Unauthenticated, msg: "no credentials"},
		{name: "unknown collection", token: acme, coll: "acme_nothing", code: codes.NotFound},
		{name: "another tenant's unknown collection", token: globex, coll: "acme_nothing", code: codes.PermissionDenied, msg: "not a collection of your tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.token != "" {
				ctx = withMD("authorization", "Bearer "+tc.token)
			}
			resp, err := svc.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(tc.coll)}})
			st := status.Convert(err)
			noEcho(t, st, tc.token)
			if tc.code == codes.OK {
				if err != nil || resp.GetUsername() != tc.rows {
					t.Fatalf("rows %q, %v; want %q", resp.GetUsername(), err, tc.rows)
				}
				return
			}
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want %v containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
		})
	}

	// The audit trail has one record per call that reached the client —
	// none for calls refused at authentication — naming the verified
	// subject and tenant.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var trail []string
	for _, r := range rec.recs {
		trail = append(trail, fmt.Sprintf("%s/%s %s %s allowed=%v", r.Tenant, r.Subject, r.Operation, r.Collection, r.Allowed))
	}
	want := []string{
		"acme/alice search acme_docs allowed=true",
		"globex/bob search globex_docs allowed=true",
		"acme/alice search globex_docs allowed=false",
		"globex/bob search acme_docs allowed=false",
		"acme/alice search shared allowed=true",
		"globex/bob search shared allowed=true",
		"acme/alice search acme_nothing allowed=true",
		"globex/bob search acme_nothing allowed=false",
	}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	if v := client.Violations(); v != 0 {
		t.Fatalf("%d re-check violations", v)
	}
}
