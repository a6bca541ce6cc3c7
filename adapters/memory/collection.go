package memory

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// ctxEvery is how many points a long loop visits between checks of its
// context.
const ctxEvery = 4096

// collection is the state of one collection. Points live in slots: slot i
// holds ids[i], payloads[i] and the i-th row of each vector slab. Deleted
// slots go to a free list and are reused.
//
// Invariant: stored payload values are never changed in place, only
// replaced, so they may be shared (UpdatePayload sets one value on many
// points) and are deep-copied on the way out.
type collection struct {
	mu      sync.RWMutex
	spec    *driver.CollectionSpec // never changes
	dropped bool

	ids      []driver.PointID // by slot; zero when free
	payloads []map[string]any // by slot
	slotOf   map[driver.PointID]int32
	free     []int32
	vecs     []*vectors     // in spec.Vectors order
	vecIndex map[string]int // vector name -> index in vecs
	// index maps each filterable string field to its value index.
	index map[string]map[string]*posting

	// Scroll order, kept lazily: order is sorted and may still hold deleted
	// IDs; pending holds IDs added since the last merge. Writers append to
	// pending under mu.Lock; readers merge under mu.RLock and orderMu.
	orderMu   sync.Mutex
	order     []driver.PointID
	pending   []driver.PointID
	orderDead int
	// rebuild is set when pending grew far beyond the live points (churn
	// without scrolls): order and pending are dropped and the next scroll
	// sorts every live ID afresh.
	rebuild bool
}

func newCollection(spec *driver.CollectionSpec) *collection {
	c := &collection{
		spec:     spec.Clone(),
		slotOf:   map[driver.PointID]int32{},
		vecIndex: map[string]int{},
		index:    map[string]map[string]*posting{},
	}
	for i, vs := range c.spec.Vectors {
		c.vecs = append(c.vecs, &vectors{dim: vs.Dim, dist: vs.Distance})
		c.vecIndex[vs.Name] = i
	}
	for _, f := range c.spec.Fields {
		if f.Filterable && f.Kind == driver.KindString {
			c.index[f.Name] = map[string]*posting{}
		}
	}
	return c
}

// lock locks c for reading or writing; NotFound (and no lock) once dropped.
func (c *collection) lock(write bool) error {
	if write {
		c.mu.Lock()
	} else {
		c.mu.RLock()
	}
	if c.dropped {
		c.unlock(write)
		return notFound()
	}
	return nil
}

func (c *collection) unlock(write bool) {
	if write {
		c.mu.Unlock()
	} else {
		c.mu.RUnlock()
	}
}

// vectors is one named vector of every point, as a contiguous slab.
type vectors struct {
	dim   int
	dist  driver.Distance
	data  []float32 // slot*dim .. slot*dim+dim
	norms []float32 // Cosine only: the norm of each slot's vector
}

func (v *vectors) at(slot int32) []float32 {
	o := int(slot) * v.dim
	return v.data[o : o+v.dim : o+v.dim]
}

func (v *vectors) grow() {
	n := len(v.data)
	v.data = slices.Grow(v.data, v.dim)[:n+v.dim]
	if v.dist == driver.Cosine {
		v.norms = append(v.norms, 0)
	}
}

func (v *vectors) set(slot int32, x []float32) {
	copy(v.at(slot), x)
	if v.dist == driver.Cosine {
		v.norms[slot] = norm(x)
	}
}

// posting is the set of slots holding one value of an indexed field.
type posting struct {
	slots []int32
	pos   map[int32]int
}

func (p *posting) add(slot int32) {
	p.pos[slot] = len(p.slots)
	p.slots = append(p.slots, slot)
}

func (p *posting) remove(slot int32) {
	i, ok := p.pos[slot]
	if !ok {
		return
	}
	last := p.slots[len(p.slots)-1]
	p.slots[i] = last
	p.pos[last] = i
	p.slots = p.slots[:len(p.slots)-1]
	delete(p.pos, slot)
}

func (c *collection) indexSlot(slot int32) {
	for field, idx := range c.index {
		v, ok := c.payloads[slot][field].(string)
		if !ok {
			continue
		}
		p := idx[v]
		if p == nil {
			p = &posting{pos: map[int32]int{}}
			idx[v] = p
		}
		p.add(slot)
	}
}

func (c *collection) unindexSlot(slot int32) {
	for field, idx := range c.index {
		v, ok := c.payloads[slot][field].(string)
		if !ok {
			continue
		}
		if p := idx[v]; p != nil {
			p.remove(slot)
			if len(p.slots) == 0 {
				delete(idx, v)
			}
		}
	}
}

