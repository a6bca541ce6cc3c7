package grpcerr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

const secret = "s3cr3t-backend-detail"

func TestStatus(t *testing.T) {
	backend := errors.New("qdrant: " + secret)
	tests := []struct {
		name  string
		err   error
		code  codes.Code
		msg   string
		retry time.Duration // 0: no RetryInfo
	}{
		{name: "nil", err: nil, code: codes.OK, msg: ""},
		{name: "permission denied", err: &driver.Error{Code: driver.PermissionDenied, Op: "search", Collection: "docs", Msg: "read denied: tenant policy"},
			code: codes.PermissionDenied, msg: "vecguard: search docs: permission denied: read denied: tenant policy"},
		{name: "unauthenticated", err: driver.Errorf(driver.Unauthenticated, "no principal in context"), code: codes.Unauthenticated, msg: "vecguard: unauthenticated: no principal in context"},
		{name: "not found wraps a backend error", err: &driver.Error{Code: driver.NotFound, Op: "search", Collection: "docs", Err: backend},
			code: codes.NotFound, msg: "vecguard: search docs: not found"},
		{name: "invalid argument", err: driver.Errorf(driver.InvalidArgument, "vector has 3 dimensions, want 4"), code: codes.InvalidArgument, msg: "vecguard: invalid argument: vector has 3 dimensions, want 4"},
		{name: "already exists", err: driver.Errorf(driver.AlreadyExists, ""), code: codes.AlreadyExists, msg: "vecguard: already exists"},
		{name: "resource exhausted with retry", err: &driver.Error{Code: driver.ResourceExhausted, Msg: "query budget spent", RetryAfter: 1500 * time.Millisecond},
			code: codes.ResourceExhausted, msg: "vecguard: resource exhausted: query budget spent (retry after 2s)", retry: 1500 * time.Millisecond},
		{name: "resource exhausted without retry", err: driver.Errorf(driver.ResourceExhausted, "too many"), code: codes.ResourceExhausted, msg: "vecguard: resource exhausted: too many"},
		{name: "unavailable", err: driver.Wrap(driver.Unavailable, backend, "audit log cannot record the operation"), code: codes.Unavailable, msg: "vecguard: unavailable: audit log cannot record the operation"},
		{name: "data loss", err: driver.Errorf(driver.DataLoss, "ciphertext does not authenticate"), code: codes.DataLoss, msg: "vecguard: data loss: ciphertext does not authenticate"},
		{name: "failed precondition", err: driver.Errorf(driver.FailedPrecondition, "client is closed"), code: codes.FailedPrecondition, msg: "vecguard: failed precondition: client is closed"},
		{name: "canceled", err: driver.Wrap(driver.Canceled, context.Canceled, ""), code: codes.Canceled, msg: "vecguard: canceled"},
		{name: "deadline", err: driver.Wrap(driver.DeadlineExceeded, context.DeadlineExceeded, ""), code: codes.DeadlineExceeded, msg: "vecguard: deadline exceeded"},
		{name: "unimplemented", err: driver.Errorf(driver.Unimplemented, "no recommend"), code: codes.Unimplemented, msg: "vecguard: unimplemented: no recommend"},
		{name: "unknown is internal", err: driver.Wrap(driver.Unknown, backend, secret), code: codes.Internal, msg: "vecguard: internal error"},
		{name: "internal", err: driver.Errorf(driver.Internal, "invariant %s broken", secret), code: codes.Internal, msg: "vecguard: internal error"},
		{name: "out-of-range code", err: &driver.Error{Code: 200, Msg: secret}, code: codes.Internal, msg: "vecguard: internal error"},
		{name: "wrapped by a handler", err: fmt.Errorf("handler %s: %w", secret, driver.Errorf(driver.NotFound, "no such collection")), code: codes.NotFound, msg: "vecguard: not found: no such collection"},
		{name: "plain error", err: backend, code: codes.Internal, msg: "vecguard: internal error"},
		{name: "context canceled", err: context.Canceled, code: codes.Canceled, msg: "context canceled"},
		{name: "context deadline", err: fmt.Errorf("x: %w", context.DeadlineExceeded), code: codes.DeadlineExceeded, msg: "context deadline exceeded"},
		{name: "handler's own status", err: status.Error(codes.OutOfRange, "page 9 of 3"), code: codes.OutOfRange, msg: "page 9 of 3"},
		{name: "vecguard error around a database status", err: driver.Wrap(driver.Unavailable, status.Error(codes.Unavailable, secret), ""), code: codes.Unavailable, msg: "vecguard: unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := grpcerr.Status(tc.err)
			if st.Code() != tc.code || st.Message() != tc.msg {
				t.Fatalf("status = %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			if strings.Contains(fmt.Sprint(st.Proto()), secret) {
				t.Fatalf("status leaks the wrapped error: %v", st.Proto())
			}
			d, ok := grpcerr.RetryDelay(st.Err())
			if ok != (tc.retry > 0) || d != tc.retry {
				t.Fatalf("RetryDelay = %v, %v; want %v", d, ok, tc.retry)
			}
			if (grpcerr.Error(tc.err) == nil) != (tc.err == nil) {
				t.Fatalf("Error(%v) = %v", tc.err, grpcerr.Error(tc.err))
			}
		})
	}
}

