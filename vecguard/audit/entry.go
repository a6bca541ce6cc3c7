package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// Entry is the redacted form of a Record: what sinks receive and what the
// file log stores. Filters are rendered with their values HMAC'd; nothing in
// an Entry is a raw vector, key, token or payload value. Entries are plain
// data: a sink may keep them after Handle returns.
type Entry struct {
	Time         time.Time     `json:"time"`
	Subject      string        `json:"subject,omitempty"`
	Tenant       string        `json:"tenant,omitempty"`
	Roles        []string      `json:"roles,omitempty"`
	Operation    string        `json:"op"`
	Class        Class         `json:"class"`
	System       string        `json:"db_system,omitempty"`
	Collection   string        `json:"collection,omitempty"`
	PolicyFilter string        `json:"policy_filter,omitempty"` // redacted (see Redactor.Filter)
	CallerFilter string        `json:"caller_filter,omitempty"` // redacted
	TopK         int           `json:"top_k,omitempty"`
	ResultCount  int           `json:"result_count"`
	ResultIDs    []string      `json:"result_ids,omitempty"`
	Vectors      int           `json:"vectors,omitempty"`
	Decision     string        `json:"decision"` // "allow" or "deny"
	Rule         string        `json:"rule,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	Violations   int           `json:"violations,omitempty"`
	Latency      time.Duration `json:"latency_ns"`
	Code         string        `json:"code,omitempty"` // the error code; "" on success
	Error        string        `json:"error,omitempty"`
	TraceID      string        `json:"trace_id,omitempty"`
	SpanID       string        `json:"span_id,omitempty"`
}

// AppendJSON appends the entry as one line of JSON (without a newline) to
// b. The encoding is deterministic: the same entry always gives the same
// bytes, fields in declaration order, times in RFC 3339 UTC with
// nanoseconds. ParseEntry reads it back.
func (e *Entry) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendStr(b, "subject", e.Subject)
	b = appendStr(b, "tenant", e.Tenant)
	b = appendStrs(b, "roles", e.Roles)
	b = append(b, `,"op":`...)
	b = appendJSONString(b, e.Operation)
	b = append(b, `,"class":`...)
	b = appendJSONString(b, string(e.Class))
	b = appendStr(b, "db_system", e.System)
	b = appendStr(b, "collection", e.Collection)
	b = appendStr(b, "policy_filter", e.PolicyFilter)
	b = appendStr(b, "caller_filter", e.CallerFilter)
	b = appendInt(b, "top_k", int64(e.TopK), true)
	b = appendInt(b, "result_count", int64(e.ResultCount), false)
	b = appendStrs(b, "result_ids", e.ResultIDs)
	b = appendInt(b, "vectors", int64(e.Vectors), true)
	b = append(b, `,"decision":`...)
	b = appendJSONString(b, e.Decision)
	b = appendStr(b, "rule", e.Rule)
	b = appendStr(b, "reason", e.Reason)
	b = appendInt(b, "violations", int64(e.Violations), true)
	b = appendInt(b, "latency_ns", int64(e.Latency), false)
	b = appendStr(b, "code", e.Code)
	b = appendStr(b, "error", e.Error)
	b = appendStr(b, "trace_id", e.TraceID)
	b = appendStr(b, "span_id", e.SpanID)
	return append(b, '}')
}

// MaxEntrySize is the largest encoded entry ParseEntry accepts.
const MaxEntrySize = 1 << 20

// ParseEntry decodes one entry written by AppendJSON. Unknown fields are
// refused, so a line that is not an audit entry is not mistaken for one.
func ParseEntry(line []byte) (*Entry, error) {
	if len(line) > MaxEntrySize {
		return nil, errors.New("audit: entry too large")
	}
	if len(line) == 0 || line[0] != '{' {
		return nil, errors.New("audit: entry is not a JSON object")
	}
	var e Entry
	if err := strictUnmarshal(line, &e); err != nil {
		return nil, errors.New("audit: malformed entry: " + err.Error())
	}
	if e.Operation == "" || e.Time.IsZero() {
		return nil, errors.New("audit: entry has no time or operation")
	}
	return &e, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func appendStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendStrs(b []byte, key string, vs []string) []byte {
	if len(vs) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

func appendInt(b []byte, key string, n int64, omitZero bool) []byte {
	if n == 0 && omitZero {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, n, 10)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; HTML characters are not escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
