package qdrant

import (
	"context"
	"errors"
	"slices"
	"strings"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// UnaryClientInterceptor returns an interceptor that puts an unchanged
// *qdrant.Client behind guard. Add it, with StreamClientInterceptor, to the
// client's Config.GrpcOptions:
//
//	guard := vecguard.New(qdrantDriver, &vecguard.Options{...})
//	app, err := qdrant.NewClient(&qdrant.Config{
//		Host: "localhost", Port: 6334,
//		GrpcOptions: []grpc.DialOption{
//			grpc.WithChainUnaryInterceptor(vgqdrant.UnaryClientInterceptor(guard)),
//			grpc.WithChainStreamInterceptor(vgqdrant.StreamClientInterceptor(guard)),
//		},
//	})
//
// Use grpc.WithChainUnaryInterceptor: grpc.WithUnaryInterceptor would
// replace the go-client's own (API key) interceptor.
//
// Each RPC the package documentation lists as enforced is served by guard
// (over its own driver and connection) instead of being sent on: the
// principal comes from the call's context (vecguard.WithPrincipal, or a
// server interceptor of package grpcauth), and guard authorizes, filters,
// re-checks, encrypts, decrypts and audits it exactly as it does its own
// calls. Every other RPC is refused with PermissionDenied without reaching
// Qdrant, except the health check, which is sent on. Errors are gRPC status
// errors (package grpcerr) that the go-client returns as it returns
// Qdrant's.
func UnaryClientInterceptor(guard *vecguard.Client) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if passThrough[method] {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		var err error = errNotServed
		if h, ok := enforced[method]; ok {
			err = h(ctx, guard, req, reply)
		}
		if err == nil {
			return nil
		}
		return grpcerr.Error(refuse(ctx, guard, method, req, err))
	}
}

// StreamClientInterceptor refuses every streaming call: Qdrant's Points and
// Collections services have none, so a stream is not an RPC the guard
// knows. The refusal is audited through guard.
func StreamClientInterceptor(guard *vecguard.Client) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, grpcerr.Error(refuse(ctx, guard, method, nil, errNotServed))
	}
}

var errNotServed = driver.Errorf(driver.PermissionDenied, "the RPC is not allowed through the guard")

// refuse returns the error of a failed RPC. guard.Refuse records the ones
// the interceptor made itself (an RPC outside the table, an option
// transparent mode cannot honour); the guard's own are audited already.
func refuse(ctx context.Context, guard *vecguard.Client, method string, req any, err error) error {
	coll := ""
	if r, ok := req.(interface{ GetCollectionName() string }); ok {
		coll = r.GetCollectionName()
	}
	return guard.Refuse(ctx, method, rpcClass(method), coll, err)
}

// rpcClass is the audit class of a Qdrant RPC the guard refuses.
func rpcClass(method string) audit.Class {
	service, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if service != "qdrant.Points" {
		return audit.ClassAdmin
	}
	has := func(prefixes ...string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
	}
	switch {
	case has("Delete"):
		return audit.ClassDelete
	case has("Update", "Upsert", "Set", "Overwrite", "Clear", "Create"):
		return audit.ClassWrite
	case has("Get", "Search", "Scroll", "Count", "Recommend", "Query", "Discover", "Facet"):
		return audit.ClassRead
	}
	return audit.ClassAdmin // unknown: the strictest class
}

// passThrough are the RPCs sent on unchanged: they touch no collection.
var passThrough = map[string]bool{
	qc.Qdrant_HealthCheck_FullMethodName: true,
}

// handler serves one RPC through the guard and fills reply.
type handler func(ctx context.Context, g *vecguard.Client, req, reply any) error

// unary adapts a typed function to a handler.
func unary[Req, Resp proto.Message](fn func(context.Context, *vecguard.Client, Req) (Resp, error)) handler {
	return func(ctx context.Context, g *vecguard.Client, req, reply any) error {
		r, ok := req.(Req)
		if !ok {
			return driver.Errorf(driver.Internal, "unexpected request type")
		}
		out, ok := reply.(Resp)
		if !ok {
			return driver.Errorf(driver.Internal, "unexpected reply type")
		}
		resp, err := fn(ctx, g, r)
		if err != nil {
			return err
		}
		proto.Reset(out)
		proto.Merge(out, resp)
		return nil
	}
}

