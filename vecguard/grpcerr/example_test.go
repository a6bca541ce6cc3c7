package grpcerr_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

func ExampleStatus() {
	err := &driver.Error{Code: driver.PermissionDenied, Op: "search", Collection: "globex_docs", Msg: "read denied"}
	st := grpcerr.Status(err)
	fmt.Println(st.Code(), st.Message())

	budget := &driver.Error{Code: driver.ResourceExhausted, Msg: "query budget spent", RetryAfter: 30 * time.Second}
	d, _ := grpcerr.RetryDelay(grpcerr.Error(budget))
	fmt.Println(grpcerr.Status(budget).Code(), d)
	// Output:
	// PermissionDenied vecguard: search globex_docs: permission denied: read denied
	// ResourceExhausted 30s
}

func ExampleUnaryServerInterceptor() {
	logInternal := func(ctx context.Context, err error, st *status.Status) {
		if st.Code() == codes.Internal {
			method, _ := grpc.Method(ctx)
			slog.ErrorContext(ctx, "internal error", "method", method, "error", err)
		}
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcerr.UnaryServerInterceptor(grpcerr.WithHook(logInternal))),
		grpc.ChainStreamInterceptor(grpcerr.StreamServerInterceptor(grpcerr.WithHook(logInternal))),
	)
	defer srv.Stop()
	// Register services and serve.
}
