package encryption

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead/subtle"
	daead "github.com/tink-crypto/tink-go/v2/daead/subtle"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption/sap"
)

// Encryptor is the Protector of one collection: SAP for vectors, AES-GCM and
// AES-SIV (Tink) for payload fields, HMAC-SHA256 tags over each point, keys
// from a KeyProvider. Build one with New and put it in
// vecguard.Options.Encryption under the collection's name. An Encryptor is
// safe for concurrent use.
type Encryptor struct {
	keys KeyProvider
	cfg  Config
	det  []string // the Deterministic fields, sorted
}

var (
	_ Protector   = (*Encryptor)(nil)
	_ Oversampler = (*Encryptor)(nil)
	_ Migrator    = (*Encryptor)(nil)
	_ Ranker      = (*Encryptor)(nil)
)

// New returns an Encryptor that takes its keys from keys and is configured
// by cfg (see Config for the zero value).
func New(keys KeyProvider, cfg Config) (*Encryptor, error) {
	if keys == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "encryption: no key provider")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	e := &Encryptor{keys: keys, cfg: cfg}
	for name, mode := range cfg.Fields {
		if mode == Deterministic {
			e.det = append(e.det, name)
		}
	}
	slices.Sort(e.det)
	return e, nil
}

// Config returns the effective configuration (defaults filled in).
func (e *Encryptor) Config() Config {
	c := e.cfg
	c.Fields = make(map[string]FieldMode, len(e.cfg.Fields))
	for k, v := range e.cfg.Fields {
		c.Fields[k] = v
	}
	return c
}

// Candidates implements Oversampler.
func (e *Encryptor) Candidates(limit int) int { return limit * e.cfg.Oversample }

// StoredSpec implements Protector. It refuses an encrypted tenant field, a
// Deterministic field that is not a declared string field, and a Randomized
// field declared filterable; it adds FieldKeyVersion (filterable int),
// FieldMeta and FieldSecrets.
func (e *Encryptor) StoredSpec(spec *driver.CollectionSpec) (*driver.CollectionSpec, error) {
	for name, mode := range e.cfg.Fields {
		if name == spec.TenantField {
			return nil, driver.Errorf(driver.InvalidArgument, "encryption: the tenant field %q cannot be encrypted", name)
		}
		f, declared := spec.Field(name)
		switch mode {
		case Deterministic:
			if !declared || f.Kind != driver.KindString {
				return nil, driver.Errorf(driver.InvalidArgument, "encryption: deterministic field %q must be a declared string field", name)
			}
		case Randomized:
			if declared && f.Filterable {
				return nil, driver.Errorf(driver.InvalidArgument, "encryption: field %q is filterable: encrypt it Deterministic or declare it not filterable", name)
			}
		}
	}
	out := spec.Clone()
	for _, f := range out.Fields {
		if isReserved(f.Name) {
			return nil, driver.Errorf(driver.InvalidArgument, "encryption: field %q is reserved", f.Name)
		}
	}
	out.Fields = append(out.Fields,
		driver.FieldSpec{Name: FieldKeyVersion, Kind: driver.KindInt, Filterable: true},
		driver.FieldSpec{Name: FieldMeta, Kind: driver.KindString},
		driver.FieldSpec{Name: FieldSecrets, Kind: driver.KindString},
	)
	if err := out.Validate(true); err != nil {
		return nil, err
	}
	return out, nil
}

// Errors the Encryptor returns.
var (
	errUnknownVersion = driver.Errorf(driver.DataLoss, "encryption: sealed under a key version this scope does not have (destroyed, retired, or another tenant's)")
	errTag            = driver.Errorf(driver.DataLoss, "encryption: tag mismatch: the point was changed outside vecguard or sealed under another key")
	errNotSealed      = driver.Errorf(driver.DataLoss, "encryption: the point carries no vecguard metadata")
)

func dataLoss(id driver.PointID, base *driver.Error) error {
	return &driver.Error{Code: base.Code, Msg: base.Msg + " (point " + id.String() + ")"}
}

