// Command quickstart shows vecguard on the embedded store, with no server:
// two tenants share one collection, principals of each search it, row rules
// narrow what an analyst sees, cross-tenant attempts are refused, and the
// run ends by verifying its own tamper-evident audit log.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/internal/toyembed"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/audit/tlogfile"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

//go:embed policy.csv
var policy string

type doc struct {
	id           uint64
	dept, status string
	title, text  string
}

var acmeDocs = []doc{
	{1, "finance", "final", "Q3 revenue report", "Quarterly revenue grew 12 percent on cloud subscriptions"},
	{2, "finance", "draft", "Q4 revenue forecast (draft)", "Draft forecast of quarterly revenue and margin for Q4"},
	{3, "engineering", "final", "Search latency postmortem", "Latency of the search cluster doubled after the index rebuild"},
	{4, "public", "final", "Acme press release", "Acme announces record quarterly revenue and new offices"},
}

var globexDocs = []doc{
	{101, "finance", "final", "Globex revenue memo", "Globex quarterly revenue fell on hardware sales"},
	{102, "legal", "final", "Globex merger terms", "Confidential merger terms and revenue targets"},
	{103, "public", "final", "Globex hiring news", "Globex hires engineers for its robotics team"},
}

// out receives what the program prints (tests read it).
var out io.Writer = os.Stdout

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()
	fmt.Fprintln(out, "vecguard quickstart: the embedded store, no server.")
	fmt.Fprintln(out, "Embeddings come from a deterministic toy embedder (hashed words), not a real model.")

	// The audit log: a signed Merkle-tree file in a temporary directory.
	dir, err := os.MkdirTemp("", "vecguard-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	auditPath := filepath.Join(dir, "audit.log")
	signer, verifier, err := tlogfile.GenerateKey("quickstart.audit")
	if err != nil {
		return err
	}
	var checkpoints []*tlogfile.Checkpoint
	logFile, err := tlogfile.Open(auditPath, signer, &tlogfile.Options{
		OnCheckpoint: func(c *tlogfile.Checkpoint) { checkpoints = append(checkpoints, c) },
	})
	if err != nil {
		return err
	}
	auditor, err := audit.New(logFile, &audit.Options{Mode: audit.Sync, Policy: audit.Refuse})
	if err != nil {
		return err
	}

	// The policy, and the guarded client over the embedded store.
	authorizer, err := casbinauthz.New(casbinauthz.Text(policy), nil)
	if err != nil {
		return err
	}
	client := vecguard.New(memory.New(), &vecguard.Options{
		Authorizer: authorizer, Auditor: auditor, RecordResultIDs: true,
	})

	as := func(subject, tenant string, roles []string, attrs map[string]any) context.Context {
		return vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: subject, Tenant: tenant, Roles: roles, Attributes: attrs})
	}
	ops := as("ops", "", []string{"platform-admin"}, nil)
	acmeIngest := as("acme-ingest", "acme", []string{"ingest"}, nil)
	globexIngest := as("globex-ingest", "globex", []string{"ingest"}, nil)
	alice := as("alice", "acme", []string{"analyst"}, map[string]any{"department": "finance"})
	carol := as("carol", "acme", []string{"contractor"}, nil)
	bob := as("bob", "globex", []string{"analyst"}, map[string]any{"department": "finance"})

	step("1. The platform operator creates one collection shared by two tenants")
	err = client.CreateCollection(ops, vecguard.CollectionSpec{
		Name:    "docs",
		Vectors: []vecguard.VectorSpec{{Name: "text", Dim: toyembed.Dim, Distance: vecguard.Cosine}},
		Fields: []vecguard.FieldSpec{
			{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
			{Name: "department", Kind: vecguard.KindString, Filterable: true},
			{Name: "status", Kind: vecguard.KindString, Filterable: true},
			{Name: "title", Kind: vecguard.KindString},
			{Name: "text", Kind: vecguard.KindString},
		},
		TenantField: "tenant",
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "   collection \"docs\": tenant field \"tenant\", so every row belongs to one tenant")

	step("2. Each tenant's ingestion service writes its documents")
	for _, w := range []struct {
		ctx  context.Context
		name string
		docs []doc
	}{{acmeIngest, "acme", acmeDocs}, {globexIngest, "globex", globexDocs}} {
		if err := client.Upsert(w.ctx, "docs", points(w.docs)); err != nil {
			return err
		}
		fmt.Fprintf(out, "   %s-ingest wrote %d documents (the guard filled in tenant=%q)\n", w.name, len(w.docs), w.name)
	}

	query := "quarterly revenue"
	step(fmt.Sprintf("3. Principals search for %q", query))
	for _, who := range []struct {
		ctx  context.Context
		desc string
	}{
		{alice, "alice (acme, analyst, department finance)"},
		{carol, "carol (acme, contractor)"},
		{bob, "bob (globex, analyst, department finance)"},
	} {
		hits, err := client.Search(who.ctx, "docs", vecguard.SearchRequest{
			Vector: toyembed.Embed(query), Limit: 5, PayloadFields: []string{"tenant", "department", "title"},
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   %s sees:\n", who.desc)
		for _, h := range hits {
			fmt.Fprintf(out, "     %.2f  [%s/%s] %s\n", h.Score, h.Payload["tenant"], h.Payload["department"], h.Payload["title"])
		}
	}
	fmt.Fprintln(out, "   alice's row rule: her department or public, never drafts (doc 2 is a draft);")
	fmt.Fprintln(out, "   carol sees public documents only; bob sees globex rows only.")

	step("4. Attempts to cross tenants or rules are refused")
	evil := points([]doc{{999, "finance", "final", "Injected", "text planted in another tenant"}})
	evil[0].Payload["tenant"] = "acme"
	explain("globex-ingest writes a row into tenant acme", client.Upsert(globexIngest, "docs", evil))

	hits, err := client.Search(bob, "docs", vecguard.SearchRequest{
		Vector: toyembed.Embed(query), Limit: 5, Filter: vecguard.Eq("tenant", vecguard.String("acme")),
	})
	explain(fmt.Sprintf("bob filters on tenant == \"acme\" (a caller's filter narrows, never widens): %d results", len(hits)), err)

	got, err := client.Get(bob, "docs", []vecguard.PointID{vecguard.NumID(1)}, vecguard.ReadOptions{WithPayload: true})
	explain(fmt.Sprintf("bob reads acme's document 1 by ID: %d found (it behaves as a missing row)", len(got)), err)

	explain("carol deletes a document", client.Delete(carol, "docs", []vecguard.PointID{vecguard.NumID(4)}))
	explain("alice drops the collection", client.DropCollection(alice, "docs"))

	step("5. The audit log: one record per operation, values redacted, tamper-evident")
	if err := auditor.Close(); err != nil {
		return err
	}
	report, err := tlogfile.VerifyFile(auditPath, verifier, &tlogfile.VerifyOptions{Known: checkpoints})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "   verify:", report)
	acme := auditor.Redactor().Hash("acme")
	f, err := os.Open(auditPath)
	if err != nil {
		return err
	}
	defer f.Close()
	return tlogfile.ReadRecords(f, func(i int64, line []byte) error {
		e, err := audit.ParseEntry(line)
		if err != nil {
			return err
		}
		who := e.Subject
		if e.Tenant != "" {
			who = e.Tenant + "/" + e.Subject
		}
		outcome := e.Decision
		if e.Decision == "deny" {
			outcome += " (" + e.Reason + ")"
		} else if e.Operation == "search" || e.Operation == "get" {
			outcome += fmt.Sprintf(", %d rows %v", e.ResultCount, e.ResultIDs)
		}
		fmt.Fprintf(out, "   #%-2d %-6s %-17s %-20s %s\n", i, e.Class, e.Operation, who, outcome)
		if e.CallerFilter != "" {
			fmt.Fprintf(out, "       caller filter %s  (the hashed value is \"acme\": %v)\n",
				e.CallerFilter, strings.Contains(e.CallerFilter, acme))
		}
		return nil
	})
}

func points(docs []doc) []vecguard.Point {
	out := make([]vecguard.Point, len(docs))
	for i, d := range docs {
		out[i] = vecguard.Point{
			ID:      vecguard.NumID(d.id),
			Vectors: map[string][]float32{"text": toyembed.Embed(d.title + " " + d.text)},
			Payload: map[string]any{"department": d.dept, "status": d.status, "title": d.title, "text": d.text},
		}
	}
	return out
}

func step(s string) { fmt.Fprintf(out, "\n%s\n", s) }

// explain prints what happened: refused (with the typed error's reason) or done.
func explain(what string, err error) {
	switch {
	case errors.Is(err, vecguard.ErrPermissionDenied):
		fmt.Fprintf(out, "   %s -> refused: %v\n", what, err)
	case err != nil:
		fmt.Fprintf(out, "   %s -> error: %v\n", what, err)
	default:
		fmt.Fprintf(out, "   %s -> ok\n", what)
	}
}