// enforced are the RPCs the guard serves. Every other method is refused.
var enforced = map[string]handler{
	qc.Points_Upsert_FullMethodName:         unary(upsertRPC),
	qc.Points_Delete_FullMethodName:         unary(deleteRPC),
	qc.Points_Get_FullMethodName:            unary(getRPC),
	qc.Points_SetPayload_FullMethodName:     unary(setPayloadRPC),
	qc.Points_DeletePayload_FullMethodName:  unary(deletePayloadRPC),
	qc.Points_Search_FullMethodName:         unary(searchRPC),
	qc.Points_SearchBatch_FullMethodName:    unary(searchBatchRPC),
	qc.Points_Scroll_FullMethodName:         unary(scrollRPC),
	qc.Points_Recommend_FullMethodName:      unary(recommendRPC),
	qc.Points_RecommendBatch_FullMethodName: unary(recommendBatchRPC),
	qc.Points_Count_FullMethodName:          unary(countRPC),
	qc.Points_UpdateBatch_FullMethodName:    unary(updateBatchRPC),
	qc.Points_Query_FullMethodName:          unary(queryRPC),
	qc.Points_QueryBatch_FullMethodName:     unary(queryBatchRPC),

	qc.Collections_Get_FullMethodName:              unary(collectionInfoRPC),
	qc.Collections_List_FullMethodName:             unary(listCollectionsRPC),
	qc.Collections_Create_FullMethodName:           unary(createCollectionRPC),
	qc.Collections_Delete_FullMethodName:           unary(dropCollectionRPC),
	qc.Collections_CollectionExists_FullMethodName: unary(collectionExistsRPC),
}

// refused lists the RPCs of the Points and Collections services the guard
// refuses, for the documentation and its test; refusal does not depend on
// this list (anything not enforced is refused).
var refused = []string{
	qc.Points_UpdateVectors_FullMethodName, qc.Points_DeleteVectors_FullMethodName,
	qc.Points_OverwritePayload_FullMethodName, qc.Points_ClearPayload_FullMethodName,
	qc.Points_CreateFieldIndex_FullMethodName, qc.Points_DeleteFieldIndex_FullMethodName,
	qc.Points_SearchGroups_FullMethodName, qc.Points_RecommendGroups_FullMethodName,
	qc.Points_Discover_FullMethodName, qc.Points_DiscoverBatch_FullMethodName,
	qc.Points_QueryGroups_FullMethodName, qc.Points_Facet_FullMethodName,
	qc.Points_SearchMatrixPairs_FullMethodName, qc.Points_SearchMatrixOffsets_FullMethodName,
	qc.Collections_Update_FullMethodName, qc.Collections_UpdateAliases_FullMethodName,
	qc.Collections_ListCollectionAliases_FullMethodName, qc.Collections_ListAliases_FullMethodName,
	qc.Collections_CollectionClusterInfo_FullMethodName, qc.Collections_UpdateCollectionClusterSetup_FullMethodName,
	qc.Collections_CreateShardKey_FullMethodName, qc.Collections_DeleteShardKey_FullMethodName,
	qc.Collections_ListShardKeys_FullMethodName,
}

func unsupportedRequest(what string) error {
	return driver.Errorf(driver.InvalidArgument, "transparent mode does not support %s", what)
}

func completed() *qc.PointsOperationResponse {
	return &qc.PointsOperationResponse{Result: &qc.UpdateResult{Status: qc.UpdateStatus_Completed}}
}

// payloadChoice is a Qdrant payload selector in the guarded client's terms;
// exclude is applied to the results.
type payloadChoice struct {
	all     bool
	fields  []string
	exclude []string
}

func choosePayload(sel *qc.WithPayloadSelector, def bool) (payloadChoice, error) {
	switch s := sel.GetSelectorOptions().(type) {
	case *qc.WithPayloadSelector_Enable:
		return payloadChoice{all: s.Enable}, nil
	case *qc.WithPayloadSelector_Include:
		for _, f := range s.Include.GetFields() {
			if !driver.ValidFieldName(f) {
				return payloadChoice{}, unsupportedRequest("payload paths (only top-level field names)")
			}
		}
		fs := s.Include.GetFields()
		if len(fs) == 0 {
			return payloadChoice{}, nil
		}
		return payloadChoice{fields: fs}, nil
	case *qc.WithPayloadSelector_Exclude:
		return payloadChoice{all: true, exclude: s.Exclude.GetFields()}, nil
	}
	return payloadChoice{all: def}, nil
}

// vectorChoice is a Qdrant vectors selector: whether to return vectors and,
// when names is not nil, which ones.
type vectorChoice struct {
	with  bool
	names []string
}

func chooseVectors(sel *qc.WithVectorsSelector) vectorChoice {
	switch s := sel.GetSelectorOptions().(type) {
	case *qc.WithVectorsSelector_Enable:
		return vectorChoice{with: s.Enable}
	case *qc.WithVectorsSelector_Include:
		return vectorChoice{with: len(s.Include.GetNames()) > 0, names: s.Include.GetNames()}
	}
	return vectorChoice{}
}

