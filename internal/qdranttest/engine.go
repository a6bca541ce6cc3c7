package qdranttest

import (
	"math"
	"slices"
	"sync"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// engine is the in-memory store behind the services: collections of points
// with named dense vectors and JSON-like payloads, searched exactly.
type engine struct {
	mu    sync.RWMutex
	colls map[string]*collection
	opID  uint64 // guarded by mu
}

type collection struct {
	name string

	mu       sync.RWMutex
	named    bool                            // created with a map of named vectors
	vectors  map[string]*qdrant.VectorParams // "" is the unnamed vector
	metadata map[string]*qdrant.Value
	indexes  map[string]*qdrant.PayloadSchemaInfo
	valueIdx map[string]*valueIndex // keyword and integer indexes on top-level keys
	points   map[pid]*point
	sorted   []pid // the IDs in order; nil when stale
}

// point is stored immutably: writes replace the vectors or payload maps
// instead of changing them, so responses may share them.
type point struct {
	id      pid
	vectors map[string][]float32
	payload map[string]*qdrant.Value
}

func newEngine() *engine { return &engine{colls: map[string]*collection{}} }

func (e *engine) nextOp() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opID++
	return e.opID
}

func collectionNotFound(name string) error {
	return status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
}

func (e *engine) get(name string) (*collection, error) {
	e.mu.RLock()
	c := e.colls[name]
	e.mu.RUnlock()
	if c == nil {
		return nil, collectionNotFound(name)
	}
	return c, nil
}

func (c *collection) ordered() []pid {
	if c.sorted == nil {
		ids := make([]pid, 0, len(c.points))
		for id := range c.points {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, pid.compare)
		c.sorted = ids
	}
	return c.sorted
}

func (c *collection) subjectOf(p *point) *subject {
	return &subject{id: p.id, hasID: true, payload: p.payload, vectors: p.vectors}
}

// matching returns the IDs of the points that match f, in ID order.
func (c *collection) matching(f pred) []pid {
	var out []pid
	for _, id := range c.ordered() {
		if f(c.subjectOf(c.points[id])) {
			out = append(out, id)
		}
	}
	return out
}

// selectPoints resolves a points selector. With strict, an ID list naming a
// missing point is an error, as Qdrant's payload and vector updates report.
func (c *collection) selectPoints(sel *qdrant.PointsSelector, strict bool) ([]pid, error) {
	switch s := sel.GetPointsSelectorOneOf().(type) {
	case *qdrant.PointsSelector_Points:
		ids, err := parseIDs(s.Points.GetIds())
		if err != nil {
			return nil, err
		}
		out := ids[:0]
		for _, id := range ids {
			if _, ok := c.points[id]; ok {
				out = append(out, id)
			} else if strict {
				return nil, status.Errorf(codes.NotFound, "Not found: No point with id %s found", idString(id))
			}
		}
		return out, nil
	case *qdrant.PointsSelector_Filter:
		f, err := compileFilter(s.Filter)
		if err != nil {
			return nil, err
		}
		return c.matching(f), nil
	}
	return nil, status.Error(codes.InvalidArgument, "Wrong input: points selector is empty")
}

func idString(id pid) string {
	p := id.proto()
	if u := p.GetUuid(); u != "" {
		return u
	}
	return uintString(p.GetNum())
}

func uintString(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// denseOf returns the dense data of a vector, in the current or the
// deprecated encoding.
func denseOf(v *qdrant.Vector) ([]float32, error) {
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		return x.Dense.GetData(), nil
	case nil:
		//lint:ignore SA1019 older clients send vectors in the deprecated fields
		data, sparse := v.Data, v.Indices != nil
		if sparse {
			return nil, unsupported("sparse vectors")
		}
		return data, nil
	}
	return nil, unsupported("sparse, multi-dense and inference vectors")
}

