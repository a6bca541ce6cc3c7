package keys

import (
	"context"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// KEK is a key-encryption key: it encrypts keysets at rest. Its method set
// is Tink's AEADWithContext, so a Tink KMS client's AEAD (AWS KMS, GCP KMS,
// Vault) is a KEK as it is; wrap it with EnvelopeKEK so the KMS only ever
// sees a short data key per write.
type KEK interface {
	EncryptWithContext(ctx context.Context, plaintext, associatedData []byte) ([]byte, error)
	DecryptWithContext(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error)
}

type aeadKEK struct{ a tink.AEAD }

func (k aeadKEK) EncryptWithContext(_ context.Context, pt, ad []byte) ([]byte, error) {
	return k.a.Encrypt(pt, ad)
}

func (k aeadKEK) DecryptWithContext(_ context.Context, ct, ad []byte) ([]byte, error) {
	return k.a.Decrypt(ct, ad)
}

// AEADKEK adapts a Tink AEAD without context (a local keyset's primitive, or
// an older KMS client) to a KEK.
func AEADKEK(a tink.AEAD) KEK { return aeadKEK{a} }

// KEKFromKeyset returns a KEK over a Tink AEAD keyset handle, for a
// key-encryption key kept locally (in a file protected by the operating
// system, say).
func KEKFromKeyset(h *keyset.Handle) (KEK, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, driver.Wrap(driver.InvalidArgument, err, "keys: the handle is not an AEAD keyset")
	}
	return AEADKEK(a), nil
}

// EnvelopeKEK is the KMS hook: it returns a KEK that encrypts each keyset
// write under a fresh AES-256-GCM data key and has remote (a KMS key)
// encrypt only that data key, as Tink's KMS envelope AEAD does.
func EnvelopeKEK(remote tink.AEADWithContext) (KEK, error) {
	if remote == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "keys: no remote AEAD")
	}
	e, err := aead.NewKMSEnvelopeAEADWithContext(aead.AES256GCMKeyTemplate(), remote)
	if err != nil {
		return nil, driver.Wrap(driver.Internal, err, "keys: envelope AEAD")
	}
	return e, nil
}
