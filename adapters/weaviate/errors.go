package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors. Every error the driver returns is a *driver.Error with a code
// (errors.Is against vecguard's sentinels works). Weaviate's messages can
// quote property values and filter operands, so the text of a server error
// is kept only for schema operations (it names classes and properties);
// data operations report the operation and the HTTP status or gRPC code.

// ErrorCode implements driver.ErrorClassifier for raw errors of the Weaviate
// client and of gRPC.
func (d *Driver) ErrorCode(err error) driver.Code { return classify(err) }

func classify(err error) driver.Code {
	if err == nil {
		return driver.Unknown
	}
	var de *driver.Error
	if errors.As(err, &de) {
		return de.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return driver.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return driver.DeadlineExceeded
	}
	var we *fault.WeaviateClientError
	if errors.As(err, &we) {
		if !we.IsUnexpectedStatusCode {
			if we.DerivedFromError != nil {
				if c := classify(we.DerivedFromError); c != driver.Unknown {
					return c
				}
			}
			return driver.Unavailable
		}
		return httpCode(we.StatusCode, serverMessage(we))
	}
	if s, ok := status.FromError(err); ok {
		return grpcCode(s.Code(), s.Message())
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return driver.Unavailable
	}
	return driver.Unknown
}

func httpCode(status int, msg string) driver.Code {
	lower := strings.ToLower(msg)
	switch {
	case status == 400:
		return driver.InvalidArgument
	case status == 401:
		return driver.Unauthenticated
	case status == 403:
		return driver.PermissionDenied
	case status == 404:
		return driver.NotFound
	case status == 409:
		return driver.AlreadyExists
	case status == 422:
		if strings.Contains(lower, "already exists") {
			return driver.AlreadyExists
		}
		if notFoundText(lower) {
			return driver.NotFound
		}
		return driver.InvalidArgument
	case status == 429:
		return driver.ResourceExhausted
	case status == 501:
		return driver.Unimplemented
	case status == 502, status == 503, status == 504:
		return driver.Unavailable
	case status >= 500:
		return driver.Internal
	}
	return driver.Unknown
}

func grpcCode(c codes.Code, msg string) driver.Code {
	lower := strings.ToLower(msg)
	if c := grpcerr.FromCode(c); c != driver.Unknown {
		return c
	}
	if c == codes.Unknown && notFoundText(lower) {
		// Weaviate reports most failures as Unknown with a message.
		return driver.NotFound
	}
	return driver.Unknown
}

func notFoundText(lower string) bool {
	return strings.Contains(lower, "could not find class") || strings.Contains(lower, "not found") ||
		strings.Contains(lower, "does not exist")
}

// tenantMissing reports whether err says that a tenant does not exist (yet):
// with native multi-tenancy a tenant is created by its first write, so
// reading one that was never written is an empty result.
func tenantMissing(err error) bool {
	msg := ""
	if s, ok := status.FromError(err); ok {
		msg = s.Message()
	} else {
		var we *fault.WeaviateClientError
		if !errors.As(err, &we) {
			return false
		}
		msg = serverMessage(we)
	}
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "tenant") && (strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist"))
}

// serverMessage extracts the message of a REST error body.
func serverMessage(we *fault.WeaviateClientError) string {
	var body struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(we.Msg), &body) == nil && len(body.Error) > 0 {
		msgs := make([]string, len(body.Error))
		for i, e := range body.Error {
			msgs[i] = e.Message
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimSpace(we.Msg)
}

// wrap turns an error of a Weaviate call into a *driver.Error. detail keeps
// the server's message (schema operations only).
func (d *Driver) wrap(ctx context.Context, op string, err error, detail bool) error {
	if err == nil {
		return nil
	}
	var de *driver.Error
	if errors.As(err, &de) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		code := driver.Canceled
		if errors.Is(cerr, context.DeadlineExceeded) {
			code = driver.DeadlineExceeded
		}
		return driver.Wrap(code, cerr, "weaviate: "+op)
	}
	code := classify(err)
	msg := "weaviate: " + op
	var we *fault.WeaviateClientError
	switch {
	case errors.As(err, &we):
		if we.IsUnexpectedStatusCode {
			msg += fmt.Sprintf(": HTTP %d", we.StatusCode)
			if detail {
				if m := serverMessage(we); m != "" {
					msg += ": " + m
				}
			}
		} else {
			msg += ": server unreachable"
		}
	default:
		if s, ok := status.FromError(err); ok {
			msg += ": gRPC " + s.Code().String()
			if detail && s.Message() != "" {
				msg += ": " + s.Message()
			}
		}
	}
	return driver.Errorf(code, "%s", msg)
}
