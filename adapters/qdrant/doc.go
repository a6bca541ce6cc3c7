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
// # Transparent mode
//
// Code that already uses a *qdrant.Client can be put behind a guarded
// client without changing a call: add UnaryClientInterceptor(guard) and
// StreamClientInterceptor(guard) to its Config.GrpcOptions with
// grpc.WithChainUnaryInterceptor and grpc.WithChainStreamInterceptor
// (grpc.WithUnaryInterceptor would replace the go-client's API-key
// interceptor). guard is a *vecguard.Client over this package's driver on a
// connection of its own. The caller's principal travels in the context
// (vecguard.WithPrincipal, or package grpcauth in a service).
//
// An enforced RPC is served by guard instead of Qdrant: the policy filter
// is AND-ed with the request's filter, example IDs are authorized, results
// are re-checked, vectors and payloads are encrypted and decrypted, and one
// audit record is written, exactly as for guard's own calls. A refused RPC
// fails with PermissionDenied and never reaches Qdrant. An RPC that is not
// in this table, and every streaming call, is refused. Refusals, and
// requests with an option transparent mode cannot honour (InvalidArgument),
// are audited as denials of the caller (vecguard.Client.Refuse). The health
// check is sent on unchanged.
//
//	RPC                                  treatment
//	qdrant.Points/Upsert                 enforced: Upsert (named vectors; no update_filter, update_mode, shard keys)
//	qdrant.Points/Delete                 enforced: Delete by IDs, or DeleteByFilter
//	qdrant.Points/Get                    enforced: Get
//	qdrant.Points/UpdateVectors          refused
//	qdrant.Points/DeleteVectors          refused
//	qdrant.Points/SetPayload             enforced: UpdatePayload (set; no key)
//	qdrant.Points/OverwritePayload       refused
//	qdrant.Points/DeletePayload          enforced: UpdatePayload (unset top-level keys)
//	qdrant.Points/ClearPayload           refused
//	qdrant.Points/CreateFieldIndex       refused (indexes follow the collection's spec)
//	qdrant.Points/DeleteFieldIndex       refused
//	qdrant.Points/Search                 enforced: Search
//	qdrant.Points/SearchBatch            enforced: one Search per request
//	qdrant.Points/SearchGroups           refused
//	qdrant.Points/Scroll                 enforced: Scroll (offset and next_page_offset kept Qdrant's)
//	qdrant.Points/Recommend              enforced: Recommend (average_vector, examples by ID)
//	qdrant.Points/RecommendBatch         enforced: one Recommend per request
//	qdrant.Points/RecommendGroups        refused
//	qdrant.Points/Discover               refused
//	qdrant.Points/DiscoverBatch          refused
//	qdrant.Points/Count                  enforced: Count
//	qdrant.Points/UpdateBatch            enforced: each upsert, delete, set or delete payload in order; any other operation refuses the batch
//	qdrant.Points/Query                  enforced: nearest by vector (Search), nearest by ID and recommend by IDs (Recommend)
//	qdrant.Points/QueryBatch             enforced: one Query per request
//	qdrant.Points/QueryGroups            refused
//	qdrant.Points/Facet                  refused
//	qdrant.Points/SearchMatrixPairs      refused
//	qdrant.Points/SearchMatrixOffsets    refused
//	qdrant.Collections/Get               enforced: DescribeCollection (vectors and indexes; no point count)
//	qdrant.Collections/List              enforced: ListCollections (the readable ones)
//	qdrant.Collections/Create            enforced: CreateCollection (named vectors; a spec in metadata declares fields)
//	qdrant.Collections/Update            refused
//	qdrant.Collections/Delete            enforced: DropCollection (false for a missing collection)
//	qdrant.Collections/UpdateAliases     refused
//	qdrant.Collections/ListCollectionAliases refused
//	qdrant.Collections/ListAliases       refused
//	qdrant.Collections/CollectionClusterInfo refused
//	qdrant.Collections/CollectionExists  enforced: DescribeCollection
//	qdrant.Collections/UpdateCollectionClusterSetup refused
//	qdrant.Collections/CreateShardKey    refused
//	qdrant.Collections/DeleteShardKey    refused
//	qdrant.Collections/ListShardKeys     refused
//	qdrant.Qdrant/HealthCheck            sent on
//	qdrant.Snapshots/*, anything else    refused
//
// Request filters are translated back into vecguard filters on top-level
// fields: must, should, must_not, min_should (up to 256 terms), match
// keyword / integer / bool / any / except, range, is_empty, is_null (served
// as vecguard's IsNull: absent or null) and has_id. Full-text, geo,
// datetime, values_count, nested and has_vector conditions are refused with
// InvalidArgument, as are request features the table does not name.
// Differences an unchanged client can notice: a score equal to the score
// threshold is kept; match integer on a float field matches equal whole
// floats (vecguard compares numbers by value); set_payload by IDs ignores IDs that do not exist (or
// that the caller may not write) instead of failing; a missing collection
// in Get and CollectionExists needs the read right to be told apart.
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
