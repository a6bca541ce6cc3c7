package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/examples/grpc-rag/ragserver"
	"github.com/vecguard/vecguard/vecguard/limits"
)

// TestStory runs the client's whole story against a server on a real
// listener on 127.0.0.1, through the credentials file, as the two programs
// do.
func TestStory(t *testing.T) {
	creds := ragserver.NewDemoCredentials("acme", "globex")
	credsPath := filepath.Join(t.TempDir(), "credentials.json")
	if err := creds.Save(credsPath); err != nil {
		t.Fatal(err)
	}
	pepper := make([]byte, 32)
	rand.Read(pepper)
	authenticator, err := creds.Authenticator(pepper)
	if err != nil {
		t.Fatal(err)
	}
	var auditLog bytes.Buffer
	srv, err := ragserver.New(context.Background(), ragserver.Config{
		Driver:        memory.New(),
		Authenticator: authenticator,
		Tenants:       []string{"acme", "globex"},
		Budgets:       map[string]limits.Budget{"globex-crawler": {Window: time.Hour, Requests: 3}},
		AuditOut:      &auditLog,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)

	// Load balancers probe without credentials.
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if resp, err := healthpb.NewHealthClient(cc).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check: %v, %v", resp, err)
	}

	var out bytes.Buffer
	err = connectAndRun(lis.Addr().String(), credsPath, "", &out)
	srv.Stop() // flushes the audit log
	story := out.String()
	t.Logf("client output:\n%s", story)
	if err != nil {
		t.Fatal(err)
	}

	sections := strings.Split(story, "\n== ")
	if len(sections) != 5 {
		t.Fatalf("%d sections", len(sections))
	}
	search := sections[1]
	aliceHits, bobHits, _ := strings.Cut(strings.SplitN(search, "alice@acme searches", 2)[1], "bob@globex searches")
	for _, c := range []struct {
		name, hits, own, other string
	}{
		{"alice", aliceHits, "Acme", "Globex"},
		{"bob", bobHits, "Globex", "Acme"},
	} {
		if !strings.Contains(c.hits, c.own+" vacation policy") {
			t.Errorf("%s does not find %s's vacation policy:\n%s", c.name, c.own, c.hits)
		}
		if strings.Contains(c.hits, c.other) {
			t.Errorf("%s sees %s's documents:\n%s", c.name, c.other, c.hits)
		}
	}

	for _, want := range []string{
		"alice@acme searches globex_handbook\n  -> PermissionDenied: vecguard: search globex_handbook: permission denied: read denied: not a collection of your tenant",
		"alice@acme (a reader) adds a document\n  -> PermissionDenied: vecguard: upsert docs: permission denied: write denied: needs the writer role",
		"a token signed with acme's key that claims tenant globex\n  -> Unauthenticated: vecguard: unauthenticated: token issuer not trusted for the tenant it claims",
		"a call without credentials\n  -> Unauthenticated: vecguard: unauthenticated: no credentials",
		"bob@globex reads the audit trail without the auditor role\n  -> PermissionDenied: the audit trail needs the auditor role",
		"search 1: ok\nsearch 2: ok\nsearch 3: ok\nsearch 4 -> ResourceExhausted: vecguard: search docs: resource exhausted",
		"  retry-after header: ",
	} {
		if !strings.Contains(story, want) {
			t.Errorf("story lacks %q", want)
		}
	}
	if strings.Contains(story, "retry-after header:  s") || strings.Contains(story, "RetryInfo: 0s") {
		t.Errorf("the budget refusal carries no retry-after")
	}

	// The audit trail the auditor read: acme's records only, the denial
	// among them.
	trail := sections[4]
	for _, want := range []string{
		"acme-indexer  upsert  docs            allow rule=writer",
		"alice         search  docs            allow rule=reader results=3 policy=tenant == hmac-sha256:",
		"alice         search  globex_handbook deny  rule=tenant-collections results=0 reason=not a collection of your tenant",
		"alice         upsert  docs            deny  rule=roles results=0 reason=needs the writer role",
	} {
		if !strings.Contains(trail, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, trail)
		}
	}
	if strings.Contains(trail, "globex-") || strings.Contains(trail, "bob") {
		t.Errorf("acme's auditor sees globex's records:\n%s", trail)
	}

	// The audit log has every record, with no secret in it.
	log := auditLog.String()
	if n := strings.Count(log, "\n"); n < 15 {
		t.Errorf("audit log has %d lines", n)
	}
	for _, tc := range creds.Tenants {
		for _, secret := range []string{tc.IndexerKey, tc.CrawlerKey, string(tc.SigningKey)} {
			if strings.Contains(log, secret) || strings.Contains(story, secret) {
				t.Errorf("a credential of %s leaked", tc.Name)
			}
		}
	}
	if strings.Contains(log, "vacation days") || strings.Contains(log, "Initech") {
		t.Error("the audit log holds document text")
	}
}
