package qdrant

import (
	"context"
	"math"
	"slices"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// collection is the data side of one Qdrant collection.
type collection struct {
	d    *Driver
	spec *driver.CollectionSpec
}

func (c *collection) name() string { return c.spec.Name }

func (c *collection) filter(f *driver.Filter) (*qc.Filter, error) {
	return translateFilter(f, c.spec)
}

// Upsert implements driver.Collection. Points are written with wait=true
// in requests of at most about Options.MaxBatchBytes; a failure can leave
// earlier requests of a large upsert applied.
func (c *collection) Upsert(ctx context.Context, points []driver.Point) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wait := true
	var batch []*qc.PointStruct
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := c.d.points().Upsert(ctx, &qc.UpsertPoints{CollectionName: c.name(), Wait: &wait, Points: batch}, c.d.call...)
		batch, size = nil, 0
		return fail(err)
	}
	for i := range points {
		ps, err := toPointStruct(&points[i])
		if err != nil {
			return err
		}
		n := proto.Size(ps)
		if size+n > c.d.opts.MaxBatchBytes && len(batch) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, ps)
		size += n
	}
	return flush()
}

func toPointStruct(p *driver.Point) (*qc.PointStruct, error) {
	if p.ID.IsZero() {
		return nil, driver.Errorf(driver.InvalidArgument, "empty point ID")
	}
	payload, err := toPayload(p.Payload)
	if err != nil {
		return nil, err
	}
	vecs := make(map[string]*qc.Vector, len(p.Vectors))
	for name, v := range p.Vectors {
		vecs[name] = qc.NewVectorDense(v) // marshalled during the call, never changed
	}
	return &qc.PointStruct{Id: pointID(p.ID), Payload: payload, Vectors: qc.NewVectorsMap(vecs)}, nil
}

func payloadSelector(p driver.Projection) *qc.WithPayloadSelector {
	switch {
	case p.All:
		return qc.NewWithPayload(true)
	case len(p.Fields) > 0:
		keys := make([]string, 0, len(p.Fields))
		for _, f := range p.Fields {
			if k, err := pathKey(f); err == nil {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return qc.NewWithPayload(false)
		}
		return qc.NewWithPayloadInclude(keys...)
	}
	return qc.NewWithPayload(false)
}

// Search implements driver.Collection with Qdrant's Query API (a nearest
// query on the named vector). Qdrant's score threshold is strict and
// vecguard's keeps equal scores, so the threshold sent is one float32 step
// more lenient and the exact one is applied to the results; results with
// equal scores are put in ascending ID order.
func (c *collection) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vs, ok := c.spec.Vector(q.VectorName)
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", q.VectorName)
	}
	if q.Limit <= 0 || q.Offset < 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be positive and offset not negative")
	}
	flt, err := c.filter(q.Filter)
	if err != nil {
		return nil, err
	}
	hib := vs.Distance.HigherIsBetter()
	limit, offset := uint64(q.Limit), uint64(q.Offset)
	req := &qc.QueryPoints{
		CollectionName: c.name(),
		Query:          qc.NewQueryDense(q.Vector),
		Using:          &vs.Name,
		Filter:         flt,
		Limit:          &limit,
		Offset:         &offset,
		WithPayload:    payloadSelector(q.Payload),
		WithVectors:    qc.NewWithVectors(q.WithVectors),
	}
	if q.ScoreThreshold != nil {
		t := *q.ScoreThreshold
		if hib {
			t = math.Nextafter32(t, float32(math.Inf(-1)))
		} else {
			t = math.Nextafter32(t, float32(math.Inf(1)))
		}
		req.ScoreThreshold = &t
	}
	if c.d.opts.ExactSearch || c.d.opts.HnswEf > 0 {
		req.Params = &qc.SearchParams{}
		if c.d.opts.ExactSearch {
			req.Params.Exact = &c.d.opts.ExactSearch
		}
		if c.d.opts.HnswEf > 0 {
			req.Params.HnswEf = &c.d.opts.HnswEf
		}
	}
	res, err := c.d.points().Query(ctx, req, c.d.call...)
	if err != nil {
		return nil, fail(err)
	}
	out := make([]driver.ScoredPoint, 0, len(res.GetResult()))
	for _, sp := range res.GetResult() {
		if t := q.ScoreThreshold; t != nil && (hib && sp.GetScore() < *t || !hib && sp.GetScore() > *t) {
			continue
		}
		p, err := c.point(sp.GetId(), sp.GetPayload(), sp.GetVectors())
		if err != nil {
			return nil, err
		}
		out = append(out, driver.ScoredPoint{Point: p, Score: sp.GetScore()})
	}
	slices.SortStableFunc(out, func(a, b driver.ScoredPoint) int {
		switch {
		case a.Score == b.Score:
			return a.ID.Compare(b.ID)
		case hib == (a.Score > b.Score):
			return -1
		}
		return 1
	})
	return out, nil
}

