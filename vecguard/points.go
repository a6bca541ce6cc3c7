package vecguard

import (
	"errors"
	"math"
	"sort"

	"context"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// SearchRequest is a nearest-neighbour search.
type SearchRequest struct {
	Vector     []float32
	VectorName string  // "" means the collection's first vector
	Limit      int     // top-k; 0 means 10
	Offset     int     // results to skip
	Filter     *Filter // the caller's filter: it narrows, it never widens
	// ScoreThreshold drops worse results: below it for Cosine and Dot,
	// above it for Euclid (a distance).
	ScoreThreshold *float32
	WithPayload    bool     // return the whole payload
	PayloadFields  []string // or only these fields
	WithVectors    bool     // return stored vectors (needs read_vectors)
}

// MaxExamples is the most example IDs (positive and negative) a Recommend
// may name.
const MaxExamples = 256

// RecommendRequest searches by example: for points like the Positive ones
// and unlike the Negative ones. Every example must be readable by the caller.
type RecommendRequest struct {
	Positive       []PointID
	Negative       []PointID
	VectorName     string
	Limit          int
	Offset         int
	Filter         *Filter
	ScoreThreshold *float32
	WithPayload    bool
	PayloadFields  []string
	WithVectors    bool
}

// ReadOptions selects what Get returns for each point.
type ReadOptions struct {
	WithPayload   bool
	PayloadFields []string
	WithVectors   bool
}

// ScrollRequest pages through the points that match a filter, in ID order.
type ScrollRequest struct {
	Filter        *Filter
	Limit         int    // page size; 0 means 100
	Cursor        string // from the previous page; "" starts at the beginning
	WithPayload   bool
	PayloadFields []string
	WithVectors   bool
}

// ScrollPage is one page of a scroll. Cursor is "" after the last page.
type ScrollPage struct {
	Points []Point
	Cursor string
}

// PayloadUpdate sets and deletes payload keys of the points selected by IDs
// and/or Filter (at least one must be given).
type PayloadUpdate struct {
	IDs    []PointID
	Filter *Filter
	Set    map[string]any
	Unset  []string
}

// projection resolves the caller's payload selection and checks the names.
func projection(withPayload bool, fields []string) (driver.Projection, error) {
	if len(fields) > driver.MaxFields {
		return driver.Projection{}, driver.Errorf(driver.InvalidArgument, "too many payload fields")
	}
	for _, f := range fields {
		if !driver.ValidFieldName(f) || isReservedName(f) {
			return driver.Projection{}, driver.Errorf(driver.InvalidArgument, "invalid payload field name %q", f)
		}
	}
	if len(fields) > 0 {
		return driver.Projection{Fields: fields}, nil
	}
	return driver.Projection{All: withPayload}, nil
}

func isReservedName(s string) bool {
	return len(s) >= len(driver.ReservedPrefix) && s[:len(driver.ReservedPrefix)] == driver.ReservedPrefix
}

// fetchProjection is what the client asks the driver for: the caller's
// projection plus every field the re-check needs; everything when the
// collection is encrypted (opening needs the reserved fields).
func fetchProjection(st *collState, user driver.Projection, check *driver.Filter) driver.Projection {
	if user.All || st.prot != nil {
		return driver.Projection{All: true}
	}
	fields := append([]string(nil), user.Fields...)
	for _, f := range check.Fields() {
		if !user.Wants(f) {
			fields = append(fields, f)
		}
	}
	return driver.Projection{Fields: fields}
}

// recheck drops the points that do not match f (stored form) and counts them
// as violations.
func (k *call) recheck(f *driver.Filter, pts []driver.Point) []driver.Point {
	if f == nil {
		return pts
	}
	out := pts[:0]
	for i := range pts {
		if f.Match(pts[i].ID, pts[i].Payload) {
			out = append(out, pts[i])
		}
	}
	if n := len(pts) - len(out); n > 0 {
		k.c.violations.Add(int64(n))
		k.rec.Violations += n
	}
	return out
}

// recheckScored is recheck for search results.
func (k *call) recheckScored(f *driver.Filter, hits []driver.ScoredPoint) []driver.ScoredPoint {
	if f == nil {
		return hits
	}
	out := hits[:0]
	for i := range hits {
		if f.Match(hits[i].ID, hits[i].Payload) {
			out = append(out, hits[i])
		}
	}
	if n := len(hits) - len(out); n > 0 {
		k.c.violations.Add(int64(n))
		k.rec.Violations += n
	}
	return out
}

// vectorScope narrows a read policy to the rows whose stored vectors the
// caller may read: it asks for read_vectors and ANDs the row filter of that
// decision, so a read_vectors rule with a condition limits the rows a read
// with vectors returns.
func (k *call) vectorScope(st *collState, policy *driver.Filter) (*driver.Filter, error) {
	rows, err := k.authorize(authz.ReadVectors, st.user.Name)
	if err != nil || rows == nil {
		return policy, err
	}
	if err := rows.Validate(st.user); err != nil {
		k.rec.Allowed = false
		k.rec.Reason = "policy filter invalid for this collection"
		return nil, driver.Wrap(driver.PermissionDenied, err, "policy row filter does not fit the collection")
	}
	f := driver.And(policy, rows)
	k.rec.PolicyFilter = f
	return f, nil
}

// storedFilter rewrites a plaintext filter for an encrypted collection.
func (k *call) storedFilter(st *collState, f *driver.Filter) (*driver.Filter, error) {
	if st.prot == nil || f == nil {
		return f, nil
	}
	return st.prot.RewriteFilter(k.ctx, k.encScope(st), f)
}

// finish decrypts points and applies the caller's projection and vector choice.
func (k *call) finish(st *collState, pts []driver.Point, proj driver.Projection, withVectors bool) error {
	if st.prot != nil && len(pts) > 0 {
		if err := st.prot.Open(k.ctx, k.encScope(st), pts); err != nil {
			return err
		}
	}
	k.present(pts, proj, withVectors)
	return nil
}

// present applies the caller's projection and vector choice to decrypted
// points and records the results.
func (k *call) present(pts []driver.Point, proj driver.Projection, withVectors bool) {
	for i := range pts {
		pts[i].Payload = proj.Apply(pts[i].Payload)
		if !withVectors {
			pts[i].Vectors = nil
		}
	}
	k.rec.ResultCount = len(pts)
	if withVectors {
		k.rec.Vectors = len(pts)
	}
	if k.c.opts.RecordResultIDs {
		k.rec.ResultIDs = make([]driver.PointID, len(pts))
		for i := range pts {
			k.rec.ResultIDs[i] = pts[i].ID
		}
	}
}

func checkIDs(ids []driver.PointID, allowEmpty bool) error {
	if len(ids) == 0 && !allowEmpty {
		return driver.Errorf(driver.InvalidArgument, "no point IDs")
	}
	if len(ids) > driver.MaxBatch {
		return driver.Errorf(driver.InvalidArgument, "more than %d point IDs", driver.MaxBatch)
	}
	seen := make(map[driver.PointID]struct{}, len(ids))
	for _, id := range ids {
		if id.IsZero() {
			return driver.Errorf(driver.InvalidArgument, "empty point ID")
		}
		if _, dup := seen[id]; dup {
			return driver.Errorf(driver.InvalidArgument, "duplicate point ID %s", id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// Upsert inserts or replaces points. Every point must satisfy the caller's
// write condition; in a tenant-isolated collection the tenant field is filled
// from the principal, and a point naming another tenant is refused. Points
// whose IDs are held by rows outside the caller's write rights are refused.
// Either every point is written or, on a validation error, none.
func (c *Client) Upsert(ctx context.Context, collection string, points []Point) (err error) {
	k, err := c.begin(ctx, "upsert", audit.ClassWrite, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	st, err := k.lookup(collection, authz.Write)
	if err != nil {
		return err
	}
	policy, err := k.scope(st, authz.Write)
	if err != nil {
		return err
	}
	if len(points) == 0 || len(points) > driver.MaxBatch {
		return driver.Errorf(driver.InvalidArgument, "upsert takes 1 to %d points", driver.MaxBatch)
	}
	ids := make([]driver.PointID, len(points))
	for i := range points {
		ids[i] = points[i].ID
	}
	if err := checkIDs(ids, false); err != nil {
		return err
	}
	clean := make([]driver.Point, len(points))
	for i := range points {
		p, err := k.checkPoint(st, &points[i], policy)
		if err != nil {
			return err
		}
		clean[i] = p
	}
	// Refuse to overwrite rows the caller may not write.
	if policy != nil {
		outside, err := k.storedFilter(st, driver.Not(policy))
		if err != nil {
			return err
		}
		pg, err := st.coll.Read(ctx, &driver.ReadRequest{IDs: ids, Filter: outside})
		if err != nil {
			return err
		}
		if len(pg.Points) > 0 {
			return driver.Errorf(driver.PermissionDenied, "point ID %s is held by a row outside your write rights", pg.Points[0].ID)
		}
	}
	if st.prot != nil {
		if clean, err = st.prot.Seal(ctx, k.encScope(st), clean); err != nil {
			return err
		}
	}
	k.rec.ResultCount = len(clean)
	return st.coll.Upsert(ctx, clean)
}

// checkPoint validates one point and returns a normalized copy.
func (k *call) checkPoint(st *collState, p *driver.Point, policy *driver.Filter) (driver.Point, error) {
	out := driver.Point{ID: p.ID, Vectors: make(map[string][]float32, len(st.user.Vectors))}
	if len(p.Vectors) != len(st.user.Vectors) {
		return out, driver.Errorf(driver.InvalidArgument, "point %s: needs exactly the %d declared vectors", p.ID, len(st.user.Vectors))
	}
	for name, v := range p.Vectors {
		vs, ok := st.user.Vector(name)
		if !ok || name == "" {
			return out, driver.Errorf(driver.InvalidArgument, "point %s: undeclared vector %q", p.ID, name)
		}
		if err := driver.CheckVector(vs, v); err != nil {
			return out, err
		}
		out.Vectors[name] = append([]float32(nil), v...)
	}
	payload, err := driver.NormalizePayload(p.Payload)
	if err != nil {
		return out, err
	}
	if payload == nil {
		payload = map[string]any{}
	}
	if err := st.user.CheckPayload(payload, false); err != nil {
		return out, err
	}
	if tf := st.user.TenantField; tf != "" {
		switch t := payload[tf]; {
		case t == nil:
			payload[tf] = k.p.Tenant
		case t != k.p.Tenant:
			return out, driver.Errorf(driver.PermissionDenied, "point %s names another tenant", p.ID)
		}
	}
	if !policy.Match(p.ID, payload) {
		return out, driver.Errorf(driver.PermissionDenied, "point %s is outside your write rights", p.ID)
	}
	out.Payload = payload
	return out, nil
}

// Search returns the points nearest to req.Vector among those the caller may
// read and that match req.Filter, best first.
func (c *Client) Search(ctx context.Context, collection string, req SearchRequest) (res []ScoredPoint, err error) {
	k, err := c.begin(ctx, "search", audit.ClassRead, collection)
	defer func() {
		if err = k.end(err); err != nil {
			res = nil // withheld: see end
		}
	}()
	if err != nil {
		return nil, err
	}
	st, err := k.lookup(collection, authz.Read)
	if err != nil {
		return nil, err
	}
	policy, err := k.scope(st, authz.Read)
	if err != nil {
		return nil, err
	}
	return k.search(st, policy, &req, nil)
}

// search runs a search for an authorized caller; exclude removes points
// (recommend's examples).
func (k *call) search(st *collState, policy *driver.Filter, req *SearchRequest, exclude []driver.PointID) ([]ScoredPoint, error) {
	k.rec.CallerFilter = req.Filter
	limit := req.Limit
	if limit == 0 {
		limit = 10
	}
	k.rec.TopK = limit
	if limit < 0 || req.Offset < 0 || limit > driver.MaxLimit || req.Offset > driver.MaxLimit-limit {
		return nil, driver.Errorf(driver.InvalidArgument, "limit and offset must be positive and add up to at most %d", driver.MaxLimit)
	}
	vs, ok := st.user.Vector(req.VectorName)
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", req.VectorName)
	}
	if err := driver.CheckVector(vs, req.Vector); err != nil {
		return nil, err
	}
	if req.ScoreThreshold != nil && (math.IsNaN(float64(*req.ScoreThreshold)) || math.IsInf(float64(*req.ScoreThreshold), 0)) {
		return nil, driver.Errorf(driver.InvalidArgument, "score threshold is not finite")
	}
	if err := req.Filter.Validate(st.user); err != nil {
		return nil, err
	}
	proj, err := projection(req.WithPayload, req.PayloadFields)
	if err != nil {
		return nil, err
	}
	if req.WithVectors {
		if policy, err = k.vectorScope(st, policy); err != nil {
			return nil, err
		}
	}
	check := driver.And(policy, req.Filter)
	if len(exclude) > 0 {
		check = driver.And(check, driver.Not(driver.HasID(exclude...)))
	}
	storedCheck, err := k.storedFilter(st, check)
	if err != nil {
		return nil, err
	}
	q := driver.Query{
		Vector: req.Vector, VectorName: vs.Name, Limit: limit, Offset: req.Offset,
		Filter: storedCheck, ScoreThreshold: req.ScoreThreshold,
		Payload: fetchProjection(st, proj, check), WithVectors: req.WithVectors,
	}
	var hits []driver.ScoredPoint
	if st.prot == nil {
		if hits, err = st.coll.Search(k.ctx, &q); err != nil {
			return nil, err
		}
		hits = k.recheckScored(storedCheck, hits)
	} else if hits, err = k.searchEncrypted(st, &q, req.Vector, vs); err != nil {
		return nil, err // searchEncrypted re-checks and opens the candidates itself
	}
	pts := make([]driver.Point, len(hits))
	for i := range hits {
		pts[i] = hits[i].Point
	}
	if st.prot != nil {
		k.present(pts, proj, req.WithVectors)
	} else if err := k.finish(st, pts, proj, req.WithVectors); err != nil {
		return nil, err
	}
	for i := range hits {
		hits[i].Point = pts[i]
	}
	return hits, nil
}

// searchEncrypted fans a query out over the active key versions, re-checks
// the candidates against q.Filter (stored form), rescores them exactly
// against their plaintext vectors and merges the results, which come back
// verified and decrypted.
func (k *call) searchEncrypted(st *collState, q *driver.Query, plain []float32, vs driver.VectorSpec) ([]driver.ScoredPoint, error) {
	qs, err := st.prot.Queries(k.ctx, k.encScope(st), vs.Name, plain)
	if err != nil {
		return nil, err
	}
	// A Ranker that reads the plaintext vectors from what it sealed in the
	// payload needs no stored vectors: they would only cost transfer. A
	// point sealed before the configuration changed may still need them:
	// then the search runs again with them.
	ranker, isRanker := st.prot.(encryption.Ranker)
	withStored := !isRanker || ranker.StoredVectorsNeeded()
	hits, err := k.searchEncryptedOnce(st, q, plain, vs, qs, ranker, withStored)
	if err != nil && !withStored && errors.Is(err, encryption.ErrNoExactCopy) {
		hits, err = k.searchEncryptedOnce(st, q, plain, vs, qs, ranker, true)
	}
	return hits, err
}

// searchEncryptedOnce is searchEncrypted reading the candidates' stored
// vectors or not; ranker is the protector's Ranker, or nil.
func (k *call) searchEncryptedOnce(st *collState, q *driver.Query, plain []float32, vs driver.VectorSpec, qs []encryption.EncryptedQuery, ranker encryption.Ranker, withStored bool) ([]driver.ScoredPoint, error) {
	var err error
	want := q.Limit + q.Offset
	if o, ok := st.prot.(encryption.Oversampler); ok {
		// More candidates from the noisy ciphertext ranking recover recall
		// once they are rescored exactly.
		want = min(max(o.Candidates(want), want), driver.MaxLimit)
	}
	isRanker := ranker != nil
	var all []driver.ScoredPoint
	seen := map[driver.PointID]bool{}
	for _, eq := range qs {
		sub := *q
		sub.Vector = eq.Vector
		sub.Filter = driver.And(q.Filter, eq.Filter)
		sub.Offset = 0
		sub.Limit = want
		sub.ScoreThreshold = nil // ciphertext scores are not comparable to plaintext ones
		sub.WithVectors = withStored
		hits, err := st.coll.Search(k.ctx, &sub)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			if !seen[h.ID] {
				seen[h.ID] = true
				all = append(all, h)
			}
		}
	}
	// Re-check in stored form, then score exactly against the plaintext
	// vectors. A Ranker reads those of the candidates without opening them,
	// and only the points returned are opened; otherwise every candidate is
	// opened once.
	all = k.recheckScored(q.Filter, all)
	pts := make([]driver.Point, len(all))
	for i := range all {
		pts[i] = all[i].Point
	}
	open := st.prot.Open
	if isRanker && !withStored {
		open = ranker.OpenRanked
	}
	rank := isRanker && len(all) > q.Limit
	var vecs [][]float32
	if rank {
		if vecs, err = ranker.RankVectors(k.ctx, k.encScope(st), vs.Name, pts); err != nil {
			return nil, err
		}
	} else if len(pts) > 0 {
		if err := open(k.ctx, k.encScope(st), pts); err != nil {
			return nil, err
		}
		vecs = make([][]float32, len(pts))
		for i := range pts {
			all[i].Point = pts[i]
			vecs[i] = pts[i].Vectors[vs.Name]
		}
	}
	kept := all[:0]
	for i := range all {
		s := score(vs.Distance, plain, vecs[i])
		if q.ScoreThreshold != nil && worse(vs.Distance, s, *q.ScoreThreshold) {
			continue
		}
		all[i].Score = s
		kept = append(kept, all[i])
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].Score != kept[j].Score {
			return worse(vs.Distance, kept[j].Score, kept[i].Score)
		}
		return kept[i].ID.Compare(kept[j].ID) < 0
	})
	if q.Offset >= len(kept) {
		return nil, nil
	}
	kept = kept[q.Offset:]
	if len(kept) > q.Limit {
		kept = kept[:q.Limit]
	}
	if rank {
		// Every point returned is verified and decrypted. Its vector is the
		// one it was ranked by: both come from the same sealed copy.
		pts = pts[:len(kept)]
		for i := range kept {
			pts[i] = kept[i].Point
		}
		if err := open(k.ctx, k.encScope(st), pts); err != nil {
			return nil, err
		}
		for i := range kept {
			kept[i].Point = pts[i]
		}
	}
	return kept, nil
}

// worse reports whether score a is worse than b under d.
func worse(d driver.Distance, a, b float32) bool {
	if d.HigherIsBetter() {
		return a < b
	}
	return a > b
}

// score computes the score of v for query q under d, as drivers report it.
func score(d driver.Distance, q, v []float32) float32 {
	if len(v) != len(q) {
		if d.HigherIsBetter() {
			return float32(math.Inf(-1))
		}
		return float32(math.Inf(1))
	}
	switch d {
	case driver.Dot:
		var s float64
		for i := range q {
			s += float64(q[i]) * float64(v[i])
		}
		return float32(s)
	case driver.Euclid:
		var s float64
		for i := range q {
			x := float64(q[i]) - float64(v[i])
			s += x * x
		}
		return float32(math.Sqrt(s))
	default:
		var s, nq, nv float64
		for i := range q {
			s += float64(q[i]) * float64(v[i])
			nq += float64(q[i]) * float64(q[i])
			nv += float64(v[i]) * float64(v[i])
		}
		if nq == 0 || nv == 0 {
			return 0
		}
		return float32(s / math.Sqrt(nq*nv))
	}
}

// Recommend searches by example. An example ID outside the caller's rows
// behaves exactly as a missing one: NotFound. The examples themselves are
// not returned.
func (c *Client) Recommend(ctx context.Context, collection string, req RecommendRequest) (res []ScoredPoint, err error) {
	k, err := c.begin(ctx, "recommend", audit.ClassRead, collection)
	defer func() {
		if err = k.end(err); err != nil {
			res = nil // withheld: see end
		}
	}()
	if err != nil {
		return nil, err
	}
	st, err := k.lookup(collection, authz.Read)
	if err != nil {
		return nil, err
	}
	policy, err := k.scope(st, authz.Read)
	if err != nil {
		return nil, err
	}
	if len(req.Positive) == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "recommend needs at least one positive example")
	}
	examples := append(append([]driver.PointID(nil), req.Positive...), req.Negative...)
	if len(examples) > MaxExamples {
		return nil, driver.Errorf(driver.InvalidArgument, "recommend takes at most %d examples", MaxExamples)
	}
	if err := checkIDs(examples, false); err != nil {
		return nil, err
	}
	vs, ok := st.user.Vector(req.VectorName)
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", req.VectorName)
	}
	storedPolicy, err := k.storedFilter(st, policy)
	if err != nil {
		return nil, err
	}
	pg, err := st.coll.Read(k.ctx, &driver.ReadRequest{
		IDs: examples, Filter: storedPolicy, WithVectors: true,
		Payload: fetchProjection(st, driver.Projection{}, policy),
	})
	if err != nil {
		return nil, err
	}
	got := k.recheck(storedPolicy, pg.Points)
	if len(got) != len(examples) {
		return nil, driver.Errorf(driver.NotFound, "example point not found")
	}
	if st.prot != nil {
		if err := st.prot.Open(k.ctx, k.encScope(st), got); err != nil {
			return nil, err
		}
	}
	byID := make(map[driver.PointID][]float32, len(got))
	for _, p := range got {
		v := p.Vectors[vs.Name]
		if len(v) != vs.Dim {
			return nil, driver.Errorf(driver.Internal, "example point %s has no %q vector of dimension %d", p.ID, vs.Name, vs.Dim)
		}
		byID[p.ID] = v
	}
	query := exampleVector(vs.Dim, req.Positive, req.Negative, byID)
	sr := SearchRequest{
		Vector: query, VectorName: vs.Name, Limit: req.Limit, Offset: req.Offset, Filter: req.Filter,
		ScoreThreshold: req.ScoreThreshold, WithPayload: req.WithPayload, PayloadFields: req.PayloadFields,
		WithVectors: req.WithVectors,
	}
	return k.search(st, policy, &sr, examples)
}