// vectorsOf checks and preprocesses the vectors of a point.
func (c *collection) vectorsOf(vs *qdrant.Vectors) (map[string][]float32, error) {
	out := map[string][]float32{}
	switch x := vs.GetVectorsOptions().(type) {
	case nil:
	case *qdrant.Vectors_Vector:
		d, err := denseOf(x.Vector)
		if err != nil {
			return nil, err
		}
		if err := c.putVector(out, "", d); err != nil {
			return nil, err
		}
	case *qdrant.Vectors_Vectors:
		for name, v := range x.Vectors.GetVectors() {
			d, err := denseOf(v)
			if err != nil {
				return nil, err
			}
			if err := c.putVector(out, name, d); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *collection) putVector(out map[string][]float32, name string, d []float32) error {
	params, ok := c.vectors[name]
	if !ok {
		return status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", name)
	}
	if uint64(len(d)) != params.GetSize() {
		return status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(d))
	}
	out[name] = preprocess(params.GetDistance(), d)
	return nil
}

// preprocess copies v, normalized for Cosine as Qdrant stores it.
func preprocess(d qdrant.Distance, v []float32) []float32 {
	out := append([]float32(nil), v...)
	if d != qdrant.Distance_Cosine {
		return out
	}
	var sum float32
	for _, x := range out {
		sum += x * x
	}
	n := float32(math.Sqrt(float64(sum)))
	if n < 1.1920929e-07 { // f32::EPSILON, as in Qdrant's cosine preprocessing
		return out
	}
	for i := range out {
		out[i] /= n
	}
	return out
}

func dot(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a) && i+4 <= len(b); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a) && i < len(b); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// score returns Qdrant's reported score: similarity for Cosine and Dot,
// distance for Euclid and Manhattan.
func score(d qdrant.Distance, q, v []float32) float32 {
	switch d {
	case qdrant.Distance_Euclid:
		var s float32
		for i := range q {
			x := q[i] - v[i]
			s += x * x
		}
		return float32(math.Sqrt(float64(s)))
	case qdrant.Distance_Manhattan:
		var s float32
		for i := range q {
			s += float32(math.Abs(float64(q[i] - v[i])))
		}
		return s
	}
	return dot(q, v)
}

// passes is Qdrant's Distance::check_threshold: strictly better than t.
func passes(higherBetter bool, score, t float32) bool {
	if higherBetter {
		return score > t
	}
	return score < t
}

func higherIsBetter(d qdrant.Distance) bool {
	return d == qdrant.Distance_Cosine || d == qdrant.Distance_Dot
}

// query is a nearest-neighbour search over one named vector.
type query struct {
	using       string
	vector      []float32 // preprocessed
	raw         *qdrant.Filter
	filter      pred
	exclude     map[pid]struct{}
	limit       int
	offset      int
	threshold   *float32
	withPayload *qdrant.WithPayloadSelector
	withVectors *qdrant.WithVectorsSelector
}

type hit struct {
	id    pid
	score float32
}

// search runs q exactly: every matching point is scored; ties are broken by
// ascending ID. Qdrant's score threshold is strict.
func (c *collection) search(q *query) ([]*qdrant.ScoredPoint, error) {
	params, ok := c.vectors[q.using]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", q.using)
	}
	if uint64(len(q.vector)) != params.GetSize() {
		return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(q.vector))
	}
	dist := params.GetDistance()
	hib := higherIsBetter(dist)
	better := func(a, b hit) bool {
		if a.score != b.score {
			if hib {
				return a.score > b.score
			}
			return a.score < b.score
		}
		return a.id.compare(b.id) < 0
	}
	k := q.offset + q.limit
	top := make([]hit, 0, k+1)
	// Filter first, then score, and visit only the points a payload index
	// allows: Qdrant too restricts a filtered search to the matching points
	// before it scores.
	s := new(subject) // reused: the predicate must not keep it
	visit := func(id pid, p *point) {
		v, ok := p.vectors[q.using]
		if !ok {
			return
		}
		if _, skip := q.exclude[id]; skip {
			return
		}
		*s = subject{id: id, hasID: true, payload: p.payload, vectors: p.vectors}
		if !q.filter(s) {
			return
		}
		h := hit{id: id, score: score(dist, q.vector, v)}
		if len(top) == k && !better(h, top[k-1]) {
			return
		}
		if q.threshold != nil && !passes(hib, h.score, *q.threshold) {
			return
		}
		i, _ := slices.BinarySearchFunc(top, h, func(a, b hit) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, i, h)
		if len(top) > k {
			top = top[:k]
		}
	}
	if ids, ok := c.candidates(q.raw); ok {
		for id := range ids {
			visit(id, c.points[id])
		}
	} else {
		for id, p := range c.points {
			visit(id, p)
		}
	}
	if q.offset >= len(top) {
		return nil, nil
	}
	top = top[q.offset:]
	out := make([]*qdrant.ScoredPoint, len(top))
	for i, h := range top {
		p := c.points[h.id]
		out[i] = &qdrant.ScoredPoint{
			Id:      h.id.proto(),
			Score:   h.score,
			Version: 1,
			Payload: selectPayload(p.payload, q.withPayload, false),
			Vectors: c.selectVectors(p, q.withVectors),
		}
	}
	return out, nil
}

