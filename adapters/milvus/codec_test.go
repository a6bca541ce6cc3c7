package milvus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/driver"
)

func TestKeys(t *testing.T) {
	ids := []driver.PointID{
		driver.NumID(0), driver.NumID(1), driver.NumID(15), driver.NumID(16), driver.NumID(1 << 32),
		driver.NumID(1<<53 + 1), driver.NumID(1 << 63), driver.NumID(math.MaxUint64),
		driver.MustParseUUID("00000000-0000-0000-0000-000000000000"),
		driver.MustParseUUID("00000001-0000-4000-8000-000000000000"),
		driver.MustParseUUID("0a2b6d1e-3c4a-4b5d-9e6f-0a1b2c3d4e5f"),
		driver.MustParseUUID("ffffffff-ffff-ffff-ffff-ffffffffffff"),
	}
	keys := keysOf(ids)
	if !slices.IsSorted(keys) {
		t.Errorf("keys of IDs in scroll order are not sorted: %q", keys)
	}
	for i, k := range keys {
		if len(k) > keyLen {
			t.Errorf("key %q longer than %d", k, keyLen)
		}
		id, err := parseKey(k)
		if err != nil || id != ids[i] {
			t.Errorf("parseKey(%q) = %v, %v; want %v", k, id, err, ids[i])
		}
	}
	if keys[0] != "n0000000000000000" || keys[len(keys)-1] != "uffffffffffffffffffffffffffffffff" {
		t.Errorf("unexpected key forms %q, %q", keys[0], keys[len(keys)-1])
	}
	for _, bad := range []string{"", "n", "n000000000000000g", "N0000000000000000", "n00000000000000000", "u0000", "x0000000000000000", "nFFFFFFFFFFFFFFFF"} {
		if _, err := parseKey(bad); !errors.Is(err, &driver.Error{Code: driver.DataLoss}) {
			t.Errorf("parseKey(%q): %v, want DataLoss", bad, err)
		}
	}
}

// FuzzKeys checks that key order is PointID order and that parseKey only
// accepts what keyOf writes.
func FuzzKeys(f *testing.F) {
	f.Add(uint64(1), uint64(2), []byte("0123456789abcdef"), "n0000000000000001")
	f.Add(uint64(math.MaxUint64), uint64(0), []byte{}, "u0a2b6d1e3c4a4b5d9e6f0a1b2c3d4e5f")
	f.Fuzz(func(t *testing.T, a, b uint64, u []byte, s string) {
		var ub [16]byte
		copy(ub[:], u)
		ids := []driver.PointID{driver.NumID(a), driver.NumID(b), driver.UUIDFromBytes(ub)}
		for _, x := range ids {
			for _, y := range ids {
				if got, want := strings.Compare(keyOf(x), keyOf(y)), x.Compare(y); got != want {
					t.Fatalf("keys of %v and %v compare %d, IDs %d", x, y, got, want)
				}
			}
		}
		if id, err := parseKey(s); err == nil && keyOf(id) != s {
			t.Fatalf("parseKey(%q) accepted a key keyOf writes as %q", s, keyOf(id))
		}
	})
}

func TestJSON(t *testing.T) {
	in := map[string]any{
		"int": int64(42), "neg": int64(math.MinInt64), "max": int64(math.MaxInt64),
		"whole": 2.0, "frac": -0.125, "tiny": 1e-300, "huge": 1e308, "negzero": math.Copysign(0, -1),
		"s": "héllo \"quoted\" \\ <tag> \x00", "t": true, "f": false, "null": nil,
		"list":  []any{int64(1), "two", 3.5, true, nil, []any{int64(4)}, map[string]any{"five": int64(5)}},
		"empty": []any{}, "obj": map[string]any{}, "ключ": "unicode", "quote\"key": "q",
	}
	b, err := appendJSON(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeJSON(b)
	if err != nil {
		t.Fatalf("decodeJSON(%s): %v", b, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %#v\nwant %#v", out, in)
	}
	if _, err := appendJSON(nil, map[string]any{"bad": "\xff"}); !errors.Is(err, &driver.Error{Code: driver.InvalidArgument}) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	for _, bad := range []string{"", "{", `{"a":1}x`, `{"a":1} {}`, "nul"} {
		if _, err := decodeJSON([]byte(bad)); err == nil {
			t.Errorf("decodeJSON(%q) accepted", bad)
		}
	}
}

// FuzzDecodeJSON checks that the payload decoder never panics and that
// what it decodes encodes back to something it decodes the same way.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":2.0,"c":[1,"x",null,{"d":false}],"e":1e400}`))
	f.Add([]byte(`{"n":12345678901234567890123}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeJSON(b)
		if err != nil {
			return
		}
		if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			return
		}
		again, err := appendJSON(nil, v)
		if err != nil {
			return // e.g. infinities nested deeper, or invalid UTF-8 the decoder replaced
		}
		w, err := decodeJSON(again)
		if err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("%s decoded to %#v, re-encoded as %s, decoded to %#v (%v)", b, v, again, w, err)
		}
	})
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want driver.Code
	}{
		{driver.Errorf(driver.AlreadyExists, "x"), driver.AlreadyExists},
		{context.Canceled, driver.Canceled},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), driver.DeadlineExceeded},
		{status.Error(codes.Canceled, "x"), driver.Canceled},
		{status.Error(codes.DeadlineExceeded, "x"), driver.DeadlineExceeded},
		{status.Error(codes.Unavailable, "x"), driver.Unavailable},
		{status.Error(codes.Unauthenticated, "x"), driver.Unauthenticated},
		{merr.WrapErrCollectionNotFound("c"), driver.NotFound},
		{merr.Error(merr.Status(merr.WrapErrCollectionNotFound("c"))), driver.NotFound},
		{merr.Error(merr.Status(merr.WrapErrCollectionNotLoaded("c"))), driver.FailedPrecondition},
		{merr.Error(merr.Status(merr.WrapErrParameterInvalidMsg("bad"))), driver.InvalidArgument},
		{merr.Error(merr.Status(merr.WrapErrPrivilegeNotPermitted("no"))), driver.PermissionDenied},
		{merr.Error(merr.Status(merr.WrapErrServiceRateLimit(10))), driver.ResourceExhausted},
		{merr.Error(merr.Status(merr.WrapErrServiceNotReady("proxy", 1, "init"))), driver.Unavailable},
		{errors.New("something else"), driver.Unknown},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	if !notLoaded(merr.Error(merr.Status(merr.WrapErrCollectionNotLoaded("c")))) || notLoaded(merr.WrapErrCollectionNotFound("c")) {
		t.Error("notLoaded")
	}
}
