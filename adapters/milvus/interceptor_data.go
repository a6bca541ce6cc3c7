package milvus

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// outputs is a resolved list of output fields.
type outputs struct {
	names       []string // in the order the reply lists them
	withPayload bool     // the payload column: every payload key
	fields      []string // declared fields asked for, when not withPayload
	withVectors bool
}

// resolveOutputs resolves the output fields of a request against spec:
// "*" is every column; the key comes first when withKey.
func resolveOutputs(spec *driver.CollectionSpec, names []string, withKey bool) (outputs, error) {
	var o outputs
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			o.names = append(o.names, n)
		}
	}
	if withKey {
		add(keyField)
	}
	for _, n := range names {
		if n == "*" {
			add(keyField)
			for _, v := range spec.Vectors {
				add(v.Name)
			}
			for _, f := range spec.Fields {
				add(f.Name)
			}
			add(payloadField)
			continue
		}
		if _, ok := spec.Vector(n); ok && n != "" {
			add(n)
			continue
		}
		if _, ok := spec.Field(n); ok || n == keyField || n == payloadField {
			add(n)
			continue
		}
		return o, driver.Errorf(driver.InvalidArgument, "field %s does not exist", n)
	}
	for _, n := range o.names {
		switch _, isVec := spec.Vector(n); {
		case n == payloadField:
			o.withPayload = true
		case isVec:
			o.withVectors = true
		case n != keyField:
			o.fields = append(o.fields, n)
		}
	}
	if o.withPayload {
		o.fields = nil
	} else if len(o.fields) == 0 {
		o.fields = []string{}
	}
	return o, nil
}

// readOptions returns what the guard must read for o.
func (o outputs) readOptions() vecguard.ReadOptions {
	return vecguard.ReadOptions{WithPayload: o.withPayload, PayloadFields: o.fields, WithVectors: o.withVectors}
}

// columns encodes points as the reply's columns, as Milvus returns them:
// full length, with valid data for nullable columns.
func columns(spec *driver.CollectionSpec, o outputs, pts []driver.Point) ([]*schemapb.FieldData, error) {
	var out []*schemapb.FieldData
	for i, name := range o.names {
		fd := &schemapb.FieldData{FieldName: name, FieldId: int64(100 + i)}
		switch vs, isVec := spec.Vector(name); {
		case name == keyField:
			keys := make([]string, len(pts))
			for j, p := range pts {
				keys[j] = keyOf(p.ID)
			}
			fd.Type = schemapb.DataType_VarChar
			fd.Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: keys}}}}
		case isVec:
			flat := make([]float32, 0, len(pts)*vs.Dim)
			for _, p := range pts {
				v := p.Vectors[name]
				if len(v) != vs.Dim {
					return nil, driver.Errorf(driver.Internal, "point %s has no vector %q", p.ID, name)
				}
				flat = append(flat, v...)
			}
			fd.Type = schemapb.DataType_FloatVector
			fd.Field = &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: int64(vs.Dim), Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: flat}}}}
		case name == payloadField:
			data := make([][]byte, len(pts))
			valid := make([]bool, len(pts))
			for j, p := range pts {
				rest := map[string]any{}
				for k, v := range p.Payload {
					if _, declared := spec.Field(k); !declared && v != nil {
						rest[k] = v
					}
				}
				if len(rest) > 0 {
					b, err := appendJSON(nil, rest)
					if err != nil {
						return nil, err
					}
					data[j], valid[j] = b, true
				} else {
					data[j] = []byte{}
				}
			}
			fd.Type = schemapb.DataType_JSON
			fd.ValidData = valid
			fd.Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: data}}}}
		default:
			fs, _ := spec.Field(name)
			fieldColumn(fd, fs, fs.Name != spec.TenantField, pts)
		}
		out = append(out, fd)
	}
	return out, nil
}