// exampleVector is Qdrant's average_vector strategy: avg(pos) + (avg(pos) -
// avg(neg)) with negatives, avg(pos) without.
func exampleVector(dim int, pos, neg []driver.PointID, vecs map[driver.PointID][]float32) []float32 {
	avg := func(ids []driver.PointID) []float64 {
		a := make([]float64, dim)
		for _, id := range ids {
			for i, x := range vecs[id] {
				a[i] += float64(x)
			}
		}
		for i := range a {
			a[i] /= float64(len(ids))
		}
		return a
	}
	p := avg(pos)
	out := make([]float32, dim)
	if len(neg) == 0 {
		for i := range p {
			out[i] = float32(p[i])
		}
		return out
	}
	n := avg(neg)
	for i := range p {
		out[i] = float32(2*p[i] - n[i])
	}
	return out
}

// Get returns the points with the given IDs that the caller may read, in the
// order asked. An ID outside the caller's rows behaves exactly as a missing
// one: it is left out.
func (c *Client) Get(ctx context.Context, collection string, ids []PointID, opts ReadOptions) (pts []Point, err error) {
	k, err := c.begin(ctx, "get", audit.ClassRead, collection)
	defer func() {
		if err = k.end(err); err != nil {
			pts = nil // withheld: see end
		}
	}()
	if err != nil {
		return nil, err
	}
	st, err := k.lookup(collection, authz.Read)
	if err != nil {
		return nil, err
	}
	policy, err := k.scope(st, authz.Read)
	if err != nil {
		return nil, err
	}
	if err := checkIDs(ids, false); err != nil {
		return nil, err
	}
	proj, err := projection(opts.WithPayload, opts.PayloadFields)
	if err != nil {
		return nil, err
	}
	if opts.WithVectors {
		if policy, err = k.vectorScope(st, policy); err != nil {
			return nil, err
		}
	}
	stored, err := k.storedFilter(st, policy)
	if err != nil {
		return nil, err
	}
	pg, err := st.coll.Read(ctx, &driver.ReadRequest{
		IDs: ids, Filter: stored, Payload: fetchProjection(st, proj, policy), WithVectors: opts.WithVectors || st.prot != nil,
	})
	if err != nil {
		return nil, err
	}
	kept := k.recheck(stored, pg.Points)
	if err := k.finish(st, kept, proj, opts.WithVectors); err != nil {
		return nil, err
	}
	return kept, nil
}

