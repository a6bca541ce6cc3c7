package milvus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// The undeclared part of a payload travels as JSON in the payload column.
// Integers are written without a fraction and floats always with one (2.0,
// not 2), so that int64 values come back as int64 and float64 values as
// float64.

// appendJSON appends the JSON of a normalized payload value to b.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		if !utf8.ValidString(t) {
			return nil, driver.Errorf(driver.InvalidArgument, "payload strings must be valid UTF-8 to be stored in Milvus")
		}
		s, _ := json.Marshal(t)
		return append(b, s...), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, driver.Errorf(driver.InvalidArgument, "payload number is NaN or infinite")
		}
		start := len(b)
		b = strconv.AppendFloat(b, t, 'g', -1, 64)
		if !bytes.ContainsAny(b[start:], ".eE") {
			b = append(b, ".0"...)
		}
		return b, nil
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, k); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, t[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, driver.Errorf(driver.InvalidArgument, "unsupported payload value type %T", v)
}

var errBadJSON = driver.Errorf(driver.DataLoss, "stored payload is not valid JSON")

// decodeJSON decodes what appendJSON wrote: numbers with a fraction or an
// exponent become float64, the others int64.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errBadJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errBadJSON
	}
	return typedJSON(v)
}

func typedJSON(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		s := string(t)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, errBadJSON
			}
			return f, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64) // an integer beyond int64, written by someone else
		if err != nil {
			return nil, errBadJSON
		}
		return f, nil
	case []any:
		for i, e := range t {
			x, err := typedJSON(e)
			if err != nil {
				return nil, err
			}
			t[i] = x
		}
		return t, nil
	case map[string]any:
		for k, e := range t {
			x, err := typedJSON(e)
			if err != nil {
				return nil, err
			}
			t[k] = x
		}
		return t, nil
	}
	return v, nil
}

