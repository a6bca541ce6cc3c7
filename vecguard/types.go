package vecguard

import (
	"context"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The data model, shared with drivers (package driver defines it so that
// drivers need not import this package).
type (
	// PointID identifies a point: a uint64 or a UUID.
	PointID = driver.PointID
	// Point is an ID, named vectors and a payload.
	Point = driver.Point
	// ScoredPoint is a search result.
	ScoredPoint = driver.ScoredPoint
	// CollectionSpec declares a collection's vectors, fields and tenant field.
	CollectionSpec = driver.CollectionSpec
	// VectorSpec declares a named dense vector.
	VectorSpec = driver.VectorSpec
	// FieldSpec declares a payload field.
	FieldSpec = driver.FieldSpec
	// Distance is a vector similarity metric.
	Distance = driver.Distance
	// Kind is a payload field's type.
	Kind = driver.Kind
	// Filter is a node of the neutral filter language; nil matches all.
	Filter = driver.Filter
	// Value is a typed filter value.
	Value = driver.Value
	// Error is the error type of vecguard.
	Error = driver.Error
	// Code classifies errors.
	Code = driver.Code
	// Principal is the caller an operation runs for.
	Principal = authz.Principal
)

// Distance metrics.
const (
	Cosine = driver.Cosine
	Dot    = driver.Dot
	Euclid = driver.Euclid
)

// Field kinds.
const (
	KindString = driver.KindString
	KindInt    = driver.KindInt
	KindFloat  = driver.KindFloat
	KindBool   = driver.KindBool
)

// NumID returns a numeric point ID.
func NumID(n uint64) PointID { return driver.NumID(n) }

// ParseUUID parses a UUID point ID.
func ParseUUID(s string) (PointID, error) { return driver.ParseUUID(s) }

// WithPrincipal returns a context carrying a copy of p. Every operation of
// the Client reads the principal from its context.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return authz.NewContext(ctx, p)
}

// PrincipalFrom returns the principal carried by ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := authz.FromContext(ctx)
	if !ok {
		return Principal{}, false
	}
	return *p.Clone(), true
}

// The sentinel errors. Test with errors.Is; use errors.As with *Error for
// the operation, collection and retry-after.
var (
	ErrInvalidArgument    = &Error{Code: driver.InvalidArgument}
	ErrNotFound           = &Error{Code: driver.NotFound}
	ErrAlreadyExists      = &Error{Code: driver.AlreadyExists}
	ErrPermissionDenied   = &Error{Code: driver.PermissionDenied}
	ErrUnauthenticated    = &Error{Code: driver.Unauthenticated}
	ErrResourceExhausted  = &Error{Code: driver.ResourceExhausted}
	ErrFailedPrecondition = &Error{Code: driver.FailedPrecondition}
	ErrUnavailable        = &Error{Code: driver.Unavailable}
	ErrDataLoss           = &Error{Code: driver.DataLoss}
	ErrInternal           = &Error{Code: driver.Internal}
	ErrUnimplemented      = &Error{Code: driver.Unimplemented}
	ErrCanceled           = &Error{Code: driver.Canceled}
	ErrDeadlineExceeded   = &Error{Code: driver.DeadlineExceeded}
)

// Filter constructors (see package driver for their exact semantics).
var (
	And    = driver.And
	Or     = driver.Or
	Not    = driver.Not
	Eq     = driver.Eq
	Ne     = driver.Ne
	In     = driver.In
	NotIn  = driver.NotIn
	Gt     = driver.Gt
	Gte    = driver.Gte
	Lt     = driver.Lt
	Lte    = driver.Lte
	Range  = driver.Range
	Exists = driver.Exists
	IsNull = driver.IsNull
	HasID  = driver.HasID
	String = driver.String
	Int    = driver.Int
	Float  = driver.Float
	Bool   = driver.Bool
)
