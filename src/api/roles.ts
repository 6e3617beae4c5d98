/**
 * What each role may change. `admin` configures the tenant (devices, credentials, profiles,
 * rules, dashboards, imports, users). `user` is an operator: reads everything and operates devices —
 * sends commands, sets shared attributes (set points), acknowledges and clears alarms, checks
 * and backtests rules, and manages its own password, sign-out and API keys — but changes no configuration. Reads are
 * open to every role except those in ADMIN_READS (device credentials, the audit log); the dashboard hides what a role may not do, this hook is what enforces it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import { principalOf } from './principal.js';

/** Writes a non-admin may make, by method and route pattern (as registered under /api). */
const OPERATOR_WRITES = new Set([
  'POST /api/devices/:id/commands',
  'POST /api/devices/:id/rpc',
  'POST /api/alarms/:id/ack',
  'POST /api/alarms/:id/clear',
  'POST /api/rules/validate',
  'POST /api/rules/:id/backtest',
  // The caller's own session and keys (auth-routes.ts act on the caller only, never on others).
  'POST /api/auth/api-keys',
  'DELETE /api/auth/api-keys/:id',
  'POST /api/auth/logout',
  'POST /api/auth/password',
  'POST /api/auth/totp/enroll',
  'POST /api/auth/totp/confirm',
  'DELETE /api/auth/totp',
]);

/** Writes on the caller's own account: every role, viewers included. */
const SELF_WRITES = new Set([...OPERATOR_WRITES].filter((r) => r.includes(' /api/auth/')));

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads that hand out secrets or other users' actions: admins only. */
const ADMIN_READS = new Set([
  'GET /api/devices/:id/credentials',
  'GET /api/audit',
  'GET /api/users',
  'GET /api/devices/:id/edge-config',
  // Which device can reach which: the tenant's MQTT access map (issue 15).
  'GET /api/grants',
  'GET /api/grants/:id',
  'GET /api/tenants/:id/quotas',
]);

export function mayWrite(role: string, method: string, route: string, params: Readonly<Record<string, unknown>>): boolean {
  // The issue-15 names next to the legacy ones until the permission table replaces this hook.
  if (role === 'admin' || role === 'tenant-admin' || role === 'sysadmin') return true;
  if (READS.has(method)) return !ADMIN_READS.has(`${method} ${route}`);
  if (role === 'viewer') return SELF_WRITES.has(`${method} ${route}`);
  if (OPERATOR_WRITES.has(`${method} ${route}`)) return true;
  // Shared attributes are the device's desired state (set points): operating, not configuring.
  return route === '/api/devices/:id/attributes/:scope' && params.scope === 'shared';
}

/** Adds the role check to every route of `scope`; runs after authentication. */
export function enforceRoles(scope: FastifyInstance): void {
  scope.addHook('preHandler', async (request: FastifyRequest) => {
    const principal = principalOf(request);
    const route = request.routeOptions.url ?? request.url;
    if (!mayWrite(principal.role, request.method, route, (request.params ?? {}) as Record<string, unknown>)) {
      throw new PlatformError('FORBIDDEN', `${request.method} ${route} needs the admin role (you are ${principal.role})`);
    }
  });
}
