// Package driver is the contract between vecguard's guarded client
// (package vecguard) and the database adapters, and the data model they
// share: point IDs, points, collection specs, the neutral filter language,
// queries, read requests, selectors and the *Error type.
//
// An adapter implements Driver (collections) and Collection (points), and
// optionally PayloadUpdater, ErrorClassifier and SystemNamer. It does no
// authorization, encryption or audit: before a call the client has checked
// every argument against the collection's spec and AND-ed the caller's
// rights into the filter; after it, the client re-checks every returned row
// with Filter.Match. An adapter proves itself by running the conformance
// suite in package drivertest.
//
// # Semantics
//
// Filter.Match is the reference: a database's answer must agree with it on
// every point. In short: a nil filter matches every point, And() is true
// and Or() false; absent and null are one thing; Ne, NotIn and IsNull are
// exactly Not(Eq), Not(In) and Not(Exists), so they hold where the field is
// absent or null; an integer equals the float of the same value; a range
// holds only on numbers. Scores are similarities for Cosine and Dot (higher
// is better) and the Euclidean distance for Euclid (lower is better);
// results come best first, ties by ascending ID. Scroll returns ascending
// PointID.Compare order; ReadRequest.After is exclusive and Page.Next is the
// last ID returned while more may follow. Read by IDs returns the points
// that exist and match, in the order asked.
//
// # Operations
//
// How each operation maps onto the databases vecguard supports: Qdrant
// through its Go client (github.com/qdrant/go-client, gRPC), Milvus through
// milvusclient (the v2.6 Go SDK) and Weaviate through its v5 Go client (or
// the same requests over Weaviate's gRPC API). The adapter packages
// (adapters/qdrant, adapters/weaviate) give the details; the Milvus column
// is the mapping a Milvus adapter is to follow.
//
//	CreateCollection
//	  Qdrant    Collections.Create (CreateCollection): one named dense vector per VectorSpec
//	            (Cosine, Dot, Euclid); a payload index per filterable field (the tenant
//	            field's keyword index with is_tenant); the spec kept in the metadata
//	  Milvus    CreateCollection(NewCreateCollectionOption(name, schema)): a VarChar primary
//	            key holding the ID's sortable key, a FloatVector field per vector (metric
//	            COSINE, IP or L2), a nullable scalar field per declared field, a JSON field
//	            for other payload keys, scalar indexes on filterable fields; the spec as a
//	            collection property (WithProperty)
//	  Weaviate  Schema().ClassCreator(): one class with a named vector per VectorSpec
//	            (cosine, dot, l2-squared), a property per declared field (indexFilterable,
//	            indexNullState), the spec kept in the class description
//	DescribeCollection, ListCollections, DropCollection
//	  Qdrant    Collections.Get (GetCollectionInfo), Collections.List, Collections.Delete
//	  Milvus    DescribeCollection, ListCollections, DropCollection (New...Option(name))
//	  Weaviate  Schema().ClassGetter(), Schema().Getter(), Schema().ClassDeleter()
//	Upsert
//	  Qdrant    Points.Upsert (wait=true)
//	  Milvus    Upsert(NewColumnBasedInsertOption(name)...) (Insert would duplicate keys)
//	  Weaviate  Batch().ObjectsBatcher() (an object with the same UUID is replaced)
//	Search
//	  Qdrant    Points.Query, nearest with using = the vector name, filter, limit, offset,
//	            score_threshold; scores as vecguard defines them
//	  Milvus    Search(NewSearchOption(name, limit, vectors).WithANNSField(vector)
//	            .WithFilter(expr).WithTemplateParam(...).WithOffset(n)); COSINE and IP
//	            scores as is, L2 is squared: the driver takes the square root
//	  Weaviate  GraphQL().Get() with nearVector (vector, targetVectors), where, limit,
//	            offset; score = 1 - distance (cosine), -distance (dot), sqrt(distance)
//	            (l2-squared)
//	  Everywhere the driver applies ScoreThreshold and the tie order on the final scores.
//	Read by IDs
//	  Qdrant    Points.Get, or Points.Scroll under has_id AND the filter
//	  Milvus    Get(NewQueryOption(name).WithIDs(...)), or Query with key in {p0} and (filter)
//	  Weaviate  Get with where key ContainsAny [...] AND the filter
//	  The driver puts the points in the order asked.
//	Read (scroll)
//	  Qdrant    Points.Scroll; its offset is inclusive, so the driver starts after After
//	  Milvus    Query (or QueryIterator, which pages the same way) with key > {p0} and
//	            (filter), limit+1: the key's order is the scroll order
//	  Weaviate  Get with where key > After AND the filter, sorted by key, limit+1 (the
//	            cursor argument after orders by UUID and takes no where filter)
//	Count
//	  Qdrant    Points.Count, exact
//	  Milvus    Query with output field count(*) and the filter
//	  Weaviate  GraphQL().Aggregate() with where and meta { count }
//	Delete
//	  Qdrant    Points.Delete with a filter selector (has_id AND the filter)
//	  Milvus    Delete(NewDeleteOption(name).WithExpr(expr).WithTemplateParam(...))
//	  Weaviate  Batch().ObjectsBatchDeleter() with where (IDs as key ContainsAny)
//	UpdatePayload (optional PayloadUpdater)
//	  Qdrant    Points.SetPayload and Points.DeletePayload under one filter selector
//	  Milvus    not implemented: the client reads, changes and upserts
//	  Weaviate  read, change, re-write through the batch (Weaviate has no unset)
//	Recommend
//	  Not a driver operation anywhere: the client authorizes the example IDs, reads
//	  their vectors (Read by IDs under the caller's filter), averages them and Searches
//	  excluding the examples. No database recommend API is used.
//
// Point IDs: Qdrant has numeric and UUID IDs natively. Milvus stores the
// sortable key ("n" + 16 hex digits, or "u" + 32 hex digits) as its primary
// key. Weaviate has UUIDs only: a numeric ID becomes a UUID in a reserved
// range, and the sortable key is also kept as a property for ordering and
// ID filters.
//
// # Filters
//
// Qdrant filters are nested must / should / must_not lists of conditions.
// Milvus filters are boolean expressions whose values travel as template
// parameters ({p0}, {p1}, ... with WithTemplateParam), never formatted into
// the expression text. Weaviate filters are where trees (filters.Where()
// with Operator, Path and a typed value).
//
//	vecguard      Qdrant                          Milvus                     Weaviate
//	nil, And()    no filter / {}                  no expression              no where
//	Or(), None()  must_not [{}] (an empty should  folded away: a search      answered without a
//	              is true)                        with a false filter is     query
//	                                              answered without a query
//	And(a, b)     must [a, b]                     (a) and (b)                Operator And
//	Or(a, b)      should [a, b]                   (a) or (b)                 Operator Or
//	Not(a)        must_not [a]                    pushed down to each        Operator Not
//	                                              comparison, with a null
//	                                              guard (not (...) stays
//	                                              false on null rows)
//	Eq(f, v)      match keyword / integer /       f == {p0}                  Equal
//	              boolean; a float: range v..v
//	Ne(f, v)      must_not [Eq]                   f is null or f != {p0}     Not [Equal] (true on
//	                                                                         absent and null)
//	In(f, vs)     match keywords / integers       f in {p0}                  ContainsAny
//	NotIn(f, vs)  must_not [In] (match except is  f is null or               Not ContainsAny
//	              false on absent and null)       not (f in {p0})
//	Range         range gt / gte / lt / lte       f > {p0} and f <= {p1}     GreaterThan,
//	                                                                         GreaterThanEqual,
//	                                                                         LessThan, LessThanEqual
//	Exists(f)     must_not [is_empty f]           f is not null              IsNull false
//	IsNull(f)     is_empty f (is_null holds only  f is null                  IsNull true
//	              on an explicit null)                                       (indexNullState)
//	HasID(ids)    has_id                          key in {p0}                key ContainsAny keys
//
// Where a database treats a comparison on a null or absent field as
// unknown rather than false, or a Not as something other than the
// complement within the collection, the adapter adds the guards the table
// shows, so that the result is exactly Filter.Match's. Range bounds travel
// as float64 in Qdrant; integer bounds beyond 2^53 are rounded there.
//
// # Errors
//
// Drivers return raw SDK errors or *Error values made with Errorf and Wrap;
// an ErrorClassifier tells the client the Code of its raw errors. The client
// wraps each error exactly once, setting Op and Collection, and callers test
// the code with errors.Is against the sentinels of package vecguard. No
// error message may contain a vector, a key, a token or a payload value;
// field and collection names and point IDs are fine.
package driver