func (pc payloadChoice) payload(m map[string]any) (map[string]*qc.Value, error) {
	if len(pc.exclude) > 0 && m != nil {
		m = maps(m)
		for _, k := range pc.exclude {
			delete(m, k)
		}
	}
	if m == nil {
		return nil, nil
	}
	return toPayload(m)
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (vc vectorChoice) vectors(m map[string][]float32) *qc.VectorsOutput {
	if !vc.with || m == nil {
		return nil
	}
	out := make(map[string]*qc.VectorOutput, len(m))
	for name, v := range m {
		if vc.names != nil && !slices.Contains(vc.names, name) {
			continue
		}
		out[name] = &qc.VectorOutput{Vector: &qc.VectorOutput_Dense{Dense: &qc.DenseVector{Data: v}}}
	}
	return &qc.VectorsOutput{VectorsOptions: &qc.VectorsOutput_Vectors{Vectors: &qc.NamedVectorsOutput{Vectors: out}}}
}

func scored(hits []vecguard.ScoredPoint, pc payloadChoice, vc vectorChoice) ([]*qc.ScoredPoint, error) {
	out := make([]*qc.ScoredPoint, len(hits))
	for i := range hits {
		payload, err := pc.payload(hits[i].Payload)
		if err != nil {
			return nil, err
		}
		out[i] = &qc.ScoredPoint{Id: pointID(hits[i].ID), Score: hits[i].Score, Payload: payload, Vectors: vc.vectors(hits[i].Vectors)}
	}
	return out, nil
}

func retrieved(pts []vecguard.Point, pc payloadChoice, vc vectorChoice) ([]*qc.RetrievedPoint, error) {
	out := make([]*qc.RetrievedPoint, len(pts))
	for i := range pts {
		payload, err := pc.payload(pts[i].Payload)
		if err != nil {
			return nil, err
		}
		out[i] = &qc.RetrievedPoint{Id: pointID(pts[i].ID), Payload: payload, Vectors: vc.vectors(pts[i].Vectors)}
	}
	return out, nil
}

func fromIDs(ps []*qc.PointId) ([]driver.PointID, error) {
	out := make([]driver.PointID, len(ps))
	for i, p := range ps {
		id, err := fromPointID(p)
		if err != nil {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed point ID")
		}
		out[i] = id
	}
	return out, nil
}

// fromPointStruct converts a point to write; its vectors must be named.
func fromPointStruct(ps *qc.PointStruct) (driver.Point, error) {
	id, err := fromPointID(ps.GetId())
	if err != nil {
		return driver.Point{}, driver.Errorf(driver.InvalidArgument, "malformed point ID")
	}
	p := driver.Point{ID: id, Vectors: map[string][]float32{}}
	switch v := ps.GetVectors().GetVectorsOptions().(type) {
	case *qc.Vectors_Vectors:
		for name, vec := range v.Vectors.GetVectors() {
			d, err := inputDense(vec)
			if err != nil {
				return driver.Point{}, err
			}
			p.Vectors[name] = d
		}
	case nil:
	default:
		return driver.Point{}, unsupportedRequest("unnamed vectors (name every vector)")
	}
	if p.Payload, err = fromPayload(ps.GetPayload()); err != nil {
		return driver.Point{}, driver.Errorf(driver.InvalidArgument, "malformed payload")
	}
	return p, nil
}

func inputDense(v *qc.Vector) ([]float32, error) {
	switch x := v.GetVector().(type) {
	case *qc.Vector_Dense:
		return x.Dense.GetData(), nil
	case nil:
		//lint:ignore SA1019 older clients send the deprecated field
		data, sparse := v.Data, v.Indices != nil
		if sparse {
			return nil, unsupportedRequest("sparse vectors")
		}
		return data, nil
	}
	return nil, unsupportedRequest("sparse, multi-dense and inference vectors")
}

func upsertRPC(ctx context.Context, g *vecguard.Client, req *qc.UpsertPoints) (*qc.PointsOperationResponse, error) {
	if req.UpdateFilter != nil || req.GetUpdateMode() != qc.UpdateMode_Upsert || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("conditional upserts, update modes and shard keys")
	}
	pts := make([]vecguard.Point, len(req.GetPoints()))
	for i, ps := range req.GetPoints() {
		p, err := fromPointStruct(ps)
		if err != nil {
			return nil, err
		}
		pts[i] = p
	}
	if err := g.Upsert(ctx, req.GetCollectionName(), pts); err != nil {
		return nil, err
	}
	return completed(), nil
}

