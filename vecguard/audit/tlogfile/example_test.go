package tlogfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/audit/tlogfile"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Write an audit log through a Sync-mode Logger, verify it, prove a record
// is in it, and print the redacted records.
func Example() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")

	skey, vkey, err := tlogfile.GenerateKey("example.audit")
	if err != nil {
		panic(err)
	}
	lg, err := tlogfile.Open(path, skey, nil)
	if err != nil {
		panic(err)
	}
	logger, err := audit.New(lg, &audit.Options{Salt: []byte("example salt of at least 16 bytes")})
	if err != nil {
		panic(err)
	}
	for i, op := range []string{"upsert", "search", "delete"} {
		logger.Audit(context.Background(), &audit.Record{
			Time: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC), Subject: "alice", Tenant: "acme",
			Operation: op, Class: audit.ClassRead, Collection: "docs",
			CallerFilter: driver.Eq("title", driver.String("secret plans")), Allowed: true,
		})
	}
	if err := logger.Close(); err != nil { // closes the log too
		panic(err)
	}

	rep, err := tlogfile.VerifyFile(path, vkey, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("verified", rep.Size, "records")

	tree, _ := tlogfile.LoadFile(path, vkey, nil)
	proof, _ := tree.ProveRecord(1, tree.Size())
	cp, _ := tree.Checkpoint(tree.Size())
	f, _ := os.Open(path)
	defer f.Close()
	tlogfile.ReadRecords(f, func(i int64, line []byte) error {
		e, err := audit.ParseEntry(line)
		if err != nil {
			return err
		}
		fmt.Println(i, e.Operation, e.Subject, e.Decision, e.CallerFilter[:24]+"…")
		if i == 1 {
			fmt.Println("record 1 proved:", tlogfile.CheckRecord(cp, 1, line, proof) == nil)
		}
		return nil
	})
	// Output:
	// verified 3 records
	// 0 upsert alice allow title == hmac-sha256:2d8…
	// 1 search alice allow title == hmac-sha256:2d8…
	// record 1 proved: true
	// 2 delete alice allow title == hmac-sha256:2d8…
}
