package milvus

import (
	"encoding/hex"
	"strconv"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Point IDs are stored in the VarChar primary key as sortable keys: "n"
// and 16 lowercase hex digits for a numeric ID, "u" and 32 for a UUID. Keys
// of one kind have one length, and 'n' < 'u', so the byte order of keys,
// which Milvus uses for key > {p} and for the order of limited queries, is
// PointID.Compare's order.
const keyLen = 33 // the longest key

// keyOf returns the sortable key of id.
func keyOf(id driver.PointID) string {
	if id.IsNum() {
		var b [17]byte
		b[0] = 'n'
		s := strconv.FormatUint(id.Num(), 16)
		for i := 1; i < 17-len(s); i++ {
			b[i] = '0'
		}
		copy(b[17-len(s):], s)
		return string(b[:])
	}
	var b [33]byte
	b[0] = 'u'
	u := id.UUIDBytes()
	hex.Encode(b[1:], u[:])
	return string(b[:])
}

var errBadKey = driver.Errorf(driver.DataLoss, "stored primary key is not a vecguard point key")

// parseKey is the inverse of keyOf.
func parseKey(s string) (driver.PointID, error) {
	bad := errBadKey
	switch {
	case len(s) == 17 && s[0] == 'n':
		if !lowerHex(s[1:]) {
			return driver.PointID{}, bad
		}
		n, err := strconv.ParseUint(s[1:], 16, 64)
		if err != nil {
			return driver.PointID{}, bad
		}
		return driver.NumID(n), nil
	case len(s) == 33 && s[0] == 'u':
		if !lowerHex(s[1:]) {
			return driver.PointID{}, bad
		}
		var u [16]byte
		if _, err := hex.Decode(u[:], []byte(s[1:])); err != nil {
			return driver.PointID{}, bad
		}
		return driver.UUIDFromBytes(u), nil
	}
	return driver.PointID{}, bad
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// keysOf returns the keys of ids.
func keysOf(ids []driver.PointID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = keyOf(id)
	}
	return out
}