// selector converts a points selector into IDs or a filter.
func selector(sel *qc.PointsSelector) ([]driver.PointID, *driver.Filter, error) {
	switch s := sel.GetPointsSelectorOneOf().(type) {
	case *qc.PointsSelector_Points:
		ids, err := fromIDs(s.Points.GetIds())
		return ids, nil, err
	case *qc.PointsSelector_Filter:
		f, err := fromQdrantFilter(s.Filter)
		if f == nil && err == nil {
			f = driver.And()
		}
		return nil, f, err
	}
	return nil, nil, driver.Errorf(driver.InvalidArgument, "points selector is missing")
}

func deleteRPC(ctx context.Context, g *vecguard.Client, req *qc.DeletePoints) (*qc.PointsOperationResponse, error) {
	if req.ShardKeySelector != nil {
		return nil, unsupportedRequest("shard keys")
	}
	ids, f, err := selector(req.GetPoints())
	if err != nil {
		return nil, err
	}
	if f != nil {
		err = g.DeleteByFilter(ctx, req.GetCollectionName(), f)
	} else {
		err = g.Delete(ctx, req.GetCollectionName(), ids)
	}
	if err != nil {
		return nil, err
	}
	return completed(), nil
}

func getRPC(ctx context.Context, g *vecguard.Client, req *qc.GetPoints) (*qc.GetResponse, error) {
	ids, err := fromIDs(req.GetIds())
	if err != nil {
		return nil, err
	}
	pc, err := choosePayload(req.GetWithPayload(), true)
	if err != nil {
		return nil, err
	}
	vc := chooseVectors(req.GetWithVectors())
	pts, err := g.Get(ctx, req.GetCollectionName(), ids, vecguard.ReadOptions{WithPayload: pc.all, PayloadFields: pc.fields, WithVectors: vc.with})
	if err != nil {
		return nil, err
	}
	res, err := retrieved(pts, pc, vc)
	if err != nil {
		return nil, err
	}
	return &qc.GetResponse{Result: res}, nil
}

func setPayloadRPC(ctx context.Context, g *vecguard.Client, req *qc.SetPayloadPoints) (*qc.PointsOperationResponse, error) {
	if req.Key != nil || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("setting payload under a key and shard keys")
	}
	ids, f, err := selector(req.GetPointsSelector())
	if err != nil {
		return nil, err
	}
	set, err := fromPayload(req.GetPayload())
	if err != nil {
		return nil, driver.Errorf(driver.InvalidArgument, "malformed payload")
	}
	if err := g.UpdatePayload(ctx, req.GetCollectionName(), vecguard.PayloadUpdate{IDs: ids, Filter: f, Set: set}); err != nil {
		return nil, err
	}
	return completed(), nil
}

func deletePayloadRPC(ctx context.Context, g *vecguard.Client, req *qc.DeletePayloadPoints) (*qc.PointsOperationResponse, error) {
	if req.ShardKeySelector != nil {
		return nil, unsupportedRequest("shard keys")
	}
	for _, k := range req.GetKeys() {
		if !driver.ValidFieldName(k) {
			return nil, unsupportedRequest("payload paths (only top-level field names)")
		}
	}
	ids, f, err := selector(req.GetPointsSelector())
	if err != nil {
		return nil, err
	}
	if err := g.UpdatePayload(ctx, req.GetCollectionName(), vecguard.PayloadUpdate{IDs: ids, Filter: f, Unset: req.GetKeys()}); err != nil {
		return nil, err
	}
	return completed(), nil
}

func searchRPC(ctx context.Context, g *vecguard.Client, req *qc.SearchPoints) (*qc.SearchResponse, error) {
	if req.SparseIndices != nil || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("sparse vectors and shard keys")
	}
	f, err := fromQdrantFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	pc, err := choosePayload(req.GetWithPayload(), false)
	if err != nil {
		return nil, err
	}
	vc := chooseVectors(req.GetWithVectors())
	if req.GetLimit() == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be 1 or larger")
	}
	hits, err := g.Search(ctx, req.GetCollectionName(), vecguard.SearchRequest{
		Vector: req.GetVector(), VectorName: req.GetVectorName(), Limit: clampInt(req.GetLimit()), Offset: clampInt(req.GetOffset()),
		Filter: f, ScoreThreshold: req.ScoreThreshold, WithPayload: pc.all, PayloadFields: pc.fields, WithVectors: vc.with,
	})
	if err != nil {
		return nil, err
	}
	res, err := scored(hits, pc, vc)
	if err != nil {
		return nil, err
	}
	return &qc.SearchResponse{Result: res}, nil
}