func fieldColumn(fd *schemapb.FieldData, fs driver.FieldSpec, nullable bool, pts []driver.Point) {
	if nullable {
		fd.ValidData = make([]bool, len(pts))
		for j, p := range pts {
			fd.ValidData[j] = p.Payload[fs.Name] != nil
		}
	}
	sc := &schemapb.ScalarField{}
	switch fs.Kind {
	case driver.KindString:
		d := make([]string, len(pts))
		for j, p := range pts {
			d[j], _ = p.Payload[fs.Name].(string)
		}
		fd.Type = schemapb.DataType_VarChar
		sc.Data = &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: d}}
	case driver.KindInt:
		d := make([]int64, len(pts))
		for j, p := range pts {
			d[j], _ = p.Payload[fs.Name].(int64)
		}
		fd.Type = schemapb.DataType_Int64
		sc.Data = &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: d}}
	case driver.KindFloat:
		d := make([]float64, len(pts))
		for j, p := range pts {
			d[j], _ = p.Payload[fs.Name].(float64)
		}
		fd.Type = schemapb.DataType_Double
		sc.Data = &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: d}}
	case driver.KindBool:
		d := make([]bool, len(pts))
		for j, p := range pts {
			d[j], _ = p.Payload[fs.Name].(bool)
		}
		fd.Type = schemapb.DataType_Bool
		sc.Data = &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: d}}
	}
	fd.Field = &schemapb.FieldData_Scalars{Scalars: sc}
}

// queryVectors decodes the float vectors of a placeholder group.
func queryVectors(b []byte, dim int) ([][]float32, error) {
	var g commonpb.PlaceholderGroup
	if err := proto.Unmarshal(b, &g); err != nil || len(g.GetPlaceholders()) != 1 {
		return nil, driver.Errorf(driver.InvalidArgument, "malformed placeholder group")
	}
	ph := g.GetPlaceholders()[0]
	if ph.GetType() != commonpb.PlaceholderType_FloatVector {
		return nil, unsupportedRequest("searches by anything but float vectors")
	}
	out := make([][]float32, 0, len(ph.GetValues()))
	for _, v := range ph.GetValues() {
		if len(v) != 4*dim {
			return nil, driver.Errorf(driver.InvalidArgument, "query vector has the wrong dimension")
		}
		q := make([]float32, dim)
		for i := range q {
			q[i] = math.Float32frombits(binary.LittleEndian.Uint32(v[4*i:]))
		}
		out = append(out, q)
	}
	return out, nil
}

// annSearch is one ANN request resolved against a spec.
type annSearch struct {
	vs      driver.VectorSpec
	queries [][]float32
	topk    int
	offset  int
	filter  *driver.Filter
}

func resolveANN(spec *driver.CollectionSpec, req *milvuspb.SearchRequest) (annSearch, error) {
	var a annSearch
	if len(req.GetSubReqs()) > 0 || req.GetFunctionScore() != nil {
		return a, unsupportedRequest("function scores and sub-requests")
	}
	if err := checkPartitions(req.GetPartitionNames(), ""); err != nil {
		return a, err
	}
	sp := kvs(req.GetSearchParams())
	if sp["group_by_field"] != "" {
		return a, unsupportedRequest("grouping")
	}
	if hasRangeParams(sp["params"]) {
		return a, unsupportedRequest("range search")
	}
	field := sp["anns_field"]
	if field == "" && len(spec.Vectors) == 1 {
		field = spec.Vectors[0].Name
	}
	vs, ok := spec.Vector(field)
	if field == "" || !ok {
		return a, driver.Errorf(driver.InvalidArgument, "%q is not a vector field of the collection", field)
	}
	if m := sp["metric_type"]; m != "" && m != string(metricOf(vs.Distance)) {
		return a, driver.Errorf(driver.InvalidArgument, "metric type %s does not match the field's %s", m, metricOf(vs.Distance))
	}
	var err error
	if a.topk, err = strconv.Atoi(sp["topk"]); err != nil || a.topk < 1 || a.topk > maxTopK {
		return a, driver.Errorf(driver.InvalidArgument, "topk must be 1 to %d", maxTopK)
	}
	if o := sp["offset"]; o != "" {
		if a.offset, err = strconv.Atoi(o); err != nil || a.offset < 0 || a.offset+a.topk > maxTopK {
			return a, driver.Errorf(driver.InvalidArgument, "offset + topk must be at most %d", maxTopK)
		}
	}
	if a.queries, err = queryVectors(req.GetPlaceholderGroup(), vs.Dim); err != nil {
		return a, err
	}
	if a.filter, err = callerFilter(spec, req.GetDsl(), req.GetExprTemplateValues()); err != nil {
		return a, err
	}
	a.vs = vs
	return a, nil
}

