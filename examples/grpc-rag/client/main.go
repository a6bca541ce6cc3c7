// Command client runs the grpc-rag example's story against a running
// server: two tenants add and search documents, some requests are denied,
// a crawler runs out of budget, and an auditor reads the audit trail.
//
//	go run ./examples/grpc-rag/server &
//	go run ./examples/grpc-rag/client
//
// It reads the demo credentials the server wrote and plays each tenant's
// identity provider: it signs the users' tokens with the tenant's key.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/examples/grpc-rag/ragpb"
	"github.com/vecguard/vecguard/examples/grpc-rag/ragserver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	credsPath := flag.String("credentials", "grpc-rag-credentials.json", "the demo credentials the server wrote")
	caPath := flag.String("tls-ca", "", "CA certificate (PEM) of a TLS server; empty for plaintext")
	flag.Parse()

	if err := connectAndRun(*addr, *credsPath, *caPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func connectAndRun(addr, credsPath, caPath string, out io.Writer) error {
	creds, err := ragserver.LoadCredentials(credsPath)
	if err != nil {
		return err
	}
	transport := insecure.NewCredentials()
	if caPath != "" {
		pem, err := os.ReadFile(caPath)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return errors.New("no certificate in the CA file")
		}
		transport = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(transport))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return run(ctx, ragpb.NewRetrievalClient(cc), creds, out)
}

// caller is one identity of the story and the metadata it sends.
type caller struct {
	name string
	md   metadata.MD
}

func (c caller) ctx(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, c.md)
}

func bearer(t *ragserver.TenantCredentials, subject string, roles ...string) (caller, error) {
	tok, err := t.Token(subject, roles, 10*time.Minute)
	if err != nil {
		return caller{}, err
	}
	return caller{subject + "@" + t.Name, metadata.Pairs("authorization", "Bearer "+tok)}, nil
}

func apiKey(name, key string) caller {
	return caller{name, metadata.Pairs("x-api-key", key)}
}

var documents = map[string]struct {
	shared   []*ragpb.Document
	handbook []*ragpb.Document
}{
	"acme": {
		shared: []*ragpb.Document{
			{Id: 101, Title: "Acme vacation policy", Text: "Acme staff take 30 vacation days a year; plan vacation with your team."},
			{Id: 102, Title: "Acme expense rules", Text: "Acme expenses above 500 euros need approval."},
			{Id: 103, Title: "Acme Q3 roadmap", Text: "Acme ships the rocket skates in Q3."},
		},
		handbook: []*ragpb.Document{{Id: 111, Title: "Acme onboarding", Text: "Welcome to Acme: your first week."}},
	},
	"globex": {
		shared: []*ragpb.Document{
			{Id: 201, Title: "Globex vacation policy", Text: "Globex staff take 25 vacation days; vacation requests go to HR."},
			{Id: 202, Title: "Globex merger memo", Text: "Confidential: Globex plans to acquire Initech."},
			{Id: 203, Title: "Globex security rules", Text: "Globex badges must be worn at all times."},
		},
		handbook: []*ragpb.Document{{Id: 211, Title: "Globex onboarding", Text: "Welcome to Globex: the volcano lair tour."}},
	},
}

