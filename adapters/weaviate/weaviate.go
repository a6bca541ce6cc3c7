package weaviate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate/entities/models"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// Options configures a Driver. The zero value (or nil) connects over plain
// HTTP and gRPC without credentials.
type Options struct {
	// Scheme is the REST scheme, "http" (default) or "https".
	Scheme string
	// APIKey, when set, is sent as a bearer token on every REST and gRPC call.
	APIKey string
	// GRPCDialOptions replace the default plaintext transport credentials of
	// the gRPC connection (pass TLS credentials here).
	GRPCDialOptions []grpc.DialOption
	// Timeout bounds each REST call; 0 means 60 seconds. Contexts still apply.
	Timeout time.Duration
	// NativeMultiTenancy stores each tenant of a collection with a tenant
	// field in its own Weaviate tenant (a separate shard), on top of the
	// tenant property every point carries. It applies to the collections
	// this driver creates; an existing collection keeps the layout it was
	// created with (recorded with its spec and found by DescribeCollection).
	NativeMultiTenancy bool
}

// Driver is a vecguard driver over a Weaviate server. It is safe for
// concurrent use; Close releases its connections.
type Driver struct {
	rest *wv.Client
	conn *grpc.ClientConn
	grpc pb.WeaviateClient
	opts Options
	// native remembers, per class, whether DescribeCollection found it
	// created with native multi-tenancy, so that Collection (which does no
	// I/O) follows the class rather than this driver's option.
	native sync.Map
}

var (
	_ driver.Driver          = (*Driver)(nil)
	_ driver.ErrorClassifier = (*Driver)(nil)
	_ driver.SystemNamer     = (*Driver)(nil)
)

// Open connects to the Weaviate server whose REST API listens on httpAddr and
// whose gRPC API listens on grpcAddr (both host:port) and checks that it is
// ready. opts may be nil.
func Open(ctx context.Context, httpAddr, grpcAddr string, opts *Options) (*Driver, error) {
	d := &Driver{}
	if opts != nil {
		d.opts = *opts
	}
	if httpAddr == "" || grpcAddr == "" {
		return nil, driver.Errorf(driver.InvalidArgument, "weaviate: both the HTTP and the gRPC address are needed")
	}
	scheme := d.opts.Scheme
	if scheme == "" {
		scheme = "http"
	}
	var headers map[string]string
	if d.opts.APIKey != "" {
		headers = map[string]string{"Authorization": "Bearer " + d.opts.APIKey}
	}
	rest, err := wv.NewClient(wv.Config{Host: httpAddr, Scheme: scheme, Headers: headers, Timeout: d.opts.Timeout})
	if err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "weaviate: REST client")
	}
	d.rest = rest
	dial := d.opts.GRPCDialOptions
	if len(dial) == 0 {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	if d.opts.APIKey != "" {
		key := d.opts.APIKey
		dial = append(slices.Clip(dial), grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), method, req, reply, cc, o...)
		}))
	}
	conn, err := grpc.NewClient(grpcAddr, dial...)
	if err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "weaviate: gRPC client")
	}
	d.conn = conn
	d.grpc = pb.NewWeaviateClient(conn)
	if err := d.ping(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return d, nil
}

// ping checks that both APIs answer.
func (d *Driver) ping(ctx context.Context) error {
	ready, err := d.rest.Misc().ReadyChecker().Do(ctx)
	if err != nil {
		return d.wrap(ctx, "ready check", err, true)
	}
	if !ready {
		return driver.Errorf(driver.Unavailable, "weaviate: server is not ready")
	}
	hc, err := grpc_health_v1.NewHealthClient(d.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		return d.wrap(ctx, "gRPC health check", err, true)
	}
	if hc.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return driver.Errorf(driver.Unavailable, "weaviate: gRPC API is not serving")
	}
	return nil
}

// Close closes the gRPC connection.
func (d *Driver) Close() error {
	if err := d.conn.Close(); err != nil {
		return driver.Wrap(driver.Internal, err, "weaviate: close")
	}
	return nil
}

