/**
 * Customers (a tree per tenant) and device groups. Assignments are columns on the assigned rows
 * (devices, dashboards, users.customer_id): reading a device tells who sees it.
 */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { CustomerStore, DeviceGroupStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { toCustomer, toGroup, type CustomerRow, type GroupRow } from '../rows/customers.js';
import { all, isForeignKeyViolation, isUniqueViolation, one, run } from './db.js';

const nameTaken = (what: string, name: string, err: unknown): unknown =>
  isUniqueViolation(err) ? new PlatformError('CONFLICT', `a ${what} named ${name} exists`, { cause: err }) : err;

const CUSTOMER_COLUMNS = 'id, tenant_id, parent_id, name, created_at';
const GROUP_COLUMNS = 'id, tenant_id, name, filter, created_at';

export function createPgCustomers(pool: pg.Pool): CustomerStore & DeviceGroupStore {
  const insertChecked = async (sql: string, params: unknown[], tenantId: string, what: string, name: string): Promise<void> => {
    try {
      await pool.query(sql, params);
    } catch (err) {
      if (isForeignKeyViolation(err) && !(await one(pool, 'SELECT 1 FROM tenants WHERE id = $1', [tenantId]))) throw tenantNotFound(tenantId);
      throw nameTaken(what, name, err);
    }
  };
  return {
    async insertCustomer(c) {
      checkInt(c.createdAt, 'createdAt');
      await insertChecked(
        `INSERT INTO customers (${CUSTOMER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`,
        [c.id, c.tenantId, c.parentId ?? null, c.name, c.createdAt],
        c.tenantId,
        'customer',
        c.name,
      );
    },
    async updateCustomer(c) {
      try {
        await pool.query('UPDATE customers SET parent_id = $2, name = $3 WHERE id = $1', [c.id, c.parentId ?? null, c.name]);
      } catch (err) {
        throw nameTaken('customer', c.name, err);
      }
    },
    async getCustomer(id) {
      const r = await one<CustomerRow>(pool, `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = $1`, [id]);
      return r && toCustomer(r);
    },
    async listCustomers(tenantId) {
      return (await all<CustomerRow>(pool, `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE tenant_id = $1 ORDER BY name COLLATE "C", id COLLATE "C"`, [tenantId])).map(toCustomer);
    },
    async deleteCustomer(id) {
      // Devices, dashboards and users lose the assignment by ON DELETE SET NULL.
      return (await run(pool, 'DELETE FROM customers WHERE id = $1', [id])) > 0;
    },
    async setDeviceCustomer(deviceIds, customerId) {
      if (deviceIds.length > 0) await pool.query('UPDATE devices SET customer_id = $2 WHERE id = ANY($1)', [deviceIds, customerId]);
    },
    async setDashboardCustomer(dashboardIds, customerId) {
      if (dashboardIds.length > 0) await pool.query('UPDATE dashboards SET customer_id = $2 WHERE id = ANY($1)', [dashboardIds, customerId]);
    },
    async countCustomerUsers(customerId) {
      return (await one<{ n: number }>(pool, 'SELECT count(*) AS n FROM users WHERE customer_id = $1', [customerId]))?.n ?? 0;
    },
    async insertGroup(g) {
      checkInt(g.createdAt, 'createdAt');
      await insertChecked(
        `INSERT INTO device_groups (${GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`,
        [g.id, g.tenantId, g.name, g.filter ? JSON.stringify(g.filter) : null, g.createdAt],
        g.tenantId,
        'group',
        g.name,
      );
    },
    async updateGroup(g) {
      try {
        await pool.query('UPDATE device_groups SET name = $2, filter = $3 WHERE id = $1', [g.id, g.name, g.filter ? JSON.stringify(g.filter) : null]);
      } catch (err) {
        throw nameTaken('group', g.name, err);
      }
    },
    async getGroup(id) {
      const r = await one<GroupRow>(pool, `SELECT ${GROUP_COLUMNS} FROM device_groups WHERE id = $1`, [id]);
      return r && toGroup(r);
    },
    async listGroups(tenantId) {
      const rows =
        tenantId === undefined
          ? await all<GroupRow>(pool, `SELECT ${GROUP_COLUMNS} FROM device_groups ORDER BY tenant_id COLLATE "C", name COLLATE "C", id COLLATE "C"`)
          : await all<GroupRow>(pool, `SELECT ${GROUP_COLUMNS} FROM device_groups WHERE tenant_id = $1 ORDER BY name COLLATE "C", id COLLATE "C"`, [tenantId]);
      return rows.map(toGroup);
    },
    async deleteGroup(id) {
      // Members go by ON DELETE CASCADE.
      return (await run(pool, 'DELETE FROM device_groups WHERE id = $1', [id])) > 0;
    },
    async addGroupMembers(groupId, deviceIds) {
      if (deviceIds.length === 0) return;
      await pool.query(
        'INSERT INTO group_members (group_id, device_id) SELECT $1, d FROM unnest($2::text[]) AS d ON CONFLICT DO NOTHING',
        [groupId, deviceIds],
      );
    },
    async removeGroupMember(groupId, deviceId) {
      return (await run(pool, 'DELETE FROM group_members WHERE group_id = $1 AND device_id = $2', [groupId, deviceId])) > 0;
    },
    async groupMembers(groupId) {
      return (await all<{ device_id: string }>(pool, 'SELECT device_id FROM group_members WHERE group_id = $1 ORDER BY device_id COLLATE "C"', [groupId])).map((r) => r.device_id);
    },
  };
}
