// Package qdrant is the vecguard driver for Qdrant, over the official Go
// client (github.com/qdrant/go-client, gRPC). Build a guarded client on it:
//
//	qd, err := qdrant.Open(&qdrantclient.Config{Host: "localhost", Port: 6334}, nil)
//	if err != nil { ... }
//	client := vecguard.New(qd, &vecguard.Options{Authorizer: ...})
//	defer client.Close()
//
// or pass an existing *qdrant.Client to New. (Both packages are named
// qdrant; import one of them under another name.)
//
// # Mapping
//
// A collection is a Qdrant collection of named dense vectors (Cosine, Dot or
// Euclid). Its vecguard spec is kept in the collection's metadata, so
// DescribeCollection returns it exactly (Qdrant 1.16 or later); collections
// created by other tools are described from their configuration. Every
// filterable field gets a payload index of its kind (keyword, integer,
// float, bool); the tenant field's keyword index has is_tenant=true, as
// Qdrant's multitenancy guide asks.
//
// Numeric point IDs are Qdrant's num IDs and UUIDs its uuid IDs. Payload
// values map to Qdrant's Value type one to one; int64 is integer_value and
// float64 double_value, so integers come back as integers.
//
// Search uses the Query API (a nearest query with using = the vector name).
// Qdrant stores Cosine vectors normalized, so they come back normalized.
// Read by IDs uses Get, or a scroll restricted to the IDs when there is a
// filter. Scroll translates vecguard's exclusive cursor into Qdrant's
// inclusive offset. Count is exact. Payload updates are one batch of
// set_payload and delete_payload selected by filter. Recommendation by
// example is done by the guarded client (it authorizes the examples, reads
// their vectors and searches), not by Qdrant's recommend.
//
// Filters translate node by node; the differences between Qdrant's
// semantics and vecguard's are handled as follows:
//
//	vecguard             Qdrant
//	nil, And()           no filter, {} (true)
//	And(a, b)            {must: [a, b]}
//	Or(a, b)             {should: [a, b]}
//	Or(), None()         {must_not: [{}]} (false; an empty should is true)
//	Not(a)               {must_not: [a]}
//	Eq(f, "s")           match keyword
//	Eq(f, 7) int field   match integer
//	Eq(f, x) float field range gte x lte x (match integer skips doubles)
//	Eq(f, true)          match bool
//	Ne(f, v)             {must_not: [Eq(f, v)]} (true on absent and null)
//	In(f, ...)           match any (keywords / integers), ranges, bools
//	In(f)                false
//	NotIn(f, ...)        {must_not: [In(f, ...)]} (match except is false on
//	                     absent and null, so it is not used)
//	Gt, Gte, Lt, Lte     range gt / gte / lt / lte
//	Exists(f)            {must_not: [is_empty f]}
//	IsNull(f)            is_empty f (absent or null; is_null is only an
//	                     explicit null)
//	HasID(ids...)        has_id
//
// Range bounds travel as float64, as Qdrant's range does: integer bounds
// beyond 2^53 are rounded.
//
// # Errors
//
// The driver returns the client's gRPC status errors and classifies them
// through ErrorCode: NotFound (a missing collection), AlreadyExists
// (creating an existing collection; InvalidArgument "already exists" from
// Qdrant before 1.8), InvalidArgument, PermissionDenied and Unauthenticated
// (API key or JWT), ResourceExhausted, Unavailable, DeadlineExceeded and
// Canceled. Dropping a collection that does not exist is NotFound. When
// Qdrant rate-limits a request with a retry-after, the go-client reports it
// as *qdrant.QdrantResourceExhaustedError and the driver returns a
// *driver.Error with Code ResourceExhausted and RetryAfter set. The driver's
// own errors never contain vectors or payload values.
//
// # Live mode
//
// The driver's tests run the conformance suite against an in-process
// Qdrant-protocol server. To run it against a real Qdrant as well, start
// one and point VECGUARD_QDRANT_ADDR at its gRPC port:
//
//	docker run -p 6333:6333 -p 6334:6334 qdrant/qdrant
//	VECGUARD_QDRANT_ADDR=localhost:6334 go test -race ./adapters/qdrant/
//
// With the variable set the suite fails, never skips, when Qdrant cannot be
// reached. It creates collections named vgt_* and drops them afterwards.
// The live run uses exact search, so results are held to the exact top-k.
package qdrant