func TestCode(t *testing.T) {
	// Every vecguard code has a gRPC code; the names agree.
	for c := driver.Unknown; c <= driver.Unimplemented; c++ {
		g := grpcerr.Code(c)
		if c == driver.Unknown || c == driver.Internal {
			if g != codes.Internal {
				t.Errorf("%v -> %v", c, g)
			}
			continue
		}
		if want := strings.ReplaceAll(c.String(), " ", ""); !strings.EqualFold(g.String(), want) {
			t.Errorf("%v -> %v", c, g)
		}
	}
}

// server is a grpc_testing service whose handlers return a set error.
type server struct {
	testpb.UnimplementedTestServiceServer
	mu  sync.Mutex
	err error
}

func (s *server) setErr(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }
func (s *server) getErr() error    { s.mu.Lock(); defer s.mu.Unlock(); return s.err }

func (s *server) UnaryCall(context.Context, *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if err := s.getErr(); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Username: "ok"}, nil
}

func (s *server) StreamingOutputCall(_ *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	if err := ss.Send(&testpb.StreamingOutputCallResponse{}); err != nil {
		return err
	}
	return s.getErr()
}

func start(t *testing.T, opts ...grpc.ServerOption) (*server, testpb.TestServiceClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{}
	gs := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return srv, testpb.NewTestServiceClient(cc)
}

func TestInterceptors(t *testing.T) {
	type seen struct {
		err  error
		code codes.Code
	}
	var mu sync.Mutex
	var hooked []seen
	hook := grpcerr.WithHook(func(_ context.Context, err error, st *status.Status) {
		mu.Lock()
		hooked = append(hooked, seen{err, st.Code()})
		mu.Unlock()
	})
	srv, client := start(t,
		grpc.ChainUnaryInterceptor(grpcerr.UnaryServerInterceptor(hook)),
		grpc.ChainStreamInterceptor(grpcerr.StreamServerInterceptor(hook)))
	ctx := context.Background()

	tests := []struct {
		name       string
		err        error
		code       codes.Code
		retryAfter string // the retry-after metadata, "" for none
	}{
		{"success", nil, codes.OK, ""},
		{"denied", &driver.Error{Code: driver.PermissionDenied, Op: "search", Collection: "globex_docs", Msg: "read denied"}, codes.PermissionDenied, ""},
		{"budget", &driver.Error{Code: driver.ResourceExhausted, Msg: "query budget spent", RetryAfter: 2500 * time.Millisecond}, codes.ResourceExhausted, "3"},
		{"budget under a second", &driver.Error{Code: driver.ResourceExhausted, RetryAfter: time.Millisecond}, codes.ResourceExhausted, "1"},
		{"internal", errors.New(secret), codes.Internal, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/unary", func(t *testing.T) {
			srv.setErr(tc.err)
			var header, trailer metadata.MD
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Header(&header), grpc.Trailer(&trailer))
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code = %v, want %v (%v)", st.Code(), tc.code, err)
			}
			if strings.Contains(st.Message(), secret) {
				t.Fatalf("message leaks: %q", st.Message())
			}
			for name, md := range map[string]metadata.MD{"header": header, "trailer": trailer} {
				got := strings.Join(md.Get(grpcerr.RetryAfterKey), ",")
				if got != tc.retryAfter {
					t.Errorf("%s retry-after = %q, want %q", name, got, tc.retryAfter)
				}
			}
			if tc.retryAfter != "" {
				if d, ok := grpcerr.RetryDelay(err); !ok || d != tc.err.(*driver.Error).RetryAfter {
					t.Errorf("RetryDelay = %v, %v", d, ok)
				}
			}
		})
		t.Run(tc.name+"/stream", func(t *testing.T) {
			srv.setErr(tc.err)
			stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, err = stream.Recv()
			}
			st := status.Convert(err)
			want := tc.code
			if want == codes.OK {
				if err.Error() != "EOF" {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if st.Code() != want || strings.Contains(st.Message(), secret) {
				t.Fatalf("status = %v %q, want %v", st.Code(), st.Message(), want)
			}
			if got := strings.Join(stream.Trailer().Get(grpcerr.RetryAfterKey), ","); got != tc.retryAfter {
				t.Errorf("trailer retry-after = %q, want %q", got, tc.retryAfter)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != 8 {
		t.Fatalf("hook saw %d errors, want 8", len(hooked))
	}
	for _, h := range hooked {
		if h.code == codes.Internal && h.err.Error() != secret {
			t.Errorf("hook got %v, want the original error", h.err)
		}
	}
}

// TestFromCode checks that FromCode inverts Code for every vecguard code
// with a gRPC namesake, and maps the remaining gRPC codes as documented.
func TestFromCode(t *testing.T) {
	for c := driver.Canceled; c <= driver.Unimplemented; c++ {
		if got := grpcerr.FromCode(grpcerr.Code(c)); got != c {
			t.Errorf("FromCode(Code(%v)) = %v", c, got)
		}
	}
	for _, tc := range []struct {
		in   codes.Code
		want driver.Code
	}{
		{codes.OK, driver.Unknown},
		{codes.Unknown, driver.Unknown},
		{codes.OutOfRange, driver.InvalidArgument},
		{codes.Aborted, driver.Unavailable},
		{codes.Code(99), driver.Unknown},
	} {
		if got := grpcerr.FromCode(tc.in); got != tc.want {
			t.Errorf("FromCode(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
