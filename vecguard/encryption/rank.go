package encryption

import (
	"context"
	"encoding/binary"
	"errors"
	"math"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// StoredVectorsNeeded implements Ranker: with exact copies sealed (the
// default) a search ranks and opens its candidates from those copies, and
// the database need not send its stored vectors.
func (e *Encryptor) StoredVectorsNeeded() bool { return e.cfg.OmitExactVector }

// OpenRanked implements Ranker. With exact copies sealed it verifies and
// decrypts points as Open does, except for their stored vectors, which it
// does not read: the vectors it returns are the sealed exact copies, which
// the tag authenticates. What a tampered stored vector can still do is move
// its point in the database's ranking of candidates; the client rescores
// them from the exact copies, so it cannot change a returned score or
// vector. Get and Scroll, which return what the database stores, check the
// stored vectors (Open). Without exact copies, OpenRanked is Open.
func (e *Encryptor) OpenRanked(ctx context.Context, s Scope, points []driver.Point) error {
	if e.cfg.OmitExactVector {
		return e.Open(ctx, s, points)
	}
	if len(points) == 0 {
		return nil
	}
	kr, err := e.readKeyring(ctx, s, points)
	if err != nil {
		return err
	}
	return parallel(ctx, len(points), func(i int) error { return e.open(kr, s, &points[i], false) })
}

// RankVectors implements Ranker. With exact copies sealed (the default) a
// point's vector is read from its secrets: base64, AES-GCM (which
// authenticates them for the point ID and key version) and the vector list
// only; the tag, the stored vector and the payload fields are left to Open.
// Without exact copies it is the SAP decryption of the stored vector under
// the IV in the point's metadata, unauthenticated until Open checks the tag.
func (e *Encryptor) RankVectors(ctx context.Context, s Scope, vectorName string, points []driver.Point) ([][]float32, error) {
	out := make([][]float32, len(points))
	if len(points) == 0 {
		return out, nil
	}
	kr, err := e.readKeyring(ctx, s, points)
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, len(points), func(i int) error {
		v, err := e.rankVector(kr, s, vectorName, &points[i])
		out[i] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Encryptor) rankVector(kr *Keyring, s Scope, name string, p *driver.Point) ([]float32, error) {
	kv, ok := p.Payload[FieldKeyVersion].(int64)
	ms, ok2 := p.Payload[FieldMeta].(string)
	if !ok || !ok2 {
		return nil, dataLoss(p.ID, errNotSealed)
	}
	raw, err := b64.DecodeString(ms)
	if err != nil {
		return nil, dataLoss(p.ID, errMalformed)
	}
	m, err := parseMeta(raw)
	if err != nil || int64(m.version) != kv {
		return nil, dataLoss(p.ID, errMalformed)
	}
	vk, err := e.versionKeys(kr, s, m.version)
	if err != nil {
		var de *driver.Error
		if errors.As(err, &de) && de == errUnknownVersion {
			return nil, dataLoss(p.ID, errUnknownVersion)
		}
		return nil, err
	}
	at := -1
	for i := range m.vectors {
		if m.vectors[i].name == name {
			at = i
		}
	}
	if at < 0 {
		return nil, dataLoss(p.ID, errTag)
	}
	if m.flags&flagExact == 0 {
		if len(p.Vectors) == 0 {
			return nil, noExactCopy(p.ID) // not read: the caller asked for none
		}
		stored := p.Vectors[name]
		k, err := vk.sapKey(name)
		if err != nil {
			return nil, err
		}
		plain := make([]float32, len(stored))
		if len(stored) == 0 || k.Decrypt(plain, stored, &m.vectors[at].iv) != nil {
			return nil, dataLoss(p.ID, errTag)
		}
		return plain, nil
	}
	secStr, ok := p.Payload[FieldSecrets].(string)
	if !ok {
		return nil, dataLoss(p.ID, errSecrets)
	}
	var v []float32
	derr := vk.openSecrets(p.ID, m.version, secStr, func(pt []byte) error {
		if v = secretVector(pt, name); v == nil {
			return errSecrets
		}
		return nil
	})
	if derr != nil {
		return nil, dataLoss(p.ID, derr)
	}
	return v, nil
}

// secretVector returns a copy of the exact vector name from a secrets
// record (see secrets), or nil. It reads the vector list only; Open parses
// and checks the whole record.
func secretVector(b []byte, name string) []float32 {
	d := decoder{b: b}
	if d.byte() != secretsFormat {
		return nil
	}
	n := d.count(driver.MaxVectors)
	for i := 0; i < n && d.ok(); i++ {
		l := d.count(driver.MaxNameLen)
		if d.bad || len(d.b) < l {
			return nil
		}
		match := string(d.b[:l]) == name
		d.b = d.b[l:]
		dim := d.count(driver.MaxDim)
		if !d.ok() || dim == 0 || len(d.b) < 4*dim {
			return nil
		}
		if match {
			v := make([]float32, dim)
			for j := range v {
				v[j] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*j:]))
			}
			return v
		}
		d.b = d.b[4*dim:]
	}
	return nil
}