// milvusScore converts a vecguard score to Milvus's: L2 is squared.
func milvusScore(d driver.Distance, s float32) float32 {
	if d == driver.Euclid {
		return float32(float64(s) * float64(s))
	}
	return s
}

func searchRPC(ctx context.Context, ic *interceptor, req *milvuspb.SearchRequest) (*milvuspb.SearchResults, error) {
	name := req.GetCollectionName()
	spec, err := ic.spec(ctx, name)
	if err != nil {
		return nil, err
	}
	a, err := resolveANN(spec, req)
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	o, err := resolveOutputs(spec, req.GetOutputFields(), false)
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	ro := o.readOptions()
	res := &schemapb.SearchResultData{NumQueries: int64(len(a.queries)), TopK: int64(a.topk)}
	var all []driver.Point
	for _, q := range a.queries {
		hits, err := ic.guard.Search(ctx, name, vecguard.SearchRequest{
			Vector: q, VectorName: a.vs.Name, Limit: a.topk, Offset: a.offset, Filter: a.filter,
			WithPayload: ro.WithPayload, PayloadFields: ro.PayloadFields, WithVectors: ro.WithVectors,
		})
		if err != nil {
			return nil, err
		}
		res.Topks = append(res.Topks, int64(len(hits)))
		for _, h := range hits {
			res.Scores = append(res.Scores, milvusScore(a.vs.Distance, h.Score))
			all = append(all, h.Point)
		}
	}
	return searchResults(spec, name, o, res, all)
}

func searchResults(spec *driver.CollectionSpec, name string, o outputs, res *schemapb.SearchResultData, pts []driver.Point) (*milvuspb.SearchResults, error) {
	keys := make([]string, len(pts))
	for i, p := range pts {
		keys[i] = keyOf(p.ID)
	}
	res.Ids = &schemapb.IDs{IdField: &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: keys}}}
	var err error
	if res.FieldsData, err = columns(spec, o, pts); err != nil {
		return nil, err
	}
	res.OutputFields = o.names
	return &milvuspb.SearchResults{Status: merr.Success(), Results: res, CollectionName: name}, nil
}

// hybridSearchRPC serves a hybrid search with the RRF ranker: each
// request is a guarded search, and the results are fused by reciprocal
// rank, ties by key. The weighted ranker is refused (its score
// normalization is Milvus's own).
func hybridSearchRPC(ctx context.Context, ic *interceptor, req *milvuspb.HybridSearchRequest) (*milvuspb.SearchResults, error) {
	name := req.GetCollectionName()
	spec, err := ic.spec(ctx, name)
	if err != nil {
		return nil, err
	}
	rp := kvs(req.GetRankParams())
	if err := checkPartitions(req.GetPartitionNames(), ""); err != nil {
		return nil, err
	}
	if req.GetFunctionScore() != nil || rp["strategy"] != "rrf" {
		return nil, unsupportedRequest("hybrid rankers other than RRF")
	}
	k := 60.0
	if p := rp["params"]; p != "" {
		var params struct {
			K *float64 `json:"k"`
		}
		if json.Unmarshal([]byte(p), &params) != nil || params.K != nil && (*params.K <= 0 || *params.K >= 16384) {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed RRF parameters")
		}
		if params.K != nil {
			k = *params.K
		}
	}
	limit, err := strconv.Atoi(rp["limit"])
	if err != nil || limit < 1 {
		return nil, driver.Errorf(driver.InvalidArgument, "a hybrid search needs a limit")
	}
	offset := 0
	if s := rp["offset"]; s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed offset")
		}
	}
	if offset+limit > maxTopK || len(req.GetRequests()) == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "a hybrid search needs requests and offset + limit at most %d", maxTopK)
	}
	o, err := resolveOutputs(spec, req.GetOutputFields(), false)
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	ro := o.readOptions()
	type fused struct {
		p     driver.Point
		score float64
	}
	byID := map[driver.PointID]*fused{}
	for _, sr := range req.GetRequests() {
		a, err := resolveANN(spec, sr)
		if err != nil {
			return nil, ic.requestError(ctx, name, err)
		}
		if len(a.queries) != 1 {
			return nil, unsupportedRequest("hybrid requests with more than one query vector")
		}
		hits, err := ic.guard.Search(ctx, name, vecguard.SearchRequest{
			Vector: a.queries[0], VectorName: a.vs.Name, Limit: a.topk, Offset: a.offset, Filter: a.filter,
			WithPayload: ro.WithPayload, PayloadFields: ro.PayloadFields, WithVectors: ro.WithVectors,
		})
		if err != nil {
			return nil, err
		}
		for rank, h := range hits {
			f := byID[h.ID]
			if f == nil {
				f = &fused{p: h.Point}
				byID[h.ID] = f
			}
			f.score += 1 / (k + float64(rank+1))
		}
	}
	all := make([]*fused, 0, len(byID))
	for _, f := range byID {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b *fused) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return a.p.ID.Compare(b.p.ID)
	})
	all = all[min(offset, len(all)):min(offset+limit, len(all))]
	res := &schemapb.SearchResultData{NumQueries: 1, TopK: int64(limit), Topks: []int64{int64(len(all))}}
	pts := make([]driver.Point, len(all))
	for i, f := range all {
		pts[i] = f.p
		res.Scores = append(res.Scores, float32(f.score))
	}
	return searchResults(spec, name, o, res, pts)
}

