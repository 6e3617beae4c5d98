/**
 * Customers (a tree per tenant) and device groups (issue 15). Assignments are columns on the
 * assigned rows (devices, dashboards, users.customer_id): reading a device tells who sees it.
 * Tables: version 19 below.
 */
import type { Customer } from '../../../domain/customers.js';
import type { DeviceGroup } from '../../../domain/device-groups.js';
import { PlatformError } from '../../../domain/errors.js';
import type { CustomerStore, DeviceGroupStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { toCustomer, toGroup, type CustomerRow, type GroupRow } from '../rows/customers.js';
import { isUniqueViolation, type Db } from './sql.js';

export const V19_CUSTOMERS_GROUPS = `
  CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    parent_id  TEXT REFERENCES customers (id),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;
  CREATE INDEX customers_parent ON customers (parent_id);
  ALTER TABLE devices ADD COLUMN customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL;
  CREATE INDEX devices_customer ON devices (customer_id) WHERE customer_id IS NOT NULL;
  ALTER TABLE dashboards ADD COLUMN customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL;
  ALTER TABLE users ADD COLUMN customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL;

  CREATE TABLE device_groups (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    filter     TEXT,                              -- JSON GroupFilter, NULL: static only
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;
  CREATE TABLE group_members (
    group_id  TEXT NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, device_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX group_members_device ON group_members (device_id);
`;

const nameTaken = (what: string, name: string, err: unknown): unknown =>
  isUniqueViolation(err) ? new PlatformError('CONFLICT', `a ${what} named ${name} exists`, { cause: err }) : err;

export function createSqliteCustomers(db: Db): CustomerStore & DeviceGroupStore {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insertCustomer: db.prepare('INSERT INTO customers (id, tenant_id, parent_id, name, created_at) VALUES (?, ?, ?, ?, ?)'),
    updateCustomer: db.prepare('UPDATE customers SET parent_id = ?, name = ? WHERE id = ?'),
    getCustomer: db.prepare<[string], CustomerRow>('SELECT id, tenant_id, parent_id, name, created_at FROM customers WHERE id = ?'),
    listCustomers: db.prepare<[string], CustomerRow>('SELECT id, tenant_id, parent_id, name, created_at FROM customers WHERE tenant_id = ? ORDER BY name, id'),
    unassignDevices: db.prepare('UPDATE devices SET customer_id = NULL WHERE customer_id = ?'),
    unassignDashboards: db.prepare('UPDATE dashboards SET customer_id = NULL WHERE customer_id = ?'),
    deleteCustomer: db.prepare('DELETE FROM customers WHERE id = ?'),
    setDevice: db.prepare('UPDATE devices SET customer_id = ? WHERE id = ?'),
    setDashboard: db.prepare('UPDATE dashboards SET customer_id = ? WHERE id = ?'),
    countUsers: db.prepare<[string], number>('SELECT count(*) FROM users WHERE customer_id = ?').pluck(),
    insertGroup: db.prepare('INSERT INTO device_groups (id, tenant_id, name, filter, created_at) VALUES (?, ?, ?, ?, ?)'),
    updateGroup: db.prepare('UPDATE device_groups SET name = ?, filter = ? WHERE id = ?'),
    getGroup: db.prepare<[string], GroupRow>('SELECT id, tenant_id, name, filter, created_at FROM device_groups WHERE id = ?'),
    listGroupsOf: db.prepare<[string], GroupRow>('SELECT id, tenant_id, name, filter, created_at FROM device_groups WHERE tenant_id = ? ORDER BY name, id'),
    listGroups: db.prepare<[], GroupRow>('SELECT id, tenant_id, name, filter, created_at FROM device_groups ORDER BY tenant_id, name, id'),
    deleteMembers: db.prepare('DELETE FROM group_members WHERE group_id = ?'),
    deleteGroup: db.prepare('DELETE FROM device_groups WHERE id = ?'),
    addMember: db.prepare('INSERT INTO group_members (group_id, device_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    removeMember: db.prepare('DELETE FROM group_members WHERE group_id = ? AND device_id = ?'),
    members: db.prepare<[string], string>('SELECT device_id FROM group_members WHERE group_id = ? ORDER BY device_id').pluck(),
  };
  const deleteCustomerTx = db.transaction((id: string): boolean => {
    s.unassignDevices.run(id);
    s.unassignDashboards.run(id);
    return s.deleteCustomer.run(id).changes > 0;
  });
  const setDevicesTx = db.transaction((ids: readonly string[], customerId: string | null) => {
    for (const id of ids) s.setDevice.run(customerId, id);
  });
  const setDashboardsTx = db.transaction((ids: readonly string[], customerId: string | null) => {
    for (const id of ids) s.setDashboard.run(customerId, id);
  });
  const deleteGroupTx = db.transaction((id: string): boolean => {
    s.deleteMembers.run(id);
    return s.deleteGroup.run(id).changes > 0;
  });
  const addMembersTx = db.transaction((groupId: string, ids: readonly string[]) => {
    for (const id of ids) s.addMember.run(groupId, id);
  });

  return {
    async insertCustomer(c: Customer): Promise<void> {
      checkInt(c.createdAt, 'createdAt');
      if (!s.tenantExists.get(c.tenantId)) throw tenantNotFound(c.tenantId);
      try {
        s.insertCustomer.run(c.id, c.tenantId, c.parentId ?? null, c.name, c.createdAt);
      } catch (err) {
        throw nameTaken('customer', c.name, err);
      }
    },
    async updateCustomer(c: Customer): Promise<void> {
      try {
        s.updateCustomer.run(c.parentId ?? null, c.name, c.id);
      } catch (err) {
        throw nameTaken('customer', c.name, err);
      }
    },
    async getCustomer(id: string): Promise<Customer | undefined> {
      const r = s.getCustomer.get(id);
      return r && toCustomer(r);
    },
    async listCustomers(tenantId: string): Promise<Customer[]> {
      return s.listCustomers.all(tenantId).map(toCustomer);
    },
    async deleteCustomer(id: string): Promise<boolean> {
      return deleteCustomerTx(id);
    },
    async setDeviceCustomer(deviceIds: readonly string[], customerId: string | null): Promise<void> {
      setDevicesTx(deviceIds, customerId);
    },
    async setDashboardCustomer(dashboardIds: readonly string[], customerId: string | null): Promise<void> {
      setDashboardsTx(dashboardIds, customerId);
    },
    async countCustomerUsers(customerId: string): Promise<number> {
      return s.countUsers.get(customerId) as number;
    },
    async insertGroup(g: DeviceGroup): Promise<void> {
      checkInt(g.createdAt, 'createdAt');
      if (!s.tenantExists.get(g.tenantId)) throw tenantNotFound(g.tenantId);
      try {
        s.insertGroup.run(g.id, g.tenantId, g.name, g.filter ? JSON.stringify(g.filter) : null, g.createdAt);
      } catch (err) {
        throw nameTaken('group', g.name, err);
      }
    },
    async updateGroup(g: DeviceGroup): Promise<void> {
      try {
        s.updateGroup.run(g.name, g.filter ? JSON.stringify(g.filter) : null, g.id);
      } catch (err) {
        throw nameTaken('group', g.name, err);
      }
    },
    async getGroup(id: string): Promise<DeviceGroup | undefined> {
      const r = s.getGroup.get(id);
      return r && toGroup(r);
    },
    async listGroups(tenantId?: string): Promise<DeviceGroup[]> {
      return (tenantId === undefined ? s.listGroups.all() : s.listGroupsOf.all(tenantId)).map(toGroup);
    },
    async deleteGroup(id: string): Promise<boolean> {
      return deleteGroupTx(id);
    },
    async addGroupMembers(groupId: string, deviceIds: readonly string[]): Promise<void> {
      addMembersTx(groupId, deviceIds);
    },
    async removeGroupMember(groupId: string, deviceId: string): Promise<boolean> {
      return s.removeMember.run(groupId, deviceId).changes > 0;
    },
    async groupMembers(groupId: string): Promise<string[]> {
      return s.members.all(groupId);
    },
  };
}
