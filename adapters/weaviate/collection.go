package weaviate

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/go-openapi/strfmt"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/weaviate/weaviate/entities/models"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

const (
	// maxResults is Weaviate's default QUERY_MAXIMUM_RESULTS: offset+limit
	// of one query may not exceed it.
	maxResults = 10000
	// upsertChunk is how many objects one REST batch carries.
	upsertChunk = 200
	// idChunk is how many IDs one ID filter carries.
	idChunk = 1000
)

// collection implements driver.Collection (and driver.PayloadUpdater) over
// one Weaviate class.
type collection struct {
	d       *Driver
	spec    *driver.CollectionSpec
	class   string
	fields  fieldSet
	byProp  map[string]*fieldInfo
	vectors map[string]driver.VectorSpec
	vnames  []string
	native  bool // native multi-tenancy: one Weaviate tenant per tenant value
}

var (
	_ driver.Collection     = (*collection)(nil)
	_ driver.PayloadUpdater = (*collection)(nil)
)

func newCollection(d *Driver, spec *driver.CollectionSpec) *collection {
	c := &collection{
		d:       d,
		spec:    spec.Clone(),
		class:   className(spec.Name),
		fields:  newFieldSet(spec),
		vectors: make(map[string]driver.VectorSpec, len(spec.Vectors)),
		native:  d.opts.NativeMultiTenancy && spec.TenantField != "",
	}
	if n, ok := d.native.Load(c.class); ok {
		c.native = n.(bool)
	}
	c.byProp = make(map[string]*fieldInfo, len(c.fields))
	for _, fi := range c.fields {
		c.byProp[fi.prop] = fi
	}
	for _, v := range spec.Vectors {
		c.vectors[v.Name] = v
		c.vnames = append(c.vnames, v.Name)
	}
	return c
}

// object converts a point to a Weaviate object.
func (c *collection) object(p *driver.Point) (*models.Object, error) {
	if p.ID.IsZero() {
		return nil, driver.Errorf(driver.InvalidArgument, "empty point ID")
	}
	if reservedUUID(p.ID) {
		return nil, driver.Errorf(driver.InvalidArgument,
			"point %s: UUIDs starting 00000000-7667-8000 are reserved for numeric IDs in Weaviate", p.ID)
	}
	if !checkUTF8(p.Payload) {
		return nil, driver.Errorf(driver.InvalidArgument, "point %s: payload text must be valid UTF-8", p.ID)
	}
	props := map[string]any{propKey: idKey(p.ID)}
	extra := map[string]any{}
	for k, v := range p.Payload {
		fi, declared := c.fields[k]
		if !declared || v == nil {
			extra[k] = v
			continue
		}
		switch fi.kind {
		case driver.KindString:
			s, ok := v.(string)
			if !ok {
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: field %q must be a string", p.ID, k)
			}
			props[fi.prop] = wrapText(s)
		case driver.KindInt:
			n, ok := v.(int64)
			if !ok {
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: field %q must be an integer", p.ID, k)
			}
			props[fi.prop] = encodeInt(n)
		case driver.KindFloat:
			switch t := v.(type) {
			case float64:
				props[fi.prop] = storedFloat(t)
			case int64:
				props[fi.prop] = float64(t)
			default:
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: field %q must be a number", p.ID, k)
			}
		case driver.KindBool:
			b, ok := v.(bool)
			if !ok {
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: field %q must be a bool", p.ID, k)
			}
			props[fi.prop] = b
		}
	}
	if len(extra) > 0 {
		js, err := encodeExtra(extra)
		if err != nil {
			return nil, err
		}
		props[propPayload] = js
	}
	obj := &models.Object{
		Class:      c.class,
		ID:         strfmt.UUID(objectID(p.ID)),
		Properties: props,
		Vectors:    make(models.Vectors, len(p.Vectors)),
	}
	for name, v := range p.Vectors {
		if _, ok := c.vectors[name]; !ok {
			return nil, driver.Errorf(driver.InvalidArgument, "point %s: undeclared vector %q", p.ID, name)
		}
		obj.Vectors[name] = append([]float32(nil), v...)
	}
	if c.native {
		t, ok := p.Payload[c.spec.TenantField].(string)
		if !ok {
			return nil, driver.Errorf(driver.InvalidArgument, "point %s: the tenant field is missing", p.ID)
		}
		obj.Tenant = tenantName(t)
	}
	return obj, nil
}

