package memory

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Record operations (the first byte of a record body).
const (
	opCreate     = 1
	opDrop       = 2
	opUpsert     = 3
	opDelete     = 4
	opSetPayload = 5
	opEnd        = 6 // last record of a snapshot
)

// Value tags of encoded payload values.
const (
	tagNull   = 0
	tagString = 1
	tagInt    = 2
	tagFloat  = 3
	tagFalse  = 4
	tagTrue   = 5
	tagList   = 6
	tagMap    = 7
)

// ID tags.
const (
	idTagNum  = 1
	idTagUUID = 2
)

// encoder builds one frame: 8 bytes reserved for the frame header (see
// frame), then the record body.
type encoder struct{ b []byte }

func newEncoder(size int) *encoder { return &encoder{b: make([]byte, frameHeader, frameHeader+size)} }

func (e *encoder) byte(c byte)      { e.b = append(e.b, c) }
func (e *encoder) uvarint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *encoder) varint(n int64)   { e.b = binary.AppendVarint(e.b, n) }
func (e *encoder) u64(n uint64)     { e.b = binary.LittleEndian.AppendUint64(e.b, n) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) f32s(v []float32) {
	e.uvarint(uint64(len(v)))
	for _, x := range v {
		e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(x))
	}
}

func (e *encoder) id(id driver.PointID) {
	if id.IsUUID() {
		e.byte(idTagUUID)
		b := id.UUIDBytes()
		e.b = append(e.b, b[:]...)
		return
	}
	e.byte(idTagNum)
	e.uvarint(id.Num())
}

func (e *encoder) ids(ids []driver.PointID) {
	e.uvarint(uint64(len(ids)))
	for _, id := range ids {
		e.id(id)
	}
}

func (e *encoder) value(v any) {
	switch t := v.(type) {
	case nil:
		e.byte(tagNull)
	case string:
		e.byte(tagString)
		e.str(t)
	case int64:
		e.byte(tagInt)
		e.varint(t)
	case float64:
		e.byte(tagFloat)
		e.u64(math.Float64bits(t))
	case bool:
		if t {
			e.byte(tagTrue)
		} else {
			e.byte(tagFalse)
		}
	case []any:
		e.byte(tagList)
		e.uvarint(uint64(len(t)))
		for _, x := range t {
			e.value(x)
		}
	case map[string]any:
		e.byte(tagMap)
		e.payload(t)
	default:
		// Payloads are normalized before they reach the codec.
		panic("memory: unnormalized payload value")
	}
}

// payload writes a map with its keys sorted, so equal states encode alike.
func (e *encoder) payload(m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.value(m[k])
	}
}

func encodeCreate(spec *driver.CollectionSpec) []byte {
	e := newEncoder(64)
	e.byte(opCreate)
	e.str(spec.Name)
	e.uvarint(uint64(len(spec.Vectors)))
	for _, v := range spec.Vectors {
		e.str(v.Name)
		e.uvarint(uint64(v.Dim))
		e.byte(byte(v.Distance))
	}
	e.uvarint(uint64(len(spec.Fields)))
	for _, f := range spec.Fields {
		e.str(f.Name)
		e.byte(byte(f.Kind))
		if f.Filterable {
			e.byte(1)
		} else {
			e.byte(0)
		}
	}
	e.str(spec.TenantField)
	return frame(e.b)
}

func encodeDrop(name string) []byte {
	e := newEncoder(64)
	e.byte(opDrop)
	e.str(name)
	return frame(e.b)
}

// encodeUpsert encodes points whose vectors are in the spec's order.
func encodeUpsert(name string, pts []driver.Point) []byte {
	size := 16 + len(name)
	for i := range pts {
		for _, v := range pts[i].Vectors {
			size += 4*len(v) + 8
		}
	}
	e := newEncoder(size)
	e.byte(opUpsert)
	e.str(name)
	e.uvarint(uint64(len(pts)))
	for i := range pts {
		p := &pts[i]
		e.id(p.ID)
		names := make([]string, 0, len(p.Vectors))
		for n := range p.Vectors {
			names = append(names, n)
		}
		slices.Sort(names)
		e.uvarint(uint64(len(names)))
		for _, n := range names {
			e.str(n)
			e.f32s(p.Vectors[n])
		}
		if p.Payload == nil {
			e.byte(0)
		} else {
			e.byte(1)
			e.payload(p.Payload)
		}
	}
	return frame(e.b)
}

func encodeDelete(name string, ids []driver.PointID) []byte {
	e := newEncoder(64)
	e.byte(opDelete)
	e.str(name)
	e.ids(ids)
	return frame(e.b)
}

