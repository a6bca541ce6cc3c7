package driver

import "context"

// Projection selects the payload fields a read returns.
type Projection struct {
	All    bool     // every field
	Fields []string // when !All: only these fields (none when empty)
}

// Wants reports whether the projection includes field.
func (p Projection) Wants(field string) bool {
	if p.All {
		return true
	}
	for _, f := range p.Fields {
		if f == field {
			return true
		}
	}
	return false
}

// Apply returns the projected payload: payload itself (not a copy) when All,
// a new map of the wanted fields otherwise (nil when nothing is wanted).
// Nested values are shared with payload either way.
func (p Projection) Apply(payload map[string]any) map[string]any {
	if p.All {
		return payload
	}
	if len(p.Fields) == 0 || payload == nil {
		return nil
	}
	out := make(map[string]any, len(p.Fields))
	for _, f := range p.Fields {
		if v, ok := payload[f]; ok {
			out[f] = v
		}
	}
	return out
}

// Query is a nearest-neighbour search.
type Query struct {
	Vector     []float32 // the query vector, already checked against the spec
	VectorName string    // which named vector; never empty when a driver sees it
	Limit      int       // top-k, 1..MaxLimit
	Offset     int       // results to skip
	Filter     *Filter   // nil: all points
	// ScoreThreshold, when non-nil, drops results worse than it: below it for
	// Cosine and Dot, above it for Euclid.
	ScoreThreshold *float32
	Payload        Projection
	WithVectors    bool
}

// ReadRequest reads points by ID or scrolls through them in ID order.
type ReadRequest struct {
	// IDs, when non-nil, reads exactly these points (those that exist and
	// match Filter), in the order given; Limit and After are ignored.
	IDs    []PointID
	Filter *Filter
	// Limit is the page size of a scroll (1..MaxLimit).
	Limit int
	// After, when not zero, starts the scroll after this ID (exclusive).
	After       PointID
	Payload     Projection
	WithVectors bool
}

// Page is one page of a scroll. Next is the zero ID at the end.
type Page struct {
	Points []Point
	Next   PointID // the last ID of this page when more may follow
}

// Selector picks the points of a delete or payload update: those whose ID is
// in IDs (when IDs is non-nil) and that match Filter. A nil IDs with a nil
// Filter selects every point; the client never sends that unless asked to.
type Selector struct {
	IDs    []PointID
	Filter *Filter
}

// Driver is implemented by each database adapter. Drivers return raw errors
// (or *Error values); the client classifies them (see ErrorClassifier) and
// wraps them exactly once. Drivers do no authorization, encryption or audit:
// the client does all of that before and after calling them.
type Driver interface {
	// CreateCollection creates a collection; AlreadyExists if it exists.
	CreateCollection(ctx context.Context, spec *CollectionSpec) error
	// DescribeCollection returns a collection's spec; NotFound if none.
	DescribeCollection(ctx context.Context, name string) (*CollectionSpec, error)
	// ListCollections lists collection names in lexical order.
	ListCollections(ctx context.Context) ([]string, error)
	// DropCollection deletes a collection and its points; NotFound if none.
	DropCollection(ctx context.Context, name string) error
	// Collection returns the data operations of an existing collection
	// described by spec. It does no I/O.
	Collection(spec *CollectionSpec) Collection
}

// Collection holds the data operations of one collection. The client has
// validated every argument against the spec before a call.
type Collection interface {
	// Upsert inserts or replaces whole points.
	Upsert(ctx context.Context, points []Point) error
	// Search returns the nearest points to q.Vector that match q.Filter,
	// best first. Exact drivers return the exact top-k.
	Search(ctx context.Context, q *Query) ([]ScoredPoint, error)
	// Read gets points by ID or scrolls a page in ascending ID order.
	Read(ctx context.Context, r *ReadRequest) (*Page, error)
	// Count counts the points that match f, exactly.
	Count(ctx context.Context, f *Filter) (int64, error)
	// Delete deletes the selected points.
	Delete(ctx context.Context, sel *Selector) error
}

// PayloadUpdater is an optional interface of a Collection: it sets and
// deletes payload keys of the selected points in place. Without it, the
// client reads, changes and upserts the points.
type PayloadUpdater interface {
	UpdatePayload(ctx context.Context, sel *Selector, set map[string]any, unset []string) error
}

// SystemNamer is an optional interface of a Driver: the lowercase name of
// the database for telemetry (db.system.name), e.g. "qdrant". Without it
// the client reports "other_sql"-style "unknown".
type SystemNamer interface {
	SystemName() string
}