// Upsert implements driver.Collection. It checks first that the class
// exists: a Weaviate server with auto-schema on would otherwise create a
// bare class for a collection that was dropped.
func (c *collection) Upsert(ctx context.Context, points []driver.Point) error {
	objs := make([]*models.Object, len(points))
	for i := range points {
		o, err := c.object(&points[i])
		if err != nil {
			return err
		}
		objs[i] = o
	}
	exists, err := c.d.rest.Schema().ClassExistenceChecker().WithClassName(c.class).Do(ctx)
	if err != nil {
		return c.d.wrap(ctx, "check class", err, false)
	}
	if !exists {
		return driver.Errorf(driver.NotFound, "no such collection")
	}
	for start := 0; start < len(objs); start += upsertChunk {
		chunk := objs[start:min(start+upsertChunk, len(objs))]
		res, err := c.d.rest.Batch().ObjectsBatcher().WithObjects(chunk...).Do(ctx)
		if err != nil {
			return c.d.wrap(ctx, "batch upsert", err, false)
		}
		for i, r := range res {
			if r.Result == nil || r.Result.Errors == nil || len(r.Result.Errors.Error) == 0 || i >= len(chunk) {
				continue
			}
			// The server's message may quote the point's values: keep only
			// what it says about the kind of failure.
			code := driver.InvalidArgument
			for _, e := range r.Result.Errors.Error {
				if e != nil && notFoundText(strings.ToLower(e.Message)) {
					code = driver.NotFound
				}
			}
			return driver.Errorf(code, "weaviate: batch upsert: point %s was refused", points[start+i].ID)
		}
	}
	return nil
}

// query is one gRPC search.
type query struct {
	tenant      string
	filter      *pb.Filters // nil: none
	limit       int
	near        *driver.Query
	sortByKey   bool
	proj        driver.Projection
	withVectors bool
}

func (c *collection) request(q *query) *pb.SearchRequest {
	req := &pb.SearchRequest{
		Collection:  c.class,
		Tenant:      q.tenant,
		Limit:       uint32(q.limit),
		Filters:     q.filter,
		Metadata:    &pb.MetadataRequest{Uuid: true, Distance: q.near != nil},
		Uses_127Api: true,
	}
	if q.proj.All {
		req.Properties = &pb.PropertiesRequest{ReturnAllNonrefProperties: true}
	} else {
		props := []string{propKey}
		if len(q.proj.Fields) > 0 {
			props = append(props, propPayload)
			for _, f := range q.proj.Fields {
				if fi := c.fields[f]; fi != nil {
					props = append(props, fi.prop)
				}
			}
		}
		req.Properties = &pb.PropertiesRequest{NonRefProperties: props}
	}
	if q.withVectors {
		req.Metadata.Vectors = c.vnames
	}
	if q.near != nil {
		name := q.near.VectorName
		req.NearVector = &pb.NearVector{
			Vectors: []*pb.Vectors{{Name: name, VectorBytes: vectorBytes(q.near.Vector), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}},
			Targets: &pb.Targets{TargetVectors: []string{name}},
		}
	}
	if q.sortByKey {
		req.SortBy = []*pb.SortBy{{Ascending: true, Path: []string{propKey}}}
	}
	return req
}

// hit is one result of a search.
type hit struct {
	driver.Point
	key      string
	distance float32
}

