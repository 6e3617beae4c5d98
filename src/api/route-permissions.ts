/**
 * The one route → permission table of the management API. Every route registered under /api
 * has an entry: a permission (resource:action), `self` (acts on the caller only: own session,
 * password, API keys; any signed-in role) or `public` (no user: sign-in; network servers' webhooks,
 * which carry their integration's secret; the live WebSocket,
 * which authenticates itself and checks per subscription). A route without an entry stops
 * startup (roles.ts, onRoute hook), so a new route cannot escape authorization.
 */
import type { Permission } from '../domain/permissions.js';

/** Some routes need a different permission by parameter (shared attributes are operating, not configuring). */
export type PermissionOf = (params: Readonly<Record<string, unknown>>) => Permission;
export type RouteRule = Permission | 'self' | 'public' | PermissionOf;

const attributesByScope: PermissionOf = (params) => (params.scope === 'shared' ? 'attributes:operate' : 'attributes:write');

/** Keyed by `METHOD /api/path` as Fastify registers it (`:id` parameters); HEAD uses its GET. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, RouteRule>> = {
  'POST /api/auth/login': 'public',
  'GET /api/ws': 'public',
  // Alexa Smart Home directives carry their credential in the body (scope.token): the service
  // checks it, the role's permissions and the customer scope itself (services/alexa/).
  'POST /api/alexa/v3': 'public',
  'GET /api/auth/me': 'self',
  'POST /api/auth/logout': 'self',
  'POST /api/auth/password': 'self',
  'GET /api/auth/api-keys': 'self',
  'POST /api/auth/api-keys': 'self',
  'DELETE /api/auth/api-keys/:id': 'self',
  // Single sign-on: no user yet (the provider's answer and the one-time code are the credentials).
  'GET /api/auth/oidc/config': 'public',
  'GET /api/auth/oidc/login': 'public',
  'GET /api/auth/oidc/callback': 'public',
  'POST /api/auth/oidc/exchange': 'public',
  // The caller's own second factor.
  'GET /api/auth/totp': 'self',
  'POST /api/auth/totp/enroll': 'self',
  'POST /api/auth/totp/confirm': 'self',
  'DELETE /api/auth/totp': 'self',
  // The caller's own tenant's limits and usage.
  'GET /api/quotas': 'self',

  'GET /api/users': 'users:read',
  'POST /api/users': 'users:write',
  'PATCH /api/users/:id': 'users:write',
  'DELETE /api/users/:id': 'users:write',

  'GET /api/roles': 'roles:read',
  'POST /api/roles': 'roles:write',
  'GET /api/roles/:id': 'roles:read',
  'PATCH /api/roles/:id': 'roles:write',
  'DELETE /api/roles/:id': 'roles:write',

  'GET /api/tenants': 'tenants:read',
  'POST /api/tenants': 'tenants:write',
  'GET /api/tenants/:id': 'tenants:read',
  'PATCH /api/tenants/:id': 'tenants:write',
  'DELETE /api/tenants/:id': 'tenants:write',
  'POST /api/tenants/:id/users': 'tenants:write',
  // A tenant admin reads its own tenant's quotas (the route answers 404 for another tenant); only the sysadmin sets them.
  'GET /api/tenants/:id/quotas': 'settings:read',
  'PUT /api/tenants/:id/quotas': 'tenants:write',

  'GET /api/customers': 'customers:read',
  'POST /api/customers': 'customers:write',
  'GET /api/customers/:id': 'customers:read',
  'PATCH /api/customers/:id': 'customers:write',
  'DELETE /api/customers/:id': 'customers:write',
  'GET /api/customers/:id/devices': 'customers:read',
  'POST /api/customers/:id/devices': 'customers:write',
  'DELETE /api/customers/:id/devices/:itemId': 'customers:write',
  'POST /api/customers/:id/dashboards': 'customers:write',
  'DELETE /api/customers/:id/dashboards/:itemId': 'customers:write',
  'POST /api/customers/:id/groups': 'customers:write',

  'GET /api/groups': 'groups:read',
  'POST /api/groups': 'groups:write',
  'GET /api/groups/:id': 'groups:read',
  'PATCH /api/groups/:id': 'groups:write',
  'DELETE /api/groups/:id': 'groups:write',
  'GET /api/groups/:id/devices': 'groups:read',
  'POST /api/groups/:id/devices': 'groups:write',
  'DELETE /api/groups/:id/devices/:deviceId': 'groups:write',
  // Bulk operations on the members: operating, not configuring.
  'POST /api/groups/:id/commands': 'groups:operate',
  'POST /api/groups/:id/attributes': 'groups:operate',

  'GET /api/grants': 'grants:read',
  'POST /api/grants': 'grants:write',
  'GET /api/grants/:id': 'grants:read',
  'DELETE /api/grants/:id': 'grants:write',

  'POST /api/devices': 'devices:write',
  'GET /api/devices': 'devices:read',
  'GET /api/devices/counts': 'devices:read',
  'GET /api/devices/:id': 'devices:read',
  'PATCH /api/devices/:id': 'devices:write',
  'DELETE /api/devices/:id': 'devices:write',
  'GET /api/devices/:id/status': 'devices:read',
  'POST /api/devices/import': 'devices:write',
  'GET /api/devices/:id/twin': 'devices:read',
  'GET /api/endpoints': 'devices:read',
  // Node addresses and partition ownership: administrators (sysadmin, tenant-admin), like other settings.
  'GET /api/cluster': 'settings:read',

  'GET /api/devices/:id/credentials': 'credentials:read',
  'PUT /api/devices/:id/credentials': 'credentials:write',

  'POST /api/profiles': 'profiles:write',
  'GET /api/profiles': 'profiles:read',
  'GET /api/profiles/:id': 'profiles:read',
  'PUT /api/profiles/:id': 'profiles:write',
  'DELETE /api/profiles/:id': 'profiles:write',
  // Runs user code: writers only, like saving it.
  'POST /api/profiles/:id/decoder/test': 'profiles:write',

  'GET /api/dashboards': 'dashboards:read',
  'POST /api/dashboards': 'dashboards:write',
  'GET /api/dashboards/:id': 'dashboards:read',
  'PUT /api/dashboards/:id': 'dashboards:write',
  'DELETE /api/dashboards/:id': 'dashboards:write',

  'GET /api/devices/:id/telemetry': 'telemetry:read',
  'GET /api/devices/:id/telemetry/latest': 'telemetry:read',
  'GET /api/devices/:id/telemetry/keys': 'telemetry:read',
  'GET /api/devices/:id/forecast': 'telemetry:read',
  'GET /api/devices/:id/baseline': 'telemetry:read',
  'GET /api/devices/:id/telemetry/export': 'telemetry:read',
  // Grafana's Prometheus data source (api/prom.ts): the device is named in the query; the handler applies the scope.
  'GET /api/prom/api/v1/query_range': 'telemetry:read',
  'GET /api/prom/api/v1/query': 'telemetry:read',

  'GET /api/devices/:id/attributes': 'attributes:read',
  'POST /api/devices/:id/attributes/:scope': attributesByScope,
  'DELETE /api/devices/:id/attributes/:scope': 'attributes:write',

  'PUT /api/devices/:id/edge-config': 'edge-config:write',
  'GET /api/devices/:id/edge-config': 'edge-config:read',
  'POST /api/devices/:id/edge-config/rollback': 'edge-config:write',

  'POST /api/devices/:id/rpc': 'commands:operate',
  'POST /api/devices/:id/commands': 'commands:operate',
  'GET /api/commands/:id': 'commands:read',
  'GET /api/commands': 'commands:read',

  'GET /api/rules/actions': 'rules:read',
  'GET /api/rules': 'rules:read',
  'POST /api/rules': 'rules:write',
  'POST /api/rules/validate': 'rules:operate',
  'GET /api/rules/:id': 'rules:read',
  'PUT /api/rules/:id': 'rules:write',
  'DELETE /api/rules/:id': 'rules:write',
  'POST /api/rules/:id/backtest': 'rules:operate',

  'GET /api/alarms': 'alarms:read',
  'GET /api/alarms/:id': 'alarms:read',
  'GET /api/alarms/:id/history': 'alarms:read',
  'POST /api/alarms/:id/ack': 'alarms:operate',
  'POST /api/alarms/:id/clear': 'alarms:operate',

  'GET /api/audit': 'audit:read',

  'GET /api/integrations': 'integrations:read',
  'POST /api/integrations': 'integrations:write',
  'GET /api/integrations/:id': 'integrations:read',
  'DELETE /api/integrations/:id': 'integrations:write',
  // A network server's webhook (TTS): no user; the integration's own secret header authenticates it (api/integrations-webhook.ts).
  'POST /api/integrations/:id/tts/uplink': 'public',

  'POST /api/ota/packages': 'ota:write',
  'GET /api/ota/packages': 'ota:read',
  'GET /api/ota/packages/:id': 'ota:read',
  'DELETE /api/ota/packages/:id': 'ota:write',
  'GET /api/ota/packages/:id/data': 'ota:read',
  'GET /api/ota/packages/:id/chunks': 'ota:read',
  'POST /api/ota/keys': 'ota:write',
  'GET /api/ota/keys': 'ota:read',
  'DELETE /api/ota/keys/:id': 'ota:write',
  'GET /api/ota/settings': 'ota:read',
  'PUT /api/ota/settings': 'ota:write',
  'POST /api/devices/:id/firmware': 'ota:write',
  'GET /api/devices/:id/firmware': 'ota:read',
  'DELETE /api/devices/:id/firmware': 'ota:write',
  'POST /api/profiles/:id/firmware': 'ota:write',
  'POST /api/ota/deployments': 'ota:write',
  'GET /api/ota/deployments': 'ota:read',
  'GET /api/ota/deployments/:id': 'ota:read',
  'GET /api/ota/deployments/:id/devices': 'ota:read',
  'POST /api/ota/deployments/:id/pause': 'ota:write',
  'POST /api/ota/deployments/:id/resume': 'ota:write',
  'POST /api/ota/deployments/:id/cancel': 'ota:write',
};

export function routeKey(method: string, url: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${url}`;
}

/** The rule of a route, or undefined when the table has none (startup refuses such a route). */
export function ruleOf(method: string, url: string, table: Readonly<Record<string, RouteRule>> = ROUTE_PERMISSIONS): RouteRule | undefined {
  return Object.hasOwn(table, routeKey(method, url)) ? table[routeKey(method, url)] : undefined;
}