// clampInt converts a request count; values past MaxLimit are refused by the
// guarded client.
func clampInt(n uint64) int {
	if n > driver.MaxLimit+1 {
		return driver.MaxLimit + 1
	}
	return int(n)
}

// batch serves the requests of a batch RPC one by one, in order. A request
// without a collection name takes the batch's, on a copy: the caller's
// message is not changed.
func batch[Q proto.Message, R interface{ GetResult() []*qc.ScoredPoint }](
	ctx context.Context, g *vecguard.Client, coll string, reqs []Q,
	name func(Q) *string, one func(context.Context, *vecguard.Client, Q) (R, error),
) ([]*qc.BatchResult, error) {
	out := make([]*qc.BatchResult, 0, len(reqs))
	for _, q := range reqs {
		if *name(q) == "" {
			q = proto.Clone(q).(Q)
			*name(q) = coll
		}
		res, err := one(ctx, g, q)
		if err != nil {
			return nil, err
		}
		out = append(out, &qc.BatchResult{Result: res.GetResult()})
	}
	return out, nil
}

func searchBatchRPC(ctx context.Context, g *vecguard.Client, req *qc.SearchBatchPoints) (*qc.SearchBatchResponse, error) {
	res, err := batch(ctx, g, req.GetCollectionName(), req.GetSearchPoints(),
		func(q *qc.SearchPoints) *string { return &q.CollectionName }, searchRPC)
	if err != nil {
		return nil, err
	}
	return &qc.SearchBatchResponse{Result: res}, nil
}

// cursorBefore turns Qdrant's scroll offset (the first ID to return) into
// the guarded client's cursor, which names the ID before it.
func cursorBefore(offset driver.PointID) string {
	var prev driver.PointID
	switch {
	case offset.IsNum() && offset.Num() > 0:
		prev = driver.NumID(offset.Num() - 1)
	case offset.IsNum():
		return ""
	default:
		b := offset.UUIDBytes()
		i := len(b) - 1
		for ; i >= 0 && b[i] == 0; i-- {
			b[i] = 0xff
		}
		if i < 0 {
			prev = driver.NumID(1<<64 - 1)
		} else {
			b[i]--
			prev = driver.UUIDFromBytes(b)
		}
	}
	return vecguard.CursorAfter(prev)
}

func scrollRPC(ctx context.Context, g *vecguard.Client, req *qc.ScrollPoints) (*qc.ScrollResponse, error) {
	if req.OrderBy != nil || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("order_by and shard keys")
	}
	limit := 10
	if req.Limit != nil {
		if *req.Limit == 0 {
			return nil, driver.Errorf(driver.InvalidArgument, "limit cannot be 0")
		}
		limit = int(min(*req.Limit, driver.MaxLimit-1))
	}
	f, err := fromQdrantFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	pc, err := choosePayload(req.GetWithPayload(), true)
	if err != nil {
		return nil, err
	}
	vc := chooseVectors(req.GetWithVectors())
	cursor := ""
	if req.Offset != nil {
		off, err := fromPointID(req.Offset)
		if err != nil {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed offset")
		}
		cursor = cursorBefore(off)
	}
	// One point more than asked: its ID is Qdrant's next page offset.
	var pts []vecguard.Point
	for len(pts) <= limit {
		page, err := g.Scroll(ctx, req.GetCollectionName(), vecguard.ScrollRequest{
			Filter: f, Limit: limit + 1 - len(pts), Cursor: cursor,
			WithPayload: pc.all, PayloadFields: pc.fields, WithVectors: vc.with,
		})
		if err != nil {
			return nil, err
		}
		pts = append(pts, page.Points...)
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	resp := &qc.ScrollResponse{}
	if len(pts) > limit {
		resp.NextPageOffset = pointID(pts[limit].ID)
		pts = pts[:limit]
	}
	if resp.Result, err = retrieved(pts, pc, vc); err != nil {
		return nil, err
	}
	return resp, nil
}

func recommendRPC(ctx context.Context, g *vecguard.Client, req *qc.RecommendPoints) (*qc.RecommendResponse, error) {
	if req.GetStrategy() != qc.RecommendStrategy_AverageVector || len(req.GetPositiveVectors()) > 0 || len(req.GetNegativeVectors()) > 0 ||
		req.LookupFrom != nil || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("recommendation by vectors, strategies other than average_vector, lookup_from and shard keys")
	}
	pos, err := fromIDs(req.GetPositive())
	if err != nil {
		return nil, err
	}
	neg, err := fromIDs(req.GetNegative())
	if err != nil {
		return nil, err
	}
	if req.GetLimit() == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be 1 or larger")
	}
	res, err := recommend(ctx, g, req.GetCollectionName(), pos, neg, req.GetUsing(), req.GetLimit(), req.GetOffset(),
		req.GetFilter(), req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors())
	if err != nil {
		return nil, err
	}
	return &qc.RecommendResponse{Result: res}, nil
}

