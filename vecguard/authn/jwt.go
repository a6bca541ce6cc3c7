package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// Issuer is one trusted token issuer: the "iss" value its tokens carry and
// the keys that sign them.
//
// An Issuer with a Tenant is bound to that tenant: its tokens act for that
// tenant only, and a token it signed that claims another tenant is refused.
// Several Issuers may share one "iss" value when the issuer signs each
// tenant's tokens with that tenant's own keys; a token is then checked
// against the keys of the Issuer of the tenant it claims, so a token signed
// with tenant A's key that claims tenant B is refused.
type Issuer struct {
	// Issuer is the exact "iss" value of the issuer's tokens. Required.
	Issuer string
	// Tenant, when set, binds the issuer's tokens to this tenant.
	Tenant string
	// Keys verify the issuer's signatures: StaticKeys or a *JWKS. Required.
	Keys KeySet
	// Algorithms, when set, narrows the algorithms this issuer's tokens may
	// use; keys still verify only their own algorithm.
	Algorithms []string
	// Audience, when set, replaces JWTOptions.Audience for this issuer.
	Audience []string
}

// JWTOptions configures a JWTVerifier.
type JWTOptions struct {
	// Issuers are the trusted issuers; at least one.
	Issuers []Issuer
	// Audience lists the accepted "aud" values: a token must name at least
	// one. Required, unless every Issuer sets its own.
	Audience []string
	// Leeway tolerates clock skew in the exp, nbf and iat checks.
	Leeway time.Duration
	// Claims maps claims to the principal; the zero value maps "sub",
	// "tenant" and "roles".
	Claims ClaimMapping
	// MaxTokenBytes refuses longer tokens before decoding them. 0 means 8 KiB.
	MaxTokenBytes int
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// JWTVerifier verifies JSON Web Tokens (RFC 7519) signed with HS256, RS256,
// ES256 or EdDSA and maps their claims to a Principal. It requires a valid
// signature by a key of a trusted issuer, an "exp" claim in the future, an
// "nbf" and "iat" not in the future (if present), an accepted "aud" and a
// "sub". It is safe for concurrent use.
type JWTVerifier struct {
	byIssuer map[string][]*trustedIssuer
	claims   *claimMapping
	maxBytes int
	parser   *jwt.Parser
}

var _ TokenVerifier = (*JWTVerifier)(nil)

type trustedIssuer struct {
	Issuer
	validator *jwt.Validator
}

// NewJWTVerifier returns a verifier for opts. It refuses configurations that
// would weaken verification: unknown algorithms, keys that do not fit their
// algorithm, a missing audience, duplicate issuer-tenant pairs.
func NewJWTVerifier(opts JWTOptions) (*JWTVerifier, error) {
	if len(opts.Issuers) == 0 {
		return nil, errors.New("authn: no trusted issuers")
	}
	if opts.Leeway < 0 || opts.Leeway > 10*time.Minute {
		return nil, errors.New("authn: leeway must be between 0 and 10 minutes")
	}
	claims, err := compileClaimMapping(opts.Claims)
	if err != nil {
		return nil, fmt.Errorf("authn: claim mapping: %w", err)
	}
	v := &JWTVerifier{byIssuer: map[string][]*trustedIssuer{}, claims: claims, maxBytes: opts.MaxTokenBytes}
	if v.maxBytes <= 0 {
		v.maxBytes = 8 << 10
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	for _, is := range opts.Issuers {
		if is.Issuer == "" {
			return nil, errors.New("authn: issuer without an iss value")
		}
		if is.Keys == nil {
			return nil, fmt.Errorf("authn: issuer %q has no keys", is.Issuer)
		}
		if st, ok := is.Keys.(StaticKeys); ok {
			if len(st) == 0 {
				return nil, fmt.Errorf("authn: issuer %q has no keys", is.Issuer)
			}
			if is.Keys, err = st.validate(); err != nil {
				return nil, fmt.Errorf("authn: issuer %q: %w", is.Issuer, err)
			}
		}
		if len(is.Algorithms) == 0 {
			is.Algorithms = algorithms
		}
		for _, a := range is.Algorithms {
			if !slices.Contains(algorithms, a) {
				return nil, fmt.Errorf("authn: issuer %q: unsupported algorithm %q", is.Issuer, a)
			}
		}
		is.Algorithms = slices.Clone(is.Algorithms)
		aud := is.Audience
		if len(aud) == 0 {
			aud = opts.Audience
		}
		if len(aud) == 0 || slices.Contains(aud, "") {
			return nil, fmt.Errorf("authn: issuer %q: no audience to check tokens against", is.Issuer)
		}
		is.Audience = slices.Clone(aud)
		for _, other := range v.byIssuer[is.Issuer] {
			if other.Tenant == is.Tenant {
				return nil, fmt.Errorf("authn: issuer %q listed twice for tenant %q", is.Issuer, is.Tenant)
			}
		}
		val := jwt.NewValidator(
			jwt.WithIssuer(is.Issuer),
			jwt.WithAudience(is.Audience...),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(opts.Leeway),
			jwt.WithTimeFunc(now),
		)
		v.byIssuer[is.Issuer] = append(v.byIssuer[is.Issuer], &trustedIssuer{Issuer: is, validator: val})
	}
	// One parser for all issuers: it decodes, checks the algorithm against
	// the supported set and verifies the signature with the keys the key
	// function picks; the claims are then validated by the validator of the
	// issuer whose key verified them.
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algorithms),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
		jwt.WithoutClaimsValidation(),
	)
	return v, nil
}

