package grpcauth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcauth"
)

// interceptors returns the server options that install a, skipping health
// checks.
func interceptorOpts(a grpcauth.Authenticator, opts ...grpcauth.Option) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(a, opts...), grpcauth.NotHealthCheck)),
		grpc.ChainStreamInterceptor(selector.StreamServerInterceptor(grpcauth.StreamServerInterceptor(a, opts...), grpcauth.NotHealthCheck)),
	}
}

// call makes a unary and a streaming call and checks that both give the
// same answer: the principal line or a status.
func call(t *testing.T, c conn, ctx context.Context) (string, *status.Status) {
	t.Helper()
	var trailer metadata.MD
	resp, err := c.test.UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Trailer(&trailer))
	unary, ust := resp.GetUsername(), status.Convert(err)

	stream, err := c.test.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
	var streamed string
	if err == nil {
		var m *testpb.StreamingOutputCallResponse
		if m, err = stream.Recv(); err == nil {
			streamed = string(m.GetPayload().GetBody())
			if _, err = stream.Recv(); err == io.EOF {
				err = nil
			}
		}
	}
	sst := status.Convert(err)
	if unary != streamed || ust.Code() != sst.Code() || ust.Message() != sst.Message() {
		t.Fatalf("unary %q %v, stream %q %v", unary, ust, streamed, sst)
	}
	delete(trailer, "content-type") // of a trailers-only response
	if len(trailer) != 0 {
		t.Fatalf("trailer %v", trailer) // nothing, certainly no credential
	}
	return unary, ust
}

// noEcho fails when a status (message or details) holds any 8-byte piece
// of a credential.
func noEcho(t *testing.T, st *status.Status, credential string) {
	t.Helper()
	text := fmt.Sprint(st.Proto())
	for _, part := range strings.Split(credential, ".") {
		for i := 0; i+8 <= len(part); i++ {
			if strings.Contains(text, part[i:i+8]) {
				t.Fatalf("status %q echoes the credential", text)
			}
		}
	}
}

func TestBearerJWT(t *testing.T) {
	d := newIdP(t)
	c := startServer(t, nil, nil, interceptorOpts(grpcauth.Bearer(d.verifier(t)))...)
	now := time.Now()
	good := sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims(issShared, "alice", "tenant", "acme"))
	rsaPEM := must(x509.MarshalPKIXPublicKey(&d.rsa.PublicKey))
	forged := func(tok string) string {
		p := strings.Split(tok, ".")
		sig := must(base64.RawURLEncoding.DecodeString(p[2]))
		sig[0] ^= 1
		p[2] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(p, ".")
	}
	none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(issShared, "alice", "tenant", "acme"))

	tests := []struct {
		name  string
		token string // sent as "Bearer <token>"
		want  string // the principal, or "" for a failure
		code  codes.Code
		msg   string // in the status message
	}{
		{name: "RS256 from the JWKS", token: good, want: "sub=alice tenant=acme roles= attrs="},
		{name: "ES256 from the JWKS, roles and attributes", token: sign(jwt.SigningMethodES256, d.ec, "ec-1", claims(issShared, "bob", "tenant", "globex", "scope", "reader writer", "clr", 3)),
			want: "sub=bob tenant=globex roles=reader,writer attrs=clearance=3"},
		{name: "tenant-bound issuer", token: sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "svc")), want: "sub=svc tenant=acme roles= attrs="},

		{name: "forged signature", token: forged(good), code: codes.Unauthenticated, msg: "invalid token signature"},
		{name: "signed by an untrusted key", token: sign(jwt.SigningMethodRS256, d.other, "rsa-1", claims(issShared, "alice")), code: codes.Unauthenticated, msg: "invalid token signature"},
		{name: "alg none", token: none, code: codes.Unauthenticated, msg: "algorithm not accepted"},
		{name: "alg none, trailing dot removed", token: strings.TrimSuffix(none, "."), code: codes.Unauthenticated, msg: "malformed"},
		{name: "HS256 with the RSA public key as secret", token: sign(jwt.SigningMethodHS256, rsaPEM, "rsa-1", claims(issShared, "alice", "tenant", "acme")), code: codes.Unauthenticated, msg: "algorithm not accepted"},
		{name: "expired", token: sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims(issShared, "alice", "exp", now.Add(-time.Hour).Unix())), code: codes.Unauthenticated, msg: "expired"},
		{name: "not valid yet", token: sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims(issShared, "alice", "nbf", now.Add(time.Hour).Unix())), code: codes.Unauthenticated, msg: "not valid yet"},
		{name: "wrong audience", token: sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims(issShared, "alice", "aud", "billing")), code: codes.Unauthenticated, msg: "audience"},
		{name: "wrong issuer", token: sign(jwt.SigningMethodRS256, d.rsa, "rsa-1", claims("https://evil.test", "alice")), code: codes.Unauthenticated, msg: "issuer not trusted"},
		{name: "acme's key, acme's issuer, claiming globex", token: sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "svc", "tenant", "globex")), code: codes.Unauthenticated, msg: "not trusted for the tenant"},
		{name: "acme's key under globex's issuer", token: sign(jwt.SigningMethodHS256, secretAcme, "", claims(issGlobex, "svc", "tenant", "globex")), code: codes.Unauthenticated, msg: "invalid token signature"},
		{name: "unknown kid", token: sign(jwt.SigningMethodRS256, d.rsa, "rsa-9", claims(issShared, "alice")), code: codes.Unauthenticated, msg: "signing key unknown"},
		{name: "garbage", token: "abc.def.ghi", code: codes.Unauthenticated, msg: "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := call(t, c, withMD("authorization", "Bearer "+tc.token))
			noEcho(t, st, tc.token)
			if tc.want != "" {
				if st.Code() != codes.OK || got != tc.want {
					t.Fatalf("got %q %v, want %q", got, st, tc.want)
				}
				return
			}
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want %v containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
		})
	}
	if n := d.hits.Load(); n < 1 || n > 3 {
		// One fetch, plus at most one per 30 s for the unknown kid.
		t.Errorf("%d JWKS fetches", n)
	}
}

