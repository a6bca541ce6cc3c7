// Package grpcerr turns vecguard errors into gRPC status errors, so that a
// service built on the guarded client answers with the right status codes
// and never leaks what a database said.
//
// Install its interceptors closest to the handlers, after authentication:
//
//	grpc.NewServer(
//		grpc.ChainUnaryInterceptor(
//			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(a), grpcauth.NotHealthCheck),
//			grpcerr.UnaryServerInterceptor(grpcerr.WithHook(logInternal)),
//		),
//	)
//
// or call Error in a handler.
//
// # Codes
//
// Each vecguard code maps to the gRPC code of the same name:
// PermissionDenied, Unauthenticated, NotFound, InvalidArgument,
// AlreadyExists, ResourceExhausted, FailedPrecondition, Unavailable,
// DataLoss, Canceled, DeadlineExceeded, Unimplemented. Unknown and Internal
// become codes.Internal.
//
// # Retry-after
//
// A ResourceExhausted error with a RetryAfter (a spent budget) carries it
// twice: as an errdetails.RetryInfo detail of the status (RetryDelay reads
// it back) and, from the interceptors, as "retry-after" response metadata
// in whole seconds, rounded up — in the header when headers were not sent
// yet, and always in the trailer. The status message names it in whole
// seconds too.
//
// # Errors
//
// The status message of a vecguard error is its operation, collection,
// code and message, which never hold vectors, keys, tokens or payload
// values; the error it wraps (a database's own error text) is left out.
// Internal errors and errors of unknown origin get a fixed message; a Hook
// sees the original error to log it. A handler's own status error is kept.
package grpcerr
