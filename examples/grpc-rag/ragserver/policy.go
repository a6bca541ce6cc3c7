package ragserver

import (
	"context"
	"slices"

	"github.com/vecguard/vecguard/vecguard/authz"
)

// SharedCollection is the collection every tenant writes to and searches;
// vecguard keeps each tenant to its own rows of it (its tenant field).
const SharedCollection = "docs"

// HandbookCollection returns the name of a tenant's private collection.
func HandbookCollection(tenant string) string { return tenant + "_handbook" }

// The roles of the example.
const (
	RoleReader  = "reader"  // search
	RoleWriter  = "writer"  // add documents
	RoleAuditor = "auditor" // read the tenant's audit trail
)

type bootstrapKey struct{}

// bootstrap marks the context of the server's own setup calls. Only those
// may administer collections: no credential can produce this mark.
func bootstrap(ctx context.Context) context.Context {
	return authz.NewContext(context.WithValue(ctx, bootstrapKey{}, true), authz.Principal{Subject: "rag-server"})
}

// Policy is the example's Authorizer:
//   - collections are created by the server itself, at start;
//   - a tenant's principals may use the shared collection and their own
//     tenant's handbook, nothing else;
//   - reading needs the reader role, writing and deleting the writer role;
//   - stored vectors are never returned.
//
// The guarded client adds tenant isolation on top: in the shared collection
// a principal only ever reads and writes its own tenant's rows.
var Policy = authz.AuthorizerFunc(func(ctx context.Context, p *authz.Principal, a authz.Action, coll string) (authz.Decision, error) {
	if a == authz.Admin {
		if ctx.Value(bootstrapKey{}) == true {
			return authz.Decision{Allow: true, Rule: "bootstrap"}, nil
		}
		return authz.Decision{Rule: "admin", Reason: "collections are managed by the server"}, nil
	}
	if p.Tenant == "" || (coll != SharedCollection && coll != HandbookCollection(p.Tenant)) {
		return authz.Decision{Rule: "tenant-collections", Reason: "not a collection of your tenant"}, nil
	}
	need := map[authz.Action]string{authz.Read: RoleReader, authz.Write: RoleWriter, authz.Delete: RoleWriter}[a]
	if need == "" {
		return authz.Decision{Rule: "no-vectors", Reason: "stored vectors are not returned"}, nil
	}
	if !slices.Contains(p.Roles, need) {
		return authz.Decision{Rule: "roles", Reason: "needs the " + need + " role"}, nil
	}
	return authz.Decision{Allow: true, Rule: need}, nil
})