func TestBearerHeaders(t *testing.T) {
	d := newIdP(t)
	c := startServer(t, nil, nil, interceptorOpts(grpcauth.Bearer(d.verifier(t)))...)
	good := sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "svc"))
	tests := []struct {
		name string
		md   []string
		ok   bool
		msg  string
	}{
		{"bearer", []string{"authorization", "Bearer " + good}, true, ""},
		{"scheme is case-insensitive", []string{"authorization", "bEaReR " + good}, true, ""},
		{"extra spaces", []string{"authorization", "Bearer   " + good}, true, ""},
		{"no credentials", nil, false, "no credentials"},
		{"another scheme", []string{"authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, false, "no credentials"},
		{"bearer without token", []string{"authorization", "Bearer"}, false, "malformed authorization header"},
		{"bearer with empty token", []string{"authorization", "Bearer "}, false, "malformed authorization header"},
		{"token with a space", []string{"authorization", "Bearer " + good[:20] + " " + good[20:]}, false, "malformed authorization header"},
		{"two authorization values", []string{"authorization", "Bearer " + good, "authorization", "Bearer " + good}, false, "more than one"},
		{"token in another header", []string{"x-token", good}, false, "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := call(t, c, withMD(tc.md...))
			noEcho(t, st, good)
			if tc.ok {
				if st.Code() != codes.OK || got != "sub=svc tenant=acme roles= attrs=" {
					t.Fatalf("got %q %v", got, st)
				}
				return
			}
			if st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want Unauthenticated containing %q", st.Code(), st.Message(), tc.msg)
			}
		})
	}
}

var pepper = []byte("the-server-pepper-0123456789abcdef")

