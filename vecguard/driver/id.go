package driver

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

type idKind uint8

const (
	idNone idKind = iota
	idNum
	idUUID
)

// PointID identifies a point: an unsigned 64-bit integer or a UUID. The zero
// value is not a valid ID. PointID is comparable and may be used as a map key.
type PointID struct {
	kind idKind
	num  uint64
	uuid [16]byte
}

// NumID returns the numeric point ID n.
func NumID(n uint64) PointID { return PointID{kind: idNum, num: n} }

// ParseUUID parses a UUID in its canonical 36-character form (any case) or as
// 32 hex digits and returns it as a point ID.
func ParseUUID(s string) (PointID, error) {
	var raw string
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return PointID{}, Errorf(InvalidArgument, "malformed UUID point ID")
		}
		raw = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	case 32:
		raw = s
	default:
		return PointID{}, Errorf(InvalidArgument, "malformed UUID point ID")
	}
	var id PointID
	if _, err := hex.Decode(id.uuid[:], []byte(raw)); err != nil {
		return PointID{}, Errorf(InvalidArgument, "malformed UUID point ID")
	}
	id.kind = idUUID
	return id, nil
}

// UUIDFromBytes returns the UUID point ID with the given 16 bytes.
func UUIDFromBytes(b [16]byte) PointID { return PointID{kind: idUUID, uuid: b} }

// ParseID parses the output of PointID.String: a decimal number or a UUID.
func ParseID(s string) (PointID, error) {
	if s == "" {
		return PointID{}, Errorf(InvalidArgument, "empty point ID")
	}
	if len(s) <= 20 && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return PointID{}, Errorf(InvalidArgument, "point ID out of range")
		}
		return NumID(n), nil
	}
	return ParseUUID(s)
}

// IsZero reports whether id is the zero (invalid) ID.
func (id PointID) IsZero() bool { return id.kind == idNone }

// IsNum reports whether id is numeric.
func (id PointID) IsNum() bool { return id.kind == idNum }

// IsUUID reports whether id is a UUID.
func (id PointID) IsUUID() bool { return id.kind == idUUID }

// Num returns the numeric value of a numeric ID (0 otherwise).
func (id PointID) Num() uint64 { return id.num }

// UUIDBytes returns the bytes of a UUID ID (zero otherwise).
func (id PointID) UUIDBytes() [16]byte { return id.uuid }

// String returns the decimal form of a numeric ID, the canonical lowercase
// form of a UUID, or "" for the zero ID.
func (id PointID) String() string {
	switch id.kind {
	case idNum:
		return strconv.FormatUint(id.num, 10)
	case idUUID:
		var b [36]byte
		hex.Encode(b[0:8], id.uuid[0:4])
		b[8] = '-'
		hex.Encode(b[9:13], id.uuid[4:6])
		b[13] = '-'
		hex.Encode(b[14:18], id.uuid[6:8])
		b[18] = '-'
		hex.Encode(b[19:23], id.uuid[8:10])
		b[23] = '-'
		hex.Encode(b[24:36], id.uuid[10:16])
		return string(b[:])
	}
	return ""
}

// GoString implements fmt.GoStringer.
func (id PointID) GoString() string {
	switch id.kind {
	case idNum:
		return fmt.Sprintf("driver.NumID(%d)", id.num)
	case idUUID:
		return fmt.Sprintf("driver.MustParseUUID(%q)", id.String())
	}
	return "driver.PointID{}"
}

// MustParseUUID is ParseUUID for constants; it panics on malformed input.
func MustParseUUID(s string) PointID {
	id, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// Compare orders IDs as scroll does: numeric IDs ascending, then UUIDs in
// byte order. It returns -1, 0 or +1.
func (id PointID) Compare(o PointID) int {
	if id.kind != o.kind {
		if id.kind < o.kind {
			return -1
		}
		return 1
	}
	switch id.kind {
	case idNum:
		switch {
		case id.num < o.num:
			return -1
		case id.num > o.num:
			return 1
		}
		return 0
	case idUUID:
		for i := range id.uuid {
			if id.uuid[i] != o.uuid[i] {
				if id.uuid[i] < o.uuid[i] {
					return -1
				}
				return 1
			}
		}
	}
	return 0
}

// MarshalText implements encoding.TextMarshaler.
func (id PointID) MarshalText() ([]byte, error) {
	if id.IsZero() {
		return nil, Errorf(InvalidArgument, "empty point ID")
	}
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *PointID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
