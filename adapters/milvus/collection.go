package milvus

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// maxTopK is the largest offset + limit Milvus serves in one search or
// query (quotaAndLimits.limits.maxQueryResultWindow, topk).
const maxTopK = 16384

// Parameter names the driver uses beside the filter's p0, p1, ...
const (
	keysParam  = "vgkeys"  // the keys of a read by IDs or a delete
	afterParam = "vgafter" // the key a scroll starts after
	countField = "count(*)"
)

type collection struct {
	d    *Driver
	spec *driver.CollectionSpec
	name string
}

var _ driver.Collection = (*collection)(nil)

// withLoad runs op and, when Milvus answers that the collection is not
// loaded (after a restart, or a release by an operator), loads it and runs
// op once more.
func (c *collection) withLoad(ctx context.Context, op func() error) error {
	err := op()
	if err == nil || !notLoaded(err) {
		return err
	}
	if lerr := c.d.load(ctx, c.name); lerr != nil {
		return lerr
	}
	return op()
}

// Upsert implements driver.Collection. Milvus's Upsert replaces whole rows;
// the points are sent in requests of at most Options.BatchBytes, which are
// not atomic together. Of points with the same ID, the last one wins.
func (c *collection) Upsert(ctx context.Context, points []driver.Point) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pts := lastOfEachID(points)
	dims := 0
	for _, v := range c.spec.Vectors {
		dims += v.Dim
	}
	per := max(1, c.d.opts.BatchBytes/(4*dims+512))
	for len(pts) > 0 {
		n := min(per, len(pts))
		cols, err := c.encodePoints(pts[:n])
		if err != nil {
			return err
		}
		if _, err := c.d.c.Upsert(ctx, milvusclient.NewColumnBasedInsertOption(c.name, cols...)); err != nil {
			return err
		}
		pts = pts[n:]
	}
	return nil
}

// lastOfEachID drops every point that a later point with the same ID
// replaces.
func lastOfEachID(pts []driver.Point) []driver.Point {
	last := make(map[driver.PointID]int, len(pts))
	for i := range pts {
		last[pts[i].ID] = i
	}
	if len(last) == len(pts) {
		return pts
	}
	out := make([]driver.Point, 0, len(last))
	for i := range pts {
		if last[pts[i].ID] == i {
			out = append(out, pts[i])
		}
	}
	return out
}