// queryRPC serves a query: count(*) is a guarded count; a query on
// "_vg_id in [...]" (what milvusclient's Get sends) reads by ID; any other
// query scrolls in key order, as Milvus returns a limited query. A query
// without a limit returns at most 16384 rows and fails beyond.
func queryRPC(ctx context.Context, ic *interceptor, req *milvuspb.QueryRequest) (*milvuspb.QueryResults, error) {
	name := req.GetCollectionName()
	spec, err := ic.spec(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkPartitions(req.GetPartitionNames(), ""); err != nil {
		return nil, err
	}
	f, err := callerFilter(spec, req.GetExpr(), req.GetExprTemplateValues())
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	if slices.Contains(req.GetOutputFields(), "count(*)") {
		if len(req.GetOutputFields()) != 1 {
			return nil, driver.Errorf(driver.InvalidArgument, "count(*) cannot be combined with other output fields")
		}
		n, err := ic.guard.Count(ctx, name, f)
		if err != nil {
			return nil, err
		}
		fd := &schemapb.FieldData{Type: schemapb.DataType_Int64, FieldName: "count(*)", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{n}}}}}}
		return &milvuspb.QueryResults{Status: merr.Success(), FieldsData: []*schemapb.FieldData{fd}, CollectionName: name, OutputFields: []string{"count(*)"}}, nil
	}
	qp := kvs(req.GetQueryParams())
	limit, offset := -1, 0
	if s := qp["limit"]; s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 0 {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed limit")
		}
	}
	if s := qp["offset"]; s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return nil, driver.Errorf(driver.InvalidArgument, "malformed offset")
		}
	}
	if limit >= 0 && offset+limit > maxTopK {
		return nil, driver.Errorf(driver.InvalidArgument, "offset + limit must be at most %d", maxTopK)
	}
	if f == nil && limit < 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "empty expression should be used with limit")
	}
	o, err := resolveOutputs(spec, req.GetOutputFields(), true)
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	ro := o.readOptions()
	want := offset + limit
	if limit < 0 {
		want = maxTopK + 1
	}
	var pts []driver.Point
	if f != nil && f.Op == driver.OpHasID {
		if pts, err = ic.guard.Get(ctx, name, f.IDs, ro); err != nil {
			return nil, err
		}
		slices.SortFunc(pts, func(a, b driver.Point) int { return a.ID.Compare(b.ID) })
		pts = slices.CompactFunc(pts, func(a, b driver.Point) bool { return a.ID == b.ID })
	} else {
		cursor := ""
		for len(pts) < want {
			page, err := ic.guard.Scroll(ctx, name, vecguard.ScrollRequest{
				Filter: f, Limit: min(want-len(pts), driver.MaxLimit), Cursor: cursor,
				WithPayload: ro.WithPayload, PayloadFields: ro.PayloadFields, WithVectors: ro.WithVectors,
			})
			if err != nil {
				return nil, err
			}
			pts = append(pts, page.Points...)
			if cursor = page.Cursor; cursor == "" {
				break
			}
		}
	}
	if limit < 0 && len(pts) > maxTopK {
		return nil, driver.Errorf(driver.InvalidArgument, "the query matches more than %d rows: give it a limit", maxTopK)
	}
	pts = pts[min(offset, len(pts)):]
	if limit >= 0 {
		pts = pts[:min(limit, len(pts))]
	}
	fds, err := columns(spec, o, pts)
	if err != nil {
		return nil, err
	}
	return &milvuspb.QueryResults{Status: merr.Success(), FieldsData: fds, CollectionName: name, OutputFields: o.names}, nil
}

