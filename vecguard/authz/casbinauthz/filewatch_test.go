package casbinauthz

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vecguard/vecguard/vecguard/authz"
)

func TestFileWatcherReloads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.csv")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p, reader, acme, docs, read, allow\n")
	a, err := LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewFileWatcher(a, path)
	if err != nil {
		t.Fatal(err)
	}
	p := &authz.Principal{Subject: "u", Tenant: "acme", Roles: []string{"reader"}}
	allowed := func(act authz.Action) bool {
		t.Helper()
		d, err := a.Authorize(ctx, p, act, "docs")
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	if changed, err := w.Check(ctx); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	if !allowed(authz.Read) || allowed(authz.Write) {
		t.Fatal("initial policy not in force")
	}

	// A new rule is picked up, and the cached decision is not served.
	write("p, reader, acme, docs, read, allow\np, reader, acme, docs, write, allow\n")
	if changed, err := w.Check(ctx); !changed || err != nil {
		t.Fatalf("changed file: changed=%v err=%v", changed, err)
	}
	if !allowed(authz.Write) {
		t.Fatal("added rule not in force after reload")
	}

	// A file that does not parse leaves the policy as it was.
	write("p, reader, acme, docs, \"read\n")
	if _, err := w.Check(ctx); err == nil {
		t.Fatal("unparsable file: no error")
	}
	if !allowed(authz.Write) {
		t.Fatal("policy changed by an unparsable file")
	}

	// A removed rule is revoked.
	write("p, reader, acme, docs, read, allow\n")
	if changed, err := w.Check(ctx); !changed || err != nil {
		t.Fatalf("changed file: changed=%v err=%v", changed, err)
	}
	if allowed(authz.Write) {
		t.Fatal("removed rule still in force")
	}

	// A missing file is an error and changes nothing.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Check(ctx); err == nil {
		t.Fatal("missing file: no error")
	}
	if !allowed(authz.Read) {
		t.Fatal("policy changed by a missing file")
	}
}
