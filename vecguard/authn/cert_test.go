package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// testCA issues certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newCert(t testing.TB, tmpl *x509.Certificate, parent *testCA) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = testNow.Add(-time.Hour), testNow.Add(24*time.Hour)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey))
	return must(x509.ParseCertificate(der)), key
}

func newTestCA(t testing.TB, name string, parent *testCA) *testCA {
	c, k := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, parent)
	return &testCA{c, k}
}

func (ca *testCA) leaf(t testing.TB, tmpl *x509.Certificate) *x509.Certificate {
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	c, _ := newCert(t, tmpl, ca)
	return c
}

// chains verifies leaf the way a TLS server does.
func chains(t testing.TB, leaf *x509.Certificate, root *testCA, intermediates ...*testCA) [][]*x509.Certificate {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.cert)
	for _, c := range intermediates {
		inter.AddCert(c.cert)
	}
	ch, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: testNow,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestCertMapper(t *testing.T) {
	root := newTestCA(t, "root", nil)
	acmeCA, globexCA := newTestCA(t, "acme CA", root), newTestCA(t, "globex CA", root)
	spiffe := func(s string) []*url.URL { return []*url.URL{must(url.Parse(s))} }

	acmeLeaf := acmeCA.leaf(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "indexer", Organization: []string{"acme"}, OrganizationalUnit: []string{"writer", "reader"}},
		DNSNames: []string{"indexer.acme.internal"}, EmailAddresses: []string{"ops@acme.example"},
		URIs: spiffe("spiffe://example.org/ns/acme/sa/indexer"),
	})
	// Issued by acme's CA, claiming to be globex.
	forged := acmeCA.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: "intruder", Organization: []string{"globex"}}})
	twoOrgs := acmeCA.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x", Organization: []string{"acme", "globex"}}})
	noCN := acmeCA.leaf(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{"acme"}}})
	direct := root.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: "root-issued", Organization: []string{"acme"}}})

	acmeChains := chains(t, acmeLeaf, root, acmeCA, globexCA)
	tenantCAs := map[string][]*x509.Certificate{"acme": {acmeCA.cert}, "globex": {globexCA.cert}}

	tests := []struct {
		name   string
		opts   CertOptions
		chains [][]*x509.Certificate
		want   *authz.Principal
		err    error
	}{
		{name: "defaults: CN", chains: acmeChains, want: &authz.Principal{Subject: "indexer"}},
		{
			name:   "CN, O, OU",
			opts:   CertOptions{Tenant: Organization, Roles: OrganizationalUnit},
			chains: acmeChains,
			want:   &authz.Principal{Subject: "indexer", Tenant: "acme", Roles: []string{"reader", "writer"}}, // DER sorts the set
		},
		{name: "DNS SAN", opts: CertOptions{Subject: DNSName}, chains: acmeChains, want: &authz.Principal{Subject: "indexer.acme.internal"}},
		{name: "email SAN", opts: CertOptions{Subject: EmailAddress}, chains: acmeChains, want: &authz.Principal{Subject: "ops@acme.example"}},
		{name: "SPIFFE ID", opts: CertOptions{Subject: URI, URIPrefix: "spiffe://example.org/"}, chains: acmeChains, want: &authz.Principal{Subject: "ns/acme/sa/indexer"}},
		{name: "URI prefix of another trust domain", opts: CertOptions{Subject: URI, URIPrefix: "spiffe://other.org/"}, chains: acmeChains, err: errCertSubject},
		{name: "tenant CA agrees", opts: CertOptions{Tenant: Organization, TenantCAs: tenantCAs}, chains: acmeChains, want: &authz.Principal{Subject: "indexer", Tenant: "acme"}},
		{name: "tenant from the CA", opts: CertOptions{TenantCAs: tenantCAs}, chains: acmeChains, want: &authz.Principal{Subject: "indexer", Tenant: "acme"}},
		{name: "acme's CA issuing for globex", opts: CertOptions{Tenant: Organization, TenantCAs: tenantCAs}, chains: chains(t, forged, root, acmeCA), err: errCertTenantCA},
		{name: "without TenantCAs the O is believed", opts: CertOptions{Tenant: Organization}, chains: chains(t, forged, root, acmeCA), want: &authz.Principal{Subject: "intruder", Tenant: "globex"}},
		{name: "issued by no tenant's CA", opts: CertOptions{TenantCAs: tenantCAs}, chains: chains(t, direct, root), err: errCertTenantCA},
		{name: "two tenants in O", opts: CertOptions{Tenant: Organization}, chains: chains(t, twoOrgs, root, acmeCA), err: errCertTenant},
		{name: "no CN", chains: chains(t, noCN, root, acmeCA), err: errCertSubject},
		{name: "no verified chain", err: errNoVerifiedChain},
		{name: "empty chain", chains: [][]*x509.Certificate{{}}, err: errNoVerifiedChain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewCertMapper(&tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.VerifyCertificate(context.Background(), tc.chains)
			if tc.want != nil {
				if err != nil || !reflect.DeepEqual(&p, tc.want) {
					t.Fatalf("got %+v, %v; want %+v", p, err, *tc.want)
				}
				return
			}
			if err != tc.err || driver.CodeOf(err) != driver.Unauthenticated {
				t.Fatalf("got %+v, %v; want %v", p, err, tc.err)
			}
		})
	}
}

func TestNewCertMapperRefuses(t *testing.T) {
	root := newTestCA(t, "root", nil)
	leaf := root.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}})
	for _, tc := range []struct {
		name string
		opts CertOptions
	}{
		{"unknown field", CertOptions{Subject: URI + 1}},
		{"empty tenant", CertOptions{TenantCAs: map[string][]*x509.Certificate{"": {root.cert}}}},
		{"no CA", CertOptions{TenantCAs: map[string][]*x509.Certificate{"t": nil}}},
		{"leaf as CA", CertOptions{TenantCAs: map[string][]*x509.Certificate{"t": {leaf}}}},
	} {
		if _, err := NewCertMapper(&tc.opts); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
