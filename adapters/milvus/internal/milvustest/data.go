package milvustest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Insert inserts rows; a row whose primary key exists replaces it.
func (s *service) Insert(ctx context.Context, req *milvuspb.InsertRequest) (*milvuspb.MutationResult, error) {
	return s.write(ctx, req.GetCollectionName(), req.GetPartitionName(), req.GetFieldsData(), int(req.GetNumRows()), false)
}

// Upsert inserts or replaces rows.
func (s *service) Upsert(ctx context.Context, req *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	if req.GetPartialUpdate() {
		return &milvuspb.MutationResult{Status: fail(invalid("this test server does not support partial updates"))}, nil
	}
	return s.write(ctx, req.GetCollectionName(), req.GetPartitionName(), req.GetFieldsData(), int(req.GetNumRows()), true)
}

func (s *service) write(ctx context.Context, name, partition string, data []*schemapb.FieldData, numRows int, upsert bool) (*milvuspb.MutationResult, error) {
	c, err := s.get(name)
	if err != nil {
		return &milvuspb.MutationResult{Status: fail(err)}, nil
	}
	if partition != "" && partition != "_default" {
		return &milvuspb.MutationResult{Status: fail(merr.WrapErrPartitionNotFound(partition))}, nil
	}
	if numRows <= 0 {
		return &milvuspb.MutationResult{Status: fail(invalid("num_rows should be greater than 0"))}, nil
	}
	rows, err := s.decodeRows(c, data, numRows)
	if err != nil {
		return &milvuspb.MutationResult{Status: fail(err)}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pts := make([]driver.Point, len(rows))
	fresh := map[any]driver.PointID{}
	for i, r := range rows {
		id, ok := c.ids[r.pk]
		if !ok {
			if id, ok = fresh[r.pk]; !ok {
				c.nextPID++
				id = driver.NumID(c.nextPID)
				fresh[r.pk] = id
			}
		}
		pts[i] = driver.Point{ID: id, Vectors: r.vectors, Payload: r.payload}
	}
	wctx := context.WithoutCancel(ctx) // the write is decided: finish it
	for rest := pts; len(rest) > 0; {
		n := min(len(rest), driver.MaxBatch)
		if err := c.mem.Upsert(wctx, rest[:n]); err != nil {
			return &milvuspb.MutationResult{Status: fail(merr.WrapErrServiceInternal(err.Error()))}, nil
		}
		rest = rest[n:]
	}
	for pk, id := range fresh {
		c.ids[pk] = id
	}
	res := &milvuspb.MutationResult{Status: ok(), IDs: c.idsOf(pts), Timestamp: 1}
	if upsert {
		res.UpsertCnt = int64(len(pts))
	} else {
		res.InsertCnt = int64(len(pts))
	}
	for i := range pts {
		res.SuccIndex = append(res.SuccIndex, uint32(i))
	}
	return res, nil
}

// Delete deletes the rows an expression selects. Unless the expression
// only names primary keys, the collection must be loaded.
func (s *service) Delete(ctx context.Context, req *milvuspb.DeleteRequest) (*milvuspb.MutationResult, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.MutationResult{Status: fail(err)}, nil
	}
	if strings.TrimSpace(req.GetExpr()) == "" {
		return &milvuspb.MutationResult{Status: fail(invalid("delete plan can't be empty or always true"))}, nil
	}
	cp, err := c.compile(req.GetExpr(), req.GetExprTemplateValues())
	if err != nil {
		return &milvuspb.MutationResult{Status: fail(err)}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded && !cp.keyOnly {
		return &milvuspb.MutationResult{Status: fail(merr.WrapErrCollectionNotLoaded(c.name))}, nil
	}
	ms, err := c.matching(ctx, cp)
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 {
		ids := make([]driver.PointID, len(ms))
		for i, m := range ms {
			ids[i] = m.id
		}
		if err := c.mem.Delete(context.WithoutCancel(ctx), &driver.Selector{IDs: ids}); err != nil {
			return &milvuspb.MutationResult{Status: fail(merr.WrapErrServiceInternal(err.Error()))}, nil
		}
		for _, m := range ms {
			delete(c.ids, m.pk)
		}
	}
	return &milvuspb.MutationResult{Status: ok(), DeleteCnt: int64(len(ms)), Timestamp: 1}, nil
}

func params(kvs []*commonpb.KeyValuePair) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

// outputs resolves requested output fields: "*" is every field; the
// primary key comes first when withKey.
func (c *coll) outputs(names []string, withKey bool) ([]*schemapb.FieldSchema, error) {
	var out []*schemapb.FieldSchema
	seen := map[string]bool{}
	add := func(f *schemapb.FieldSchema) {
		if !seen[f.GetName()] {
			seen[f.GetName()] = true
			out = append(out, f)
		}
	}
	if withKey {
		add(c.pk)
	}
	for _, n := range names {
		if n == "*" {
			for _, f := range c.schema.GetFields() {
				add(f)
			}
			continue
		}
		f := c.fields[n]
		if f == nil {
			return nil, merr.WrapErrFieldNotFound(n, "field not exist")
		}
		add(f)
	}
	return out, nil
}

// projection returns what the store must return for the output fields.
func projection(fields []*schemapb.FieldSchema) (driver.Projection, bool) {
	proj := driver.Projection{Fields: []string{}}
	vectors := false
	for _, f := range fields {
		if f.GetDataType() == schemapb.DataType_FloatVector {
			vectors = true
		} else {
			proj.Fields = append(proj.Fields, f.GetName())
		}
	}
	return proj, vectors
}

// Search runs an exact top-k search of each query vector.
func (s *service) Search(ctx context.Context, req *milvuspb.SearchRequest) (*milvuspb.SearchResults, error) {
	failed := func(err error) (*milvuspb.SearchResults, error) {
		return &milvuspb.SearchResults{Status: fail(err)}, nil
	}
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return failed(err)
	}
	if len(req.GetSubReqs()) > 0 || len(req.GetPartitionNames()) > 0 || req.GetFunctionScore() != nil {
		return failed(invalid("this test server supports plain searches only"))
	}
	sp := params(req.GetSearchParams())
	if sp["group_by_field"] != "" {
		return failed(invalid("this test server does not support grouping"))
	}
	topk, err := strconv.Atoi(sp["topk"])
	if err != nil || topk < 1 || topk > maxTopK {
		return failed(invalid("topk [%s] is invalid, it should be in range [1, %d]", sp["topk"], maxTopK))
	}
	offset := 0
	if o := sp["offset"]; o != "" {
		if offset, err = strconv.Atoi(o); err != nil || offset < 0 || offset+topk > maxTopK {
			return failed(invalid("offset + topk should be in range [1, %d]", maxTopK))
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.loaded {
		return failed(merr.WrapErrCollectionNotLoaded(c.name))
	}
	field := sp["anns_field"]
	if field == "" && len(c.memSpec.Vectors) == 1 {
		field = c.memSpec.Vectors[0].Name
	}
	vs, found := c.memSpec.Vector(field)
	if field == "" || !found {
		return failed(invalid("the anns field %q is not a vector field of the collection", field))
	}
	if m := sp["metric_type"]; m != "" && m != c.indexes[field].metric {
		return failed(invalid("metric type not match: invalid parameter[expected=%s][actual=%s]", c.indexes[field].metric, m))
	}
	queries, err := queryVectors(req.GetPlaceholderGroup(), vs.Dim)
	if err != nil {
		return failed(err)
	}
	if int64(len(queries)) != req.GetNq() {
		return failed(invalid("nq (%d) does not match the number of query vectors (%d)", req.GetNq(), len(queries)))
	}
	cp, err := c.compile(req.GetDsl(), req.GetExprTemplateValues())
	if err != nil {
		return failed(err)
	}
	outs, err := c.outputs(req.GetOutputFields(), false)
	if err != nil {
		return failed(err)
	}
	proj, withVectors := projection(outs)
	proj.Fields = append(proj.Fields, c.pk.GetName())
	filter := cp.data
	if !cp.translated {
		ms, err := c.matching(ctx, cp)
		if err != nil {
			return nil, err
		}
		ids := make([]driver.PointID, len(ms))
		for i, m := range ms {
			ids[i] = m.id
		}
		filter = driver.HasID(ids...)
	}
	res := &schemapb.SearchResultData{NumQueries: int64(len(queries)), TopK: int64(topk)}
	var all []driver.Point
	for _, q := range queries {
		hits, err := c.search(ctx, vs, q, offset+topk, filter, proj, withVectors)
		if err != nil {
			return nil, err
		}
		hits = hits[min(offset, len(hits)):]
		res.Topks = append(res.Topks, int64(len(hits)))
		for _, h := range hits {
			score := h.Score
			if vs.Distance == driver.Euclid {
				score = float32(float64(score) * float64(score)) // Milvus's L2 is squared
			}
			res.Scores = append(res.Scores, score)
			all = append(all, h.Point)
		}
	}
	res.Ids = c.idsOf(all)
	for _, f := range outs {
		res.FieldsData = append(res.FieldsData, encodeColumn(f, all))
		res.OutputFields = append(res.OutputFields, f.GetName())
	}
	return &milvuspb.SearchResults{Status: ok(), Results: res, CollectionName: c.name}, nil
}

// search returns the best k points, in at most two searches of the store
// (which serves at most 10000 at a time).
func (c *coll) search(ctx context.Context, vs driver.VectorSpec, q []float32, k int, f *driver.Filter, proj driver.Projection, withVectors bool) ([]driver.ScoredPoint, error) {
	var out []driver.ScoredPoint
	for off := 0; off < k; off += driver.MaxLimit {
		hits, err := c.mem.Search(ctx, &driver.Query{Vector: q, VectorName: vs.Name, Limit: min(k-off, driver.MaxLimit), Offset: off, Filter: f, Payload: proj, WithVectors: withVectors})
		if err != nil {
			return nil, err
		}
		out = append(out, hits...)
		if len(hits) < driver.MaxLimit {
			break
		}
	}
	return out, nil
}

// queryVectors decodes a placeholder group of float vectors.
func queryVectors(b []byte, dim int) ([][]float32, error) {
	var g commonpb.PlaceholderGroup
	if err := proto.Unmarshal(b, &g); err != nil || len(g.GetPlaceholders()) != 1 {
		return nil, invalid("malformed placeholder group")
	}
	ph := g.GetPlaceholders()[0]
	if ph.GetType() != commonpb.PlaceholderType_FloatVector {
		return nil, invalid("this test server searches float vectors only")
	}
	out := make([][]float32, 0, len(ph.GetValues()))
	for _, v := range ph.GetValues() {
		if len(v) != 4*dim {
			return nil, invalid("the dimension of the query vector does not match the field's (%d)", dim)
		}
		q := make([]float32, dim)
		for i := range q {
			q[i] = math.Float32frombits(binary.LittleEndian.Uint32(v[4*i:]))
		}
		out = append(out, q)
	}
	return out, nil
}

// Query returns the rows an expression selects, in primary-key order, or
// their count for the output field count(*).
func (s *service) Query(ctx context.Context, req *milvuspb.QueryRequest) (*milvuspb.QueryResults, error) {
	failed := func(err error) (*milvuspb.QueryResults, error) {
		return &milvuspb.QueryResults{Status: fail(err)}, nil
	}
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return failed(err)
	}
	if len(req.GetPartitionNames()) > 0 {
		return failed(invalid("this test server has no partitions"))
	}
	qp := params(req.GetQueryParams())
	limit, offset := -1, 0
	if l := qp["limit"]; l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 0 {
			return failed(invalid("invalid limit"))
		}
	}
	if o := qp["offset"]; o != "" {
		if offset, err = strconv.Atoi(o); err != nil || offset < 0 {
			return failed(invalid("invalid offset"))
		}
	}
	if limit >= 0 && offset+limit > maxTopK {
		return failed(invalid("invalid max query result window, (offset+limit) should be in range [1, %d]", maxTopK))
	}
	count := slices.Contains(req.GetOutputFields(), "count(*)")
	if count && len(req.GetOutputFields()) > 1 {
		return failed(invalid("count(*) cannot be combined with other output fields"))
	}
	if strings.TrimSpace(req.GetExpr()) == "" && limit < 0 && !count {
		return failed(invalid("empty expression should be used with limit"))
	}
	cp, err := c.compile(req.GetExpr(), req.GetExprTemplateValues())
	if err != nil {
		return failed(err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.loaded {
		return failed(merr.WrapErrCollectionNotLoaded(c.name))
	}
	if count {
		var n int64
		if cp.translated {
			n, err = c.mem.Count(ctx, cp.data)
		} else {
			var ms []match
			ms, err = c.matching(ctx, cp)
			n = int64(len(ms))
		}
		if err != nil {
			return nil, err
		}
		fd := &schemapb.FieldData{Type: schemapb.DataType_Int64, FieldName: "count(*)", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{n}}}}}}
		return &milvuspb.QueryResults{Status: ok(), FieldsData: []*schemapb.FieldData{fd}, CollectionName: c.name, OutputFields: []string{"count(*)"}}, nil
	}
	outs, err := c.outputs(req.GetOutputFields(), true)
	if err != nil {
		return failed(err)
	}
	ms, err := c.matching(ctx, cp)
	if err != nil {
		return nil, err
	}
	ms = ms[min(offset, len(ms)):]
	if limit >= 0 {
		ms = ms[:min(limit, len(ms))]
	}
	ids := make([]driver.PointID, len(ms))
	for i, m := range ms {
		ids[i] = m.id
	}
	proj, withVectors := projection(outs)
	var pts []driver.Point
	if len(ids) > 0 {
		pg, err := c.mem.Read(ctx, &driver.ReadRequest{IDs: ids, Payload: proj, WithVectors: withVectors})
		if err != nil {
			return nil, err
		}
		pts = pg.Points
	}
	res := &milvuspb.QueryResults{Status: ok(), CollectionName: c.name}
	for _, f := range outs {
		res.FieldsData = append(res.FieldsData, encodeColumn(f, pts))
		res.OutputFields = append(res.OutputFields, f.GetName())
	}
	return res, nil
}

// decodeJSON decodes a JSON value with int64 for integers and float64 for
// numbers with a fraction or an exponent.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	return typed(v), nil
}

func typed(v any) any {
	switch t := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := t.Int64(); err == nil {
				return n
			}
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = typed(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = typed(t[k])
		}
	}
	return v
}
