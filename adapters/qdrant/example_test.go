package qdrant_test

import (
	"context"
	"log"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	vgqdrant "github.com/vecguard/vecguard/adapters/qdrant"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// tenantRows allows every action on the rows of the caller's tenant.
var tenantRows = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, _ authz.Action, _ string) (authz.Decision, error) {
	return authz.Decision{Allow: true, Filter: driver.Eq("tenant", driver.String(p.Tenant)), Rule: "tenant-rows"}, nil
})

// A guarded client over Qdrant: every call is authorized, filtered to the
// caller's rows and audited.
func ExampleOpen() {
	d, err := vgqdrant.Open(&qc.Config{Host: "localhost", Port: 6334}, &vgqdrant.Options{ExactSearch: true})
	if err != nil {
		log.Fatal(err)
	}
	client := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows})
	defer client.Close()

	ctx := vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: "alice", Tenant: "acme"})
	hits, err := client.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{0.1, 0.2, 0.3}, Limit: 5, WithPayload: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		log.Println(h.ID, h.Score)
	}
}

// An unchanged *qdrant.Client behind the guard: its calls are served by the
// guarded client or refused.
func ExampleUnaryClientInterceptor() {
	d, err := vgqdrant.Open(&qc.Config{Host: "localhost", Port: 6334}, nil)
	if err != nil {
		log.Fatal(err)
	}
	guard := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows})
	defer guard.Close()

	app, err := qc.NewClient(&qc.Config{
		Host: "localhost", Port: 6334,
		GrpcOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(vgqdrant.UnaryClientInterceptor(guard)),
			grpc.WithChainStreamInterceptor(vgqdrant.StreamClientInterceptor(guard)),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

	// The application's code is unchanged; only its context names the caller.
	ctx := vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: "alice", Tenant: "acme"})
	n, err := app.Count(ctx, &qc.CountPoints{CollectionName: "docs"})
	if err != nil {
		log.Fatal(err)
	}
	log.Println(n, "points of tenant acme")
}
