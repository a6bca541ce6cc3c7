package tlogfile

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
)

const (
	crashEnvPath = "VECGUARD_TLOGFILE_CRASH_LOG"
	crashEnvKey  = "VECGUARD_TLOGFILE_CRASH_KEY"
)

// TestCrashChild is the child process of TestCrashSafety: it appends
// through a Sync-mode Logger from several goroutines and prints the
// subject of every acknowledged record, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	lg, err := Open(path, os.Getenv(crashEnvKey), nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	l, err := audit.New(lg, &audit.Options{Mode: audit.Sync, Policy: audit.Refuse})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				subject := fmt.Sprintf("w%d-%d", g, i)
				err := l.Audit(context.Background(), &audit.Record{Time: time.Now(), Subject: subject, Operation: "upsert", Class: audit.ClassWrite, Allowed: true})
				if err != nil {
					continue
				}
				mu.Lock()
				fmt.Fprintln(out, "ack", subject)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashSafety kills a child process that is appending in Sync mode and
// checks that every record it acknowledged is in the log and verifies.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	skey, vkey := testKeys(t)
	path := filepath.Join(t.TempDir(), "crash.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvKey+"="+skey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "ack "); ok {
			acked[s] = true
		} else if strings.HasPrefix(line, "error") {
			t.Fatal(line)
		}
		if len(acked) == 500 {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
		}
	}
	cmd.Wait()
	if len(acked) < 500 {
		t.Fatalf("the child acknowledged only %d records", len(acked))
	}

	rep, err := VerifyFile(path, vkey, nil)
	if err != nil {
		t.Fatalf("the log of a killed writer does not verify: %v", err)
	}
	t.Logf("after the kill: %s", rep)
	inLog := map[string]int64{}
	f, _ := os.Open(path)
	ReadRecords(f, func(i int64, r []byte) error {
		e, err := audit.ParseEntry(r)
		if err != nil {
			return err
		}
		inLog[e.Subject] = i
		return nil
	})
	f.Close()
	for s := range acked {
		i, ok := inLog[s]
		if !ok {
			t.Fatalf("acknowledged record %s is not in the log", s)
		}
		if i >= rep.Size {
			t.Fatalf("acknowledged record %s (index %d) is not covered by a checkpoint (size %d)", s, i, rep.Size)
		}
	}

	// A crash in the middle of a write leaves a torn last line: it is
	// reported, everything before it verifies, and reopening cuts it off.
	fa, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fa.WriteString(`{"time":"2026-01-01T00:00:00Z","op":"ups`)
	fa.Close()
	rep2, err := VerifyFile(path, vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Torn == nil || rep2.Size != rep.Size || rep2.Records != rep.Records {
		t.Fatalf("torn tail: %s", rep2)
	}
	l, err := Open(path, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.Recovery(); r.Torn == nil || r.Torn.Offset != rep2.Torn.Offset {
		t.Fatalf("recovery %+v", r)
	}
	l.Close()
	if rep3, err := VerifyFile(path, vkey, nil); err != nil || rep3.Torn != nil || rep3.Unsigned != 0 {
		t.Fatalf("after reopening: %v %v", rep3, err)
	}
}
