package audit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEntry() Entry {
	return Entry{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Subject: "alice", Tenant: "acme",
		Roles: []string{"reader", "ops"}, Operation: "search", Class: ClassRead, System: "memory",
		Collection: "docs", PolicyFilter: "tenant == hmac-sha256:00", CallerFilter: "(a == hmac-sha256:11)",
		TopK: 10, ResultCount: 3, ResultIDs: []string{"1", "2", "3"}, Vectors: 3, Decision: "allow",
		Rule: "r1", Reason: "ok", Violations: 1, Latency: 1500 * time.Microsecond, Code: "not_found",
		Error: "vecguard: search docs: not found", TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331",
	}
}

func TestEntryJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Entry)
		want func(e *Entry) // the expected decoding, when not e itself
	}{
		{"full", func(*Entry) {}, nil},
		{"minimal", func(e *Entry) { *e = Entry{Time: e.Time, Operation: "count", Class: ClassRead, Decision: "deny"} }, nil},
		{"escapes", func(e *Entry) { e.Reason = "quote \" backslash \\ newline \n tab \t ctrl \x01 <html> & \u2028" }, nil},
		{"invalid utf8", func(e *Entry) { e.Error = "bad \xff byte" }, func(e *Entry) { e.Error = "bad \ufffd byte" }},
		{"unicode", func(e *Entry) { e.Subject = "ünïcødé 日本" }, nil},
		{"negative", func(e *Entry) { e.ResultCount = -1 }, nil},
		{"local time", func(e *Entry) { e.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) },
			func(e *Entry) { e.Time = e.Time.UTC() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			tt.edit(&e)
			b := e.AppendJSON(nil)
			if !json.Valid(b) {
				t.Fatalf("invalid JSON: %s", b)
			}
			got, err := ParseEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			want := e
			if tt.want != nil {
				tt.want(&want)
			}
			want.Time = want.Time.UTC()
			got.Time = got.Time.UTC()
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("got  %+v\nwant %+v", *got, want)
			}
			// encoding/json agrees on the decoding.
			var std Entry
			if err := json.Unmarshal(b, &std); err != nil {
				t.Fatal(err)
			}
			std.Time = std.Time.UTC()
			if !reflect.DeepEqual(std, want) {
				t.Fatalf("encoding/json decodes %+v", std)
			}
		})
	}
}

func TestParseEntryRefuses(t *testing.T) {
	for _, s := range []string{
		``, `[]`, `{}`, `{"op":"x"}`, `{"time":"2026-01-01T00:00:00Z","op":"x","extra":1}`,
		`{"time":"2026-01-01T00:00:00Z","op":"x"} {}`, `{"time":"nope","op":"x"}`, "C abc def",
	} {
		if _, err := ParseEntry([]byte(s)); err == nil {
			t.Errorf("ParseEntry(%q) succeeded", s)
		}
	}
	if _, err := ParseEntry([]byte(`{"time":"2026-01-01T00:00:00Z","op":"x"}`)); err != nil {
		t.Errorf("a minimal entry was refused: %v", err)
	}
}

func FuzzParseEntry(f *testing.F) {
	e := sampleEntry()
	f.Add(e.AppendJSON(nil))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","op":"x","roles":["a"]}`))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","op":"\u2028\ud800"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		// What parses re-encodes to valid JSON that parses to the same entry.
		out := e.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON from %q: %s", b, out)
		}
		e2, err := ParseEntry(out)
		if err != nil {
			t.Fatalf("re-encoded entry does not parse: %v\n%s", err, out)
		}
		e.Time, e2.Time = e.Time.UTC(), e2.Time.UTC()
		if !reflect.DeepEqual(normalize(e), normalize(e2)) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, e2)
		}
	})
}

// normalize maps invalid UTF-8 the way the encoder does and empty slices
// to nil.
func normalize(e *Entry) Entry {
	c := *e
	fix := func(s string) string { return strings.ToValidUTF8(s, "\ufffd") }
	for _, p := range []*string{&c.Subject, &c.Tenant, &c.Operation, &c.System, &c.Collection, &c.PolicyFilter,
		&c.CallerFilter, &c.Decision, &c.Rule, &c.Reason, &c.Code, &c.Error, &c.TraceID, &c.SpanID} {
		*p = fix(*p)
	}
	c.Class = Class(fix(string(c.Class)))
	if len(c.Roles) == 0 {
		c.Roles = nil
	}
	if len(c.ResultIDs) == 0 {
		c.ResultIDs = nil
	}
	return c
}
