package milvustest

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// row is one decoded row of an insert: its primary key and the point the
// embedded store keeps (without its ID).
type row struct {
	pk      any // int64 or string
	vectors map[string][]float32
	payload map[string]any
}

// decodeRows decodes the columns of an insert or upsert into rows,
// checking them against the schema as Milvus's proxy does.
func (s *service) decodeRows(c *coll, data []*schemapb.FieldData, numRows int) ([]row, error) {
	byName := map[string]*schemapb.FieldData{}
	for _, fd := range data {
		if fd.GetIsDynamic() {
			return nil, invalid("the collection has no dynamic field")
		}
		f := c.fields[fd.GetFieldName()]
		if f == nil {
			return nil, merr.WrapErrFieldNotFound(fd.GetFieldName(), "the field does not exist in the collection")
		}
		if byName[f.GetName()] != nil {
			return nil, invalid("duplicated field %s", f.GetName())
		}
		byName[f.GetName()] = fd
	}
	rows := make([]row, numRows)
	for i := range rows {
		rows[i] = row{vectors: map[string][]float32{}, payload: map[string]any{}}
	}
	for _, f := range c.schema.GetFields() {
		fd := byName[f.GetName()]
		if fd == nil {
			if f.GetNullable() {
				continue
			}
			return nil, invalid("fieldSchema(%s) has no corresponding fieldData pass in", f.GetName())
		}
		if err := s.decodeColumn(c, f, fd, rows); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// decodeColumn stores one column into rows.
func (s *service) decodeColumn(c *coll, f *schemapb.FieldSchema, fd *schemapb.FieldData, rows []row) error {
	n := len(rows)
	name := f.GetName()
	if f.GetDataType() == schemapb.DataType_FloatVector {
		v := fd.GetVectors()
		dim, _ := typeParamInt(f, "dim")
		if v.GetDim() != dim {
			return invalid("the dim (%d) of field data (%s) is not equal to schema dim (%d)", v.GetDim(), name, dim)
		}
		flat := v.GetFloatVector().GetData()
		if len(flat) != n*int(dim) {
			return invalid("the num_rows (%d) of field (%s) is not equal to passed num_rows", len(flat)/max(int(dim), 1), name)
		}
		for i := range rows {
			rows[i].vectors[name] = flat[i*int(dim) : (i+1)*int(dim) : (i+1)*int(dim)]
		}
		return nil
	}
	values, err := scalarValues(f, fd)
	if err != nil {
		return err
	}
	valid := fd.GetValidData()
	switch {
	case len(valid) == 0:
		if len(values) != n {
			return invalid("the num_rows (%d) of field (%s) is not equal to passed num_rows (%d)", len(values), name, n)
		}
	case !f.GetNullable():
		return invalid("field %s is not nullable but valid data was passed", name)
	case len(valid) != n:
		return invalid("the length of valid data of field %s is not equal to num_rows", name)
	default:
		nValid := 0
		for _, v := range valid {
			if v {
				nValid++
			}
		}
		switch len(values) {
		case n: // every row has a slot
		case nValid: // only the valid rows do: spread them out
			full := make([]any, n)
			j := 0
			for i, v := range valid {
				if v {
					full[i] = values[j]
					j++
				}
			}
			values = full
		default:
			return invalid("the number of values of field %s does not match its valid data", name)
		}
	}
	maxLen, _ := typeParamInt(f, "max_length")
	for i := range rows {
		v := values[i]
		if len(valid) > 0 && !valid[i] {
			v = nil
		}
		if v == nil {
			if !f.GetNullable() {
				return invalid("the field %s is not nullable", name)
			}
			continue
		}
		switch t := v.(type) {
		case string:
			if f.GetDataType() == schemapb.DataType_JSON {
				if len(t) > s.opts.JSONMaxLength {
					return invalid("the length (%d) of %dth JSON field (%s) exceeds max length (%d)", len(t), i, name, s.opts.JSONMaxLength)
				}
				if !json.Valid([]byte(t)) {
					return invalid("the %dth value of JSON field %s is not valid JSON", i, name)
				}
			} else {
				if !utf8.ValidString(t) {
					return invalid("the %dth string of field %s is not valid UTF-8", i, name)
				}
				if int64(len(t)) > maxLen {
					return invalid("the length (%d) of %dth VarChar %s exceeds max length (%d)", len(t), i, name, maxLen)
				}
			}
		}
		if f.GetIsPrimaryKey() {
			rows[i].pk = v
		}
		rows[i].payload[name] = v
	}
	return nil
}

// scalarValues returns the values of a scalar column: int64, float64,
// string (JSON as its text), bool or []any (arrays).
func scalarValues(f *schemapb.FieldSchema, fd *schemapb.FieldData) ([]any, error) {
	if fd.GetType() != f.GetDataType() {
		return nil, invalid("the data type of field %s does not match the schema", f.GetName())
	}
	sc := fd.GetScalars()
	var out []any
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		for _, x := range sc.GetBoolData().GetData() {
			out = append(out, x)
		}
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		for _, x := range sc.GetIntData().GetData() {
			out = append(out, int64(x))
		}
	case schemapb.DataType_Int64:
		for _, x := range sc.GetLongData().GetData() {
			out = append(out, x)
		}
	case schemapb.DataType_Float:
		for _, x := range sc.GetFloatData().GetData() {
			out = append(out, float64(x))
		}
	case schemapb.DataType_Double:
		for _, x := range sc.GetDoubleData().GetData() {
			out = append(out, x)
		}
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		for _, x := range sc.GetStringData().GetData() {
			out = append(out, x)
		}
	case schemapb.DataType_JSON:
		for _, x := range sc.GetJsonData().GetData() {
			out = append(out, string(x))
		}
	case schemapb.DataType_Array:
		for _, x := range sc.GetArrayData().GetData() {
			out = append(out, arrayValues(x))
		}
	default:
		return nil, invalid("unsupported data type of field %s", f.GetName())
	}
	return out, nil
}

func arrayValues(sc *schemapb.ScalarField) []any {
	out := []any{}
	for _, x := range sc.GetBoolData().GetData() {
		out = append(out, x)
	}
	for _, x := range sc.GetIntData().GetData() {
		out = append(out, int64(x))
	}
	for _, x := range sc.GetLongData().GetData() {
		out = append(out, x)
	}
	for _, x := range sc.GetFloatData().GetData() {
		out = append(out, float64(x))
	}
	for _, x := range sc.GetDoubleData().GetData() {
		out = append(out, x)
	}
	for _, x := range sc.GetStringData().GetData() {
		out = append(out, x)
	}
	return out
}

// encodeColumn returns the column of field f over points, full length with
// valid data for nullable fields, as Milvus returns results.
func encodeColumn(f *schemapb.FieldSchema, pts []driver.Point) *schemapb.FieldData {
	name := f.GetName()
	fd := &schemapb.FieldData{Type: f.GetDataType(), FieldName: name, FieldId: f.GetFieldID()}
	if f.GetDataType() == schemapb.DataType_FloatVector {
		dim, _ := typeParamInt(f, "dim")
		flat := make([]float32, 0, len(pts)*int(dim))
		for _, p := range pts {
			flat = append(flat, p.Vectors[name]...)
		}
		fd.Field = &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: dim, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: flat}}}}
		return fd
	}
	var valid []bool
	if f.GetNullable() {
		valid = make([]bool, len(pts))
		for i, p := range pts {
			valid[i] = p.Payload[name] != nil
		}
		fd.ValidData = valid
	}
	sc := &schemapb.ScalarField{}
	switch f.GetDataType() {
	case schemapb.DataType_Bool:
		d := make([]bool, len(pts))
		for i, p := range pts {
			d[i], _ = p.Payload[name].(bool)
		}
		sc.Data = &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: d}}
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		d := make([]int32, len(pts))
		for i, p := range pts {
			x, _ := p.Payload[name].(int64)
			d[i] = int32(x)
		}
		sc.Data = &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: d}}
	case schemapb.DataType_Int64:
		d := make([]int64, len(pts))
		for i, p := range pts {
			d[i], _ = p.Payload[name].(int64)
		}
		sc.Data = &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: d}}
	case schemapb.DataType_Float:
		d := make([]float32, len(pts))
		for i, p := range pts {
			x, _ := p.Payload[name].(float64)
			d[i] = float32(x)
		}
		sc.Data = &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: d}}
	case schemapb.DataType_Double:
		d := make([]float64, len(pts))
		for i, p := range pts {
			d[i], _ = p.Payload[name].(float64)
		}
		sc.Data = &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: d}}
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		d := make([]string, len(pts))
		for i, p := range pts {
			d[i], _ = p.Payload[name].(string)
		}
		sc.Data = &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: d}}
	case schemapb.DataType_JSON:
		d := make([][]byte, len(pts))
		for i, p := range pts {
			s, _ := p.Payload[name].(string)
			d[i] = []byte(s)
		}
		sc.Data = &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: d}}
	case schemapb.DataType_Array:
		d := make([]*schemapb.ScalarField, len(pts))
		for i, p := range pts {
			l, _ := p.Payload[name].([]any)
			d[i] = arrayField(f.GetElementType(), l)
		}
		sc.Data = &schemapb.ScalarField_ArrayData{ArrayData: &schemapb.ArrayArray{Data: d, ElementType: f.GetElementType()}}
	}
	fd.Field = &schemapb.FieldData_Scalars{Scalars: sc}
	return fd
}

