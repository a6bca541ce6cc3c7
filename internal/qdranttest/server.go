// Package qdranttest is an in-process server that speaks Qdrant's gRPC
// protocol (the qdrant.Points, qdrant.Collections and qdrant.Qdrant services
// of github.com/qdrant/go-client) over an in-memory engine. Tests and
// benchmarks point an unchanged *qdrant.Client at it where no Qdrant binary
// can run.
//
// It follows Qdrant's documented and implemented semantics where a client
// can observe them:
//
//   - vectors stored under Cosine are normalized on write and returned
//     normalized; scores are similarities for Cosine and Dot and distances
//     for Euclid and Manhattan; the score threshold is strict, as Qdrant's;
//   - point IDs are uint64 or UUIDs; scroll is ordered by ID (numbers before
//     UUIDs, UUIDs by bytes), its offset is inclusive and next_page_offset
//     is the first ID of the next page;
//   - filters (must, should, must_not, min_should, nested filters, match
//     keyword / integer / bool / any / except / text, range, values_count,
//     is_empty, is_null, has_id, has_vector, nested) are evaluated with
//     Qdrant's rules, which differ from vecguard's: is_null is an explicit
//     null only, is_empty is absent, null or [], match except is false on
//     absent or null values, match integer ignores doubles, arrays match when
//     an element does, and empty condition lists are no condition;
//   - set and delete payload by an ID list fail with NotFound when an ID
//     does not exist; setting a key to null removes it;
//   - the same gRPC status codes as Qdrant for the same errors: NotFound for
//     a missing collection, AlreadyExists when creating an existing one,
//     InvalidArgument for bad input; deleting a missing collection answers
//     result=false, not an error.
//
// Search is exact (every point is scored; ties go to the smaller ID), so
// tests can hold a client to the exact top-k. Get returns points in ID
// order, not in the order asked, and List returns names unordered, so a
// client that relies on an order Qdrant does not promise fails here.
//
// The engine is its own and not vecguard's embedded store: Qdrant's filter
// semantics (explicit null versus absent, arrays, integer versus double
// matches) cannot be expressed through vecguard's driver contract, and a
// protocol server that borrowed vecguard's semantics would hide exactly the
// translation mistakes it exists to catch.
//
// Unsupported features (sparse and multi vectors, geo and datetime
// conditions, prefetch, groups, discover, aliases, snapshots, order_by)
// answer codes.Unimplemented. Error messages never repeat vectors or
// payload values.
package qdranttest

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
)

// Options configures a Server. The zero value (or nil) is valid.
type Options struct {
	// UnaryInterceptor, when set, runs before every RPC: tests use it to
	// inject errors (a ResourceExhausted with a retry-after trailer, say).
	UnaryInterceptor grpc.UnaryServerInterceptor
	// MaxRecvMsgSize is the largest request the server accepts; 0 means
	// 32 MiB.
	MaxRecvMsgSize int
}

// Server is a running Qdrant-protocol server.
type Server struct {
	lis net.Listener
	gs  *grpc.Server
}

// Listen starts a server on a free port of 127.0.0.1.
func Listen(ctx context.Context, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxRecvMsgSize == 0 {
		o.MaxRecvMsgSize = 32 << 20
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sopts := []grpc.ServerOption{grpc.MaxRecvMsgSize(o.MaxRecvMsgSize)}
	if o.UnaryInterceptor != nil {
		sopts = append(sopts, grpc.ChainUnaryInterceptor(o.UnaryInterceptor))
	}
	gs := grpc.NewServer(sopts...)
	e := newEngine()
	qdrant.RegisterPointsServer(gs, &pointsService{e: e})
	qdrant.RegisterCollectionsServer(gs, &collectionsService{e: e})
	qdrant.RegisterQdrantServer(gs, qdrantService{})
	go func() { _ = gs.Serve(lis) }()
	return &Server{lis: lis, gs: gs}, nil
}

// Start starts a server for a test or benchmark and stops it when tb ends.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := Listen(context.Background(), opts)
	if err != nil {
		tb.Fatalf("qdranttest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address, host:port.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Host returns the server's host, for qdrant.Config.Host.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port returns the server's port, for qdrant.Config.Port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Stop stops the server, closing open connections.
func (s *Server) Stop() { s.gs.Stop() }
