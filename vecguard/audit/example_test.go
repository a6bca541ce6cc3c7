package audit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// A Logger writing JSON lines to stdout. The filter value is redacted;
// Redactor().Hash finds it again.
func Example() {
	logger, err := audit.New(audit.NewJSONSink(os.Stdout), &audit.Options{
		Salt: []byte("example salt of at least 16 bytes"),
		Mode: audit.Sync, Policy: audit.Refuse,
	})
	if err != nil {
		panic(err)
	}
	defer logger.Close()
	err = logger.Audit(context.Background(), &audit.Record{
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Subject: "alice", Tenant: "acme", Operation: "search", Class: audit.ClassRead,
		System: "memory", Collection: "docs", CallerFilter: driver.Eq("author", driver.String("Jane Doe")),
		TopK: 5, ResultCount: 5, Allowed: true, Rule: "readers",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(logger.Redactor().Hash("Jane Doe"), "hmac-sha256:"))
	// Output:
	// {"time":"2026-01-02T03:04:05Z","subject":"alice","tenant":"acme","op":"search","class":"READ","db_system":"memory","collection":"docs","caller_filter":"author == hmac-sha256:a29f3612238db1ff7d8cacaa25c114c0ee1b1251bb66027b4d124d205391f03c","top_k":5,"result_count":5,"decision":"allow","rule":"readers","latency_ns":0}
	// true
}