// run tells the story. Every call carries its caller's credentials; the
// tenant always comes from them.
func run(ctx context.Context, rag ragpb.RetrievalClient, creds *ragserver.Credentials, out io.Writer) error {
	acme, err := creds.Tenant("acme")
	if err != nil {
		return err
	}
	globex, err := creds.Tenant("globex")
	if err != nil {
		return err
	}
	alice, err := bearer(acme, "alice", ragserver.RoleReader)
	if err != nil {
		return err
	}
	carol, err := bearer(acme, "carol", ragserver.RoleAuditor)
	if err != nil {
		return err
	}
	bob, err := bearer(globex, "bob", ragserver.RoleReader)
	if err != nil {
		return err
	}
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	outcome := func(err error) string {
		st := status.Convert(err)
		return fmt.Sprintf("%s: %s", st.Code(), st.Message())
	}

	p("== 1. Each tenant's indexer adds documents (API key, role writer)")
	for _, t := range []*ragserver.TenantCredentials{acme, globex} {
		indexer := apiKey(t.Name+"-indexer", t.IndexerKey)
		docs := documents[t.Name]
		for coll, ds := range map[string][]*ragpb.Document{ragserver.SharedCollection: docs.shared, ragserver.HandbookCollection(t.Name): docs.handbook} {
			resp, err := rag.AddDocuments(indexer.ctx(ctx), &ragpb.AddDocumentsRequest{Collection: coll, Documents: ds})
			if err != nil {
				return fmt.Errorf("%s adding to %s: %s", indexer.name, coll, outcome(err))
			}
			p("%s added %d documents to %s", indexer.name, resp.GetAdded(), coll)
		}
	}

	p("\n== 2. Two tenants ask the shared collection the same question")
	for _, c := range []caller{alice, bob} {
		resp, err := rag.Search(c.ctx(ctx), &ragpb.SearchRequest{Collection: ragserver.SharedCollection, Query: "how many vacation days", TopK: 5})
		if err != nil {
			return fmt.Errorf("%s searching: %s", c.name, outcome(err))
		}
		p("%s searches %q for \"how many vacation days\":", c.name, ragserver.SharedCollection)
		for _, h := range resp.GetHits() {
			p("  %.2f  #%d %s", h.GetScore(), h.GetId(), h.GetTitle())
		}
	}

	p("\n== 3. Denied requests")
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": acme.Issuer, "aud": ragserver.Audience, "sub": "mallory", "tenant": "globex",
		"roles": []string{ragserver.RoleReader}, "exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString(acme.SigningKey)
	if err != nil {
		return err
	}
	denied := []struct {
		what string
		call func() error
	}{
		{alice.name + " searches globex_handbook", func() error {
			_, err := rag.Search(alice.ctx(ctx), &ragpb.SearchRequest{Collection: ragserver.HandbookCollection("globex"), Query: "onboarding"})
			return err
		}},
		{alice.name + " (a reader) adds a document", func() error {
			_, err := rag.AddDocuments(alice.ctx(ctx), &ragpb.AddDocumentsRequest{Collection: ragserver.SharedCollection, Documents: documents["acme"].shared[:1]})
			return err
		}},
		{"a token signed with acme's key that claims tenant globex", func() error {
			_, err := rag.Search(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+forged), &ragpb.SearchRequest{Collection: ragserver.SharedCollection, Query: "merger"})
			return err
		}},
		{"a call without credentials", func() error {
			_, err := rag.Search(ctx, &ragpb.SearchRequest{Collection: ragserver.SharedCollection, Query: "merger"})
			return err
		}},
		{bob.name + " reads the audit trail without the auditor role", func() error {
			s, err := rag.AuditTrail(bob.ctx(ctx), &ragpb.AuditTrailRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		}},
	}
	for _, d := range denied {
		err := d.call()
		if err == nil {
			return fmt.Errorf("%s was allowed", d.what)
		}
		p("%s\n  -> %s", d.what, outcome(err))
	}

	p("\n== 4. A crawler runs out of budget (3 searches a minute)")
	crawler := apiKey("globex-crawler", globex.CrawlerKey)
	for i := 1; ; i++ {
		var header metadata.MD
		_, err := rag.Search(crawler.ctx(ctx), &ragpb.SearchRequest{Collection: ragserver.SharedCollection, Query: fmt.Sprintf("page %d", i)}, grpc.Header(&header))
		if err == nil {
			p("search %d: ok", i)
			continue
		}
		delay, _ := grpcerr.RetryDelay(err)
		p("search %d -> %s\n  retry-after header: %s s, RetryInfo: %s", i, outcome(err),
			strings.Join(header.Get(grpcerr.RetryAfterKey), ","), delay.Round(time.Second))
		if i > 10 {
			return errors.New("the crawler's budget never ran out")
		}
		break
	}

	p("\n== 5. acme's audit trail, read by %s (role auditor)", carol.name)
	stream, err := rag.AuditTrail(carol.ctx(ctx), &ragpb.AuditTrailRequest{Limit: 20})
	if err != nil {
		return err
	}
	for {
		e, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("audit trail: %s", outcome(err))
		}
		line := fmt.Sprintf("  %-13s %-7s %-15s %-5s rule=%s results=%d", e.GetSubject(), e.GetOperation(), e.GetCollection(), e.GetDecision(), e.GetRule(), e.GetResultCount())
		if e.GetReason() != "" {
			line += " reason=" + e.GetReason()
		}
		if e.GetPolicyFilter() != "" {
			line += " policy=" + e.GetPolicyFilter()
		}
		p("%s", line)
	}
	return nil
}
