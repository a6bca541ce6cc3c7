package authn

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
)

// ClaimMapping says which token claims make up a Principal. A claim is named
// either by its top-level name ("sub", "https://example.com/tenant") or, when
// the name starts with "/", by a JSON Pointer (RFC 6901) into nested objects
// ("/realm_access/roles"; "~1" stands for "/" and "~0" for "~" in a segment).
// The zero value maps "sub", "tenant" and "roles" and no attributes.
type ClaimMapping struct {
	// Subject names the claim that becomes Principal.Subject: a non-empty
	// string, required. "" means "sub".
	Subject string
	// Tenant names the claim that carries the tenant: a string, optional.
	// "" means "tenant". See Issuer.Tenant for tenants bound to issuers.
	Tenant string
	// Roles names the claim that carries the roles: an array of strings, or
	// one string of space-separated roles (like "scope"), optional. "" means
	// "roles".
	Roles string
	// Attributes maps principal attribute names to claims. A claim that is
	// absent leaves the attribute out; one that is present must be a
	// string, a number (an integer becomes an int64, any other number a
	// float64) or a bool, or the token is refused.
	Attributes map[string]string
}

// claimPath is a compiled claim name: object keys from the top level down.
type claimPath []string

// parseClaimPath compiles a claim name (see ClaimMapping).
func parseClaimPath(s string) (claimPath, error) {
	if s == "" {
		return nil, fmt.Errorf("empty claim name")
	}
	if len(s) > 256 {
		return nil, fmt.Errorf("claim name longer than 256 bytes")
	}
	if s[0] != '/' {
		return claimPath{s}, nil
	}
	segs := strings.Split(s[1:], "/")
	if len(segs) > 8 {
		return nil, fmt.Errorf("claim pointer %q is deeper than 8 levels", s)
	}
	for i, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("claim pointer %q has an empty segment", s)
		}
		var b strings.Builder
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			if c != '~' {
				b.WriteByte(c)
				continue
			}
			if j+1 == len(seg) || (seg[j+1] != '0' && seg[j+1] != '1') {
				return nil, fmt.Errorf("claim pointer %q has an invalid escape", s)
			}
			if seg[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		segs[i] = b.String()
	}
	return claimPath(segs), nil
}

// lookup returns the value at p in claims, and whether it is present and
// not null.
func (p claimPath) lookup(claims map[string]any) (any, bool) {
	var cur any = claims
	for _, seg := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// claimMapping is a compiled ClaimMapping.
type claimMapping struct {
	subject, tenant, roles claimPath
	attrs                  map[string]claimPath
}

func compileClaimMapping(m ClaimMapping) (*claimMapping, error) {
	c := &claimMapping{attrs: make(map[string]claimPath, len(m.Attributes))}
	for _, f := range []struct {
		name string
		dst  *claimPath
		def  string
	}{{m.Subject, &c.subject, "sub"}, {m.Tenant, &c.tenant, "tenant"}, {m.Roles, &c.roles, "roles"}} {
		n := f.name
		if n == "" {
			n = f.def
		}
		p, err := parseClaimPath(n)
		if err != nil {
			return nil, err
		}
		*f.dst = p
	}
	if len(m.Attributes) > 64 {
		return nil, fmt.Errorf("more than 64 attribute claims")
	}
	for attr, claim := range m.Attributes {
		if attr == "" || len(attr) > 64 {
			return nil, fmt.Errorf("invalid attribute name %q", attr)
		}
		p, err := parseClaimPath(claim)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", attr, err)
		}
		c.attrs[attr] = p
	}
	return c, nil
}

// tenantClaim returns the tenant the claims name, "" when they name none.
func (c *claimMapping) tenantClaim(claims map[string]any) (string, error) {
	v, ok := c.tenant.lookup(claims)
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || len(s) > 256 {
		return "", unauthenticated("invalid tenant claim")
	}
	return s, nil
}

// principal builds the principal of verified claims, without its tenant
// (the caller decides it). The result is valid.
func (c *claimMapping) principal(claims map[string]any) (authz.Principal, error) {
	var p authz.Principal
	v, _ := c.subject.lookup(claims)
	sub, ok := v.(string)
	if !ok || sub == "" {
		return p, unauthenticated("token has no subject")
	}
	p.Subject = sub
	if v, ok := c.roles.lookup(claims); ok {
		roles, err := rolesOf(v)
		if err != nil {
			return p, err
		}
		p.Roles = roles
	}
	for attr, path := range c.attrs {
		v, ok := path.lookup(claims)
		if !ok {
			continue
		}
		a, err := attributeOf(v)
		if err != nil {
			return p, unauthenticated(fmt.Sprintf("claim of attribute %q is not a string, number or bool", attr))
		}
		if p.Attributes == nil {
			p.Attributes = make(map[string]any, len(c.attrs))
		}
		p.Attributes[attr] = a
	}
	if err := checkPrincipal(&p); err != nil {
		return p, err
	}
	return p, nil
}

// rolesOf reads a roles claim: an array of non-empty strings, or one string
// of space-separated roles.
func rolesOf(v any) ([]string, error) {
	bad := unauthenticated("invalid roles claim")
	switch t := v.(type) {
	case string:
		return strings.Fields(t), nil
	case []any:
		if len(t) > 64 {
			return nil, bad
		}
		roles := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, bad
			}
			roles = append(roles, s)
		}
		return roles, nil
	}
	return nil, bad
}

// attributeOf converts a claim value to a principal attribute value.
func attributeOf(v any) (any, error) {
	switch t := v.(type) {
	case string, bool:
		return t, nil
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n, nil
		}
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number out of range")
		}
		return f, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, fmt.Errorf("number out of range")
		}
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t), nil
		}
		return t, nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}
