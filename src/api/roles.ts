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
  // Bulk operations on a device group's members (issue 15): operating, not configuring.
  'POST /api/groups/:id/commands',
  'POST /api/groups/:id/attributes',
  // The caller's own session and keys (auth-routes.ts act on the caller only, never on others).
  'POST /api/auth/api-keys',
  'DELETE /api/auth/api-keys/:id',
  'POST /api/auth/logout',
  'POST /api/auth/password',
]);

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads that hand out secrets or other users' actions: admins only. */
const ADMIN_READS = new Set(['GET /api/devices/:id/credentials', 'GET /api/audit', 'GET /api/users', 'GET /api/devices/:id/edge-config']);

/**
 * A customer user (issue 15) reaches only its devices and what hangs off them (telemetry,
 * attributes, alarms, commands, RPC), its dashboards and its own session; which ids answer is
 * decided by its scope (access.ts). Rules, profiles, users, OTA, integrations… are not its business.
 */
function customerMay(method: string, route: string): boolean {
  if (route.startsWith('/api/auth/')) return true;
  if (route.startsWith('/api/rules')) return false;
  const read = READS.has(method);
  if (route === '/api/devices' || route === '/api/devices/counts' || route === '/api/alarms' || route === '/api/commands' || route === '/api/dashboards') return read;
  if (route === '/api/dashboards/:id') return read;
  return route.startsWith('/api/devices/:id') || route.startsWith('/api/alarms/:id') || route.startsWith('/api/commands/:id');
}

export function mayWrite(role: string, method: string, route: string, params: Readonly<Record<string, unknown>>): boolean {
  if (role === 'admin') return true;
  if (role === 'customer-user' && !customerMay(method, route)) return false;
  if (READS.has(method)) return !ADMIN_READS.has(`${method} ${route}`);
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
