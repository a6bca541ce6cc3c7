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
// # Transparent mode
//
// Code that already uses a *milvusclient.Client can be put behind a
// guarded client without changing a call: add UnaryClientInterceptor(guard,
// opts) and StreamClientInterceptor(guard) to its ClientConfig.DialOptions with
// grpc.WithChainUnaryInterceptor and grpc.WithChainStreamInterceptor.
// guard is a *vecguard.Client over this package's driver on a connection
// of its own; the caller's principal travels in the context
// (vecguard.WithPrincipal, or package grpcauth in a service).
//
// An enforced RPC is served by guard instead of Milvus: the caller's
// expression (template values included) becomes a filter with Milvus's
// meaning (null rules included), the policy filter is AND-ed with it,
// results are re-checked, vectors and payloads are encrypted and
// decrypted, and one audit record is written, exactly as for guard's own
// calls. Expressions may use comparisons, in / not in, is null, and / or /
// not on the declared fields and on _vg_id (equality and in only); like,
// JSON paths and functions, and the payload column are refused with
// InvalidArgument (so is milvusclient's QueryIterator, which pages with
// "_vg_id > ..."). The application sees each collection as the driver
// lays it out: the _vg_id key (which it must fill with point keys when it
// inserts), one column per declared field, _vg_payload for the rest. The
// interceptor learns a collection's spec from guard's DescribeCollection
// the first time a request names it (one more audit record). A delete
// reports a count of 0. An admin RPC is sent on to Milvus unchanged once
// InterceptorOptions' Authorizer grants authz.Admin on the collection it
// names ("" for users, roles and privileges) and its Auditor, when set,
// has recorded it; without an Authorizer it is refused. A refused RPC fails
// with PermissionDenied and never reaches Milvus; so does every RPC not in
// this table (newer versions of the service add some) and every streaming
// call. Refusals, and requests with an option transparent mode cannot
// honour (InvalidArgument), are audited as denials of the caller through
// guard (vecguard.Client.Refuse).
//
//	RPC                                         treatment
//	MilvusService/CreateCollection              refused (create collections through vecguard: a Milvus schema carries no spec)
//	MilvusService/DropCollection                enforced: DropCollection
//	MilvusService/HasCollection                 enforced: DescribeCollection
//	MilvusService/LoadCollection                enforced: DescribeCollection, then success (the driver keeps collections loaded)
//	MilvusService/ReleaseCollection             admin: sent on after the admin gate
//	MilvusService/DescribeCollection            enforced: DescribeCollection; the schema the driver lays out
//	MilvusService/BatchDescribeCollection       refused
//	MilvusService/GetCollectionStatistics       admin: sent on after the admin gate
//	MilvusService/ShowCollections               enforced: ListCollections (the readable ones)
//	MilvusService/AlterCollection               admin: sent on after the admin gate
//	MilvusService/AlterCollectionField          admin: sent on after the admin gate
//	MilvusService/AddCollectionFunction         refused
//	MilvusService/AlterCollectionFunction       refused
//	MilvusService/DropCollectionFunction        refused
//	MilvusService/CreatePartition               refused
//	MilvusService/DropPartition                 refused
//	MilvusService/HasPartition                  refused
//	MilvusService/LoadPartitions                refused
//	MilvusService/ReleasePartitions             refused
//	MilvusService/GetPartitionStatistics        refused
//	MilvusService/ShowPartitions                refused
//	MilvusService/GetLoadingProgress            enforced: DescribeCollection; 100
//	MilvusService/GetLoadState                  enforced: DescribeCollection; loaded
//	MilvusService/CreateAlias                   refused
//	MilvusService/DropAlias                     refused
//	MilvusService/AlterAlias                    refused
//	MilvusService/DescribeAlias                 refused
//	MilvusService/ListAliases                   refused
//	MilvusService/CreateIndex                   admin: sent on after the admin gate
//	MilvusService/AlterIndex                    admin: sent on after the admin gate
//	MilvusService/DescribeIndex                 admin: sent on after the admin gate
//	MilvusService/GetIndexStatistics            refused
//	MilvusService/GetIndexState                 refused
//	MilvusService/GetIndexBuildProgress         refused
//	MilvusService/DropIndex                     admin: sent on after the admin gate
//	MilvusService/Insert                        enforced: Upsert (an existing key is replaced)
//	MilvusService/Delete                        enforced: Delete for "_vg_id in [...]", DeleteByFilter otherwise
//	MilvusService/Upsert                        enforced: Upsert (no partial update)
//	MilvusService/Search                        enforced: Search per query vector (one ANN field; no partitions, grouping, range search or function scores)
//	MilvusService/HybridSearch                  enforced: a Search per request, fused by RRF (the weighted ranker is refused)
//	MilvusService/Flush                         admin: sent on after the admin gate
//	MilvusService/Query                         enforced: Count for count(*); Get for "_vg_id in [...]"; Scroll otherwise, in key order
//	MilvusService/CalcDistance                  refused
//	MilvusService/FlushAll                      refused
//	MilvusService/AddCollectionField            refused
//	MilvusService/GetFlushState                 refused
//	MilvusService/GetFlushAllState              refused
//	MilvusService/GetPersistentSegmentInfo      refused
//	MilvusService/GetQuerySegmentInfo           refused
//	MilvusService/GetReplicas                   refused
//	MilvusService/Dummy                         refused
//	MilvusService/RegisterLink                  refused
//	MilvusService/GetMetrics                    refused
//	MilvusService/GetComponentStates            refused
//	MilvusService/LoadBalance                   refused
//	MilvusService/GetCompactionState            refused
//	MilvusService/ManualCompaction              admin: sent on after the admin gate
//	MilvusService/GetCompactionStateWithPlans   refused
//	MilvusService/Import                        refused
//	MilvusService/GetImportState                refused
//	MilvusService/ListImportTasks               refused
//	MilvusService/CreateCredential              admin: sent on after the admin gate
//	MilvusService/UpdateCredential              admin: sent on after the admin gate
//	MilvusService/DeleteCredential              admin: sent on after the admin gate
//	MilvusService/ListCredUsers                 admin: sent on after the admin gate
//	MilvusService/CreateRole                    admin: sent on after the admin gate
//	MilvusService/DropRole                      admin: sent on after the admin gate
//	MilvusService/OperateUserRole               admin: sent on after the admin gate
//	MilvusService/SelectRole                    admin: sent on after the admin gate
//	MilvusService/SelectUser                    admin: sent on after the admin gate
//	MilvusService/OperatePrivilege              admin: sent on after the admin gate
//	MilvusService/OperatePrivilegeV2            admin: sent on after the admin gate
//	MilvusService/SelectGrant                   admin: sent on after the admin gate
//	MilvusService/GetVersion                    sent on
//	MilvusService/CheckHealth                   sent on
//	MilvusService/CreateResourceGroup           refused
//	MilvusService/DropResourceGroup             refused
//	MilvusService/UpdateResourceGroups          refused
//	MilvusService/TransferNode                  refused
//	MilvusService/TransferReplica               refused
//	MilvusService/ListResourceGroups            refused
//	MilvusService/DescribeResourceGroup         refused
//	MilvusService/RenameCollection              refused
//	MilvusService/ListIndexedSegment            refused
//	MilvusService/DescribeSegmentIndexData      refused
//	MilvusService/Connect                       sent on
//	MilvusService/AllocTimestamp                refused
//	MilvusService/CreateDatabase                refused
//	MilvusService/DropDatabase                  refused
//	MilvusService/ListDatabases                 refused
//	MilvusService/AlterDatabase                 refused
//	MilvusService/DescribeDatabase              refused
//	MilvusService/ReplicateMessage              refused
//	MilvusService/BackupRBAC                    admin: sent on after the admin gate
//	MilvusService/RestoreRBAC                   admin: sent on after the admin gate
//	MilvusService/CreatePrivilegeGroup          admin: sent on after the admin gate
//	MilvusService/DropPrivilegeGroup            admin: sent on after the admin gate
//	MilvusService/ListPrivilegeGroups           admin: sent on after the admin gate
//	MilvusService/OperatePrivilegeGroup         admin: sent on after the admin gate
//	MilvusService/RunAnalyzer                   refused
//	MilvusService/AddFileResource               refused
//	MilvusService/RemoveFileResource            refused
//	MilvusService/ListFileResources             refused
//	MilvusService/AddUserTags                   refused
//	MilvusService/DeleteUserTags                refused
//	MilvusService/GetUserTags                   refused
//	MilvusService/ListUsersWithTag              refused
//	MilvusService/CreateRowPolicy               refused
//	MilvusService/DropRowPolicy                 refused
//	MilvusService/ListRowPolicies               refused
//	MilvusService/UpdateReplicateConfiguration  refused
//	MilvusService/GetReplicateInfo              refused
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
