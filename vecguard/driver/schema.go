package driver

import (
	"math"
	"sort"
	"unicode/utf8"
)

// Distance is the similarity metric of a vector field.
type Distance uint8

// The distance metrics. Scores are similarities (higher is better) for Cosine
// and Dot, and distances (lower is better) for Euclid, as Qdrant reports them.
const (
	Cosine Distance = iota + 1
	Dot
	Euclid
)

func (d Distance) String() string {
	switch d {
	case Cosine:
		return "cosine"
	case Dot:
		return "dot"
	case Euclid:
		return "euclid"
	}
	return "invalid"
}

// HigherIsBetter reports whether larger scores are better matches.
func (d Distance) HigherIsBetter() bool { return d != Euclid }

// Kind is the type of a payload field or of a filter value.
type Kind uint8

// The kinds of payload fields and filter values.
const (
	KindInvalid Kind = iota
	KindString
	KindInt
	KindFloat
	KindBool
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	}
	return "invalid"
}

// Limits on what a request may carry. Larger input is refused with
// InvalidArgument before anything reaches the database.
const (
	MaxDim          = 65536
	MaxNameLen      = 64
	MaxVectors      = 16
	MaxFields       = 256
	MaxBatch        = 10000
	MaxLimit        = 10000
	MaxStringLen    = 1 << 16
	MaxFilterNodes  = 1024
	MaxFilterDepth  = 32
	MaxFilterValues = 4096
	MaxPayloadDepth = 16
)

// ReservedPrefix starts every field name that vecguard itself stores (key
// versions, IVs, tags). User schemas and payloads cannot use it.
const ReservedPrefix = "_vg"

// VectorSpec declares one named dense vector of a collection.
type VectorSpec struct {
	Name     string
	Dim      int
	Distance Distance
}

// FieldSpec declares one payload field. Only declared, filterable fields may
// appear in filters; undeclared payload keys are stored but not filterable.
type FieldSpec struct {
	Name       string
	Kind       Kind
	Filterable bool
}

// CollectionSpec describes a collection: its vectors, its payload schema and
// its tenant field.
type CollectionSpec struct {
	Name    string
	Vectors []VectorSpec // at least one; the first is the default
	Fields  []FieldSpec
	// TenantField, when set, names a declared filterable string field that
	// holds the tenant of each point. vecguard isolates tenants on it.
	TenantField string
}

// Clone returns a deep copy of s.
func (s *CollectionSpec) Clone() *CollectionSpec {
	c := *s
	c.Vectors = append([]VectorSpec(nil), s.Vectors...)
	c.Fields = append([]FieldSpec(nil), s.Fields...)
	return &c
}

// Vector returns the vector spec named name; "" names the default vector.
func (s *CollectionSpec) Vector(name string) (VectorSpec, bool) {
	if name == "" && len(s.Vectors) > 0 {
		return s.Vectors[0], true
	}
	for _, v := range s.Vectors {
		if v.Name == name {
			return v, true
		}
	}
	return VectorSpec{}, false
}

// Field returns the field spec named name.
func (s *CollectionSpec) Field(name string) (FieldSpec, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// FilterField implements Schema.
func (s *CollectionSpec) FilterField(name string) (Kind, bool) {
	f, ok := s.Field(name)
	if !ok || !f.Filterable {
		return KindInvalid, false
	}
	return f.Kind, true
}

// ValidName reports whether name is a valid collection, vector or field name:
// 1 to 64 characters of ASCII letters, digits, '_' and '-', starting with a letter.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		case i > 0 && c == '-':
		default:
			return false
		}
	}
	return true
}

// ValidFieldName reports whether name may name a payload field: like
// ValidName but without '-', and '_' may lead (for reserved fields).
func ValidFieldName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

func isReserved(name string) bool {
	return len(name) >= len(ReservedPrefix) && name[:len(ReservedPrefix)] == ReservedPrefix
}

// Validate checks a collection spec. allowReserved permits fields under
// ReservedPrefix (vecguard's own schema additions).
func (s *CollectionSpec) Validate(allowReserved bool) error {
	if !ValidName(s.Name) {
		return Errorf(InvalidArgument, "invalid collection name")
	}
	if len(s.Vectors) == 0 || len(s.Vectors) > MaxVectors {
		return Errorf(InvalidArgument, "a collection needs 1 to %d vectors", MaxVectors)
	}
	seen := map[string]bool{}
	for _, v := range s.Vectors {
		if !ValidFieldName(v.Name) || isReserved(v.Name) {
			return Errorf(InvalidArgument, "invalid vector name %q", v.Name)
		}
		if seen[v.Name] {
			return Errorf(InvalidArgument, "duplicate vector name %q", v.Name)
		}
		seen[v.Name] = true
		if v.Dim <= 0 || v.Dim > MaxDim {
			return Errorf(InvalidArgument, "vector %q: dimension must be 1 to %d", v.Name, MaxDim)
		}
		if v.Distance < Cosine || v.Distance > Euclid {
			return Errorf(InvalidArgument, "vector %q: invalid distance", v.Name)
		}
	}
	if len(s.Fields) > MaxFields {
		return Errorf(InvalidArgument, "at most %d fields", MaxFields)
	}
	seen = map[string]bool{}
	for _, f := range s.Fields {
		if !ValidFieldName(f.Name) || (!allowReserved && isReserved(f.Name)) {
			return Errorf(InvalidArgument, "invalid field name %q", f.Name)
		}
		if seen[f.Name] {
			return Errorf(InvalidArgument, "duplicate field %q", f.Name)
		}
		seen[f.Name] = true
		if f.Kind < KindString || f.Kind > KindBool {
			return Errorf(InvalidArgument, "field %q: invalid kind", f.Name)
		}
	}
	if s.TenantField != "" {
		f, ok := s.Field(s.TenantField)
		if !ok || f.Kind != KindString || !f.Filterable {
			return Errorf(InvalidArgument, "tenant field %q must be a declared filterable string field", s.TenantField)
		}
	}
	return nil
}

