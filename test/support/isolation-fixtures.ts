/**
 * Fixtures of the isolation matrix (issue 15): tenants A and B created through the API (plus the
 * default tenant D the sysadmin administers), one entity of every kind per tenant, two customers
 * in A each with a device and a customer user, and the principals the matrix acts as. Every
 * entity is created through the REST API the way a tenant admin would, except alarms (only rules
 * raise them; the store is the direct way to have one without waiting on a rule).
 */
import { randomUUID } from 'node:crypto';
import type { TestPlatform } from './platform.js';
import { ADMIN } from './platform.js';

/** The entity kinds a path parameter can name. */
export type Kind =
  | 'device' | 'gateway' | 'child' | 'profile' | 'rule' | 'dashboard' | 'alarm' | 'command' | 'group' | 'customer'
  | 'grant' | 'integration' | 'otaPackage' | 'deployment' | 'role' | 'user' | 'apiKey' | 'tenant';

/** One set of entity ids: a tenant's, or a customer's within it (the kinds a customer can hold). */
export type EntitySet = Partial<Record<Kind, string>> & { readonly label: string; readonly tenantId: string; deviceToken?: string };

export interface Principal {
  readonly name: string;
  /** Bearer credential of management routes (a JWT, an API key, or a device token that must be refused). */
  readonly bearer: string;
  readonly kind: 'user' | 'apiKey' | 'device';
  /** The role whose permissions apply (undefined: a device, which has none on /api). */
  readonly role?: string;
  /** Device token for the device API (/api/v1/{token}/...). */
  readonly deviceToken?: string;
  readonly tenantId: string;
  /** A customer user's own customer set. */
  readonly customer?: EntitySet;
}

export interface Fixtures {
  /** Tenant-level entity sets: D (default, the sysadmin's), A and B. */
  readonly tenants: Record<'D' | 'A' | 'B', EntitySet>;
  /** Customer sets of tenant A. */
  readonly customers: Record<'C1' | 'C2', EntitySet>;
  readonly principals: Principal[];
  /** Bearer of each tenant's admin (the owner that re-reads entities). */
  readonly owners: Record<'D' | 'A' | 'B', string>;
  readonly sysadmin: string;
  /** B's MQTT-side principals: a device token and an app API key. */
  readonly bDevice: { id: string; token: string };
  readonly bAppKey: string;
}

type Json = Record<string, unknown>;

export async function call(baseUrl: string, bearer: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, text };
}

