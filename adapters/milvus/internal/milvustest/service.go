package milvustest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Milvus's default limits.
const (
	maxFields       = 64
	maxVectorFields = 4
	maxTopK         = 16384
	maxNameLen      = 255
	maxDim          = 32768
)

// service implements milvuspb.MilvusServiceServer. Methods it does not
// implement answer codes.Unimplemented.
type service struct {
	milvuspb.UnimplementedMilvusServiceServer
	opts  Options
	store *memory.Store

	mu     sync.RWMutex
	colls  map[string]*coll
	nextID int64 // collection and index IDs
	seq    int   // names of the store's collections
}

func newService(o Options) *service {
	return &service{opts: o, store: memory.New(), colls: map[string]*coll{}, nextID: 1000}
}

func (s *service) close() { _ = s.store.Close() }

// coll is one Milvus collection. Its rows live in a collection of the
// embedded store whose vectors, fields and IDs the coll maps.
type coll struct {
	name    string
	id      int64
	schema  *schemapb.CollectionSchema
	props   []*commonpb.KeyValuePair
	level   commonpb.ConsistencyLevel
	created uint64

	pk     *schemapb.FieldSchema
	fields map[string]*schemapb.FieldSchema

	mu      sync.RWMutex // writes and index changes take it exclusively
	mem     driver.Collection
	memSpec *driver.CollectionSpec
	indexes map[string]*indexInfo // by field name
	loaded  bool
	ids     map[any]driver.PointID // primary key → the store's point ID
	nextPID uint64
}

type indexInfo struct {
	name   string
	id     int64
	field  string
	params []*commonpb.KeyValuePair
	metric string // vector indexes: COSINE, IP or L2
}

func ok() *commonpb.Status { return merr.Success() }

func fail(err error) *commonpb.Status { return merr.Status(err) }

func invalid(format string, args ...any) error {
	return merr.WrapErrParameterInvalidMsg(format, args...)
}

func (s *service) get(name string) (*coll, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.colls[name]
	if c == nil {
		return nil, merr.WrapErrCollectionNotFound(name)
	}
	return c, nil
}

func validName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// Connect answers the handshake milvusclient.New makes.
func (s *service) Connect(ctx context.Context, req *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{
		Status:     ok(),
		ServerInfo: &commonpb.ServerInfo{BuildTags: "milvustest", Reserved: map[string]string{}},
		Identifier: 1,
	}, nil
}

// CheckHealth reports the server healthy.
func (s *service) CheckHealth(ctx context.Context, req *milvuspb.CheckHealthRequest) (*milvuspb.CheckHealthResponse, error) {
	return &milvuspb.CheckHealthResponse{Status: ok(), IsHealthy: true}, nil
}

// CreateCollection creates a collection from its schema.
func (s *service) CreateCollection(ctx context.Context, req *milvuspb.CreateCollectionRequest) (*commonpb.Status, error) {
	name := req.GetCollectionName()
	if !validName(name) {
		return fail(invalid("invalid collection name")), nil
	}
	sch := &schemapb.CollectionSchema{}
	if err := proto.Unmarshal(req.GetSchema(), sch); err != nil {
		return fail(invalid("malformed schema")), nil
	}
	if sch.GetName() != "" && sch.GetName() != name {
		return fail(invalid("collection name %s does not match the schema name", name)), nil
	}
	sch.Name = name
	c, err := newColl(sch)
	if err != nil {
		return fail(err), nil
	}
	c.props = req.GetProperties()
	c.level = req.GetConsistencyLevel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.colls[name]; old != nil {
		if proto.Equal(stripIDs(old.schema), stripIDs(c.schema)) {
			return ok(), nil
		}
		return fail(invalid("create duplicate collection with different parameters, collection: %s", name)), nil
	}
	s.seq++
	c.memSpec.Name = "c" + strconv.Itoa(s.seq)
	if err := s.store.CreateCollection(ctx, c.memSpec); err != nil {
		return fail(merr.WrapErrServiceInternal(err.Error())), nil
	}
	c.mem = s.store.Collection(c.memSpec)
	s.nextID++
	c.id = s.nextID
	c.created = uint64(time.Now().UnixNano())
	s.colls[name] = c
	return ok(), nil
}

