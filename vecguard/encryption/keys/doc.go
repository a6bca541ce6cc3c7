// Package keys provides the default encryption.KeyProvider: Local, which
// keeps one Tink keyset per tenant, each key of the keyset a version of the
// tenant's root key (an HKDF-SHA256 PRF key), encrypted at rest under a
// key-encryption key (KEK) in a Store.
//
//	kek, err := keys.EnvelopeKEK(kmsAEAD)     // a KMS key (Tink AEADWithContext) wraps a data key per write
//	kek, err := keys.KEKFromKeyset(handle)    // or a local Tink AEAD keyset
//	store, err := keys.NewDirStore(dir)       // or keys.MemStore, or your own Store
//	provider, err := keys.NewLocal(store, kek, nil)
//
// A tenant's keyset is created on first use (unless
// LocalOptions.NoAutoCreate) and cached. Rotate adds a version and makes it
// primary; Retire deletes a version once vecguard.Client.Reencrypt has
// moved every point off it; Destroy crypto-shreds a tenant: its keyset is
// replaced by a tombstone and everything sealed for the tenant stays
// unreadable, even if the tenant is later given new keys with Create.
//
// The store learns neither key material (records are encrypted under the
// KEK, with the tenant's name as associated data, so a record copied under
// another tenant's name does not decrypt) nor tenant names (records are
// named by a hash of the tenant). Record format: "VGKS", a format byte (1),
// a state byte (1 active, 2 destroyed), then for an active record Tink's
// binary EncryptedKeyset.
//
// This package links Tink's keyset and PRF packages, which register
// protobuf files; one of them, common.proto, clashes by name with
// milvus-proto's, so a program that also links the Milvus SDK must run with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn (adapters/milvus explains).
// Package encryption itself registers no such file. A KeyProvider of your
// own over encryption.HKDFRootKey needs neither.
//
// # Errors
//
// Keyring and the administrative methods fail with FailedPrecondition for a
// destroyed tenant (and, with NoAutoCreate, for a tenant without keys),
// Unavailable when the store or the KEK fails, DataLoss when a record does
// not decrypt (a wrong KEK or a damaged record), NotFound for an unknown
// version, and AlreadyExists from Create for a tenant that has keys.
package keys
