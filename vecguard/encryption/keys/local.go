package keys

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// LocalOptions configures a Local provider. The zero value (or nil) is
// valid.
type LocalOptions struct {
	// CacheTTL is how long a loaded keyring is used before the record is
	// read again (so a rotation by another process is seen); 0 means one
	// minute. Rotations and destructions through this provider take
	// effect at once.
	CacheTTL time.Duration
	// CacheSize bounds how many tenants' keyrings are cached; 0 means 4096.
	CacheSize int
	// NoAutoCreate refuses tenants without keys (FailedPrecondition)
	// instead of creating their keyset on first use; create them with
	// Create.
	NoAutoCreate bool
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Local is the default KeyProvider: one Tink keyset of HKDF-SHA256 PRF keys
// per tenant, each key a version of the tenant's root key, stored in a Store
// encrypted under a KEK with the tenant's name as associated data (so a
// record copied to another tenant's name does not decrypt). Subkeys are
// derived from the root key as package encryption specifies.
//
// Rotate adds a version and makes it primary; Retire deletes a version;
// Destroy replaces the tenant's keyset with a tombstone, which makes every
// point sealed for that tenant unreadable (crypto-shredding) and refuses
// further use of the tenant until Create. A Local is safe for concurrent
// use.
type Local struct {
	store Store
	kek   KEK
	opts  LocalOptions

	mu    sync.Mutex
	cache map[string]*cached
}

type cached struct {
	kr     *encryption.Keyring
	loaded time.Time
}

var (
	_ encryption.KeyProvider = (*Local)(nil)
	_ encryption.Refresher   = (*Local)(nil)
)

// NewLocal returns a Local provider over store, with keysets encrypted
// under kek. opts may be nil.
func NewLocal(store Store, kek KEK, opts *LocalOptions) (*Local, error) {
	if store == nil || kek == nil {
		return nil, driver.Errorf(driver.InvalidArgument, "keys: a store and a key-encryption key are required")
	}
	l := &Local{store: store, kek: kek, cache: map[string]*cached{}}
	if opts != nil {
		l.opts = *opts
	}
	if l.opts.CacheTTL == 0 {
		l.opts.CacheTTL = time.Minute
	}
	if l.opts.CacheSize == 0 {
		l.opts.CacheSize = 4096
	}
	if l.opts.Now == nil {
		l.opts.Now = time.Now
	}
	return l, nil
}

// minRefresh bounds how often Refresh rereads one tenant's record, so that
// points under unknown versions cannot make every read hit the store.
const minRefresh = time.Second

var (
	errDestroyed = driver.Errorf(driver.FailedPrecondition, "keys: the tenant's encryption keys have been destroyed")
	errNoKeys    = driver.Errorf(driver.FailedPrecondition, "keys: the tenant has no encryption keys")
)

// recordName is the store name of a tenant's record: the tenant's name is
// hashed, so the store does not learn tenant names.
func recordName(tenant string) string {
	h := sha256.Sum256(append([]byte("vecguard tenant v1\x00"), tenant...))
	return "tenant-" + hex.EncodeToString(h[:])
}

// keysetAD is the associated data under which a tenant's keyset is
// encrypted: lp("vecguard keyset v1") ‖ lp(tenant).
func keysetAD(tenant string) []byte {
	var b []byte
	for _, s := range []string{"vecguard keyset v1", tenant} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Keyring implements encryption.KeyProvider. One keyring serves all of a
// tenant's collections (the collection is part of every derivation).
func (l *Local) Keyring(ctx context.Context, s encryption.Scope) (*encryption.Keyring, error) {
	l.mu.Lock()
	c := l.cache[s.Tenant]
	l.mu.Unlock()
	if c != nil && l.opts.Now().Sub(c.loaded) < l.opts.CacheTTL {
		return c.kr, nil
	}
	return l.reload(ctx, s.Tenant)
}

// Refresh implements encryption.Refresher.
func (l *Local) Refresh(ctx context.Context, s encryption.Scope) (*encryption.Keyring, error) {
	l.mu.Lock()
	c := l.cache[s.Tenant]
	l.mu.Unlock()
	if c != nil && l.opts.Now().Sub(c.loaded) < minRefresh {
		return c.kr, nil
	}
	return l.reload(ctx, s.Tenant)
}

func (l *Local) reload(ctx context.Context, tenant string) (*encryption.Keyring, error) {
	h, _, err := l.load(ctx, tenant)
	if driver.CodeOf(err) == driver.NotFound {
		if l.opts.NoAutoCreate {
			return nil, errNoKeys
		}
		if err = l.create(ctx, tenant, nil); err != nil && driver.CodeOf(err) != driver.AlreadyExists {
			return nil, err
		}
		h, _, err = l.load(ctx, tenant)
	}
	if err != nil {
		l.forget(tenant)
		return nil, err
	}
	return l.remember(tenant, h)
}

// load reads and decrypts a tenant's keyset; it also returns the record, for
// a later Swap.
func (l *Local) load(ctx context.Context, tenant string) (*keyset.Handle, []byte, error) {
	rec, err := l.store.Load(ctx, recordName(tenant))
	if err != nil {
		if driver.CodeOf(err) == driver.Unknown {
			err = driver.Wrap(driver.Unavailable, err, "keys: the key store failed")
		}
		return nil, nil, err
	}
	state, body, err := parseRecord(rec)
	if err != nil {
		return nil, rec, err
	}
	if state == stateDestroyed {
		return nil, rec, errDestroyed
	}
	h, err := keyset.ReadWithContext(ctx, keyset.NewBinaryReader(bytes.NewReader(body)), l.kek, keysetAD(tenant))
	if err != nil {
		if driver.CodeOf(err) != driver.Unknown {
			return nil, rec, err
		}
		return nil, rec, driver.Wrap(driver.DataLoss, err, "keys: cannot decrypt the tenant's keyset (wrong key-encryption key, or a damaged record)")
	}
	return h, rec, nil
}

// store encrypts h and swaps it in for old.
func (l *Local) write(ctx context.Context, tenant string, h *keyset.Handle, old []byte) error {
	var buf bytes.Buffer
	if err := h.WriteWithContext(ctx, keyset.NewBinaryWriter(&buf), l.kek, keysetAD(tenant)); err != nil {
		if driver.CodeOf(err) != driver.Unknown {
			return err
		}
		return driver.Wrap(driver.Unavailable, err, "keys: cannot encrypt the tenant's keyset")
	}
	return l.store.Swap(ctx, recordName(tenant), old, marshalRecord(stateActive, buf.Bytes()))
}

// create writes a new one-version keyset for tenant in place of old (nil:
// no record).
func (l *Local) create(ctx context.Context, tenant string, old []byte) error {
	h, err := keyset.NewHandle(prf.HKDFSHA256PRFKeyTemplate())
	if err != nil {
		return driver.Wrap(driver.Internal, err, "keys: cannot create a keyset")
	}
	if err := l.write(ctx, tenant, h, old); err != nil {
		if err == errConflict {
			return driver.Errorf(driver.AlreadyExists, "keys: the tenant already has keys")
		}
		return err
	}
	return nil
}

func (l *Local) remember(tenant string, h *keyset.Handle) (*encryption.Keyring, error) {
	kr, err := keyringOf(h)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cache[tenant]; !ok && len(l.cache) >= l.opts.CacheSize {
		for k := range l.cache { // evict an arbitrary entry
			delete(l.cache, k)
			break
		}
	}
	l.cache[tenant] = &cached{kr: kr, loaded: l.opts.Now()}
	return kr, nil
}

func (l *Local) forget(tenant string) {
	l.mu.Lock()
	delete(l.cache, tenant)
	l.mu.Unlock()
}

type tinkRoot struct{ p prf.PRF }

func (r tinkRoot) Derive(info []byte, n int) ([]byte, error) { return r.p.ComputePRF(info, uint32(n)) }

// keyringOf turns a keyset of HKDF PRF keys into a keyring: each enabled
// key is a version, its Tink key ID the version number.
func keyringOf(h *keyset.Handle) (*encryption.Keyring, error) {
	set, err := prf.NewPRFSet(h)
	if err != nil {
		return nil, driver.Wrap(driver.DataLoss, err, "keys: the keyset is not a PRF keyset")
	}
	roots := make(map[uint32]encryption.RootKey, len(set.PRFs))
	for id, p := range set.PRFs {
		roots[id] = tinkRoot{p}
	}
	return encryption.NewKeyring(set.PrimaryID, roots)
}

// modify applies change to the tenant's current keyset and stores the
// result, retrying when another writer got there first.
func (l *Local) modify(ctx context.Context, tenant string, change func(*keyset.Manager) error) (*keyset.Handle, error) {
	for attempt := 0; ; attempt++ {
		h, rec, err := l.load(ctx, tenant)
		if err != nil {
			return nil, err
		}
		m := keyset.NewManagerFromHandle(h)
		if err := change(m); err != nil {
			return nil, err
		}
		nh, err := m.Handle()
		if err != nil {
			return nil, driver.Wrap(driver.Internal, err, "keys: keyset")
		}
		err = l.write(ctx, tenant, nh, rec)
		if err == errConflict && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := l.remember(tenant, nh); err != nil {
			return nil, err
		}
		return nh, nil
	}
}

// Rotate adds a new root key version for tenant and makes it primary: new
// writes use it at once, older versions keep decrypting, and searches fan
// out over all of them until they are retired. It returns the new version.
func (l *Local) Rotate(ctx context.Context, tenant string) (uint32, error) {
	var version uint32
	_, err := l.modify(ctx, tenant, func(m *keyset.Manager) error {
		id, err := m.Add(prf.HKDFSHA256PRFKeyTemplate())
		if err != nil {
			return driver.Wrap(driver.Internal, err, "keys: cannot add a key")
		}
		version = id
		if err := m.SetPrimary(id); err != nil {
			return driver.Wrap(driver.Internal, err, "keys: cannot set the primary key")
		}
		return nil
	})
	return version, err
}

// Retire deletes a non-primary version of tenant's root key. Points still
// sealed under it become unreadable: run the collection's Reencrypt first.
func (l *Local) Retire(ctx context.Context, tenant string, version uint32) error {
	_, err := l.modify(ctx, tenant, func(m *keyset.Manager) error {
		h, err := m.Handle()
		if err != nil {
			return driver.Wrap(driver.Internal, err, "keys: keyset")
		}
		p, err := h.Primary()
		if err != nil {
			return driver.Wrap(driver.DataLoss, err, "keys: keyset without primary")
		}
		if p.KeyID() == version {
			return driver.Errorf(driver.FailedPrecondition, "keys: cannot retire the primary version; rotate first")
		}
		if err := m.Delete(version); err != nil {
			return driver.Errorf(driver.NotFound, "keys: no such key version")
		}
		return nil
	})
	return err
}

// Versions returns the primary version and every active version of
// tenant's root key, primary first, as stored now.
func (l *Local) Versions(ctx context.Context, tenant string) (primary uint32, versions []uint32, err error) {
	h, _, err := l.load(ctx, tenant)
	if err != nil {
		return 0, nil, err
	}
	kr, err := keyringOf(h)
	if err != nil {
		return 0, nil, err
	}
	return kr.Primary(), kr.Versions(), nil
}

// Destroy crypto-shreds a tenant: its keyset is replaced by a tombstone, so
// nothing sealed for it can be decrypted again, and every later operation
// for the tenant fails with FailedPrecondition until Create. Copies of the
// record in backups of the store, and key material still in this process's
// memory until the garbage collector reclaims it, are outside its reach:
// keep store backups short-lived.
func (l *Local) Destroy(ctx context.Context, tenant string) error {
	for attempt := 0; ; attempt++ {
		rec, err := l.store.Load(ctx, recordName(tenant))
		switch {
		case driver.CodeOf(err) == driver.NotFound:
			rec = nil
		case err != nil:
			return err
		}
		if rec != nil {
			if st, _, err := parseRecord(rec); err == nil && st == stateDestroyed {
				l.forget(tenant)
				return nil
			}
		}
		err = l.store.Swap(ctx, recordName(tenant), rec, marshalRecord(stateDestroyed, nil))
		if err == errConflict && attempt < 5 {
			continue
		}
		l.forget(tenant)
		return err
	}
}

// Create gives tenant a new keyset: for a tenant without one when
// NoAutoCreate is set, or to start over after Destroy (the old data stays
// unreadable). It fails with AlreadyExists when the tenant has active keys.
func (l *Local) Create(ctx context.Context, tenant string) error {
	rec, err := l.store.Load(ctx, recordName(tenant))
	switch {
	case driver.CodeOf(err) == driver.NotFound:
		rec = nil
	case err != nil:
		return err
	default:
		st, _, perr := parseRecord(rec)
		if perr == nil && st == stateActive {
			return driver.Errorf(driver.AlreadyExists, "keys: the tenant already has keys")
		}
	}
	l.forget(tenant)
	return l.create(ctx, tenant, rec)
}
