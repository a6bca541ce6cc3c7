// Package encryption keeps a tenant's vectors, documents and sensitive
// metadata out of the vector database in plaintext while nearest-neighbour
// search and equality filters keep working.
//
// The guarded client (package vecguard) calls a Protector for each encrypted
// collection: it seals points before they are written, opens them after
// they are read and re-checked, encrypts query vectors, and rewrites
// filters. Encryptor is this package's Protector:
//
//   - vectors: Scale-And-Perturb (package sap), an approximate
//     distance-comparison-preserving encryption, so the database can still
//     rank them; the client rescores the candidates exactly;
//   - payload fields marked Randomized: AES-256-GCM (Tink), sealed together
//     in one reserved field;
//   - payload fields marked Deterministic: AES-SIV (Tink), in place, so the
//     client can rewrite Eq, Ne, In and NotIn filters to ciphertext;
//   - each point: an HMAC-SHA256 tag over everything vecguard stored, and by
//     default an AES-GCM copy of the exact plaintext vectors, so decryption
//     and rotation are lossless even when the database normalizes vectors;
//   - keys: per tenant, per collection and per purpose, derived with
//     HKDF-SHA256 from versioned root keys that a KeyProvider supplies
//     (package keys has the default, Tink keysets encrypted under a
//     key-encryption key, with a KMS envelope hook).
//
// Callers read and write plaintext; the database sees ciphertext.
//
//	kek, _ := keys.KEKFromKeyset(masterHandle) // or keys.EnvelopeKEK(kmsAEAD)
//	provider, _ := keys.NewLocal(keyStore, kek, nil)
//	docs, _ := encryption.New(provider, encryption.Config{
//		Fields: map[string]encryption.FieldMode{"text": encryption.Randomized, "department": encryption.Deterministic},
//	})
//	client := vecguard.New(drv, &vecguard.Options{
//		Authorizer: az,
//		Encryption: map[string]encryption.Protector{"docs": docs},
//	})
//
// # Fields
//
// Fields not listed in Config.Fields are stored as they are. A Randomized
// field may hold any payload value and need not be declared; it cannot be
// filtered on, so StoredSpec refuses one declared filterable. A
// Deterministic field must be a declared string field. The tenant field is
// never encrypted: the client isolates tenants on it. A field's mode is
// fixed for the collection's life.
//
// # What the database stores
//
// Each vector is its SAP ciphertext. Deterministic fields hold
// base64url(AES-SIV(key, value, ad)), unpadded; the plaintext is the
// value's length as a uvarint, its bytes, and zeros to a multiple of 16
// bytes, and ad = lp("vecguard det v1") ‖ lp(collection) ‖ lp(field), where
// lp(x) is x's length as a 4-byte big-endian integer followed by x.
// Randomized fields are removed. Three reserved fields are added
// (StoredSpec declares them):
//
//   - _vg_kv (FieldKeyVersion): the key version, an int, filterable, so a
//     search can fan out per version;
//   - _vg_meta (FieldMeta): base64url of the metadata record: format byte
//     1, the version (4 bytes big-endian), a flags byte (1: exact vectors
//     sealed, 2: random IVs), the vector count, then per vector in name
//     order its name length, name and 16-byte IV, and the 32-byte tag;
//   - _vg_sec (FieldSecrets): base64url of AES-256-GCM(key, secrets, ad)
//     with Tink's layout (12-byte random nonce, ciphertext, 16-byte tag) and
//     ad = lp("vecguard secrets v1") ‖ lp(collection) ‖ lp(point ID) ‖
//     version; the secrets are the exact vectors (unless
//     Config.OmitExactVector) and the randomized fields in the binary
//     format of record.go, padded with zeros to a multiple of 64 bytes.
//
// The tag is HMAC-SHA256 under the tag key over lp("vecguard tag v1") ‖
// lp(collection) ‖ lp(point ID as a decimal number or canonical UUID) ‖ the
// metadata record without its tag ‖ lp(_vg_sec, "" when absent) ‖
// be32(number of Deterministic fields) ‖ per such field in name order
// lp(name) followed by the byte 1 and lp(stored string), or the byte 0 when
// the field is absent ‖ and, when no exact copy is sealed, per vector in
// metadata order be32(dimension) and its stored components as little-endian
// binary32. When the exact copy is sealed, Open instead checks each stored
// vector against the SAP encryption of the exact copy under its IV: it must
// be that ciphertext bit for bit, or that ciphertext scaled to unit length
// and rounded once per component (databases such as Qdrant normalize Cosine
// vectors). Open returns the exact copy.
//
// # Keys
//
// A KeyProvider returns a scope's Keyring: the active versions of its root
// key and the primary one. Every subkey is
//
//	HKDF-SHA256(ikm = root key of the version, salt = empty,
//	            info = lp("vecguard key v1") ‖ lp(tenant) ‖ lp(collection) ‖ lp(purpose) ‖ lp(qualifier) ‖ be32(version))
//
// with these purposes: "sap-prf" (qualifier: the vector name; 32 bytes, the
// SAP noise key), "sap-scale" (qualifier: the vector name; 8 bytes W, and
// the SAP scale is s = 1 + 1023·((W >> 11)·2^-53), in [1, 1024)), "iv" (32
// bytes, the HMAC key of synthetic IVs), "tag" (32 bytes), "daead" (64
// bytes, AES-SIV) and "aead" (32 bytes, AES-256-GCM). A synthetic IV is the
// first 16 bytes of HMAC-SHA256(iv key, lp(domain) ‖ lp(vector name) ‖
// be32(dimension) ‖ the components as little-endian binary32), with domain
// "vecguard point iv v1" for stored vectors and "vecguard query iv v1" for
// queries. TestDerivation pins these derivations with values computed by an
// independent HKDF implementation; package sap specifies SAP itself and
// ships its known answers.
//
// # Rotation and crypto-shredding
//
// When a provider makes a new version primary, new writes use it at once,
// older versions keep decrypting, and Queries encrypts each search once per
// active version, each with a filter on _vg_kv; the client merges the
// results. Deterministic filters become In/NotIn over the value's
// ciphertext under every active version. vecguard.Client.Reencrypt (or
// Encryptor.Reencrypt) moves a collection's points to the primary version;
// after it, the old version can be retired. Destroying a tenant's root key
// (keys.Local.Destroy) makes every point sealed for the tenant unreadable
// for good: crypto-shredding.
//
// # Errors
//
// Open fails with DataLoss, never returning garbage, when a point was
// changed outside vecguard (any bit of a vector, IV, tag, sealed secret or
// deterministic field), was sealed for another tenant, collection or point
// ID, or under a key version the scope does not have (retired or
// destroyed), or carries no metadata. RankVectors, with which the client
// ranks search candidates before it opens the ones it returns, checks only
// what it reads: the sealed secrets (AES-GCM, bound to the collection, point
// ID and key version) or, without exact copies, nothing but the metadata
// format. With exact copies sealed, a search reads no stored vectors and
// opens its results with OpenRanked, which checks everything Open checks
// but the stored vectors: a stored vector changed in the database can move
// its point in the database's ranking of candidates, but the client scores
// and returns the authenticated exact copy. Get and Scroll check the stored
// vectors too. Provider errors pass through: keys.Local
// fails with FailedPrecondition for a tenant whose keys were destroyed.
// Filters the Encryptor cannot serve (a range or any condition on a
// Randomized field, a range on a Deterministic one) fail with
// InvalidArgument. Messages name the point ID and field names, never a key,
// vector or payload value.
//
// # Search quality and the choice of β
//
// β is measured in the units of the vectors: each stored and query vector
// moves by at most β/4 (times the secret scale). The database ranks
// ciphertexts; the client asks for Config.Oversample (default 4) times the
// requested results per key version, decrypts their exact vectors
// (Encryptor.RankVectors; the database sends no stored vectors for them)
// and rescores them exactly, so what is lost is
// only the true neighbours the database ranked below the candidates; it
// opens in full only the results it returns. The table measures recall@10
// and nDCG@10 against exact plaintext search on synthetic clustered unit
// vectors (10,000 base vectors, 200 queries; sap's TestRecall, which also
// runs on .fvecs files):
// "raw" is the database's ciphertext ranking by Cosine (the last column: by
// Euclidean distance); "4×" and "8×" take that many times 10 candidates and
// rescore them exactly, as the client does.
//
//	d = 384   raw recall  raw nDCG    4× recall   4× nDCG     8× recall   8× nDCG     Euclid raw
//	β = 0.25  0.972       0.991       1.000       1.000       1.000       1.000       0.970
//	β = 0.5   0.946       0.976       1.000       1.000       1.000       1.000       0.941
//	β = 1     0.900       0.946       0.998       1.000       1.000       1.000       0.895
//	β = 1.5   0.869       0.904       0.990       0.998       0.998       1.000       0.866
//	β = 2     0.844       0.876       0.973       0.994       0.992       0.998       0.838
//	β = 3     0.796       0.823       0.946       0.987       0.975       0.994       0.789
//
//	d = 768   raw recall  raw nDCG    4× recall   4× nDCG     8× recall   8× nDCG     Euclid raw
//	β = 0.25  0.975       0.990       1.000       1.000       1.000       1.000       0.972
//	β = 0.5   0.945       0.975       1.000       1.000       1.000       1.000       0.946
//	β = 1     0.903       0.941       0.999       1.000       1.000       1.000       0.904
//	β = 1.5   0.872       0.912       0.992       0.998       1.000       1.000       0.870
//	β = 2     0.854       0.878       0.976       0.995       0.993       0.998       0.843
//	β = 3     0.825       0.833       0.955       0.990       0.981       0.995       0.823
//
// DefaultBeta is 1.5: the largest β of the table whose recall@10 through
// the client stays at 0.99 or more with the default oversampling, at both
// dimensions. Larger β leaks less (see below) and costs recall, which more
// oversampling buys back; smaller β suits data whose neighbours are close
// together. Measure on your own embeddings before changing it.
//
// # Threat model
//
// The adversary is whoever reads the database: its operator, a backup, a
// log of its traffic. vecguard, the key provider and the KEK are trusted.
//
// What the database learns. Plaintext fields, the tenant field, point IDs,
// the schema (including which fields are encrypted), counts, and the
// access pattern: which points each search returns, how many, when. Per
// point: the key version, the IVs, the padded size of the sealed secrets
// (64-byte steps) and of deterministic values (16-byte steps), and which
// deterministic fields are present. From the vectors, the approximate
// geometry: SAP preserves distances up to β, so clusters, near duplicates,
// outliers and neighbourhoods show. A SAP ciphertext divided by the scale
// is the embedding plus noise of norm at most β/4 in the same coordinates,
// and the scale is easy to estimate (for unit embeddings it is about the
// ciphertexts' norm): the cosine between ciphertext and plaintext is about
// 1/√(1+(β/4)²), 0.94 at β = 1.5. Anyone who can run the embedding model
// can therefore compare ciphertexts with embeddings of guessed texts and
// learn what a point or a query is about. SAP hides exact values, not
// meaning; it is not semantic security. Encrypted queries leak the same way.
//
// Known plaintext. Pairs of plaintext and ciphertext vectors give the scale
// exactly; that adds little to the estimate above. They do not reveal the
// noise key, so exact values stay hidden. For deterministic fields, a known
// or chosen value (written through the application) identifies every point
// with that value in the scope and key version; low-entropy values can be
// guessed from a frequency histogram alone.
//
// Averaging. Every fresh encryption of one vector is an independent noisy
// copy; averaging n copies cuts the noise by √n. Copies come from repeated
// identical queries, from rewrites of a point (every payload update through
// the client re-seals it), and from rotations seen in old backups.
// Mitigation: IVs are synthetic by default (an HMAC of the vector under a
// per-key IV key), so the same vector under the same key version always
// gives the same ciphertext and repeats add nothing. The cost is that equal
// vectors have equal ciphertexts, which their near-zero ciphertext distance
// would show anyway. What remains: paraphrased queries and edited documents
// (near-duplicates) get independent noise and can be averaged, as in any
// DCPE scheme; each rotation adds one copy for an adversary who kept the old
// data. Config.RandomIV restores the paper's fresh IVs and with them the
// averaging attack.
//
// Embedding inversion. Models such as Vec2Text recover much of a short text
// from its embedding; from SAP ciphertexts inversion works less well but
// topics and entities survive. Treat stored vectors as sensitive as the
// text, and the vectors the client returns (plaintext) even more: returning
// them needs the read_vectors action.
//
// What AES-SIV fields leak. Equality: points with the same value have the
// same ciphertext within a (tenant, collection, key version), so the
// database sees the value histogram and which points share a value, and an
// Eq or In filter shows which stored ciphertexts it selects. Nothing links
// values across tenants, collections, fields or key versions. Prefer
// Randomized for fields you do not filter on.
//
// Integrity. Sealed data, key versions, IVs, deterministic fields and
// vectors are authenticated and bound to the tenant (through its keys), the
// collection and the point ID. Not covered: plaintext fields; deletion of
// whole points; and rollback, a point replaced by an older sealed copy of
// the same point.
//
// Limits. AES-256-GCM uses random 96-bit nonces: rotate a tenant's keys
// before 2^32 writes per collection and key version. Destroyed keys can
// survive in backups of the key store and, until collected, in this
// process's memory. The noise sampler's running time depends on the noise
// key's stream (about 1.5% of draws take a slower path), never on the
// plaintext.
package encryption
