package milvus

import (
	"encoding/json"
	"strings"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The columns the driver adds to every collection, and the property that
// keeps the collection spec.
const (
	keyField     = "_vg_id"        // VarChar primary key: the sortable point key
	payloadField = "_vg_payload"   // nullable JSON: the payload keys that are not declared fields
	specProperty = "vecguard.spec" // collection property: the spec as JSON
	specVersion  = 1

	// varcharMax is the longest VarChar Milvus allows, in bytes.
	varcharMax = 65535
)

// metricOf returns the Milvus metric of a distance.
func metricOf(d driver.Distance) entity.MetricType {
	switch d {
	case driver.Dot:
		return entity.IP
	case driver.Euclid:
		return entity.L2
	}
	return entity.COSINE
}

// checkNames checks that spec's names work as Milvus names and as bare
// identifiers in expressions: collection names without '-', field and
// vector names that are not expression keywords, not the driver's own
// columns and not shared between a vector and a field.
func checkNames(spec *driver.CollectionSpec) error {
	if strings.Contains(spec.Name, "-") {
		return driver.Errorf(driver.InvalidArgument, "Milvus collection names cannot contain '-'")
	}
	seen := map[string]bool{keyField: true, payloadField: true}
	check := func(what, name string) error {
		if !milvusexpr.ValidIdent(name) {
			return driver.Errorf(driver.InvalidArgument, "%s name %q is a word of Milvus's expression language", what, name)
		}
		if seen[name] {
			return driver.Errorf(driver.InvalidArgument, "%s name %q is already used by another vector, field or by the driver", what, name)
		}
		seen[name] = true
		return nil
	}
	for _, v := range spec.Vectors {
		if err := check("vector", v.Name); err != nil {
			return err
		}
	}
	for _, f := range spec.Fields {
		if err := check("field", f.Name); err != nil {
			return err
		}
	}
	return nil
}

// buildSchema returns the Milvus schema of spec: the key, one FloatVector
// per vector, a typed column per declared field (nullable, except the
// tenant field, which is the partition key and so may not be null), and
// the JSON payload column.
func buildSchema(spec *driver.CollectionSpec) *entity.Schema {
	s := entity.NewSchema().WithName(spec.Name).WithDescription("vecguard collection").
		WithAutoID(false).WithDynamicFieldEnabled(false).
		WithField(entity.NewField().WithName(keyField).WithDataType(entity.FieldTypeVarChar).
			WithMaxLength(keyLen).WithIsPrimaryKey(true).WithIsAutoID(false))
	for _, v := range spec.Vectors {
		s.WithField(entity.NewField().WithName(v.Name).WithDataType(entity.FieldTypeFloatVector).WithDim(int64(v.Dim)))
	}
	for _, f := range spec.Fields {
		fld := entity.NewField().WithName(f.Name)
		switch f.Kind {
		case driver.KindString:
			fld.WithDataType(entity.FieldTypeVarChar).WithMaxLength(varcharMax)
		case driver.KindInt:
			fld.WithDataType(entity.FieldTypeInt64)
		case driver.KindFloat:
			fld.WithDataType(entity.FieldTypeDouble)
		case driver.KindBool:
			fld.WithDataType(entity.FieldTypeBool)
		}
		if f.Name == spec.TenantField {
			fld.WithIsPartitionKey(true)
		} else {
			fld.WithNullable(true)
		}
		s.WithField(fld)
	}
	s.WithField(entity.NewField().WithName(payloadField).WithDataType(entity.FieldTypeJSON).WithNullable(true))
	return s
}

// indexes returns the indexes a collection gets: FLAT (exact search) with
// the vector's metric on every vector, INVERTED on every filterable field.
func indexes(spec *driver.CollectionSpec) map[string]index.Index {
	m := map[string]index.Index{}
	for _, v := range spec.Vectors {
		m[v.Name] = index.NewFlatIndex(metricOf(v.Distance))
	}
	for _, f := range spec.Fields {
		if f.Filterable {
			m[f.Name] = index.NewInvertedIndex()
		}
	}
	return m
}

// specJSON is the spec as the collection property stores it.
type specJSON struct {
	Version int          `json:"v"`
	Vectors []vectorJSON `json:"vectors"`
	Fields  []fieldJSON  `json:"fields,omitempty"`
	Tenant  string       `json:"tenant,omitempty"`
}

type vectorJSON struct {
	Name     string `json:"name"`
	Dim      int    `json:"dim"`
	Distance string `json:"distance"`
}

type fieldJSON struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Filterable bool   `json:"filterable,omitempty"`
}

func encodeSpec(spec *driver.CollectionSpec) string {
	j := specJSON{Version: specVersion, Tenant: spec.TenantField}
	for _, v := range spec.Vectors {
		j.Vectors = append(j.Vectors, vectorJSON{Name: v.Name, Dim: v.Dim, Distance: v.Distance.String()})
	}
	for _, f := range spec.Fields {
		j.Fields = append(j.Fields, fieldJSON{Name: f.Name, Kind: f.Kind.String(), Filterable: f.Filterable})
	}
	b, _ := json.Marshal(j)
	return string(b)
}

func decodeSpec(name, s string) (*driver.CollectionSpec, error) {
	bad := driver.Errorf(driver.FailedPrecondition, "collection %s has no valid vecguard spec property", name)
	var j specJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil || j.Version != specVersion {
		return nil, bad
	}
	spec := &driver.CollectionSpec{Name: name, TenantField: j.Tenant}
	for _, v := range j.Vectors {
		var d driver.Distance
		for _, c := range []driver.Distance{driver.Cosine, driver.Dot, driver.Euclid} {
			if c.String() == v.Distance {
				d = c
			}
		}
		spec.Vectors = append(spec.Vectors, driver.VectorSpec{Name: v.Name, Dim: v.Dim, Distance: d})
	}
	for _, f := range j.Fields {
		var k driver.Kind
		for _, c := range []driver.Kind{driver.KindString, driver.KindInt, driver.KindFloat, driver.KindBool} {
			if c.String() == f.Kind {
				k = c
			}
		}
		spec.Fields = append(spec.Fields, driver.FieldSpec{Name: f.Name, Kind: k, Filterable: f.Filterable})
	}
	if spec.Validate(true) != nil || checkNames(spec) != nil {
		return nil, bad
	}
	return spec, nil
}

// checkSchema checks that a described Milvus schema has the columns spec
// needs with the right types, so a collection changed behind the driver's
// back fails clearly.
func checkSchema(spec *driver.CollectionSpec, got *entity.Schema) error {
	want := buildSchema(spec)
	have := map[string]*entity.Field{}
	for _, f := range got.Fields {
		have[f.Name] = f
	}
	for _, f := range want.Fields {
		h := have[f.Name]
		if h == nil || h.DataType != f.DataType || h.PrimaryKey != f.PrimaryKey {
			return driver.Errorf(driver.FailedPrecondition, "collection %s: column %s does not match its vecguard spec", spec.Name, f.Name)
		}
		if f.DataType == entity.FieldTypeFloatVector {
			if d, err := h.GetDim(); err != nil || d != int64(mustDim(spec, f.Name)) {
				return driver.Errorf(driver.FailedPrecondition, "collection %s: vector %s does not match its vecguard spec", spec.Name, f.Name)
			}
		}
	}
	return nil
}

func mustDim(spec *driver.CollectionSpec, name string) int {
	v, _ := spec.Vector(name)
	return v.Dim
}
