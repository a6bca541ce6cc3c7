package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// HashPrefix starts every redacted value, as in Vault's audit devices.
const HashPrefix = "hmac-sha256:"

// MinSaltSize is the smallest salt NewRedactor accepts.
const MinSaltSize = 16

// Redactor turns Records into Entries, replacing every sensitive string with
// its HMAC-SHA256 under a per-log salt, written "hmac-sha256:<hex>". The same
// value always hashes the same under one salt, so an operator who holds the
// salt can search a log for a known value (Hash), while a reader without it
// learns nothing but equality. A Redactor is safe for concurrent use.
type Redactor struct {
	salt []byte
	pool sync.Pool // of hash.Hash
}

// NewSalt returns 32 random bytes for NewRedactor. Keep the salt secret and
// apart from the log; without it nobody can search the log for a value.
func NewSalt() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// NewRedactor returns a Redactor keyed by salt (at least MinSaltSize bytes;
// the bytes are copied).
func NewRedactor(salt []byte) (*Redactor, error) {
	if len(salt) < MinSaltSize {
		return nil, errors.New("audit: salt must be at least 16 bytes")
	}
	r := &Redactor{salt: append([]byte(nil), salt...)}
	r.pool.New = func() any { return hmac.New(sha256.New, r.salt) }
	return r, nil
}

// Hash returns "hmac-sha256:<hex>" of s: how s appears in a redacted entry.
// Use it to search a log for a known value.
func (r *Redactor) Hash(s string) string {
	return string(r.appendHash(make([]byte, 0, len(HashPrefix)+64), s))
}

func (r *Redactor) appendHash(b []byte, s string) []byte {
	h := r.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(s))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	r.pool.Put(h)
	b = append(b, HashPrefix...)
	return hex.AppendEncode(b, sum[:])
}

// ValueText returns the text a filter value is hashed over: a string
// itself; an integer, or a float with an integral value, in decimal (so
// Int(5) and Float(5) hash alike, as they match alike); other floats in the
// shortest 'g' form; booleans as "true" or "false".
func ValueText(v driver.Value) string {
	switch v.Kind() {
	case driver.KindString:
		return v.Str()
	case driver.KindInt:
		return strconv.FormatInt(v.IntVal(), 10)
	case driver.KindFloat:
		f := v.FloatVal()
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case driver.KindBool:
		return strconv.FormatBool(v.BoolVal())
	}
	return ""
}

// Value returns the redacted form of a filter value: the hash of
// ValueText(v). Every kind is hashed, numbers and booleans too: a number in
// a filter (an age, a salary bound) can be as sensitive as a string. Values
// from a small domain (booleans, small enums) can still be told apart by
// frequency; the hash only makes them unreadable.
func (r *Redactor) Value(v driver.Value) string { return r.Hash(ValueText(v)) }

// Filter renders f with every value redacted; field names, operators and
// point IDs stay readable. A nil filter renders as "".
func (r *Redactor) Filter(f *driver.Filter) string {
	if f == nil {
		return ""
	}
	return f.Format(r.Value)
}

// Entry returns the redacted entry for rec. It copies what it keeps, so
// rec may change afterwards.
func (r *Redactor) Entry(rec *Record) Entry {
	e := Entry{
		Time:         rec.Time,
		Subject:      rec.Subject,
		Tenant:       rec.Tenant,
		Operation:    rec.Operation,
		Class:        rec.Class,
		System:       rec.System,
		Collection:   rec.Collection,
		PolicyFilter: r.Filter(rec.PolicyFilter),
		CallerFilter: r.Filter(rec.CallerFilter),
		TopK:         rec.TopK,
		ResultCount:  rec.ResultCount,
		Vectors:      rec.Vectors,
		Decision:     "deny",
		Rule:         rec.Rule,
		Reason:       rec.Reason,
		Violations:   rec.Violations,
		Latency:      rec.Latency,
		Error:        rec.Err,
		TraceID:      rec.TraceID,
		SpanID:       rec.SpanID,
	}
	if rec.Allowed {
		e.Decision = "allow"
	}
	if len(rec.Roles) > 0 {
		e.Roles = append([]string(nil), rec.Roles...)
	}
	if len(rec.ResultIDs) > 0 {
		e.ResultIDs = make([]string, len(rec.ResultIDs))
		for i, id := range rec.ResultIDs {
			e.ResultIDs[i] = id.String()
		}
	}
	if rec.Err != "" || rec.Code != driver.Unknown {
		e.Code = strings.ReplaceAll(rec.Code.String(), " ", "_")
	}
	return e
}