func apiKeys(t *testing.T, keys map[string]authz.Principal) *authn.APIKeys {
	var list []authn.APIKey
	for k, p := range keys {
		list = append(list, authn.APIKey{Hash: authn.HashAPIKey(pepper, k), Principal: p})
	}
	a, err := authn.NewAPIKeys(pepper, list)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAPIKey(t *testing.T) {
	acme, globex := authn.NewAPIKey(), authn.NewAPIKey()
	keys := apiKeys(t, map[string]authz.Principal{
		acme:   {Subject: "indexer", Tenant: "acme", Roles: []string{"writer"}},
		globex: {Subject: "search", Tenant: "globex"},
	})
	c := startServer(t, nil, nil, interceptorOpts(grpcauth.APIKey(keys, "X-API-Key"))...)
	tests := []struct {
		name string
		md   []string
		want string
		msg  string
	}{
		{"acme", []string{"x-api-key", acme}, "sub=indexer tenant=acme roles=writer attrs=", ""},
		{"globex", []string{"x-api-key", globex}, "sub=search tenant=globex roles= attrs=", ""},
		{"a tenant header changes nothing", []string{"x-api-key", acme, "x-tenant", "globex"}, "sub=indexer tenant=acme roles=writer attrs=", ""},
		{"unknown key", []string{"x-api-key", authn.NewAPIKey()}, "", "invalid API key"},
		{"truncated key", []string{"x-api-key", acme[:len(acme)-2]}, "", "invalid API key"},
		{"key with a space", []string{"x-api-key", "vgk_a b"}, "", "malformed API key header"},
		{"two keys", []string{"x-api-key", acme, "x-api-key", globex}, "", "more than one"},
		{"no key", nil, "", "no credentials"},
		{"key as a bearer token", []string{"authorization", "Bearer " + acme}, "", "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := call(t, c, withMD(tc.md...))
			noEcho(t, st, acme)
			noEcho(t, st, globex)
			if tc.want != "" {
				if st.Code() != codes.OK || got != tc.want {
					t.Fatalf("got %q %v, want %q", got, st, tc.want)
				}
				return
			}
			if st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want Unauthenticated containing %q", st.Code(), st.Message(), tc.msg)
			}
		})
	}
}

func TestChain(t *testing.T) {
	d := newIdP(t)
	key := authn.NewAPIKey()
	a := grpcauth.Chain(
		grpcauth.Bearer(d.verifier(t)),
		grpcauth.APIKey(apiKeys(t, map[string]authz.Principal{key: {Subject: "indexer", Tenant: "globex"}}), ""),
	)
	c := startServer(t, nil, nil, interceptorOpts(a)...)
	jwtAcme := sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "svc"))
	expired := sign(jwt.SigningMethodHS256, secretAcme, "", claims(issAcme, "svc", "exp", time.Now().Add(-time.Hour).Unix()))
	tests := []struct {
		name string
		md   []string
		want string
		msg  string
	}{
		{"token", []string{"authorization", "Bearer " + jwtAcme}, "sub=svc tenant=acme roles= attrs=", ""},
		{"API key", []string{"x-api-key", key}, "sub=indexer tenant=globex roles= attrs=", ""},
		{"first finder wins", []string{"authorization", "Bearer " + jwtAcme, "x-api-key", key}, "sub=svc tenant=acme roles= attrs=", ""},
		{"other schemes fall through", []string{"authorization", "Basic eDp5", "x-api-key", key}, "sub=indexer tenant=globex roles= attrs=", ""},
		{"an invalid token does not fall through to a valid key", []string{"authorization", "Bearer " + expired, "x-api-key", key}, "", "token expired"},
		{"a malformed bearer does not fall through", []string{"authorization", "Bearer", "x-api-key", key}, "", "malformed authorization header"},
		{"nothing", nil, "", "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := call(t, c, withMD(tc.md...))
			noEcho(t, st, key)
			noEcho(t, st, expired)
			if tc.want != "" {
				if st.Code() != codes.OK || got != tc.want {
					t.Fatalf("got %q %v, want %q", got, st, tc.want)
				}
				return
			}
			if st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want Unauthenticated containing %q", st.Code(), st.Message(), tc.msg)
			}
		})
	}
}

