package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/audit/tlogfile"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// fixture makes keys and a log of 3 batches of 2 records and returns the
// key prefix, the log path and the checkpoint file of the second batch.
func fixture(t *testing.T) (prefix, logPath, cpPath string) {
	t.Helper()
	dir := t.TempDir()
	prefix = filepath.Join(dir, "k")
	if code := run([]string{"keygen", "-name", "test.log", "-out", prefix}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("keygen: %d", code)
	}
	skey, _ := os.ReadFile(prefix + ".key")
	saltHex, _ := os.ReadFile(prefix + ".salt")
	salt, _ := hex.DecodeString(strings.TrimSpace(string(saltHex)))
	logPath = filepath.Join(dir, "audit.log")
	var cps []*tlogfile.Checkpoint
	lg, err := tlogfile.Open(logPath, strings.TrimSpace(string(skey)), &tlogfile.Options{OnCheckpoint: func(c *tlogfile.Checkpoint) { cps = append(cps, c) }})
	if err != nil {
		t.Fatal(err)
	}
	red, _ := audit.NewRedactor(salt)
	for b := 0; b < 3; b++ {
		var batch []audit.Entry
		for i := 0; i < 2; i++ {
			batch = append(batch, red.Entry(&audit.Record{Time: time.Unix(int64(b*2+i), 0), Subject: "alice", Operation: "search",
				Class: audit.ClassRead, CallerFilter: driver.Eq("k", driver.String("secret")), Allowed: true}))
		}
		if err := lg.Handle(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	lg.Close()
	cpPath = filepath.Join(dir, "cp4")
	os.WriteFile(cpPath, cps[1].Signed, 0o644)
	return prefix, logPath, cpPath
}

func TestCommands(t *testing.T) {
	prefix, logPath, cpPath := fixture(t)
	pub := prefix + ".pub"
	tamper := func(t *testing.T) string {
		b, _ := os.ReadFile(logPath)
		lines := strings.SplitAfter(string(b), "\n")
		lines[3] = strings.Replace(lines[3], "alice", "mallory", 1) // record 2
		p := filepath.Join(t.TempDir(), "tampered.log")
		os.WriteFile(p, []byte(strings.Join(lines, "")), 0o600)
		return p
	}
	cut := func(t *testing.T) string {
		b, _ := os.ReadFile(logPath)
		lines := strings.SplitAfter(string(b), "\n")
		p := filepath.Join(t.TempDir(), "cut.log")
		os.WriteFile(p, []byte(strings.Join(lines[:3], "")), 0o600)
		return p
	}
	tests := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"verify ok", func(*testing.T) []string { return []string{"verify", "-log", logPath, "-key", pub} }, 0, "OK: 6 records, tree size 6"},
		{"verify with a known checkpoint", func(*testing.T) []string {
			return []string{"verify", "-log", logPath, "-key", pub, "-checkpoint", cpPath}
		}, 0, "OK: 6 records"},
		{"verify tampered", func(t *testing.T) []string { return []string{"verify", "-log", tamper(t), "-key", pub} }, 1,
			"FAILED: tlogfile: log was modified at record 2 (line 4"},
		{"verify cut short", func(t *testing.T) []string {
			return []string{"verify", "-log", cut(t), "-key", pub, "-checkpoint", cpPath}
		}, 1, "truncated at record 2"},
		{"prove inclusion", func(*testing.T) []string { return []string{"prove", "-log", logPath, "-key", pub, "-index", "3"} }, 0,
			"inclusion of record 3 in tree 6"},
		{"prove inclusion in an older tree", func(*testing.T) []string {
			return []string{"prove", "-log", logPath, "-key", pub, "-index", "1", "-size", "4"}
		}, 0, "OK"},
		{"prove consistency", func(*testing.T) []string { return []string{"prove", "-log", logPath, "-key", pub, "-old", "2"} }, 0,
			"consistency of tree 2"},
		{"prove an unsigned size", func(*testing.T) []string { return []string{"prove", "-log", logPath, "-key", pub, "-old", "3"} }, 2, ""},
		{"prove on a tampered log", func(t *testing.T) []string { return []string{"prove", "-log", tamper(t), "-key", pub, "-old", "2"} }, 1,
			"FAILED"},
		{"hash", func(*testing.T) []string { return []string{"hash", "-salt", prefix + ".salt", "secret"} }, 0, "hmac-sha256:"},
		{"no command", func(*testing.T) []string { return nil }, 2, ""},
		{"unknown command", func(*testing.T) []string { return []string{"frobnicate"} }, 2, ""},
		{"missing flag", func(*testing.T) []string { return []string{"verify", "-log", logPath} }, 2, ""},
		{"missing file", func(*testing.T) []string { return []string{"verify", "-log", logPath + ".nope", "-key", pub} }, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args(t), &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d, want %d; stdout %q; stderr %q", code, tt.code, out.String(), errOut.String())
			}
		})
	}
}

func TestHashFindsRedactedValue(t *testing.T) {
	prefix, logPath, _ := fixture(t)
	var out bytes.Buffer
	if code := run([]string{"hash", "-salt", prefix + ".salt", "secret"}, &out, &bytes.Buffer{}); code != 0 {
		t.Fatal(code)
	}
	h := strings.TrimSpace(out.String())
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), h) || strings.Contains(string(b), "secret") {
		t.Fatalf("the log does not show %s in place of the value", h)
	}
}
