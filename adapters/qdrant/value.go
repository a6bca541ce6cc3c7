package qdrant

import (
	"math"
	"unicode/utf8"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// maxValueDepth bounds the nesting of payload values in both directions, so
// a hostile server cannot make the driver recurse without end.
const maxValueDepth = 2 * driver.MaxPayloadDepth

// toPayload converts a normalized payload (see driver.NormalizePayload) to
// Qdrant's payload type. int64 becomes integer_value and float64
// double_value, so integers come back as integers. Other Go scalar types are
// normalized first. Errors never carry the values.
func toPayload(m map[string]any) (map[string]*qc.Value, error) {
	out := make(map[string]*qc.Value, len(m))
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, driver.Errorf(driver.InvalidArgument, "payload key is not valid UTF-8")
		}
		qv, err := toValue(v, 0)
		if err != nil {
			return nil, err
		}
		out[k] = qv
	}
	return out, nil
}

func toValue(v any, depth int) (*qc.Value, error) {
	if depth > maxValueDepth {
		return nil, driver.Errorf(driver.InvalidArgument, "payload nested too deeply")
	}
	switch t := v.(type) {
	case nil:
		return qc.NewValueNull(), nil
	case string:
		if !utf8.ValidString(t) {
			return nil, driver.Errorf(driver.InvalidArgument, "payload string is not valid UTF-8")
		}
		return qc.NewValueString(t), nil
	case bool:
		return qc.NewValueBool(t), nil
	case int64:
		return qc.NewValueInt(t), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, driver.Errorf(driver.InvalidArgument, "payload number is NaN or infinite")
		}
		return qc.NewValueDouble(t), nil
	case []any:
		vs := make([]*qc.Value, len(t))
		for i, e := range t {
			qv, err := toValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			vs[i] = qv
		}
		return qc.NewValueList(&qc.ListValue{Values: vs}), nil
	case map[string]any:
		fields := make(map[string]*qc.Value, len(t))
		for k, e := range t {
			if !utf8.ValidString(k) {
				return nil, driver.Errorf(driver.InvalidArgument, "payload key is not valid UTF-8")
			}
			qv, err := toValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			fields[k] = qv
		}
		return qc.NewValueFromFields(fields), nil
	}
	// Not normalized yet (an int, a float32, a []string ...).
	nv, err := driver.NormalizeValue(v, 0)
	if err != nil {
		return nil, err
	}
	return toValue(nv, depth)
}

// fromPayload converts a Qdrant payload to normalized values.
func fromPayload(m map[string]*qc.Value) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		nv, err := fromValue(v, 0)
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	return out, nil
}

func fromValue(v *qc.Value, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, driver.Errorf(driver.DataLoss, "payload from qdrant nested too deeply")
	}
	switch k := v.GetKind().(type) {
	case nil, *qc.Value_NullValue:
		return nil, nil
	case *qc.Value_StringValue:
		return k.StringValue, nil
	case *qc.Value_BoolValue:
		return k.BoolValue, nil
	case *qc.Value_IntegerValue:
		return k.IntegerValue, nil
	case *qc.Value_DoubleValue:
		return k.DoubleValue, nil
	case *qc.Value_ListValue:
		vs := k.ListValue.GetValues()
		out := make([]any, len(vs))
		for i, e := range vs {
			nv, err := fromValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = nv
		}
		return out, nil
	case *qc.Value_StructValue:
		fs := k.StructValue.GetFields()
		out := make(map[string]any, len(fs))
		for name, e := range fs {
			nv, err := fromValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[name] = nv
		}
		return out, nil
	}
	return nil, driver.Errorf(driver.DataLoss, "unknown payload value kind from qdrant")
}

// pointID converts a point ID; UUIDs go in their canonical form.
func pointID(id driver.PointID) *qc.PointId {
	if id.IsUUID() {
		return qc.NewIDUUID(id.String())
	}
	return qc.NewIDNum(id.Num())
}

func pointIDs(ids []driver.PointID) []*qc.PointId {
	out := make([]*qc.PointId, len(ids))
	for i, id := range ids {
		out[i] = pointID(id)
	}
	return out
}

// fromPointID converts a point ID from Qdrant.
func fromPointID(p *qc.PointId) (driver.PointID, error) {
	switch v := p.GetPointIdOptions().(type) {
	case *qc.PointId_Num:
		return driver.NumID(v.Num), nil
	case *qc.PointId_Uuid:
		id, err := driver.ParseUUID(v.Uuid)
		if err != nil {
			return driver.PointID{}, driver.Errorf(driver.DataLoss, "malformed point ID from qdrant")
		}
		return id, nil
	}
	return driver.PointID{}, driver.Errorf(driver.DataLoss, "empty point ID from qdrant")
}

// successor returns the smallest ID after id in Qdrant's order (numbers,
// then UUIDs by bytes), or ok=false for the largest UUID.
func successor(id driver.PointID) (driver.PointID, bool) {
	if id.IsNum() {
		if id.Num() == math.MaxUint64 {
			return driver.UUIDFromBytes([16]byte{}), true
		}
		return driver.NumID(id.Num() + 1), true
	}
	b := id.UUIDBytes()
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return driver.UUIDFromBytes(b), true
		}
	}
	return driver.PointID{}, false
}

// denseOf returns the data of a dense output vector in the current or the
// deprecated encoding.
func denseOf(v *qc.VectorOutput) []float32 {
	if d, ok := v.GetVector().(*qc.VectorOutput_Dense); ok {
		return d.Dense.GetData()
	}
	//lint:ignore SA1019 servers before 1.13 send the deprecated field
	return v.Data
}

// vectorsOf converts the vectors of a returned point; an unnamed vector is
// given the name of the collection's first vector.
func vectorsOf(vo *qc.VectorsOutput, spec *driver.CollectionSpec) map[string][]float32 {
	switch v := vo.GetVectorsOptions().(type) {
	case *qc.VectorsOutput_Vectors:
		m := v.Vectors.GetVectors()
		out := make(map[string][]float32, len(m))
		for name, vec := range m {
			out[name] = denseOf(vec)
		}
		return out
	case *qc.VectorsOutput_Vector:
		if len(spec.Vectors) == 0 {
			return nil
		}
		return map[string][]float32{spec.Vectors[0].Name: denseOf(v.Vector)}
	}
	return nil
}
