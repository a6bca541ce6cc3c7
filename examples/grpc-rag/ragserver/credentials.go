package ragserver

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vecguard/vecguard/vecguard/authn"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/grpcauth"
)

// Audience is the "aud" of the example's tokens.
const Audience = "grpc-rag"

// TenantCredentials are one tenant's secrets: the key its identity provider
// signs tokens with, and the API keys of two of its services. In the
// example, the client program plays each tenant's identity provider.
type TenantCredentials struct {
	Name       string `json:"name"`
	Issuer     string `json:"issuer"`      // the "iss" of the tenant's tokens
	SigningKey []byte `json:"signing_key"` // HS256 secret of the tenant's issuer
	IndexerKey string `json:"indexer_key"` // API key of the tenant's indexer (role writer)
	CrawlerKey string `json:"crawler_key"` // API key of a crawler (role reader, small budget)
}

// Credentials are the secrets of every tenant of a demo deployment.
type Credentials struct {
	Tenants []TenantCredentials `json:"tenants"`
}

// NewDemoCredentials draws fresh secrets for the named tenants.
func NewDemoCredentials(tenants ...string) *Credentials {
	c := &Credentials{}
	for _, t := range tenants {
		key := make([]byte, 32)
		rand.Read(key)
		c.Tenants = append(c.Tenants, TenantCredentials{
			Name:       t,
			Issuer:     "https://idp.example/tenants/" + t,
			SigningKey: key,
			IndexerKey: authn.NewAPIKey(),
			CrawlerKey: authn.NewAPIKey(),
		})
	}
	return c
}

// Tenant returns the credentials of a tenant.
func (c *Credentials) Tenant(name string) (*TenantCredentials, error) {
	for i := range c.Tenants {
		if c.Tenants[i].Name == name {
			return &c.Tenants[i], nil
		}
	}
	return nil, fmt.Errorf("no credentials for tenant %q", name)
}

// Token mints a token of the tenant's issuer for subject with roles, valid
// for ttl.
func (t *TenantCredentials) Token(subject string, roles []string, ttl time.Duration) (string, error) {
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": t.Issuer, "aud": Audience, "sub": subject, "tenant": t.Name,
		"roles": roles, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}).SignedString(t.SigningKey)
}

// Save writes the credentials to path, readable by its owner only.
func (c *Credentials) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// LoadCredentials reads credentials written by Save.
func LoadCredentials(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, errors.New("credentials file is not valid JSON")
	}
	return &c, nil
}

// Authenticator returns what the server trusts for these credentials: the
// tenants' issuers, each bound to its tenant, for bearer tokens; the hashes
// of the API keys (under pepper) for the "x-api-key" header.
func (c *Credentials) Authenticator(pepper []byte) (grpcauth.Authenticator, error) {
	var issuers []authn.Issuer
	var keys []authn.APIKey
	for _, t := range c.Tenants {
		issuers = append(issuers, authn.Issuer{
			Issuer: t.Issuer,
			Tenant: t.Name, // a token of this issuer acts for this tenant only
			Keys:   authn.StaticKeys{{Algorithm: authn.HS256, Material: t.SigningKey}},
		})
		keys = append(keys,
			authn.APIKey{Hash: authn.HashAPIKey(pepper, t.IndexerKey), Principal: authz.Principal{Subject: t.Name + "-indexer", Tenant: t.Name, Roles: []string{RoleWriter}}},
			authn.APIKey{Hash: authn.HashAPIKey(pepper, t.CrawlerKey), Principal: authz.Principal{Subject: t.Name + "-crawler", Tenant: t.Name, Roles: []string{RoleReader}}},
		)
	}
	tokens, err := authn.NewJWTVerifier(authn.JWTOptions{
		Issuers:  issuers,
		Audience: []string{Audience},
		Leeway:   30 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	apiKeys, err := authn.NewAPIKeys(pepper, keys)
	if err != nil {
		return nil, err
	}
	return grpcauth.Chain(grpcauth.Bearer(tokens), grpcauth.APIKey(apiKeys, "")), nil
}
