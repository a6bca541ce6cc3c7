// Package memory is vecguard's embedded vector store: a driver.Driver that
// keeps every collection in process memory, with no server, and optionally
// persists it to a directory. It is the default driver for tests, examples
// and small deployments, and the reference the other adapters are measured
// against.
//
//	store := memory.New()                   // in memory only
//	store, err := memory.Open(dir, nil)     // persisted in dir
//	client := vecguard.New(store, &vecguard.Options{...})
//
// The Store's collections implement driver.Collection and
// driver.PayloadUpdater; the Store reports "memory" as its SystemName.
//
// # Guarantees
//
//   - Search is exact k-NN: every matching point is scored. Scores are the
//     cosine similarity and the dot product (higher is better) and the
//     Euclidean distance (lower is better); results come best first, ties
//     by ascending ID. A cosine score with a zero vector is 0.
//   - Filters mean exactly what driver.Filter.Match says; each candidate is
//     filtered before it is scored. Declared filterable string fields (the
//     tenant field among them) are indexed, so a search, count or scroll
//     under an equality or in-list on one of them, or under a HasID, only
//     visits the points that can match.
//   - Read by IDs returns the points that exist and match, in the order
//     asked. Scroll returns ascending ID order (numeric IDs, then UUIDs by
//     bytes); Page.Next is zero exactly when no matching point follows.
//   - Every point returned is a deep copy, and Upsert copies its input:
//     callers may change either freely.
//   - A Store is safe for concurrent use. Each collection has a read-write
//     lock: reads run in parallel, a write excludes the collection's reads.
//   - Long loops check their context every 4096 points.
//
// # Limits
//
// Memory holds every vector (4 bytes a component, in one contiguous slab
// per named vector) plus the payloads and an ID map: about 1.6 KB a point
// for one 384-dimension vector before payloads, plus about 100 bytes a point
// for each indexed (filterable string) field. Search is linear in the
// number of candidates: a few milliseconds per 10,000 points of 384
// dimensions on one core (BENCHMARKS.md has figures). There is no
// approximate index, and the whole state must fit in memory.
//
// # Persistence
//
// Open keeps a store in a directory with three files: snapshot, log and
// LOCK. Every write operation (create, drop, upsert, delete, payload update)
// appends one record to the log and, unless Options.NoSync, syncs it before
// it is applied and acknowledged. Deletes and payload updates record the IDs
// they selected, so replay never re-evaluates a filter. When the log has
// grown past Options.CompactBytes and past the snapshot's size, the store
// compacts: it writes the whole state to a new snapshot and starts an empty
// log. Writes wait during a compaction (the write that started it returns
// when it is done); reads go on.
//
// On Open the snapshot is replayed, then the log. An interrupted append
// leaves a torn record at the log's end: Open cuts it off, logs a warning
// and reports it through Store.Recovery; the operation it held had not been
// acknowledged. Damage anywhere else — a bad record followed by intact
// ones, an intact record that does not decode or apply, a bad snapshot —
// fails Open with DataLoss, so nothing is lost silently.
//
// Both files start with a 24-byte header: an 8-byte magic ("VGMEMLOG" or
// "VGMEMSNP"), a little-endian uint32 format version (1), a uint64
// generation and the CRC-32C (Castagnoli) of the 20 bytes before it. Then
// come records, each framed as
//
//	uint32 length of the body (1 .. 2^30), little-endian
//	uint32 CRC-32C of the 4 length bytes followed by the body
//	body:  one operation byte, then its fields
//
// Integers in bodies are varints (encoding/binary Uvarint, or Varint for
// payload integers); strings are a uvarint length and the bytes; vectors a
// uvarint count and little-endian IEEE 754 float32s; point IDs a tag byte
// (1: uvarint number, 2: 16 UUID bytes). Payload values carry a tag byte
// (0 null, 1 string, 2 int64, 3 float64 as its 8 IEEE 754 bytes, 4 false,
// 5 true, 6 list, 7 map with sorted keys), so int64 and float64 values come
// back with their types. The operations are 1 create (name, vectors, fields,
// tenant field), 2 drop, 3 upsert (points), 4 delete (IDs), 5 payload update
// (IDs, values to set, keys to unset) and, in snapshots only, 6 end (the
// number of records before it), which proves a snapshot complete.
//
// A compaction writes an empty log of generation g+1 and the snapshot of
// generation g+1 to temporary files and syncs them, renames the snapshot
// into place (the commit point), then the log. Open ignores a log older
// than the snapshot (its operations are all in the snapshot) and refuses a
// newer one. The LOCK file holds an flock while a Store has the directory
// open, so a second Open fails with FailedPrecondition.
//
// # Errors
//
// Operations on a missing or dropped collection fail with NotFound (also
// through a handle made for another spec than the collection's), a
// second CreateCollection with AlreadyExists, malformed input (which the
// vecguard client normally rejects first) with InvalidArgument, operations
// after Close with FailedPrecondition, and a failed log write with
// Unavailable. After a failed sync the store refuses writes until it is
// reopened. Messages never contain vectors or payload values.
package memory
