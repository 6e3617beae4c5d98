/**
 * Tenants, administered by the system administrator: create, rename, suspend/resume, delete
 * with everything they own, and a tenant's first users. Suspension takes effect on the next
 * request or connect through the in-memory TenantStatusCache (no store read on the hot path).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { Clock, Logger, Store, TenantPatch, TenantRecord, User } from '../ports.js';
import type { UserAdmin } from './auth-users.js';
import type { TenantStatusCache } from './tenant-status.js';

export interface TenantServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly status: TenantStatusCache;
  readonly users: Pick<UserAdmin, 'create'>;
}

const PAGE = 500;

export class TenantService {
  constructor(private readonly deps: TenantServiceDeps) {}

  list(): Promise<TenantRecord[]> {
    return this.deps.store.listTenants();
  }

  async get(id: string): Promise<TenantRecord> {
    const tenant = await this.deps.store.getTenant(id);
    if (!tenant) throw new PlatformError('NOT_FOUND', `tenant ${id}`);
    return tenant;
  }

  async create(name: string): Promise<TenantRecord> {
    const tenant: TenantRecord = { id: randomUUID(), name: checkName(name), status: 'active', createdAt: this.deps.clock.now() };
    await this.deps.store.insertTenant(tenant);
    return tenant;
  }

  async update(id: string, patch: TenantPatch): Promise<TenantRecord> {
    if (id === DEFAULT_TENANT_ID && patch.status === 'suspended') throw new PlatformError('CONFLICT', 'the default tenant cannot be suspended (it holds the system administrator)');
    const updated = await this.deps.store.updateTenant(id, { ...patch, ...(patch.name !== undefined ? { name: checkName(patch.name) } : {}) });
    if (!updated) throw new PlatformError('NOT_FOUND', `tenant ${id}`);
    this.deps.status.set(id, updated.status);
    return updated;
  }

  /** A user in the tenant (its first tenant admin, typically). */
  async addUser(tenantId: string, input: { email: string; password: string; role: string }): Promise<User> {
    await this.get(tenantId);
    if (input.role === 'sysadmin') throw new PlatformError('BAD_REQUEST', 'the sysadmin role exists only in the default tenant');
    return this.deps.users.create({ ...input, tenantId });
  }

  /** Removes the tenant and everything it owns. */
  async remove(id: string): Promise<void> {
    if (id === DEFAULT_TENANT_ID) throw new PlatformError('CONFLICT', 'the default tenant cannot be deleted');
    await this.get(id);
    const { store } = this.deps;
    // Refused from now on, also by identities still in the device authentication cache; open connections end.
    this.deps.status.set(id, 'deleted');
    for (;;) {
      const page = await store.listDevices({ tenantId: id, limit: PAGE, offset: 0 });
      if (page.items.length === 0) break;
      // Children before gateways is not needed: a child's gateway reference is set to null.
      for (const device of page.items) await store.deleteDevice(device.id);
    }
    for (const rule of await store.listRules(id)) await store.deleteRule(rule.id);
    for (const dashboard of await store.listDashboards(id)) await store.deleteDashboard(dashboard.id);
    for (const integration of await store.listIntegrations(id)) await store.deleteIntegration(integration.id);
    for (const user of await store.listUsers(id)) await store.deleteUser(user.id);
    for (const profile of await store.listProfiles(id)) await store.deleteProfile(profile.id);
    await store.deleteTenant(id); // OTA, alarms, commands, roles left of it, and the row itself
    this.deps.logger.info({ tenantId: id }, 'tenant deleted');
  }
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 255) throw new PlatformError('BAD_REQUEST', 'tenant name must be 1..255 characters');
  return trimmed;
}
