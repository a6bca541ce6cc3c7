package authn

import (
	"context"
	"crypto/x509"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// TokenVerifier turns a credential string — a JWT, an API key — into the
// principal it stands for. Implementations must be safe for concurrent use
// and must never put the token, or any part of it, into an error.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (authz.Principal, error)
}

// CertVerifier turns a client certificate into the principal it stands for.
// chains are the chains the TLS handshake verified, leaf first; a verifier
// never looks at certificates the handshake did not verify.
type CertVerifier interface {
	VerifyCertificate(ctx context.Context, chains [][]*x509.Certificate) (authz.Principal, error)
}

// ErrNoCredentials reports that a request carries no credential of the kind
// an authenticator looks for. It is the only error that lets a chain of
// authenticators try the next one: credentials that are present but invalid
// fail the request. Test for it with errors.Is.
var ErrNoCredentials error = &driver.Error{Code: driver.Unauthenticated, Msg: "no credentials"}

// unauthenticated returns the error of a present but unacceptable
// credential. msg is a fixed text: it never carries credential bytes.
func unauthenticated(msg string) error {
	return &driver.Error{Code: driver.Unauthenticated, Msg: msg}
}

// checkPrincipal validates what a verifier built. A credential that yields
// an unusable principal is an unacceptable credential.
func checkPrincipal(p *authz.Principal) error {
	if err := p.Validate(); err != nil {
		return unauthenticated("credential yields an invalid principal")
	}
	return nil
}