func TestClientCertificate(t *testing.T) {
	p := newPKI()
	d := newIdP(t)
	mapper := must(authn.NewCertMapper(&authn.CertOptions{
		Tenant:    authn.Organization,
		TenantCAs: map[string][]*x509.Certificate{"acme": {p.acme.cert}, "globex": {p.globex.cert}},
	}))
	a := grpcauth.Chain(grpcauth.ClientCertificate(mapper), grpcauth.Bearer(d.verifier(t)))
	opts := interceptorOpts(a)
	verifying := p.serverCreds(tls.VerifyClientCertIfGiven)
	token := sign(jwt.SigningMethodHS256, secretGlobex, "", claims(issGlobex, "user"))

	tests := []struct {
		name   string
		server *tls.Config // nil: verifying
		certs  []tls.Certificate
		md     []string
		want   string
		msg    string
	}{
		{name: "acme service", certs: []tls.Certificate{p.acme.clientCert("indexer", "acme")}, want: "sub=indexer tenant=acme roles= attrs="},
		{name: "globex service", certs: []tls.Certificate{p.globex.clientCert("search", "globex")}, want: "sub=search tenant=globex roles= attrs="},
		{name: "acme's CA issuing for globex", certs: []tls.Certificate{p.acme.clientCert("intruder", "globex")}, msg: "not issued by a CA of its tenant"},
		{name: "no certificate: the bearer token decides", md: []string{"authorization", "Bearer " + token}, want: "sub=user tenant=globex roles= attrs="},
		{name: "a certificate wins over a token", certs: []tls.Certificate{p.acme.clientCert("indexer", "acme")}, md: []string{"authorization", "Bearer " + token}, want: "sub=indexer tenant=acme roles= attrs="},
		{name: "an invalid certificate does not fall through", certs: []tls.Certificate{p.acme.clientCert("intruder", "globex")}, md: []string{"authorization", "Bearer " + token}, msg: "not issued by a CA of its tenant"},
		{name: "no certificate, no token", msg: "no credentials"},
		{
			name:   "certificate the handshake did not verify",
			server: &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13},
			certs:  []tls.Certificate{newCA("self-made", nil).clientCert("indexer", "acme")},
			msg:    "client certificate not verified",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds := verifying
			if tc.server != nil {
				creds = credentialsOf(tc.server)
			}
			c := startServer(t, creds, p.clientCreds(tc.certs...), opts...)
			got, st := call(t, c, withMD(tc.md...))
			if tc.want != "" {
				if st.Code() != codes.OK || got != tc.want {
					t.Fatalf("got %q %v, want %q", got, st, tc.want)
				}
				return
			}
			if st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("status %v %q, want Unauthenticated containing %q", st.Code(), st.Message(), tc.msg)
			}
		})
	}

	// Over plaintext there is no certificate: the chain goes on.
	c := startServer(t, nil, nil, opts...)
	if got, st := call(t, c, withMD("authorization", "Bearer "+token)); st.Code() != codes.OK || got != "sub=user tenant=globex roles= attrs=" {
		t.Fatalf("plaintext: %q %v", got, st)
	}
}

func TestHealthCheckSkipped(t *testing.T) {
	c := startServer(t, nil, nil, interceptorOpts(grpcauth.Bearer(newIdP(t).verifier(t)))...)
	resp, err := c.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check without credentials: %v %v", resp, err)
	}
	if _, st := call(t, c, context.Background()); st.Code() != codes.Unauthenticated {
		t.Fatalf("service call without credentials: %v", st)
	}
	// A selector of one's own works the same way.
	only := selector.MatchFunc(func(_ context.Context, m interceptors.CallMeta) bool {
		return m.Service == "grpc.testing.TestService" && m.Method != "EmptyCall"
	})
	c = startServer(t, nil, nil, grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(
		grpcauth.UnaryServerInterceptor(grpcauth.Bearer(newIdP(t).verifier(t))), only)))
	if _, err := c.test.EmptyCall(context.Background(), &testpb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("skipped method: %v", err) // reaches the (unimplemented) handler
	}
	if _, err := c.test.UnaryCall(context.Background(), &testpb.SimpleRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("guarded method: %v", err)
	}
}

func TestAuthFuncWithMiddleware(t *testing.T) {
	key := authn.NewAPIKey()
	a := grpcauth.APIKey(apiKeys(t, map[string]authz.Principal{key: {Subject: "indexer", Tenant: "acme"}}), "")
	f := grpcauth.AuthFunc(a)
	c := startServer(t, nil, nil,
		grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(f), grpcauth.NotHealthCheck)),
		grpc.ChainStreamInterceptor(selector.StreamServerInterceptor(auth.StreamServerInterceptor(f), grpcauth.NotHealthCheck)))
	if got, st := call(t, c, withMD("x-api-key", key)); st.Code() != codes.OK || got != "sub=indexer tenant=acme roles= attrs=" {
		t.Fatalf("valid key: %q %v", got, st)
	}
	if _, st := call(t, c, withMD("x-api-key", "nope")); st.Code() != codes.Unauthenticated {
		t.Fatalf("invalid key: %v", st)
	}
	if _, err := c.health.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("health: %v", err)
	}
}

