package vecguard

import (
	"context"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// Reencrypt migrates an encrypted collection to the current primary key
// versions: every point sealed under an older version is opened and sealed
// again under its tenant's primary version (see encryption.Encryptor's
// Reencrypt for the procedure and its limits). Run it after rotating keys
// and before retiring the old versions.
//
// It needs the admin action on the collection. A principal with a tenant
// re-encrypts only that tenant's points of a tenant-isolated collection; a
// principal without one (an operator) re-encrypts every tenant's, or
// opts.Tenant's. The collection's Protector must implement
// encryption.Migrator (encryption.Encryptor does); otherwise the call fails
// with FailedPrecondition.
func (c *Client) Reencrypt(ctx context.Context, collection string, opts encryption.ReencryptOptions) (stats encryption.ReencryptStats, err error) {
	k, err := c.begin(ctx, "reencrypt", audit.ClassAdmin, collection)
	defer func() { err = k.end(err) }()
	if err != nil {
		return stats, err
	}
	if _, err := k.authorize(authz.Admin, collection); err != nil {
		return stats, err
	}
	st, err := k.lookup(collection, authz.Admin)
	if err != nil {
		return stats, err
	}
	m, ok := st.prot.(encryption.Migrator)
	if !ok {
		return stats, driver.Errorf(driver.FailedPrecondition, "the collection is not encrypted by a protector that can re-encrypt")
	}
	if st.user.TenantField != "" && k.p.Tenant != "" {
		if opts.Tenant != "" && opts.Tenant != k.p.Tenant {
			return stats, driver.Errorf(driver.PermissionDenied, "cannot re-encrypt another tenant's points")
		}
		opts.Tenant = k.p.Tenant
	}
	k.rec.Tenant = opts.Tenant
	stats, err = m.Reencrypt(k.ctx, st.coll, st.stored, opts)
	k.rec.ResultCount = int(stats.Reencrypted)
	return stats, err
}