async function must(baseUrl: string, bearer: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await call(baseUrl, bearer, method, path, body);
  if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text}`);
  return res.body as Json;
}

export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await call(baseUrl, undefined, 'POST', '/api/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
  return (res.body as { token: string }).token;
}

const PASSWORD = 'isolation-password-1';

/** Creates one entity of every kind in the tenant of `admin` (names carry the label). */
async function tenantEntities(tp: TestPlatform, admin: string, label: string, tenantId: string): Promise<EntitySet> {
  const u = tp.baseUrl;
  const id = async (method: string, path: string, body?: unknown) => String((await must(u, admin, method, path, body)).id);
  const profile = await id('POST', '/api/profiles', { name: `${label}-profile` });
  const deviceBody = await must(u, admin, 'POST', '/api/devices', { name: `${label}-device`, profileId: profile });
  const device = String(deviceBody.id);
  const gateway = await id('POST', '/api/devices', { name: `${label}-gateway`, gateway: true });
  const child = await id('POST', '/api/devices', { name: `${label}-child` });
  await must(u, admin, 'PATCH', `/api/devices/${child}`, { gatewayId: gateway });
  const rule = await id('POST', '/api/rules', { name: `${label}-rule`, deviceId: device, trigger: 'telemetry', condition: 't > 1000', actions: [{ type: 'alarm', alarmType: 'Hot', severity: 'major' }] });
  const dashboard = await id('POST', '/api/dashboards', { name: `${label}-dashboard`, widgets: [] });
  const group = await id('POST', '/api/groups', { name: `${label}-group` });
  await must(u, admin, 'POST', `/api/groups/${group}/devices`, { deviceIds: [device] });
  const customer = await id('POST', '/api/customers', { name: `${label}-customer` });
  const grant = await id('POST', '/api/grants', { subject: { deviceId: device }, actions: ['subscribe'], topic: `devices/${label}/x` });
  // Disabled, to an unreachable address: nothing leaves the machine.
  const integration = await id('POST', '/api/integrations', { type: 'mqtt-bridge', name: `${label}-integration`, enabled: false, config: { url: 'mqtt://127.0.0.1:9', topic: 'x/{deviceName}' } });
  const pkgRes = await fetch(`${u}/api/ota/packages?title=${label}-fw&version=1.0&profileId=${profile}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(64) });
  const otaPackage = String(((await pkgRes.json()) as Json).id);
  const deployment = await id('POST', '/api/ota/deployments', { packageId: otaPackage, target: { deviceIds: [device] } }).catch(() => undefined);
  const role = await id('POST', '/api/roles', { name: `${label}-role`, permissions: ['devices:read'] });
  const user = await id('POST', '/api/users', { email: `${label.toLowerCase()}-user@iso.test`, password: PASSWORD, role: 'viewer' });
  const apiKey = await id('POST', '/api/auth/api-keys', { name: `${label}-key`, role: 'viewer' });
  const command = await id('POST', `/api/devices/${device}/commands`, { method: 'reboot', persistent: true });
  const alarm = await insertAlarm(tp, tenantId, device);
  return { label, tenantId, profile, device, deviceToken: String(deviceBody.accessToken), gateway, child, rule, dashboard, group, customer, grant, integration, otaPackage, ...(deployment ? { deployment } : {}), role, user, apiKey, command, alarm, tenant: tenantId };
}

async function insertAlarm(tp: TestPlatform, tenantId: string, deviceId: string): Promise<string> {
  const id = randomUUID();
  const ts = Date.now();
  await tp.platform.store.insertAlarm(
    { id, tenantId, deviceId, type: 'Isolation', severity: 'major', status: 'active', count: 1, details: {}, createdAt: ts, updatedAt: ts, version: 1 },
    { alarmId: id, ts, action: 'raised', severity: 'major' },
  );
  return id;
}

/** A customer of tenant A with a device, a dashboard, an alarm and a command of its own. */
async function customerEntities(tp: TestPlatform, admin: string, label: string, tenantId: string): Promise<EntitySet> {
  const u = tp.baseUrl;
  const customer = String((await must(u, admin, 'POST', '/api/customers', { name: `${label}-customer` })).id);
  const dev = await must(u, admin, 'POST', '/api/devices', { name: `${label}-device` });
  const device = String(dev.id);
  const dashboard = String((await must(u, admin, 'POST', '/api/dashboards', { name: `${label}-dashboard`, widgets: [] })).id);
  await must(u, admin, 'POST', `/api/customers/${customer}/devices`, { deviceIds: [device] });
  await must(u, admin, 'POST', `/api/customers/${customer}/dashboards`, { dashboardIds: [dashboard] });
  const command = String((await must(u, admin, 'POST', `/api/devices/${device}/commands`, { method: 'reboot', persistent: true })).id);
  const alarm = await insertAlarm(tp, tenantId, device);
  return { label, tenantId, customer, device, deviceToken: String(dev.accessToken), dashboard, command, alarm };
}