func recommend(ctx context.Context, g *vecguard.Client, coll string, pos, neg []driver.PointID, using string, limit, offset uint64,
	flt *qc.Filter, threshold *float32, wp *qc.WithPayloadSelector, wv *qc.WithVectorsSelector) ([]*qc.ScoredPoint, error) {
	f, err := fromQdrantFilter(flt)
	if err != nil {
		return nil, err
	}
	pc, err := choosePayload(wp, false)
	if err != nil {
		return nil, err
	}
	vc := chooseVectors(wv)
	hits, err := g.Recommend(ctx, coll, vecguard.RecommendRequest{
		Positive: pos, Negative: neg, VectorName: using, Limit: clampInt(limit), Offset: clampInt(offset),
		Filter: f, ScoreThreshold: threshold, WithPayload: pc.all, PayloadFields: pc.fields, WithVectors: vc.with,
	})
	if err != nil {
		return nil, err
	}
	return scored(hits, pc, vc)
}

func recommendBatchRPC(ctx context.Context, g *vecguard.Client, req *qc.RecommendBatchPoints) (*qc.RecommendBatchResponse, error) {
	res, err := batch(ctx, g, req.GetCollectionName(), req.GetRecommendPoints(),
		func(q *qc.RecommendPoints) *string { return &q.CollectionName }, recommendRPC)
	if err != nil {
		return nil, err
	}
	return &qc.RecommendBatchResponse{Result: res}, nil
}

func countRPC(ctx context.Context, g *vecguard.Client, req *qc.CountPoints) (*qc.CountResponse, error) {
	if req.ShardKeySelector != nil {
		return nil, unsupportedRequest("shard keys")
	}
	f, err := fromQdrantFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	n, err := g.Count(ctx, req.GetCollectionName(), f)
	if err != nil {
		return nil, err
	}
	return &qc.CountResponse{Result: &qc.CountResult{Count: uint64(n)}}, nil
}

// updateBatchRPC runs the operations in order, each as its own guarded
// call (like Qdrant's batch, it is not a transaction). A batch with an
// operation the guard does not serve is refused before anything runs.
func updateBatchRPC(ctx context.Context, g *vecguard.Client, req *qc.UpdateBatchPoints) (*qc.UpdateBatchResponse, error) {
	coll := req.GetCollectionName()
	var steps []func() error
	for _, op := range req.GetOperations() {
		switch o := op.GetOperation().(type) {
		case *qc.PointsUpdateOperation_Upsert:
			r := &qc.UpsertPoints{CollectionName: coll, Points: o.Upsert.GetPoints(), UpdateFilter: o.Upsert.UpdateFilter,
				UpdateMode: o.Upsert.UpdateMode, ShardKeySelector: o.Upsert.ShardKeySelector}
			steps = append(steps, func() error { _, err := upsertRPC(ctx, g, r); return err })
		case *qc.PointsUpdateOperation_DeletePoints_:
			r := &qc.DeletePoints{CollectionName: coll, Points: o.DeletePoints.GetPoints(), ShardKeySelector: o.DeletePoints.ShardKeySelector}
			steps = append(steps, func() error { _, err := deleteRPC(ctx, g, r); return err })
		case *qc.PointsUpdateOperation_SetPayload_:
			r := &qc.SetPayloadPoints{CollectionName: coll, Payload: o.SetPayload.GetPayload(), PointsSelector: o.SetPayload.GetPointsSelector(),
				Key: o.SetPayload.Key, ShardKeySelector: o.SetPayload.ShardKeySelector}
			steps = append(steps, func() error { _, err := setPayloadRPC(ctx, g, r); return err })
		case *qc.PointsUpdateOperation_DeletePayload_:
			r := &qc.DeletePayloadPoints{CollectionName: coll, Keys: o.DeletePayload.GetKeys(), PointsSelector: o.DeletePayload.GetPointsSelector(),
				ShardKeySelector: o.DeletePayload.ShardKeySelector}
			steps = append(steps, func() error { _, err := deletePayloadRPC(ctx, g, r); return err })
		default:
			return nil, driver.Errorf(driver.PermissionDenied, "the batch holds an operation the guard does not allow")
		}
	}
	out := &qc.UpdateBatchResponse{}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
		out.Result = append(out.Result, &qc.UpdateResult{Status: qc.UpdateStatus_Completed})
	}
	return out, nil
}