// Search implements driver.Collection. It asks Milvus for one result more
// than offset + limit; when that extra result ties with the last one
// wanted, equal scores may continue beyond what Milvus returned, so it asks
// for twice as many until the tie is inside the answer. Results are then
// ordered by score and ID, cut to the page and to the score threshold.
func (c *collection) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vs, ok := c.spec.Vector(q.VectorName)
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", q.VectorName)
	}
	if err := driver.CheckVector(vs, q.Vector); err != nil {
		return nil, err
	}
	k := q.Offset + q.Limit
	if q.Limit < 1 || q.Offset < 0 || k > maxTopK {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be at least 1 and offset + limit at most %d", maxTopK)
	}
	expr, err := compileFilter(c.spec, q.Filter)
	if err != nil {
		return nil, err
	}
	if expr.never {
		return []driver.ScoredPoint{}, nil
	}
	outputs := c.outputFields(q.Payload, q.WithVectors)
	var hits []driver.ScoredPoint
	for n := min(k+1, maxTopK); ; n = min(2*n, maxTopK) {
		if hits, err = c.searchOnce(ctx, vs, q, n, expr, outputs); err != nil {
			return nil, err
		}
		if len(hits) < n || n == maxTopK || hits[k-1].Score != hits[k].Score {
			break
		}
	}
	hits = hits[min(q.Offset, len(hits)):min(k, len(hits))]
	if q.ScoreThreshold != nil {
		thr := *q.ScoreThreshold
		kept := hits[:0]
		for _, h := range hits {
			if vs.Distance.HigherIsBetter() && h.Score >= thr || !vs.Distance.HigherIsBetter() && h.Score <= thr {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	return slices.Clip(hits), nil
}

// searchOnce asks Milvus for the n best matches and returns them best
// first, ties by ID, with vecguard's scores.
func (c *collection) searchOnce(ctx context.Context, vs driver.VectorSpec, q *driver.Query, n int, expr expression, outputs []string) ([]driver.ScoredPoint, error) {
	opt := milvusclient.NewSearchOption(c.name, n, []entity.Vector{entity.FloatVector(q.Vector)}).
		WithANNSField(vs.Name).
		WithConsistencyLevel(c.d.opts.Consistency).
		WithOutputFields(outputs...)
	if expr.text != "" {
		opt.WithFilter(expr.text)
		for name, v := range expr.params {
			opt.WithTemplateParam(name, v)
		}
	}
	var sets []milvusclient.ResultSet
	err := c.withLoad(ctx, func() error {
		var err error
		sets, err = c.d.c.Search(ctx, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(sets) != 1 {
		return nil, driver.Errorf(driver.Internal, "Milvus answered %d result sets to one query", len(sets))
	}
	rs := sets[0]
	if rs.Err != nil {
		return nil, rs.Err
	}
	if rs.IDs == nil || rs.IDs.Len() != rs.ResultCount || len(rs.Scores) != rs.ResultCount {
		if rs.ResultCount == 0 {
			return []driver.ScoredPoint{}, nil
		}
		return nil, driver.Errorf(driver.Internal, "malformed search result")
	}
	cols := columnsOf(rs.Fields)
	keys, err := stringsOf(rs.IDs)
	if err != nil {
		return nil, err
	}
	hits := make([]driver.ScoredPoint, rs.ResultCount)
	for i := range hits {
		id, err := parseKey(keys[i])
		if err != nil {
			return nil, err
		}
		p, err := c.point(cols, i, id, q.Payload, q.WithVectors)
		if err != nil {
			return nil, err
		}
		s := rs.Scores[i]
		if vs.Distance == driver.Euclid {
			// Milvus's L2 is the squared distance.
			s = float32(math.Sqrt(math.Max(0, float64(s))))
		}
		hits[i] = driver.ScoredPoint{Point: p, Score: s}
	}
	higher := vs.Distance.HigherIsBetter()
	slices.SortStableFunc(hits, func(a, b driver.ScoredPoint) int {
		if a.Score != b.Score {
			if (a.Score > b.Score) == higher {
				return -1
			}
			return 1
		}
		return a.ID.Compare(b.ID)
	})
	return hits, nil
}

// Read implements driver.Collection. A read by IDs is a query on
// "_vg_id in {vgkeys}" and the filter; a scroll is a query on
// "_vg_id > {vgafter}" and the filter with limit+1: Milvus answers a
// limited query with the rows of the smallest primary keys, and the keys'
// order is the scroll order.
func (c *collection) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	expr, err := compileFilter(c.spec, r.Filter)
	if err != nil {
		return nil, err
	}
	if r.IDs != nil {
		return c.readIDs(ctx, r, expr)
	}
	if r.Limit < 1 || r.Limit >= maxTopK {
		return nil, driver.Errorf(driver.InvalidArgument, "page size must be 1 to %d", maxTopK-1)
	}
	if expr.never {
		return &driver.Page{}, nil
	}
	text := expr.text
	params := expr.params
	if !r.After.IsZero() {
		text = conjoin(keyField+" > {"+afterParam+"}", text)
		params = withParam(params, afterParam, keyOf(r.After))
	}
	keys, cols, err := c.query(ctx, text, params, r.Limit+1, r.Payload, r.WithVectors)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	pg := &driver.Page{}
	more := len(order) > r.Limit
	if more {
		order = order[:r.Limit]
	}
	for _, i := range order {
		id, err := parseKey(keys[i])
		if err != nil {
			return nil, err
		}
		p, err := c.point(cols, i, id, r.Payload, r.WithVectors)
		if err != nil {
			return nil, err
		}
		pg.Points = append(pg.Points, p)
	}
	if more {
		pg.Next = pg.Points[len(pg.Points)-1].ID
	}
	return pg, nil
}

// readChunk is how many keys one read by IDs asks for.
const readChunk = 4096

func (c *collection) readIDs(ctx context.Context, r *driver.ReadRequest, expr expression) (*driver.Page, error) {
	pg := &driver.Page{}
	if len(r.IDs) == 0 || expr.never {
		return pg, nil
	}
	var want []string
	seen := make(map[driver.PointID]bool, len(r.IDs))
	for _, id := range r.IDs {
		if id.IsZero() {
			return nil, driver.Errorf(driver.InvalidArgument, "empty point ID")
		}
		if !seen[id] {
			seen[id] = true
			want = append(want, keyOf(id))
		}
	}
	found := make(map[string]driver.Point, len(want))
	for len(want) > 0 {
		chunk := want[:min(readChunk, len(want))]
		want = want[len(chunk):]
		text := conjoin(keyField+" in {"+keysParam+"}", expr.text)
		keys, cols, err := c.query(ctx, text, withParam(expr.params, keysParam, chunk), len(chunk), r.Payload, r.WithVectors)
		if err != nil {
			return nil, err
		}
		for i, key := range keys {
			id, err := parseKey(key)
			if err != nil {
				return nil, err
			}
			p, err := c.point(cols, i, id, r.Payload, r.WithVectors)
			if err != nil {
				return nil, err
			}
			found[key] = p
		}
	}
	used := map[string]bool{}
	for _, id := range r.IDs {
		key := keyOf(id)
		p, ok := found[key]
		if !ok {
			continue
		}
		if used[key] {
			p = p.Clone() // the same ID asked twice: two points that share nothing
		}
		used[key] = true
		pg.Points = append(pg.Points, p)
	}
	return pg, nil
}

// query runs a query for up to limit rows with the key column and the
// columns of the projection.
func (c *collection) query(ctx context.Context, text string, params map[string]any, limit int, proj driver.Projection, withVectors bool) ([]string, columnSet, error) {
	outputs := append([]string{keyField}, c.outputFields(proj, withVectors)...)
	opt := milvusclient.NewQueryOption(c.name).
		WithConsistencyLevel(c.d.opts.Consistency).
		WithOutputFields(outputs...).
		WithLimit(limit).
		WithFilter(text)
	for name, v := range params {
		opt.WithTemplateParam(name, v)
	}
	var rs milvusclient.ResultSet
	err := c.withLoad(ctx, func() error {
		var err error
		rs, err = c.d.c.Query(ctx, opt)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	cols := columnsOf(rs.Fields)
	keys, err := keyColumn(cols)
	if err != nil {
		return nil, nil, err
	}
	return keys, cols, nil
}

func withParam(params map[string]any, name string, v any) map[string]any {
	out := make(map[string]any, len(params)+1)
	for k, x := range params {
		out[k] = x
	}
	out[name] = v
	return out
}

// Count implements driver.Collection with a count(*) query.
func (c *collection) Count(ctx context.Context, f *driver.Filter) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	expr, err := compileFilter(c.spec, f)
	if err != nil {
		return 0, err
	}
	if expr.never {
		return 0, nil
	}
	opt := milvusclient.NewQueryOption(c.name).
		WithConsistencyLevel(c.d.opts.Consistency).
		WithOutputFields(countField).
		WithFilter(expr.text)
	for name, v := range expr.params {
		opt.WithTemplateParam(name, v)
	}
	var rs milvusclient.ResultSet
	err = c.withLoad(ctx, func() error {
		var err error
		rs, err = c.d.c.Query(ctx, opt)
		return err
	})
	if err != nil {
		return 0, err
	}
	col := rs.GetColumn(countField)
	if col == nil || col.Len() != 1 {
		return 0, driver.Errorf(driver.Internal, "malformed count result")
	}
	n, err := col.GetAsInt64(0)
	if err != nil {
		return 0, driver.Wrap(driver.Internal, err, "reading the count")
	}
	return n, nil
}

// Delete implements driver.Collection with a delete by expression: the
// keys, the filter, or both; every key greater than the empty string when
// the selector is empty.
func (c *collection) Delete(ctx context.Context, sel *driver.Selector) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sel.IDs != nil && len(sel.IDs) == 0 {
		return nil
	}
	expr, err := compileFilter(c.spec, sel.Filter)
	if err != nil {
		return err
	}
	if expr.never {
		return nil
	}
	text, params := expr.text, expr.params
	if sel.IDs != nil {
		for _, id := range sel.IDs {
			if id.IsZero() {
				return driver.Errorf(driver.InvalidArgument, "empty point ID")
			}
		}
		text = conjoin(keyField+" in {"+keysParam+"}", text)
		params = withParam(params, keysParam, keysOf(sel.IDs))
	}
	if text == "" {
		text = keyField + " > {" + afterParam + "}"
		params = withParam(nil, afterParam, "")
	}
	req := &milvuspb.DeleteRequest{
		CollectionName:     c.name,
		Expr:               text,
		ConsistencyLevel:   c.d.opts.Consistency.CommonConsistencyLevel(),
		ExprTemplateValues: make(map[string]*schemapb.TemplateValue, len(params)),
	}
	for name, v := range params {
		tv, err := templateValue(v)
		if err != nil {
			return err
		}
		req.ExprTemplateValues[name] = tv
	}
	return c.withLoad(ctx, func() error {
		_, err := c.d.c.Delete(ctx, deleteOption{req})
		return err
	})
}

// deleteOption is a milvusclient.DeleteOption that carries template values,
// which the SDK's own delete option does not.
type deleteOption struct{ req *milvuspb.DeleteRequest }

func (o deleteOption) Request() *milvuspb.DeleteRequest { return o.req }

// templateValue converts a parameter the compiler made.
func templateValue(v any) (*schemapb.TemplateValue, error) {
	switch t := v.(type) {
	case string:
		return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_StringVal{StringVal: t}}, nil
	case int64:
		return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_Int64Val{Int64Val: t}}, nil
	case float64:
		return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_FloatVal{FloatVal: t}}, nil
	case bool:
		return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_BoolVal{BoolVal: t}}, nil
	case []string:
		return array(&schemapb.TemplateArrayValue{Data: &schemapb.TemplateArrayValue_StringData{StringData: &schemapb.StringArray{Data: t}}}), nil
	case []int64:
		return array(&schemapb.TemplateArrayValue{Data: &schemapb.TemplateArrayValue_LongData{LongData: &schemapb.LongArray{Data: t}}}), nil
	case []float64:
		return array(&schemapb.TemplateArrayValue{Data: &schemapb.TemplateArrayValue_DoubleData{DoubleData: &schemapb.DoubleArray{Data: t}}}), nil
	case []bool:
		return array(&schemapb.TemplateArrayValue{Data: &schemapb.TemplateArrayValue_BoolData{BoolData: &schemapb.BoolArray{Data: t}}}), nil
	}
	return nil, driver.Errorf(driver.Internal, "unsupported template value %T", v)
}

func array(a *schemapb.TemplateArrayValue) *schemapb.TemplateValue {
	return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_ArrayVal{ArrayVal: a}}
}
