package encryption

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption/sap"
)

// This file holds the binary formats vecguard stores in reserved payload
// fields. Every decoder is strict: one encoding per value, no trailing
// bytes, bounded sizes.

// Reserved payload fields of an encrypted point.
const (
	// FieldKeyVersion holds the key version as an int; it is declared
	// filterable so searches can fan out per version.
	FieldKeyVersion = driver.ReservedPrefix + "_kv"
	// FieldMeta holds the metadata record: format, key version, the IV of
	// each vector and the point's tag (base64url, no padding).
	FieldMeta = driver.ReservedPrefix + "_meta"
	// FieldSecrets holds the AES-256-GCM ciphertext of the point's secrets:
	// the randomized fields and, unless omitted, the exact vectors.
	FieldSecrets = driver.ReservedPrefix + "_sec"
)

const (
	metaFormat    = 1
	secretsFormat = 1
	tagSize       = 32
	// flagExact is set when the secrets hold the exact vectors.
	flagExact = 1 << 0
	// flagRandomIV is set when the IVs are random rather than synthetic.
	flagRandomIV = 1 << 1
	// secretsPad is the granularity the secrets are padded to.
	secretsPad = 64
	// detPad is the granularity deterministic plaintexts are padded to.
	detPad = 16
)

// vectorIV is one vector's entry in the metadata.
type vectorIV struct {
	name string
	iv   [sap.IVSize]byte
}

// meta is the decoded metadata record:
//
//	byte   format (1)
//	be32   key version (non-zero, equal to the _vg_kv field)
//	byte   flags (bit 0: exact vectors sealed in the secrets; bit 1: random IVs)
//	byte   number of vectors n (1..16)
//	n ×    byte name length (1..64), name, 16-byte IV   (names strictly ascending)
//	32     tag
type meta struct {
	version uint32
	flags   byte
	vectors []vectorIV
	tag     [tagSize]byte
}

// marshal returns the record; the tag occupies the last tagSize bytes.
func (m *meta) marshal() []byte {
	n := 7 + tagSize
	for _, v := range m.vectors {
		n += 1 + len(v.name) + sap.IVSize
	}
	b := make([]byte, 0, n)
	b = append(b, metaFormat)
	b = binary.BigEndian.AppendUint32(b, m.version)
	b = append(b, m.flags, byte(len(m.vectors)))
	for _, v := range m.vectors {
		b = append(b, byte(len(v.name)))
		b = append(b, v.name...)
		b = append(b, v.iv[:]...)
	}
	return append(b, m.tag[:]...)
}

var errMalformed = driver.Errorf(driver.DataLoss, "encryption: malformed metadata")

// parseMeta decodes a metadata record.
func parseMeta(b []byte) (*meta, error) {
	if len(b) < 7+tagSize || b[0] != metaFormat {
		return nil, errMalformed
	}
	m := &meta{version: binary.BigEndian.Uint32(b[1:5]), flags: b[5]}
	n := int(b[6])
	if m.version == 0 || m.flags&^(flagExact|flagRandomIV) != 0 || n == 0 || n > driver.MaxVectors {
		return nil, errMalformed
	}
	rest := b[7 : len(b)-tagSize]
	for range n {
		if len(rest) < 1 {
			return nil, errMalformed
		}
		l := int(rest[0])
		if l == 0 || l > driver.MaxNameLen || len(rest) < 1+l+sap.IVSize {
			return nil, errMalformed
		}
		v := vectorIV{name: string(rest[1 : 1+l])}
		copy(v.iv[:], rest[1+l:1+l+sap.IVSize])
		if k := len(m.vectors); k > 0 && m.vectors[k-1].name >= v.name {
			return nil, errMalformed
		}
		m.vectors = append(m.vectors, v)
		rest = rest[1+l+sap.IVSize:]
	}
	if len(rest) != 0 {
		return nil, errMalformed
	}
	copy(m.tag[:], b[len(b)-tagSize:])
	return m, nil
}

// secrets is the plaintext sealed in FieldSecrets:
//
//	byte     format (1)
//	uvarint  number of exact vectors; each: uvarint name length, name,
//	         uvarint dimension, dimension × little-endian binary32
//	uvarint  number of fields; each: uvarint name length, name, value
//	zeros    padding to a multiple of 64 bytes
//
// Names are strictly ascending in each list; values use the value encoding
// (encodeValue).
type secrets struct {
	vectors map[string][]float32
	fields  map[string]any
}

// marshal appends the record to b.
func (s *secrets) marshal(b []byte) []byte {
	size := 64
	for n, v := range s.vectors {
		size += 20 + len(n) + 4*len(v)
	}
	b = slices.Grow(b, size)
	b = append(b, secretsFormat)
	names := sortedKeys(s.vectors)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		v := s.vectors[n]
		b = appendString(b, n)
		b = binary.AppendUvarint(b, uint64(len(v)))
		at := len(b)
		b = b[:at+4*len(v)]
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[at+4*i:], math.Float32bits(x))
		}
	}
	names = sortedKeys(s.fields)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendString(b, n)
		b = encodeValue(b, s.fields[n])
	}
	return pad(b, secretsPad)
}

var errSecrets = driver.Errorf(driver.DataLoss, "encryption: malformed sealed secrets")