func encodeSetPayload(name string, ids []driver.PointID, set map[string]any, unset []string) []byte {
	e := newEncoder(64)
	e.byte(opSetPayload)
	e.str(name)
	e.ids(ids)
	e.payload(set)
	e.uvarint(uint64(len(unset)))
	for _, k := range unset {
		e.str(k)
	}
	return frame(e.b)
}

func encodeEnd(records uint64) []byte {
	e := newEncoder(64)
	e.byte(opEnd)
	e.uvarint(records)
	return frame(e.b)
}

// errMalformed is returned for a record body that does not decode.
var errMalformed = errors.New("malformed record")

// decoder reads the fields of a record body. The first error sticks; every
// length is checked against the bytes left before anything is allocated.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errMalformed
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) varint() int64 {
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return n
}

// count reads a length of items that take at least min bytes each.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	n := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return n
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) f32s() []float32 {
	n := d.count(4)
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*i:]))
	}
	d.b = d.b[4*n:]
	return v
}

func (d *decoder) id() driver.PointID {
	switch d.byte() {
	case idTagNum:
		return driver.NumID(d.uvarint())
	case idTagUUID:
		if len(d.b) < 16 {
			d.fail()
			return driver.PointID{}
		}
		var u [16]byte
		copy(u[:], d.b)
		d.b = d.b[16:]
		return driver.UUIDFromBytes(u)
	}
	d.fail()
	return driver.PointID{}
}

func (d *decoder) ids() []driver.PointID {
	n := d.count(2)
	ids := make([]driver.PointID, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ids = append(ids, d.id())
	}
	return ids
}

func (d *decoder) value(depth int) any {
	if depth > driver.MaxPayloadDepth+1 {
		d.fail()
		return nil
	}
	switch d.byte() {
	case tagNull:
		return nil
	case tagString:
		return d.str()
	case tagInt:
		return d.varint()
	case tagFloat:
		f := math.Float64frombits(d.u64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail()
		}
		return f
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagList:
		n := d.count(1)
		l := make([]any, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			l = append(l, d.value(depth+1))
		}
		return l
	case tagMap:
		return d.payload(depth + 1)
	}
	d.fail()
	return nil
}

func (d *decoder) payload(depth int) map[string]any {
	n := d.count(2)
	m := make(map[string]any, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.value(depth)
	}
	return m
}

// record is a decoded record body.
type record struct {
	op     byte
	name   string
	spec   *driver.CollectionSpec // create
	points []driver.Point         // upsert
	ids    []driver.PointID       // delete, set payload
	set    map[string]any         // set payload
	unset  []string               // set payload
	count  uint64                 // end
}

// decodeRecord decodes a record body. It checks the encoding, not the
// meaning: replay checks that the operation applies.
func decodeRecord(b []byte) (*record, error) {
	d := &decoder{b: b}
	r := &record{op: d.byte()}
	switch r.op {
	case opCreate:
		s := &driver.CollectionSpec{Name: d.str()}
		n := d.count(3)
		for i := 0; i < n && d.err == nil; i++ {
			v := driver.VectorSpec{Name: d.str()}
			dim := d.uvarint()
			if dim > driver.MaxDim {
				d.fail()
			}
			v.Dim, v.Distance = int(dim), driver.Distance(d.byte())
			s.Vectors = append(s.Vectors, v)
		}
		n = d.count(3)
		for i := 0; i < n && d.err == nil; i++ {
			f := driver.FieldSpec{Name: d.str(), Kind: driver.Kind(d.byte())}
			f.Filterable = d.byte() == 1
			s.Fields = append(s.Fields, f)
		}
		s.TenantField = d.str()
		r.name, r.spec = s.Name, s
	case opDrop:
		r.name = d.str()
	case opUpsert:
		r.name = d.str()
		n := d.count(3)
		r.points = make([]driver.Point, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			p := driver.Point{ID: d.id()}
			nv := d.count(2)
			p.Vectors = make(map[string][]float32, nv)
			for j := 0; j < nv && d.err == nil; j++ {
				name := d.str()
				p.Vectors[name] = d.f32s()
			}
			if d.byte() == 1 {
				p.Payload = d.payload(1)
			}
			r.points = append(r.points, p)
		}
	case opDelete:
		r.name = d.str()
		r.ids = d.ids()
	case opSetPayload:
		r.name = d.str()
		r.ids = d.ids()
		r.set = d.payload(1)
		n := d.count(1)
		for i := 0; i < n && d.err == nil; i++ {
			r.unset = append(r.unset, d.str())
		}
	case opEnd:
		r.count = d.uvarint()
	default:
		d.fail()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail() // trailing bytes
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}