// prepare checks points against spec and returns copies with normalized
// payloads. The vectors are not copied: upsert copies them into the slabs.
func prepare(spec *driver.CollectionSpec, points []driver.Point) ([]driver.Point, error) {
	out := make([]driver.Point, len(points))
	for i := range points {
		p := &points[i]
		if p.ID.IsZero() {
			return nil, driver.Errorf(driver.InvalidArgument, "point with an empty ID")
		}
		if len(p.Vectors) != len(spec.Vectors) {
			return nil, driver.Errorf(driver.InvalidArgument, "point %s: needs exactly the %d declared vectors", p.ID, len(spec.Vectors))
		}
		vecs := make(map[string][]float32, len(spec.Vectors))
		for _, vs := range spec.Vectors {
			v, ok := p.Vectors[vs.Name]
			if !ok {
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: vector %q is missing", p.ID, vs.Name)
			}
			if err := driver.CheckVector(vs, v); err != nil {
				return nil, err
			}
			vecs[vs.Name] = v
		}
		payload, err := driver.NormalizePayload(p.Payload)
		if err != nil {
			return nil, err
		}
		out[i] = driver.Point{ID: p.ID, Vectors: vecs, Payload: payload}
	}
	return out, nil
}

// upsert stores prepared points. Callers hold the write lock.
func (c *collection) upsert(pts []driver.Point) {
	for i := range pts {
		p := &pts[i]
		slot, ok := c.slotOf[p.ID]
		if ok {
			c.unindexSlot(slot)
		} else {
			slot = c.alloc(p.ID)
		}
		for j, vs := range c.spec.Vectors {
			c.vecs[j].set(slot, p.Vectors[vs.Name])
		}
		c.payloads[slot] = p.Payload
		c.indexSlot(slot)
	}
}

func (c *collection) alloc(id driver.PointID) int32 {
	var slot int32
	if n := len(c.free); n > 0 {
		slot = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		slot = int32(len(c.ids))
		c.ids = append(c.ids, driver.PointID{})
		c.payloads = append(c.payloads, nil)
		for _, v := range c.vecs {
			v.grow()
		}
	}
	c.ids[slot] = id
	c.slotOf[id] = slot
	if !c.rebuild {
		c.pending = append(c.pending, id)
		if len(c.pending) > 2*len(c.slotOf)+1024 {
			c.order, c.pending, c.orderDead, c.rebuild = nil, nil, 0, true
		}
	}
	return slot
}

// deleteSlots frees slots. Callers hold the write lock.
func (c *collection) deleteSlots(slots []int32) {
	for _, slot := range slots {
		c.unindexSlot(slot)
		delete(c.slotOf, c.ids[slot])
		c.ids[slot] = driver.PointID{}
		c.payloads[slot] = nil
		for _, v := range c.vecs {
			clear(v.at(slot)) // deleted vectors do not linger in memory
		}
		c.free = append(c.free, slot)
		c.orderDead++
	}
}

// updatePayload sets and removes payload keys. Callers hold the write lock.
func (c *collection) updatePayload(slots []int32, set map[string]any, unset []string) {
	for _, slot := range slots {
		c.unindexSlot(slot)
		p := c.payloads[slot]
		if p == nil {
			p = make(map[string]any, len(set))
			c.payloads[slot] = p
		}
		for k, v := range set {
			p[k] = v
		}
		for _, k := range unset {
			delete(p, k)
		}
		c.indexSlot(slot)
	}
}

func (c *collection) idsOf(slots []int32) []driver.PointID {
	ids := make([]driver.PointID, len(slots))
	for i, s := range slots {
		ids[i] = c.ids[s]
	}
	return ids
}

// selectSlots returns the slots a selector picks, each once.
func (c *collection) selectSlots(ctx context.Context, sel *driver.Selector) ([]int32, error) {
	if sel == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "no selector")
	}
	var out []int32
	if sel.IDs != nil {
		seen := make(map[int32]bool, len(sel.IDs))
		for _, id := range sel.IDs {
			slot, ok := c.slotOf[id]
			if ok && !seen[slot] && sel.Filter.Match(id, c.payloads[slot]) {
				seen[slot] = true
				out = append(out, slot)
			}
		}
		return out, nil
	}
	err := c.each(ctx, sel.Filter, func(slot int32) bool {
		out = append(out, slot)
		return true
	})
	return out, err
}

