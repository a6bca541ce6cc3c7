package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestQuickstart runs the quickstart and checks the story it tells: who sees
// what, which attempts are refused, and that the audit log verifies.
func TestQuickstart(t *testing.T) {
	var buf bytes.Buffer
	out = &buf
	if err := run(); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"[acme/finance] Q3 revenue report",
		"[acme/public] Acme press release",
		"[globex/finance] Globex revenue memo",
		"globex-ingest writes a row into tenant acme -> refused",
		`bob filters on tenant == "acme" (a caller's filter narrows, never widens): 0 results -> ok`,
		"bob reads acme's document 1 by ID: 0 found",
		"carol deletes a document -> refused",
		"alice drops the collection -> refused",
		"verify: OK: 11 records",
		"(the hashed value is \"acme\": true)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Nobody sees the draft, carol sees no finance row, bob no acme row.
	sections := regexp.MustCompile(`(?s)alice \(acme.*?sees:(.*?)carol.*?sees:(.*?)bob \(globex.*?sees:(.*?)alice's row rule`).FindStringSubmatch(got)
	if sections == nil {
		t.Fatalf("output has no search section:\n%s", got)
	}
	if strings.Contains(sections[1], "draft") || strings.Contains(sections[1], "globex") {
		t.Errorf("alice sees a draft or a globex row:%s", sections[1])
	}
	if strings.Contains(sections[2], "finance") {
		t.Errorf("carol sees a finance row:%s", sections[2])
	}
	if strings.Contains(sections[3], "acme") {
		t.Errorf("bob sees an acme row:%s", sections[3])
	}
	for _, secret := range []string{"Quarterly revenue grew", "Confidential merger terms"} {
		if strings.Contains(got, secret) {
			t.Errorf("document text %q was printed", secret)
		}
	}
}