func TestAuthenticatorErrors(t *testing.T) {
	tests := []struct {
		name string
		p    authz.Principal
		err  error
		code codes.Code
		msg  string
	}{
		{"no credentials", authz.Principal{}, authn.ErrNoCredentials, codes.Unauthenticated, "vecguard: unauthenticated: no credentials"},
		{"permission denied", authz.Principal{}, driver.Errorf(driver.PermissionDenied, "account suspended"), codes.PermissionDenied, "vecguard: permission denied: account suspended"},
		{"keys unavailable", authz.Principal{}, driver.Errorf(driver.Unavailable, "token signing keys: key set server unreachable"), codes.Unavailable, "vecguard: unavailable: token signing keys: key set server unreachable"},
		{"plain error", authz.Principal{}, errors.New("ldap: secret bind password rejected"), codes.Unauthenticated, "vecguard: unauthenticated: authentication failed"},
		{"internal", authz.Principal{}, driver.Errorf(driver.Internal, "ldap secret"), codes.Internal, "vecguard: internal error"},
		{"own status", authz.Principal{}, status.Error(codes.Unauthenticated, "sign in again"), codes.Unauthenticated, "sign in again"},
		{"deadline", authz.Principal{}, context.DeadlineExceeded, codes.DeadlineExceeded, "context deadline exceeded"},
		{"invalid principal", authz.Principal{Subject: ""}, nil, codes.Unauthenticated, "vecguard: unauthenticated: credentials yield an invalid principal"},
		{"principal with a bad attribute", authz.Principal{Subject: "s", Attributes: map[string]any{"x": []string{"a"}}}, nil, codes.Unauthenticated, "vecguard: unauthenticated: credentials yield an invalid principal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var hooked []error
			hook := grpcauth.WithFailureHook(func(ctx context.Context, err error, st *status.Status) {
				m, _ := grpc.Method(ctx)
				if st.Code() != tc.code || !strings.HasPrefix(m, "/grpc.testing.TestService/") {
					t.Errorf("hook: %v %v %q", err, st, m)
				}
				mu.Lock()
				hooked = append(hooked, err)
				mu.Unlock()
			})
			a := grpcauth.AuthenticatorFunc(func(context.Context) (authz.Principal, error) { return tc.p, tc.err })
			c := startServer(t, nil, nil, interceptorOpts(a, hook)...)
			_, st := call(t, c, context.Background())
			if st.Code() != tc.code || st.Message() != tc.msg {
				t.Fatalf("status %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(hooked) != 2 { // the unary and the streaming call
				t.Fatalf("hook saw %d failures", len(hooked))
			}
		})
	}
}

func TestChainOrderAndEmpty(t *testing.T) {
	var asked []string
	mk := func(name string, err error) grpcauth.Authenticator {
		return grpcauth.AuthenticatorFunc(func(context.Context) (authz.Principal, error) {
			asked = append(asked, name)
			if err != nil {
				return authz.Principal{}, err
			}
			return authz.Principal{Subject: name}, nil
		})
	}
	noCreds := fmt.Errorf("no header: %w", authn.ErrNoCredentials)
	bad := driver.Errorf(driver.Unauthenticated, "bad")
	tests := []struct {
		name  string
		chain []grpcauth.Authenticator
		sub   string
		err   error
		asked string
	}{
		{"empty", nil, "", authn.ErrNoCredentials, ""},
		{"first", []grpcauth.Authenticator{mk("a", nil), mk("b", nil)}, "a", nil, "a"},
		{"skip absent", []grpcauth.Authenticator{mk("a", noCreds), mk("b", nil)}, "b", nil, "a,b"},
		{"stop at invalid", []grpcauth.Authenticator{mk("a", bad), mk("b", nil)}, "", bad, "a"},
		{"all absent", []grpcauth.Authenticator{mk("a", noCreds), mk("b", noCreds)}, "", authn.ErrNoCredentials, "a,b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			p, err := grpcauth.Chain(tc.chain...).Authenticate(context.Background())
			if p.Subject != tc.sub || !errors.Is(err, tc.err) && err != tc.err || strings.Join(asked, ",") != tc.asked {
				t.Fatalf("got %q, %v, asked %v", p.Subject, err, asked)
			}
		})
	}
}