// encodePoints returns the columns of an upsert of pts, which must have
// distinct IDs.
func (c *collection) encodePoints(pts []driver.Point) ([]column.Column, error) {
	n := len(pts)
	keys := make([]string, n)
	vecs := make([][][]float32, len(c.spec.Vectors))
	for i := range vecs {
		vecs[i] = make([][]float32, n)
	}
	type fieldCol struct {
		spec  driver.FieldSpec
		valid []bool
		strs  []string
		ints  []int64
		flts  []float64
		bools []bool
	}
	fields := make([]fieldCol, len(c.spec.Fields))
	for i, f := range c.spec.Fields {
		fields[i] = fieldCol{spec: f, valid: make([]bool, n)}
	}
	jsons := make([][]byte, 0, n)
	jsonValid := make([]bool, n)
	for i := range pts {
		p := &pts[i]
		if p.ID.IsZero() {
			return nil, driver.Errorf(driver.InvalidArgument, "point with an empty ID")
		}
		keys[i] = keyOf(p.ID)
		for j, vs := range c.spec.Vectors {
			v, ok := p.Vectors[vs.Name]
			if !ok {
				return nil, driver.Errorf(driver.InvalidArgument, "point %s: vector %q is missing", p.ID, vs.Name)
			}
			if err := driver.CheckVector(vs, v); err != nil {
				return nil, err
			}
			vecs[j][i] = v
		}
		payload, err := driver.NormalizePayload(p.Payload)
		if err != nil {
			return nil, err
		}
		for j := range fields {
			fc := &fields[j]
			v, ok := payload[fc.spec.Name]
			delete(payload, fc.spec.Name)
			if !ok || v == nil {
				if fc.spec.Name == c.spec.TenantField {
					return nil, driver.Errorf(driver.InvalidArgument, "point %s: the tenant field %q must hold a string (it is the Milvus partition key)", p.ID, fc.spec.Name)
				}
				continue
			}
			fc.valid[i] = true
			bad := func() error {
				return driver.Errorf(driver.InvalidArgument, "point %s: field %q must be a %s", p.ID, fc.spec.Name, fc.spec.Kind)
			}
			switch fc.spec.Kind {
			case driver.KindString:
				s, ok := v.(string)
				if !ok {
					return nil, bad()
				}
				if !utf8.ValidString(s) || len(s) > varcharMax {
					return nil, driver.Errorf(driver.InvalidArgument, "point %s: field %q must be valid UTF-8 of at most %d bytes to be stored in Milvus", p.ID, fc.spec.Name, varcharMax)
				}
				fc.strs = append(fc.strs, s)
			case driver.KindInt:
				x, ok := v.(int64)
				if !ok {
					return nil, bad()
				}
				fc.ints = append(fc.ints, x)
			case driver.KindFloat:
				switch x := v.(type) {
				case float64:
					fc.flts = append(fc.flts, x)
				case int64:
					fc.flts = append(fc.flts, float64(x))
				default:
					return nil, bad()
				}
			case driver.KindBool:
				x, ok := v.(bool)
				if !ok {
					return nil, bad()
				}
				fc.bools = append(fc.bools, x)
			}
		}
		if len(payload) > 0 {
			b, err := appendJSON(nil, map[string]any(payload))
			if err != nil {
				return nil, err
			}
			jsons = append(jsons, b)
			jsonValid[i] = true
		}
	}
	cols := []column.Column{column.NewColumnVarChar(keyField, keys)}
	for j, vs := range c.spec.Vectors {
		fv := make([][]float32, n)
		copy(fv, vecs[j])
		cols = append(cols, column.NewColumnFloatVector(vs.Name, vs.Dim, fv))
	}
	for _, fc := range fields {
		var col column.Column
		var err error
		tenant := fc.spec.Name == c.spec.TenantField
		switch fc.spec.Kind {
		case driver.KindString:
			if tenant {
				col = column.NewColumnVarChar(fc.spec.Name, fc.strs)
			} else {
				col, err = column.NewNullableColumnVarChar(fc.spec.Name, nonNil(fc.strs), fc.valid)
			}
		case driver.KindInt:
			col, err = column.NewNullableColumnInt64(fc.spec.Name, nonNil(fc.ints), fc.valid)
		case driver.KindFloat:
			col, err = column.NewNullableColumnDouble(fc.spec.Name, nonNil(fc.flts), fc.valid)
		case driver.KindBool:
			col, err = column.NewNullableColumnBool(fc.spec.Name, nonNil(fc.bools), fc.valid)
		}
		if err != nil {
			return nil, driver.Wrap(driver.Internal, err, "building a column")
		}
		cols = append(cols, col)
	}
	jc, err := column.NewNullableColumnJSONBytes(payloadField, nonNil(jsons), jsonValid)
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "building the payload column")
	}
	return append(cols, jc), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// outputFields returns the columns a read must ask for to return the
// projection (and the vectors when withVectors), and which of them is the
// payload column.
func (c *collection) outputFields(proj driver.Projection, withVectors bool) []string {
	var out []string
	undeclared := proj.All
	if proj.All {
		for _, f := range c.spec.Fields {
			out = append(out, f.Name)
		}
	} else {
		for _, name := range proj.Fields {
			if _, ok := c.spec.Field(name); ok {
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			} else {
				undeclared = true
			}
		}
	}
	if undeclared {
		out = append(out, payloadField)
	}
	if withVectors {
		for _, v := range c.spec.Vectors {
			out = append(out, v.Name)
		}
	}
	return out
}

// columnSet holds the columns of a result, by name.
type columnSet map[string]column.Column

