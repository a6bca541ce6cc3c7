package audit

import (
	"context"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Class is the pgAudit-style class of an operation.
type Class string

// The operation classes.
const (
	ClassRead   Class = "READ"
	ClassWrite  Class = "WRITE"
	ClassDelete Class = "DELETE"
	ClassAdmin  Class = "ADMIN"
	ClassPolicy Class = "POLICY"
)

// Record is what the guarded client reports about one operation. Filters
// are kept as data; sinks render them redacted, never with plaintext values.
// A Record never holds a vector, a key, a token or a payload value.
type Record struct {
	Time       time.Time
	Subject    string
	Tenant     string
	Roles      []string
	Operation  string // "search", "upsert", ...
	Class      Class
	System     string // the database, as OpenTelemetry's db.system.name ("qdrant", "memory")
	Collection string

	PolicyFilter *driver.Filter // the authorizer's row filter and tenant isolation
	CallerFilter *driver.Filter // the caller's own filter

	TopK        int
	ResultCount int
	ResultIDs   []driver.PointID // when the client is configured to record them
	Vectors     int              // stored vectors returned (points returned with their vectors)

	Allowed bool
	Rule    string
	Reason  string

	Violations int // result rows dropped by the re-check (a driver bug)

	Latency time.Duration
	Code    driver.Code // Unknown with Err == "" means success
	Err     string      // the error text (never carries secrets)

	TraceID string
	SpanID  string
}

// Auditor receives one Record per guarded operation. The Record and the
// filters it points to are shared with the client (filters are cached by
// the authorizer): an Auditor must not modify them, and must copy what it
// keeps past the call. When Audit returns an
// error the client refuses the operation: results are withheld and the
// caller gets the error (fail closed).
type Auditor interface {
	Audit(ctx context.Context, r *Record) error
}