// run performs a search in one tenant. A tenant that does not exist yet
// holds nothing.
func (c *collection) run(ctx context.Context, q *query) ([]hit, error) {
	reply, err := c.d.grpc.Search(ctx, c.request(q))
	if err != nil {
		if c.native && tenantMissing(err) {
			return nil, nil
		}
		return nil, c.d.wrap(ctx, "search", err, false)
	}
	hits := make([]hit, 0, len(reply.GetResults()))
	for _, r := range reply.GetResults() {
		h, err := c.hit(r, q.proj, q.withVectors)
		if err != nil {
			return nil, err
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// hit converts a search result.
func (c *collection) hit(r *pb.SearchResult, proj driver.Projection, withVectors bool) (hit, error) {
	props := r.GetProperties().GetNonRefProps().GetFields()
	h := hit{key: props[propKey].GetTextValue(), distance: r.GetMetadata().GetDistance()}
	id, ok := parseKey(h.key)
	if !ok {
		if id, ok = pointIDFromUUID(r.GetMetadata().GetId()); !ok {
			return h, driver.Errorf(driver.DataLoss, "weaviate: object without a valid point ID")
		}
		h.key = idKey(id)
	}
	h.ID = id
	if proj.All || len(proj.Fields) > 0 {
		payload := make(map[string]any, len(props))
		for name, v := range props {
			fi := c.byProp[name]
			if fi == nil || v == nil {
				continue
			}
			switch k := v.GetKind().(type) {
			case *pb.Value_TextValue:
				s := k.TextValue
				if fi.kind == driver.KindInt {
					n, ok := decodeInt(s)
					if !ok {
						return h, driver.Errorf(driver.DataLoss, "weaviate: stored value of int field %q is malformed", fi.name)
					}
					payload[fi.name] = n
					continue
				}
				if u, ok := unwrapText(s); ok {
					s = u
				}
				payload[fi.name] = s
			case *pb.Value_IntValue:
				payload[fi.name] = k.IntValue
			case *pb.Value_NumberValue:
				if fi.kind == driver.KindInt {
					payload[fi.name] = int64(k.NumberValue)
				} else {
					payload[fi.name] = k.NumberValue
				}
			case *pb.Value_BoolValue:
				payload[fi.name] = k.BoolValue
			}
		}
		if js := props[propPayload].GetTextValue(); js != "" {
			extra, err := decodeExtra(js)
			if err != nil {
				return h, err
			}
			for k, v := range extra {
				if _, set := payload[k]; !set {
					payload[k] = v
				}
			}
		}
		h.Payload = proj.Apply(payload)
	}
	if withVectors {
		h.Vectors = make(map[string][]float32, len(c.vnames))
		for _, v := range r.GetMetadata().GetVectors() {
			if _, ok := c.vectors[v.GetName()]; ok {
				h.Vectors[v.GetName()] = floatsFromBytes(v.GetVectorBytes())
			}
		}
	}
	return h, nil
}

func vectorBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func floatsFromBytes(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// score converts a Weaviate distance to the driver's score: cosine
// similarity is 1 − cosine distance, Weaviate's dot distance is the negated
// dot product, and Euclid is the square root of Weaviate's l2-squared.
func score(d driver.Distance, dist float32) float32 {
	switch d {
	case driver.Dot:
		return -dist
	case driver.Euclid:
		if dist <= 0 {
			return 0
		}
		return float32(math.Sqrt(float64(dist)))
	}
	return 1 - dist
}

// better reports whether a ranks before b: better score, then lower ID.
func better(d driver.Distance, a, b *driver.ScoredPoint) bool {
	if a.Score != b.Score {
		if d.HigherIsBetter() {
			return a.Score > b.Score
		}
		return a.Score < b.Score
	}
	return a.ID.Compare(b.ID) < 0
}

// Search implements driver.Collection. Weaviate returns its (approximate)
// top k by distance; the driver orders ties by ascending ID, fetching more
// when a tie reaches past the last result it fetched, and applies offset
// and the score threshold itself.
func (c *collection) Search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	vs, ok := c.vectors[q.VectorName]
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", q.VectorName)
	}
	flt, err := c.fields.translate(q.Filter)
	if err != nil {
		return nil, err
	}
	if flt == matchNone || q.Limit <= 0 {
		return nil, nil
	}
	tenants, err := c.tenantsFor(ctx, q.Filter)
	if err != nil {
		return nil, err
	}
	want := q.Offset + q.Limit
	fetch := min(want+1, maxResults)
	var all []driver.ScoredPoint
	for {
		all = all[:0]
		var tails []float32 // last score of every tenant that filled its fetch
		for _, t := range tenants {
			hits, err := c.run(ctx, &query{tenant: t, filter: orNil(flt), limit: fetch, near: q,
				proj: q.Payload, withVectors: q.WithVectors})
			if err != nil {
				return nil, err
			}
			for _, h := range hits {
				all = append(all, driver.ScoredPoint{Point: h.Point, Score: score(vs.Distance, h.distance)})
			}
			if len(hits) >= fetch && len(hits) > 0 {
				tails = append(tails, score(vs.Distance, hits[len(hits)-1].distance))
			}
		}
		slices.SortStableFunc(all, func(a, b driver.ScoredPoint) int {
			switch {
			case better(vs.Distance, &a, &b):
				return -1
			case better(vs.Distance, &b, &a):
				return 1
			}
			return 0
		})
		if fetch >= maxResults || len(all) < want || !slices.Contains(tails, all[want-1].Score) {
			break
		}
		fetch = min(2*fetch, maxResults)
	}
	if q.ScoreThreshold != nil {
		t := *q.ScoreThreshold
		kept := all[:0]
		for _, h := range all {
			if (vs.Distance.HigherIsBetter() && h.Score >= t) || (!vs.Distance.HigherIsBetter() && h.Score <= t) {
				kept = append(kept, h)
			}
		}
		all = kept
	}
	if q.Offset >= len(all) {
		return nil, nil
	}
	all = all[q.Offset:]
	if len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return slices.Clip(all), nil
}

func orNil(f *pb.Filters) *pb.Filters {
	if f == matchAll {
		return nil
	}
	return f
}

// Read implements driver.Collection.
func (c *collection) Read(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	if r.IDs != nil {
		return c.readIDs(ctx, r)
	}
	if r.Limit <= 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "scroll page size must be positive")
	}
	flt, err := c.fields.translate(r.Filter)
	if err != nil {
		return nil, err
	}
	if !r.After.IsZero() {
		flt = and(flt, &pb.Filters{Operator: pb.Filters_OPERATOR_GREATER_THAN, Target: target(propKey),
			TestValue: &pb.Filters_ValueText{ValueText: idKey(r.After)}})
	}
	// Weaviate passes the query limit down into a filter that is a single
	// condition (it stops collecting matches at the limit) and sorts only
	// what it collected, so a sorted page could skip lower keys. Conditions
	// inside an And are resolved in full.
	if flt != matchAll && flt != matchNone && flt.Operator != pb.Filters_OPERATOR_AND && flt.Operator != pb.Filters_OPERATOR_OR {
		flt = andOf(flt, live())
	}
	if flt == matchNone {
		return &driver.Page{}, nil
	}
	tenants, err := c.tenantsFor(ctx, r.Filter)
	if err != nil {
		return nil, err
	}
	fetch := min(r.Limit+1, maxResults)
	var hits []hit
	for _, t := range tenants {
		hs, err := c.run(ctx, &query{tenant: t, filter: orNil(flt), limit: fetch, sortByKey: true,
			proj: r.Payload, withVectors: r.WithVectors})
		if err != nil {
			return nil, err
		}
		hits = append(hits, hs...)
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.ID.Compare(b.ID) })
	page := &driver.Page{}
	more := len(hits) > r.Limit || (len(hits) == fetch && fetch <= r.Limit)
	if len(hits) > r.Limit {
		hits = hits[:r.Limit]
	}
	page.Points = make([]driver.Point, len(hits))
	for i := range hits {
		page.Points[i] = hits[i].Point
	}
	if more && len(hits) > 0 {
		page.Next = hits[len(hits)-1].ID
	}
	return page, nil
}

