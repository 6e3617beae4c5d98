/**
 * Roles: what a principal's role grants (built-in sets, or a tenant's custom role read through a
 * short cache), and the custom roles' administration (routes /api/roles, tenant admins).
 * A custom role is stored per tenant and named on a user as `custom:<roleId>`; a role of
 * another tenant, or a deleted one, grants nothing.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import { builtinPermissions, CUSTOM_ROLE_PREFIX, isBuiltinRole, isCustomRole, isPermission, isPlatformPermission, scopedRoleAllows, type Permission, type Role } from '../domain/permissions.js';
import type { Clock, CustomRole, RoleScope, TenancyStore } from '../ports.js';

const TTL_MS = 1000;
const NONE: ReadonlySet<Permission> = new Set();

export interface RoleInput {
  readonly name: string;
  readonly permissions: readonly string[];
  readonly scope?: RoleScope;
}

export class RoleCatalog {
  private readonly cache = new Map<string, { permissions: ReadonlySet<Permission>; scope?: RoleScope; tenantId: string; at: number }>();

  constructor(
    private readonly store: Pick<TenancyStore, 'listRoles' | 'getRole' | 'saveRole' | 'deleteRole'>,
    private readonly clock: Clock,
  ) {}

  /** The permissions `role` grants inside `tenantId`. */
  async permissionsOf(principal: { readonly tenantId: string; readonly role: Role }): Promise<ReadonlySet<Permission>> {
    const { role, tenantId } = principal;
    if (isBuiltinRole(role)) return builtinPermissions(role);
    if (!isCustomRole(role)) return NONE;
    const entry = await this.entry(role);
    return entry.tenantId === tenantId ? entry.permissions : NONE;
  }

  /** A custom role's optional scope {customerId?, groupId?} (undefined for built-in roles and unscoped ones). */
  async scopeOf(principal: { readonly tenantId: string; readonly role: string }): Promise<RoleScope | undefined> {
    if (!isCustomRole(principal.role)) return undefined;
    const entry = await this.entry(principal.role);
    return entry.tenantId === principal.tenantId ? entry.scope : undefined;
  }

  private async entry(role: string): Promise<{ permissions: ReadonlySet<Permission>; scope?: RoleScope; tenantId: string }> {
    const id = role.slice(CUSTOM_ROLE_PREFIX.length);
    const now = this.clock.now();
    let entry = this.cache.get(id);
    if (!entry || now - entry.at >= TTL_MS) {
      const stored = await this.store.getRole(id);
      const scope = stored?.scope;
      const scoped = scope !== undefined && (scope.customerId !== undefined || scope.groupId !== undefined);
      // A role stored before scoped roles were limited keeps only what its scope narrows.
      const permissions = (stored?.permissions ?? []).filter((p) => !scoped || scopedRoleAllows(p, scope));
      entry = { permissions: new Set(permissions), ...(scope ? { scope } : {}), tenantId: stored?.tenantId ?? '', at: now };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, entry);
    }
    return entry;
  }

  list(tenantId: string): Promise<CustomRole[]> {
    return this.store.listRoles(tenantId);
  }

  async get(tenantId: string, id: string): Promise<CustomRole> {
    const role = await this.store.getRole(id);
    // Another tenant's role is "not found": ids of other tenants are not confirmed.
    if (!role || role.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `role ${id}`);
    return role;
  }

  async create(tenantId: string, input: RoleInput): Promise<CustomRole> {
    const role: CustomRole = { id: randomUUID(), tenantId, ...checked(input), createdAt: this.clock.now() };
    await this.store.saveRole(role);
    return role;
  }

  async update(tenantId: string, id: string, change: Partial<RoleInput>): Promise<CustomRole> {
    const current = await this.get(tenantId, id);
    const merged = checked({ name: change.name ?? current.name, permissions: change.permissions ?? current.permissions, ...(change.scope ?? current.scope ? { scope: change.scope ?? current.scope } : {}) });
    const role: CustomRole = { ...current, ...merged };
    await this.store.saveRole(role);
    this.cache.delete(id);
    return role;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.store.deleteRole(id);
    this.cache.delete(id);
  }
}

function checked(input: RoleInput): { name: string; permissions: Permission[]; scope?: RoleScope } {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw new PlatformError('BAD_REQUEST', 'role name must be 1..100 characters');
  const unknown = input.permissions.filter((p) => !isPermission(p));
  if (unknown.length > 0) throw new PlatformError('BAD_REQUEST', `unknown permissions: ${unknown.join(', ')} (resource:read|write|operate)`);
  // Only the system administrator manages tenants and reads the platform's metrics; a tenant's own role cannot grant that.
  const permissions = [...new Set(input.permissions as Permission[])];
  const platform = permissions.filter(isPlatformPermission);
  if (platform.length > 0) throw new PlatformError('BAD_REQUEST', `a custom role cannot grant platform permissions (${platform.join(', ')})`);
  const scope = input.scope;
  if (scope && (scope.customerId !== undefined || scope.groupId !== undefined)) {
    const beyond = permissions.filter((p) => !scopedRoleAllows(p, scope));
    if (beyond.length > 0) {
      throw new PlatformError('BAD_REQUEST', `a role scoped to a ${scope.customerId !== undefined ? 'customer' : 'group'} cannot grant permissions that reach past its devices (${beyond.join(', ')}); only devices, credentials, telemetry, attributes, alarms, commands${scope.customerId !== undefined ? ' and dashboards' : ''}`);
    }
  }
  return { name, permissions, ...(scope ? { scope } : {}) };
}