// point assembles row i of a result: its payload, projected, and its
// vectors when withVectors.
func (c *collection) point(cols columnSet, i int, id driver.PointID, proj driver.Projection, withVectors bool) (driver.Point, error) {
	p := driver.Point{ID: id}
	var payload map[string]any
	put := func(k string, v any) {
		if payload == nil {
			payload = map[string]any{}
		}
		payload[k] = v
	}
	if col := cols[payloadField]; col != nil {
		null, err := col.IsNull(i)
		if err != nil {
			return p, driver.Wrap(driver.Internal, err, "reading the payload column")
		}
		if !null {
			raw, err := col.Get(i)
			if err != nil {
				return p, driver.Wrap(driver.Internal, err, "reading the payload column")
			}
			b, _ := raw.([]byte)
			v, err := decodeJSON(b)
			if err != nil {
				return p, err
			}
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return p, errBadJSON
			}
			for k, x := range m {
				if _, declared := c.spec.Field(k); !declared && x != nil && proj.Wants(k) {
					put(k, x)
				}
			}
		}
	}
	for _, f := range c.spec.Fields {
		col := cols[f.Name]
		if col == nil || !proj.Wants(f.Name) {
			continue
		}
		null, err := col.IsNull(i)
		if err != nil {
			return p, driver.Wrap(driver.Internal, err, "reading a column")
		}
		if null {
			continue
		}
		v, err := col.Get(i)
		if err != nil {
			return p, driver.Wrap(driver.Internal, err, "reading a column")
		}
		switch f.Kind {
		case driver.KindString:
			if _, ok := v.(string); !ok {
				return p, driver.Errorf(driver.DataLoss, "column %s holds a %T", f.Name, v)
			}
		case driver.KindInt:
			if _, ok := v.(int64); !ok {
				return p, driver.Errorf(driver.DataLoss, "column %s holds a %T", f.Name, v)
			}
		case driver.KindFloat:
			if _, ok := v.(float64); !ok {
				return p, driver.Errorf(driver.DataLoss, "column %s holds a %T", f.Name, v)
			}
		case driver.KindBool:
			if _, ok := v.(bool); !ok {
				return p, driver.Errorf(driver.DataLoss, "column %s holds a %T", f.Name, v)
			}
		}
		put(f.Name, v)
	}
	p.Payload = payload
	if withVectors {
		p.Vectors = make(map[string][]float32, len(c.spec.Vectors))
		for _, vs := range c.spec.Vectors {
			col := cols[vs.Name]
			if col == nil {
				return p, driver.Errorf(driver.Internal, "the result has no column for vector %q", vs.Name)
			}
			v, err := col.Get(i)
			if err != nil {
				return p, driver.Wrap(driver.Internal, err, "reading a vector column")
			}
			fv, ok := v.(entity.FloatVector)
			if !ok {
				return p, driver.Errorf(driver.DataLoss, "vector column %s holds a %T", vs.Name, v)
			}
			// The client copies each vector of a result out of the response
			// (column.FieldDataColumn): it is this point's alone, no clone
			// needed. Clipped so that an append cannot reach a neighbour.
			p.Vectors[vs.Name] = fv[:len(fv):len(fv)]
		}
	}
	return p, nil
}

// keyColumn returns the keys of a query result's key column.
func keyColumn(cols columnSet) ([]string, error) {
	col := cols[keyField]
	if col == nil {
		return nil, driver.Errorf(driver.Internal, "the result has no key column")
	}
	return stringsOf(col)
}

// stringsOf returns the values of a VarChar column.
func stringsOf(col column.Column) ([]string, error) {
	if vc, ok := col.(*column.ColumnVarChar); ok && !vc.Nullable() {
		return vc.Data(), nil
	}
	keys := make([]string, col.Len())
	for i := range keys {
		s, err := col.GetAsString(i)
		if err != nil {
			return nil, driver.Wrap(driver.Internal, err, "reading the key column")
		}
		keys[i] = s
	}
	return keys, nil
}

func columnsOf(fields []column.Column) columnSet {
	m := make(columnSet, len(fields))
	for _, f := range fields {
		m[f.Name()] = f
	}
	return m
}
