/**
 * Tenants (status, creation time) and custom roles (issue 15). Deleting a tenant here removes
 * only what no other part owns an operation for; the tenants service deletes devices, users,
 * rules and the rest through their own operations first.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { TenancyStore, TenantPatch } from '../../../ports.js';
import { toRole, toTenant, type RoleRow, type TenantRow } from '../rows/tenancy.js';
import type { Db } from './sql.js';

/**
 * Migration 18. The first (oldest) admin of the default tenant becomes the system administrator,
 * other admins tenant admins, users operators; an installation upgraded in place keeps working.
 */
export const V18_TENANCY = `
  ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));
  ALTER TABLE tenants ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  UPDATE users SET role = 'sysadmin' WHERE id = (
    SELECT id FROM users WHERE role = 'admin' AND tenant_id = '00000000-0000-4000-8000-000000000001' ORDER BY created_at, id LIMIT 1
  );
  UPDATE users SET role = 'tenant-admin' WHERE role = 'admin';
  UPDATE users SET role = 'operator' WHERE role = 'user';
  CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,                   -- JSON array of resource:action
    scope       TEXT,                            -- JSON {customerId?, groupId?}
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;
`;

/** Tenant-scoped rows left once devices, users, rules and the rest went through their own deletes. */
const LEFTOVERS = [
  'DELETE FROM ota_deployment_devices WHERE deployment_id IN (SELECT id FROM ota_deployments WHERE tenant_id = ?)',
  'DELETE FROM ota_deployments WHERE tenant_id = ?',
  'DELETE FROM ota_assignments WHERE tenant_id = ?',
  'DELETE FROM ota_profile_assignments WHERE tenant_id = ?',
  'DELETE FROM ota_packages WHERE tenant_id = ?',
  'DELETE FROM ota_signing_keys WHERE tenant_id = ?',
  'DELETE FROM ota_settings WHERE tenant_id = ?',
  'DELETE FROM alarms WHERE tenant_id = ?',
  'DELETE FROM commands WHERE tenant_id = ?',
  'DELETE FROM roles WHERE tenant_id = ?',
];

export function createSqliteTenancy(db: Db): TenancyStore {
  const s = {
    list: db.prepare<[], TenantRow>('SELECT id, name, status, created_at FROM tenants ORDER BY created_at, id'),
    get: db.prepare<[string], TenantRow>('SELECT id, name, status, created_at FROM tenants WHERE id = ?'),
    insert: db.prepare('INSERT INTO tenants (id, name, status, created_at) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE tenants SET name = ?, status = ? WHERE id = ?'),
    remove: db.prepare('DELETE FROM tenants WHERE id = ?'),
    roles: db.prepare<[string], RoleRow>('SELECT * FROM roles WHERE tenant_id = ? ORDER BY name'),
    role: db.prepare<[string], RoleRow>('SELECT * FROM roles WHERE id = ?'),
    roleByName: db.prepare<[string, string], RoleRow>('SELECT * FROM roles WHERE tenant_id = ? AND name = ?'),
    saveRole: db.prepare(
      `INSERT INTO roles (id, tenant_id, name, permissions, scope, created_at) VALUES (@id, @tenantId, @name, @permissions, @scope, @createdAt)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, permissions = excluded.permissions, scope = excluded.scope`,
    ),
    deleteRole: db.prepare('DELETE FROM roles WHERE id = ?'),
  };
  const leftovers = LEFTOVERS.map((sql) => db.prepare(sql));
  const deleteTx = db.transaction((id: string): boolean => {
    for (const statement of leftovers) statement.run(id);
    return s.remove.run(id).changes > 0;
  });

  return {
    async listTenants() {
      return s.list.all().map(toTenant);
    },
    async getTenant(id) {
      const row = s.get.get(id);
      return row ? toTenant(row) : undefined;
    },
    async insertTenant(t) {
      if (s.get.get(t.id)) throw new PlatformError('CONFLICT', `tenant ${t.id}`);
      s.insert.run(t.id, t.name, t.status, t.createdAt);
    },
    async updateTenant(id, patch: TenantPatch) {
      const row = s.get.get(id);
      if (!row) return undefined;
      const updated = { ...toTenant(row), ...patch };
      s.update.run(updated.name, updated.status, id);
      return updated;
    },
    async deleteTenant(id) {
      return deleteTx(id);
    },
    async listRoles(tenantId) {
      return s.roles.all(tenantId).map(toRole);
    },
    async getRole(id) {
      const row = s.role.get(id);
      return row ? toRole(row) : undefined;
    },
    async saveRole(role) {
      const clash = s.roleByName.get(role.tenantId, role.name);
      if (clash && clash.id !== role.id) throw new PlatformError('CONFLICT', `role ${role.name} exists`);
      if (!s.get.get(role.tenantId)) throw new PlatformError('NOT_FOUND', `tenant ${role.tenantId}`);
      s.saveRole.run({
        id: role.id,
        tenantId: role.tenantId,
        name: role.name,
        permissions: JSON.stringify(role.permissions),
        scope: role.scope ? JSON.stringify(role.scope) : null,
        createdAt: role.createdAt,
      });
    },
    async deleteRole(id) {
      return s.deleteRole.run(id).changes > 0;
    },
  };
}