// SystemName implements driver.SystemNamer.
func (d *Driver) SystemName() string { return "weaviate" }

// specDoc is the collection spec as stored in the class description: Weaviate
// keeps vector configs in a map (no order) and has no notion of a tenant
// field, so the spec itself is kept alongside the class.
type specDoc struct {
	Version     int         `json:"vecguard"`
	Name        string      `json:"name"`
	Vectors     []vectorDoc `json:"vectors"`
	Fields      []fieldDoc  `json:"fields,omitempty"`
	TenantField string      `json:"tenant_field,omitempty"`
	Native      bool        `json:"native_tenancy,omitempty"`
}

type vectorDoc struct {
	Name     string `json:"name"`
	Dim      int    `json:"dim"`
	Distance string `json:"distance"`
}

type fieldDoc struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Filterable bool   `json:"filterable,omitempty"`
}

const descPrefix = "vecguard collection "

var kindNames = map[driver.Kind]string{
	driver.KindString: "string", driver.KindInt: "int", driver.KindFloat: "float", driver.KindBool: "bool",
}

var distanceNames = map[driver.Distance]string{
	driver.Cosine: "cosine", driver.Dot: "dot", driver.Euclid: "l2-squared",
}

func encodeSpec(spec *driver.CollectionSpec, native bool) (string, error) {
	doc := specDoc{Version: 1, Name: spec.Name, TenantField: spec.TenantField, Native: native}
	for _, v := range spec.Vectors {
		dist, ok := distanceNames[v.Distance]
		if !ok {
			return "", driver.Errorf(driver.InvalidArgument, "vector %q: invalid distance", v.Name)
		}
		doc.Vectors = append(doc.Vectors, vectorDoc{Name: v.Name, Dim: v.Dim, Distance: dist})
	}
	for _, f := range spec.Fields {
		k, ok := kindNames[f.Kind]
		if !ok {
			return "", driver.Errorf(driver.InvalidArgument, "field %q: invalid kind", f.Name)
		}
		doc.Fields = append(doc.Fields, fieldDoc{Name: f.Name, Kind: k, Filterable: f.Filterable})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", driver.Wrap(driver.Internal, err, "encode collection spec")
	}
	return descPrefix + string(b), nil
}

func decodeSpec(desc string) (*driver.CollectionSpec, bool, error) {
	bad := driver.Errorf(driver.FailedPrecondition, "weaviate: class is not a vecguard collection (no spec in its description)")
	if !strings.HasPrefix(desc, descPrefix) {
		return nil, false, bad
	}
	var doc specDoc
	if err := json.Unmarshal([]byte(desc[len(descPrefix):]), &doc); err != nil || doc.Version != 1 {
		return nil, false, bad
	}
	spec := &driver.CollectionSpec{Name: doc.Name, TenantField: doc.TenantField}
	for _, v := range doc.Vectors {
		vs := driver.VectorSpec{Name: v.Name, Dim: v.Dim}
		for d, n := range distanceNames {
			if n == v.Distance {
				vs.Distance = d
			}
		}
		spec.Vectors = append(spec.Vectors, vs)
	}
	for _, f := range doc.Fields {
		fs := driver.FieldSpec{Name: f.Name, Filterable: f.Filterable}
		for k, n := range kindNames {
			if n == f.Kind {
				fs.Kind = k
			}
		}
		spec.Fields = append(spec.Fields, fs)
	}
	if err := spec.Validate(true); err != nil {
		return nil, false, bad
	}
	return spec, doc.Native, nil
}