export async function createFixtures(tp: TestPlatform): Promise<Fixtures> {
  const u = tp.baseUrl;
  const sysadmin = await login(u, ADMIN.email, ADMIN.password);
  const me = (await must(u, sysadmin, 'GET', '/api/auth/me')) as { tenantId: string };
  const owners = { D: sysadmin } as Record<'D' | 'A' | 'B', string>;
  const tenantIds = { D: me.tenantId } as Record<'D' | 'A' | 'B', string>;
  for (const t of ['A', 'B'] as const) {
    tenantIds[t] = String((await must(u, sysadmin, 'POST', '/api/tenants', { name: `Tenant ${t}` })).id);
    await must(u, sysadmin, 'POST', `/api/tenants/${tenantIds[t]}/users`, { email: `admin-${t.toLowerCase()}@iso.test`, password: PASSWORD, role: 'tenant-admin' });
    owners[t] = await login(u, `admin-${t.toLowerCase()}@iso.test`, PASSWORD);
  }
  const tenants = {
    D: await tenantEntities(tp, sysadmin, 'D', tenantIds.D),
    A: await tenantEntities(tp, owners.A, 'A', tenantIds.A),
    B: await tenantEntities(tp, owners.B, 'B', tenantIds.B),
  };
  const customers = { C1: await customerEntities(tp, owners.A, 'C1', tenantIds.A), C2: await customerEntities(tp, owners.A, 'C2', tenantIds.A) };

  const userOf = async (email: string, role: string, customerId?: string) => {
    await must(u, owners.A, 'POST', '/api/users', { email, password: PASSWORD, role, ...(customerId ? { customerId } : {}) });
    return login(u, email, PASSWORD);
  };
  const operator = await userOf('operator@iso.test', 'operator');
  const apiKey = String((await must(u, operator, 'POST', '/api/auth/api-keys', { name: 'operator-key' })).key);
  const principals: Principal[] = [
    { name: 'sysadmin', bearer: sysadmin, kind: 'user', role: 'sysadmin', tenantId: tenantIds.D },
    { name: 'tenant-admin', bearer: owners.A, kind: 'user', role: 'tenant-admin', tenantId: tenantIds.A },
    { name: 'operator', bearer: operator, kind: 'user', role: 'operator', tenantId: tenantIds.A },
    { name: 'viewer', bearer: await userOf('viewer@iso.test', 'viewer'), kind: 'user', role: 'viewer', tenantId: tenantIds.A },
    { name: 'customer-C1', bearer: await userOf('c1@iso.test', 'customer-user', customers.C1.customer), kind: 'user', role: 'customer-user', tenantId: tenantIds.A, customer: customers.C1 },
    { name: 'customer-C2', bearer: await userOf('c2@iso.test', 'customer-user', customers.C2.customer), kind: 'user', role: 'customer-user', tenantId: tenantIds.A, customer: customers.C2 },
    { name: 'api-key', bearer: apiKey, kind: 'apiKey', role: 'operator', tenantId: tenantIds.A },
    // A device and a gateway of their own (not the fixture entities, whose credentials the own-target writes may rotate).
    await devicePrincipal(u, owners.A, 'device', tenantIds.A, false),
    await devicePrincipal(u, owners.A, 'gateway', tenantIds.A, true),
  ];
  const bDev = await must(u, owners.B, 'POST', '/api/devices', { name: 'B-listener' });
  const bAppKey = String((await must(u, owners.B, 'POST', '/api/auth/api-keys', { name: 'B-app', role: 'operator' })).key);
  return { tenants, customers, principals, owners, sysadmin, bDevice: { id: String(bDev.id), token: String(bDev.accessToken) }, bAppKey };
}

async function devicePrincipal(u: string, admin: string, name: string, tenantId: string, gateway: boolean): Promise<Principal> {
  const dev = await must(u, admin, 'POST', '/api/devices', { name: `principal-${name}`, ...(gateway ? { gateway: true } : {}) });
  if (gateway) {
    const child = await must(u, admin, 'POST', '/api/devices', { name: `principal-${name}-child` });
    await must(u, admin, 'PATCH', `/api/devices/${String(child.id)}`, { gatewayId: String(dev.id) });
  }
  const token = String(dev.accessToken);
  return { name, bearer: token, kind: 'device', deviceToken: token, tenantId };
}
