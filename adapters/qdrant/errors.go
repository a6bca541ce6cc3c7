package qdrant

import (
	"context"
	"errors"
	"strings"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// ErrorCode implements driver.ErrorClassifier: it classifies the gRPC status
// errors of Qdrant and the go-client's errors.
func (d *Driver) ErrorCode(err error) driver.Code { return errorCode(err) }

func errorCode(err error) driver.Code {
	if err == nil {
		return driver.Unknown
	}
	var rl *qc.QdrantResourceExhaustedError
	if errors.As(err, &rl) {
		return driver.ResourceExhausted
	}
	switch {
	case errors.Is(err, context.Canceled):
		return driver.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return driver.DeadlineExceeded
	}
	st, ok := status.FromError(err)
	if !ok {
		return driver.Unknown
	}
	if c := st.Code(); c == codes.InvalidArgument && strings.Contains(st.Message(), "already exists") {
		// Qdrant before 1.8 reported an existing collection this way.
		return driver.AlreadyExists
	}
	return grpcerr.FromCode(st.Code())
}

// fail prepares an error from the go-client or the server for the guarded
// client. Rate limiting (ResourceExhausted with a retry-after trailer,
// which the go-client turns into *qdrant.QdrantResourceExhaustedError)
// becomes a *driver.Error that carries the retry-after; everything else is
// returned as it is, for ErrorCode to classify.
func fail(err error) error {
	if err == nil {
		return nil
	}
	var rl *qc.QdrantResourceExhaustedError
	if errors.As(err, &rl) {
		return &driver.Error{
			Code:       driver.ResourceExhausted,
			Msg:        "qdrant is rate limiting requests",
			RetryAfter: time.Duration(rl.RetryAfterS) * time.Second,
			Err:        err,
		}
	}
	return err
}
