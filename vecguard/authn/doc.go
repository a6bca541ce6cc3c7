// Package authn turns credentials into a Principal: JSON Web Tokens, API
// keys and client certificates. It knows nothing of transports: package
// grpcauth reads the credentials of gRPC calls and hands them to the
// verifiers here; an HTTP middleware could do the same.
//
// The principal it returns is what the guarded client (package vecguard)
// authorizes and audits: subject, tenant, roles and attributes. Nothing a
// caller sends besides its verified credential can change it; in
// particular no request field or header names the tenant.
//
// # Tokens
//
// JWTVerifier verifies compact JWS tokens signed with HS256, RS256, ES256
// or EdDSA. Each Key is pinned to one algorithm, so "alg": "none", other
// algorithms and key-type confusion (an HS256 token "signed" with an RSA
// public key) are refused. A token must carry a trusted "iss", an accepted
// "aud", an "exp" in the future and a "sub"; "nbf" and "iat" must not lie in
// the future. Leeway tolerates clock skew. ClaimMapping picks the claims of
// the subject, tenant, roles and attributes, by name or by JSON Pointer.
//
// # Tenants
//
// An Issuer may be bound to a tenant: its tokens act for that tenant only.
// Per-tenant issuers (one "iss" and key set per tenant) and one issuer
// that signs each tenant's tokens with that tenant's key (several Issuers
// with the same "iss") are both expressed this way. A token is checked
// against the keys of the Issuer of the tenant it claims, so a token signed
// with tenant A's key that claims tenant B fails, as does a token of a
// tenant-bound issuer that claims another tenant.
//
// # Keys
//
// StaticKeys holds fixed keys. JWKS fetches an issuer's JSON Web Key Set
// over https (standard library only), caches it for MaxAge, and fetches it
// again when a token names an unknown key ID — at most once per
// MinInterval, however many such tokens arrive. ParseJWKS decodes a key
// set document.
//
// # API keys
//
// APIKeys holds only HMAC-SHA-256 hashes of the keys, under a server-side
// pepper (HashAPIKey makes them; NewAPIKey makes keys). Look-up and
// comparison do not reveal, by their timing, how much of a key a guess got
// right.
//
// # Client certificates
//
// CertMapper maps the leaf of a chain the TLS handshake verified to a
// principal: subject, tenant and roles from the subject name or the
// subject alternative names. TenantCAs binds tenants to the CAs that issue
// their certificates, so one tenant's CA cannot issue another tenant's
// identities.
//
// # Errors
//
// Every verifier returns *driver.Error values (test them with errors.Is
// against vecguard.ErrUnauthenticated). ErrNoCredentials means no
// credential was given; any other Unauthenticated error means the
// credential is invalid. A key set that cannot be fetched gives
// Unavailable. Error texts are fixed strings: they never carry a token, a
// key or any part of them, and verification failures return the zero
// Principal.
package authn
