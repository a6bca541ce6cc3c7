// Package weaviate is the vecguard driver for Weaviate (tested against
// v1.35). It speaks REST through the official Go client
// (github.com/weaviate/weaviate-go-client/v5) for the schema and batch
// writes, and Weaviate's gRPC protocol for search, scroll, count and
// delete by filter — the protocol the client itself uses, called directly
// where the client has no typed wrapper (aggregate, filtered batch delete).
//
//	d, err := weaviate.Open(ctx, "127.0.0.1:8080", "127.0.0.1:50051", nil)
//	...
//	client := vecguard.New(d, &vecguard.Options{Authorizer: a})
//
// The guarded client does authorization, tenant isolation, encryption and
// audit; this package only maps vecguard's data model onto Weaviate's.
//
// # Collections
//
// A collection is a Weaviate class named ClassPrefix + an escape of its
// name that keeps only lowercase letters, digits and '_' ("myDocs" is
// "Vg_my_docs"), so names stay distinct in Weaviate's case-insensitive
// comparisons. Each named vector is a named vector of the class with
// vectorizer none and an HNSW index (cosine, dot, or l2-squared for
// Euclid). The collection spec itself (vector order, dimensions, tenant
// field) is kept as JSON in the class description; DescribeCollection reads
// it back. Classes are created with indexNullState, which IsNull and Exists
// need. Run the server with AUTOSCHEMA_ENABLED=false if you can: the driver
// checks that a class exists before it writes to it, but auto-schema would
// let any other writer recreate a dropped collection as a bare class.
//
// # Points
//
// Weaviate objects have UUIDs. Numeric IDs are mapped into a reserved UUID
// range (00000000-7667-8000 followed by the 8-byte big-endian number) and
// every object carries its point ID as a sortable text property, so reads
// return the same kind of ID that was written, scrolls run in vecguard's ID
// order (numeric IDs first) and ID filters are exact. UUID points inside the
// reserved range are refused.
//
// Declared fields become typed properties: string → text (tokenization
// "field", value wrapped in single quotes so Weaviate's whitespace trimming
// cannot make "a" equal "a "), float → number, bool → boolean, int → text
// holding a sortable decimal (Weaviate keeps int properties as float64, so
// values beyond ±2^53 would otherwise change). Undeclared and nested payload
// keys, and declared keys set to null, are stored as one JSON text property
// that keeps int64 and float64 apart. Payload text must be valid UTF-8.
//
// # Filters and scores
//
// Filters compile to Weaviate filters with exactly the semantics of package
// driver: Ne and NotIn are Not of Eq and In (true where the field is absent
// or null), IsNull is Weaviate's null-state filter, constant parts are
// folded. Weaviate's Not is also intersected with a filter matching every
// live object, because a bare Not counts deleted objects.
//
// Scores are converted from Weaviate's distances: cosine similarity is 1 −
// cosine distance, dot is the negated dot distance, Euclid is the square
// root of l2-squared. Search goes through Weaviate's approximate HNSW index
// (exact when a filter leaves few candidates); ties are ordered by ID.
//
// # Recall
//
// Encrypted collections are searched through the same HNSW index. With
// package sap's recall data (10,000 unit vectors, d = 384), recall@10 of
// the guarded client's encrypted search (4× oversampling, exact
// rescoring) is 1.000, 0.999, 0.991 and 0.947 at β = 0.5, 1, 1.5 and 3,
// the same as with exact search; Weaviate's own ranking of the ciphertexts
// gets 0.949, 0.905, 0.867 and 0.791. TestRecallWeaviate (-args -recall)
// measures it; BENCHMARKS.md has the full table.
//
// # Multi-tenancy
//
// With Options.NativeMultiTenancy, a collection with a tenant field is a
// multi-tenant class and each tenant value gets its own Weaviate tenant
// (shard), created on first write. The tenant property and every filter are
// kept as well, so isolation never rests on the tenant mapping alone.
//
// # Errors
//
// Errors are *driver.Error values with a code (NotFound for a missing
// collection, AlreadyExists, InvalidArgument, Unavailable, ...). Weaviate's
// own messages can quote property values, so for data operations only the
// HTTP status or gRPC code is kept; schema errors keep the server's message.
//
// # Testing
//
// The tests run against a real server named by VECGUARD_WEAVIATE_ADDR (REST
// host:port) and VECGUARD_WEAVIATE_GRPC_ADDR; without them the integration
// tests skip, with them and no server they fail. .ci/weaviate.sh builds,
// starts and stops a throwaway server on 127.0.0.1.
package weaviate
