// Command server runs the grpc-rag example's retrieval service.
//
//	go run ./examples/grpc-rag/server                     # embedded store, 127.0.0.1:50051
//	go run ./examples/grpc-rag/server -store qdrant -qdrant localhost:6334
//
// It creates fresh demo credentials for its tenants (an issuer signing key
// and two API keys each) and writes them, readable by the owner only, to
// the -credentials file for the client program, which plays each tenant's
// identity provider. The audit log goes to standard output as JSON lines.
//
// Plaintext is only served on a loopback address; elsewhere give
// -tls-cert and -tls-key.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/adapters/qdrant"
	"github.com/vecguard/vecguard/examples/grpc-rag/ragserver"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/limits"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		listen    = flag.String("listen", "127.0.0.1:50051", "address to serve gRPC on")
		store     = flag.String("store", "memory", "vector database: memory (embedded) or qdrant")
		qdrantAt  = flag.String("qdrant", "localhost:6334", "Qdrant gRPC address, with -store qdrant")
		tenants   = flag.String("tenants", "acme,globex", "comma-separated tenant names")
		credsOut  = flag.String("credentials", "grpc-rag-credentials.json", "file to write the demo credentials to")
		auditPath = flag.String("audit-log", "-", `file to append the audit log to ("-": standard output)`)
		tlsCert   = flag.String("tls-cert", "", "server certificate (PEM)")
		tlsKey    = flag.String("tls-key", "", "server private key (PEM)")
	)
	flag.Parse()

	var opts []grpc.ServerOption
	if *tlsCert != "" || *tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})))
	} else if !loopback(*listen) {
		return errors.New("credentials travel with every call: serve plaintext on a loopback address only, or give -tls-cert and -tls-key")
	}

	drv, err := openStore(*store, *qdrantAt)
	if err != nil {
		return err
	}
	var auditOut io.Writer = os.Stdout
	if *auditPath != "-" {
		f, err := os.OpenFile(*auditPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		auditOut = f
	}

	names := strings.Split(*tenants, ",")
	creds := ragserver.NewDemoCredentials(names...)
	pepper := make([]byte, 32)
	rand.Read(pepper)
	authenticator, err := creds.Authenticator(pepper)
	if err != nil {
		return err
	}
	if err := creds.Save(*credsOut); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := ragserver.New(ctx, ragserver.Config{
		Driver:        drv,
		Authenticator: authenticator,
		Tenants:       names,
		Budget:        limits.Budget{Window: time.Minute, Requests: 600, Rows: 6000},
		Budgets:       crawlerBudgets(names),
		AuditOut:      auditOut,
		ServerOptions: opts,
	})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		srv.Close()
		return err
	}
	slog.Info("serving", "addr", lis.Addr().String(), "store", *store, "credentials", *credsOut)
	go func() {
		<-ctx.Done()
		srv.Stop()
	}()
	return srv.Serve(lis)
}

// crawlerBudgets gives each tenant's crawler a budget small enough for the
// demo to run out of.
func crawlerBudgets(tenants []string) map[string]limits.Budget {
	m := map[string]limits.Budget{}
	for _, t := range tenants {
		m[t+"-crawler"] = limits.Budget{Window: time.Minute, Requests: 3}
	}
	return m
}

func openStore(name, qdrantAddr string) (driver.Driver, error) {
	switch name {
	case "memory":
		return memory.New(), nil
	case "qdrant":
		host, port, err := net.SplitHostPort(qdrantAddr)
		if err != nil {
			return nil, err
		}
		var p int
		if _, err := fmt.Sscan(port, &p); err != nil {
			return nil, fmt.Errorf("invalid Qdrant port %q", port)
		}
		return qdrant.Open(&qc.Config{Host: host, Port: p}, nil)
	case "weaviate", "milvus":
		return nil, fmt.Errorf("the %s adapter is a module of its own; build a server on it as openStore does for qdrant", name)
	}
	return nil, fmt.Errorf("unknown store %q (memory or qdrant)", name)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