func insertRPC(ctx context.Context, ic *interceptor, req *milvuspb.InsertRequest) (*milvuspb.MutationResult, error) {
	res, err := write(ctx, ic, req.GetCollectionName(), req.GetPartitionName(), req.GetFieldsData(), int(req.GetNumRows()))
	if err == nil {
		res.InsertCnt = int64(len(res.SuccIndex))
	}
	return res, err
}

func upsertRPC(ctx context.Context, ic *interceptor, req *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	if req.GetPartialUpdate() {
		return nil, unsupportedRequest("partial updates")
	}
	res, err := write(ctx, ic, req.GetCollectionName(), req.GetPartitionName(), req.GetFieldsData(), int(req.GetNumRows()))
	if err == nil {
		res.UpsertCnt = int64(len(res.SuccIndex))
	}
	return res, err
}

// write serves an insert or an upsert as a guarded upsert: an insert of an
// existing key replaces the point.
func write(ctx context.Context, ic *interceptor, name, partition string, data []*schemapb.FieldData, n int) (*milvuspb.MutationResult, error) {
	spec, err := ic.spec(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkPartitions(nil, partition); err != nil {
		return nil, err
	}
	pts, err := pointsOf(spec, data, n)
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	if err := ic.guard.Upsert(ctx, name, pts); err != nil {
		return nil, err
	}
	keys := make([]string, len(pts))
	res := &milvuspb.MutationResult{Status: merr.Success()}
	for i, p := range pts {
		keys[i] = keyOf(p.ID)
		res.SuccIndex = append(res.SuccIndex, uint32(i))
	}
	res.IDs = &schemapb.IDs{IdField: &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: keys}}}
	return res, nil
}

// deleteRPC serves a delete: "_vg_id in [...]" deletes by ID, any other
// expression by filter. The delete count is not known: it is 0.
func deleteRPC(ctx context.Context, ic *interceptor, req *milvuspb.DeleteRequest) (*milvuspb.MutationResult, error) {
	name := req.GetCollectionName()
	spec, err := ic.spec(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkPartitions(nil, req.GetPartitionName()); err != nil {
		return nil, err
	}
	f, err := callerFilter(spec, req.GetExpr(), req.GetExprTemplateValues())
	if err != nil {
		return nil, ic.requestError(ctx, name, err)
	}
	switch {
	case f == nil:
		return nil, driver.Errorf(driver.InvalidArgument, "a delete needs an expression")
	case f.Op == driver.OpHasID:
		err = ic.guard.Delete(ctx, name, f.IDs)
	default:
		err = ic.guard.DeleteByFilter(ctx, name, f)
	}
	if err != nil {
		return nil, err
	}
	return &milvuspb.MutationResult{Status: merr.Success()}, nil
}

// pointsOf decodes the columns of an insert into points of spec.
func pointsOf(spec *driver.CollectionSpec, data []*schemapb.FieldData, n int) ([]driver.Point, error) {
	if n <= 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "no rows")
	}
	pts := make([]driver.Point, n)
	for i := range pts {
		pts[i] = driver.Point{Vectors: map[string][]float32{}, Payload: map[string]any{}}
	}
	seen := map[string]bool{}
	for _, fd := range data {
		name := fd.GetFieldName()
		if seen[name] || fd.GetIsDynamic() {
			return nil, driver.Errorf(driver.InvalidArgument, "duplicated or dynamic column %s", name)
		}
		seen[name] = true
		if vs, ok := spec.Vector(name); ok && name != "" {
			v := fd.GetVectors()
			flat := v.GetFloatVector().GetData()
			if fd.GetType() != schemapb.DataType_FloatVector || v.GetDim() != int64(vs.Dim) || len(flat) != n*vs.Dim {
				return nil, driver.Errorf(driver.InvalidArgument, "column %s does not hold %d vectors of dimension %d", name, n, vs.Dim)
			}
			for i := range pts {
				pts[i].Vectors[name] = flat[i*vs.Dim : (i+1)*vs.Dim : (i+1)*vs.Dim]
			}
			continue
		}
		values, err := columnValues(spec, fd, n)
		if err != nil {
			return nil, err
		}
		for i, v := range values {
			switch {
			case name == keyField:
				s, _ := v.(string)
				id, err := parseKey(s)
				if err != nil {
					return nil, driver.Errorf(driver.InvalidArgument, "row %d: %s must hold a vecguard point key ('n' and 16 hex digits, or 'u' and 32)", i, keyField)
				}
				pts[i].ID = id
			case name == payloadField:
				if v == nil {
					continue
				}
				b, _ := v.([]byte)
				m, err := decodeJSON(b)
				obj, ok := m.(map[string]any)
				if err != nil || !ok && m != nil {
					return nil, driver.Errorf(driver.InvalidArgument, "row %d: %s must hold a JSON object", i, payloadField)
				}
				for k, x := range obj {
					if _, declared := spec.Field(k); declared {
						return nil, driver.Errorf(driver.InvalidArgument, "row %d: the declared field %s belongs in its own column", i, k)
					}
					pts[i].Payload[k] = x
				}
			case v != nil:
				pts[i].Payload[name] = v
			}
		}
	}
	if !seen[keyField] {
		return nil, driver.Errorf(driver.InvalidArgument, "the rows need their %s", keyField)
	}
	return pts, nil
}

