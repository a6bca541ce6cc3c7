package qdrant

import (
	"slices"
	"strings"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// metadataKey is the collection metadata key under which the driver keeps
// the collection's spec: Qdrant's configuration alone loses the order of
// the vectors and the fields that are declared but not indexed.
const metadataKey = "vecguard_spec"

const specVersion = 1

var kindNames = map[driver.Kind]string{
	driver.KindString: "string", driver.KindInt: "int", driver.KindFloat: "float", driver.KindBool: "bool",
}

func encodeSpec(s *driver.CollectionSpec) *qc.Value {
	vecs := make([]*qc.Value, len(s.Vectors))
	for i, v := range s.Vectors {
		vecs[i] = qc.NewValueFromFields(map[string]*qc.Value{
			"name":     qc.NewValueString(v.Name),
			"dim":      qc.NewValueInt(int64(v.Dim)),
			"distance": qc.NewValueString(v.Distance.String()),
		})
	}
	fields := make([]*qc.Value, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = qc.NewValueFromFields(map[string]*qc.Value{
			"name":       qc.NewValueString(f.Name),
			"kind":       qc.NewValueString(kindNames[f.Kind]),
			"filterable": qc.NewValueBool(f.Filterable),
		})
	}
	return qc.NewValueFromFields(map[string]*qc.Value{
		"version":      qc.NewValueInt(specVersion),
		"vectors":      qc.NewValueList(&qc.ListValue{Values: vecs}),
		"fields":       qc.NewValueList(&qc.ListValue{Values: fields}),
		"tenant_field": qc.NewValueString(s.TenantField),
	})
}

func badMetadata() error {
	return driver.Errorf(driver.FailedPrecondition, "collection metadata %q is not a vecguard spec", metadataKey)
}

// decodeSpec reads the spec kept in metadata; vectors come from the
// collection's configuration, which must agree with it.
func decodeSpec(name string, v *qc.Value, config map[string]driver.VectorSpec) (*driver.CollectionSpec, error) {
	m := v.GetStructValue().GetFields()
	if m["version"].GetIntegerValue() != specVersion {
		return nil, badMetadata()
	}
	s := &driver.CollectionSpec{Name: name, TenantField: m["tenant_field"].GetStringValue()}
	for _, e := range m["vectors"].GetListValue().GetValues() {
		f := e.GetStructValue().GetFields()
		vs, ok := config[f["name"].GetStringValue()]
		if !ok || int64(vs.Dim) != f["dim"].GetIntegerValue() || vs.Distance.String() != f["distance"].GetStringValue() {
			return nil, driver.Errorf(driver.FailedPrecondition, "collection metadata does not match the collection's vectors")
		}
		s.Vectors = append(s.Vectors, vs)
	}
	if len(s.Vectors) != len(config) {
		return nil, driver.Errorf(driver.FailedPrecondition, "collection metadata does not match the collection's vectors")
	}
	for _, e := range m["fields"].GetListValue().GetValues() {
		f := e.GetStructValue().GetFields()
		fs := driver.FieldSpec{Name: f["name"].GetStringValue(), Filterable: f["filterable"].GetBoolValue()}
		for k, n := range kindNames {
			if n == f["kind"].GetStringValue() {
				fs.Kind = k
			}
		}
		s.Fields = append(s.Fields, fs)
	}
	if err := s.Validate(true); err != nil {
		return nil, badMetadata()
	}
	return s, nil
}

// specFromInfo describes a collection from its info.
func specFromInfo(name string, info *qc.CollectionInfo) (*driver.CollectionSpec, error) {
	config := map[string]driver.VectorSpec{}
	switch vc := info.GetConfig().GetParams().GetVectorsConfig().GetConfig().(type) {
	case *qc.VectorsConfig_ParamsMap:
		for n, p := range vc.ParamsMap.GetMap() {
			vs := driver.VectorSpec{Name: n, Dim: int(p.GetSize())}
			for d, qd := range distances {
				if qd == p.GetDistance() {
					vs.Distance = d
				}
			}
			if vs.Distance == 0 {
				return nil, driver.Errorf(driver.FailedPrecondition, "vector %q uses a distance vecguard does not support", n)
			}
			config[n] = vs
		}
	case *qc.VectorsConfig_Params:
		return nil, driver.Errorf(driver.FailedPrecondition, "the collection has an unnamed vector; vecguard needs named vectors")
	}
	if v, ok := info.GetConfig().GetMetadata()[metadataKey]; ok {
		return decodeSpec(name, v, config)
	}
	s := &driver.CollectionSpec{Name: name}
	for _, vs := range config {
		s.Vectors = append(s.Vectors, vs)
	}
	slices.SortFunc(s.Vectors, func(a, b driver.VectorSpec) int { return strings.Compare(a.Name, b.Name) })
	var tenants []string
	for key, info := range info.GetPayloadSchema() {
		var k driver.Kind
		switch info.GetDataType() {
		case qc.PayloadSchemaType_Keyword:
			k = driver.KindString
			if info.GetParams().GetKeywordIndexParams().GetIsTenant() {
				tenants = append(tenants, key)
			}
		case qc.PayloadSchemaType_Integer:
			k = driver.KindInt
		case qc.PayloadSchemaType_Float:
			k = driver.KindFloat
		case qc.PayloadSchemaType_Bool:
			k = driver.KindBool
		default:
			continue
		}
		if !driver.ValidFieldName(key) {
			continue
		}
		s.Fields = append(s.Fields, driver.FieldSpec{Name: key, Kind: k, Filterable: true})
	}
	slices.SortFunc(s.Fields, func(a, b driver.FieldSpec) int { return strings.Compare(a.Name, b.Name) })
	if len(tenants) == 1 && driver.ValidFieldName(tenants[0]) {
		s.TenantField = tenants[0]
	}
	if err := s.Validate(true); err != nil {
		return nil, driver.Wrap(driver.FailedPrecondition, err, "the collection's configuration is not a valid vecguard spec")
	}
	return s, nil
}
