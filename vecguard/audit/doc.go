// Package audit records every operation of the guarded client in an audit
// log that is redacted, tamper-evident and never loses a record silently.
//
// The client calls an Auditor once per operation with a Record. A Logger is
// the Auditor to use: it redacts the Record into an Entry, queues it, and
// a single writer hands batches to a Sink. Package tlogfile provides the
// tamper-evident file Sink and its verifier; the command vgaudit (in
// audit/cmd/vgaudit) checks a log from the shell.
//
//	lg, _ := tlogfile.Open("audit.log", signerKey, nil)
//	logger, _ := audit.New(lg, &audit.Options{Salt: salt})
//	client := vecguard.New(drv, &vecguard.Options{Auditor: logger, ...})
//	defer logger.Close()
//
// # Records
//
// One record per guarded operation, allowed or not: the time; the principal
// (subject, tenant, roles); the operation and its class (READ, WRITE,
// DELETE, ADMIN, POLICY, after pgAudit's classes); the database
// (db.system.name) and collection; the effective filter in two parts, the
// policy's (tenant isolation and the authorizer's row filter) and the
// caller's; top-k, the result count, the result IDs (with
// vecguard.Options.RecordResultIDs) and how many stored vectors were
// returned; the decision (allow or deny), the rule that decided and its
// reason; the rows the re-check dropped; latency; the error code and text;
// the trace and span IDs of the operation's span when there is one.
//
// A record never holds a vector, a key, a token or a payload value: the
// client does not put them in a Record, and filter values are redacted.
//
// # Redaction
//
// A Redactor replaces sensitive strings with their HMAC-SHA256 under a
// per-log salt, written "hmac-sha256:<hex>", as Vault's audit devices do.
// Filters are rendered with field names, operators and point IDs readable
// and every value hashed: strings over their bytes, and numbers and
// booleans too, over their decimal text (ValueText), so that Int(5) and
// Float(5) hash alike, as they match alike. A number in a filter (an age, a
// salary bound) can be as revealing as a string; values from a small
// domain can still be told apart by frequency. Redactor.Hash (or vgaudit
// hash) hashes a known value so an operator who holds the salt can search
// the log for it. Subject, tenant, roles, collection and rule names are
// written as they are: an audit log must say who did what where. Error
// texts are the client's, which never carry payload values; a driver whose
// raw errors echo request values would leak them here.
//
// # Sinks and back-pressure
//
// A Sink has one method, Handle(ctx, batch); any slog.Handler becomes one
// with SlogSink, any io.Writer with NewJSONSink, several with Multi, and
// package tlogfile writes the tamper-evident file. Multi follows Vault's
// rule: a batch counts as recorded when at least one sink records it (or
// every sink, with RequireAll); every failure is counted and reported.
//
// The Logger's queue is bounded (Options.QueueSize) and the writer takes up
// to Options.BatchSize entries per Handle. Options.Mode says when Audit
// returns: Sync once the entry's batch is recorded (group commit), Async
// once it is queued. Options.Policy says what happens when the queue is
// full or the sink fails, and nothing is ever lost silently:
//
//   - Refuse (the default) fails closed. Audit fails, and the client
//     refuses the operation and withholds its results, when the entry
//     cannot be queued or (Sync) its batch was not recorded. In Async mode
//     a failed batch is kept and retried and new entries are refused until
//     it is recorded. The Logger is a Gate: the client asks Ready before a
//     write, delete or admin operation, so such an operation is refused
//     before it changes anything while the log is known to fail. A sink
//     that fails between Ready and the end of the operation still fails the
//     operation after its change: the caller sees the error, the failure is
//     counted and reported.
//   - Block waits for room in the queue, bounded by the context the client
//     passes, and retries a failed batch until the sink takes it. The
//     guarded client passes the caller's context for reads, but for write,
//     delete and admin operations (whose change is already made) a context
//     the caller's cancellation does not end: with a stuck sink, such a
//     caller waits until the sink recovers or the Logger is closed.
//   - Drop drops the entry or batch, counts it (Stats.Dropped, the
//     vecguard.audit.dropped metric) and reports it to Options.ErrorHandler.
//
// # Tamper evidence
//
// The file sink (tlogfile.Log) is a Merkle-tree log: each record is a leaf
// hashed as RFC 6962 says (golang.org/x/mod/sumdb/tlog), and each batch
// ends with a checkpoint, the tree size and root signed with Ed25519 as a
// note (golang.org/x/mod/sumdb/note), and the leaf hashes of the batch.
// tlogfile.Verify (vgaudit verify) names the first modified, deleted,
// inserted or reordered record by index and line, and a forged or replayed
// checkpoint. Inclusion proofs (a record is in a signed tree) and
// consistency proofs (an older signed tree is a prefix of a newer one) come
// from tlogfile.Tree. A log cut short together with its last checkpoints
// is detected only against a checkpoint kept elsewhere: ship them with
// tlogfile.Options.OnCheckpoint and pass them to Verify.
//
// # Crash safety
//
// In Sync mode a record is acknowledged only after the write of its batch
// (and, unless tlogfile.Options.NoSync, its fsync) returned, so an
// acknowledged record survives a kill of the process (and, with fsync, of
// the machine). A crash in the middle of a write leaves a torn last line:
// Verify reports it and checks everything before it; tlogfile.Open cuts it
// off, signs complete records left after the last checkpoint, and reports
// both in its Recovery. In Async mode the records still queued when the
// process dies are lost; Stats and the metrics show the queue depth.
//
// # Telemetry
//
// The Logger's counters (Stats: written, dropped, refused, failures, queue
// depth) are exported by the client as the metrics vecguard.audit.dropped,
// vecguard.audit.failures and vecguard.audit.queue.depth when
// vecguard.Options.MeterProvider is set. The client's spans follow
// OpenTelemetry's database conventions and each record carries the trace
// and span IDs of its operation's span.
//
// # Limits
//
// Anti-extraction budgets (requests, rows and vectors returned, scroll and
// count calls per principal) live in package limits; a refusal is recorded
// with decision deny, rule "limits" and the budget in the reason.
package audit
