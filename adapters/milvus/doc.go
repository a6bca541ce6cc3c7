// Package milvus is a vecguard driver for Milvus over the maintained Go
// client, milvusclient (github.com/milvus-io/milvus/client/v2, Milvus 2.6).
// It lives in a module of its own because Milvus's dependency graph is
// large: programs that do not use Milvus do not download it.
//
//	d, err := milvus.Open(ctx, &milvusclient.ClientConfig{Address: "localhost:19530"}, nil)
//	client := vecguard.New(d, &vecguard.Options{Authorizer: ..., Auditor: ...})
//
// New wraps a *milvusclient.Client the program already has. The driver
// implements driver.Driver, driver.ErrorClassifier and driver.SystemNamer
// ("milvus"); payload updates go through the client's read, change and
// upsert, as Milvus has no partial payload update.
//
// # Collections
//
// A collection gets one schema field per part of the spec:
//
//	_vg_id        VarChar(33) primary key: the point ID's sortable key
//	<vector>      FloatVector(dim) per vector, FLAT index, metric COSINE (Cosine),
//	              IP (Dot) or L2 (Euclid)
//	<field>       per declared field, nullable: VarChar(65535) for strings, Int64,
//	              Double, Bool; an INVERTED index when filterable. The tenant field
//	              is the partition key instead, which Milvus does not let be null:
//	              every point of a tenant-isolated collection must carry its tenant
//	              (the vecguard client sets it), or Upsert fails with InvalidArgument
//	_vg_payload   nullable JSON: the payload keys that are not declared fields
//
// The spec itself is kept as the collection property vecguard.spec, from
// which DescribeCollection answers. CreateCollection also builds the
// indexes and loads the collection (consistency level Strong); Milvus
// creates a collection with an existing schema again without complaint,
// so the driver checks first and answers AlreadyExists. Collection names
// may not contain '-', and field and vector names may not be words of
// Milvus's expression language (and, in, like, true, json_contains, ...),
// nor the driver's own columns, nor shared between a vector and a field.
//
// Point IDs become keys whose byte order is driver.PointID.Compare's order:
// "n" and 16 hex digits for a number, "u" and 32 for a UUID. A scroll is a
// query for "_vg_id > {after}" and the filter with limit+1, relying on
// Milvus answering a limited query with the rows of the smallest keys (as
// its QueryIterator does). Declared fields are stored in their own typed
// columns; the other payload keys as JSON written so that integers stay
// int64 and floats float64 (2.0, never 2). Milvus limits a JSON value to
// common.JSONMaxLength (64 KiB by default) and a VarChar to 65,535 bytes;
// larger payloads are refused with InvalidArgument, and strings must be
// valid UTF-8.
//
// # Filters
//
// A filter compiles to a Milvus boolean expression whose values all travel
// as template parameters ({p0}, {p1}, ... with WithTemplateParam): no value
// is ever written into the expression text, and every field name is
// checked against the spec and the expression grammar before it is
// written, so neither can change the expression's structure. Milvus keeps
// a not false on a row where its operand compared a null, while vecguard's
// Not is the plain complement, so negations are pushed down to the
// comparisons, each guarded: Ne(f, v) is "f is null or f != {p}", NotIn is
// "f is null or not (f in {p})", Not(Range) is "f is null or f < {lo} or
// f >= {hi}". A float bound on an integer field becomes the integer bound
// Filter.Match's float comparison implies. Constant parts (And(), Or(),
// In with no values, IsNull on the tenant field) are folded away; a filter
// that matches nothing is answered without a request.
//
// # Operations
//
//	Upsert    Upsert with column-based data, in requests of at most
//	          Options.BatchBytes (not atomic together); of points with one ID the
//	          last wins
//	Search    Search with the vector field, the filter and the projection's output
//	          fields, asking for offset+limit+1 results (more while the last ones
//	          tie); results are ordered by score, then ID; L2's squared distance
//	          becomes the Euclidean distance; the score threshold is applied last.
//	          offset + limit may not exceed 16384
//	Read      Query "_vg_id in {keys}" and the filter (read by IDs, in chunks of
//	          4096 keys), or the scroll query above
//	Count     Query with the output field count(*)
//	Delete    Delete with "_vg_id in {keys}" and/or the filter (template values in
//	          the DeleteRequest, which the SDK's delete option cannot carry)
//
// Search by example (the client's Recommend) reads the examples' vectors
// by ID and searches; no Milvus-specific API is used. A search, query,
// count or delete that Milvus answers with "collection not loaded" (after
// a restart, or a release by an operator) loads the collection and runs
// once more.
//
// # Errors
//
// The driver returns milvusclient's errors as they are, and
// *driver.Error values for what it refuses itself; ErrorCode classifies
// both: gRPC status codes, then Milvus's error codes (collection not found
// is NotFound, invalid parameters InvalidArgument, not loaded and index not
// found FailedPrecondition, rate and quota limits ResourceExhausted,
// privilege errors PermissionDenied or Unauthenticated, service not ready
// Unavailable). A collection Milvus has but that the driver did not create
// is FailedPrecondition. No error the driver makes contains a vector or a
// payload or filter value; Milvus's own messages name fields and lengths,
// and the expressions it echoes contain only placeholders.
//
// Programs that also link github.com/tink-crypto/tink-go (vecguard's
// encryption/keys does) must run with GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn
// or be built with
// -ldflags=-X=google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=warn:
// Tink and milvus-proto both register a protobuf file named common.proto,
// and the protobuf runtime refuses that by default at start-up. The two
// files declare different packages, so nothing else collides.
//
// # Live mode
//
// The tests run the conformance suite against internal/milvustest, a
// Milvus-protocol server over vecguard's embedded store, over real gRPC.
// With VECGUARD_MILVUS_ADDR set (host:port, or an http(s):// address;
// VECGUARD_MILVUS_TOKEN optionally holds an API key or user:password) they
// also run it against that Milvus, and fail if it cannot be reached. The
// suite's largest payload is about 80 KB, so that server needs
// common.JSONMaxLength of at least 1 MiB (milvus.yaml, or the environment
// variable COMMON_JSONMAXLENGTH of the standalone container).
package milvus