func parseSecrets(b []byte) (*secrets, error) {
	d := decoder{b: b}
	if d.byte() != secretsFormat {
		return nil, errSecrets
	}
	s := &secrets{}
	n := d.count(driver.MaxVectors)
	for i := 0; i < n && d.ok(); i++ {
		name := d.string(driver.MaxNameLen)
		dim := d.count(driver.MaxDim)
		if !d.ok() || dim == 0 || len(d.b) < 4*dim {
			return nil, errSecrets
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*j:]))
		}
		d.b = d.b[4*dim:]
		if s.vectors == nil {
			s.vectors = map[string][]float32{}
		}
		if _, dup := s.vectors[name]; dup || (d.last != "" && name <= d.last) {
			return nil, errSecrets
		}
		d.last = name
		s.vectors[name] = v
	}
	d.last = ""
	n = d.count(driver.MaxFields)
	for i := 0; i < n && d.ok(); i++ {
		name := d.string(4 * driver.MaxNameLen)
		if d.last != "" && name <= d.last || name == "" {
			return nil, errSecrets
		}
		d.last = name
		v := d.value(0)
		if s.fields == nil {
			s.fields = map[string]any{}
		}
		s.fields[name] = v
	}
	if !d.ok() || !d.padding(secretsPad, len(b)) {
		return nil, errSecrets
	}
	return s, nil
}

// Value encoding: a tag byte, then
//
//	0 null   1 string (uvarint length, bytes)   2 int64 (zig-zag varint)
//	3 float64 (8 bytes little-endian IEEE 754)   4 false   5 true
//	6 list (uvarint count, values)   7 map (uvarint count, then per entry
//	  uvarint key length, key, value; keys strictly ascending)
//
// Values are payload values as driver.NormalizePayload leaves them.
const (
	tagNull = iota
	tagString
	tagInt
	tagFloat
	tagFalse
	tagTrue
	tagList
	tagMap
)

func encodeValue(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, tagNull)
	case string:
		return appendString(append(b, tagString), t)
	case int64:
		return binary.AppendVarint(append(b, tagInt), t)
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(t))
	case bool:
		if t {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(t)))
		for _, e := range t {
			b = encodeValue(b, e)
		}
		return b
	case map[string]any:
		keys := sortedKeys(t)
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(keys)))
		for _, k := range keys {
			b = encodeValue(appendString(b, k), t[k])
		}
		return b
	}
	// Payloads are normalized before they are sealed; anything else is a
	// bug in the caller.
	panic("encryption: unnormalized payload value")
}

// decoder reads the formats above; the first error sticks.
type decoder struct {
	b    []byte
	bad  bool
	last string
}

func (d *decoder) ok() bool { return !d.bad }

func (d *decoder) byte() byte {
	if d.bad || len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a uvarint that must be at most limit.
func (d *decoder) count(limit int) int {
	v := d.uvarint()
	if v > uint64(limit) {
		d.bad = true
		return 0
	}
	return int(v)
}

func (d *decoder) string(limit int) string {
	n := d.count(limit)
	if d.bad || len(d.b) < n {
		d.bad = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) value(depth int) any {
	if depth > driver.MaxPayloadDepth {
		d.bad = true
		return nil
	}
	switch d.byte() {
	case tagNull:
		return nil
	case tagString:
		return d.string(driver.MaxStringLen * 16)
	case tagInt:
		if d.bad {
			return nil
		}
		v, n := binary.Varint(d.b)
		if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
			d.bad = true
			return nil
		}
		d.b = d.b[n:]
		return v
	case tagFloat:
		if d.bad || len(d.b) < 8 {
			d.bad = true
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.bad = true
			return nil
		}
		return f
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagList:
		n := d.count(len(d.b)) // every element takes at least a byte
		out := make([]any, 0, n)
		for i := 0; i < n && !d.bad; i++ {
			out = append(out, d.value(depth+1))
		}
		return out
	case tagMap:
		n := d.count(len(d.b))
		out := make(map[string]any, n)
		last := ""
		for i := 0; i < n && !d.bad; i++ {
			k := d.string(4 * driver.MaxNameLen)
			if k == "" || (i > 0 && k <= last) {
				d.bad = true
				return nil
			}
			last = k
			out[k] = d.value(depth + 1)
		}
		return out
	}
	d.bad = true
	return nil
}

// padding checks that what is left is zeros that bring the total to a
// multiple of unit, fewer than unit of them.
func (d *decoder) padding(unit, total int) bool {
	if len(d.b) >= unit || total%unit != 0 {
		return false
	}
	for _, c := range d.b {
		if c != 0 {
			return false
		}
	}
	return true
}

// encodeDet is the plaintext of a deterministically encrypted string:
// uvarint length, the bytes, zeros to a multiple of 16 bytes.
func encodeDet(s string) []byte {
	return pad(appendString(nil, s), detPad)
}

func decodeDet(b []byte) (string, bool) {
	d := decoder{b: b}
	s := d.string(driver.MaxStringLen * 16)
	if !d.ok() || !d.padding(detPad, len(b)) {
		return "", false
	}
	return s, true
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func pad(b []byte, unit int) []byte {
	return append(b, make([]byte, (unit-len(b)%unit)%unit)...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
