package qdranttest

import (
	"encoding/hex"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pid is a stored point ID. Qdrant orders IDs as its ExtendedPointId enum
// does: every numeric ID before every UUID, UUIDs by their bytes.
type pid struct {
	isUUID bool
	num    uint64
	uuid   [16]byte
}

func (a pid) compare(b pid) int {
	if a.isUUID != b.isUUID {
		if !a.isUUID {
			return -1
		}
		return 1
	}
	if !a.isUUID {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	}
	return strings.Compare(string(a.uuid[:]), string(b.uuid[:]))
}

func (a pid) proto() *qdrant.PointId {
	if !a.isUUID {
		return qdrant.NewIDNum(a.num)
	}
	var b [36]byte
	hex.Encode(b[0:8], a.uuid[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], a.uuid[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], a.uuid[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], a.uuid[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], a.uuid[10:16])
	return qdrant.NewIDUUID(string(b[:]))
}

// parseID converts a request's point ID. Like Qdrant (Rust's uuid crate) it
// accepts the hyphenated, simple, braced and URN forms of a UUID. Errors
// never repeat the input.
func parseID(p *qdrant.PointId) (pid, error) {
	if p == nil {
		return pid{}, status.Error(codes.InvalidArgument, "Wrong input: empty point ID")
	}
	switch v := p.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return pid{num: v.Num}, nil
	case *qdrant.PointId_Uuid:
		u, ok := parseUUID(v.Uuid)
		if !ok {
			return pid{}, status.Error(codes.InvalidArgument, "Unable to parse UUID")
		}
		return pid{isUUID: true, uuid: u}, nil
	}
	return pid{}, status.Error(codes.InvalidArgument, "Wrong input: empty point ID")
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	s = strings.TrimPrefix(s, "urn:uuid:")
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	var raw string
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, false
		}
		raw = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	case 32:
		raw = s
	default:
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(raw)); err != nil {
		return u, false
	}
	return u, true
}

func parseIDs(ps []*qdrant.PointId) ([]pid, error) {
	out := make([]pid, 0, len(ps))
	for _, p := range ps {
		id, err := parseID(p)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}
