// Package milvustest is an in-process server that speaks Milvus's gRPC
// protocol (milvuspb.MilvusService of github.com/milvus-io/milvus-proto)
// over vecguard's embedded store (adapters/memory). Tests and benchmarks
// point an unchanged *milvusclient.Client at it where no Milvus can run.
//
// It follows Milvus's behaviour where a client can observe it:
//
//   - a collection must have an index on every vector field before it can
//     be loaded, and must be loaded before a search, a query, a count or a
//     delete by a non-key expression; otherwise the answer is Milvus's
//     "collection not loaded" (code 101) or "index not found" (code 700);
//     loading completes at once;
//   - creating an existing collection with the same schema succeeds and
//     with another schema fails; dropping a missing collection succeeds;
//   - nullable fields, the partition key (never null), VarChar max_length,
//     JSON values up to common.JSONMaxLength (Options.JSONMaxLength), at
//     most 64 fields and 4 vector fields, topk and offset + limit up to
//     16384;
//   - expressions are parsed by package milvusexpr (the forms users write:
//     comparisons, in / not in, and / or / not, parentheses, like,
//     json_contains and array_contains, is null) with template values, and
//     evaluated with Milvus's null rules (a predicate on null is false, and
//     not keeps it false);
//   - scores are COSINE and IP similarities and the squared L2 distance;
//     the search is exact (every candidate is scored); limited queries
//     return the rows of the smallest primary keys, in key order;
//   - errors travel in the response status with Milvus's codes (package
//     merr), as Milvus sends them.
//
// It differs where that does not matter to a client: an Insert of an
// existing primary key replaces the row (Milvus would keep both until
// compaction), there are no partitions other than the default one, no
// databases, aliases, RBAC, dynamic fields, sparse or binary vectors,
// grouping, hybrid search or iterators: those RPCs answer codes.Unimplemented
// or a Milvus error. Field names longer than 64 bytes are refused. Error
// messages never repeat values.
package milvustest

import (
	"context"
	"net"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
)

// Options configures a Server. The zero value (or nil) is valid.
type Options struct {
	// JSONMaxLength is the largest JSON value in bytes, Milvus's
	// common.JSONMaxLength; 0 means Milvus's default, 65536.
	JSONMaxLength int
	// MaxRecvMsgSize is the largest request the server accepts; 0 means
	// 256 MiB, Milvus's grpc.serverMaxRecvSize.
	MaxRecvMsgSize int
	// UnaryInterceptor, when set, runs before every RPC: tests use it to
	// inject errors or to watch the requests.
	UnaryInterceptor grpc.UnaryServerInterceptor
}

// Server is a running Milvus-protocol server.
type Server struct {
	lis net.Listener
	gs  *grpc.Server
	svc *service
}

// Listen starts a server on a free port of 127.0.0.1.
func Listen(ctx context.Context, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.JSONMaxLength <= 0 {
		o.JSONMaxLength = 64 << 10
	}
	if o.MaxRecvMsgSize <= 0 {
		o.MaxRecvMsgSize = 256 << 20
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sopts := []grpc.ServerOption{grpc.MaxRecvMsgSize(o.MaxRecvMsgSize), grpc.MaxSendMsgSize(o.MaxRecvMsgSize)}
	if o.UnaryInterceptor != nil {
		sopts = append(sopts, grpc.ChainUnaryInterceptor(o.UnaryInterceptor))
	}
	gs := grpc.NewServer(sopts...)
	svc := newService(o)
	milvuspb.RegisterMilvusServiceServer(gs, svc)
	go func() { _ = gs.Serve(lis) }()
	return &Server{lis: lis, gs: gs, svc: svc}, nil
}

// Start starts a server for a test or benchmark and stops it when tb ends.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := Listen(context.Background(), opts)
	if err != nil {
		tb.Fatalf("milvustest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address, host:port, for
// milvusclient.ClientConfig.Address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop stops the server, closing open connections.
func (s *Server) Stop() {
	s.gs.Stop()
	s.svc.close()
}

// Release releases a collection as an operator (or a restart) would, so
// that tests can check how a client copes with an unloaded collection.
func (s *Server) Release(name string) error {
	c, err := s.svc.get(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.loaded = false
	c.mu.Unlock()
	return nil
}
