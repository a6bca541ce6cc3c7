// Package tlogfile is vecguard's tamper-evident audit file: an
// append-only file of JSON-lines records with, after each appended batch,
// a signed checkpoint of the Merkle tree over all records.
//
// Records are the leaves of an RFC 6962 tree (golang.org/x/mod/sumdb/tlog).
// A checkpoint is the C2SP tlog-checkpoint text (origin, size, base64 root
// hash) signed with Ed25519 as a note (golang.org/x/mod/sumdb/note); its
// line also lists the leaf hashes of the batch, which the signed root
// authenticates, so Verify can name the exact record that changed.
//
// # Writing
//
// Open a Log with a signer key from GenerateKey and use it as the Sink of
// an audit.Logger. Each Handle call is one write and one fsync, so a
// Logger in Sync mode commits in groups. Open verifies an existing file and
// refuses a changed one; it cuts off a torn last line and signs records
// left after the last checkpoint (see Recovery).
//
// # Verifying
//
// Verify (or the command vgaudit) checks a file against the verifier key:
// it returns a *Problem naming the first modified, deleted, inserted or
// reordered record (index, line, offset) or the bad checkpoint. A log cut
// short with its last checkpoints verifies on its own; pass checkpoints
// kept elsewhere (Options.OnCheckpoint) in VerifyOptions.Known to detect
// it. Records after the last checkpoint are reported as unsigned: nothing
// protects them until the next checkpoint.
//
// # Proofs
//
// Load builds the tree of a verified log: Tree.ProveRecord and CheckRecord
// prove a record is in a signed tree, Tree.ProveTree and CheckTree that an
// older signed tree is a prefix of a newer one.
package tlogfile