// Scroll returns one page of the points the caller may read that match
// req.Filter, in ID order.
func (c *Client) Scroll(ctx context.Context, collection string, req ScrollRequest) (page ScrollPage, err error) {
	k, err := c.begin(ctx, "scroll", audit.ClassRead, collection)
	defer func() {
		if err = k.end(err); err != nil {
			page = ScrollPage{} // withheld: see end
		}
	}()
	if err != nil {
		return page, err
	}
	st, err := k.lookup(collection, authz.Read)
	if err != nil {
		return page, err
	}
	policy, err := k.scope(st, authz.Read)
	if err != nil {
		return page, err
	}
	k.rec.CallerFilter = req.Filter
	limit := req.Limit
	if limit == 0 {
		limit = 100
	}
	k.rec.TopK = limit
	if limit < 0 || limit > driver.MaxLimit {
		return page, driver.Errorf(driver.InvalidArgument, "page size must be 1 to %d", driver.MaxLimit)
	}
	after, err := decodeCursor(req.Cursor)
	if err != nil {
		return page, err
	}
	if err := req.Filter.Validate(st.user); err != nil {
		return page, err
	}
	proj, err := projection(req.WithPayload, req.PayloadFields)
	if err != nil {
		return page, err
	}
	if req.WithVectors {
		if policy, err = k.vectorScope(st, policy); err != nil {
			return page, err
		}
	}
	check := driver.And(policy, req.Filter)
	stored, err := k.storedFilter(st, check)
	if err != nil {
		return page, err
	}
	pg, err := st.coll.Read(ctx, &driver.ReadRequest{
		Filter: stored, Limit: limit, After: after,
		Payload: fetchProjection(st, proj, check), WithVectors: req.WithVectors || st.prot != nil,
	})
	if err != nil {
		return page, err
	}
	kept := k.recheck(stored, pg.Points)
	if !pg.Next.IsZero() && (len(kept) == 0 || kept[len(kept)-1].ID != pg.Next) {
		// The page ends on a row the re-check dropped: a cursor after it
		// would tell the caller that row's ID. Refuse (a driver bug).
		return page, driver.Errorf(driver.Internal, "the database returned rows outside the filter; the scroll cannot continue")
	}
	if err := k.finish(st, kept, proj, req.WithVectors); err != nil {
		return page, err
	}
	return ScrollPage{Points: kept, Cursor: encodeCursor(pg.Next)}, nil
}

