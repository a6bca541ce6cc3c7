package encryption

import (
	"context"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// ReencryptOptions narrows and paces a re-encryption.
type ReencryptOptions struct {
	// Tenant, when set, re-encrypts only this tenant's points (the
	// collection must have a tenant field). Otherwise every tenant's.
	Tenant string
	// BatchSize is the number of points read and written at a time; 0
	// means 256.
	BatchSize int
	// Progress, when set, is called after each batch is written.
	Progress func(ReencryptStats)
}

// ReencryptStats counts what a re-encryption did.
type ReencryptStats struct {
	Scanned     int64 // points read
	Reencrypted int64 // points written under the primary version
}

// Reencrypt implements Migrator. It scrolls the collection in ID order,
// opens every point not sealed under its scope's primary key version,
// seals it again under the primary version and writes it back, batch by
// batch. A point that fails to open stops the run with its error: nothing
// is skipped silently. Run it after rotating keys and before retiring the
// old versions; it can be re-run and resumes cheaply, since current points
// are only read.
//
// The database offers no compare-and-swap, so a point a caller rewrites
// while its batch is in flight may be overwritten by the re-encrypted older
// copy: run it when writes to the collection are paused, or re-run it and
// reconcile.
func (e *Encryptor) Reencrypt(ctx context.Context, coll driver.Collection, stored *driver.CollectionSpec, opts ReencryptOptions) (ReencryptStats, error) {
	var st ReencryptStats
	batch := opts.BatchSize
	if batch == 0 {
		batch = 256
	}
	if batch < 1 || batch > driver.MaxBatch {
		return st, driver.Errorf(driver.InvalidArgument, "encryption: batch size must be 1 to %d", driver.MaxBatch)
	}
	tf := stored.TenantField
	if opts.Tenant != "" && tf == "" {
		return st, driver.Errorf(driver.InvalidArgument, "encryption: the collection has no tenant field")
	}
	scope := func(p *driver.Point) (Scope, bool) {
		s := Scope{Collection: stored.Name}
		if tf != "" {
			t, ok := p.Payload[tf].(string)
			if !ok {
				return s, false
			}
			s.Tenant = t
		}
		return s, true
	}
	var filter *driver.Filter
	if opts.Tenant != "" {
		filter = driver.Eq(tf, driver.String(opts.Tenant))
	}
	// With one scope known in advance, only its stale points are read.
	if tf == "" || opts.Tenant != "" {
		kr, err := e.keyring(ctx, Scope{Tenant: opts.Tenant, Collection: stored.Name})
		if err != nil {
			return st, err
		}
		filter = driver.And(filter, driver.Ne(FieldKeyVersion, driver.Int(int64(kr.Primary()))))
	}
	primaries := map[string]uint32{}
	var after driver.PointID
	for {
		pg, err := coll.Read(ctx, &driver.ReadRequest{Filter: filter, Limit: batch, After: after, Payload: driver.Projection{All: true}, WithVectors: true})
		if err != nil {
			return st, err
		}
		st.Scanned += int64(len(pg.Points))
		groups := map[Scope][]driver.Point{}
		var order []Scope
		for _, p := range pg.Points {
			s, ok := scope(&p)
			if !ok {
				return st, dataLoss(p.ID, errNotSealed)
			}
			primary, ok := primaries[s.Tenant]
			if !ok {
				kr, err := e.keyring(ctx, s)
				if err != nil {
					return st, err
				}
				primary = kr.Primary()
				primaries[s.Tenant] = primary
			}
			if v, ok := p.Payload[FieldKeyVersion].(int64); ok && v == int64(primary) {
				continue
			}
			if _, seen := groups[s]; !seen {
				order = append(order, s)
			}
			groups[s] = append(groups[s], p)
		}
		for _, s := range order {
			pts := groups[s]
			if err := e.Open(ctx, s, pts); err != nil {
				return st, err
			}
			sealed, err := e.Seal(ctx, s, pts)
			if err != nil {
				return st, err
			}
			if err := coll.Upsert(ctx, sealed); err != nil {
				return st, err
			}
			st.Reencrypted += int64(len(sealed))
		}
		if opts.Progress != nil {
			opts.Progress(st)
		}
		if pg.Next.IsZero() {
			return st, nil
		}
		after = pg.Next
	}
}
