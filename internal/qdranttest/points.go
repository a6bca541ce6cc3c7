package qdranttest

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pointsService implements qdrant.PointsServer. RPCs it does not implement
// (groups, discover, search matrix) answer Unimplemented through the
// embedded qdrant.UnimplementedPointsServer.
type pointsService struct {
	qdrant.UnimplementedPointsServer
	e *engine
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

func (s *pointsService) done(t time.Time) *qdrant.PointsOperationResponse {
	op := s.e.nextOp()
	return &qdrant.PointsOperationResponse{
		Result: &qdrant.UpdateResult{OperationId: &op, Status: qdrant.UpdateStatus_Completed},
		Time:   since(t),
	}
}

// write runs fn on the named collection under its write lock.
func (s *pointsService) write(name string, fn func(c *collection) error) error {
	c, err := s.e.get(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return fn(c)
}

// read runs fn on the named collection under its read lock.
func (s *pointsService) read(name string, fn func(c *collection) error) error {
	c, err := s.e.get(name)
	if err != nil {
		return err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return fn(c)
}

func (s *pointsService) Upsert(_ context.Context, req *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.upsert(req.GetPoints(), req.UpdateFilter, req.GetUpdateMode())
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

// upsert validates every point first, then writes them: a bad point fails
// the whole batch. updateFilter, when set, guards the replacement of
// existing points; mode restricts the operation to new or existing points.
func (c *collection) upsert(ps []*qdrant.PointStruct, updateFilter *qdrant.Filter, mode qdrant.UpdateMode) error {
	guard := always
	if updateFilter != nil {
		var err error
		if guard, err = compileFilter(updateFilter); err != nil {
			return err
		}
	}
	pts := make([]*point, 0, len(ps))
	for _, p := range ps {
		id, err := parseID(p.GetId())
		if err != nil {
			return err
		}
		vecs, err := c.vectorsOf(p.GetVectors())
		if err != nil {
			return err
		}
		pts = append(pts, &point{id: id, vectors: vecs, payload: copyPayload(p.GetPayload())})
	}
	for _, p := range pts {
		old, exists := c.points[p.id]
		switch {
		case mode == qdrant.UpdateMode_InsertOnly && exists:
			continue
		case mode == qdrant.UpdateMode_UpdateOnly && !exists:
			continue
		case exists && !guard(c.subjectOf(old)):
			continue
		}
		c.put(p)
	}
	return nil
}

func (s *pointsService) Delete(_ context.Context, req *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		ids, err := c.selectPoints(req.GetPoints(), false)
		for _, id := range ids {
			c.remove(id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

// Get returns the points that exist, in ID order (not the order asked: a
// client must not rely on Qdrant's order).
func (s *pointsService) Get(_ context.Context, req *qdrant.GetPoints) (*qdrant.GetResponse, error) {
	t := time.Now()
	var out []*qdrant.RetrievedPoint
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		ids, err := parseIDs(req.GetIds())
		if err != nil {
			return err
		}
		slices.SortFunc(ids, pid.compare)
		ids = slices.Compact(ids)
		for _, id := range ids {
			if p, ok := c.points[id]; ok {
				out = append(out, c.retrieved(p, req.GetWithPayload(), req.GetWithVectors()))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.GetResponse{Result: out, Time: since(t)}, nil
}

func (s *pointsService) UpdateVectors(_ context.Context, req *qdrant.UpdatePointVectors) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.updateVectors(req.GetPoints(), req.UpdateFilter)
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func (c *collection) updateVectors(ps []*qdrant.PointVectors, updateFilter *qdrant.Filter) error {
	guard := always
	if updateFilter != nil {
		var err error
		if guard, err = compileFilter(updateFilter); err != nil {
			return err
		}
	}
	type change struct {
		old  *point
		vecs map[string][]float32
	}
	var changes []change
	for _, pv := range ps {
		id, err := parseID(pv.GetId())
		if err != nil {
			return err
		}
		old, ok := c.points[id]
		if !ok {
			return status.Errorf(codes.NotFound, "Not found: No point with id %s found", idString(id))
		}
		vecs, err := c.vectorsOf(pv.GetVectors())
		if err != nil {
			return err
		}
		changes = append(changes, change{old, vecs})
	}
	for _, ch := range changes {
		if !guard(c.subjectOf(ch.old)) {
			continue
		}
		m := make(map[string][]float32, len(ch.old.vectors)+len(ch.vecs))
		for k, v := range ch.old.vectors {
			m[k] = v
		}
		for k, v := range ch.vecs {
			m[k] = v
		}
		c.put(&point{id: ch.old.id, vectors: m, payload: ch.old.payload})
	}
	return nil
}

func (s *pointsService) DeleteVectors(_ context.Context, req *qdrant.DeletePointVectors) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.deleteVectors(req.GetPointsSelector(), req.GetVectors().GetNames())
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func (c *collection) deleteVectors(sel *qdrant.PointsSelector, names []string) error {
	for _, n := range names {
		if _, ok := c.vectors[n]; !ok {
			return status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", n)
		}
	}
	ids, err := c.selectPoints(sel, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		old := c.points[id]
		m := make(map[string][]float32, len(old.vectors))
		for k, v := range old.vectors {
			m[k] = v
		}
		for _, n := range names {
			delete(m, n)
		}
		c.put(&point{id: id, vectors: m, payload: old.payload})
	}
	return nil
}

func (s *pointsService) SetPayload(_ context.Context, req *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.setPayload(req.GetPointsSelector(), req.GetPayload(), req.Key, false)
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func (s *pointsService) OverwritePayload(_ context.Context, req *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.setPayload(req.GetPointsSelector(), req.GetPayload(), req.Key, true)
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

// setPayload merges payload into the selected points (a null value removes
// the key, as Qdrant's merge does) or, with overwrite, replaces their
// payloads. An ID list naming a missing point fails the whole operation.
func (c *collection) setPayload(sel *qdrant.PointsSelector, payload map[string]*qdrant.Value, key *string, overwrite bool) error {
	if key != nil {
		return unsupported("setting payload under a key")
	}
	if sel == nil {
		return status.Error(codes.InvalidArgument, "Wrong input: points selector is missing")
	}
	ids, err := c.selectPoints(sel, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		old := c.points[id]
		var m map[string]*qdrant.Value
		if overwrite {
			m = copyPayload(payload)
		} else {
			m = copyPayload(old.payload)
			for k, v := range payload {
				if isNullValue(v) {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
		}
		c.put(old.withPayload(m))
	}
	return nil
}

func (s *pointsService) DeletePayload(_ context.Context, req *qdrant.DeletePayloadPoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.deletePayload(req.GetPointsSelector(), req.GetKeys())
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func (c *collection) deletePayload(sel *qdrant.PointsSelector, keys []string) error {
	if sel == nil {
		return status.Error(codes.InvalidArgument, "Wrong input: points selector is missing")
	}
	for _, k := range keys {
		if _, err := parsePath(k); err != nil {
			return err
		}
	}
	ids, err := c.selectPoints(sel, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		old := c.points[id]
		m := copyPayload(old.payload)
		for _, k := range keys {
			removePath(m, k)
		}
		c.put(old.withPayload(m))
	}
	return nil
}

func (s *pointsService) ClearPayload(_ context.Context, req *qdrant.ClearPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		return c.clearPayload(req.GetPoints())
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func (c *collection) clearPayload(sel *qdrant.PointsSelector) error {
	ids, err := c.selectPoints(sel, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		c.put(c.points[id].withPayload(map[string]*qdrant.Value{}))
	}
	return nil
}

// UpdateBatch applies the operations in order. Like Qdrant it is not a
// transaction: operations before a failing one stay applied.
func (s *pointsService) UpdateBatch(_ context.Context, req *qdrant.UpdateBatchPoints) (*qdrant.UpdateBatchResponse, error) {
	t := time.Now()
	var results []*qdrant.UpdateResult
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		for _, op := range req.GetOperations() {
			var err error
			switch o := op.GetOperation().(type) {
			case *qdrant.PointsUpdateOperation_Upsert:
				err = c.upsert(o.Upsert.GetPoints(), o.Upsert.UpdateFilter, o.Upsert.GetUpdateMode())
			case *qdrant.PointsUpdateOperation_DeletePoints_:
				var ids []pid
				ids, err = c.selectPoints(o.DeletePoints.GetPoints(), false)
				for _, id := range ids {
					c.remove(id)
				}
			case *qdrant.PointsUpdateOperation_SetPayload_:
				err = c.setPayload(o.SetPayload.GetPointsSelector(), o.SetPayload.GetPayload(), o.SetPayload.Key, false)
			case *qdrant.PointsUpdateOperation_OverwritePayload_:
				err = c.setPayload(o.OverwritePayload.GetPointsSelector(), o.OverwritePayload.GetPayload(), o.OverwritePayload.Key, true)
			case *qdrant.PointsUpdateOperation_DeletePayload_:
				err = c.deletePayload(o.DeletePayload.GetPointsSelector(), o.DeletePayload.GetKeys())
			case *qdrant.PointsUpdateOperation_ClearPayload_:
				err = c.clearPayload(o.ClearPayload.GetPoints())
			case *qdrant.PointsUpdateOperation_UpdateVectors_:
				err = c.updateVectors(o.UpdateVectors.GetPoints(), o.UpdateVectors.UpdateFilter)
			case *qdrant.PointsUpdateOperation_DeleteVectors_:
				err = c.deleteVectors(o.DeleteVectors.GetPointsSelector(), o.DeleteVectors.GetVectors().GetNames())
			default:
				err = unsupported("this batch operation")
			}
			if err != nil {
				return err
			}
			op := s.e.nextOp()
			results = append(results, &qdrant.UpdateResult{OperationId: &op, Status: qdrant.UpdateStatus_Completed})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.UpdateBatchResponse{Result: results, Time: since(t)}, nil
}

func (s *pointsService) CreateFieldIndex(_ context.Context, req *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		if req.FieldType == nil {
			return status.Error(codes.InvalidArgument, "Wrong input: field type is required")
		}
		if _, err := parsePath(req.GetFieldName()); err != nil {
			return err
		}
		st, err := schemaType(req.GetFieldType(), req.GetFieldIndexParams())
		if err != nil {
			return err
		}
		c.indexes[req.GetFieldName()] = &qdrant.PayloadSchemaInfo{DataType: st, Params: req.GetFieldIndexParams()}
		c.setIndex(req.GetFieldName(), st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

// schemaType maps an index's field type to its schema type and checks
// that the parameters, if any, are of the same type.
func schemaType(ft qdrant.FieldType, params *qdrant.PayloadIndexParams) (qdrant.PayloadSchemaType, error) {
	var st qdrant.PayloadSchemaType
	var ok bool
	switch ft {
	case qdrant.FieldType_FieldTypeKeyword:
		st = qdrant.PayloadSchemaType_Keyword
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_KeywordIndexParams)
	case qdrant.FieldType_FieldTypeInteger:
		st = qdrant.PayloadSchemaType_Integer
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_IntegerIndexParams)
	case qdrant.FieldType_FieldTypeFloat:
		st = qdrant.PayloadSchemaType_Float
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_FloatIndexParams)
	case qdrant.FieldType_FieldTypeBool:
		st = qdrant.PayloadSchemaType_Bool
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_BoolIndexParams)
	case qdrant.FieldType_FieldTypeGeo:
		st = qdrant.PayloadSchemaType_Geo
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_GeoIndexParams)
	case qdrant.FieldType_FieldTypeText:
		st = qdrant.PayloadSchemaType_Text
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_TextIndexParams)
	case qdrant.FieldType_FieldTypeDatetime:
		st = qdrant.PayloadSchemaType_Datetime
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_DatetimeIndexParams)
	case qdrant.FieldType_FieldTypeUuid:
		st = qdrant.PayloadSchemaType_Uuid
		_, ok = params.GetIndexParams().(*qdrant.PayloadIndexParams_UuidIndexParams)
	default:
		return st, status.Error(codes.InvalidArgument, "Wrong input: unknown field type")
	}
	if params != nil && params.GetIndexParams() != nil && !ok {
		return st, status.Error(codes.InvalidArgument, "Wrong input: index params do not match the field type")
	}
	return st, nil
}

func (s *pointsService) DeleteFieldIndex(_ context.Context, req *qdrant.DeleteFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	t := time.Now()
	err := s.write(req.GetCollectionName(), func(c *collection) error {
		delete(c.indexes, req.GetFieldName())
		delete(c.valueIdx, req.GetFieldName())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.done(t), nil
}

func badLimit() error {
	return status.Error(codes.InvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]")
}

// newQuery builds a query of limit and offset over the named vector, with
// the referenced example IDs excluded as Qdrant does.
func (c *collection) newQuery(using string, raw []float32, f *qdrant.Filter, limit, offset uint64, threshold *float32,
	wp *qdrant.WithPayloadSelector, wv *qdrant.WithVectorsSelector, exclude []pid) (*query, error) {
	if limit == 0 {
		return nil, badLimit()
	}
	if limit+offset > 1<<20 {
		return nil, status.Error(codes.InvalidArgument, "Bad request: limit and offset are too large")
	}
	params, ok := c.vectors[using]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", using)
	}
	pred, err := compileFilter(f)
	if err != nil {
		return nil, err
	}
	q := &query{
		using: using, vector: preprocess(params.GetDistance(), raw), raw: f, filter: pred,
		limit: int(limit), offset: int(offset), threshold: threshold, withPayload: wp, withVectors: wv,
	}
	if len(exclude) > 0 {
		q.exclude = make(map[pid]struct{}, len(exclude))
		for _, id := range exclude {
			q.exclude[id] = struct{}{}
		}
	}
	return q, nil
}

func (s *pointsService) Search(_ context.Context, req *qdrant.SearchPoints) (*qdrant.SearchResponse, error) {
	t := time.Now()
	var out []*qdrant.ScoredPoint
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		q, err := c.newQuery(req.GetVectorName(), req.GetVector(), req.GetFilter(), req.GetLimit(), req.GetOffset(),
			req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors(), nil)
		if err != nil {
			return err
		}
		out, err = c.search(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchResponse{Result: out, Time: since(t)}, nil
}

func (s *pointsService) SearchBatch(ctx context.Context, req *qdrant.SearchBatchPoints) (*qdrant.SearchBatchResponse, error) {
	t := time.Now()
	out, err := batch(ctx, req.GetCollectionName(), req.GetSearchPoints(),
		func(q *qdrant.SearchPoints) *string { return &q.CollectionName }, s.Search)
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchBatchResponse{Result: out, Time: since(t)}, nil
}

// exampleVector resolves recommendation examples (stored points or raw
// vectors) into Qdrant's average_vector query: avg(pos) + avg(pos) -
// avg(neg), or avg(pos) without negatives.
func (c *collection) exampleVector(using string, pos, neg []*qdrant.VectorInput) ([]float32, []pid, error) {
	params, ok := c.vectors[using]
	if !ok {
		return nil, nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", using)
	}
	if len(pos) == 0 {
		return nil, nil, status.Error(codes.InvalidArgument, "Wrong input: At least one positive vector ID required")
	}
	var refs []pid
	resolve := func(in []*qdrant.VectorInput) ([][]float32, error) {
		var out [][]float32
		for _, vi := range in {
			switch v := vi.GetVariant().(type) {
			case *qdrant.VectorInput_Id:
				id, err := parseID(v.Id)
				if err != nil {
					return nil, err
				}
				p, ok := c.points[id]
				if !ok {
					return nil, status.Errorf(codes.NotFound, "Not found: No point with id %s found", idString(id))
				}
				vec, ok := p.vectors[using]
				if !ok {
					return nil, status.Errorf(codes.InvalidArgument, "Wrong input: point %s has no vector %s", idString(id), using)
				}
				refs = append(refs, id)
				out = append(out, vec)
			case *qdrant.VectorInput_Dense:
				d := v.Dense.GetData()
				if uint64(len(d)) != params.GetSize() {
					return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(d))
				}
				out = append(out, preprocess(params.GetDistance(), d))
			default:
				return nil, unsupported("this example type")
			}
		}
		return out, nil
	}
	p, err := resolve(pos)
	if err != nil {
		return nil, nil, err
	}
	n, err := resolve(neg)
	if err != nil {
		return nil, nil, err
	}
	avg := func(vs [][]float32) []float32 {
		a := make([]float32, params.GetSize())
		for _, v := range vs {
			for i, x := range v {
				a[i] += x
			}
		}
		for i := range a {
			a[i] /= float32(len(vs))
		}
		return a
	}
	q := avg(p)
	if len(n) > 0 {
		an := avg(n)
		for i := range q {
			q[i] += q[i] - an[i]
		}
	}
	return q, refs, nil
}

func vectorInputs(ids []*qdrant.PointId, vecs []*qdrant.Vector) ([]*qdrant.VectorInput, error) {
	var out []*qdrant.VectorInput
	for _, id := range ids {
		out = append(out, qdrant.NewVectorInputID(id))
	}
	for _, v := range vecs {
		d, err := denseOf(v)
		if err != nil {
			return nil, err
		}
		out = append(out, qdrant.NewVectorInputDense(d))
	}
	return out, nil
}

func (s *pointsService) Recommend(_ context.Context, req *qdrant.RecommendPoints) (*qdrant.RecommendResponse, error) {
	t := time.Now()
	if req.GetStrategy() != qdrant.RecommendStrategy_AverageVector {
		return nil, unsupported("recommendation strategies other than average_vector")
	}
	if req.LookupFrom != nil {
		return nil, unsupported("lookup_from")
	}
	pos, err := vectorInputs(req.GetPositive(), req.GetPositiveVectors())
	if err != nil {
		return nil, err
	}
	neg, err := vectorInputs(req.GetNegative(), req.GetNegativeVectors())
	if err != nil {
		return nil, err
	}
	var out []*qdrant.ScoredPoint
	err = s.read(req.GetCollectionName(), func(c *collection) error {
		vec, refs, err := c.exampleVector(req.GetUsing(), pos, neg)
		if err != nil {
			return err
		}
		q, err := c.newQuery(req.GetUsing(), vec, req.GetFilter(), req.GetLimit(), req.GetOffset(),
			req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors(), refs)
		if err != nil {
			return err
		}
		out, err = c.search(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.RecommendResponse{Result: out, Time: since(t)}, nil
}

func (s *pointsService) RecommendBatch(ctx context.Context, req *qdrant.RecommendBatchPoints) (*qdrant.RecommendBatchResponse, error) {
	t := time.Now()
	out, err := batch(ctx, req.GetCollectionName(), req.GetRecommendPoints(),
		func(q *qdrant.RecommendPoints) *string { return &q.CollectionName }, s.Recommend)
	if err != nil {
		return nil, err
	}
	return &qdrant.RecommendBatchResponse{Result: out, Time: since(t)}, nil
}

// Query supports nearest (by vector or by point ID) and recommend
// (average_vector) queries without prefetch.
func (s *pointsService) Query(_ context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	t := time.Now()
	if len(req.GetPrefetch()) > 0 {
		return nil, unsupported("prefetch")
	}
	if req.LookupFrom != nil {
		return nil, unsupported("lookup_from")
	}
	limit := uint64(10)
	if req.Limit != nil {
		limit = *req.Limit
	}
	var out []*qdrant.ScoredPoint
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		var vec []float32
		var refs []pid
		using := req.GetUsing()
		switch v := req.GetQuery().GetVariant().(type) {
		case *qdrant.Query_Nearest:
			switch in := v.Nearest.GetVariant().(type) {
			case *qdrant.VectorInput_Dense:
				vec = in.Dense.GetData()
			case *qdrant.VectorInput_Id:
				var err error
				if vec, refs, err = c.exampleVector(using, []*qdrant.VectorInput{v.Nearest}, nil); err != nil {
					return err
				}
			default:
				return unsupported("this nearest input")
			}
		case *qdrant.Query_Recommend:
			if v.Recommend.GetStrategy() != qdrant.RecommendStrategy_AverageVector {
				return unsupported("recommendation strategies other than average_vector")
			}
			var err error
			if vec, refs, err = c.exampleVector(using, v.Recommend.GetPositive(), v.Recommend.GetNegative()); err != nil {
				return err
			}
		case nil:
			return unsupported("queries without a query")
		default:
			return unsupported("this query type")
		}
		if params, ok := c.vectors[using]; ok && uint64(len(vec)) != params.GetSize() {
			return status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(vec))
		}
		q, err := c.newQuery(using, vec, req.GetFilter(), limit, req.GetOffset(),
			req.ScoreThreshold, req.GetWithPayload(), req.GetWithVectors(), refs)
		if err != nil {
			return err
		}
		out, err = c.search(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryResponse{Result: out, Time: since(t)}, nil
}

func (s *pointsService) QueryBatch(ctx context.Context, req *qdrant.QueryBatchPoints) (*qdrant.QueryBatchResponse, error) {
	t := time.Now()
	out, err := batch(ctx, req.GetCollectionName(), req.GetQueryPoints(),
		func(q *qdrant.QueryPoints) *string { return &q.CollectionName }, s.Query)
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryBatchResponse{Result: out, Time: since(t)}, nil
}

// Scroll pages through the matching points in ID order. offset is the
// first ID of the page (inclusive); next_page_offset is the first ID of the
// next page, or absent after the last page.
func (s *pointsService) Scroll(_ context.Context, req *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	t := time.Now()
	if req.OrderBy != nil {
		return nil, unsupported("order_by")
	}
	limit := 10
	if req.Limit != nil {
		if *req.Limit == 0 {
			return nil, status.Error(codes.InvalidArgument, "Bad request: Limit cannot be 0")
		}
		limit = int(*req.Limit)
	}
	resp := &qdrant.ScrollResponse{}
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		f, err := compileFilter(req.GetFilter())
		if err != nil {
			return err
		}
		ids := c.ordered()
		if req.Offset != nil {
			from, err := parseID(req.Offset)
			if err != nil {
				return err
			}
			i, _ := slices.BinarySearchFunc(ids, from, pid.compare)
			ids = ids[i:]
		}
		for _, id := range ids {
			p := c.points[id]
			if !f(c.subjectOf(p)) {
				continue
			}
			if len(resp.Result) == limit {
				resp.NextPageOffset = id.proto()
				break
			}
			resp.Result = append(resp.Result, c.retrieved(p, req.GetWithPayload(), req.GetWithVectors()))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp.Time = since(t)
	return resp, nil
}

func (s *pointsService) Count(_ context.Context, req *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	t := time.Now()
	var n uint64
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		f, err := compileFilter(req.GetFilter())
		if err != nil {
			return err
		}
		for _, p := range c.points {
			if f(c.subjectOf(p)) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: n}, Time: since(t)}, nil
}

// Facet counts the points per value of a keyword, integer or bool field;
// like Qdrant it needs a payload index on the key.
func (s *pointsService) Facet(_ context.Context, req *qdrant.FacetCounts) (*qdrant.FacetResponse, error) {
	t := time.Now()
	limit := 10
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	var hits []*qdrant.FacetHit
	err := s.read(req.GetCollectionName(), func(c *collection) error {
		idx, ok := c.indexes[req.GetKey()]
		switch {
		case !ok:
			return status.Errorf(codes.InvalidArgument, "Bad request: Index required but not found for \"%s\" of one of the following types: [keyword, integer, bool]", req.GetKey())
		case idx.GetDataType() != qdrant.PayloadSchemaType_Keyword && idx.GetDataType() != qdrant.PayloadSchemaType_Integer && idx.GetDataType() != qdrant.PayloadSchemaType_Bool:
			return status.Errorf(codes.InvalidArgument, "Bad request: Index required but not found for \"%s\" of one of the following types: [keyword, integer, bool]", req.GetKey())
		}
		path, err := parsePath(req.GetKey())
		if err != nil {
			return err
		}
		f, err := compileFilter(req.GetFilter())
		if err != nil {
			return err
		}
		type key struct {
			kind int
			s    string
			n    int64
		}
		counts := map[key]uint64{}
		for _, p := range c.points {
			if !f(c.subjectOf(p)) {
				continue
			}
			seen := map[key]bool{}
			var visit func(v *qdrant.Value)
			visit = func(v *qdrant.Value) {
				var k key
				switch x := v.GetKind().(type) {
				case *qdrant.Value_StringValue:
					if idx.GetDataType() != qdrant.PayloadSchemaType_Keyword {
						return
					}
					k = key{kind: 0, s: x.StringValue}
				case *qdrant.Value_IntegerValue:
					if idx.GetDataType() != qdrant.PayloadSchemaType_Integer {
						return
					}
					k = key{kind: 1, n: x.IntegerValue}
				case *qdrant.Value_BoolValue:
					if idx.GetDataType() != qdrant.PayloadSchemaType_Bool {
						return
					}
					k = key{kind: 2}
					if x.BoolValue {
						k.n = 1
					}
				case *qdrant.Value_ListValue:
					for _, e := range x.ListValue.GetValues() {
						visit(e)
					}
					return
				default:
					return
				}
				if !seen[k] {
					seen[k] = true
					counts[k]++
				}
			}
			for _, v := range path.get(p.payload) {
				visit(v)
			}
		}
		keys := make([]key, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			if c := cmp.Compare(counts[b], counts[a]); c != 0 {
				return c
			}
			if c := cmp.Compare(a.kind, b.kind); c != 0 {
				return c
			}
			if c := cmp.Compare(a.s, b.s); c != 0 {
				return c
			}
			return cmp.Compare(a.n, b.n)
		})
		if len(keys) > limit {
			keys = keys[:limit]
		}
		for _, k := range keys {
			var fv *qdrant.FacetValue
			switch k.kind {
			case 0:
				fv = &qdrant.FacetValue{Variant: &qdrant.FacetValue_StringValue{StringValue: k.s}}
			case 1:
				fv = &qdrant.FacetValue{Variant: &qdrant.FacetValue_IntegerValue{IntegerValue: k.n}}
			default:
				fv = &qdrant.FacetValue{Variant: &qdrant.FacetValue_BoolValue{BoolValue: k.n == 1}}
			}
			hits = append(hits, &qdrant.FacetHit{Value: fv, Count: counts[k]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &qdrant.FacetResponse{Hits: hits, Time: since(t)}, nil
}

// batch serves the requests of a batch RPC one by one, in order; a request
// without a collection name takes the batch's.
func batch[Q any, R interface{ GetResult() []*qdrant.ScoredPoint }](
	ctx context.Context, coll string, reqs []Q,
	name func(Q) *string, one func(context.Context, Q) (R, error),
) ([]*qdrant.BatchResult, error) {
	out := make([]*qdrant.BatchResult, 0, len(reqs))
	for _, q := range reqs {
		if *name(q) == "" {
			*name(q) = coll
		}
		r, err := one(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, &qdrant.BatchResult{Result: r.GetResult()})
	}
	return out, nil
}