// columnValues returns the n values of a scalar column of spec (nil for
// null): string, int64, float64, bool, or []byte for the payload column.
func columnValues(spec *driver.CollectionSpec, fd *schemapb.FieldData, n int) ([]any, error) {
	name := fd.GetFieldName()
	var want schemapb.DataType
	nullable := true
	switch name {
	case keyField:
		want, nullable = schemapb.DataType_VarChar, false
	case payloadField:
		want = schemapb.DataType_JSON
	default:
		fs, ok := spec.Field(name)
		if !ok {
			return nil, driver.Errorf(driver.InvalidArgument, "column %s does not exist", name)
		}
		want = map[driver.Kind]schemapb.DataType{driver.KindString: schemapb.DataType_VarChar, driver.KindInt: schemapb.DataType_Int64, driver.KindFloat: schemapb.DataType_Double, driver.KindBool: schemapb.DataType_Bool}[fs.Kind]
		nullable = name != spec.TenantField
	}
	if fd.GetType() != want {
		return nil, driver.Errorf(driver.InvalidArgument, "column %s has the wrong type", name)
	}
	sc := fd.GetScalars()
	var vals []any
	switch want {
	case schemapb.DataType_VarChar:
		for _, x := range sc.GetStringData().GetData() {
			vals = append(vals, x)
		}
	case schemapb.DataType_Int64:
		for _, x := range sc.GetLongData().GetData() {
			vals = append(vals, x)
		}
	case schemapb.DataType_Double:
		for _, x := range sc.GetDoubleData().GetData() {
			vals = append(vals, x)
		}
	case schemapb.DataType_Bool:
		for _, x := range sc.GetBoolData().GetData() {
			vals = append(vals, x)
		}
	case schemapb.DataType_JSON:
		for _, x := range sc.GetJsonData().GetData() {
			vals = append(vals, x)
		}
	}
	valid := fd.GetValidData()
	switch {
	case len(valid) == 0:
		if len(vals) != n {
			return nil, driver.Errorf(driver.InvalidArgument, "column %s has %d values for %d rows", name, len(vals), n)
		}
		return vals, nil
	case !nullable:
		return nil, driver.Errorf(driver.InvalidArgument, "column %s cannot hold nulls", name)
	case len(valid) != n:
		return nil, driver.Errorf(driver.InvalidArgument, "column %s has valid data for %d rows, not %d", name, len(valid), n)
	}
	nValid := 0
	for _, v := range valid {
		if v {
			nValid++
		}
	}
	out := make([]any, n)
	switch len(vals) {
	case n:
		for i, v := range valid {
			if v {
				out[i] = vals[i]
			}
		}
	case nValid:
		j := 0
		for i, v := range valid {
			if v {
				out[i] = vals[j]
				j++
			}
		}
	default:
		return nil, driver.Errorf(driver.InvalidArgument, "column %s: values do not match its valid data", name)
	}
	return out, nil
}
