// Command vgaudit checks vecguard's tamper-evident audit logs.
//
// Usage:
//
//	vgaudit keygen -name NAME -out PREFIX
//	vgaudit verify -log FILE -key PUBKEYFILE [-origin NAME] [-checkpoint FILE]...
//	vgaudit prove  -log FILE -key PUBKEYFILE -index I [-size N]
//	vgaudit prove  -log FILE -key PUBKEYFILE -old N [-new M]
//	vgaudit hash   -salt SALTFILE VALUE...
//
// keygen writes PREFIX.key (the Ed25519 signer key, keep it secret),
// PREFIX.pub (the verifier key) and PREFIX.salt (a random redaction salt,
// hex; keep it secret too).
//
// verify prints "OK" with the number of records, the tree size and root,
// or "FAILED" with the kind of the first change (modified, deleted,
// inserted, reordered, bad checkpoint, truncated, forked), the index of
// the record and its line. Records after the last checkpoint and a torn
// last line are reported too. A -checkpoint file holds a signed checkpoint
// kept elsewhere; the log must contain it (this detects a log cut short).
//
// prove prints and checks an inclusion proof of record I in the tree of N
// records (default: the latest checkpoint), or a consistency proof between
// the trees of N and M records. N and M must be sizes the log signed.
//
// hash prints how each VALUE appears in redacted records
// (hmac-sha256:<hex>), to search a log for a known value.
//
// The exit status is 0 on success, 1 when the log does not verify or a
// proof fails, and 2 on a usage or I/O error.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/audit/tlogfile"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// errFailed marks a verification or proof failure (exit status 1).
type errFailed struct{ msg string }

func (e errFailed) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vgaudit keygen|verify|prove|hash [flags]")
		return 2
	}
	var err error
	switch args[0] {
	case "keygen":
		err = keygen(args[1:], stdout)
	case "verify":
		err = verify(args[1:], stdout)
	case "prove":
		err = prove(args[1:], stdout)
	case "hash":
		err = hash(args[1:], stdout)
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	var f errFailed
	switch {
	case err == nil:
		return 0
	case errors.As(err, &f):
		fmt.Fprintln(stdout, f.msg)
		return 1
	case errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintln(stderr, "vgaudit:", err)
		return 2
	}
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("vgaudit "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			return fmt.Errorf("%s: -%s is required", fs.Name(), name)
		}
	}
	return nil
}

