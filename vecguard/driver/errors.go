package driver

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Code classifies an error. The set is small on purpose: callers branch on
// it with errors.Is against the sentinels of package vecguard.
type Code uint8

// The error codes. They follow gRPC's codes where one exists.
const (
	Unknown Code = iota
	Canceled
	DeadlineExceeded
	InvalidArgument
	NotFound
	AlreadyExists
	PermissionDenied
	Unauthenticated
	ResourceExhausted
	FailedPrecondition
	Unavailable
	DataLoss
	Internal
	Unimplemented
)

var codeNames = [...]string{
	Unknown:            "unknown",
	Canceled:           "canceled",
	DeadlineExceeded:   "deadline exceeded",
	InvalidArgument:    "invalid argument",
	NotFound:           "not found",
	AlreadyExists:      "already exists",
	PermissionDenied:   "permission denied",
	Unauthenticated:    "unauthenticated",
	ResourceExhausted:  "resource exhausted",
	FailedPrecondition: "failed precondition",
	Unavailable:        "unavailable",
	DataLoss:           "data loss",
	Internal:           "internal",
	Unimplemented:      "unimplemented",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", c)
}

// Error is the error type of vecguard and its drivers. Message text never
// contains vectors, key material, tokens or payload values: callers that build
// an Error must keep it so.
type Error struct {
	Code       Code
	Op         string        // the operation, e.g. "search"; set by the client
	Collection string        // the collection, when there is one
	Msg        string        // what went wrong, for a human
	RetryAfter time.Duration // with ResourceExhausted: when to try again
	Err        error         // the underlying error, if any
}

// Errorf returns an *Error with the given code and formatted message. Never
// format vectors, keys or payload values into it.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code that wraps err.
func Wrap(code Code, err error, msg string) *Error {
	return &Error{Code: code, Msg: msg, Err: err}
}

func (e *Error) Error() string {
	s := "vecguard: "
	if e.Op != "" {
		s += e.Op
		if e.Collection != "" {
			s += " " + e.Collection
		}
		s += ": "
	}
	s += e.Code.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code and no other
// fields set, i.e. one of the sentinels. This makes errors.Is(err,
// vecguard.ErrNotFound) work through any wrapping.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Msg == "" && t.Err == nil && t.Op == "" && t.Collection == ""
}

// CodeOf returns the code of err: the code of the first *Error in its chain,
// Canceled or DeadlineExceeded for context errors, OK-less Unknown otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return Unknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// ErrorClassifier is an optional interface of a Driver: it classifies the raw
// errors its methods return. Without it, only *Error values and context
// errors are classified; everything else is Unknown.
type ErrorClassifier interface {
	ErrorCode(err error) Code
}