var b64 = base64.RawURLEncoding.Strict()

// versionKeys are the subkeys of one (scope, version), derived once.
type versionKeys struct {
	kr      *Keyring
	s       Scope
	version uint32
	ivKey   []byte
	tagKey  []byte
	daead   *daead.AESSIV
	aead    *subtle.AESGCM
	gcm     cipher.AEAD // the same key as aead: Tink's format with no prefix, opened in place
	beta    float64
	sap     sync.Map // vector name -> *sap.Key
}

type subkeyID struct {
	tenant, collection string
	version            uint32
	beta               float64
}

// versionKeys returns the cached subkeys of (s, version).
func (e *Encryptor) versionKeys(kr *Keyring, s Scope, version uint32) (*versionKeys, error) {
	id := subkeyID{s.Tenant, s.Collection, version, e.cfg.Beta}
	if vk, ok := kr.cache.Load(id); ok {
		return vk.(*versionKeys), nil
	}
	if !kr.Has(version) {
		return nil, errUnknownVersion
	}
	vk := &versionKeys{kr: kr, s: s, version: version, beta: e.cfg.Beta}
	var err error
	if vk.ivKey, err = kr.derive(s, purposeIV, "", version, 32); err != nil {
		return nil, err
	}
	if vk.tagKey, err = kr.derive(s, purposeTag, "", version, 32); err != nil {
		return nil, err
	}
	k, err := kr.derive(s, purposeDAEAD, "", version, daead.AESSIVKeySize)
	if err != nil {
		return nil, err
	}
	if vk.daead, err = daead.NewAESSIV(k); err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: AES-SIV key")
	}
	if k, err = kr.derive(s, purposeAEAD, "", version, 32); err != nil {
		return nil, err
	}
	if vk.aead, err = subtle.NewAESGCM(k); err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: AES-GCM key")
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: AES-GCM key")
	}
	if vk.gcm, err = cipher.NewGCM(block); err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: AES-GCM key")
	}
	got, _ := kr.cache.LoadOrStore(id, vk)
	return got.(*versionKeys), nil
}

// sapKey returns the SAP key of a named vector: the AES-256 PRF key and the
// scale s = 1 + 1023·u, u = (be64(8 derived bytes) >> 11)·2^-53, so s is in
// [1, 1024).
func (vk *versionKeys) sapKey(name string) (*sap.Key, error) {
	if k, ok := vk.sap.Load(name); ok {
		return k.(*sap.Key), nil
	}
	prf, err := vk.kr.derive(vk.s, purposeSAP, name, vk.version, sap.KeySize)
	if err != nil {
		return nil, err
	}
	sb, err := vk.kr.derive(vk.s, purposeScale, name, vk.version, 8)
	if err != nil {
		return nil, err
	}
	u := float64(binary.BigEndian.Uint64(sb)>>11) * 0x1p-53
	k, err := sap.NewKey(prf, sap.Params{Scale: 1 + float64(1023*u), Beta: vk.beta})
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "encryption: SAP key")
	}
	got, _ := vk.sap.LoadOrStore(name, k)
	return got.(*sap.Key), nil
}

// iv returns the IV of a vector: random, or the synthetic IV
// HMAC-SHA256(ivKey, lp(domain) ‖ lp(name) ‖ be32(d) ‖ le32 bits of each
// component)[:16], where domain is "vecguard point iv v1" for stored vectors
// and "vecguard query iv v1" for queries.
func (e *Encryptor) iv(vk *versionKeys, domain, name string, v []float32) ([sap.IVSize]byte, error) {
	var iv [sap.IVSize]byte
	if e.cfg.RandomIV {
		if _, err := rand.Read(iv[:]); err != nil {
			return iv, driver.Wrap(driver.Internal, err, "encryption: no randomness")
		}
		return iv, nil
	}
	m := hmac.New(sha256.New, vk.ivKey)
	bp := getBuf()
	b := lp(lp((*bp)[:0], domain), name)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	b = appendFloats(m, b, v)
	m.Write(b)
	copy(iv[:], m.Sum(b[:0]))
	putBuf(bp, b)
	return iv, nil
}

