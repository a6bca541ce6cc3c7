package benchtest

import (
	"context"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// EncryptedClients creates collection spec through a guarded client that
// encrypts it (SAP vectors at the default β with exact AES-GCM copies, the
// "title" field randomized), writes pts into it, each point as the tenant
// in its "tenant" field, and returns one guarded client over it per
// oversampling factor (0: the default). The clients allow everything to
// admins and, to everyone else, the rows of their own tenant; they audit to
// a.
func EncryptedClients(ctx context.Context, d driver.Driver, spec *driver.CollectionSpec, pts []driver.Point, a audit.Auditor, oversample ...int) ([]*vecguard.Client, error) {
	root, err := encryption.HKDFRootKey([]byte("benchmark root key, 32 bytes ok!"))
	if err != nil {
		return nil, err
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		return nil, err
	}
	var clients []*vecguard.Client
	for _, o := range oversample {
		enc, err := encryption.New(fixedKeys{kr}, encryption.Config{
			Fields:     map[string]encryption.FieldMode{"title": encryption.Randomized},
			Oversample: o,
		})
		if err != nil {
			return nil, err
		}
		clients = append(clients, vecguard.New(d, &vecguard.Options{
			Authorizer: TenantRows, Auditor: a, Encryption: map[string]encryption.Protector{spec.Name: enc},
		}))
	}
	if len(clients) == 0 {
		return nil, driver.Errorf(driver.InvalidArgument, "benchtest: no oversampling factor")
	}
	c := clients[0]
	if err := c.CreateCollection(vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "admin"}), *spec); err != nil {
		return nil, err
	}
	byTenant := map[string][]driver.Point{}
	for _, p := range pts {
		t, _ := p.Payload["tenant"].(string)
		byTenant[t] = append(byTenant[t], p)
	}
	for t, tp := range byTenant {
		tctx := vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "loader", Tenant: t})
		for start := 0; start < len(tp); start += 1000 {
			if err := c.Upsert(tctx, spec.Name, tp[start:min(start+1000, len(tp))]); err != nil {
				return nil, err
			}
		}
	}
	return clients, nil
}

// fixedKeys hands out one keyring for every scope.
type fixedKeys struct{ k *encryption.Keyring }

func (f fixedKeys) Keyring(context.Context, encryption.Scope) (*encryption.Keyring, error) {
	return f.k, nil
}

// Candidates returns a search of the stored collection name through the
// driver alone, as an encrypted search with oversample times limit
// candidates asks the database for them: limit·oversample points of the
// tenant under key version 1, with their payloads (the sealed secrets) and
// without vectors. It measures what fetching the candidates costs with no
// guard, decryption or rescoring; the query vector's values do not change
// that cost.
func Candidates(ctx context.Context, d driver.Driver, name, tenant string, limit, oversample int) (func(q []float32) error, error) {
	spec, err := d.DescribeCollection(ctx, name)
	if err != nil {
		return nil, err
	}
	coll := d.Collection(spec)
	q := driver.Query{
		VectorName: spec.Vectors[0].Name, Limit: limit * oversample,
		Filter:  driver.And(driver.Eq("tenant", driver.String(tenant)), driver.Eq(encryption.FieldKeyVersion, driver.Int(1))),
		Payload: driver.Projection{All: true},
	}
	return func(v []float32) error {
		q := q
		q.Vector = v
		hits, err := coll.Search(ctx, &q)
		if err == nil && len(hits) != q.Limit {
			err = driver.Errorf(driver.Internal, "benchtest: %d candidates, want %d", len(hits), q.Limit)
		}
		return err
	}, nil
}

// GuardedSearch returns a search through c, as the principal in ctx, of the k
// points of collection nearest to the query, with their payloads; it fails
// unless it returns exactly k.
func GuardedSearch(ctx context.Context, c *vecguard.Client, collection string, k int) func(q []float32) error {
	return func(q []float32) error {
		hits, err := c.Search(ctx, collection, vecguard.SearchRequest{Vector: q, Limit: k, WithPayload: true})
		if err == nil && len(hits) != k {
			err = driver.Errorf(driver.Internal, "benchtest: %d results, want %d", len(hits), k)
		}
		return err
	}
}
