package weaviate

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Weaviate objects have UUIDs only. A numeric point ID n is stored under the
// UUID numericPrefix ‖ n (8 bytes, big-endian), e.g. NumID(5) is
// 00000000-7667-8000-0000-000000000005. The range starts with four zero
// bytes, so in Weaviate's own UUID order numeric points come before almost
// every random UUID; UUID points that fall inside the range are refused (they
// would share an object with a numeric point).
//
// Every object also carries its point ID as a sortable text property
// (propKey): "n" + 16 hex digits for numeric IDs and "u" + 32 hex digits for
// UUIDs. Its byte order is the scroll order of the design (numeric IDs
// ascending, then UUIDs by bytes), so scrolls sort and resume on it, and ID
// filters match on it: reads return exactly the kind of ID that was written.
var numericPrefix = [8]byte{0x00, 0x00, 0x00, 0x00, 0x76, 0x67, 0x80, 0x00}

// objectUUID returns the Weaviate UUID of a point ID.
func objectUUID(id driver.PointID) [16]byte {
	if id.IsNum() {
		var u [16]byte
		copy(u[:8], numericPrefix[:])
		binary.BigEndian.PutUint64(u[8:], id.Num())
		return u
	}
	return id.UUIDBytes()
}

// reservedUUID reports whether a UUID point ID falls in the numeric range.
func reservedUUID(id driver.PointID) bool {
	if !id.IsUUID() {
		return false
	}
	u := id.UUIDBytes()
	return [8]byte(u[:8]) == numericPrefix
}

// objectID returns the canonical text form of a point's Weaviate UUID.
func objectID(id driver.PointID) string {
	return driver.UUIDFromBytes(objectUUID(id)).String()
}

// idKey returns the sortable key of a point ID.
func idKey(id driver.PointID) string {
	switch {
	case id.IsNum():
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], id.Num())
		return "n" + hex.EncodeToString(b[:])
	case id.IsUUID():
		u := id.UUIDBytes()
		return "u" + hex.EncodeToString(u[:])
	}
	return ""
}

// parseKey reverses idKey.
func parseKey(s string) (driver.PointID, bool) {
	if len(s) < 1 {
		return driver.PointID{}, false
	}
	switch {
	case s[0] == 'n' && len(s) == 17:
		var b [8]byte
		if !decodeLowerHex(b[:], s[1:]) {
			return driver.PointID{}, false
		}
		return driver.NumID(binary.BigEndian.Uint64(b[:])), true
	case s[0] == 'u' && len(s) == 33:
		var u [16]byte
		if !decodeLowerHex(u[:], s[1:]) {
			return driver.PointID{}, false
		}
		return driver.UUIDFromBytes(u), true
	}
	return driver.PointID{}, false
}

// decodeLowerHex decodes lowercase hex only, so that every ID has exactly
// one key.
func decodeLowerHex(dst []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// pointIDFromUUID maps a Weaviate UUID back to a point ID (used only when an
// object lacks its key property).
func pointIDFromUUID(s string) (driver.PointID, bool) {
	id, err := driver.ParseUUID(s)
	if err != nil {
		return driver.PointID{}, false
	}
	if reservedUUID(id) {
		u := id.UUIDBytes()
		return driver.NumID(binary.BigEndian.Uint64(u[8:])), true
	}
	return id, true
}
