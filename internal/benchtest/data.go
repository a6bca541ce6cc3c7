package benchtest

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The shape of the adapters' search benchmarks: top TopK of Points points
// of Dim dimensions spread over Tenants tenants, searched as Tenant.
const (
	Points  = 10000
	Dim     = 768
	TopK    = 10
	Tenants = 10
	Tenant  = "t3"
)

// Vector draws a vector of dim standard normal components.
func Vector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// PointsOf draws n points with IDs 1..n, one vector "v" of dim dimensions
// each, and a payload of their tenant ("t0".."t9", in turn) and a title.
func PointsOf(r *rand.Rand, n, dim int) []driver.Point {
	pts := make([]driver.Point, n)
	for i := range pts {
		pts[i] = driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"v": Vector(r, dim)},
			Payload: map[string]any{"tenant": fmt.Sprintf("t%d", i%Tenants), "title": fmt.Sprintf("document %d", i)},
		}
	}
	return pts
}

// Queries draws n query vectors of dim dimensions.
func Queries(r *rand.Rand, n, dim int) [][]float32 {
	qs := make([][]float32, n)
	for i := range qs {
		qs[i] = Vector(r, dim)
	}
	return qs
}

// TenantRows allows admins everything and everyone else every action on
// the rows of their own tenant (the "tenant" field).
var TenantRows = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
	if a == authz.Admin {
		return authz.Decision{Allow: true, Rule: "admin"}, nil
	}
	return authz.Decision{Allow: true, Filter: driver.Eq("tenant", driver.String(p.Tenant)), Rule: "tenant-rows"}, nil
})