// Point is one stored record: an ID, named vectors and a payload.
type Point struct {
	ID      PointID
	Vectors map[string][]float32
	Payload map[string]any
}

// ScoredPoint is a search result.
type ScoredPoint struct {
	Point
	Score float32
}

// Clone returns a deep copy of p.
func (p *Point) Clone() Point {
	c := Point{ID: p.ID}
	if p.Vectors != nil {
		c.Vectors = make(map[string][]float32, len(p.Vectors))
		for k, v := range p.Vectors {
			c.Vectors[k] = append([]float32(nil), v...)
		}
	}
	c.Payload = ClonePayload(p.Payload)
	return c
}

// ClonePayload returns a deep copy of a payload of normalized values.
func ClonePayload(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return ClonePayload(t)
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = cloneValue(e)
		}
		return c
	}
	return v
}

// NormalizePayload returns a copy of a payload whose values are all of the
// normalized types: nil, string, int64, float64, bool, []any and
// map[string]any (recursively). Integer types become int64, float32 becomes
// float64. Other types, NaN and infinities, non-UTF-8-safe keys and nesting
// deeper than MaxPayloadDepth are refused with InvalidArgument.
func NormalizePayload(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	out, err := normalizeMap(m, 0)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func normalizeMap(m map[string]any, depth int) (map[string]any, error) {
	if depth > MaxPayloadDepth {
		return nil, Errorf(InvalidArgument, "payload nested too deeply")
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k == "" || len(k) > MaxNameLen*4 || !utf8.ValidString(k) {
			return nil, Errorf(InvalidArgument, "invalid payload key")
		}
		nv, err := NormalizeValue(v, depth)
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	return out, nil
}

// NormalizeValue normalizes one payload value (see NormalizePayload).
func NormalizeValue(v any, depth int) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		if len(t) > MaxStringLen*16 {
			return nil, Errorf(InvalidArgument, "payload string too long")
		}
		return t, nil
	case bool:
		return t, nil
	case int:
		return int64(t), nil
	case int8:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case int64:
		return t, nil
	case uint8:
		return int64(t), nil
	case uint16:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		if uint64(t) > math.MaxInt64 {
			return nil, Errorf(InvalidArgument, "payload integer out of range")
		}
		return int64(t), nil
	case uint64:
		if t > math.MaxInt64 {
			return nil, Errorf(InvalidArgument, "payload integer out of range")
		}
		return int64(t), nil
	case float32:
		if math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) {
			return nil, Errorf(InvalidArgument, "payload number is NaN or infinite")
		}
		return float64(t), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, Errorf(InvalidArgument, "payload number is NaN or infinite")
		}
		return t, nil
	case []any:
		if depth >= MaxPayloadDepth {
			return nil, Errorf(InvalidArgument, "payload nested too deeply")
		}
		out := make([]any, len(t))
		for i, e := range t {
			ne, err := NormalizeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ne
		}
		return out, nil
	case []string:
		out := make([]any, len(t))
		for i, e := range t {
			if len(e) > MaxStringLen*16 {
				return nil, Errorf(InvalidArgument, "payload string too long")
			}
			out[i] = e
		}
		return out, nil
	case map[string]any:
		return normalizeMap(t, depth+1)
	}
	return nil, Errorf(InvalidArgument, "unsupported payload value type %T", v)
}

// CheckPayload checks normalized payload values against the declared schema:
// a declared field must hold a value of its kind (an int is accepted for a
// float field and converted) or nil. Reserved keys are refused unless
// allowReserved. It converts ints in float fields in place.
func (s *CollectionSpec) CheckPayload(p map[string]any, allowReserved bool) error {
	for k, v := range p {
		if !allowReserved && isReserved(k) {
			return Errorf(InvalidArgument, "payload key %q is reserved", k)
		}
		f, ok := s.Field(k)
		if !ok || v == nil {
			continue
		}
		switch f.Kind {
		case KindString:
			if _, ok := v.(string); !ok {
				return Errorf(InvalidArgument, "field %q must be a string", k)
			}
		case KindInt:
			if _, ok := v.(int64); !ok {
				return Errorf(InvalidArgument, "field %q must be an integer", k)
			}
		case KindFloat:
			switch t := v.(type) {
			case float64:
			case int64:
				p[k] = float64(t)
			default:
				return Errorf(InvalidArgument, "field %q must be a number", k)
			}
		case KindBool:
			if _, ok := v.(bool); !ok {
				return Errorf(InvalidArgument, "field %q must be a bool", k)
			}
		}
	}
	return nil
}

// CheckVector checks a vector against its spec: the dimension matches and
// every component is finite.
func CheckVector(spec VectorSpec, v []float32) error {
	if len(v) != spec.Dim {
		return Errorf(InvalidArgument, "vector %q: dimension %d, want %d", spec.Name, len(v), spec.Dim)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return Errorf(InvalidArgument, "vector %q has a NaN or infinite component", spec.Name)
		}
	}
	return nil
}

// SortIDs sorts ids in scroll order.
func SortIDs(ids []PointID) {
	sort.Slice(ids, func(i, j int) bool { return ids[i].Compare(ids[j]) < 0 })
}
