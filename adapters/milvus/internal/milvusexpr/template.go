package milvusexpr

import (
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// TemplateValues converts the template values of a request to the Go values
// Bind takes: string, int64, float64, bool and []any of those.
func TemplateValues(m map[string]*schemapb.TemplateValue) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, tv := range m {
		v, err := templateValue(tv)
		if err != nil {
			return nil, fmt.Errorf("%w: placeholder {%s}: %v", ErrType, k, err)
		}
		out[k] = v
	}
	return out, nil
}

func templateValue(tv *schemapb.TemplateValue) (any, error) {
	switch v := tv.GetVal().(type) {
	case *schemapb.TemplateValue_BoolVal:
		return v.BoolVal, nil
	case *schemapb.TemplateValue_Int64Val:
		return v.Int64Val, nil
	case *schemapb.TemplateValue_FloatVal:
		return v.FloatVal, nil
	case *schemapb.TemplateValue_StringVal:
		return v.StringVal, nil
	case *schemapb.TemplateValue_ArrayVal:
		return arrayValue(v.ArrayVal)
	}
	return nil, fmt.Errorf("empty value")
}

func arrayValue(a *schemapb.TemplateArrayValue) ([]any, error) {
	var out []any
	switch d := a.GetData().(type) {
	case *schemapb.TemplateArrayValue_BoolData:
		for _, x := range d.BoolData.GetData() {
			out = append(out, x)
		}
	case *schemapb.TemplateArrayValue_LongData:
		for _, x := range d.LongData.GetData() {
			out = append(out, x)
		}
	case *schemapb.TemplateArrayValue_DoubleData:
		for _, x := range d.DoubleData.GetData() {
			out = append(out, x)
		}
	case *schemapb.TemplateArrayValue_StringData:
		for _, x := range d.StringData.GetData() {
			out = append(out, x)
		}
	case *schemapb.TemplateArrayValue_ArrayData:
		for _, x := range d.ArrayData.GetData() {
			e, err := arrayValue(x)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	default:
		return nil, fmt.Errorf("unsupported array value")
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}
