package grpcauth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/grpcauth"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

func ExampleUnaryServerInterceptor() {
	jwks, _ := authn.NewJWKS("https://idp.example/.well-known/jwks.json", nil)
	tokens, _ := authn.NewJWTVerifier(authn.JWTOptions{
		Issuers:  []authn.Issuer{{Issuer: "https://idp.example", Keys: jwks}},
		Audience: []string{"rag-service"},
	})
	a := grpcauth.Bearer(tokens)
	logFailure := grpcauth.WithFailureHook(func(ctx context.Context, err error, st *status.Status) {
		method, _ := grpc.Method(ctx)
		slog.WarnContext(ctx, "authentication failed", "method", method, "code", st.Code(), "error", err)
	})

	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(
			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(a, logFailure), grpcauth.NotHealthCheck),
			grpcerr.UnaryServerInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			selector.StreamServerInterceptor(grpcauth.StreamServerInterceptor(a, logFailure), grpcauth.NotHealthCheck),
			grpcerr.StreamServerInterceptor(),
		),
	)
	defer srv.Stop()
	// Register the services; their handlers pass their ctx to the
	// vecguard.Client, which reads the principal from it.
}

func ExampleAuthFunc() {
	pepper := []byte("a-server-side-secret-of-32-bytes-or-more")
	keys, _ := authn.NewAPIKeys(pepper, []authn.APIKey{{
		Hash:      authn.HashAPIKey(pepper, "vgk_example-key"),
		Principal: authz.Principal{Subject: "indexer", Tenant: "acme"},
	}})
	authFunc := grpcauth.AuthFunc(grpcauth.APIKey(keys, ""))

	// With go-grpc-middleware's own auth interceptors.
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(authFunc), grpcauth.NotHealthCheck)),
		grpc.ChainStreamInterceptor(selector.StreamServerInterceptor(auth.StreamServerInterceptor(authFunc), grpcauth.NotHealthCheck)),
	)
	defer srv.Stop()
}

func ExampleChain() {
	var (
		serverCert tls.Certificate    // the server's certificate
		clientCAs  *x509.CertPool     // the CAs of client certificates
		apiKeys    *authn.APIKeys     // see authn.NewAPIKeys
		tokens     *authn.JWTVerifier // see authn.NewJWTVerifier
	)
	certs, _ := authn.NewCertMapper(&authn.CertOptions{Subject: authn.URI, URIPrefix: "spiffe://example.org/", Tenant: authn.Organization})

	// Services present certificates, users tokens, scripts API keys. A call
	// with an invalid certificate fails even if it also carries a valid
	// token: invalid credentials never fall through.
	a := grpcauth.Chain(grpcauth.ClientCertificate(certs), grpcauth.Bearer(tokens), grpcauth.APIKey(apiKeys, ""))
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientCAs:    clientCAs,
			ClientAuth:   tls.VerifyClientCertIfGiven, // certificates are optional, and verified
			MinVersion:   tls.VersionTLS13,
		})),
		grpc.ChainUnaryInterceptor(grpcauth.UnaryServerInterceptor(a)),
	)
	defer srv.Stop()
}

// Example_service shows calls going through authentication, the guarded
// client and the error mapping, over a real connection.
func Example_service() {
	pepper := []byte("a-server-side-secret-of-32-bytes-or-more")
	keys, _ := authn.NewAPIKeys(pepper, []authn.APIKey{
		{Hash: authn.HashAPIKey(pepper, "vgk_acme-example"), Principal: authz.Principal{Subject: "alice", Tenant: "acme"}},
	})
	// Callers may only read the collection named after their tenant; the
	// operator may create collections.
	policy := authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, coll string) (authz.Decision, error) {
		switch {
		case a == authz.Read && coll == p.Tenant+"_docs":
			return authz.Decision{Allow: true, Rule: "own-tenant"}, nil
		case a == authz.Admin && p.Subject == "operator":
			return authz.Decision{Allow: true, Rule: "operator"}, nil
		}
		return authz.Decision{Rule: "default", Reason: "not your tenant's collection"}, nil
	})
	client := vecguard.New(memory.New(), &vecguard.Options{Authorizer: policy})
	defer client.Close()
	for _, name := range []string{"acme_docs", "globex_docs"} {
		op := vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: "operator"})
		if err := client.CreateCollection(op, vecguard.CollectionSpec{Name: name, Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 4, Distance: vecguard.Cosine}}}); err != nil {
			panic(err)
		}
	}

	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(
		grpcauth.UnaryServerInterceptor(grpcauth.APIKey(keys, "")),
		grpcerr.UnaryServerInterceptor(),
	))
	// A one-method service, Describe(collection name), written by hand.
	describeHandler := func(ctx context.Context, req any) (any, error) {
		spec, err := client.DescribeCollection(ctx, req.(*wrapperspb.StringValue).GetValue())
		if err != nil {
			return nil, err // grpcerr maps it
		}
		return wrapperspb.String(spec.Name), nil
	}
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "example.Collections",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Describe", Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
			req := new(wrapperspb.StringValue)
			if err := dec(req); err != nil {
				return nil, err
			}
			return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/example.Collections/Describe"}, describeHandler)
		}}},
	}, struct{}{})
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(lis)
	defer srv.Stop()

	cc, _ := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer cc.Close()
	describe := func(key, coll string) {
		ctx := context.Background()
		if key != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
		}
		out := new(wrapperspb.StringValue)
		err := cc.Invoke(ctx, "/example.Collections/Describe", wrapperspb.String(coll), out)
		if err != nil {
			fmt.Println(status.Code(err), status.Convert(err).Message())
			return
		}
		fmt.Println("OK", out.GetValue())
	}
	describe("", "acme_docs")
	describe("vgk_wrong", "acme_docs")
	describe("vgk_acme-example", "globex_docs")
	describe("vgk_acme-example", "acme_docs")
	// Output:
	// Unauthenticated vecguard: unauthenticated: no credentials
	// Unauthenticated vecguard: unauthenticated: invalid API key
	// PermissionDenied vecguard: describe_collection globex_docs: permission denied: read denied: not your tenant's collection
	// OK acme_docs
}
