/**
 * OTA signing keys (public only), per-tenant OTA policy, and the package columns signatures,
 * anti-rollback, external URLs and deltas need (issue 16). Migration 24.
 *
 * A delta shares its full image's title and version (devices are told the same `fw_version`),
 * so the package uniqueness becomes (tenant, type, title, version, from_version), with '' for
 * a full image. SQLite cannot change a table constraint in place: the table is rebuilt. The
 * assignments reference it by name; with foreign keys deferred to the commit they see the same
 * rows again under the same name.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { OtaSettings, OtaSigningKey } from '../../../domain/ota-signing.js';
import type { OtaKeyStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { toOtaKey, type OtaKeyRow } from '../rows/ota-keys.js';
import { isUniqueViolation, type Db } from './sql.js';

export const V24_OTA_SIGNING = `
  PRAGMA defer_foreign_keys = ON;
  CREATE TABLE ota_packages_v24 (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    type         TEXT NOT NULL CHECK (type IN ('firmware', 'software')),
    title        TEXT NOT NULL,
    version      TEXT NOT NULL,
    profile_id   TEXT,
    hardware     TEXT,
    size         INTEGER NOT NULL,
    checksum     TEXT NOT NULL,                  -- hex SHA-256: the blob's key (stated, for an external package)
    created_at   INTEGER NOT NULL,
    from_version TEXT NOT NULL DEFAULT '',       -- a delta's base version; '' for a full image
    min_version  TEXT,
    url          TEXT,                           -- external package: no blob
    signed_by    TEXT,                           -- ota_signing_keys.id at upload (the key may be deleted later)
    signature    TEXT,
    UNIQUE (tenant_id, type, title, version, from_version)
  ) STRICT;
  INSERT INTO ota_packages_v24 (id, tenant_id, type, title, version, profile_id, hardware, size, checksum, created_at)
    SELECT id, tenant_id, type, title, version, profile_id, hardware, size, checksum, created_at FROM ota_packages;
  DROP TABLE ota_packages;
  ALTER TABLE ota_packages_v24 RENAME TO ota_packages;
  CREATE INDEX ota_packages_checksum ON ota_packages (checksum);

  CREATE TABLE ota_signing_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    public_key TEXT NOT NULL,                    -- Ed25519, raw 32 bytes, base64
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;

  CREATE TABLE ota_settings (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    require_signed INTEGER NOT NULL
  ) STRICT;
`;

export function createSqliteOtaKeys(db: Db): OtaKeyStore {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insert: db.prepare('INSERT INTO ota_signing_keys (id, tenant_id, name, public_key, created_at) VALUES (@id, @tenantId, @name, @publicKey, @createdAt)'),
    list: db.prepare<[string], OtaKeyRow>('SELECT id, tenant_id, name, public_key, created_at FROM ota_signing_keys WHERE tenant_id = ? ORDER BY created_at, id'),
    delete: db.prepare('DELETE FROM ota_signing_keys WHERE tenant_id = ? AND id = ?'),
    getSettings: db.prepare<[string], { require_signed: number }>('SELECT require_signed FROM ota_settings WHERE tenant_id = ?'),
    putSettings: db.prepare(
      'INSERT INTO ota_settings (tenant_id, require_signed) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET require_signed = excluded.require_signed',
    ),
  };
  return {
    async insertOtaKey(k: OtaSigningKey): Promise<void> {
      checkInt(k.createdAt, 'createdAt');
      if (!s.tenantExists.get(k.tenantId)) throw tenantNotFound(k.tenantId);
      try {
        s.insert.run({ ...k });
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `a key named "${k.name}" exists`, { cause: err });
        throw err;
      }
    },
    async listOtaKeys(tenantId: string): Promise<OtaSigningKey[]> {
      return s.list.all(tenantId).map(toOtaKey);
    },
    async deleteOtaKey(tenantId: string, id: string): Promise<boolean> {
      return s.delete.run(tenantId, id).changes > 0;
    },
    async getOtaSettings(tenantId: string): Promise<OtaSettings | undefined> {
      const r = s.getSettings.get(tenantId);
      return r && { requireSigned: r.require_signed === 1 };
    },
    async putOtaSettings(tenantId: string, settings: OtaSettings): Promise<void> {
      if (!s.tenantExists.get(tenantId)) throw tenantNotFound(tenantId);
      s.putSettings.run(tenantId, settings.requireSigned ? 1 : 0);
    },
  };
}
