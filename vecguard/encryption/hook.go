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
// re-checks results before it opens them. Encryptor is the implementation
// this package provides.
type Protector interface {
	// StoredSpec returns the spec the database stores: the user's spec plus
	// the reserved fields the protector needs. It refuses specs it cannot
	// protect (an encrypted tenant field, say).
	StoredSpec(spec *driver.CollectionSpec) (*driver.CollectionSpec, error)
	// Seal returns encrypted copies of points; it does not modify its input.
	Seal(ctx context.Context, s Scope, points []driver.Point) ([]driver.Point, error)
	// Open decrypts points in place: vectors, payload fields, and the
	// reserved fields removed. A tampered point, one sealed under a foreign,
	// retired or destroyed key version, or one without metadata is an error
	// with code DataLoss, never garbage. Errors of the key provider pass
	// through (FailedPrecondition when a tenant's keys were destroyed).
	Open(ctx context.Context, s Scope, points []driver.Point) error
	// Queries encrypts a query vector once per active key version, primary
	// first.
	Queries(ctx context.Context, s Scope, vectorName string, v []float32) ([]EncryptedQuery, error)
	// RewriteFilter rewrites eq/in filters on deterministically encrypted
	// fields to ciphertext and refuses filters it cannot serve (ranges on
	// encrypted fields) with InvalidArgument.
	RewriteFilter(ctx context.Context, s Scope, f *driver.Filter) (*driver.Filter, error)
}

// Oversampler is an optional interface of a Protector: how many candidates
// an encrypted search fetches per key version to return limit results after
// exact rescoring. Without it the client fetches limit.
type Oversampler interface {
	Candidates(limit int) int
}

// Migrator is an optional interface of a Protector: it re-encrypts the
// points of a collection under the current primary key versions
// (vecguard.Client.Reencrypt calls it). coll and stored are the
// collection's driver handle and stored spec.
type Migrator interface {
	Reencrypt(ctx context.Context, coll driver.Collection, stored *driver.CollectionSpec, opts ReencryptOptions) (ReencryptStats, error)
}

// Ranker is an optional interface of a Protector: it reads the plaintext
// vectors of search candidates more cheaply than Open, so that an encrypted
// search can rescore its oversampled candidates exactly and open only the
// points it returns.
//
// The client asks the database for the candidates' stored vectors only when
// StoredVectorsNeeded says so. RankVectors does not verify points as Open
// does, so its vectors serve for ranking only; the client opens every point
// it returns with OpenRanked. A candidate tampered with can then change the
// ranking, which the database controls anyway, but never what is returned.
// A point it cannot read is an error with code DataLoss, as in Open.
type Ranker interface {
	// StoredVectorsNeeded reports whether RankVectors and OpenRanked need
	// the points' stored vectors.
	StoredVectorsNeeded() bool
	// RankVectors returns each point's plaintext vector vectorName, equal
	// to the one OpenRanked returns for an authentic point.
	RankVectors(ctx context.Context, s Scope, vectorName string, points []driver.Point) ([][]float32, error)
	// OpenRanked is Open for points a search read with their stored
	// vectors only if StoredVectorsNeeded: everything else is verified as
	// Open verifies it.
	OpenRanked(ctx context.Context, s Scope, points []driver.Point) error
}
