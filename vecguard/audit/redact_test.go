package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

var testSalt = []byte("0123456789abcdef0123456789abcdef")

func TestRedactorHash(t *testing.T) {
	r, err := NewRedactor(testSalt)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, testSalt)
	m.Write([]byte("alice"))
	want := "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
	if got := r.Hash("alice"); got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
	if _, err := NewRedactor([]byte("short")); err == nil {
		t.Fatal("a short salt was accepted")
	}
	other, _ := NewRedactor([]byte("another salt, 16 bytes or more"))
	if other.Hash("alice") == want {
		t.Fatal("two salts give the same hash")
	}
}

func TestRedactorValues(t *testing.T) {
	r, _ := NewRedactor(testSalt)
	tests := []struct {
		v    driver.Value
		text string
	}{
		{driver.String("secret"), "secret"},
		{driver.Int(5), "5"},
		{driver.Float(5), "5"},
		{driver.Float(-2.5), "-2.5"},
		{driver.Float(1e300), "1e+300"},
		{driver.Bool(true), "true"},
	}
	for _, tt := range tests {
		if got := ValueText(tt.v); got != tt.text {
			t.Errorf("ValueText(%v) = %q, want %q", tt.v.Any(), got, tt.text)
		}
		if got := r.Value(tt.v); got != r.Hash(tt.text) {
			t.Errorf("Value(%v) = %s, want Hash(%q)", tt.v.Any(), got, tt.text)
		}
	}
}

var hashRE = regexp.MustCompile(`hmac-sha256:[0-9a-f]{64}`)

func TestRedactorFilter(t *testing.T) {
	r, _ := NewRedactor(testSalt)
	f := driver.And(
		driver.Eq("tenant", driver.String("CANARY-tenant")),
		driver.Or(driver.In("tag", driver.String("CANARY-a"), driver.String("CANARY-b")), driver.Not(driver.Ne("n", driver.Int(987654)))),
		driver.Gte("price", driver.Float(12345.678)),
		driver.Exists("title"),
		driver.HasID(driver.NumID(42)),
	)
	got := r.Filter(f)
	for _, secret := range []string{"CANARY", "987654", "12345.678"} {
		if strings.Contains(got, secret) {
			t.Fatalf("filter rendering %q shows %q", got, secret)
		}
	}
	if n := len(hashRE.FindAllString(got, -1)); n != 5 {
		t.Fatalf("%d hashes in %q, want 5", n, got)
	}
	if !strings.Contains(got, r.Hash("CANARY-a")) || !strings.Contains(got, "id in [42]") || !strings.Contains(got, "title exists") {
		t.Fatalf("rendering %q lacks the searchable hash or the structure", got)
	}
	if r.Filter(nil) != "" {
		t.Fatal("nil filter renders non-empty")
	}
}

func TestRedactorEntry(t *testing.T) {
	r, _ := NewRedactor(testSalt)
	rec := &Record{
		Subject: "alice", Tenant: "acme", Roles: []string{"reader"}, Operation: "get", Class: ClassRead,
		Collection: "docs", CallerFilter: driver.Eq("k", driver.String("CANARY")),
		ResultIDs: []driver.PointID{driver.NumID(7)}, Allowed: true, Code: driver.NotFound, Err: "not found",
	}
	e := r.Entry(rec)
	rec.Roles[0] = "changed"
	if e.Roles[0] != "reader" || e.Decision != "allow" || e.Code != "not_found" || e.ResultIDs[0] != "7" {
		t.Fatalf("entry %+v", e)
	}
	if strings.Contains(string(e.AppendJSON(nil)), "CANARY") {
		t.Fatal("entry shows a filter value")
	}
	rec.Allowed = false
	if e := r.Entry(rec); e.Decision != "deny" {
		t.Fatalf("decision %q", e.Decision)
	}
}
