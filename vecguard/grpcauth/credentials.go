package grpcauth

import (
	"context"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// maxCredentialBytes bounds a credential header value.
const maxCredentialBytes = 16 << 10

// Errors of credential extraction. Their text is fixed: it never carries
// credential bytes.
var (
	errAmbiguous       = driver.Errorf(driver.Unauthenticated, "more than one credential of a kind")
	errMalformedHeader = driver.Errorf(driver.Unauthenticated, "malformed authorization header")
	errMalformedKey    = driver.Errorf(driver.Unauthenticated, "malformed API key header")
)

// Bearer returns an Authenticator that verifies the bearer token of the
// "authorization" metadata ("Bearer <token>", RFC 6750) with v, typically
// an *authn.JWTVerifier. A call without an "authorization" entry, or with
// one of another scheme, carries no credentials for it.
func Bearer(v authn.TokenVerifier) Authenticator {
	return AuthenticatorFunc(func(ctx context.Context) (authz.Principal, error) {
		vals := metadata.ValueFromIncomingContext(ctx, "authorization")
		if len(vals) == 0 {
			return authz.Principal{}, authn.ErrNoCredentials
		}
		if len(vals) > 1 {
			return authz.Principal{}, errAmbiguous
		}
		token, ok, err := parseBearer(vals[0])
		if err != nil {
			return authz.Principal{}, err
		}
		if !ok {
			return authz.Principal{}, authn.ErrNoCredentials
		}
		return v.VerifyToken(ctx, token)
	})
}

// parseBearer parses an authorization header value. ok is false when the
// scheme is not Bearer; err is set when it is Bearer and the token is not a
// well-formed b64token (RFC 6750 section 2.1).
func parseBearer(h string) (token string, ok bool, err error) {
	scheme, rest, found := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", false, nil
	}
	if !found || len(h) > maxCredentialBytes {
		return "", true, errMalformedHeader
	}
	token = strings.TrimLeft(rest, " ")
	if !isB64Token(token) {
		return "", true, errMalformedHeader
	}
	return token, true, nil
}

// isB64Token reports whether s is a b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// DefaultAPIKeyHeader is the metadata key APIKey reads when given "".
const DefaultAPIKeyHeader = "x-api-key"

// APIKey returns an Authenticator that verifies the API key of the metadata
// entry header ("" means DefaultAPIKeyHeader) with v, typically an
// *authn.APIKeys. A call without the entry carries no credentials for it.
func APIKey(v authn.TokenVerifier, header string) Authenticator {
	if header == "" {
		header = DefaultAPIKeyHeader
	}
	header = strings.ToLower(header)
	return AuthenticatorFunc(func(ctx context.Context) (authz.Principal, error) {
		vals := metadata.ValueFromIncomingContext(ctx, header)
		if len(vals) == 0 {
			return authz.Principal{}, authn.ErrNoCredentials
		}
		if len(vals) > 1 {
			return authz.Principal{}, errAmbiguous
		}
		key, err := parseAPIKey(vals[0])
		if err != nil {
			return authz.Principal{}, err
		}
		return v.VerifyToken(ctx, key)
	})
}

// parseAPIKey checks an API key header value: 1 to 16 KiB of visible ASCII.
func parseAPIKey(s string) (string, error) {
	if s == "" || len(s) > maxCredentialBytes {
		return "", errMalformedKey
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", errMalformedKey
		}
	}
	return s, nil
}

// ClientCertificate returns an Authenticator that maps the client
// certificate of a mutual-TLS connection to a principal with v, typically
// an *authn.CertMapper. The server's TLS configuration must verify client
// certificates (tls.RequireAndVerifyClientCert or
// tls.VerifyClientCertIfGiven); a certificate the handshake did not verify
// is refused. A call over plaintext, or without a client certificate,
// carries no credentials for it.
func ClientCertificate(v authn.CertVerifier) Authenticator {
	return AuthenticatorFunc(func(ctx context.Context) (authz.Principal, error) {
		p, ok := peer.FromContext(ctx)
		if !ok || p.AuthInfo == nil {
			return authz.Principal{}, authn.ErrNoCredentials
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok || len(info.State.PeerCertificates) == 0 {
			return authz.Principal{}, authn.ErrNoCredentials
		}
		if len(info.State.VerifiedChains) == 0 {
			return authz.Principal{}, driver.Errorf(driver.Unauthenticated, "client certificate not verified")
		}
		return v.VerifyCertificate(ctx, info.State.VerifiedChains)
	})
}
