package driver_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

const uuidA = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want driver.PointID
		str  string // "" means in
		err  bool
	}{
		{in: "0", want: driver.NumID(0)},
		{in: "1", want: driver.NumID(1)},
		{in: "007", want: driver.NumID(7), str: "7"},
		{in: "18446744073709551615", want: driver.NumID(1<<64 - 1)},
		{in: "18446744073709551616", err: true},                                                 // 2^64
		{in: "99999999999999999999", err: true},                                                 // 20 digits, too big
		{in: "123456789012345678901", err: true},                                                // 21 digits: not a UUID either
		{in: uuidA, want: driver.MustParseUUID(uuidA)},                                          // canonical
		{in: strings.ToUpper(uuidA), want: driver.MustParseUUID(uuidA), str: uuidA},             // any case
		{in: strings.ReplaceAll(uuidA, "-", ""), want: driver.MustParseUUID(uuidA), str: uuidA}, // 32 hex digits
		{in: "00000000000000000000000000000000", want: driver.UUIDFromBytes([16]byte{}), str: "00000000-0000-0000-0000-000000000000"},
		{in: "", err: true},
		{in: "-1", err: true},
		{in: "+1", err: true},
		{in: " 1", err: true},
		{in: "1.0", err: true},
		{in: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f", err: true},    // 35 characters
		{in: "0a1b2c3d4e5f-6071-8293-a4b5c6d7e8f9-", err: true},   // dashes misplaced
		{in: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fg", err: true},   // not hex
		{in: "0a1b2c3d-4e5f-6071-8293+a4b5c6d7e8f9", err: true},   // wrong separator
		{in: "{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}", err: true}, // braces
		{in: "0a1b2c3d-4e5f-6071-8293--4b5c6d7e8f9", err: true},   // dash in a group
	} {
		got, err := driver.ParseID(tc.in)
		if tc.err {
			if err == nil || driver.CodeOf(err) != driver.InvalidArgument {
				t.Errorf("ParseID(%q) = %v, %v; want InvalidArgument", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseID(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			continue
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if got.String() != str {
			t.Errorf("ParseID(%q).String() = %q, want %q", tc.in, got.String(), str)
		}
	}
	if _, err := driver.ParseUUID("12"); err == nil {
		t.Error("ParseUUID accepted a number")
	}
}

func TestPointIDAccessors(t *testing.T) {
	var zero driver.PointID
	n := driver.NumID(42)
	u := driver.MustParseUUID(uuidA)
	if !zero.IsZero() || zero.IsNum() || zero.IsUUID() || zero.String() != "" {
		t.Error("zero ID")
	}
	if n.IsZero() || !n.IsNum() || n.IsUUID() || n.Num() != 42 || n.UUIDBytes() != [16]byte{} {
		t.Error("numeric ID")
	}
	if driver.NumID(0).IsZero() {
		t.Error("NumID(0) is a valid ID, not the zero ID")
	}
	b := u.UUIDBytes()
	if u.IsZero() || u.IsNum() || !u.IsUUID() || u.Num() != 0 || b[0] != 0x0a || b[15] != 0xf9 || driver.UUIDFromBytes(b) != u {
		t.Error("UUID ID")
	}
	for id, want := range map[driver.PointID]string{
		zero: "driver.PointID{}",
		n:    "driver.NumID(42)",
		u:    `driver.MustParseUUID("` + uuidA + `")`,
	} {
		if got := id.GoString(); got != want {
			t.Errorf("GoString = %s, want %s", got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseUUID did not panic on a bad UUID")
		}
	}()
	driver.MustParseUUID("nope")
}

func TestPointIDCompare(t *testing.T) {
	// In scroll order: the zero ID, numbers ascending, UUIDs by bytes.
	ordered := []driver.PointID{
		{},
		driver.NumID(0),
		driver.NumID(1),
		driver.NumID(2),
		driver.NumID(1<<63 + 5),
		driver.NumID(1<<64 - 1),
		driver.MustParseUUID("00000000-0000-0000-0000-000000000000"),
		driver.MustParseUUID("00000000-0000-0000-0000-000000000001"),
		driver.MustParseUUID("00000000-0000-0000-0000-000000000100"),
		driver.MustParseUUID("7fffffff-ffff-ffff-ffff-ffffffffffff"),
		driver.MustParseUUID("80000000-0000-0000-0000-000000000000"),
		driver.MustParseUUID("ffffffff-ffff-ffff-ffff-ffffffffffff"),
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%#v.Compare(%#v) = %d, want %d", a, b, got, want)
			}
		}
	}
	shuffled := slices.Clone(ordered)
	slices.Reverse(shuffled)
	shuffled[2], shuffled[7] = shuffled[7], shuffled[2]
	driver.SortIDs(shuffled)
	if !slices.Equal(shuffled, ordered) {
		t.Errorf("SortIDs: %v", shuffled)
	}
}

func TestPointIDText(t *testing.T) {
	for _, id := range []driver.PointID{driver.NumID(0), driver.NumID(1<<64 - 1), driver.MustParseUUID(uuidA)} {
		b, err := id.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back driver.PointID
		if err := back.UnmarshalText(b); err != nil || back != id {
			t.Errorf("text round trip of %v: %v, %v", id, back, err)
		}
		// Through encoding/json, as a value and as a map key.
		j, err := json.Marshal(map[driver.PointID]driver.PointID{id: id})
		if err != nil {
			t.Fatal(err)
		}
		var m map[driver.PointID]driver.PointID
		if err := json.Unmarshal(j, &m); err != nil || m[id] != id {
			t.Errorf("JSON round trip of %v: %s, %v", id, j, err)
		}
	}
	if _, err := (driver.PointID{}).MarshalText(); driver.CodeOf(err) != driver.InvalidArgument {
		t.Errorf("MarshalText of the zero ID: %v", err)
	}
	var id driver.PointID
	if err := id.UnmarshalText([]byte("x")); err == nil || !id.IsZero() {
		t.Error("UnmarshalText accepted garbage or changed the ID")
	}
}

// FuzzParseID checks that ParseID never panics and that what it accepts
// round-trips through String and text marshalling, and agrees with
// strconv.ParseUint and ParseUUID.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"0", "42", "18446744073709551615", "18446744073709551616", uuidA,
		strings.ToUpper(uuidA), strings.ReplaceAll(uuidA, "-", ""), "", "-", "x", "0x10", strings.Repeat("0", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := driver.ParseID(s)
		n, nerr := strconv.ParseUint(s, 10, 64)
		digits := s != "" && strings.Trim(s, "0123456789") == ""
		if err != nil {
			if driver.CodeOf(err) != driver.InvalidArgument {
				t.Fatalf("ParseID(%q): %v, want InvalidArgument", s, err)
			}
			if nerr == nil && len(s) <= 20 {
				t.Fatalf("ParseID(%q) refused a uint64", s)
			}
			if _, uerr := driver.ParseUUID(s); uerr == nil && !digits {
				t.Fatalf("ParseID(%q) refused a UUID ParseUUID accepts", s)
			}
			return
		}
		if id.IsZero() {
			t.Fatalf("ParseID(%q) returned the zero ID", s)
		}
		// Up to 20 digits is a number; 32 digits is a UUID's hex.
		if id.IsNum() != (nerr == nil && len(s) <= 20) || id.IsNum() && id.Num() != n {
			t.Fatalf("ParseID(%q) = %#v, ParseUint: %d, %v", s, id, n, nerr)
		}
		if id.IsUUID() {
			u, uerr := driver.ParseUUID(s)
			if uerr != nil || u != id || strings.ReplaceAll(id.String(), "-", "") != strings.ToLower(strings.ReplaceAll(s, "-", "")) {
				t.Fatalf("ParseID(%q) = %v disagrees with ParseUUID: %v, %v", s, id, u, uerr)
			}
		}
		back, err := driver.ParseID(id.String())
		if err != nil || back != id || back.Compare(id) != 0 {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
		b, err := id.MarshalText()
		var txt driver.PointID
		if err != nil || txt.UnmarshalText(b) != nil || txt != id {
			t.Fatalf("text round trip of %q", s)
		}
	})
}