// stripIDs returns a copy of a schema without the field IDs the server
// assigned and with parameters in key order (clients send them in map
// order), for comparing a repeated create.
func stripIDs(sch *schemapb.CollectionSchema) *schemapb.CollectionSchema {
	c := proto.Clone(sch).(*schemapb.CollectionSchema)
	byKey := func(a, b *commonpb.KeyValuePair) int { return strings.Compare(a.GetKey(), b.GetKey()) }
	for _, f := range c.Fields {
		f.FieldID = 0
		slices.SortFunc(f.TypeParams, byKey)
		slices.SortFunc(f.IndexParams, byKey)
	}
	return c
}

// newColl checks a schema and maps it onto a spec of the embedded store:
// a vector per vector field (Cosine until an index names its metric) and
// a filterable field per scalar column; JSON and array columns are stored
// as undeclared payload.
func newColl(sch *schemapb.CollectionSchema) (*coll, error) {
	c := &coll{schema: sch, name: sch.Name, fields: map[string]*schemapb.FieldSchema{}, indexes: map[string]*indexInfo{}, ids: map[any]driver.PointID{}}
	if sch.GetEnableDynamicField() {
		return nil, invalid("this test server does not support dynamic fields")
	}
	if len(sch.Fields) > maxFields {
		return nil, invalid("maximum field's number should be limited to %d", maxFields)
	}
	spec := &driver.CollectionSpec{}
	partKeys := 0
	for i, f := range sch.Fields {
		f.FieldID = int64(100 + i)
		name := f.GetName()
		if !validName(name) || len(name) > driver.MaxNameLen {
			return nil, invalid("invalid field name")
		}
		if c.fields[name] != nil {
			return nil, invalid("duplicated field name %s", name)
		}
		c.fields[name] = f
		if f.GetIsPrimaryKey() {
			if c.pk != nil {
				return nil, invalid("there are more than one primary key")
			}
			if f.GetDataType() != schemapb.DataType_Int64 && f.GetDataType() != schemapb.DataType_VarChar {
				return nil, invalid("the data type of primary key should be Int64 or VarChar")
			}
			if f.GetNullable() {
				return nil, invalid("primary field not support null")
			}
			if f.GetAutoID() {
				return nil, invalid("this test server does not support auto ID")
			}
			c.pk = f
		}
		if f.GetIsPartitionKey() {
			partKeys++
			if f.GetNullable() {
				return nil, invalid("partition key field not support nullable")
			}
			if f.GetDataType() != schemapb.DataType_Int64 && f.GetDataType() != schemapb.DataType_VarChar {
				return nil, invalid("the data type of partition key should be Int64 or VarChar")
			}
		}
		switch f.GetDataType() {
		case schemapb.DataType_FloatVector:
			dim, err := typeParamInt(f, "dim")
			if err != nil || dim < 1 || dim > maxDim {
				return nil, invalid("invalid dimension of field %s", name)
			}
			spec.Vectors = append(spec.Vectors, driver.VectorSpec{Name: name, Dim: int(dim), Distance: driver.Cosine})
		case schemapb.DataType_VarChar, schemapb.DataType_String:
			n, err := typeParamInt(f, "max_length")
			if err != nil || n < 1 || n > 65535 {
				return nil, invalid("the maximum length of field %s should be in (0, 65535]", name)
			}
			spec.Fields = append(spec.Fields, driver.FieldSpec{Name: name, Kind: driver.KindString, Filterable: true})
		case schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32, schemapb.DataType_Int64:
			spec.Fields = append(spec.Fields, driver.FieldSpec{Name: name, Kind: driver.KindInt, Filterable: true})
		case schemapb.DataType_Float, schemapb.DataType_Double:
			spec.Fields = append(spec.Fields, driver.FieldSpec{Name: name, Kind: driver.KindFloat, Filterable: true})
		case schemapb.DataType_Bool:
			spec.Fields = append(spec.Fields, driver.FieldSpec{Name: name, Kind: driver.KindBool, Filterable: true})
		case schemapb.DataType_JSON, schemapb.DataType_Array:
		default:
			return nil, invalid("this test server does not support the data type of field %s", name)
		}
	}
	if c.pk == nil {
		return nil, invalid("primary key is not specified")
	}
	if len(spec.Vectors) == 0 {
		return nil, invalid("schema does not contain vector field")
	}
	if len(spec.Vectors) > maxVectorFields {
		return nil, invalid("maximum vector field's number should be limited to %d", maxVectorFields)
	}
	if partKeys > 1 {
		return nil, invalid("there are more than one partition key")
	}
	spec.Name = "pending"
	if err := spec.Validate(true); err != nil {
		return nil, invalid("this test server cannot hold this schema")
	}
	c.memSpec = spec
	return c, nil
}