// f32Pool holds the buffers Open re-encrypts exact vectors into.
var f32Pool = sync.Pool{New: func() any { return new([]float32) }}

// bufPool holds the scratch buffers hashing goes through (a buffer on the
// stack would escape through hash.Hash.Write).
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(p *[]byte, b []byte) {
	if cap(b) <= 1<<16 {
		*p = b[:0]
		bufPool.Put(p)
	}
}

// appendFloats appends the little-endian binary32 bits of v to b, writing
// b to h and starting over whenever it is full; it returns what is left.
func appendFloats(h hash.Hash, b []byte, v []float32) []byte {
	for _, x := range v {
		if len(b)+4 > cap(b) {
			h.Write(b)
			b = b[:0]
		}
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

const (
	domainPointIV = "vecguard point iv v1"
	domainQueryIV = "vecguard query iv v1"
	domainTag     = "vecguard tag v1"
	domainSecrets = "vecguard secrets v1"
	domainDet     = "vecguard det v1"
)

func lp(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// secretsAD is the associated data of a point's sealed secrets.
func secretsAD(s Scope, id driver.PointID, version uint32) []byte {
	b := lp(nil, domainSecrets)
	b = lp(b, s.Collection)
	b = lp(b, id.String())
	return binary.BigEndian.AppendUint32(b, version)
}

// detAD is the associated data of a deterministic field: equal values of
// one field give equal ciphertexts within a (scope, version), different
// fields never do.
func detAD(s Scope, field string) []byte {
	return lp(lp(lp(nil, domainDet), s.Collection), field)
}

// encryptDet returns the stored form of a deterministic field value.
func (vk *versionKeys) encryptDet(field, v string) (string, error) {
	ct, err := vk.daead.EncryptDeterministically(encodeDet(v), detAD(vk.s, field))
	if err != nil {
		return "", driver.Wrap(driver.Internal, err, "encryption: AES-SIV")
	}
	return b64.EncodeToString(ct), nil
}

// openSecrets decodes and decrypts a point's sealed secrets (Tink's
// AES-GCM format: 12-byte nonce, ciphertext, 16-byte tag) in a pooled
// buffer, calls read with the plaintext and zeroes it. It returns
// errSecrets when the base64 is malformed or read fails, and errTag when
// authentication fails.
func (vk *versionKeys) openSecrets(id driver.PointID, version uint32, secStr string, read func(pt []byte) error) *driver.Error {
	bp := getBuf()
	// The encoded string is copied behind the room for the decoded bytes:
	// one pooled buffer for both.
	dl := b64.DecodedLen(len(secStr))
	b := append(slices.Grow((*bp)[:0], dl+len(secStr))[:dl], secStr...)
	n, err := b64.Decode(b[:dl], b[dl:])
	if err != nil {
		putBuf(bp, b)
		return errSecrets
	}
	ct := b[:n]
	if n < gcmNonceSize+gcmTagSize {
		putBuf(bp, b)
		return errTag
	}
	pt, err := vk.gcm.Open(ct[gcmNonceSize:gcmNonceSize], ct[:gcmNonceSize], ct[gcmNonceSize:], secretsAD(vk.s, id, version))
	if err != nil {
		clear(ct)
		putBuf(bp, b)
		return errTag
	}
	err = read(pt)
	clear(ct)
	putBuf(bp, b)
	if err != nil {
		return errSecrets
	}
	return nil
}

// The sizes of Tink's AES-GCM format.
const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)

// tag computes a point's tag: HMAC-SHA256 under the tag key of
//
//	lp("vecguard tag v1") ‖ lp(collection) ‖ lp(point ID) ‖ metadata without its tag ‖
//	lp(FieldSecrets string, "" when absent) ‖ be32(number of deterministic fields) ‖
//	per deterministic field, ascending: lp(name) ‖ byte 1 and lp(stored string), or byte 0 when absent ‖
//	unless exact vectors are sealed, per vector in metadata order: be32(d) ‖ le32 bits of each component
//
// Vectors are left out when their exact copy is sealed: Open checks them
// against that copy instead (a database may normalize them).
func (e *Encryptor) tag(vk *versionKeys, id driver.PointID, metaNoTag []byte, sec string, det []string, detVals []any, m *meta, vecs map[string][]float32) ([tagSize]byte, error) {
	h := hmac.New(sha256.New, vk.tagKey)
	bp := getBuf()
	b := lp(lp(lp((*bp)[:0], domainTag), vk.s.Collection), id.String())
	b = append(b, metaNoTag...)
	b = lp(b, sec)
	b = binary.BigEndian.AppendUint32(b, uint32(len(det)))
	var out [tagSize]byte
	for i, name := range det {
		b = lp(b, name)
		switch v := detVals[i].(type) {
		case nil:
			b = append(b, 0)
		case string:
			b = lp(append(b, 1), v)
		default:
			putBuf(bp, b)
			return out, errTag
		}
	}
	if m.flags&flagExact == 0 {
		for _, v := range m.vectors {
			c := vecs[v.name]
			b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
			b = appendFloats(h, b, c)
		}
	}
	h.Write(b)
	h.Sum(out[:0])
	putBuf(bp, b)
	return out, nil
}

// keyring fetches the scope's keyring.
func (e *Encryptor) keyring(ctx context.Context, s Scope) (*Keyring, error) {
	kr, err := e.keys.Keyring(ctx, s)
	if err != nil {
		return nil, err
	}
	if kr == nil {
		return nil, driver.Errorf(driver.Internal, "encryption: the key provider returned no keyring")
	}
	return kr, nil
}

// Seal implements Protector: it returns encrypted copies of points under
// the scope's primary key version.
func (e *Encryptor) Seal(ctx context.Context, s Scope, points []driver.Point) ([]driver.Point, error) {
	kr, err := e.keyring(ctx, s)
	if err != nil {
		return nil, err
	}
	vk, err := e.versionKeys(kr, s, kr.Primary())
	if err != nil {
		return nil, err
	}
	out := make([]driver.Point, len(points))
	err = parallel(ctx, len(points), func(i int) error {
		p, err := e.seal(vk, &points[i])
		out[i] = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Encryptor) seal(vk *versionKeys, p *driver.Point) (driver.Point, error) {
	out := driver.Point{ID: p.ID, Vectors: make(map[string][]float32, len(p.Vectors)), Payload: make(map[string]any, len(p.Payload)+3)}
	if len(p.Vectors) == 0 || len(p.Vectors) > driver.MaxVectors {
		return out, driver.Errorf(driver.InvalidArgument, "encryption: point %s needs 1 to %d vectors", p.ID, driver.MaxVectors)
	}
	m := meta{version: vk.version}
	if !e.cfg.OmitExactVector {
		m.flags |= flagExact
	}
	if e.cfg.RandomIV {
		m.flags |= flagRandomIV
	}
	sec := secrets{}
	for _, name := range sortedKeys(p.Vectors) {
		v := p.Vectors[name]
		if name == "" || len(name) > driver.MaxNameLen || len(v) == 0 || len(v) > sap.MaxDim {
			return out, driver.Errorf(driver.InvalidArgument, "encryption: point %s has an invalid vector", p.ID)
		}
		k, err := vk.sapKey(name)
		if err != nil {
			return out, err
		}
		iv, err := e.iv(vk, domainPointIV, name, v)
		if err != nil {
			return out, err
		}
		c := make([]float32, len(v))
		if err := k.Encrypt(c, v, &iv); err != nil {
			return out, driver.Errorf(driver.InvalidArgument, "encryption: point %s has an invalid vector", p.ID)
		}
		out.Vectors[name] = c
		m.vectors = append(m.vectors, vectorIV{name: name, iv: iv})
		if m.flags&flagExact != 0 {
			if sec.vectors == nil {
				sec.vectors = map[string][]float32{}
			}
			sec.vectors[name] = v // read only, until marshal below
		}
	}
	detVals := make([]any, len(e.det))
	for key, v := range p.Payload {
		if isReserved(key) {
			return out, driver.Errorf(driver.InvalidArgument, "encryption: payload key %q is reserved", key)
		}
		switch e.cfg.Fields[key] {
		case Plain:
			out.Payload[key] = v
		case Randomized:
			if v != nil {
				if sec.fields == nil {
					sec.fields = map[string]any{}
				}
				sec.fields[key] = v
			}
		case Deterministic:
			if v == nil {
				continue
			}
			str, ok := v.(string)
			if !ok {
				return out, driver.Errorf(driver.InvalidArgument, "encryption: deterministic field %q must hold strings", key)
			}
			ct, err := vk.encryptDet(key, str)
			if err != nil {
				return out, err
			}
			out.Payload[key] = ct
			detVals[slices.Index(e.det, key)] = ct
		}
	}
	secStr := ""
	if sec.vectors != nil || sec.fields != nil {
		bp := getBuf()
		pt := sec.marshal((*bp)[:0])
		ct, err := vk.aead.Encrypt(pt, secretsAD(vk.s, p.ID, vk.version))
		clear(pt)
		putBuf(bp, pt)
		if err != nil {
			return out, driver.Wrap(driver.Internal, err, "encryption: AES-GCM")
		}
		secStr = b64.EncodeToString(ct)
		out.Payload[FieldSecrets] = secStr
	}
	enc := m.marshal()
	t, err := e.tag(vk, p.ID, enc[:len(enc)-tagSize], secStr, e.det, detVals, &m, out.Vectors)
	if err != nil {
		return out, err
	}
	copy(enc[len(enc)-tagSize:], t[:])
	out.Payload[FieldKeyVersion] = int64(vk.version)
	out.Payload[FieldMeta] = b64.EncodeToString(enc)
	return out, nil
}

// Open implements Protector: it authenticates and decrypts points in place.
// A point that fails is an error (DataLoss), never garbage.
func (e *Encryptor) Open(ctx context.Context, s Scope, points []driver.Point) error {
	if len(points) == 0 {
		return nil
	}
	kr, err := e.readKeyring(ctx, s, points)
	if err != nil {
		return err
	}
	return parallel(ctx, len(points), func(i int) error { return e.open(kr, s, &points[i], true) })
}

// readKeyring fetches the scope's keyring to read points with. A version
// the cached keyring lacks may come from a rotation in another process:
// it refreshes once.
func (e *Encryptor) readKeyring(ctx context.Context, s Scope, points []driver.Point) (*Keyring, error) {
	kr, err := e.keyring(ctx, s)
	if err != nil {
		return nil, err
	}
	if r, ok := e.keys.(Refresher); ok {
		for i := range points {
			if v, ok := points[i].Payload[FieldKeyVersion].(int64); ok && v > 0 && v <= math.MaxUint32 && !kr.Has(uint32(v)) {
				return r.Refresh(ctx, s)
			}
		}
	}
	return kr, nil
}

// open authenticates and decrypts one point. With checkStored false the
// point was read without its stored vectors (OpenRanked): those are not
// checked, and a point without sealed exact copies fails.
func (e *Encryptor) open(kr *Keyring, s Scope, p *driver.Point, checkStored bool) error {
	kv, ok := p.Payload[FieldKeyVersion].(int64)
	ms, ok2 := p.Payload[FieldMeta].(string)
	if !ok || !ok2 {
		return dataLoss(p.ID, errNotSealed)
	}
	raw, err := b64.DecodeString(ms)
	if err != nil {
		return dataLoss(p.ID, errMalformed)
	}
	m, err := parseMeta(raw)
	if err != nil {
		return dataLoss(p.ID, errMalformed)
	}
	if int64(m.version) != kv {
		return dataLoss(p.ID, errMalformed)
	}
	vk, err := e.versionKeys(kr, s, m.version)
	if err != nil {
		var de *driver.Error
		if errors.As(err, &de) && de == errUnknownVersion {
			return dataLoss(p.ID, errUnknownVersion)
		}
		return err
	}
	exact := m.flags&flagExact != 0
	if !checkStored && !exact {
		return noExactCopy(p.ID)
	}
	if checkStored {
		if len(p.Vectors) != len(m.vectors) {
			return dataLoss(p.ID, errTag)
		}
		for _, v := range m.vectors {
			if _, ok := p.Vectors[v.name]; !ok {
				return dataLoss(p.ID, errTag)
			}
		}
	}
	secStr := ""
	if v, present := p.Payload[FieldSecrets]; present && v != nil {
		if secStr, ok = v.(string); !ok {
			return dataLoss(p.ID, errTag)
		}
	}
	detVals := make([]any, len(e.det))
	for i, name := range e.det {
		detVals[i] = p.Payload[name]
	}
	want, err := e.tag(vk, p.ID, raw[:len(raw)-tagSize], secStr, e.det, detVals, m, p.Vectors)
	if err != nil || !hmac.Equal(want[:], m.tag[:]) {
		return dataLoss(p.ID, errTag)
	}
	// Authentic from here on; decrypt.
	var sec *secrets
	if secStr != "" {
		derr := vk.openSecrets(p.ID, m.version, secStr, func(pt []byte) error {
			var err error
			sec, err = parseSecrets(pt) // the parsed values are copies
			return err
		})
		if derr != nil {
			return dataLoss(p.ID, derr)
		}
	} else {
		sec = &secrets{}
	}
	if exact && len(sec.vectors) != len(m.vectors) {
		return dataLoss(p.ID, errSecrets)
	}
	if !exact && len(sec.vectors) != 0 {
		return dataLoss(p.ID, errSecrets)
	}
	vecs := make(map[string][]float32, len(m.vectors))
	for _, v := range m.vectors {
		k, err := vk.sapKey(v.name)
		if err != nil {
			return err
		}
		stored := p.Vectors[v.name]
		if !exact {
			plain := make([]float32, len(stored))
			if err := k.Decrypt(plain, stored, &v.iv); err != nil {
				return dataLoss(p.ID, errTag)
			}
			vecs[v.name] = plain
			continue
		}
		plain, ok := sec.vectors[v.name]
		if !ok {
			return dataLoss(p.ID, errSecrets)
		}
		if !checkStored {
			// The tag covers the sealed secrets and with them this copy;
			// the stored vector was not read.
			vecs[v.name] = plain
			continue
		}
		if len(plain) != len(stored) {
			return dataLoss(p.ID, errSecrets)
		}
		ep := f32Pool.Get().(*[]float32)
		expect := slices.Grow((*ep)[:0], len(plain))[:len(plain)]
		match := k.Encrypt(expect, plain, &v.iv) == nil && storedMatches(stored, expect)
		*ep = expect[:0]
		f32Pool.Put(ep)
		if !match {
			return dataLoss(p.ID, errStoredVector)
		}
		vecs[v.name] = plain
	}
	payload := make(map[string]any, len(p.Payload)+len(sec.fields))
	for key, v := range p.Payload {
		if isReserved(key) {
			continue
		}
		if e.cfg.Fields[key] == Deterministic && v != nil {
			str, ok := v.(string)
			if !ok {
				return dataLoss(p.ID, errTag)
			}
			ct, err := b64.DecodeString(str)
			if err != nil {
				return dataLoss(p.ID, errTag)
			}
			pt, err := vk.daead.DecryptDeterministically(ct, detAD(s, key))
			if err != nil {
				return dataLoss(p.ID, errTag)
			}
			if v, ok = decodeDet(pt); !ok {
				return dataLoss(p.ID, errTag)
			}
		}
		payload[key] = v
	}
	for key, v := range sec.fields {
		if _, clash := payload[key]; clash {
			return dataLoss(p.ID, errTag)
		}
		payload[key] = v
	}
	p.Vectors = vecs
	p.Payload = payload
	return nil
}

var errStoredVector = driver.Errorf(driver.DataLoss, "encryption: the stored vector does not match its sealed exact copy")

// ErrNoExactCopy is in the chain of the DataLoss error of OpenRanked and
// RankVectors for a point that holds no sealed exact vectors (sealed with
// Config.OmitExactVector) when its stored vectors were not read: read it
// again with them (Ranker.StoredVectorsNeeded reports the configuration,
// not what older points hold).
var ErrNoExactCopy = errors.New("encryption: the point holds no sealed exact vectors; read it with its stored vectors")

func noExactCopy(id driver.PointID) error {
	return &driver.Error{Code: driver.DataLoss, Msg: "point " + id.String(), Err: ErrNoExactCopy}
}

// storedMatches reports whether the database's copy of a vector is the
// ciphertext vecguard wrote, bit for bit, or that ciphertext normalized to
// unit length as databases do for Cosine: there must be one factor t > 0
// with t·‖expect‖ = 1 ± 1e-4 such that every stored coordinate is
// expect[i]·t rounded to binary32 (one rounding per coordinate). The set of
// such t is the intersection of one interval per coordinate, so the test is
// exact; any change to a verbatim copy fails it.
func storedMatches(stored, expect []float32) bool {
	if len(stored) != len(expect) {
		return false
	}
	same := true
	for i := range stored {
		if math.Float32bits(stored[i]) != math.Float32bits(expect[i]) {
			same = false
			break
		}
	}
	if same {
		return true
	}
	lo, hi := 0.0, math.Inf(1)
	var cc float64
	for i, s := range stored {
		c := float64(expect[i])
		bits := math.Float32bits(s)
		exp := bits >> 23 & 0xff
		if exp == 0xff { // Inf or NaN
			return false
		}
		if c == 0 {
			if s != 0 {
				return false
			}
			continue
		}
		cc += c * c
		// The reals that round to s lie between the midpoints to its
		// neighbours: half a gap each way, the gap towards zero halved when
		// |s| is a power of two.
		up := 0x1p-149
		if exp > 0 {
			up = math.Float64frombits(uint64(exp+1023-150) << 52) // 2^(exp-150)
		}
		down := up
		if bits&0x7fffff == 0 && exp > 1 {
			down = up / 2
		}
		f := float64(s)
		a, b := f-down/2, f+up/2
		if bits>>31 != 0 {
			a, b = f-up/2, f+down/2
		}
		r := 1 / c
		ta, tb := a*r, b*r
		if c < 0 {
			ta, tb = tb, ta
		}
		lo, hi = max(lo, ta), min(hi, tb)
	}
	// The slack covers the rounding of a·(1/c) against a/c.
	if !(cc > 0) || !(lo <= hi*(1+1e-12)) || math.IsInf(hi, 0) {
		return false
	}
	t := (lo + hi) / 2
	return math.Abs(t*math.Sqrt(cc)-1) <= 1e-4
}

// Queries implements Protector: the query encrypted under every active key
// version, primary first, each with the filter that selects that version's
// points.
func (e *Encryptor) Queries(ctx context.Context, s Scope, vectorName string, v []float32) ([]EncryptedQuery, error) {
	kr, err := e.keyring(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]EncryptedQuery, 0, len(kr.versions))
	for _, version := range kr.versions {
		vk, err := e.versionKeys(kr, s, version)
		if err != nil {
			return nil, err
		}
		k, err := vk.sapKey(vectorName)
		if err != nil {
			return nil, err
		}
		iv, err := e.iv(vk, domainQueryIV, vectorName, v)
		if err != nil {
			return nil, err
		}
		c := make([]float32, len(v))
		if err := k.Encrypt(c, v, &iv); err != nil {
			return nil, driver.Errorf(driver.InvalidArgument, "encryption: invalid query vector")
		}
		out = append(out, EncryptedQuery{Vector: c, Filter: driver.Eq(FieldKeyVersion, driver.Int(int64(version)))})
	}
	return out, nil
}

// RewriteFilter implements Protector: Eq, Ne, In and NotIn on Deterministic
// fields become In / NotIn over the value's ciphertext under every active
// key version; any other condition on an encrypted field, and any condition
// on a reserved field, is refused with InvalidArgument.
func (e *Encryptor) RewriteFilter(ctx context.Context, s Scope, f *driver.Filter) (*driver.Filter, error) {
	if f == nil {
		return nil, nil
	}
	var vks []*versionKeys
	needKeys := false
	f.Walk(func(n *driver.Filter) { needKeys = needKeys || e.cfg.Fields[n.Field] == Deterministic })
	if needKeys {
		kr, err := e.keyring(ctx, s)
		if err != nil {
			return nil, err
		}
		for _, v := range kr.versions {
			vk, err := e.versionKeys(kr, s, v)
			if err != nil {
				return nil, err
			}
			vks = append(vks, vk)
		}
	}
	return e.rewrite(f, vks)
}

func (e *Encryptor) rewrite(f *driver.Filter, vks []*versionKeys) (*driver.Filter, error) {
	switch f.Op {
	case driver.OpAnd, driver.OpOr, driver.OpNot:
		c := *f
		c.Children = make([]*driver.Filter, len(f.Children))
		for i, ch := range f.Children {
			if ch == nil {
				return nil, driver.Errorf(driver.InvalidArgument, "filter: nil operand")
			}
			r, err := e.rewrite(ch, vks)
			if err != nil {
				return nil, err
			}
			c.Children[i] = r
		}
		return &c, nil
	case driver.OpHasID:
		return f.Clone(), nil
	}
	if isReserved(f.Field) {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: field %q is reserved", f.Field)
	}
	switch e.cfg.Fields[f.Field] {
	case Randomized:
		return nil, driver.Errorf(driver.InvalidArgument, "filter: field %q is encrypted with randomized encryption and cannot be filtered on", f.Field)
	case Deterministic:
	default:
		return f.Clone(), nil
	}
	var values []driver.Value
	switch f.Op {
	case driver.OpExists, driver.OpIsNull:
		return f.Clone(), nil
	case driver.OpEq, driver.OpNe:
		values = []driver.Value{f.Value}
	case driver.OpIn, driver.OpNotIn:
		values = f.Values
	case driver.OpRange:
		return nil, driver.Errorf(driver.InvalidArgument, "filter: range on encrypted field %q is not supported: deterministic encryption keeps equality only", f.Field)
	default:
		return nil, driver.Errorf(driver.InvalidArgument, "filter: unsupported condition on encrypted field %q", f.Field)
	}
	if len(values)*len(vks) > driver.MaxFilterValues {
		return nil, driver.Errorf(driver.InvalidArgument, "filter: too many values on encrypted field %q for %d key versions", f.Field, len(vks))
	}
	cts := make([]driver.Value, 0, len(values)*len(vks))
	for _, v := range values {
		if v.Kind() != driver.KindString {
			return nil, driver.Errorf(driver.InvalidArgument, "filter: encrypted field %q holds strings", f.Field)
		}
		for _, vk := range vks {
			ct, err := vk.encryptDet(f.Field, v.Str())
			if err != nil {
				return nil, err
			}
			cts = append(cts, driver.String(ct))
		}
	}
	if f.Op == driver.OpEq || f.Op == driver.OpIn {
		return driver.In(f.Field, cts...), nil
	}
	return driver.NotIn(f.Field, cts...), nil
}

// parallel runs fn(0..n-1), on several goroutines when n is large enough to
// pay for them, and returns the first error. Every fn here (seal, open,
// rank one point) costs microseconds, more than starting a goroutine, so
// two points per worker are enough: a search opening its 10 results uses
// every core.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/2)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int, n)
	)
	for i := range n {
		next <- i
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for i := range next {
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if stop || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