// point converts a returned point.
func (c *collection) point(id *qc.PointId, payload map[string]*qc.Value, vecs *qc.VectorsOutput) (driver.Point, error) {
	pid, err := fromPointID(id)
	if err != nil {
		return driver.Point{}, err
	}
	p := driver.Point{ID: pid, Vectors: vectorsOf(vecs, c.spec)}
	if payload != nil {
		if p.Payload, err = fromPayload(payload); err != nil {
			return driver.Point{}, err
		}
	}
	return p, nil
}

// selection is the Qdrant filter for "ID in ids (when ids is non-nil) and
// f": an ID list becomes a has_id condition, so that IDs that do not exist
// select nothing instead of failing the operation.
func (c *collection) selection(ids []driver.PointID, f *driver.Filter) (*qc.Filter, error) {
	if ids != nil {
		f = driver.And(driver.HasID(ids...), f)
	}
	flt, err := c.filter(f)
	if err != nil {
		return nil, err
	}
	if flt == nil {
		flt = &qc.Filter{}
	}
	return flt, nil
}

// Read implements driver.Collection. Reads by ID use Get (no filter) or a
// scroll restricted to the IDs (with a filter) and put the points in the
// order asked. A scroll translates vecguard's exclusive After into Qdrant's
// inclusive offset (the successor of After) and reports more pages when
// Qdrant returns a next page offset.
func (c *collection) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wp, wv := payloadSelector(r.Payload), qc.NewWithVectors(r.WithVectors)
	if r.IDs != nil {
		return c.readIDs(ctx, r, wp, wv)
	}
	if r.Limit <= 0 || r.Limit > math.MaxUint32-1 {
		return nil, driver.Errorf(driver.InvalidArgument, "page size must be positive")
	}
	flt, err := c.filter(r.Filter)
	if err != nil {
		return nil, err
	}
	limit := uint32(r.Limit)
	req := &qc.ScrollPoints{CollectionName: c.name(), Filter: flt, Limit: &limit, WithPayload: wp, WithVectors: wv}
	if !r.After.IsZero() {
		next, ok := successor(r.After)
		if !ok {
			return &driver.Page{}, nil
		}
		req.Offset = pointID(next)
	}
	res, err := c.d.points().Scroll(ctx, req, c.d.call...)
	if err != nil {
		return nil, fail(err)
	}
	pg := &driver.Page{Points: make([]driver.Point, 0, len(res.GetResult()))}
	for _, rp := range res.GetResult() {
		p, err := c.point(rp.GetId(), rp.GetPayload(), rp.GetVectors())
		if err != nil {
			return nil, err
		}
		pg.Points = append(pg.Points, p)
	}
	if res.NextPageOffset != nil && len(pg.Points) > 0 {
		pg.Next = pg.Points[len(pg.Points)-1].ID
	}
	return pg, nil
}

func (c *collection) readIDs(ctx context.Context, r *driver.ReadRequest, wp *qc.WithPayloadSelector, wv *qc.WithVectorsSelector) (*driver.Page, error) {
	if len(r.IDs) == 0 {
		// Still tell a missing collection apart.
		if _, err := c.d.points().Count(ctx, &qc.CountPoints{CollectionName: c.name(), Filter: falseFilter()}, c.d.call...); err != nil {
			return nil, fail(err)
		}
		return &driver.Page{}, nil
	}
	var got []*qc.RetrievedPoint
	if r.Filter == nil {
		res, err := c.d.points().Get(ctx, &qc.GetPoints{CollectionName: c.name(), Ids: pointIDs(r.IDs), WithPayload: wp, WithVectors: wv}, c.d.call...)
		if err != nil {
			return nil, fail(err)
		}
		got = res.GetResult()
	} else {
		flt, err := c.selection(r.IDs, r.Filter)
		if err != nil {
			return nil, err
		}
		limit := uint32(min(len(r.IDs), math.MaxUint32-1))
		res, err := c.d.points().Scroll(ctx, &qc.ScrollPoints{CollectionName: c.name(), Filter: flt, Limit: &limit, WithPayload: wp, WithVectors: wv}, c.d.call...)
		if err != nil {
			return nil, fail(err)
		}
		got = res.GetResult()
	}
	byID := make(map[driver.PointID]driver.Point, len(got))
	for _, rp := range got {
		p, err := c.point(rp.GetId(), rp.GetPayload(), rp.GetVectors())
		if err != nil {
			return nil, err
		}
		byID[p.ID] = p
	}
	pg := &driver.Page{Points: make([]driver.Point, 0, len(byID))}
	for _, id := range r.IDs {
		if p, ok := byID[id]; ok {
			pg.Points = append(pg.Points, p)
			delete(byID, id)
		}
	}
	return pg, nil
}

