package qdranttest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Version is the Qdrant version the server reports to health checks; the
// go-client's compatibility check accepts it.
const Version = "1.17.1"

// collectionsService implements qdrant.CollectionsServer. Aliases, shard
// keys and cluster setup answer Unimplemented.
type collectionsService struct {
	qdrant.UnimplementedCollectionsServer
	e *engine
}

// validCollectionName follows Qdrant's rule: 1 to 255 characters, none of
// the characters that are unsafe in a file name.
func validCollectionName(n string) bool {
	return n != "" && len(n) <= 255 && !strings.ContainsAny(n, "<>:\"/\\|?*\x00")
}

func (s *collectionsService) Create(_ context.Context, req *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	t := time.Now()
	name := req.GetCollectionName()
	if !validCollectionName(name) {
		return nil, status.Error(codes.InvalidArgument, "Validation error in body: [collection_name: invalid collection name]")
	}
	c := &collection{
		name:     name,
		vectors:  map[string]*qdrant.VectorParams{},
		metadata: copyPayload(req.GetMetadata()),
		indexes:  map[string]*qdrant.PayloadSchemaInfo{},
		valueIdx: map[string]*valueIndex{},
		points:   map[pid]*point{},
	}
	if req.SparseVectorsConfig != nil && len(req.SparseVectorsConfig.GetMap()) > 0 {
		return nil, unsupported("sparse vectors")
	}
	check := func(vp *qdrant.VectorParams) error {
		if vp.GetSize() == 0 || vp.GetSize() > 65536 {
			return status.Error(codes.InvalidArgument, "Validation error in body: [vectors_config.size: value 0 invalid, must be from 1 to 65536]")
		}
		if vp.GetDistance() < qdrant.Distance_Cosine || vp.GetDistance() > qdrant.Distance_Manhattan {
			return status.Error(codes.InvalidArgument, "Wrong input: Unknown distance")
		}
		if vp.MultivectorConfig != nil {
			return unsupported("multivectors")
		}
		return nil
	}
	switch vc := req.GetVectorsConfig().GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		if err := check(vc.Params); err != nil {
			return nil, err
		}
		c.vectors[""] = vc.Params
	case *qdrant.VectorsConfig_ParamsMap:
		c.named = true
		for n, vp := range vc.ParamsMap.GetMap() {
			if n == "" {
				return nil, status.Error(codes.InvalidArgument, "Wrong input: vector name must not be empty")
			}
			if err := check(vp); err != nil {
				return nil, err
			}
			c.vectors[n] = vp
		}
	case nil:
		c.named = true
	}
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if _, ok := s.e.colls[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	s.e.colls[name] = c
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(t)}, nil
}

func (s *collectionsService) Get(_ context.Context, req *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	t := time.Now()
	c, err := s.e.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var vc *qdrant.VectorsConfig
	if c.named {
		vc = qdrant.NewVectorsConfigMap(c.vectors)
	} else {
		vc = qdrant.NewVectorsConfig(c.vectors[""])
	}
	schema := make(map[string]*qdrant.PayloadSchemaInfo, len(c.indexes))
	for k, info := range c.indexes {
		path, _ := parsePath(k)
		var n uint64
		for _, p := range c.points {
			for _, v := range path.get(p.payload) {
				if !isNullValue(v) {
					n++
					break
				}
			}
		}
		schema[k] = &qdrant.PayloadSchemaInfo{DataType: info.GetDataType(), Params: info.GetParams(), Points: &n}
	}
	count := uint64(len(c.points))
	var zero uint64
	one := uint32(1)
	info := &qdrant.CollectionInfo{
		Status:          qdrant.CollectionStatus_Green,
		OptimizerStatus: &qdrant.OptimizerStatus{Ok: true},
		SegmentsCount:   1,
		Config: &qdrant.CollectionConfig{
			Params: &qdrant.CollectionParams{
				ShardNumber: 1, VectorsConfig: vc, ReplicationFactor: &one, WriteConsistencyFactor: &one,
			},
			HnswConfig:      &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(16)), EfConstruct: qdrant.PtrOf(uint64(100)), FullScanThreshold: qdrant.PtrOf(uint64(10000))},
			OptimizerConfig: &qdrant.OptimizersConfigDiff{},
			WalConfig:       &qdrant.WalConfigDiff{},
			Metadata:        copyPayload(c.metadata),
		},
		PayloadSchema:       schema,
		PointsCount:         &count,
		IndexedVectorsCount: &zero,
	}
	return &qdrant.GetCollectionInfoResponse{Result: info, Time: since(t)}, nil
}

func (s *collectionsService) List(context.Context, *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	t := time.Now()
	s.e.mu.RLock()
	names := make([]string, 0, len(s.e.colls))
	for n := range s.e.colls {
		names = append(names, n)
	}
	s.e.mu.RUnlock()
	// Qdrant lists in no particular order; so does this server.
	slices.Sort(names)
	slices.Reverse(names)
	out := make([]*qdrant.CollectionDescription, len(names))
	for i, n := range names {
		out[i] = &qdrant.CollectionDescription{Name: n}
	}
	return &qdrant.ListCollectionsResponse{Collections: out, Time: since(t)}, nil
}

// Delete drops a collection. Like Qdrant, a missing collection is not an
// error: the result is false.
func (s *collectionsService) Delete(_ context.Context, req *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	t := time.Now()
	s.e.mu.Lock()
	_, ok := s.e.colls[req.GetCollectionName()]
	delete(s.e.colls, req.GetCollectionName())
	s.e.mu.Unlock()
	return &qdrant.CollectionOperationResponse{Result: ok, Time: since(t)}, nil
}

// Update applies metadata changes (a null value removes a key); the other
// parameters tune indexing and storage and do not change results here.
func (s *collectionsService) Update(_ context.Context, req *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	t := time.Now()
	c, err := s.e.get(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(req.GetMetadata()) > 0 {
		m := copyPayload(c.metadata)
		for k, v := range req.GetMetadata() {
			if isNullValue(v) {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		c.metadata = m
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(t)}, nil
}

func (s *collectionsService) CollectionExists(_ context.Context, req *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	t := time.Now()
	_, err := s.e.get(req.GetCollectionName())
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: err == nil}, Time: since(t)}, nil
}

// qdrantService implements the health check.
type qdrantService struct {
	qdrant.UnimplementedQdrantServer
}

func (qdrantService) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	return &qdrant.HealthCheckReply{Title: "qdrant - vector search engine (test server)", Version: Version}, nil
}
