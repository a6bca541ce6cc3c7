package grpcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"

	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// principalService is a grpc_testing service that answers with the
// principal its context carries.
type principalService struct {
	testpb.UnimplementedTestServiceServer
}

// describe renders a principal as one comparable line.
func describe(p *authz.Principal) string {
	var attrs []string
	for k, v := range p.Attributes {
		attrs = append(attrs, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(attrs)
	return fmt.Sprintf("sub=%s tenant=%s roles=%s attrs=%s", p.Subject, p.Tenant, strings.Join(p.Roles, ","), strings.Join(attrs, ","))
}

func (principalService) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	p, ok := authz.FromContext(ctx)
	if !ok {
		return &testpb.SimpleResponse{Username: "<no principal>"}, nil
	}
	return &testpb.SimpleResponse{Username: describe(p)}, nil
}

func (principalService) StreamingOutputCall(_ *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	desc := "<no principal>"
	if p, ok := authz.FromContext(ss.Context()); ok {
		desc = describe(p)
	}
	return ss.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte(desc)}})
}

// conn is a client connection to a test server.
type conn struct {
	test   testpb.TestServiceClient
	health healthpb.HealthClient
}

// startServer serves the principal service and the health service on
// 127.0.0.1 with the given server options; creds nil means plaintext.
func startServer(t *testing.T, serverCreds, clientCreds credentials.TransportCredentials, opts ...grpc.ServerOption) conn {
	t.Helper()
	lis := must(net.Listen("tcp", "127.0.0.1:0"))
	if serverCreds != nil {
		opts = append(opts, grpc.Creds(serverCreds))
	}
	gs := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(gs, principalService{})
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	if clientCreds == nil {
		clientCreds = insecure.NewCredentials()
	}
	cc := must(grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(clientCreds)))
	t.Cleanup(func() { cc.Close() })
	return conn{test: testpb.NewTestServiceClient(cc), health: healthpb.NewHealthClient(cc)}
}

// withMD returns a context with outgoing metadata of key-value pairs.
func withMD(kv ...string) context.Context {
	return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(kv...))
}

// --- tokens ---

const (
	issShared = "https://idp.test"        // serves every tenant; keys from a JWKS
	issAcme   = "https://acme.idp.test"   // acme's own issuer
	issGlobex = "https://globex.idp.test" // globex's own issuer
	audience  = "rag"
)

var (
	secretAcme   = []byte("acme-hs256-secret-0123456789abcdef!")
	secretGlobex = []byte("globex-hs256-secret-0123456789abcdef")
)

type idp struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	other *rsa.PrivateKey // a key nobody trusts
	jwks  *httptest.Server
	hits  atomic.Int64
}

var idpOnce = sync.OnceValue(func() *idp {
	return &idp{
		rsa:   must(rsa.GenerateKey(rand.Reader, 2048)),
		ec:    must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		other: must(rsa.GenerateKey(rand.Reader, 2048)),
	}
})

// newIdP returns the identity provider keys and serves their JWKS on
// 127.0.0.1 for this test.
func newIdP(t *testing.T) *idp {
	base := idpOnce()
	d := &idp{rsa: base.rsa, ec: base.ec, other: base.other}
	enc := base64.RawURLEncoding.EncodeToString
	ecb := must(d.ec.PublicKey.Bytes())
	doc := must(json.Marshal(map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": enc(d.rsa.N.Bytes()), "e": enc(big.NewInt(int64(d.rsa.E)).Bytes())},
		{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": enc(ecb[1:33]), "y": enc(ecb[33:])},
	}}))
	d.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		d.hits.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(doc)
	}))
	t.Cleanup(d.jwks.Close)
	return d
}

// verifier trusts the three issuers.
func (d *idp) verifier(t *testing.T) *authn.JWTVerifier {
	t.Helper()
	jwks := must(authn.NewJWKS(d.jwks.URL+"/.well-known/jwks.json", &authn.JWKSOptions{Client: d.jwks.Client()}))
	return must(authn.NewJWTVerifier(authn.JWTOptions{
		Issuers: []authn.Issuer{
			{Issuer: issShared, Keys: jwks, Algorithms: []string{authn.RS256, authn.ES256}},
			{Issuer: issAcme, Tenant: "acme", Keys: authn.StaticKeys{{Algorithm: authn.HS256, Material: secretAcme}}},
			{Issuer: issGlobex, Tenant: "globex", Keys: authn.StaticKeys{{Algorithm: authn.HS256, Material: secretGlobex}}},
		},
		Audience: []string{audience},
		Leeway:   10 * time.Second,
		Claims:   authn.ClaimMapping{Roles: "scope", Attributes: map[string]string{"clearance": "clr"}},
	}))
}

// claims are valid claims of iss for sub, changed by kv pairs (a nil value
// deletes the claim).
func claims(iss, sub string, kv ...any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "sub": sub, "aud": audience, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func sign(m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	return must(tok.SignedString(key))
}

// --- certificates ---

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

func issue(tmpl *x509.Certificate, parent *ca) (*x509.Certificate, *ecdsa.PrivateKey) {
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	return must(x509.ParseCertificate(must(x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)))), key
}

func newCA(name string, parent *ca) *ca {
	c, k := issue(&x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, parent)
	return &ca{c, k}
}

// clientCert issues a client certificate with the chain up to (not
// including) the root.
func (c *ca) clientCert(cn, org string) tls.Certificate {
	leaf, key := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, c)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, c.cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// pki is a root, one intermediate CA per tenant and a server certificate
// for 127.0.0.1.
type pki struct {
	root, acme, globex *ca
	server             tls.Certificate
}

func newPKI() *pki {
	p := &pki{root: newCA("test root", nil)}
	p.acme, p.globex = newCA("acme clients", p.root), newCA("globex clients", p.root)
	leaf, key := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "rag server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}, p.root)
	p.server = tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	return p
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.cert)
	return pool
}

func (p *pki) serverCreds(auth tls.ClientAuthType) credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool(), ClientAuth: auth, MinVersion: tls.VersionTLS13})
}

func (p *pki) clientCreds(certs ...tls.Certificate) credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{RootCAs: p.pool(), Certificates: certs, MinVersion: tls.VersionTLS13})
}

func credentialsOf(c *tls.Config) credentials.TransportCredentials { return credentials.NewTLS(c) }
