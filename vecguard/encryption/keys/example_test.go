package keys_test

import (
	"context"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/vecguard/vecguard/vecguard/encryption"
	"github.com/vecguard/vecguard/vecguard/encryption/keys"
)

// A local provider: keysets in memory, encrypted under a local AEAD keyset.
// Production code keeps the store on disk or in a database and the KEK in a
// KMS (keys.EnvelopeKEK).
func Example() {
	ctx := context.Background()
	master, _ := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	kek, _ := keys.KEKFromKeyset(master)
	provider, _ := keys.NewLocal(&keys.MemStore{}, kek, nil)

	kr, _ := provider.Keyring(ctx, encryption.Scope{Tenant: "acme", Collection: "docs"})
	fmt.Println("versions:", len(kr.Versions()))

	v2, _ := provider.Rotate(ctx, "acme")
	kr, _ = provider.Keyring(ctx, encryption.Scope{Tenant: "acme", Collection: "docs"})
	fmt.Println("rotated:", kr.Primary() == v2, len(kr.Versions()))

	_ = provider.Destroy(ctx, "acme")
	_, err := provider.Keyring(ctx, encryption.Scope{Tenant: "acme", Collection: "docs"})
	fmt.Println(err)
	// Output:
	// versions: 1
	// rotated: true 2
	// vecguard: failed precondition: keys: the tenant's encryption keys have been destroyed
}