// classFor builds the Weaviate class of a spec.
func (d *Driver) classFor(spec *driver.CollectionSpec) (*models.Class, error) {
	native := d.opts.NativeMultiTenancy && spec.TenantField != ""
	desc, err := encodeSpec(spec, native)
	if err != nil {
		return nil, err
	}
	yes, no := true, false
	cls := &models.Class{
		Class:       className(spec.Name),
		Description: desc,
		InvertedIndexConfig: &models.InvertedIndexConfig{
			IndexNullState: true,
		},
		VectorConfig: make(map[string]models.VectorConfig, len(spec.Vectors)),
	}
	for _, v := range spec.Vectors {
		cls.VectorConfig[v.Name] = models.VectorConfig{
			Vectorizer:        map[string]any{"none": map[string]any{}},
			VectorIndexType:   "hnsw",
			VectorIndexConfig: map[string]any{"distance": distanceNames[v.Distance]},
		}
	}
	cls.Properties = append(cls.Properties,
		&models.Property{Name: propKey, DataType: []string{"text"}, Tokenization: models.PropertyTokenizationField,
			IndexFilterable: &yes, IndexSearchable: &no},
		&models.Property{Name: propPayload, DataType: []string{"text"}, Tokenization: models.PropertyTokenizationField,
			IndexFilterable: &no, IndexSearchable: &no},
	)
	for _, f := range spec.Fields {
		filterable := f.Filterable
		p := &models.Property{Name: propertyName(f.Name), IndexFilterable: &filterable, IndexSearchable: &no}
		switch f.Kind {
		case driver.KindString:
			p.DataType = []string{"text"}
			p.Tokenization = models.PropertyTokenizationField
		case driver.KindInt:
			p.DataType = []string{"text"} // sortable decimal: payload.go
			p.Tokenization = models.PropertyTokenizationField
		case driver.KindFloat:
			p.DataType = []string{"number"}
			p.IndexRangeFilters = &filterable
		case driver.KindBool:
			p.DataType = []string{"boolean"}
		default:
			return nil, driver.Errorf(driver.InvalidArgument, "field %q: invalid kind", f.Name)
		}
		cls.Properties = append(cls.Properties, p)
	}
	if native {
		cls.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true, AutoTenantCreation: true, AutoTenantActivation: true}
	}
	return cls, nil
}

// CreateCollection implements driver.Driver.
func (d *Driver) CreateCollection(ctx context.Context, spec *driver.CollectionSpec) error {
	if !driver.ValidName(spec.Name) {
		return driver.Errorf(driver.InvalidArgument, "invalid collection name")
	}
	cls, err := d.classFor(spec)
	if err != nil {
		return err
	}
	if err := d.rest.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
		return d.wrap(ctx, "create class", err, true)
	}
	return nil
}

// DescribeCollection implements driver.Driver.
func (d *Driver) DescribeCollection(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	if !driver.ValidName(name) {
		return nil, driver.Errorf(driver.NotFound, "no such collection")
	}
	cls, err := d.rest.Schema().ClassGetter().WithClassName(className(name)).Do(ctx)
	if err != nil {
		return nil, d.wrap(ctx, "get class", err, true)
	}
	if cls == nil {
		return nil, driver.Errorf(driver.NotFound, "no such collection")
	}
	spec, native, err := decodeSpec(cls.Description)
	if err != nil {
		return nil, err
	}
	d.native.Store(cls.Class, native)
	if spec.Name != name {
		return nil, driver.Errorf(driver.FailedPrecondition, "weaviate: class holds another collection's spec")
	}
	return spec, nil
}

// ListCollections implements driver.Driver. Classes that are not vecguard
// collections are left out.
func (d *Driver) ListCollections(ctx context.Context) ([]string, error) {
	dump, err := d.rest.Schema().Getter().Do(ctx)
	if err != nil {
		return nil, d.wrap(ctx, "get schema", err, true)
	}
	names := []string{}
	for _, cls := range dump.Classes {
		if cls == nil {
			continue
		}
		if n, ok := collectionName(cls.Class); ok && strings.HasPrefix(cls.Description, descPrefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// DropCollection implements driver.Driver.
func (d *Driver) DropCollection(ctx context.Context, name string) error {
	if _, err := d.DescribeCollection(ctx, name); err != nil {
		return err
	}
	if err := d.rest.Schema().ClassDeleter().WithClassName(className(name)).Do(ctx); err != nil {
		return d.wrap(ctx, "delete class", err, true)
	}
	return nil
}

// Collection implements driver.Driver.
func (d *Driver) Collection(spec *driver.CollectionSpec) driver.Collection {
	return newCollection(d, spec)
}
