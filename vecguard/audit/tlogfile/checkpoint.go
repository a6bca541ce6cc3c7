package tlogfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a signed statement of a log's size and Merkle root, in the
// C2SP tlog-checkpoint text form (origin, size, base64 root hash) signed as
// a note (golang.org/x/mod/sumdb/note, Ed25519).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Signed is the whole signed note; keep it to verify the log later
	// against this checkpoint (see VerifyOptions.Known).
	Signed []byte
}

// MaxCheckpointSize bounds a signed checkpoint note.
const MaxCheckpointSize = 4096

// GenerateKey returns a new Ed25519 signer key and its verifier key in the
// note encoding, for a log named name (a non-empty string without spaces or
// '+'). Keep the signer key secret; publish the verifier key.
func GenerateKey(name string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, name)
}

// VerifierKey derives the verifier key of an Ed25519 signer key.
func VerifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("tlogfile: malformed signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("tlogfile: malformed or non-Ed25519 signer key")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	return note.NewEd25519VerifierKey(parts[2], priv.Public().(ed25519.PublicKey))
}

// formatBody returns the checkpoint text that is signed.
func formatBody(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// parseBody parses checkpoint text: an origin line, a decimal size, a
// base64 root hash, then optional extension lines, each line ending in
// a newline.
func parseBody(text string) (origin string, size int64, root tlog.Hash, err error) {
	bad := func(why string) (string, int64, tlog.Hash, error) {
		return "", 0, tlog.Hash{}, errors.New("tlogfile: malformed checkpoint: " + why)
	}
	if len(text) > MaxCheckpointSize || !strings.HasSuffix(text, "\n") {
		return bad("not newline-terminated text")
	}
	lines := strings.Split(text[:len(text)-1], "\n")
	if len(lines) < 3 {
		return bad("fewer than 3 lines")
	}
	origin = lines[0]
	if origin == "" || strings.TrimSpace(origin) != origin {
		return bad("bad origin")
	}
	if s := lines[1]; s == "" || (len(s) > 1 && s[0] == '0') || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return bad("bad size")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return bad("bad size")
	}
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return bad("bad root hash")
	}
	copy(root[:], h)
	for _, ext := range lines[3:] {
		if ext == "" {
			return bad("empty extension line")
		}
	}
	return origin, size, root, nil
}

// ParseCheckpoint verifies a signed checkpoint with the verifier key vkey
// and parses it. If origin is not "", the checkpoint must name it.
func ParseCheckpoint(signed []byte, vkey, origin string) (*Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("tlogfile: verifier key: %w", err)
	}
	return openCheckpoint(signed, note.VerifierList(v), origin)
}

func openCheckpoint(signed []byte, vs note.Verifiers, origin string) (*Checkpoint, error) {
	if len(signed) > MaxCheckpointSize {
		return nil, errors.New("tlogfile: checkpoint too large")
	}
	n, err := note.Open(signed, vs)
	if err != nil {
		return nil, fmt.Errorf("tlogfile: checkpoint signature: %w", err)
	}
	o, size, root, err := parseBody(n.Text)
	if err != nil {
		return nil, err
	}
	if origin != "" && o != origin {
		return nil, fmt.Errorf("tlogfile: checkpoint is for log %q, not %q", o, origin)
	}
	return &Checkpoint{Origin: o, Size: size, Root: root, Signed: append([]byte(nil), signed...)}, nil
}

// signCheckpoint signs the checkpoint of a tree.
func signCheckpoint(s note.Signer, origin string, size int64, root tlog.Hash) (*Checkpoint, error) {
	signed, err := note.Sign(&note.Note{Text: formatBody(origin, size, root)}, s)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Origin: origin, Size: size, Root: root, Signed: signed}, nil
}
