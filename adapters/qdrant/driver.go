package qdrant

import (
	"context"
	"slices"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Options configures a Driver. The zero value (or nil) is valid.
type Options struct {
	// ExactSearch makes every search exact (a full scan) instead of an HNSW
	// search. Qdrant scans small and heavily filtered collections anyway;
	// set it when results must be the exact top-k.
	ExactSearch bool
	// HnswEf is the HNSW beam width of searches; 0 leaves Qdrant's default.
	HnswEf uint64
	// ShardNumber and ReplicationFactor apply to new collections; 0 leaves
	// Qdrant's defaults.
	ShardNumber       uint32
	ReplicationFactor uint32
	// MaxRecvMsgSize bounds the size of one response (a scroll page with
	// vectors, say); 0 means 64 MiB.
	MaxRecvMsgSize int
	// MaxBatchBytes is the approximate size of one upsert request; larger
	// upserts are split. 0 means 8 MiB, well below Qdrant's default request
	// limit of 32 MiB.
	MaxBatchBytes int
}

// Driver is a vecguard driver over a Qdrant client. It implements
// driver.Driver, driver.ErrorClassifier and driver.SystemNamer; its
// collections implement driver.Collection and driver.PayloadUpdater. A
// Driver is safe for concurrent use.
type Driver struct {
	client *qc.Client
	owned  bool
	opts   Options
	call   []grpc.CallOption
}

var (
	_ driver.Driver          = (*Driver)(nil)
	_ driver.ErrorClassifier = (*Driver)(nil)
	_ driver.SystemNamer     = (*Driver)(nil)
	_ driver.Collection      = (*collection)(nil)
	_ driver.PayloadUpdater  = (*collection)(nil)
)

// New returns a driver over an existing client. Close does not close the
// client: its owner does.
func New(client *qc.Client, opts *Options) *Driver {
	d := &Driver{client: client}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.MaxRecvMsgSize <= 0 {
		d.opts.MaxRecvMsgSize = 64 << 20
	}
	if d.opts.MaxBatchBytes <= 0 {
		d.opts.MaxBatchBytes = 8 << 20
	}
	d.call = []grpc.CallOption{grpc.MaxCallRecvMsgSize(d.opts.MaxRecvMsgSize)}
	return d
}

// Open connects to Qdrant with cfg (see qdrant.NewClient) and returns a
// driver that owns the client: Close closes it.
func Open(cfg *qc.Config, opts *Options) (*Driver, error) {
	client, err := qc.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	d := New(client, opts)
	d.owned = true
	return d, nil
}

// Client returns the Qdrant client the driver uses.
func (d *Driver) Client() *qc.Client { return d.client }

// Close closes the client if the driver opened it.
func (d *Driver) Close() error {
	if d.owned {
		return d.client.Close()
	}
	return nil
}

// SystemName implements driver.SystemNamer.
func (d *Driver) SystemName() string { return "qdrant" }

func (d *Driver) points() qc.PointsClient           { return d.client.GetPointsClient() }
func (d *Driver) collections() qc.CollectionsClient { return d.client.GetCollectionsClient() }

var distances = map[driver.Distance]qc.Distance{
	driver.Cosine: qc.Distance_Cosine,
	driver.Dot:    qc.Distance_Dot,
	driver.Euclid: qc.Distance_Euclid,
}

var fieldTypes = map[driver.Kind]qc.FieldType{
	driver.KindString: qc.FieldType_FieldTypeKeyword,
	driver.KindInt:    qc.FieldType_FieldTypeInteger,
	driver.KindFloat:  qc.FieldType_FieldTypeFloat,
	driver.KindBool:   qc.FieldType_FieldTypeBool,
}

// CreateCollection implements driver.Driver. It creates a collection of
// named vectors, stores the spec in the collection's metadata (Qdrant 1.16
// and later keep it), and creates a payload index for every filterable
// field: keyword, integer, float or bool, with is_tenant on the tenant
// field. If an index cannot be created, the collection is dropped again.
func (d *Driver) CreateCollection(ctx context.Context, spec *driver.CollectionSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if spec == nil {
		return driver.Errorf(driver.InvalidArgument, "no collection spec")
	}
	if err := spec.Validate(true); err != nil {
		return err
	}
	params := make(map[string]*qc.VectorParams, len(spec.Vectors))
	for _, v := range spec.Vectors {
		params[v.Name] = &qc.VectorParams{Size: uint64(v.Dim), Distance: distances[v.Distance]}
	}
	req := &qc.CreateCollection{
		CollectionName: spec.Name,
		VectorsConfig:  qc.NewVectorsConfigMap(params),
		Metadata:       map[string]*qc.Value{metadataKey: encodeSpec(spec)},
	}
	if d.opts.ShardNumber > 0 {
		req.ShardNumber = &d.opts.ShardNumber
	}
	if d.opts.ReplicationFactor > 0 {
		req.ReplicationFactor = &d.opts.ReplicationFactor
	}
	res, err := d.collections().Create(ctx, req, d.call...)
	if err != nil {
		return fail(err)
	}
	if !res.GetResult() {
		return driver.Errorf(driver.Unknown, "qdrant did not create the collection")
	}
	wait := true
	for _, f := range spec.Fields {
		if !f.Filterable {
			continue
		}
		ft := fieldTypes[f.Kind]
		ireq := &qc.CreateFieldIndexCollection{
			CollectionName: spec.Name, Wait: &wait, FieldName: f.Name, FieldType: &ft,
		}
		if f.Name == spec.TenantField {
			isTenant := true
			ireq.FieldIndexParams = qc.NewPayloadIndexParamsKeyword(&qc.KeywordIndexParams{IsTenant: &isTenant})
		}
		if _, err := d.points().CreateFieldIndex(ctx, ireq, d.call...); err != nil {
			// Do not leave a collection without its indexes behind; the
			// drop must run even when ctx is what failed.
			_, _ = d.collections().Delete(context.WithoutCancel(ctx), &qc.DeleteCollection{CollectionName: spec.Name}, d.call...)
			return fail(err)
		}
	}
	return nil
}

// DescribeCollection implements driver.Driver. The spec comes from the
// collection's metadata; a collection created without vecguard is
// described from its configuration: its named vectors (in name order) and
// one filterable field per keyword, integer, float or bool payload index,
// with the keyword index marked is_tenant as the tenant field.
func (d *Driver) DescribeCollection(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := d.collections().Get(ctx, &qc.GetCollectionInfoRequest{CollectionName: name}, d.call...)
	if err != nil {
		return nil, fail(err)
	}
	return specFromInfo(name, res.GetResult())
}

// ListCollections implements driver.Driver.
func (d *Driver) ListCollections(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := d.collections().List(ctx, &qc.ListCollectionsRequest{}, d.call...)
	if err != nil {
		return nil, fail(err)
	}
	names := make([]string, 0, len(res.GetCollections()))
	for _, c := range res.GetCollections() {
		names = append(names, c.GetName())
	}
	slices.Sort(names)
	return names, nil
}

// DropCollection implements driver.Driver. Qdrant answers false for a
// collection that does not exist; that is NotFound.
func (d *Driver) DropCollection(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := d.collections().Delete(ctx, &qc.DeleteCollection{CollectionName: name}, d.call...)
	if err != nil {
		return fail(err)
	}
	if !res.GetResult() {
		return driver.Errorf(driver.NotFound, "collection not found")
	}
	return nil
}

// Collection implements driver.Driver.
func (d *Driver) Collection(spec *driver.CollectionSpec) driver.Collection {
	return &collection{d: d, spec: spec.Clone()}
}