// selectPayload applies a payload selector; def is the default when sel is nil.
func selectPayload(payload map[string]*qdrant.Value, sel *qdrant.WithPayloadSelector, def bool) map[string]*qdrant.Value {
	switch s := sel.GetSelectorOptions().(type) {
	case *qdrant.WithPayloadSelector_Enable:
		def = s.Enable
	case *qdrant.WithPayloadSelector_Include:
		out := map[string]*qdrant.Value{}
		for _, f := range s.Include.GetFields() {
			includePath(out, payload, f)
		}
		return out
	case *qdrant.WithPayloadSelector_Exclude:
		out := make(map[string]*qdrant.Value, len(payload))
		for k, v := range payload {
			out[k] = v
		}
		for _, f := range s.Exclude.GetFields() {
			removePath(out, f)
		}
		return out
	}
	if !def {
		return nil
	}
	out := make(map[string]*qdrant.Value, len(payload))
	for k, v := range payload {
		out[k] = v
	}
	return out
}

// objectKeys splits a path made only of object keys; ok is false for paths
// with array steps.
func objectKeys(s string) ([]string, bool) {
	p, err := parsePath(s)
	if err != nil {
		return nil, false
	}
	keys := []string{p.first}
	for _, it := range p.items {
		if it.wildcard || it.isIndex {
			return nil, false
		}
		keys = append(keys, it.key)
	}
	return keys, true
}

func includePath(dst, src map[string]*qdrant.Value, f string) {
	keys, ok := objectKeys(f)
	if !ok {
		return
	}
	v, ok := src[keys[0]]
	if !ok {
		return
	}
	if len(keys) == 1 {
		dst[keys[0]] = v
		return
	}
	obj, ok := v.GetKind().(*qdrant.Value_StructValue)
	if !ok {
		return
	}
	sub := map[string]*qdrant.Value{}
	if prev, ok := dst[keys[0]].GetKind().(*qdrant.Value_StructValue); ok {
		sub = prev.StructValue.GetFields()
	}
	rest := keys[1:]
	includePath(sub, obj.StructValue.GetFields(), joinKeys(rest))
	if len(sub) > 0 {
		dst[keys[0]] = qdrant.NewValueFromFields(sub)
	}
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += "."
		}
		s += `"` + k + `"`
	}
	return s
}

// removePath deletes a key path from m, copying nested objects on the way
// instead of changing shared ones. It reports whether anything was removed.
func removePath(m map[string]*qdrant.Value, f string) bool {
	keys, ok := objectKeys(f)
	if !ok {
		return false
	}
	if len(keys) == 1 {
		_, had := m[keys[0]]
		delete(m, keys[0])
		return had
	}
	v, ok := m[keys[0]]
	if !ok {
		return false
	}
	if _, ok := v.GetKind().(*qdrant.Value_StructValue); !ok {
		return false
	}
	cp := proto.Clone(v).(*qdrant.Value)
	if !removePath(cp.GetStructValue().GetFields(), joinKeys(keys[1:])) {
		return false
	}
	m[keys[0]] = cp
	return true
}

func (c *collection) selectVectors(p *point, sel *qdrant.WithVectorsSelector) *qdrant.VectorsOutput {
	var names []string
	switch s := sel.GetSelectorOptions().(type) {
	case *qdrant.WithVectorsSelector_Enable:
		if !s.Enable {
			return nil
		}
		for n := range p.vectors {
			names = append(names, n)
		}
	case *qdrant.WithVectorsSelector_Include:
		names = s.Include.GetNames()
	default:
		return nil
	}
	out := func(v []float32) *qdrant.VectorOutput {
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Dense{Dense: &qdrant.DenseVector{Data: v}}}
	}
	if !c.named {
		v, ok := p.vectors[""]
		if !ok {
			return nil
		}
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: out(v)}}
	}
	m := map[string]*qdrant.VectorOutput{}
	for _, n := range names {
		if v, ok := p.vectors[n]; ok {
			m[n] = out(v)
		}
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: m}}}
}

func (c *collection) retrieved(p *point, wp *qdrant.WithPayloadSelector, wv *qdrant.WithVectorsSelector) *qdrant.RetrievedPoint {
	return &qdrant.RetrievedPoint{
		Id:      p.id.proto(),
		Payload: selectPayload(p.payload, wp, true),
		Vectors: c.selectVectors(p, wv),
	}
}

// put stores a point, invalidating the ID order when the ID is new.
func (c *collection) put(p *point) {
	old, ok := c.points[p.id]
	if !ok {
		c.sorted = nil
	}
	c.reindex(old, p)
	c.points[p.id] = p
}

func (c *collection) remove(id pid) {
	if old, ok := c.points[id]; ok {
		c.reindex(old, nil)
		delete(c.points, id)
		c.sorted = nil
	}
}

// withPayload returns a copy of p with a new payload.
func (p *point) withPayload(m map[string]*qdrant.Value) *point {
	return &point{id: p.id, vectors: p.vectors, payload: m}
}

func copyPayload(m map[string]*qdrant.Value) map[string]*qdrant.Value {
	out := make(map[string]*qdrant.Value, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
