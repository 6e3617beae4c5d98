/** OTA signing keys (public) and the per-tenant OTA policy on PostgreSQL, with the SQLite store's answers (sqlite/ota-keys.ts). */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { OtaSettings, OtaSigningKey } from '../../../domain/ota-signing.js';
import type { OtaKeyStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { toOtaKey, type OtaKeyRow } from '../rows/ota-keys.js';
import { all, isForeignKeyViolation, isUniqueViolation, one } from './db.js';

export function createPgOtaKeys(pool: pg.Pool): OtaKeyStore {
  return {
    async insertOtaKey(k: OtaSigningKey): Promise<void> {
      checkInt(k.createdAt, 'createdAt');
      try {
        await pool.query('INSERT INTO ota_signing_keys (id, tenant_id, name, public_key, created_at) VALUES ($1, $2, $3, $4, $5)', [k.id, k.tenantId, k.name, k.publicKey, k.createdAt]);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(k.tenantId);
        if (isUniqueViolation(err, 'ota_signing_keys_name')) throw new PlatformError('CONFLICT', `a key named "${k.name}" exists`, { cause: err });
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `key ${k.id}`, { cause: err });
        throw err;
      }
    },
    async listOtaKeys(tenantId: string): Promise<OtaSigningKey[]> {
      return (await all<OtaKeyRow>(pool, 'SELECT * FROM ota_signing_keys WHERE tenant_id = $1 ORDER BY created_at, id COLLATE "C"', [tenantId])).map(toOtaKey);
    },
    async deleteOtaKey(tenantId: string, id: string): Promise<boolean> {
      return ((await pool.query('DELETE FROM ota_signing_keys WHERE id = $1 AND tenant_id = $2', [id, tenantId])).rowCount ?? 0) > 0;
    },
    async getOtaSettings(tenantId: string): Promise<OtaSettings | undefined> {
      const r = await one<{ require_signed: boolean }>(pool, 'SELECT require_signed FROM ota_settings WHERE tenant_id = $1', [tenantId]);
      return r && { requireSigned: r.require_signed };
    },
    async putOtaSettings(tenantId: string, s: OtaSettings): Promise<void> {
      try {
        await pool.query('INSERT INTO ota_settings (tenant_id, require_signed) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET require_signed = EXCLUDED.require_signed', [tenantId, s.requireSigned]);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(tenantId);
        throw err;
      }
    },
  };
}
