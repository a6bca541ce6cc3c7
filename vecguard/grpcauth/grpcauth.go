package grpcauth

import (
	"context"
	"errors"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// Authenticator establishes who the caller of a gRPC call is, from what the
// call's context carries: its incoming metadata and its peer. It returns an
// error that wraps authn.ErrNoCredentials when the call carries no
// credentials of its kind, and another error when they are present but
// unacceptable. Implementations must be safe for concurrent use and never
// put credential bytes into an error.
type Authenticator interface {
	Authenticate(ctx context.Context) (authz.Principal, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(ctx context.Context) (authz.Principal, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context) (authz.Principal, error) {
	return f(ctx)
}

// Chain returns an Authenticator that asks each of as in turn. The first
// that finds its kind of credentials decides: its principal, or its error
// when the credentials are invalid — invalid credentials never fall through
// to the next authenticator. When none finds credentials, Chain fails with
// authn.ErrNoCredentials.
func Chain(as ...Authenticator) Authenticator {
	as = append([]Authenticator(nil), as...)
	return AuthenticatorFunc(func(ctx context.Context) (authz.Principal, error) {
		for _, a := range as {
			p, err := a.Authenticate(ctx)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, authn.ErrNoCredentials) {
				return authz.Principal{}, err
			}
		}
		return authz.Principal{}, authn.ErrNoCredentials
	})
}

// HealthService is the full name of the standard gRPC health service.
const HealthService = "grpc.health.v1.Health"

// NotHealthCheck is a selector.Matcher that matches every call except those
// of the gRPC health service. Wrap the interceptors with it so that load
// balancers can probe without credentials:
//
//	selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(a), grpcauth.NotHealthCheck)
var NotHealthCheck = selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
	return c.Service != HealthService
})

// FailureHook sees every call that failed authentication, with the error
// (never carrying credentials) and the status the caller gets: log or count
// it there. grpc.Method(ctx) names the method.
type FailureHook func(ctx context.Context, err error, st *status.Status)

// Option configures AuthFunc and the interceptors.
type Option func(*options)

type options struct {
	onFailure FailureHook
}

// WithFailureHook installs a FailureHook.
func WithFailureHook(h FailureHook) Option {
	return func(o *options) { o.onFailure = h }
}

// AuthFunc returns a go-grpc-middleware auth.AuthFunc that runs a and puts
// the principal into the context (see authz.FromContext and
// vecguard.PrincipalFrom), or fails with a gRPC status error:
// Unauthenticated for missing or invalid credentials.
func AuthFunc(a Authenticator, opts ...Option) auth.AuthFunc {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	return func(ctx context.Context) (context.Context, error) {
		p, err := a.Authenticate(ctx)
		if err == nil {
			if verr := p.Validate(); verr != nil {
				err = driver.Errorf(driver.Unauthenticated, "credentials yield an invalid principal")
			}
		}
		if err != nil {
			st := failureStatus(err)
			if o.onFailure != nil {
				o.onFailure(ctx, err, st)
			}
			return nil, st.Err()
		}
		return authz.NewContext(ctx, p), nil
	}
}

// failureStatus is the status of a failed authentication: the code of a
// vecguard error (Unauthenticated, PermissionDenied, Unavailable when keys
// cannot be fetched, ...), Unauthenticated for errors without one.
func failureStatus(err error) *status.Status {
	var e *driver.Error
	if !errors.As(err, &e) {
		if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
			return grpcerr.Status(err)
		}
		switch driver.CodeOf(err) {
		case driver.Canceled, driver.DeadlineExceeded:
			return grpcerr.Status(err)
		}
		return status.New(codes.Unauthenticated, "vecguard: unauthenticated: authentication failed")
	}
	if e.Code == driver.Unknown {
		return status.New(codes.Unauthenticated, "vecguard: unauthenticated: authentication failed")
	}
	return grpcerr.Status(e)
}

// UnaryServerInterceptor returns a unary server interceptor that
// authenticates every call with a (see AuthFunc). Wrap it with
// selector.UnaryServerInterceptor to skip calls, e.g. health checks.
func UnaryServerInterceptor(a Authenticator, opts ...Option) grpc.UnaryServerInterceptor {
	authFunc := AuthFunc(a, opts...)
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authFunc(ctx)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns a stream server interceptor that
// authenticates every stream with a (see AuthFunc).
func StreamServerInterceptor(a Authenticator, opts ...Option) grpc.StreamServerInterceptor {
	authFunc := AuthFunc(a, opts...)
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authFunc(ss.Context())
		if err != nil {
			return err
		}
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}
