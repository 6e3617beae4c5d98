/**
 * Customers of a tenant (issue 15): the tree, assignments of devices and dashboards, and the
 * AccessScope of a customer user (its customer and every customer below it).
 *
 * Scopes come from a per-tenant copy of the customer list kept for SCOPE_TTL_MS and dropped on
 * every change made here, so a customer user's request costs no store read in the common case;
 * other principals never reach this (their scope is the tenant alone).
 */
import { randomUUID } from 'node:crypto';
import { type AccessScope, type Customer, depthOf, descendantsOf, MAX_CUSTOMER_DEPTH, subtreeHeight } from '../domain/customers.js';
import { PlatformError } from '../domain/errors.js';
import type { Clock, Store } from '../ports.js';

export interface CustomerServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
}

/** Another node's change is seen within this long (one node drops its copy at once). */
export const SCOPE_TTL_MS = 2000;
const MAX_NAME = 255;

const notFound = (id: string): PlatformError => new PlatformError('NOT_FOUND', `customer ${id}`);

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME) throw new PlatformError('BAD_REQUEST', `customer name must be 1..${MAX_NAME} characters`);
  return trimmed;
}

export class CustomerService {
  private readonly trees = new Map<string, { at: number; customers: readonly Customer[] }>();

  constructor(private readonly deps: CustomerServiceDeps) {}

  async create(tenantId: string, input: { name: string; parentId?: string }): Promise<Customer> {
    const name = checkName(input.name);
    if (input.parentId !== undefined) {
      const all = await this.deps.store.listCustomers(tenantId);
      const byId = new Map(all.map((c) => [c.id, c]));
      if (!byId.has(input.parentId)) throw notFound(input.parentId);
      if (depthOf(byId, input.parentId) + 1 > MAX_CUSTOMER_DEPTH) throw new PlatformError('BAD_REQUEST', `customers nest at most ${MAX_CUSTOMER_DEPTH} deep`);
    }
    const customer: Customer = { id: randomUUID(), tenantId, name, ...(input.parentId !== undefined ? { parentId: input.parentId } : {}), createdAt: this.deps.clock.now() };
    await this.deps.store.insertCustomer(customer);
    this.changed(tenantId);
    return customer;
  }

  list(tenantId: string): Promise<Customer[]> {
    return this.deps.store.listCustomers(tenantId);
  }

  async get(tenantId: string, id: string): Promise<Customer> {
    const c = await this.deps.store.getCustomer(id);
    if (!c || c.tenantId !== tenantId) throw notFound(id);
    return c;
  }

  /** Renames and/or moves (parentId null: to the top); refuses a cycle or a tree deeper than allowed. */
  async update(tenantId: string, id: string, patch: { name?: string; parentId?: string | null }): Promise<Customer> {
    const current = await this.get(tenantId, id);
    let next: Customer = patch.name !== undefined ? { ...current, name: checkName(patch.name) } : current;
    if (patch.parentId !== undefined) {
      const { parentId: _old, ...rest } = next;
      next = patch.parentId === null ? rest : { ...rest, parentId: patch.parentId };
      if (patch.parentId !== null) {
        const all = await this.deps.store.listCustomers(tenantId);
        const byId = new Map(all.map((c) => [c.id, c]));
        if (!byId.has(patch.parentId)) throw notFound(patch.parentId);
        if (descendantsOf(all, id).has(patch.parentId)) throw new PlatformError('BAD_REQUEST', 'a customer cannot move below itself');
        if (depthOf(byId, patch.parentId) + subtreeHeight(all, id) > MAX_CUSTOMER_DEPTH) {
          throw new PlatformError('BAD_REQUEST', `customers nest at most ${MAX_CUSTOMER_DEPTH} deep`);
        }
      }
    }
    await this.deps.store.updateCustomer(next);
    this.changed(tenantId);
    return next;
  }

  /**
   * Deletes a customer without sub-customers or users (409 otherwise: moving or deleting them is
   * a decision for the admin). Its devices and dashboards become unassigned (the tenant keeps them).
   */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    const all = await this.deps.store.listCustomers(tenantId);
    if (all.some((c) => c.parentId === id)) throw new PlatformError('CONFLICT', 'the customer has sub-customers: move or delete them first');
    if ((await this.deps.store.countCustomerUsers(id)) > 0) throw new PlatformError('CONFLICT', 'the customer has users: delete them first');
    await this.deps.store.deleteCustomer(id);
    this.changed(tenantId);
  }

  /** Assigns every device (each must be the tenant's: 404 naming the first that is not); all or none. */
  async assignDevices(tenantId: string, id: string, deviceIds: readonly string[]): Promise<void> {
    await this.get(tenantId, id);
    for (const deviceId of deviceIds) {
      const d = await this.deps.store.getDevice(deviceId);
      if (!d || d.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
    }
    await this.deps.store.setDeviceCustomer([...new Set(deviceIds)], id);
  }

  async unassignDevice(tenantId: string, id: string, deviceId: string): Promise<void> {
    await this.get(tenantId, id);
    const d = await this.deps.store.getDevice(deviceId);
    if (!d || d.tenantId !== tenantId || d.customerId !== id) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
    await this.deps.store.setDeviceCustomer([deviceId], null);
  }

  async assignDashboards(tenantId: string, id: string, dashboardIds: readonly string[]): Promise<void> {
    await this.get(tenantId, id);
    for (const dashboardId of dashboardIds) {
      const d = await this.deps.store.getDashboard(dashboardId);
      if (!d || d.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `dashboard ${dashboardId}`);
    }
    await this.deps.store.setDashboardCustomer([...new Set(dashboardIds)], id);
  }

  async unassignDashboard(tenantId: string, id: string, dashboardId: string): Promise<void> {
    await this.get(tenantId, id);
    const d = await this.deps.store.getDashboard(dashboardId);
    if (!d || d.tenantId !== tenantId || d.customerId !== id) throw new PlatformError('NOT_FOUND', `dashboard ${dashboardId}`);
    await this.deps.store.setDashboardCustomer([dashboardId], null);
  }

  /**
   * What a principal sees. Without a customer: the tenant (no store read). A customer user whose
   * customer is gone sees nothing (an empty set, never the tenant).
   */
  async scopeFor(principal: { readonly tenantId: string; readonly role: string; readonly customerId?: string }): Promise<AccessScope> {
    if (principal.customerId === undefined && principal.role !== 'customer-user') return { tenantId: principal.tenantId };
    if (principal.customerId === undefined) return { tenantId: principal.tenantId, customerIds: new Set() };
    const all = await this.tree(principal.tenantId);
    if (!all.some((c) => c.id === principal.customerId)) return { tenantId: principal.tenantId, customerIds: new Set() };
    return { tenantId: principal.tenantId, customerIds: descendantsOf(all, principal.customerId) };
  }

  private async tree(tenantId: string): Promise<readonly Customer[]> {
    const now = this.deps.clock.now();
    const cached = this.trees.get(tenantId);
    if (cached && now - cached.at < SCOPE_TTL_MS) return cached.customers;
    const customers = await this.deps.store.listCustomers(tenantId);
    if (this.trees.size > 10_000) this.trees.clear();
    this.trees.set(tenantId, { at: now, customers });
    return customers;
  }

  private changed(tenantId: string): void {
    this.trees.delete(tenantId);
  }
}