func arrayField(t schemapb.DataType, l []any) *schemapb.ScalarField {
	sc := &schemapb.ScalarField{}
	switch t {
	case schemapb.DataType_Bool:
		d := []bool{}
		for _, x := range l {
			b, _ := x.(bool)
			d = append(d, b)
		}
		sc.Data = &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{Data: d}}
	case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32:
		d := []int32{}
		for _, x := range l {
			n, _ := x.(int64)
			d = append(d, int32(n))
		}
		sc.Data = &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{Data: d}}
	case schemapb.DataType_Int64:
		d := []int64{}
		for _, x := range l {
			n, _ := x.(int64)
			d = append(d, n)
		}
		sc.Data = &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: d}}
	case schemapb.DataType_Float:
		d := []float32{}
		for _, x := range l {
			n, _ := x.(float64)
			d = append(d, float32(n))
		}
		sc.Data = &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{Data: d}}
	case schemapb.DataType_Double:
		d := []float64{}
		for _, x := range l {
			n, _ := x.(float64)
			d = append(d, n)
		}
		sc.Data = &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{Data: d}}
	default:
		d := []string{}
		for _, x := range l {
			s, _ := x.(string)
			d = append(d, s)
		}
		sc.Data = &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: d}}
	}
	return sc
}

// idsOf returns the primary keys of points as Milvus's IDs message.
func (c *coll) idsOf(pts []driver.Point) *schemapb.IDs {
	name := c.pk.GetName()
	if c.pk.GetDataType() == schemapb.DataType_Int64 {
		d := make([]int64, len(pts))
		for i, p := range pts {
			d[i], _ = p.Payload[name].(int64)
		}
		return &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: d}}}
	}
	d := make([]string, len(pts))
	for i, p := range pts {
		d[i], _ = p.Payload[name].(string)
	}
	return &schemapb.IDs{IdField: &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: d}}}
}
