/** Tenants and custom roles in Maps, with the SQLite store's answers and errors. */
import { PlatformError } from '../../../domain/errors.js';
import type { CustomRole, TenancyStore, TenantRecord } from '../../../ports.js';
import { compareBinary } from '../shared.js';

const copyRole = (r: CustomRole): CustomRole => JSON.parse(JSON.stringify(r)) as CustomRole;

/** `tenants` is the registry's own map (devices and users check it), shared so both see one set. */
export function createMemoryTenancy(tenants: Map<string, TenantRecord>): TenancyStore {
  const roles = new Map<string, CustomRole>();

  return {
    async listTenants() {
      return [...tenants.values()].sort((a, b) => a.createdAt - b.createdAt || compareBinary(a.id, b.id)).map((t) => ({ ...t }));
    },
    async getTenant(id) {
      const t = tenants.get(id);
      return t ? { ...t } : undefined;
    },
    async insertTenant(t) {
      if (tenants.has(t.id)) throw new PlatformError('CONFLICT', `tenant ${t.id}`);
      tenants.set(t.id, { id: t.id, name: t.name, status: t.status, createdAt: t.createdAt });
    },
    async updateTenant(id, patch) {
      const t = tenants.get(id);
      if (!t) return undefined;
      const updated: TenantRecord = { ...t, ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.status !== undefined ? { status: patch.status } : {}) };
      tenants.set(id, updated);
      return { ...updated };
    },
    async deleteTenant(id) {
      for (const role of [...roles.values()]) if (role.tenantId === id) roles.delete(role.id);
      return tenants.delete(id);
    },
    async listRoles(tenantId) {
      return [...roles.values()].filter((r) => r.tenantId === tenantId).sort((a, b) => compareBinary(a.name, b.name)).map(copyRole);
    },
    async getRole(id) {
      const r = roles.get(id);
      return r ? copyRole(r) : undefined;
    },
    async saveRole(role) {
      const clash = [...roles.values()].find((r) => r.tenantId === role.tenantId && r.name === role.name && r.id !== role.id);
      if (clash) throw new PlatformError('CONFLICT', `role ${role.name} exists`);
      if (!tenants.has(role.tenantId)) throw new PlatformError('NOT_FOUND', `tenant ${role.tenantId}`);
      const existing = roles.get(role.id);
      roles.set(role.id, copyRole({ ...role, createdAt: existing?.createdAt ?? role.createdAt }));
    },
    async deleteRole(id) {
      return roles.delete(id);
    },
  };
}
