/**
 * Tenants (status, creation time) and custom roles. Deleting a tenant here removes only what no
 * other part owns an operation for; the tenants service deletes devices, users, rules and the
 * rest through their own operations first.
 */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { TenancyStore } from '../../../ports.js';
import { toRole, toTenant, type RoleRow, type TenantRow } from '../rows/tenancy.js';
import { all, inTx, isForeignKeyViolation, isUniqueViolation, one, run } from './db.js';

/** Tenant-scoped rows left once devices, users, rules and the rest went through their own deletes. */
const LEFTOVERS = [
  'DELETE FROM ota_deployment_devices WHERE deployment_id IN (SELECT id FROM ota_deployments WHERE tenant_id = $1)',
  'DELETE FROM ota_deployments WHERE tenant_id = $1',
  'DELETE FROM ota_assignments WHERE tenant_id = $1',
  'DELETE FROM ota_profile_assignments WHERE tenant_id = $1',
  'DELETE FROM ota_packages WHERE tenant_id = $1',
  'DELETE FROM alarms WHERE tenant_id = $1',
  'DELETE FROM commands WHERE tenant_id = $1',
  'DELETE FROM roles WHERE tenant_id = $1',
  'DELETE FROM mqtt_grants WHERE tenant_id = $1',
  'DELETE FROM tenant_usage_daily WHERE tenant_id = $1',
  // Export buffers and group members go by ON DELETE CASCADE; customers in one statement (the parent
  // references are checked at its end), assignments on devices/dashboards/users by ON DELETE SET NULL.
  'DELETE FROM integrations WHERE tenant_id = $1',
  'DELETE FROM device_groups WHERE tenant_id = $1',
  'DELETE FROM customers WHERE tenant_id = $1',
];

const TENANT_COLUMNS = 'id, name, status, created_at';
const ROLE_COLUMNS = 'id, tenant_id, name, permissions, scope, created_at';

export function createPgTenancy(pool: pg.Pool): TenancyStore {
  return {
    async listTenants() {
      return (await all<TenantRow>(pool, `SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at, id COLLATE "C"`)).map(toTenant);
    },
    async getTenant(id) {
      const r = await one<TenantRow>(pool, `SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [id]);
      return r && toTenant(r);
    },
    async insertTenant(t) {
      try {
        await pool.query(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES ($1, $2, $3, $4)`, [t.id, t.name, t.status, t.createdAt]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `tenant ${t.id}`, { cause: err });
        throw err;
      }
    },
    async updateTenant(id, patch) {
      const r = await one<TenantRow>(
        pool,
        `UPDATE tenants SET name = COALESCE($2, name), status = COALESCE($3, status) WHERE id = $1 RETURNING ${TENANT_COLUMNS}`,
        [id, patch.name ?? null, patch.status ?? null],
      );
      return r && toTenant(r);
    },
    async deleteTenant(id) {
      return inTx(pool, async (c) => {
        for (const sql of LEFTOVERS) await c.query(sql, [id]);
        return (await run(c, 'DELETE FROM tenants WHERE id = $1', [id])) > 0;
      });
    },
    async listRoles(tenantId) {
      return (await all<RoleRow>(pool, `SELECT ${ROLE_COLUMNS} FROM roles WHERE tenant_id = $1 ORDER BY name COLLATE "C"`, [tenantId])).map(toRole);
    },
    async getRole(id) {
      const r = await one<RoleRow>(pool, `SELECT ${ROLE_COLUMNS} FROM roles WHERE id = $1`, [id]);
      return r && toRole(r);
    },
    async saveRole(role) {
      try {
        await pool.query(
          `INSERT INTO roles (${ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, permissions = excluded.permissions, scope = excluded.scope`,
          [role.id, role.tenantId, role.name, JSON.stringify(role.permissions), role.scope ? JSON.stringify(role.scope) : null, role.createdAt],
        );
      } catch (err) {
        if (isUniqueViolation(err, 'roles_name')) throw new PlatformError('CONFLICT', `role ${role.name} exists`, { cause: err });
        if (isForeignKeyViolation(err)) throw new PlatformError('NOT_FOUND', `tenant ${role.tenantId}`, { cause: err });
        throw err;
      }
    },
    async deleteRole(id) {
      return (await run(pool, 'DELETE FROM roles WHERE id = $1', [id])) > 0;
    },
  };
}