// Count counts the points the caller may read that match f.
func (c *Client) Count(ctx context.Context, collection string, f *Filter) (n int64, err error) {
	k, err := c.begin(ctx, "count", audit.ClassRead, collection)
	defer func() {
		if err = k.end(err); err != nil {
			n = 0 // withheld: see end
		}
	}()
	if err != nil {
		return 0, err
	}
	st, err := k.lookup(collection, authz.Read)
	if err != nil {
		return 0, err
	}
	policy, err := k.scope(st, authz.Read)
	if err != nil {
		return 0, err
	}
	k.rec.CallerFilter = f
	if err := f.Validate(st.user); err != nil {
		return 0, err
	}
	stored, err := k.storedFilter(st, driver.And(policy, f))
	if err != nil {
		return 0, err
	}
	n, err = st.coll.Count(ctx, stored)
	k.rec.ResultCount = int(n)
	return n, err
}

// Delete deletes the points with the given IDs among those the caller may
// delete; other IDs are ignored, as missing ones are.
func (c *Client) Delete(ctx context.Context, collection string, ids []PointID) (err error) {
	k, err := c.begin(ctx, "delete", audit.ClassDelete, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	if err := checkIDs(ids, false); err != nil {
		return err
	}
	return k.delete(collection, ids, nil)
}

// DeleteByFilter deletes the points the caller may delete that match f. f
// must not be nil: pass And() to mean every point the caller may delete.
func (c *Client) DeleteByFilter(ctx context.Context, collection string, f *Filter) (err error) {
	k, err := c.begin(ctx, "delete_by_filter", audit.ClassDelete, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	if f == nil {
		return driver.Errorf(driver.InvalidArgument, "delete by filter needs a filter; And() selects every row you may delete")
	}
	return k.delete(collection, nil, f)
}

func (k *call) delete(collection string, ids []driver.PointID, f *driver.Filter) error {
	k.rec.CallerFilter = f
	st, err := k.lookup(collection, authz.Delete)
	if err != nil {
		return err
	}
	policy, err := k.scope(st, authz.Delete)
	if err != nil {
		return err
	}
	if err := f.Validate(st.user); err != nil {
		return err
	}
	sel := driver.And(policy, f)
	stored, err := k.storedFilter(st, sel)
	if err != nil {
		return err
	}
	return st.coll.Delete(k.ctx, &driver.Selector{IDs: ids, Filter: stored})
}

// UpdatePayload sets and deletes payload keys of the selected points that
// the caller may write. Every changed point must still satisfy the caller's
// write condition, and the tenant field cannot change.
func (c *Client) UpdatePayload(ctx context.Context, collection string, u PayloadUpdate) (err error) {
	k, err := c.begin(ctx, "update_payload", audit.ClassWrite, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return err
	}
	st, err := k.lookup(collection, authz.Write)
	if err != nil {
		return err
	}
	policy, err := k.scope(st, authz.Write)
	if err != nil {
		return err
	}
	k.rec.CallerFilter = u.Filter
	if u.IDs == nil && u.Filter == nil {
		return driver.Errorf(driver.InvalidArgument, "payload update needs IDs or a filter")
	}
	if u.IDs != nil {
		if err := checkIDs(u.IDs, false); err != nil {
			return err
		}
	}
	if err := u.Filter.Validate(st.user); err != nil {
		return err
	}
	if len(u.Set) == 0 && len(u.Unset) == 0 {
		return driver.Errorf(driver.InvalidArgument, "payload update changes nothing")
	}
	set, err := driver.NormalizePayload(u.Set)
	if err != nil {
		return err
	}
	if err := st.user.CheckPayload(set, false); err != nil {
		return err
	}
	touched := map[string]bool{}
	for key := range set {
		touched[key] = true
	}
	for _, key := range u.Unset {
		if key == "" || isReservedName(key) {
			return driver.Errorf(driver.InvalidArgument, "invalid payload key to unset")
		}
		touched[key] = true
	}
	if tf := st.user.TenantField; tf != "" && touched[tf] {
		return driver.Errorf(driver.PermissionDenied, "the tenant field cannot be changed")
	}
	sel := driver.And(policy, u.Filter)
	stored, err := k.storedFilter(st, sel)
	if err != nil {
		return err
	}
	policyTouched := false
	for _, f := range policy.Fields() {
		policyTouched = policyTouched || touched[f]
	}
	if pu, ok := st.coll.(driver.PayloadUpdater); ok && st.prot == nil && !policyTouched {
		return pu.UpdatePayload(k.ctx, &driver.Selector{IDs: u.IDs, Filter: stored}, set, u.Unset)
	}
	// Read, change, check, write back.
	pts, err := k.readAll(st, u.IDs, stored)
	if err != nil {
		return err
	}
	if st.prot != nil && len(pts) > 0 {
		if err := st.prot.Open(k.ctx, k.encScope(st), pts); err != nil {
			return err
		}
	}
	for i := range pts {
		p := &pts[i]
		for key := range p.Payload {
			if isReservedName(key) {
				delete(p.Payload, key)
			}
		}
		if p.Payload == nil {
			p.Payload = map[string]any{}
		}
		for key, v := range set {
			p.Payload[key] = v
		}
		for _, key := range u.Unset {
			delete(p.Payload, key)
		}
		if !policy.Match(p.ID, p.Payload) {
			return driver.Errorf(driver.PermissionDenied, "the update would move point %s outside your write rights", p.ID)
		}
	}
	if len(pts) == 0 {
		return nil
	}
	if st.prot != nil {
		if pts, err = st.prot.Seal(k.ctx, k.encScope(st), pts); err != nil {
			return err
		}
	}
	k.rec.ResultCount = len(pts)
	return st.coll.Upsert(k.ctx, pts)
}

// readAll reads every selected point with payload and vectors, refusing
// selections larger than MaxBatch.
func (k *call) readAll(st *collState, ids []driver.PointID, f *driver.Filter) ([]driver.Point, error) {
	if ids != nil {
		pg, err := st.coll.Read(k.ctx, &driver.ReadRequest{IDs: ids, Filter: f, Payload: driver.Projection{All: true}, WithVectors: true})
		if err != nil {
			return nil, err
		}
		return k.recheck(f, pg.Points), nil
	}
	var out []driver.Point
	var after driver.PointID
	for {
		pg, err := st.coll.Read(k.ctx, &driver.ReadRequest{Filter: f, Limit: 1000, After: after, Payload: driver.Projection{All: true}, WithVectors: true})
		if err != nil {
			return nil, err
		}
		out = append(out, k.recheck(f, pg.Points)...)
		if len(out) > driver.MaxBatch {
			return nil, driver.Errorf(driver.FailedPrecondition, "payload update selects more than %d points; narrow the filter", driver.MaxBatch)
		}
		if pg.Next.IsZero() {
			return out, nil
		}
		after = pg.Next
	}
}