// queryRPC serves nearest queries (by vector, or by point ID as a
// recommendation with one example, which Qdrant also excludes from the
// results) and average_vector recommendations by point IDs.
func queryRPC(ctx context.Context, g *vecguard.Client, req *qc.QueryPoints) (*qc.QueryResponse, error) {
	if len(req.GetPrefetch()) > 0 || req.LookupFrom != nil || req.ShardKeySelector != nil {
		return nil, unsupportedRequest("prefetch, lookup_from and shard keys")
	}
	limit := uint64(10)
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be 1 or larger")
	}
	coll, using := req.GetCollectionName(), req.GetUsing()
	var res []*qc.ScoredPoint
	var err error
	switch q := req.GetQuery().GetVariant().(type) {
	case *qc.Query_Nearest:
		switch in := q.Nearest.GetVariant().(type) {
		case *qc.VectorInput_Dense:
			var sr *qc.SearchResponse
			sr, err = searchRPC(ctx, g, &qc.SearchPoints{
				CollectionName: coll, Vector: in.Dense.GetData(), VectorName: req.Using, Filter: req.GetFilter(), Limit: limit,
				Offset: req.Offset, ScoreThreshold: req.ScoreThreshold, WithPayload: req.GetWithPayload(), WithVectors: req.GetWithVectors(),
			})
			res = sr.GetResult()
		case *qc.VectorInput_Id:
			var id driver.PointID
			if id, err = fromPointID(in.Id); err != nil {
				return nil, driver.Errorf(driver.InvalidArgument, "malformed point ID")
			}
			res, err = recommend(ctx, g, coll, []driver.PointID{id}, nil, using, limit, req.GetOffset(),
				req.GetFilter(), req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors())
		default:
			return nil, unsupportedRequest("this nearest input")
		}
	case *qc.Query_Recommend:
		r := q.Recommend
		if r.GetStrategy() != qc.RecommendStrategy_AverageVector {
			return nil, unsupportedRequest("recommendation strategies other than average_vector")
		}
		pos, perr := exampleIDs(r.GetPositive())
		if perr != nil {
			return nil, perr
		}
		neg, nerr := exampleIDs(r.GetNegative())
		if nerr != nil {
			return nil, nerr
		}
		res, err = recommend(ctx, g, coll, pos, neg, using, limit, req.GetOffset(),
			req.GetFilter(), req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors())
	default:
		return nil, unsupportedRequest("this query type")
	}
	if err != nil {
		return nil, err
	}
	return &qc.QueryResponse{Result: res}, nil
}

func exampleIDs(in []*qc.VectorInput) ([]driver.PointID, error) {
	out := make([]driver.PointID, 0, len(in))
	for _, vi := range in {
		p, ok := vi.GetVariant().(*qc.VectorInput_Id)
		if !ok {
			return nil, unsupportedRequest("recommendation by vectors (use point IDs)")
		}
		id, err := fromPointID(p.Id)
		if err != nil {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed point ID")
		}
		out = append(out, id)
	}
	return out, nil
}

func queryBatchRPC(ctx context.Context, g *vecguard.Client, req *qc.QueryBatchPoints) (*qc.QueryBatchResponse, error) {
	res, err := batch(ctx, g, req.GetCollectionName(), req.GetQueryPoints(),
		func(q *qc.QueryPoints) *string { return &q.CollectionName }, queryRPC)
	if err != nil {
		return nil, err
	}
	return &qc.QueryBatchResponse{Result: res}, nil
}

