package authn

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
)

// CertField names a part of a client certificate a principal's subject,
// tenant or roles are read from.
type CertField uint8

// The certificate fields. The subject-name fields (CommonName,
// Organization, OrganizationalUnit) come from the certificate's subject;
// the others from its subject alternative names.
const (
	NoField            CertField = iota
	CommonName                   // subject CN
	Organization                 // subject O
	OrganizationalUnit           // subject OU
	DNSName                      // DNS SAN
	EmailAddress                 // email SAN
	URI                          // URI SAN (e.g. a SPIFFE ID)
)

func (f CertField) String() string {
	switch f {
	case NoField:
		return "none"
	case CommonName:
		return "CN"
	case Organization:
		return "O"
	case OrganizationalUnit:
		return "OU"
	case DNSName:
		return "DNS SAN"
	case EmailAddress:
		return "email SAN"
	case URI:
		return "URI SAN"
	}
	return fmt.Sprintf("CertField(%d)", uint8(f))
}

// values returns the values of f in c.
func (f CertField) values(c *x509.Certificate, uriPrefix string) []string {
	switch f {
	case CommonName:
		if c.Subject.CommonName == "" {
			return nil
		}
		return []string{c.Subject.CommonName}
	case Organization:
		return c.Subject.Organization
	case OrganizationalUnit:
		return c.Subject.OrganizationalUnit
	case DNSName:
		return c.DNSNames
	case EmailAddress:
		return c.EmailAddresses
	case URI:
		var out []string
		for _, u := range c.URIs {
			if s, ok := strings.CutPrefix(u.String(), uriPrefix); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// CertOptions configures a CertMapper. The zero value (or nil) maps the
// subject common name to the principal's subject and nothing else.
type CertOptions struct {
	// Subject is the field that becomes Principal.Subject; it must hold
	// exactly one value. NoField means CommonName.
	Subject CertField
	// Tenant is the field that holds the tenant (exactly one value), or
	// NoField.
	Tenant CertField
	// Roles is the field whose values are the roles, or NoField.
	Roles CertField
	// URIPrefix, with URI fields, keeps only the URI SANs that start with it
	// and strips it: "spiffe://example.org/" maps
	// "spiffe://example.org/ns/rag/sa/indexer" to "ns/rag/sa/indexer".
	URIPrefix string
	// TenantCAs binds tenants to the certificate authorities that issue
	// their client certificates (roots or intermediates). When set, a
	// certificate is accepted only if a verified chain runs through a CA
	// of the principal's tenant, so one tenant's CA cannot issue
	// certificates for another tenant. With Tenant unset, the tenant is the
	// one whose CA issued the certificate.
	TenantCAs map[string][]*x509.Certificate
}

// CertMapper maps verified client certificates to principals. The TLS
// handshake verifies the chain (tls.Config.ClientAuth set to
// tls.RequireAndVerifyClientCert or tls.VerifyClientCertIfGiven, with
// ClientCAs); CertMapper reads the verified leaf. It is safe for concurrent
// use.
type CertMapper struct {
	opts CertOptions
}

var _ CertVerifier = (*CertMapper)(nil)

// NewCertMapper returns a CertMapper for opts; nil means the defaults.
func NewCertMapper(o *CertOptions) (*CertMapper, error) {
	var opts CertOptions
	if o != nil {
		opts = *o
	}
	if opts.Subject == NoField {
		opts.Subject = CommonName
	}
	for _, f := range []CertField{opts.Subject, opts.Tenant, opts.Roles} {
		if f > URI {
			return nil, fmt.Errorf("authn: unknown certificate field %d", uint8(f))
		}
	}
	cas := make(map[string][]*x509.Certificate, len(opts.TenantCAs))
	for t, list := range opts.TenantCAs {
		if t == "" || len(list) == 0 {
			return nil, errors.New("authn: TenantCAs needs a tenant name and at least one CA for each entry")
		}
		for _, c := range list {
			if c == nil || !c.IsCA {
				return nil, fmt.Errorf("authn: TenantCAs[%q] holds a certificate that is not a CA", t)
			}
		}
		cas[t] = append([]*x509.Certificate(nil), list...)
	}
	if opts.TenantCAs != nil {
		opts.TenantCAs = cas
	}
	return &CertMapper{opts: opts}, nil
}

var (
	errNoVerifiedChain = unauthenticated("client certificate not verified")
	errCertSubject     = unauthenticated("client certificate has no single subject value")
	errCertTenant      = unauthenticated("client certificate has no single tenant value")
	errCertTenantCA    = unauthenticated("client certificate not issued by a CA of its tenant")
)

// VerifyCertificate implements CertVerifier.
func (m *CertMapper) VerifyCertificate(_ context.Context, chains [][]*x509.Certificate) (authz.Principal, error) {
	if len(chains) == 0 || len(chains[0]) == 0 {
		return authz.Principal{}, errNoVerifiedChain
	}
	leaf := chains[0][0]
	var p authz.Principal
	subs := m.opts.Subject.values(leaf, m.opts.URIPrefix)
	if len(subs) != 1 || subs[0] == "" {
		return p, errCertSubject
	}
	p.Subject = subs[0]
	if m.opts.Tenant != NoField {
		ts := m.opts.Tenant.values(leaf, m.opts.URIPrefix)
		if len(ts) != 1 || ts[0] == "" {
			return authz.Principal{}, errCertTenant
		}
		p.Tenant = ts[0]
	}
	if m.opts.Roles != NoField {
		p.Roles = append([]string(nil), m.opts.Roles.values(leaf, m.opts.URIPrefix)...)
	}
	if m.opts.TenantCAs != nil {
		if p.Tenant == "" {
			t, err := m.tenantOfCA(chains)
			if err != nil {
				return authz.Principal{}, err
			}
			p.Tenant = t
		} else if !issuedBy(chains, m.opts.TenantCAs[p.Tenant]) {
			return authz.Principal{}, errCertTenantCA
		}
	}
	if err := checkPrincipal(&p); err != nil {
		return authz.Principal{}, err
	}
	return p, nil
}

// tenantOfCA returns the one tenant whose CA is on a verified chain.
func (m *CertMapper) tenantOfCA(chains [][]*x509.Certificate) (string, error) {
	found := ""
	for t, cas := range m.opts.TenantCAs {
		if issuedBy(chains, cas) {
			if found != "" {
				return "", errCertTenantCA // CAs of two tenants: ambiguous
			}
			found = t
		}
	}
	if found == "" {
		return "", errCertTenantCA
	}
	return found, nil
}

// issuedBy reports whether a verified chain runs through one of cas (above
// the leaf).
func issuedBy(chains [][]*x509.Certificate, cas []*x509.Certificate) bool {
	for _, chain := range chains {
		if len(chain) < 2 {
			continue
		}
		for _, c := range chain[1:] {
			for _, ca := range cas {
				if bytes.Equal(c.Raw, ca.Raw) {
					return true
				}
			}
		}
	}
	return false
}
