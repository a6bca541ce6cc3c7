package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestExample runs the example against the in-process Qdrant-protocol
// server (or VECGUARD_QDRANT_ADDR) and checks each tenant sees its rows only
// and that the refused calls are refused.
func TestExample(t *testing.T) {
	var buf bytes.Buffer
	out = &buf
	if err := run(); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		`alice finds 1 "acme roadmap" (tenant acme)`,
		`alice finds 2 "acme pricing" (tenant acme)`,
		"bob counts 1 point(s)",
		`bob's Query finds 3 "globex roadmap"`,
		"bob's DeleteCollection: DeleteCollection() failed: qdrant-demo: rpc error: code = PermissionDenied",
		"bob's CreateSnapshot (an RPC the guard does not serve): CreateSnapshot() failed: rpc error: code = PermissionDenied",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "alice finds 3") || strings.Contains(got, "bob's Query finds 1") {
		t.Errorf("a tenant saw another tenant's row:\n%s", got)
	}
}
