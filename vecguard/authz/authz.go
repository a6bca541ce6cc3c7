// Package authz defines who a caller is (Principal) and the one small
// interface vecguard asks for permission through (Authorizer).
//
// An Authorizer answers one question: may this principal perform this action
// on this collection, and if so on which rows? The row part is a filter of
// the neutral filter language; the guarded client AND-s it with the caller's
// own filter and with tenant isolation, so a policy can narrow what a caller
// sees but a caller can never widen it.
//
// Package casbinauthz is the default implementation: role-based rules per
// tenant with row conditions, from a Casbin policy file or adapter.
//
// # Errors
//
// An Authorizer that fails returns an error; the client then refuses the
// operation (fail closed) and reports the error's code, or PermissionDenied
// when it has none.
package authz

import (
	"context"
	"math"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Action is what a principal wants to do to a collection.
type Action string

// The actions. Admin covers collection creation, description by
// administrators, dropping and index management. ReadVectors is needed, on top
// of Read, to have stored vectors returned.
const (
	Read        Action = "read"
	Write       Action = "write"
	Delete      Action = "delete"
	Admin       Action = "admin"
	ReadVectors Action = "read_vectors"
)

// Valid reports whether a is one of the defined actions.
func (a Action) Valid() bool {
	switch a {
	case Read, Write, Delete, Admin, ReadVectors:
		return true
	}
	return false
}

// Principal is the caller on whose behalf an operation runs.
type Principal struct {
	Subject    string         // who: a user or service ID
	Tenant     string         // which tenant the subject acts for
	Roles      []string       // roles granted to the subject in that tenant
	Attributes map[string]any // string, int64, float64 or bool values for row rules
}

// Validate checks that a principal is usable: a subject, at most 64 roles,
// attribute values of the supported scalar kinds.
func (p *Principal) Validate() error {
	if p == nil || p.Subject == "" {
		return driver.Errorf(driver.Unauthenticated, "no principal subject")
	}
	if len(p.Subject) > 256 || len(p.Tenant) > 256 || len(p.Roles) > 64 || len(p.Attributes) > 64 {
		return driver.Errorf(driver.InvalidArgument, "principal too large")
	}
	for _, r := range p.Roles {
		if r == "" || len(r) > 256 {
			return driver.Errorf(driver.InvalidArgument, "invalid principal role")
		}
	}
	for k, v := range p.Attributes {
		if k == "" || len(k) > 64 {
			return driver.Errorf(driver.InvalidArgument, "invalid principal attribute name")
		}
		switch t := v.(type) {
		case string, int64, bool, int:
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return driver.Errorf(driver.InvalidArgument, "principal attribute %q is not finite", k)
			}
		default:
			return driver.Errorf(driver.InvalidArgument, "principal attribute %q has unsupported type %T", k, v)
		}
	}
	return nil
}

// Clone returns a deep copy of p.
func (p *Principal) Clone() *Principal {
	c := *p
	c.Roles = append([]string(nil), p.Roles...)
	if p.Attributes != nil {
		c.Attributes = make(map[string]any, len(p.Attributes))
		for k, v := range p.Attributes {
			if n, ok := v.(int); ok {
				v = int64(n)
			}
			c.Attributes[k] = v
		}
	}
	return &c
}

type ctxKey struct{}

// NewContext returns a context that carries a copy of p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p.Clone())
}

// FromContext returns the principal carried by ctx. The returned value is
// shared: do not modify it.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	return p, ok && p != nil
}

// Decision is an Authorizer's answer.
type Decision struct {
	Allow bool
	// Filter restricts an allowed action to the rows it matches; nil means
	// every row (of the caller's tenant, which the client enforces anyway).
	Filter *driver.Filter
	Rule   string // the rule that decided, for the audit log
	Reason string // why, for the caller and the audit log
}

// Authorizer decides whether a principal may perform an action on a
// collection, and on which rows. Implementations must be safe for concurrent
// use, deny when no rule matches, and let deny rules override allows.
type Authorizer interface {
	Authorize(ctx context.Context, p *Principal, a Action, collection string) (Decision, error)
}

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(ctx context.Context, p *Principal, a Action, collection string) (Decision, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, p *Principal, a Action, collection string) (Decision, error) {
	return f(ctx, p, a, collection)
}

// DenyAll is the Authorizer used when none is configured: it denies everything.
var DenyAll Authorizer = AuthorizerFunc(func(context.Context, *Principal, Action, string) (Decision, error) {
	return Decision{Allow: false, Rule: "default", Reason: "no authorizer configured"}, nil
})
