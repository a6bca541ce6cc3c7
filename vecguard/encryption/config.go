package encryption

import (
	"math"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// FieldMode says how a payload field is stored.
type FieldMode uint8

// The field modes.
const (
	// Plain stores the field as it is (the default for unlisted fields).
	Plain FieldMode = iota
	// Randomized seals the field with AES-256-GCM: equal values give
	// unrelated ciphertexts; the field cannot be filtered on. Any payload
	// value may be randomized.
	Randomized
	// Deterministic encrypts the field with AES-SIV: equal values give equal
	// ciphertexts, so Eq, Ne, In and NotIn filters keep working (the
	// Encryptor rewrites them); ranges are refused. The field must be a
	// declared string field.
	Deterministic
)

func (m FieldMode) String() string {
	switch m {
	case Plain:
		return "plain"
	case Randomized:
		return "randomized"
	case Deterministic:
		return "deterministic"
	}
	return "invalid"
}

// Defaults of Config.
const (
	// DefaultBeta is the SAP approximation factor used when Config.Beta is
	// 0: the largest β of the recall table (package documentation) at which
	// searches through the client keep recall@10 at 0.99 or more with the
	// default oversampling, at d = 384 and 768.
	DefaultBeta = 1.5
	// DefaultOversample is how many candidates per result an encrypted
	// search asks the database for when Config.Oversample is 0.
	DefaultOversample = 4
	// MaxOversample bounds Config.Oversample.
	MaxOversample = 64
)

// Config configures an Encryptor. The zero value is usable: β =
// DefaultBeta, synthetic IVs, exact vector copies kept, no field encrypted.
type Config struct {
	// Beta is SAP's approximation factor β, in the units of the vectors:
	// every stored and query vector is moved by up to β/4 (times the secret
	// scale), so ciphertext distances keep the order of plaintext distances
	// that differ by more than β. Larger is more private and less precise;
	// the package documentation has the recall table. 0 means DefaultBeta.
	// For Cosine collections store unit vectors (what embedding models
	// emit) so that β means what the table says.
	Beta float64
	// Fields says how payload fields are encrypted; unlisted fields are
	// stored in plaintext. The tenant field cannot be encrypted.
	Fields map[string]FieldMode
	// OmitExactVector stops sealing an AES-GCM copy of each exact plaintext
	// vector in the point. It saves 4 bytes a dimension (base64: about 5.4)
	// per point, but then Open returns vectors decrypted from the
	// database's copy (equal to the plaintext up to float32 rounding),
	// rotation re-encrypts those, and the database must store vectors
	// verbatim: Qdrant, for one, normalizes Cosine vectors, after which
	// Open fails with DataLoss. A collection may hold points sealed with
	// and without exact copies (the setting changed): searches, which do
	// not read stored vectors when exact copies are sealed, read them again
	// when they meet a point without (ErrNoExactCopy).
	OmitExactVector bool
	// RandomIV draws a fresh random IV for every vector and query, as the
	// SAP paper does, instead of a synthetic IV (an HMAC of the vector).
	// Synthetic IVs make re-encrypting the same vector give the same
	// ciphertext, so an operator who watches repeated writes or queries of
	// one vector cannot average the noise away; random IVs hide that two
	// ciphertexts come from the same vector (which the geometry mostly
	// reveals anyway). See the threat model.
	RandomIV bool
	// Oversample is how many candidates per requested result an encrypted
	// search fetches from the database before the client rescores them
	// exactly against the decrypted vectors; 0 means DefaultOversample.
	// Higher recovers more of the recall the noise costs.
	Oversample int
}

func (c *Config) check() error {
	if c.Beta == 0 {
		c.Beta = DefaultBeta
	}
	if !(c.Beta > 0) || math.IsInf(c.Beta, 0) {
		return driver.Errorf(driver.InvalidArgument, "encryption: beta must be finite and positive")
	}
	if c.Oversample == 0 {
		c.Oversample = DefaultOversample
	}
	if c.Oversample < 1 || c.Oversample > MaxOversample {
		return driver.Errorf(driver.InvalidArgument, "encryption: oversample must be 1 to %d", MaxOversample)
	}
	fields := make(map[string]FieldMode, len(c.Fields))
	for name, mode := range c.Fields {
		if !driver.ValidFieldName(name) || isReserved(name) {
			return driver.Errorf(driver.InvalidArgument, "encryption: invalid field name %q", name)
		}
		switch mode {
		case Plain:
			continue
		case Randomized, Deterministic:
		default:
			return driver.Errorf(driver.InvalidArgument, "encryption: field %q has an invalid mode", name)
		}
		fields[name] = mode
	}
	c.Fields = fields
	return nil
}

func isReserved(name string) bool {
	return len(name) >= len(driver.ReservedPrefix) && name[:len(driver.ReservedPrefix)] == driver.ReservedPrefix
}
