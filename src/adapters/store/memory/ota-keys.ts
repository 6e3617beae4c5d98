/** OTA signing keys and per-tenant OTA policy in memory, with the SQLite store's answers (sqlite/ota-keys.ts). */
import { PlatformError } from '../../../domain/errors.js';
import type { OtaSettings, OtaSigningKey } from '../../../domain/ota-signing.js';
import type { OtaKeyStore } from '../../../ports.js';
import { checkInt } from '../shared.js';

export function createMemoryOtaKeys(tenantExists: (id: string) => boolean, tenantNotFound: (id: string) => Error): OtaKeyStore {
  const keys = new Map<string, OtaSigningKey>();
  const settings = new Map<string, OtaSettings>();
  return {
    async insertOtaKey(k) {
      checkInt(k.createdAt, 'createdAt');
      if (!tenantExists(k.tenantId)) throw tenantNotFound(k.tenantId);
      if (keys.has(k.id)) throw new PlatformError('CONFLICT', `key ${k.id}`);
      for (const other of keys.values()) {
        if (other.tenantId === k.tenantId && other.name === k.name) throw new PlatformError('CONFLICT', `a key named "${k.name}" exists`);
      }
      keys.set(k.id, { ...k });
    },
    async listOtaKeys(tenantId) {
      return [...keys.values()]
        .filter((k) => k.tenantId === tenantId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map((k) => ({ ...k }));
    },
    async deleteOtaKey(tenantId, id) {
      const k = keys.get(id);
      if (!k || k.tenantId !== tenantId) return false;
      return keys.delete(id);
    },
    async getOtaSettings(tenantId) {
      const s = settings.get(tenantId);
      return s && { ...s };
    },
    async putOtaSettings(tenantId, s) {
      if (!tenantExists(tenantId)) throw tenantNotFound(tenantId);
      settings.set(tenantId, { ...s });
    },
  };
}