func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func keygen(args []string, stdout io.Writer) error {
	fs := newFlags("keygen")
	name := fs.String("name", "", "the log's name (no spaces or '+')")
	out := fs.String("out", "", "prefix of the files to write")
	if err := parse(fs, args, "name", "out"); err != nil {
		return err
	}
	skey, vkey, err := tlogfile.GenerateKey(*name)
	if err != nil {
		return err
	}
	salt, err := audit.NewSalt()
	if err != nil {
		return err
	}
	files := []struct {
		suffix, data string
		mode         os.FileMode
	}{
		{".key", skey + "\n", 0o600},
		{".salt", hex.EncodeToString(salt) + "\n", 0o600},
		{".pub", vkey + "\n", 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(*out+f.suffix, []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %[1]s.key, %[1]s.salt (keep both secret) and %[1]s.pub\n", *out)
	return nil
}

func verify(args []string, stdout io.Writer) error {
	fs := newFlags("verify")
	logPath := fs.String("log", "", "the log file")
	keyPath := fs.String("key", "", "the verifier key file")
	origin := fs.String("origin", "", "the log name its checkpoints must carry")
	var cps multiFlag
	fs.Var(&cps, "checkpoint", "a file holding a signed checkpoint kept elsewhere (repeatable)")
	if err := parse(fs, args, "log", "key"); err != nil {
		return err
	}
	vkey, err := readKey(*keyPath)
	if err != nil {
		return err
	}
	opts := &tlogfile.VerifyOptions{Origin: *origin}
	for _, path := range cps {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cp, err := tlogfile.ParseCheckpoint(b, vkey, *origin)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		opts.Known = append(opts.Known, cp)
	}
	rep, err := tlogfile.VerifyFile(*logPath, vkey, opts)
	var p *tlogfile.Problem
	if errors.As(err, &p) {
		return errFailed{rep.String()}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.String())
	return nil
}

func prove(args []string, stdout io.Writer) error {
	fs := newFlags("prove")
	logPath := fs.String("log", "", "the log file")
	keyPath := fs.String("key", "", "the verifier key file")
	index := fs.Int64("index", -1, "the record to prove included")
	size := fs.Int64("size", 0, "the tree size for -index (default: the latest checkpoint)")
	oldSize := fs.Int64("old", 0, "the older tree size of a consistency proof")
	newSize := fs.Int64("new", 0, "the newer tree size (default: the latest checkpoint)")
	if err := parse(fs, args, "log", "key"); err != nil {
		return err
	}
	if (*index >= 0) == (*oldSize > 0) {
		return errors.New("prove: give either -index or -old")
	}
	vkey, err := readKey(*keyPath)
	if err != nil {
		return err
	}
	tree, err := tlogfile.LoadFile(*logPath, vkey, nil)
	var p *tlogfile.Problem
	if errors.As(err, &p) {
		return errFailed{"FAILED: " + p.Error()}
	}
	if err != nil {
		return err
	}
	checkpoint := func(n int64) (*tlogfile.Checkpoint, error) {
		if n == 0 {
			n = tree.Size()
		}
		cp, ok := tree.Checkpoint(n)
		if !ok {
			return nil, fmt.Errorf("prove: the log signed no checkpoint of size %d", n)
		}
		return cp, nil
	}
	b64 := base64.StdEncoding.EncodeToString
	if *index >= 0 {
		cp, err := checkpoint(*size)
		if err != nil {
			return err
		}
		var record []byte
		f, err := os.Open(*logPath)
		if err != nil {
			return err
		}
		err = tlogfile.ReadRecords(f, func(i int64, r []byte) error {
			if i == *index {
				record = append([]byte(nil), r...)
			}
			return nil
		})
		f.Close()
		if err != nil {
			return err
		}
		proof, err := tree.ProveRecord(*index, cp.Size)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "inclusion of record %d in tree %d (root %s)\n", *index, cp.Size, b64(cp.Root[:]))
		h, _ := tree.RecordHash(*index)
		fmt.Fprintf(stdout, "record hash %s\n", b64(h[:]))
		for _, h := range proof {
			fmt.Fprintln(stdout, b64(h[:]))
		}
		if err := tlogfile.CheckRecord(cp, *index, record, proof); err != nil {
			return errFailed{"FAILED: " + err.Error()}
		}
		fmt.Fprintln(stdout, "OK")
		return nil
	}
	oldCP, err := checkpoint(*oldSize)
	if err != nil {
		return err
	}
	newCP, err := checkpoint(*newSize)
	if err != nil {
		return err
	}
	proof, err := tree.ProveTree(oldCP.Size, newCP.Size)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "consistency of tree %d (root %s) with tree %d (root %s)\n",
		oldCP.Size, b64(oldCP.Root[:]), newCP.Size, b64(newCP.Root[:]))
	for _, h := range proof {
		fmt.Fprintln(stdout, b64(h[:]))
	}
	if err := tlogfile.CheckTree(oldCP, newCP, proof); err != nil {
		return errFailed{"FAILED: " + err.Error()}
	}
	fmt.Fprintln(stdout, "OK")
	return nil
}

func hash(args []string, stdout io.Writer) error {
	fs := newFlags("hash")
	saltPath := fs.String("salt", "", "the salt file (hex)")
	if err := parse(fs, args, "salt"); err != nil {
		return err
	}
	b, err := os.ReadFile(*saltPath)
	if err != nil {
		return err
	}
	salt, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("hash: the salt file must hold hex: %w", err)
	}
	r, err := audit.NewRedactor(salt)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("hash: give the values to hash")
	}
	for _, v := range fs.Args() {
		fmt.Fprintln(stdout, r.Hash(v))
	}
	return nil
}
