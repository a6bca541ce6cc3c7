package encryption

import (
	"context"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Scope names whose keys protect data: a tenant ("" for a collection without
// a tenant field) within a collection.
type Scope struct {
	Tenant     string
	Collection string
}

// EncryptedQuery is one query vector encrypted under one key version, with
// the filter that restricts the search to points stored under that version.
type EncryptedQuery struct {
	Vector []float32
	Filter *driver.Filter
}

// Protector encrypts and decrypts the points of one collection for the
// guarded client. The client validates and authorizes before it seals, and
// re-checks results before it opens them.
type Protector interface {
	// StoredSpec returns the spec the database stores: the user's spec plus
	// the reserved fields the protector needs. It refuses specs it cannot
	// protect (an encrypted tenant field, say).
	StoredSpec(spec *driver.CollectionSpec) (*driver.CollectionSpec, error)
	// Seal returns encrypted copies of points; it does not modify its input.
	Seal(ctx context.Context, s Scope, points []driver.Point) ([]driver.Point, error)
	// Open decrypts points in place. A tampered point or one sealed under a
	// foreign or destroyed key is an error (DataLoss or PermissionDenied).
	Open(ctx context.Context, s Scope, points []driver.Point) error
	// Queries encrypts a query vector once per active key version.
	Queries(ctx context.Context, s Scope, vectorName string, v []float32) ([]EncryptedQuery, error)
	// RewriteFilter rewrites eq/in filters on deterministically encrypted
	// fields to ciphertext and refuses filters it cannot serve (ranges on
	// encrypted fields).
	RewriteFilter(ctx context.Context, s Scope, f *driver.Filter) (*driver.Filter, error)
}