// candidates returns the slots an index narrows f to, or ok=false when no
// index applies and every point must be visited. The slice may be shared
// with the index: callers must not change it. Every point that matches f is
// among the candidates; the candidates still need f.Match.
func (c *collection) candidates(f *driver.Filter) (slots []int32, ok bool) {
	if f == nil {
		return nil, false
	}
	switch f.Op {
	case driver.OpAnd:
		for _, ch := range f.Children {
			if s, ok2 := c.candidates(ch); ok2 && (!ok || len(s) < len(slots)) {
				slots, ok = s, true
			}
		}
		return slots, ok
	case driver.OpEq:
		idx := c.index[f.Field]
		if idx == nil || f.Value.Kind() != driver.KindString {
			return nil, false
		}
		if p := idx[f.Value.Str()]; p != nil {
			return p.slots, true
		}
		return nil, true
	case driver.OpIn:
		idx := c.index[f.Field]
		if idx == nil {
			return nil, false
		}
		seen := map[string]bool{}
		for _, v := range f.Values {
			if v.Kind() != driver.KindString {
				continue // a string field never equals a non-string value
			}
			if p := idx[v.Str()]; p != nil && !seen[v.Str()] {
				seen[v.Str()] = true
				// Postings of distinct values are disjoint.
				slots = append(slots, p.slots...)
			}
		}
		return slots, true
	case driver.OpHasID:
		seen := map[int32]bool{}
		for _, id := range f.IDs {
			if s, ok := c.slotOf[id]; ok && !seen[s] {
				seen[s] = true
				slots = append(slots, s)
			}
		}
		return slots, true
	}
	return nil, false
}

// each calls fn for every live slot that matches f until fn returns false.
// It checks ctx every ctxEvery points.
func (c *collection) each(ctx context.Context, f *driver.Filter, fn func(slot int32) bool) error {
	if cands, ok := c.candidates(f); ok {
		for i, slot := range cands {
			if i%ctxEvery == ctxEvery-1 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if f.Match(c.ids[slot], c.payloads[slot]) && !fn(slot) {
				return nil
			}
		}
		return nil
	}
	for i := range c.ids {
		if i%ctxEvery == ctxEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id := c.ids[i]
		if id.IsZero() || !f.Match(id, c.payloads[i]) {
			continue
		}
		if !fn(int32(i)) {
			return nil
		}
	}
	return nil
}

// point returns a deep copy of the point in slot, projected.
func (c *collection) point(slot int32, proj driver.Projection, withVectors bool) driver.Point {
	p := driver.Point{ID: c.ids[slot]}
	if pl := proj.Apply(c.payloads[slot]); pl != nil {
		p.Payload = driver.ClonePayload(pl)
	}
	if withVectors {
		p.Vectors = make(map[string][]float32, len(c.vecs))
		for i, vs := range c.spec.Vectors {
			p.Vectors[vs.Name] = slices.Clone(c.vecs[i].at(slot))
		}
	}
	return p
}

// search is exact k-NN over the points matching q.Filter.
func (c *collection) search(ctx context.Context, q *driver.Query) ([]driver.ScoredPoint, error) {
	name := q.VectorName
	if name == "" {
		name = c.spec.Vectors[0].Name
	}
	vi, ok := c.vecIndex[name]
	if !ok {
		return nil, driver.Errorf(driver.InvalidArgument, "unknown vector %q", q.VectorName)
	}
	v := c.vecs[vi]
	if len(q.Vector) != v.dim {
		return nil, driver.Errorf(driver.InvalidArgument, "query vector has dimension %d, want %d", len(q.Vector), v.dim)
	}
	if q.Limit <= 0 || q.Offset < 0 || q.Limit > driver.MaxLimit || q.Offset > driver.MaxLimit {
		return nil, driver.Errorf(driver.InvalidArgument, "limit must be 1 to %d and offset 0 to %d", driver.MaxLimit, driver.MaxLimit)
	}
	higher := v.dist.HigherIsBetter()
	top := topK{k: q.Limit + q.Offset, higher: higher, ids: c.ids}
	score := scorer(v, q.Vector)
	var threshold float32
	hasThreshold := q.ScoreThreshold != nil
	if hasThreshold {
		threshold = *q.ScoreThreshold
	}
	err := c.each(ctx, q.Filter, func(slot int32) bool {
		s := score(slot)
		if hasThreshold && (higher && s < threshold || !higher && s > threshold) {
			return true
		}
		top.push(slot, s)
		return true
	})
	if err != nil {
		return nil, err
	}
	best := top.sorted()
	if q.Offset >= len(best) {
		return []driver.ScoredPoint{}, nil
	}
	best = best[q.Offset:]
	out := make([]driver.ScoredPoint, len(best))
	for i, h := range best {
		out[i] = driver.ScoredPoint{Point: c.point(h.slot, q.Payload, q.WithVectors), Score: h.score}
	}
	return out, nil
}