// readIDs reads points by ID, in the order asked.
func (c *collection) readIDs(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	found := make(map[driver.PointID]driver.Point, len(r.IDs))
	tenants, err := c.tenantsFor(ctx, r.Filter)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(r.IDs); start += idChunk {
		chunk := r.IDs[start:min(start+idChunk, len(r.IDs))]
		f := driver.And(driver.HasID(chunk...), r.Filter)
		flt, err := c.fields.translate(f)
		if err != nil {
			return nil, err
		}
		if flt == matchNone {
			continue
		}
		for _, t := range tenants {
			hs, err := c.run(ctx, &query{tenant: t, filter: orNil(flt), limit: len(chunk),
				proj: r.Payload, withVectors: r.WithVectors})
			if err != nil {
				return nil, err
			}
			for _, h := range hs {
				found[h.ID] = h.Point
			}
		}
	}
	page := &driver.Page{Points: make([]driver.Point, 0, len(found))}
	for _, id := range r.IDs {
		if p, ok := found[id]; ok {
			page.Points = append(page.Points, p)
			delete(found, id)
		}
	}
	return page, nil
}

// Count implements driver.Collection.
func (c *collection) Count(ctx context.Context, f *driver.Filter) (int64, error) {
	flt, err := c.fields.translate(f)
	if err != nil {
		return 0, err
	}
	if flt == matchNone {
		return 0, nil
	}
	tenants, err := c.tenantsFor(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tenants {
		reply, err := c.d.grpc.Aggregate(ctx, &pb.AggregateRequest{Collection: c.class, Tenant: t,
			ObjectsCount: true, Filters: orNil(flt)})
		if err != nil {
			if c.native && tenantMissing(err) {
				continue
			}
			return 0, c.d.wrap(ctx, "count", err, false)
		}
		n += reply.GetSingleResult().GetObjectsCount()
	}
	return n, nil
}

// Delete implements driver.Collection.
func (c *collection) Delete(ctx context.Context, sel *driver.Selector) error {
	if sel.IDs == nil {
		return c.deleteWhere(ctx, sel.Filter, sel.Filter)
	}
	for start := 0; start < len(sel.IDs); start += idChunk {
		chunk := sel.IDs[start:min(start+idChunk, len(sel.IDs))]
		if err := c.deleteWhere(ctx, driver.And(driver.HasID(chunk...), sel.Filter), sel.Filter); err != nil {
			return err
		}
	}
	return nil
}

// deleteWhere deletes the objects matching f; scope picks the tenants.
func (c *collection) deleteWhere(ctx context.Context, f, scope *driver.Filter) error {
	flt, err := c.fields.translate(f)
	if err != nil {
		return err
	}
	switch flt {
	case matchNone:
		return nil
	case matchAll:
		flt = live() // Weaviate needs a filter

	}
	tenants, err := c.tenantsFor(ctx, scope)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		req := &pb.BatchDeleteRequest{Collection: c.class, Filters: flt}
		if t != "" {
			req.Tenant = &t
		}
		// One call deletes at most maxResults objects; repeat until a call
		// matches fewer.
		for range 1 + driver.MaxBatch {
			reply, err := c.d.grpc.BatchDelete(ctx, req)
			if err != nil {
				if c.native && tenantMissing(err) {
					break
				}
				return c.d.wrap(ctx, "delete", err, false)
			}
			if reply.GetFailed() > 0 {
				return driver.Errorf(driver.Internal, "weaviate: delete: %d objects could not be deleted", reply.GetFailed())
			}
			if reply.GetMatches() < maxResults {
				break
			}
		}
	}
	return nil
}

