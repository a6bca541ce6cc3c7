package grpcerr

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// RetryAfterKey is the response metadata key (header and trailer) that
// carries the retry-after of a ResourceExhausted error, in whole seconds.
const RetryAfterKey = "retry-after"

// internalMessage is the whole message of Unknown and Internal errors.
const internalMessage = "vecguard: internal error"

var codeOf = [...]codes.Code{
	driver.Unknown:            codes.Internal,
	driver.Canceled:           codes.Canceled,
	driver.DeadlineExceeded:   codes.DeadlineExceeded,
	driver.InvalidArgument:    codes.InvalidArgument,
	driver.NotFound:           codes.NotFound,
	driver.AlreadyExists:      codes.AlreadyExists,
	driver.PermissionDenied:   codes.PermissionDenied,
	driver.Unauthenticated:    codes.Unauthenticated,
	driver.ResourceExhausted:  codes.ResourceExhausted,
	driver.FailedPrecondition: codes.FailedPrecondition,
	driver.Unavailable:        codes.Unavailable,
	driver.DataLoss:           codes.DataLoss,
	driver.Internal:           codes.Internal,
	driver.Unimplemented:      codes.Unimplemented,
}

// Code returns the gRPC code of a vecguard error code. Unknown and codes
// without a counterpart map to codes.Internal.
func Code(c driver.Code) codes.Code {
	if int(c) < len(codeOf) {
		return codeOf[c]
	}
	return codes.Internal
}

// FromCode returns the vecguard code of a gRPC code, for drivers that
// classify the status errors of a database's gRPC API: each code maps to
// its namesake, OutOfRange to InvalidArgument, Aborted to Unavailable (the
// call may be retried), and OK and Unknown to Unknown.
func FromCode(c codes.Code) driver.Code {
	switch c {
	case codes.OutOfRange:
		return driver.InvalidArgument
	case codes.Aborted:
		return driver.Unavailable
	case codes.Internal:
		return driver.Internal
	case codes.OK, codes.Unknown:
		return driver.Unknown
	}
	for dc, gc := range codeOf {
		if gc == c && driver.Code(dc) != driver.Unknown {
			return driver.Code(dc)
		}
	}
	return driver.Unknown
}

// Status converts err to the gRPC status a caller should see.
//
//   - nil gives an OK status.
//   - A *driver.Error anywhere in err's chain gives its code (see Code) and
//     its operation, collection and message, never the text of the error
//     it wraps (a database's own error). ResourceExhausted with a
//     RetryAfter carries an errdetails.RetryInfo detail.
//   - Unknown and Internal give codes.Internal and a fixed message.
//   - An error that is itself a gRPC status error (a handler's own) is
//     kept as it is.
//   - A context error gives Canceled or DeadlineExceeded.
//   - Anything else gives codes.Internal and a fixed message.
func Status(err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	var e *driver.Error
	if errors.As(err, &e) {
		return statusOf(e)
	}
	if se, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return se.GRPCStatus()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, context.Canceled.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	}
	return status.New(codes.Internal, internalMessage)
}

func statusOf(e *driver.Error) *status.Status {
	c := Code(e.Code)
	if c == codes.Internal {
		return status.New(c, internalMessage)
	}
	// The message of e without the error it wraps: e.Msg is written for
	// callers and never holds secrets, a database's error text may hold
	// anything.
	pub := *e
	pub.Err = nil
	if pub.RetryAfter > 0 { // whole seconds, rounded up, like the retry-after metadata
		pub.RetryAfter = (pub.RetryAfter + time.Second - 1).Truncate(time.Second)
	}
	st := status.New(c, pub.Error())
	if c == codes.ResourceExhausted && e.RetryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)}); err == nil {
			st = d
		}
	}
	return st
}

// Error is Status(err).Err(): nil for nil, a gRPC status error otherwise.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return Status(err).Err()
}

// RetryDelay returns the retry-after a status error carries in an
// errdetails.RetryInfo detail. Clients use it on ResourceExhausted.
func RetryDelay(err error) (time.Duration, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			if err := ri.GetRetryDelay().CheckValid(); err != nil {
				return 0, false
			}
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// retryAfterMD returns the retry-after metadata of st, nil when it carries
// no RetryInfo.
func retryAfterMD(st *status.Status) metadata.MD {
	if st.Code() != codes.ResourceExhausted {
		return nil
	}
	d, ok := RetryDelay(st.Err())
	if !ok || d <= 0 {
		return nil
	}
	secs := int64(math.Ceil(d.Seconds()))
	return metadata.Pairs(RetryAfterKey, strconv.FormatInt(secs, 10))
}

// Hook sees every error a handler returned, before it was converted, with
// the status the caller gets. Log the error there: for codes.Internal the
// caller learns nothing else.
type Hook func(ctx context.Context, err error, st *status.Status)

// Option configures the interceptors.
type Option func(*options)

type options struct {
	hook Hook
}

// WithHook installs a Hook.
func WithHook(h Hook) Option {
	return func(o *options) { o.hook = h }
}

func evaluate(opts []Option) *options {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	return o
}

// UnaryServerInterceptor returns a unary server interceptor that converts
// the errors of handlers with Status, and sets the retry-after header and
// trailer of ResourceExhausted errors.
func UnaryServerInterceptor(opts ...Option) grpc.UnaryServerInterceptor {
	o := evaluate(opts)
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		st := Status(err)
		if o.hook != nil {
			o.hook(ctx, err, st)
		}
		if md := retryAfterMD(st); md != nil {
			_ = grpc.SetHeader(ctx, md) // fails when the handler sent headers; the trailer still carries it
			_ = grpc.SetTrailer(ctx, md)
		}
		return nil, st.Err()
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams.
func StreamServerInterceptor(opts ...Option) grpc.StreamServerInterceptor {
	o := evaluate(opts)
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err == nil {
			return nil
		}
		st := Status(err)
		if o.hook != nil {
			o.hook(ss.Context(), err, st)
		}
		if md := retryAfterMD(st); md != nil {
			_ = ss.SetHeader(md)
			ss.SetTrailer(md)
		}
		return st.Err()
	}
}