// collectionInfoRPC describes a collection from its vecguard spec: vectors
// and payload indexes, never the point count (which would count other
// tenants' points).
func collectionInfoRPC(ctx context.Context, g *vecguard.Client, req *qc.GetCollectionInfoRequest) (*qc.GetCollectionInfoResponse, error) {
	spec, err := g.DescribeCollection(ctx, req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	params := make(map[string]*qc.VectorParams, len(spec.Vectors))
	for _, v := range spec.Vectors {
		params[v.Name] = &qc.VectorParams{Size: uint64(v.Dim), Distance: distances[v.Distance]}
	}
	schema := map[string]*qc.PayloadSchemaInfo{}
	for _, f := range spec.Fields {
		if !f.Filterable {
			continue
		}
		info := &qc.PayloadSchemaInfo{DataType: schemaTypes[f.Kind]}
		if f.Name == spec.TenantField {
			isTenant := true
			info.Params = qc.NewPayloadIndexParamsKeyword(&qc.KeywordIndexParams{IsTenant: &isTenant})
		}
		schema[f.Name] = info
	}
	return &qc.GetCollectionInfoResponse{Result: &qc.CollectionInfo{
		Status:          qc.CollectionStatus_Green,
		OptimizerStatus: &qc.OptimizerStatus{Ok: true},
		Config: &qc.CollectionConfig{
			Params:          &qc.CollectionParams{ShardNumber: 1, VectorsConfig: qc.NewVectorsConfigMap(params)},
			HnswConfig:      &qc.HnswConfigDiff{},
			OptimizerConfig: &qc.OptimizersConfigDiff{},
			WalConfig:       &qc.WalConfigDiff{},
		},
		PayloadSchema: schema,
	}}, nil
}

var schemaTypes = map[driver.Kind]qc.PayloadSchemaType{
	driver.KindString: qc.PayloadSchemaType_Keyword,
	driver.KindInt:    qc.PayloadSchemaType_Integer,
	driver.KindFloat:  qc.PayloadSchemaType_Float,
	driver.KindBool:   qc.PayloadSchemaType_Bool,
}

func listCollectionsRPC(ctx context.Context, g *vecguard.Client, _ *qc.ListCollectionsRequest) (*qc.ListCollectionsResponse, error) {
	names, err := g.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	out := &qc.ListCollectionsResponse{}
	for _, n := range names {
		out.Collections = append(out.Collections, &qc.CollectionDescription{Name: n})
	}
	return out, nil
}

// createCollectionRPC creates a collection of named vectors. A vecguard
// spec in the request's metadata (the driver's own format) declares its
// fields and tenant field; storage and indexing options are left to the
// guard's driver.
func createCollectionRPC(ctx context.Context, g *vecguard.Client, req *qc.CreateCollection) (*qc.CollectionOperationResponse, error) {
	if len(req.GetSparseVectorsConfig().GetMap()) > 0 || req.ShardingMethod != nil {
		return nil, unsupportedRequest("sparse vectors and custom sharding")
	}
	pm, ok := req.GetVectorsConfig().GetConfig().(*qc.VectorsConfig_ParamsMap)
	if !ok {
		return nil, unsupportedRequest("unnamed vectors (name every vector)")
	}
	config := map[string]driver.VectorSpec{}
	for name, p := range pm.ParamsMap.GetMap() {
		vs := driver.VectorSpec{Name: name, Dim: int(min(p.GetSize(), driver.MaxDim+1))}
		for d, qd := range distances {
			if qd == p.GetDistance() {
				vs.Distance = d
			}
		}
		if vs.Distance == 0 || p.MultivectorConfig != nil {
			return nil, unsupportedRequest("this distance or multivectors")
		}
		config[name] = vs
	}
	var spec *driver.CollectionSpec
	if v, ok := req.GetMetadata()[metadataKey]; ok {
		var err error
		if spec, err = decodeSpec(req.GetCollectionName(), v, config); err != nil {
			return nil, driver.Errorf(driver.InvalidArgument, "the %q metadata is not a vecguard spec matching the vectors", metadataKey)
		}
	} else {
		spec = &driver.CollectionSpec{Name: req.GetCollectionName()}
		for _, vs := range config {
			spec.Vectors = append(spec.Vectors, vs)
		}
		slices.SortFunc(spec.Vectors, func(a, b driver.VectorSpec) int { return strings.Compare(a.Name, b.Name) })
	}
	if err := g.CreateCollection(ctx, *spec); err != nil {
		return nil, err
	}
	return &qc.CollectionOperationResponse{Result: true}, nil
}

// dropCollectionRPC drops a collection; like Qdrant it answers false, not
// an error, for a collection that does not exist.
func dropCollectionRPC(ctx context.Context, g *vecguard.Client, req *qc.DeleteCollection) (*qc.CollectionOperationResponse, error) {
	err := g.DropCollection(ctx, req.GetCollectionName())
	if errors.Is(err, vecguard.ErrNotFound) {
		return &qc.CollectionOperationResponse{Result: false}, nil
	}
	if err != nil {
		return nil, err
	}
	return &qc.CollectionOperationResponse{Result: true}, nil
}

func collectionExistsRPC(ctx context.Context, g *vecguard.Client, req *qc.CollectionExistsRequest) (*qc.CollectionExistsResponse, error) {
	_, err := g.DescribeCollection(ctx, req.GetCollectionName())
	if errors.Is(err, vecguard.ErrNotFound) {
		return &qc.CollectionExistsResponse{Result: &qc.CollectionExists{Exists: false}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &qc.CollectionExistsResponse{Result: &qc.CollectionExists{Exists: true}}, nil
}
