package limits_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/limits"
)

// A budget of 2 requests and 100 rows a minute per principal. The guarded
// client calls Begin and End itself when vecguard.Options.Limiter is set.
func Example() {
	lim := limits.NewMemory(limits.Budget{Window: time.Minute, Requests: 2, Rows: 100}, nil)
	ctx := context.Background()
	r := &limits.Request{Subject: "alice", Tenant: "acme", Operation: "search"}
	for i := 0; i < 3; i++ {
		err := lim.Begin(ctx, r)
		var e *driver.Error
		if errors.As(err, &e) {
			fmt.Printf("request %d: %s, retry after %s\n", i, e.Code, e.RetryAfter.Round(time.Second))
			continue
		}
		fmt.Printf("request %d: allowed\n", i)
		fmt.Println("  60 rows returned, refused:", lim.End(ctx, r, 60, 0) != nil)
	}
	// Output:
	// request 0: allowed
	//   60 rows returned, refused: false
	// request 1: allowed
	//   60 rows returned, refused: true
	// request 2: resource exhausted, retry after 30s
}