func typeParamInt(f *schemapb.FieldSchema, key string) (int64, error) {
	for _, kv := range f.GetTypeParams() {
		if kv.GetKey() == key {
			return strconv.ParseInt(kv.GetValue(), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s", key)
}

// DescribeCollection describes a collection.
func (s *service) DescribeCollection(ctx context.Context, req *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.DescribeCollectionResponse{Status: fail(err)}, nil
	}
	return &milvuspb.DescribeCollectionResponse{
		Status:               ok(),
		Schema:               proto.Clone(c.schema).(*schemapb.CollectionSchema),
		CollectionID:         c.id,
		CollectionName:       c.name,
		ShardsNum:            1,
		ConsistencyLevel:     c.level,
		Properties:           c.props,
		CreatedTimestamp:     c.created,
		CreatedUtcTimestamp:  c.created,
		UpdateTimestamp:      c.created,
		VirtualChannelNames:  []string{c.name + "_v0"},
		PhysicalChannelNames: []string{"dml_0"},
		DbName:               "default",
	}, nil
}

// HasCollection reports whether a collection exists.
func (s *service) HasCollection(ctx context.Context, req *milvuspb.HasCollectionRequest) (*milvuspb.BoolResponse, error) {
	_, err := s.get(req.GetCollectionName())
	return &milvuspb.BoolResponse{Status: ok(), Value: err == nil}, nil
}

// ShowCollections lists collections in no particular order.
func (s *service) ShowCollections(ctx context.Context, req *milvuspb.ShowCollectionsRequest) (*milvuspb.ShowCollectionsResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	resp := &milvuspb.ShowCollectionsResponse{Status: ok()}
	for name, c := range s.colls {
		resp.CollectionNames = append(resp.CollectionNames, name)
		resp.CollectionIds = append(resp.CollectionIds, c.id)
		resp.CreatedTimestamps = append(resp.CreatedTimestamps, c.created)
		resp.CreatedUtcTimestamps = append(resp.CreatedUtcTimestamps, c.created)
	}
	return resp, nil
}

// DropCollection drops a collection; dropping a missing one succeeds.
func (s *service) DropCollection(ctx context.Context, req *milvuspb.DropCollectionRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	c := s.colls[req.GetCollectionName()]
	delete(s.colls, req.GetCollectionName())
	s.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		_ = s.store.DropCollection(context.WithoutCancel(ctx), c.memSpec.Name)
		c.mu.Unlock()
	}
	return ok(), nil
}

// CreateIndex records an index. Vector indexes set the metric the field
// is searched with; every index type searches exactly here.
func (s *service) CreateIndex(ctx context.Context, req *milvuspb.CreateIndexRequest) (*commonpb.Status, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return fail(err), nil
	}
	f := c.fields[req.GetFieldName()]
	if f == nil {
		return fail(merr.WrapErrFieldNotFound(req.GetFieldName())), nil
	}
	params := slices.Clone(req.GetExtraParams())
	slices.SortFunc(params, func(a, b *commonpb.KeyValuePair) int { return strings.Compare(a.GetKey(), b.GetKey()) })
	metric := ""
	if f.GetDataType() == schemapb.DataType_FloatVector {
		metric = "COSINE"
		for _, kv := range params {
			if kv.GetKey() == "metric_type" {
				metric = kv.GetValue()
			}
		}
		if metric != "COSINE" && metric != "IP" && metric != "L2" {
			return fail(invalid("float vector index does not support metric type: %s", metric)), nil
		}
	}
	name := req.GetIndexName()
	if name == "" {
		name = f.GetName()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.indexes[f.GetName()]; old != nil {
		if old.name == name && slices.EqualFunc(old.params, params, func(a, b *commonpb.KeyValuePair) bool { return proto.Equal(a, b) }) {
			return ok(), nil
		}
		return fail(merr.WrapErrIndexDuplicate(name, "at most one distinct index is allowed per field")), nil
	}
	for _, other := range c.indexes {
		if other.name == name {
			return fail(merr.WrapErrIndexDuplicate(name)), nil
		}
	}
	if metric != "" {
		if err := s.setMetric(ctx, c, f.GetName(), metric); err != nil {
			return fail(err), nil
		}
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	c.indexes[f.GetName()] = &indexInfo{name: name, id: id, field: f.GetName(), params: params, metric: metric}
	return ok(), nil
}

// setMetric changes the distance the embedded store scores a vector field
// with, by copying the rows into a new store collection. c.mu is held.
func (s *service) setMetric(ctx context.Context, c *coll, field, metric string) error {
	d := map[string]driver.Distance{"COSINE": driver.Cosine, "IP": driver.Dot, "L2": driver.Euclid}[metric]
	spec := c.memSpec.Clone()
	for i := range spec.Vectors {
		if spec.Vectors[i].Name == field {
			if spec.Vectors[i].Distance == d {
				return nil
			}
			spec.Vectors[i].Distance = d
		}
	}
	ctx = context.WithoutCancel(ctx)
	var pts []driver.Point
	var after driver.PointID
	for {
		pg, err := c.mem.Read(ctx, &driver.ReadRequest{Limit: driver.MaxLimit, After: after, Payload: driver.Projection{All: true}, WithVectors: true})
		if err != nil {
			return merr.WrapErrServiceInternal(err.Error())
		}
		pts = append(pts, pg.Points...)
		if pg.Next.IsZero() {
			break
		}
		after = pg.Next
	}
	s.mu.Lock()
	s.seq++
	spec.Name = "c" + strconv.Itoa(s.seq)
	s.mu.Unlock()
	if err := s.store.CreateCollection(ctx, spec); err != nil {
		return merr.WrapErrServiceInternal(err.Error())
	}
	mem := s.store.Collection(spec)
	for len(pts) > 0 {
		n := min(len(pts), driver.MaxBatch)
		if err := mem.Upsert(ctx, pts[:n]); err != nil {
			return merr.WrapErrServiceInternal(err.Error())
		}
		pts = pts[n:]
	}
	_ = s.store.DropCollection(ctx, c.memSpec.Name)
	c.mem, c.memSpec = mem, spec
	return nil
}

// DescribeIndex describes the indexes of a collection, of one field or of
// one name.
func (s *service) DescribeIndex(ctx context.Context, req *milvuspb.DescribeIndexRequest) (*milvuspb.DescribeIndexResponse, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.DescribeIndexResponse{Status: fail(err)}, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	rows, _ := c.mem.Count(context.WithoutCancel(ctx), nil)
	resp := &milvuspb.DescribeIndexResponse{Status: ok()}
	for _, ix := range c.indexes {
		if req.GetIndexName() != "" && ix.name != req.GetIndexName() || req.GetFieldName() != "" && ix.field != req.GetFieldName() {
			continue
		}
		resp.IndexDescriptions = append(resp.IndexDescriptions, &milvuspb.IndexDescription{
			IndexName: ix.name, IndexID: ix.id, Params: ix.params, FieldName: ix.field,
			State: commonpb.IndexState_Finished, IndexedRows: rows, TotalRows: rows,
		})
	}
	if len(resp.IndexDescriptions) == 0 {
		return &milvuspb.DescribeIndexResponse{Status: fail(merr.WrapErrIndexNotFound(req.GetIndexName()))}, nil
	}
	slices.SortFunc(resp.IndexDescriptions, func(a, b *milvuspb.IndexDescription) int { return int(a.IndexID - b.IndexID) })
	return resp, nil
}

// DropIndex drops an index of a released collection.
func (s *service) DropIndex(ctx context.Context, req *milvuspb.DropIndexRequest) (*commonpb.Status, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return fail(err), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return fail(merr.WrapErrParameterInvalidMsg("index cannot be dropped, collection is loaded, please release it first")), nil
	}
	for field, ix := range c.indexes {
		if ix.name == req.GetIndexName() || req.GetIndexName() == "" && field == req.GetFieldName() {
			delete(c.indexes, field)
		}
	}
	return ok(), nil
}

// LoadCollection loads a collection whose vector fields all have an index.
func (s *service) LoadCollection(ctx context.Context, req *milvuspb.LoadCollectionRequest) (*commonpb.Status, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return fail(err), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.memSpec.Vectors {
		if c.indexes[v.Name] == nil {
			return fail(merr.WrapErrIndexNotFoundForCollection(c.name)), nil
		}
	}
	c.loaded = true
	return ok(), nil
}

// ReleaseCollection releases a collection.
func (s *service) ReleaseCollection(ctx context.Context, req *milvuspb.ReleaseCollectionRequest) (*commonpb.Status, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return fail(err), nil
	}
	c.mu.Lock()
	c.loaded = false
	c.mu.Unlock()
	return ok(), nil
}

