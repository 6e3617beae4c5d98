/**
 * What the caller may see (issue 15), in one place for every route: a customer user's scope is
 * resolved once per request, and any id under /api/devices/:id, /api/alarms/:id, /api/commands/:id
 * or /api/dashboards/:id outside it answers 404 (never 403: the caller must not learn it exists).
 * Lists ask scopeOf() for their filter. A custom role scoped to a device group narrows the same
 * way to the group's members (static and filter-matched, as the groups service resolves them now).
 * Principals without a customer or custom role keep today's path: the hook returns at once and
 * the services check the tenant as before (no extra store read).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AccessScope, canSeeAssigned, canSeeDevice, isNarrowed } from '../domain/customers.js';
import { PlatformError } from '../domain/errors.js';
import type { Principal } from '../services/auth.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';

const scopes = new WeakMap<FastifyRequest, AccessScope>();

/** The scope of a principal that is no customer user: its whole tenant. */
export function tenantScope(principal: Pick<Principal, 'tenantId'>): AccessScope {
  return { tenantId: principal.tenantId };
}

export function isCustomerPrincipal(principal: Pick<Principal, 'role' | 'customerId'>): boolean {
  return principal.customerId !== undefined || principal.role === 'customer-user';
}

/** The caller's scope (set by enforceScope for customer users; the tenant otherwise). */
export function scopeOf(request: FastifyRequest): AccessScope {
  return scopes.get(request) ?? tenantScope(principalOf(request));
}

/**
 * What `principal` may see, or undefined for the whole tenant. Built-in roles without a customer
 * answer at once; a custom role reads its (cached) scope; a group scope adds the group's members
 * (a group deleted since, or groups not enabled: no device at all, never the tenant).
 */
export async function accessScopeFor(deps: Pick<ApiDeps, 'auth' | 'customers' | 'groups'>, principal: Pick<Principal, 'tenantId' | 'role' | 'customerId'>): Promise<AccessScope | undefined> {
  const custom = principal.role.startsWith('custom:');
  if (!custom && !isCustomerPrincipal(principal)) return undefined;
  const roleScope = custom ? await deps.auth.roles.scopeOf(principal) : undefined;
  const p = principal.customerId === undefined && roleScope?.customerId !== undefined ? { ...principal, customerId: roleScope.customerId } : principal;
  const groupId = roleScope?.groupId;
  if (!isCustomerPrincipal(p) && groupId === undefined) return undefined;
  let scope: AccessScope = { tenantId: p.tenantId };
  if (isCustomerPrincipal(p)) scope = deps.customers ? await deps.customers.scopeFor(p) : { tenantId: p.tenantId, customerIds: new Set<string>() };
  if (groupId !== undefined) scope = { ...scope, deviceIds: await groupMembers(deps, p.tenantId, groupId) };
  return scope;
}

async function groupMembers(deps: Pick<ApiDeps, 'groups'>, tenantId: string, groupId: string): Promise<ReadonlySet<string>> {
  if (!deps.groups) return new Set();
  try {
    return new Set(await deps.groups.memberIdsOf(tenantId, groupId));
  } catch (err) {
    if (err instanceof PlatformError && err.code === 'NOT_FOUND') return new Set();
    throw err;
  }
}

/** Largest number of devices a customer scope lists for alarm and command filters. */
const MAX_SCOPE_DEVICES = 10_000;

/** The device filter of a list query for `scope` (none for the whole tenant). */
export function deviceFilter(scope: AccessScope): { customerIds?: string[]; ids?: string[] } {
  return {
    ...(scope.customerIds !== undefined ? { customerIds: [...scope.customerIds] } : {}),
    ...(scope.deviceIds !== undefined ? { ids: [...scope.deviceIds] } : {}),
  };
}

/** The ids of the devices in a narrowed scope (alarm and command lists filter by them). */
export async function visibleDeviceIds(deps: Pick<ApiDeps, 'registry'>, scope: AccessScope): Promise<string[] | undefined> {
  if (!isNarrowed(scope)) return undefined;
  const page = await deps.registry.listDevices({ tenantId: scope.tenantId, ...deviceFilter(scope), limit: MAX_SCOPE_DEVICES, offset: 0 });
  return page.items.map((d) => d.id);
}

async function checkDevice(deps: ApiDeps, scope: AccessScope, deviceId: string, code: 'DEVICE_NOT_FOUND' | 'ALARM_NOT_FOUND' | 'COMMAND_NOT_FOUND', id: string): Promise<void> {
  const device = await deps.registry.store.getDevice(deviceId);
  if (!device || !canSeeDevice(scope, device)) throw new PlatformError(code, id);
}

/** Adds the scope check to every route of `scope`; runs after authentication and the role check. */
export function enforceScope(app: FastifyInstance, deps: ApiDeps): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const scope = await accessScopeFor(deps, principalOf(request));
    if (scope === undefined) return;
    scopes.set(request, scope);
    const route = request.routeOptions.url ?? '';
    const params = (request.params ?? {}) as Record<string, unknown>;
    const query = (request.query ?? {}) as Record<string, unknown>;
    const id = typeof params.id === 'string' ? params.id : undefined;
    const store = deps.registry.store;
    if (id !== undefined && route.startsWith('/api/devices/:id')) return checkDevice(deps, scope, id, 'DEVICE_NOT_FOUND', id);
    if (id !== undefined && route.startsWith('/api/alarms/:id')) {
      const alarm = await store.getAlarm(id);
      return checkDevice(deps, scope, alarm?.tenantId === scope.tenantId ? alarm.deviceId : '', 'ALARM_NOT_FOUND', id);
    }
    if (id !== undefined && route.startsWith('/api/commands/:id')) {
      const command = await store.getCommand(id);
      return checkDevice(deps, scope, command?.tenantId === scope.tenantId ? command.deviceId : '', 'COMMAND_NOT_FOUND', id);
    }
    if (id !== undefined && route.startsWith('/api/dashboards/:id')) {
      const dashboard = await store.getDashboard(id);
      if (!dashboard || !canSeeAssigned(scope, dashboard)) throw new PlatformError('NOT_FOUND', `dashboard ${id}`);
      return;
    }
    // A list filtered by one device: that device must be visible too.
    if ((route === '/api/alarms' || route === '/api/commands') && typeof query.deviceId === 'string') {
      return checkDevice(deps, scope, query.deviceId, 'DEVICE_NOT_FOUND', query.deviceId);
    }
  });
}