// UpdatePayload implements driver.PayloadUpdater. Weaviate has no update by
// filter, so the selected points are read (with their vectors) and written
// back with the change in one batch per page; like any read-modify-write it
// is not atomic against concurrent writers of the same points.
func (c *collection) UpdatePayload(ctx context.Context, sel *driver.Selector, set map[string]any, unset []string) error {
	apply := func(pts []driver.Point) error {
		for i := range pts {
			p := &pts[i]
			if p.Payload == nil {
				p.Payload = map[string]any{}
			}
			for k, v := range set {
				p.Payload[k] = v
			}
			for _, k := range unset {
				delete(p.Payload, k)
			}
		}
		if len(pts) == 0 {
			return nil
		}
		return c.Upsert(ctx, pts)
	}
	all := driver.Projection{All: true}
	if sel.IDs != nil {
		for start := 0; start < len(sel.IDs); start += idChunk {
			chunk := sel.IDs[start:min(start+idChunk, len(sel.IDs))]
			pg, err := c.Read(ctx, &driver.ReadRequest{IDs: chunk, Filter: sel.Filter, Payload: all, WithVectors: true})
			if err != nil {
				return err
			}
			if err := apply(pg.Points); err != nil {
				return err
			}
		}
		return nil
	}
	// Collect the IDs first: rewriting while scrolling could revisit points.
	var ids []driver.PointID
	var after driver.PointID
	for {
		pg, err := c.Read(ctx, &driver.ReadRequest{Filter: sel.Filter, Limit: idChunk, After: after})
		if err != nil {
			return err
		}
		for _, p := range pg.Points {
			ids = append(ids, p.ID)
		}
		if pg.Next.IsZero() {
			break
		}
		after = pg.Next
	}
	if len(ids) == 0 {
		return nil
	}
	return c.UpdatePayload(ctx, &driver.Selector{IDs: ids, Filter: sel.Filter}, set, unset)
}