func falseFilter() *qc.Filter { return &qc.Filter{MustNot: []*qc.Condition{trueCond}} }

// Count implements driver.Collection with an exact count.
func (c *collection) Count(ctx context.Context, f *driver.Filter) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	flt, err := c.filter(f)
	if err != nil {
		return 0, err
	}
	exact := true
	res, err := c.d.points().Count(ctx, &qc.CountPoints{CollectionName: c.name(), Filter: flt, Exact: &exact}, c.d.call...)
	if err != nil {
		return 0, fail(err)
	}
	n := res.GetResult().GetCount()
	if n > math.MaxInt64 {
		return 0, driver.Errorf(driver.DataLoss, "count from qdrant out of range")
	}
	return int64(n), nil
}

// Delete implements driver.Collection: by an ID list alone (IDs that do not
// exist are ignored, as Qdrant does), else by filter.
func (c *collection) Delete(ctx context.Context, sel *driver.Selector) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wait := true
	req := &qc.DeletePoints{CollectionName: c.name(), Wait: &wait}
	switch {
	case sel.IDs != nil && len(sel.IDs) == 0:
		req.Points = qc.NewPointsSelectorFilter(falseFilter())
	case sel.IDs != nil && sel.Filter == nil:
		req.Points = qc.NewPointsSelectorIDs(pointIDs(sel.IDs))
	default:
		flt, err := c.selection(sel.IDs, sel.Filter)
		if err != nil {
			return err
		}
		req.Points = qc.NewPointsSelectorFilter(flt)
	}
	_, err := c.d.points().Delete(ctx, req, c.d.call...)
	return fail(err)
}

// UpdatePayload implements driver.PayloadUpdater with set_payload (a nil
// value removes the key, which vecguard treats as null) and delete_payload,
// in one batch request. Points are selected by filter, never by an ID list:
// Qdrant fails a payload update by IDs when one of them does not exist.
// When the filter reads a key the update changes, the selected IDs are
// resolved first, so that both operations touch the same points.
func (c *collection) UpdatePayload(ctx context.Context, sel *driver.Selector, set map[string]any, unset []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(set) == 0 && len(unset) == 0 {
		return nil
	}
	ids, f := sel.IDs, sel.Filter
	if ids != nil && len(ids) == 0 {
		ids, f = nil, driver.None()
	}
	if len(set) > 0 && len(unset) > 0 && f != nil {
		touched := map[string]bool{}
		for k := range set {
			touched[k] = true
		}
		for _, k := range unset {
			touched[k] = true
		}
		for _, name := range f.Fields() {
			if touched[name] {
				var err error
				if ids, err = c.selectedIDs(ctx, ids, f); err != nil {
					return err
				}
				f = nil
				if len(ids) == 0 {
					f = driver.None()
					ids = nil
				}
				break
			}
		}
	}
	flt, err := c.selection(ids, f)
	if err != nil {
		return err
	}
	var ops []*qc.PointsUpdateOperation
	if len(set) > 0 {
		payload, err := toPayload(set)
		if err != nil {
			return err
		}
		ops = append(ops, qc.NewPointsUpdateSetPayload(&qc.PointsUpdateOperation_SetPayload{
			Payload: payload, PointsSelector: qc.NewPointsSelectorFilter(flt),
		}))
	}
	if len(unset) > 0 {
		keys := make([]string, 0, len(unset))
		for _, k := range unset {
			pk, err := pathKey(k)
			if err != nil {
				return err
			}
			keys = append(keys, pk)
		}
		ops = append(ops, qc.NewPointsUpdateDeletePayload(&qc.PointsUpdateOperation_DeletePayload{
			Keys: keys, PointsSelector: qc.NewPointsSelectorFilter(flt),
		}))
	}
	wait := true
	_, err = c.d.points().UpdateBatch(ctx, &qc.UpdateBatchPoints{CollectionName: c.name(), Wait: &wait, Operations: ops}, c.d.call...)
	return fail(err)
}

// selectedIDs scrolls the IDs of the points that ids and f select.
func (c *collection) selectedIDs(ctx context.Context, ids []driver.PointID, f *driver.Filter) ([]driver.PointID, error) {
	flt, err := c.selection(ids, f)
	if err != nil {
		return nil, err
	}
	var out []driver.PointID
	limit := uint32(1000)
	req := &qc.ScrollPoints{CollectionName: c.name(), Filter: flt, Limit: &limit,
		WithPayload: qc.NewWithPayload(false), WithVectors: qc.NewWithVectors(false)}
	for {
		res, err := c.d.points().Scroll(ctx, req, c.d.call...)
		if err != nil {
			return nil, fail(err)
		}
		for _, rp := range res.GetResult() {
			id, err := fromPointID(rp.GetId())
			if err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		if res.NextPageOffset == nil {
			return out, nil
		}
		req.Offset = res.NextPageOffset
	}
}