// scorer returns the score function of q against the slab v.
func scorer(v *vectors, q []float32) func(slot int32) float32 {
	switch v.dist {
	case driver.Dot:
		return func(slot int32) float32 { return dot(q, v.at(slot)) }
	case driver.Euclid:
		return func(slot int32) float32 { return float32(math.Sqrt(float64(sqDist(q, v.at(slot))))) }
	default:
		qn := norm(q)
		return func(slot int32) float32 { return cosine(dot(q, v.at(slot)), qn, v.norms[slot]) }
	}
}

// readIDs reads points by ID, in the order asked.
func (c *collection) readIDs(r *driver.ReadRequest) *driver.Page {
	pg := &driver.Page{Points: make([]driver.Point, 0, len(r.IDs))}
	for _, id := range r.IDs {
		slot, ok := c.slotOf[id]
		if ok && r.Filter.Match(id, c.payloads[slot]) {
			pg.Points = append(pg.Points, c.point(slot, r.Payload, r.WithVectors))
		}
	}
	return pg
}

// scroll reads one page in ascending ID order.
func (c *collection) scroll(ctx context.Context, r *driver.ReadRequest) (*driver.Page, error) {
	if r.Limit <= 0 || r.Limit > driver.MaxLimit {
		return nil, driver.Errorf(driver.InvalidArgument, "page size must be 1 to %d", driver.MaxLimit)
	}
	var slots []int32 // up to Limit+1 matching slots after r.After, in ID order
	if cands, ok := c.candidates(r.Filter); ok && len(cands) <= len(c.slotOf)/8 {
		// A selective index: sort the few candidates instead of walking
		// the whole order.
		for i, slot := range cands {
			if i%ctxEvery == ctxEvery-1 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			id := c.ids[slot]
			if (r.After.IsZero() || id.Compare(r.After) > 0) && r.Filter.Match(id, c.payloads[slot]) {
				slots = append(slots, slot)
			}
		}
		slices.SortFunc(slots, func(a, b int32) int { return c.ids[a].Compare(c.ids[b]) })
		if len(slots) > r.Limit+1 {
			slots = slots[:r.Limit+1]
		}
	} else {
		order := c.sortedIDs()
		start := 0
		if !r.After.IsZero() {
			start, _ = slices.BinarySearchFunc(order, r.After, driver.PointID.Compare)
			if start < len(order) && order[start] == r.After {
				start++
			}
		}
		for i, id := range order[start:] {
			if i%ctxEvery == ctxEvery-1 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			slot, ok := c.slotOf[id]
			if ok && r.Filter.Match(id, c.payloads[slot]) {
				slots = append(slots, slot)
				if len(slots) > r.Limit {
					break
				}
			}
		}
	}
	pg := &driver.Page{}
	if len(slots) > r.Limit {
		slots = slots[:r.Limit]
		pg.Next = c.ids[slots[len(slots)-1]]
	}
	pg.Points = make([]driver.Point, len(slots))
	for i, slot := range slots {
		pg.Points[i] = c.point(slot, r.Payload, r.WithVectors)
	}
	return pg, nil
}

// sortedIDs returns every ID in scroll order, possibly with deleted IDs
// (callers look each up). Callers hold at least the read lock; the slice
// returned is never changed afterwards.
func (c *collection) sortedIDs() []driver.PointID {
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	if c.rebuild {
		all := make([]driver.PointID, 0, len(c.slotOf))
		for id := range c.slotOf {
			all = append(all, id)
		}
		slices.SortFunc(all, driver.PointID.Compare)
		c.order, c.pending, c.orderDead, c.rebuild = all, nil, 0, false
		return all
	}
	if len(c.pending) == 0 && c.orderDead <= len(c.order)/2 {
		return c.order
	}
	add := slices.Clone(c.pending)
	slices.SortFunc(add, driver.PointID.Compare)
	merged := make([]driver.PointID, 0, len(c.slotOf))
	i, j := 0, 0
	for i < len(c.order) || j < len(add) {
		var id driver.PointID
		switch {
		case j == len(add) || i < len(c.order) && c.order[i].Compare(add[j]) < 0:
			id = c.order[i]
			i++
		default:
			id = add[j]
			j++
		}
		if _, live := c.slotOf[id]; !live {
			continue
		}
		if n := len(merged); n > 0 && merged[n-1] == id {
			continue
		}
		merged = append(merged, id)
	}
	c.order, c.pending, c.orderDead = merged, nil, 0
	return merged
}
