package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/vecguard/vecguard/vecguard/driver"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

// Native multi-tenancy (Options.NativeMultiTenancy). The class of a
// collection with a tenant field is created multi-tenant, with automatic
// tenant creation and activation, and each point is written to the Weaviate
// tenant of its tenant-field value. Points keep the tenant property too, and
// every filter still applies inside a tenant, so isolation never depends on
// the mapping alone.
//
// Reads go to the tenants the filter pins: an Eq or In on the tenant field at
// the top of the filter or inside a top-level And (the guarded client always
// adds one). A filter that pins no tenant is run in every tenant and the
// results merged. A tenant that was never written holds nothing.
//
// Weaviate tenant names allow 1 to 64 ASCII letters, digits, '-' and '_'. A
// tenant value v that fits in 62 of those becomes "t-" + v; any other value
// becomes "h-" + the first 62 hex digits of SHA-256(v).

func tenantName(v string) string {
	if len(v) >= 1 && len(v) <= 62 && tenantSafe(v) {
		return "t-" + v
	}
	sum := sha256.Sum256([]byte(v))
	return "h-" + hex.EncodeToString(sum[:])[:62]
}

func tenantSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// pinnedTenants returns the tenant values a filter restricts points to, if
// it restricts them to a known set.
func pinnedTenants(f *driver.Filter, field string) ([]string, bool) {
	if f == nil {
		return nil, false
	}
	switch f.Op {
	case driver.OpEq, driver.OpIn:
		if f.Field != field {
			return nil, false
		}
		vs := f.Values
		if f.Op == driver.OpEq {
			vs = []driver.Value{f.Value}
		}
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			if v.Kind() != driver.KindString {
				return nil, false
			}
			out = append(out, v.Str())
		}
		return out, true
	case driver.OpAnd:
		for _, c := range f.Children {
			if ts, ok := pinnedTenants(c, field); ok {
				return ts, true
			}
		}
	case driver.OpOr:
		var out []string
		for _, c := range f.Children {
			ts, ok := pinnedTenants(c, field)
			if !ok {
				return nil, false
			}
			out = append(out, ts...)
		}
		return out, true
	}
	return nil, false
}

// tenantsFor returns the Weaviate tenants an operation filtered by f must
// visit: [""] without native multi-tenancy.
func (c *collection) tenantsFor(ctx context.Context, f *driver.Filter) ([]string, error) {
	if !c.native {
		return []string{""}, nil
	}
	if vs, ok := pinnedTenants(f, c.spec.TenantField); ok {
		names := make([]string, 0, len(vs))
		for _, v := range vs {
			names = append(names, tenantName(v))
		}
		slices.Sort(names)
		return slices.Compact(names), nil
	}
	reply, err := c.d.grpc.TenantsGet(ctx, &pb.TenantsGetRequest{Collection: c.class})
	if err != nil {
		return nil, c.d.wrap(ctx, "list tenants", err, false)
	}
	names := make([]string, 0, len(reply.GetTenants()))
	for _, t := range reply.GetTenants() {
		names = append(names, t.GetName())
	}
	slices.Sort(names)
	return names, nil
}
