package weaviate

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Payload storage. A declared field becomes a typed property: string → text
// (tokenization "field", so it is matched as one exact keyword), float →
// number, bool → boolean, and int → text holding a sortable decimal (see
// encodeInt). Weaviate keeps int properties as float64 internally, so ints
// beyond ±2^53 would be rounded (and 2^63−1 would come back as −2^63); the
// sortable text keeps every int64 exact in storage, equality and ranges. Everything else — undeclared keys, nested
// values, and declared keys explicitly set to null — goes into one JSON text
// property, propPayload, that is neither indexed nor filterable.
//
// Weaviate's "field" tokenization trims leading and trailing whitespace and
// drops empty strings, which would make "acme" and "acme " equal in filters.
// Declared string values are therefore stored wrapped in textQuote ("'acme '"),
// and filter values are wrapped the same way, so string equality is exact.
//
// The JSON keeps number kinds: a float is always written with a '.' or an
// exponent ("1.0"), an integer never is, so int64 values stay int64 and
// floats stay float64 across a round trip.

const textQuote = "'"

// encodeInt writes an int64 as text whose byte order is numeric order:
// "p" + 19 decimal digits for n >= 0, "n" + 19 decimal digits of n + 2^63 for
// n < 0. 42 is "p0000000000000000042", -1 is "n9223372036854775807".
func encodeInt(n int64) string {
	var b [20]byte
	u := uint64(n)
	b[0] = 'p'
	if n < 0 {
		b[0] = 'n'
		u = uint64(n) + 1<<63
	}
	for i := 19; i >= 1; i-- {
		b[i] = byte('0' + u%10)
		u /= 10
	}
	return string(b[:])
}

// decodeInt reverses encodeInt.
func decodeInt(s string) (int64, bool) {
	if len(s) != 20 || (s[0] != 'p' && s[0] != 'n') {
		return 0, false
	}
	var u uint64
	for i := 1; i < 20; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if u >= 1<<63 {
		return 0, false
	}
	if s[0] == 'n' {
		return int64(u - 1<<63), true
	}
	return int64(u), true
}

func wrapText(s string) string { return textQuote + s + textQuote }

func unwrapText(s string) (string, bool) {
	if len(s) < 2*len(textQuote) || !strings.HasPrefix(s, textQuote) || !strings.HasSuffix(s, textQuote) {
		return "", false
	}
	return s[len(textQuote) : len(s)-len(textQuote)], true
}

// checkUTF8 reports whether every key and string of a normalized payload
// value is valid UTF-8 (Weaviate's protocols carry text as UTF-8).
func checkUTF8(v any) bool {
	switch t := v.(type) {
	case string:
		return utf8.ValidString(t)
	case map[string]any:
		for k, e := range t {
			if !utf8.ValidString(k) || !checkUTF8(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !checkUTF8(e) {
				return false
			}
		}
	}
	return true
}

// encodeExtra writes the JSON of the propPayload property.
func encodeExtra(m map[string]any) (string, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, m); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case int64:
		buf.WriteString(strconv.FormatInt(t, 10))
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return driver.Errorf(driver.InvalidArgument, "payload number is NaN or infinite")
		}
		s := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		buf.WriteString(s)
	case string:
		b, err := json.Marshal(t)
		if err != nil {
			return driver.Errorf(driver.InvalidArgument, "payload string cannot be stored")
		}
		buf.Write(b)
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, err := json.Marshal(k)
			if err != nil {
				return driver.Errorf(driver.InvalidArgument, "payload key cannot be stored")
			}
			buf.Write(b)
			buf.WriteByte(':')
			if err := writeJSON(buf, t[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return driver.Errorf(driver.InvalidArgument, "unsupported payload value type %T", v)
	}
	return nil
}

// decodeExtra reads the JSON of the propPayload property.
func decodeExtra(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, driver.Errorf(driver.DataLoss, "stored payload is not valid JSON")
	}
	if dec.More() {
		return nil, driver.Errorf(driver.DataLoss, "stored payload has trailing data")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, driver.Errorf(driver.DataLoss, "stored payload is not a JSON object")
	}
	v, err := fixNumbers(m)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func fixNumbers(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		s := string(t)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, driver.Errorf(driver.DataLoss, "stored payload number out of range")
			}
			return f, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, driver.Errorf(driver.DataLoss, "stored payload integer out of range")
		}
		return n, nil
	case map[string]any:
		for k, e := range t {
			f, err := fixNumbers(e)
			if err != nil {
				return nil, err
			}
			t[k] = f
		}
	case []any:
		for i, e := range t {
			f, err := fixNumbers(e)
			if err != nil {
				return nil, err
			}
			t[i] = f
		}
	}
	return v, nil
}
