package milvus

import (
	"context"
	"slices"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Options configures a Driver. The zero value (or nil) is valid.
type Options struct {
	// Consistency is the consistency level of searches, reads and counts.
	// The zero value is entity.ClStrong: a read sees every write that
	// finished before it, which the driver contract asks for.
	Consistency entity.ConsistencyLevel
	// BatchBytes caps the estimated size of one insert request: larger
	// upserts are sent in several requests. 0 means 16 MiB.
	BatchBytes int
	// NoScalarIndexes leaves filterable fields without an INVERTED index.
	NoScalarIndexes bool
}

// Driver is a driver.Driver over a *milvusclient.Client. It is safe for
// concurrent use.
type Driver struct {
	c    *milvusclient.Client
	owns bool
	opts Options
}

var (
	_ driver.Driver          = (*Driver)(nil)
	_ driver.ErrorClassifier = (*Driver)(nil)
	_ driver.SystemNamer     = (*Driver)(nil)
)

// New returns a driver over c. Closing the driver does not close c.
func New(c *milvusclient.Client, opts *Options) *Driver {
	d := &Driver{c: c}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.BatchBytes <= 0 {
		d.opts.BatchBytes = 16 << 20
	}
	return d
}

// Open connects to the Milvus server cfg names and returns a driver that
// owns the connection: Close closes it.
func Open(ctx context.Context, cfg *milvusclient.ClientConfig, opts *Options) (*Driver, error) {
	c, err := milvusclient.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := New(c, opts)
	d.owns = true
	return d, nil
}

// Client returns the client the driver uses.
func (d *Driver) Client() *milvusclient.Client { return d.c }

// Close closes the connection when the driver opened it.
func (d *Driver) Close() error {
	if !d.owns {
		return nil
	}
	return d.c.Close(context.Background())
}

// SystemName implements driver.SystemNamer.
func (d *Driver) SystemName() string { return "milvus" }

// exists reports whether the collection exists.
func (d *Driver) exists(ctx context.Context, name string) (bool, error) {
	return d.c.HasCollection(ctx, milvusclient.NewHasCollectionOption(name))
}

// CreateCollection implements driver.Driver. It creates the collection,
// its indexes, and loads it. Milvus answers a second create with the same
// schema with success, so the driver checks first and answers
// AlreadyExists itself; two concurrent creates of one name may both
// succeed. A create that fails after the collection exists drops it again.
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
	if err := checkNames(spec); err != nil {
		return err
	}
	has, err := d.exists(ctx, spec.Name)
	if err != nil {
		return err
	}
	if has {
		return driver.Errorf(driver.AlreadyExists, "collection already exists")
	}
	opt := milvusclient.NewCreateCollectionOption(spec.Name, buildSchema(spec)).
		WithShardNum(1).
		WithConsistencyLevel(entity.ClStrong).
		WithProperty(specProperty, encodeSpec(spec))
	if err := d.c.CreateCollection(ctx, opt); err != nil {
		return err
	}
	if err := d.prepare(ctx, spec); err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = d.c.DropCollection(dctx, milvusclient.NewDropCollectionOption(spec.Name))
		return err
	}
	return nil
}

// prepare builds the indexes of a new collection and loads it.
func (d *Driver) prepare(ctx context.Context, spec *driver.CollectionSpec) error {
	idx := indexes(spec)
	names := make([]string, 0, len(idx))
	for name := range idx {
		if d.opts.NoScalarIndexes {
			if _, isVector := spec.Vector(name); !isVector {
				continue
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		opt := milvusclient.NewCreateIndexOption(spec.Name, name, idx[name]).WithIndexName(name)
		if _, err := d.c.CreateIndex(ctx, opt); err != nil {
			return err
		}
	}
	for _, name := range names {
		err := waitFor(ctx, func() (bool, error) {
			desc, err := d.c.DescribeIndex(ctx, milvusclient.NewDescribeIndexOption(spec.Name, name))
			if err != nil {
				return false, err
			}
			switch desc.State {
			case index.IndexState(commonpb.IndexState_Finished):
				return true, nil
			case index.IndexState(commonpb.IndexState_Failed):
				return false, driver.Errorf(driver.Internal, "building the index of %s failed", name)
			}
			return false, nil
		})
		if err != nil {
			return err
		}
	}
	return d.load(ctx, spec.Name)
}

// load loads a collection and waits until it is loaded.
func (d *Driver) load(ctx context.Context, name string) error {
	if _, err := d.c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(name)); err != nil {
		return err
	}
	return waitFor(ctx, func() (bool, error) {
		st, err := d.c.GetLoadState(ctx, milvusclient.NewGetLoadStateOption(name))
		if err != nil {
			return false, err
		}
		return st.State == entity.LoadStateLoaded, nil
	})
}

// waitFor calls done until it reports true or fails, first at once, then
// with a growing pause.
func waitFor(ctx context.Context, done func() (bool, error)) error {
	pause := 5 * time.Millisecond
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// DescribeCollection implements driver.Driver. The spec comes from the
// collection property vecguard.spec, checked against the schema.
func (d *Driver) DescribeCollection(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	coll, err := d.c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(name))
	if err != nil {
		return nil, err
	}
	raw, ok := coll.Properties[specProperty]
	if !ok {
		return nil, driver.Errorf(driver.FailedPrecondition, "collection %s was not created by vecguard", name)
	}
	spec, err := decodeSpec(name, raw)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(spec, coll.Schema); err != nil {
		return nil, err
	}
	return spec, nil
}

// ListCollections implements driver.Driver. It lists every collection of
// the database, vecguard's or not, in lexical order.
func (d *Driver) ListCollections(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	names, err := d.c.ListCollections(ctx, milvusclient.NewListCollectionOption())
	if err != nil {
		return nil, err
	}
	names = slices.Clone(names)
	slices.Sort(names)
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// DropCollection implements driver.Driver. Milvus answers a drop of a
// missing collection with success, so the driver checks first.
func (d *Driver) DropCollection(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	has, err := d.exists(ctx, name)
	if err != nil {
		return err
	}
	if !has {
		return driver.Errorf(driver.NotFound, "collection not found")
	}
	return d.c.DropCollection(ctx, milvusclient.NewDropCollectionOption(name))
}

// Collection implements driver.Driver.
func (d *Driver) Collection(spec *driver.CollectionSpec) driver.Collection {
	return &collection{d: d, spec: spec.Clone(), name: spec.Name}
}
