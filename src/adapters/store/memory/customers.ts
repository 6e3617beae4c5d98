/** Customers and device groups in Maps, with the SQLite store's answers (customers.ts there). */
import type { Customer } from '../../../domain/customers.js';
import type { Device } from '../../../domain/device.js';
import type { DeviceGroup } from '../../../domain/device-groups.js';
import { PlatformError } from '../../../domain/errors.js';
import type { CustomerStore, DeviceGroupStore } from '../../../ports.js';
import { checkInt, compareBinary } from '../shared.js';

export interface MemoryCustomersDeps {
  readonly tenantExists: (id: string) => boolean;
  readonly tenantNotFound: (id: string) => Error;
  /** The store's device map: assignments are a field of the device, as a column in SQLite. */
  readonly devices: Map<string, Device>;
  readonly setDashboardCustomer: CustomerStore['setDashboardCustomer'];
  readonly dashboardIdsOf: (customerId: string) => Promise<string[]>;
}

const byName = (a: { name: string; id: string }, b: { name: string; id: string }): number => compareBinary(a.name, b.name) || compareBinary(a.id, b.id);

export function createMemoryCustomers(deps: MemoryCustomersDeps): Omit<CustomerStore, 'countCustomerUsers'> & DeviceGroupStore & { deleteDevice(id: string): void } {
  const customers = new Map<string, Customer>();
  const groups = new Map<string, DeviceGroup>();
  const members = new Map<string, Set<string>>();

  function checkName<T extends { id: string; tenantId: string; name: string }>(all: Map<string, T>, item: T, what: string): void {
    for (const other of all.values()) {
      if (other.id !== item.id && other.tenantId === item.tenantId && other.name === item.name) throw new PlatformError('CONFLICT', `a ${what} named ${item.name} exists`);
    }
  }
  function setDevices(ids: readonly string[], customerId: string | null): void {
    for (const id of ids) {
      const d = deps.devices.get(id);
      if (!d) continue;
      const { customerId: _old, ...rest } = d;
      deps.devices.set(id, customerId === null ? rest : { ...rest, customerId });
    }
  }

  return {
    async insertCustomer(c: Customer): Promise<void> {
      checkInt(c.createdAt, 'createdAt');
      if (!deps.tenantExists(c.tenantId)) throw deps.tenantNotFound(c.tenantId);
      checkName(customers, c, 'customer');
      customers.set(c.id, { ...c });
    },
    async updateCustomer(c: Customer): Promise<void> {
      const old = customers.get(c.id);
      if (!old) return;
      checkName(customers, c, 'customer');
      const { parentId: _p, ...rest } = old;
      customers.set(c.id, { ...rest, name: c.name, ...(c.parentId !== undefined ? { parentId: c.parentId } : {}) });
    },
    async getCustomer(id: string): Promise<Customer | undefined> {
      const c = customers.get(id);
      return c && { ...c };
    },
    async listCustomers(tenantId: string): Promise<Customer[]> {
      return [...customers.values()].filter((c) => c.tenantId === tenantId).sort(byName).map((c) => ({ ...c }));
    },
    async deleteCustomer(id: string): Promise<boolean> {
      if (!customers.has(id)) return false;
      setDevices(
        [...deps.devices.values()].filter((d) => d.customerId === id).map((d) => d.id),
        null,
      );
      await deps.setDashboardCustomer(await deps.dashboardIdsOf(id), null);
      return customers.delete(id);
    },
    async setDeviceCustomer(deviceIds: readonly string[], customerId: string | null): Promise<void> {
      setDevices(deviceIds, customerId);
    },
    setDashboardCustomer: deps.setDashboardCustomer,
    async insertGroup(g: DeviceGroup): Promise<void> {
      checkInt(g.createdAt, 'createdAt');
      if (!deps.tenantExists(g.tenantId)) throw deps.tenantNotFound(g.tenantId);
      checkName(groups, g, 'group');
      groups.set(g.id, structuredClone(g));
      members.set(g.id, new Set());
    },
    async updateGroup(g: DeviceGroup): Promise<void> {
      const old = groups.get(g.id);
      if (!old) return;
      checkName(groups, g, 'group');
      const { filter: _f, ...rest } = old;
      groups.set(g.id, { ...rest, name: g.name, ...(g.filter !== undefined ? { filter: structuredClone(g.filter) } : {}) });
    },
    async getGroup(id: string): Promise<DeviceGroup | undefined> {
      const g = groups.get(id);
      return g && structuredClone(g);
    },
    async listGroups(tenantId?: string): Promise<DeviceGroup[]> {
      return [...groups.values()]
        .filter((g) => tenantId === undefined || g.tenantId === tenantId)
        .sort((a, b) => compareBinary(a.tenantId, b.tenantId) || byName(a, b))
        .map((g) => structuredClone(g));
    },
    async deleteGroup(id: string): Promise<boolean> {
      members.delete(id);
      return groups.delete(id);
    },
    async addGroupMembers(groupId: string, deviceIds: readonly string[]): Promise<void> {
      const set = members.get(groupId);
      if (!set) return;
      for (const id of deviceIds) if (deps.devices.has(id)) set.add(id);
    },
    async removeGroupMember(groupId: string, deviceId: string): Promise<boolean> {
      return members.get(groupId)?.delete(deviceId) ?? false;
    },
    async groupMembers(groupId: string): Promise<string[]> {
      return [...(members.get(groupId) ?? [])].sort(compareBinary);
    },
    deleteDevice(id: string): void {
      for (const set of members.values()) set.delete(id);
    },
  };
}
