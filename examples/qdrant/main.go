// Command qdrant shows the two ways to put vecguard in front of Qdrant:
//
//  1. the portable way: a *vecguard.Client over the Qdrant adapter;
//  2. the transparent way: an application's unchanged *qdrant.Client whose
//     calls the guard serves through gRPC client interceptors.
//
// With VECGUARD_QDRANT_ADDR (host:grpc-port, e.g. 127.0.0.1:6334 for
// `docker run -p 6334:6334 qdrant/qdrant`) it talks to that Qdrant;
// without it, to an in-process server that speaks Qdrant's gRPC protocol.
//
//	go run ./examples/qdrant
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	vgqdrant "github.com/vecguard/vecguard/adapters/qdrant"
	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

const policy = `
p, platform-admin, *, qdrant-demo, admin, allow
p, member, *, qdrant-demo, read, allow
p, member, *, qdrant-demo, write, allow
`

// out receives what the program prints (tests read it).
var out io.Writer = os.Stdout

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()
	host, port, err := qdrantAddr(ctx)
	if err != nil {
		return err
	}

	authorizer, err := casbinauthz.New(casbinauthz.Text(policy), nil)
	if err != nil {
		return err
	}
	drv, err := vgqdrant.Open(&qc.Config{Host: host, Port: port}, &vgqdrant.Options{ExactSearch: true})
	if err != nil {
		return err
	}
	guard := vecguard.New(drv, &vecguard.Options{Authorizer: authorizer})
	defer guard.Close()

	as := func(subject, tenant string, roles ...string) context.Context {
		return vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: subject, Tenant: tenant, Roles: roles})
	}
	ops := as("ops", "", "platform-admin")
	alice := as("alice", "acme", "member")
	bob := as("bob", "globex", "member")

	fmt.Fprintln(out, "1. The portable way: *vecguard.Client over the Qdrant adapter")
	_ = guard.DropCollection(ops, "qdrant-demo") // left over from an earlier run
	err = guard.CreateCollection(ops, vecguard.CollectionSpec{
		Name:        "qdrant-demo",
		Vectors:     []vecguard.VectorSpec{{Name: "text", Dim: 3, Distance: vecguard.Cosine}},
		Fields:      []vecguard.FieldSpec{{Name: "tenant", Kind: vecguard.KindString, Filterable: true}, {Name: "title", Kind: vecguard.KindString}},
		TenantField: "tenant",
	})
	if err != nil {
		return err
	}
	write := func(who context.Context, id uint64, title string, v ...float32) error {
		return guard.Upsert(who, "qdrant-demo", []vecguard.Point{{
			ID: vecguard.NumID(id), Vectors: map[string][]float32{"text": v}, Payload: map[string]any{"title": title},
		}})
	}
	for _, w := range []error{
		write(alice, 1, "acme roadmap", 1, 0, 0),
		write(alice, 2, "acme pricing", 0.9, 0.1, 0),
		write(bob, 3, "globex roadmap", 1, 0.05, 0),
	} {
		if w != nil {
			return w
		}
	}
	hits, err := guard.Search(alice, "qdrant-demo", vecguard.SearchRequest{Vector: []float32{1, 0, 0}, Limit: 5, WithPayload: true})
	if err != nil {
		return err
	}
	for _, h := range hits {
		fmt.Fprintf(out, "   alice finds %v %q (tenant %v)\n", h.ID, h.Payload["title"], h.Payload["tenant"])
	}

	fmt.Fprintln(out, "2. The transparent way: an unchanged *qdrant.Client behind the interceptors")
	app, err := qc.NewClient(&qc.Config{
		Host: host, Port: port,
		GrpcOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(vgqdrant.UnaryClientInterceptor(guard)),
			grpc.WithChainStreamInterceptor(vgqdrant.StreamClientInterceptor(guard)),
		},
	})
	if err != nil {
		return err
	}
	defer app.Close()
	n, err := app.Count(bob, &qc.CountPoints{CollectionName: "qdrant-demo"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   bob counts %d point(s): Qdrant's Count, filtered to tenant globex by the guard\n", n)
	res, err := app.Query(bob, &qc.QueryPoints{
		CollectionName: "qdrant-demo", Query: qc.NewQuery(1, 0, 0), WithPayload: qc.NewWithPayload(true),
	})
	if err != nil {
		return err
	}
	for _, p := range res {
		fmt.Fprintf(out, "   bob's Query finds %v %q\n", p.GetId().GetNum(), p.GetPayload()["title"].GetStringValue())
	}
	err = app.DeleteCollection(bob, "qdrant-demo")
	fmt.Fprintf(out, "   bob's DeleteCollection: %v\n", err)
	_, err = app.CreateSnapshot(bob, "qdrant-demo")
	fmt.Fprintf(out, "   bob's CreateSnapshot (an RPC the guard does not serve): %v\n", err)

	return guard.DropCollection(ops, "qdrant-demo")
}

// qdrantAddr returns VECGUARD_QDRANT_ADDR, or starts the in-process server.
func qdrantAddr(ctx context.Context) (string, int, error) {
	addr := os.Getenv("VECGUARD_QDRANT_ADDR")
	if addr == "" {
		srv, err := qdranttest.Listen(ctx, nil)
		if err != nil {
			return "", 0, err
		}
		fmt.Fprintln(out, "(VECGUARD_QDRANT_ADDR is not set: using the in-process Qdrant-protocol server)")
		addr = srv.Addr()
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}