// GetLoadState reports whether a collection is loaded.
func (s *service) GetLoadState(ctx context.Context, req *milvuspb.GetLoadStateRequest) (*milvuspb.GetLoadStateResponse, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.GetLoadStateResponse{Status: fail(err)}, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := commonpb.LoadState_LoadStateNotLoad
	if c.loaded {
		st = commonpb.LoadState_LoadStateLoaded
	}
	return &milvuspb.GetLoadStateResponse{Status: ok(), State: st}, nil
}

// GetLoadingProgress reports 100 for a loaded collection, 0 otherwise.
func (s *service) GetLoadingProgress(ctx context.Context, req *milvuspb.GetLoadingProgressRequest) (*milvuspb.GetLoadingProgressResponse, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.GetLoadingProgressResponse{Status: fail(err)}, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var p int64
	if c.loaded {
		p = 100
	}
	return &milvuspb.GetLoadingProgressResponse{Status: ok(), Progress: p, RefreshProgress: p}, nil
}

// GetCollectionStatistics reports the row count.
func (s *service) GetCollectionStatistics(ctx context.Context, req *milvuspb.GetCollectionStatisticsRequest) (*milvuspb.GetCollectionStatisticsResponse, error) {
	c, err := s.get(req.GetCollectionName())
	if err != nil {
		return &milvuspb.GetCollectionStatisticsResponse{Status: fail(err)}, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, _ := c.mem.Count(context.WithoutCancel(ctx), nil)
	return &milvuspb.GetCollectionStatisticsResponse{Status: ok(), Stats: []*commonpb.KeyValuePair{{Key: "row_count", Value: strconv.FormatInt(n, 10)}}}, nil
}
