/**
 * Authorization of the management API: every route has a rule in the one table
 * (route-permissions.ts) and a route without one refuses to register, so startup fails rather
 * than serving an unguarded route. Each request's role is turned into its permissions (built-in
 * sets in domain/permissions.ts, custom roles from the store) and checked against the route's
 * rule. The dashboard only hides what a role may not do; this hook is what enforces it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import { allows, type Permission } from '../domain/permissions.js';
import type { Principal } from '../services/auth.js';
import { principalOf } from './principal.js';
import { ROUTE_PERMISSIONS, ruleOf, type RouteRule } from './route-permissions.js';

export type PermissionResolver = (principal: Principal) => Promise<ReadonlySet<Permission>>;

const granted = new WeakMap<FastifyRequest, ReadonlySet<Permission>>();

/** The caller's permissions, once the role hook ran (empty before). */
export function permissionsOf(request: FastifyRequest): ReadonlySet<Permission> {
  return granted.get(request) ?? new Set();
}

/**
 * Refuses to register any route under /api of `scope` that the table does not name. Must be
 * added before the routes (Fastify runs onRoute hooks at registration).
 */
export function requireRouteRules(scope: FastifyInstance, table: Readonly<Record<string, RouteRule>> = ROUTE_PERMISSIONS): void {
  scope.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api')) return;
    for (const method of [route.method].flat()) {
      if (ruleOf(method, route.url, table) === undefined) {
        throw new Error(`route ${method} ${route.url} has no entry in the permission table (src/api/route-permissions.ts): every /api route must name its permission`);
      }
    }
  });
}

/** Checks the route's permission on every route of `scope`; runs after authentication. */
export function enforceRoles(scope: FastifyInstance, resolve: PermissionResolver, table: Readonly<Record<string, RouteRule>> = ROUTE_PERMISSIONS): void {
  scope.addHook('preHandler', async (request: FastifyRequest) => {
    const principal = principalOf(request);
    const route = request.routeOptions.url ?? request.url;
    const permissions = await resolve(principal);
    granted.set(request, permissions);
    const rule = ruleOf(request.method, route, table);
    if (rule === 'self' || rule === 'public') return;
    if (rule === undefined) throw new PlatformError('FORBIDDEN', `${request.method} ${route} has no permission rule`);
    const needed = typeof rule === 'function' ? rule((request.params ?? {}) as Record<string, unknown>) : rule;
    if (!allows(permissions, needed)) {
      throw new PlatformError('FORBIDDEN', `${request.method} ${route} needs the permission ${needed}, which the role ${principal.role} does not have`);
    }
  });
}
