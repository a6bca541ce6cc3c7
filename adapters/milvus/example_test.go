package milvus_test

import (
	"context"
	"fmt"
	"log"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc"

	"github.com/vecguard/vecguard/adapters/milvus"
	"github.com/vecguard/vecguard/adapters/milvus/internal/milvustest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// A guarded client over Milvus: every call is authorized, filtered to the
// caller's rows and audited.
func ExampleOpen() {
	ctx := context.Background()
	d, err := milvus.Open(ctx, &milvusclient.ClientConfig{Address: "localhost:19530"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	client := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows})
	defer client.Close()

	alice := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "alice", Tenant: "acme"})
	hits, err := client.Search(alice, "docs", vecguard.SearchRequest{Vector: []float32{0.1, 0.2, 0.3}, Limit: 5, WithPayload: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		log.Println(h.ID, h.Score)
	}
}

// The driver over a milvusclient.Client the program already has, here one
// connected to the test server.
func ExampleNew() {
	srv, err := milvustest.Listen(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	mc, err := milvusclient.New(ctx, &milvusclient.ClientConfig{Address: srv.Addr()})
	if err != nil {
		log.Fatal(err)
	}
	defer mc.Close(ctx)

	client := vecguard.New(milvus.New(mc, nil), &vecguard.Options{Authorizer: tenantRows})
	admin := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "admin"})
	err = client.CreateCollection(admin, vecguard.CollectionSpec{
		Name:        "docs",
		Vectors:     []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Cosine}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}},
		TenantField: "tenant",
	})
	if err != nil {
		log.Fatal(err)
	}
	alice := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "alice", Tenant: "acme"})
	bob := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "bob", Tenant: "globex"})
	if err := client.Upsert(alice, "docs", []vecguard.Point{{ID: vecguard.NumID(1), Vectors: map[string][]float32{"v": {1, 0}}, Payload: map[string]any{"title": "acme plan"}}}); err != nil {
		log.Fatal(err)
	}
	if err := client.Upsert(bob, "docs", []vecguard.Point{{ID: vecguard.NumID(2), Vectors: map[string][]float32{"v": {1, 0.1}}, Payload: map[string]any{"title": "globex plan"}}}); err != nil {
		log.Fatal(err)
	}
	hits, err := client.Search(alice, "docs", vecguard.SearchRequest{Vector: []float32{1, 0}, Limit: 5, WithPayload: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Println(h.ID, h.Payload["title"])
	}
	// Output: 1 acme plan
}

// An unchanged *milvusclient.Client behind the guard: its data calls are
// served by the guarded client, its admin calls gated, the rest refused.
func ExampleUnaryClientInterceptor() {
	ctx := context.Background()
	d, err := milvus.Open(ctx, &milvusclient.ClientConfig{Address: "localhost:19530"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	guard := vecguard.New(d, &vecguard.Options{Authorizer: tenantRows})
	defer guard.Close()

	app, err := milvusclient.New(ctx, &milvusclient.ClientConfig{
		Address: "localhost:19530",
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(milvus.UnaryClientInterceptor(guard, &milvus.InterceptorOptions{Authorizer: tenantRows})),
			grpc.WithChainStreamInterceptor(milvus.StreamClientInterceptor(guard)),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close(ctx)

	// The application's code is unchanged; only its context names the caller.
	alice := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "alice", Tenant: "acme"})
	rs, err := app.Search(alice, milvusclient.NewSearchOption("docs", 5, []entity.Vector{entity.FloatVector{0.1, 0.2, 0.3}}).
		WithFilter("color == {c}").WithTemplateParam("c", "red").WithOutputFields("color"))
	if err != nil {
		log.Fatal(err)
	}
	log.Println(rs[0].ResultCount, "results of tenant acme")
}
