package driver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *driver.Error
		want string
	}{
		{driver.Errorf(driver.NotFound, "collection %q", "a"), `vecguard: not found: collection "a"`},
		{&driver.Error{Code: driver.InvalidArgument}, "vecguard: invalid argument"},
		{&driver.Error{Code: driver.NotFound, Op: "search", Collection: "docs", Msg: "gone"}, "vecguard: search docs: not found: gone"},
		{&driver.Error{Code: driver.Internal, Op: "list_collections"}, "vecguard: list_collections: internal"},
		{&driver.Error{Code: driver.ResourceExhausted, RetryAfter: 2 * time.Second, Msg: "slow down"}, "vecguard: resource exhausted: slow down (retry after 2s)"},
		{driver.Wrap(driver.Unavailable, io.EOF, "reading"), "vecguard: unavailable: reading: EOF"},
		{&driver.Error{Code: driver.Code(200)}, "vecguard: code(200)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	for c := driver.Unknown; c <= driver.Unimplemented; c++ {
		if s := c.String(); s == "" || s[:4] == "code" {
			t.Errorf("code %d has no name", c)
		}
	}
}

func TestErrorIsAndCodeOf(t *testing.T) {
	sentinel := &driver.Error{Code: driver.NotFound}
	e := &driver.Error{Code: driver.NotFound, Op: "get", Collection: "c", Msg: "m", Err: io.EOF}
	wrapped := fmt.Errorf("outer: %w", e)
	if !errors.Is(wrapped, sentinel) {
		t.Error("errors.Is does not find the sentinel through wrapping")
	}
	if errors.Is(wrapped, &driver.Error{Code: driver.Internal}) {
		t.Error("errors.Is matched another code")
	}
	if errors.Is(wrapped, &driver.Error{Code: driver.NotFound, Msg: "m"}) {
		t.Error("a non-sentinel target matched")
	}
	if !errors.Is(wrapped, io.EOF) {
		t.Error("Unwrap does not reach the cause")
	}
	var got *driver.Error
	if !errors.As(wrapped, &got) || got != e {
		t.Error("errors.As")
	}
	for _, tc := range []struct {
		err  error
		want driver.Code
	}{
		{nil, driver.Unknown},
		{io.EOF, driver.Unknown},
		{wrapped, driver.NotFound},
		{context.Canceled, driver.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), driver.DeadlineExceeded},
		// The first *Error in the chain wins over a context error below it.
		{driver.Wrap(driver.Unavailable, context.Canceled, "m"), driver.Unavailable},
	} {
		if got := driver.CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