// Errors of token verification. Their text is fixed: it never carries
// token bytes.
var (
	errMalformed     = unauthenticated("malformed token")
	errTooLarge      = unauthenticated("token too large")
	errAlgorithm     = unauthenticated("token algorithm not accepted")
	errUnknownKey    = unauthenticated("token signing key unknown")
	errSignature     = unauthenticated("invalid token signature")
	errExpired       = unauthenticated("token expired")
	errNotYetValid   = unauthenticated("token not valid yet")
	errAudience      = unauthenticated("token audience not accepted")
	errIssuer        = unauthenticated("token issuer not trusted")
	errTenant        = unauthenticated("token issuer not trusted for the tenant it claims")
	errNoTenant      = unauthenticated("token names no tenant and its issuer serves several")
	errMissingClaim  = unauthenticated("token lacks a required claim")
	errInvalidClaims = unauthenticated("invalid token claims")
	errCritical      = unauthenticated("token has critical header parameters")
)

// VerifyToken implements TokenVerifier: it verifies a compact JWS token and
// returns the principal of its claims.
func (v *JWTVerifier) VerifyToken(ctx context.Context, token string) (authz.Principal, error) {
	if token == "" {
		return authz.Principal{}, ErrNoCredentials
	}
	if len(token) > v.maxBytes {
		return authz.Principal{}, errTooLarge
	}
	var is *trustedIssuer
	claims := jwt.MapClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		var err error
		if is, err = v.issuerOf(claims); err != nil {
			return nil, err
		}
		alg := t.Method.Alg()
		if !slices.Contains(is.Algorithms, alg) {
			return nil, errAlgorithm
		}
		kid, _ := t.Header["kid"].(string)
		keys, err := is.Keys.Keys(ctx, kid)
		if err != nil {
			var e *driver.Error
			if !errors.As(err, &e) {
				code := driver.CodeOf(err) // Canceled, DeadlineExceeded
				if code == driver.Unknown {
					code = driver.Unavailable
				}
				err = driver.Wrap(code, err, "token signing keys unavailable")
			}
			return nil, err
		}
		var set jwt.VerificationKeySet
		for _, k := range keys {
			// A key verifies only its own algorithm: an RSA public key is
			// never offered to HS256, whatever the token's header says.
			if k.Algorithm == alg && k.matches(kid) {
				set.Keys = append(set.Keys, k.Material)
			}
		}
		if len(set.Keys) == 0 {
			return nil, errUnknownKey
		}
		return set, nil
	})
	if err != nil {
		if parsed != nil && parsed.Method != nil && !slices.Contains(algorithms, parsed.Method.Alg()) {
			// "none" and the other registered algorithms we do not accept:
			// the parser reports them as invalid signatures.
			return authz.Principal{}, errAlgorithm
		}
		return authz.Principal{}, tokenError(err)
	}
	if is == nil {
		return authz.Principal{}, errIssuer
	}
	if err := is.validator.Validate(claims); err != nil {
		return authz.Principal{}, tokenError(err)
	}
	p, err := v.claims.principal(claims)
	if err != nil {
		return authz.Principal{}, err
	}
	tenant, err := v.claims.tenantClaim(claims)
	if err != nil {
		return authz.Principal{}, err
	}
	if is.Tenant != "" {
		if tenant != "" && tenant != is.Tenant {
			// issuerOf picks by tenant, so this cannot happen; checked
			// again on the verified claims all the same.
			return authz.Principal{}, errTenant
		}
		tenant = is.Tenant
	}
	p.Tenant = tenant
	if err := checkPrincipal(&p); err != nil {
		return authz.Principal{}, err
	}
	return p, nil
}

// issuerOf picks the trusted issuer of (not yet verified) claims by their
// "iss" and the tenant they claim. The pick only decides which keys to
// verify with; the verified claims are checked again afterwards.
func (v *JWTVerifier) issuerOf(claims jwt.MapClaims) (*trustedIssuer, error) {
	iss, ok := claims["iss"].(string)
	if !ok {
		return nil, errIssuer
	}
	cands := v.byIssuer[iss]
	if len(cands) == 0 {
		return nil, errIssuer
	}
	tenant, err := v.claims.tenantClaim(claims)
	if err != nil {
		return nil, err
	}
	var unbound *trustedIssuer
	for _, c := range cands {
		if tenant != "" && c.Tenant == tenant {
			return c, nil
		}
		if c.Tenant == "" {
			unbound = c
		}
	}
	switch {
	case unbound != nil:
		return unbound, nil
	case tenant != "":
		return nil, errTenant
	case len(cands) == 1:
		return cands[0], nil
	}
	return nil, errNoTenant
}

// tokenError maps a parse or validation error to one of the fixed errors.
func tokenError(err error) error {
	var e *driver.Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errIssuer
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errMissingClaim
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// Also an algorithm outside the supported set: WithValidMethods
		// reports it as an invalid signature.
		return errSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// An unknown or unspecified "alg", "none" included.
		return errAlgorithm
	case errors.Is(err, jwt.ErrTokenInvalidClaims), errors.Is(err, jwt.ErrInvalidType):
		return errInvalidClaims
	}
	return errMalformed
}
