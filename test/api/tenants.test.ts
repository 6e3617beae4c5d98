/**
 * Tenants (issue 15): the sysadmin creates a tenant and its tenant-admin; the tenant admin of A
 * gets 404 for ids of B (and so does the sysadmin, acting in the default tenant); suspension
 * refuses the tenant's users and its devices (MQTT with mosquitto_pub, HTTP); deletion removes
 * the tenant's entities and is audited; other roles get 403 on the tenants routes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let tenantId: string;
let tenantAdmin: ApiClient;
let device: { id: string; accessToken: string };
const TA = { email: 'ta@tenant-b.test', password: 'tenant-b-password-1' };

/** mosquitto_pub as a child process (the broker runs in this process: never block the event loop). */
function mqttPublish(token: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"t":1}']);
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

async function httpTelemetry(token: string): Promise<number> {
  const res = await fetch(`${tp.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":2}' });
  await res.text();
  return res.status;
}

before(async () => {
  tp = await startTestPlatform();
  const created = await tp.api.request<{ id: string; name: string; status: string }>('POST', '/api/tenants', { name: 'Tenant B' });
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.name, created.body.status], ['Tenant B', 'active']);
  tenantId = created.body.id;
  const user = await tp.api.request<{ role: string; tenantId: string }>('POST', `/api/tenants/${tenantId}/users`, { ...TA, role: 'tenant-admin' });
  assert.equal(user.status, 201);
  assert.deepEqual([user.body.role, user.body.tenantId], ['tenant-admin', tenantId]);
  tenantAdmin = await apiClient(tp.baseUrl, TA);
  device = await tenantAdmin.createDevice('b-meter');
});
after(async () => {
  await tp.stop();
});

test('the sysadmin lists and reads tenants; other roles get 403, the tenant admin included', async () => {
  const list = await tp.api.request<{ id: string; name: string }[]>('GET', '/api/tenants');
  assert.deepEqual(list.body.map((t) => t.name).sort(), ['Default', 'Tenant B']);
  assert.equal((await tp.api.request<{ name: string }>('GET', `/api/tenants/${tenantId}`)).body.name, 'Tenant B');
  assert.equal((await tp.api.request('GET', '/api/tenants/00000000-0000-4000-8000-00000000dead')).status, 404);
  for (const [method, path, body] of [['GET', '/api/tenants'], ['POST', '/api/tenants', { name: 'x' }], ['DELETE', `/api/tenants/${tenantId}`]] as const) {
    const res = await tenantAdmin.request<{ message: string }>(method, path, body);
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.match(res.body.message, /needs the permission tenants:/);
  }
  const viewerRes = await tp.api.request('POST', '/api/users', { email: 'viewer@test.local', password: 'viewer-password-1', role: 'viewer' });
  assert.equal(viewerRes.status, 201);
  const viewer = await apiClient(tp.baseUrl, { email: 'viewer@test.local', password: 'viewer-password-1' });
  assert.equal((await viewer.request('GET', '/api/devices')).status, 200);
  assert.equal((await viewer.request('GET', '/api/tenants')).status, 403);
  assert.equal((await viewer.request('POST', '/api/devices', { name: 'v' })).status, 403);
  assert.equal((await viewer.request('GET', '/api/audit')).status, 403);
});

test("ids of another tenant answer 404, to the sysadmin as well; lists hold only the caller's tenant", async () => {
  assert.equal((await tp.api.request('GET', `/api/devices/${device.id}`)).status, 404);
  assert.equal((await tp.api.request('DELETE', `/api/devices/${device.id}`)).status, 404);
  const own = await tp.api.createDevice('a-meter');
  assert.equal((await tenantAdmin.request('GET', `/api/devices/${own.id}`)).status, 404);
  const names = (await tenantAdmin.request<{ items: { name: string }[] }>('GET', '/api/devices')).body.items.map((d) => d.name);
  assert.deepEqual(names, ['b-meter']);
  // A tenant admin cannot hand out the sysadmin role.
  assert.equal((await tenantAdmin.request('POST', '/api/users', { email: 'x@tenant-b.test', password: 'tenant-b-password-2', role: 'sysadmin' })).status, 403);
});

test("suspension refuses the tenant's users and its devices over MQTT and HTTP; resuming lets them back", async () => {
  assert.equal((await mqttPublish(device.accessToken)).status, 0, 'accepted while active');
  assert.equal(await httpTelemetry(device.accessToken), 200);
  const suspended = await tp.api.request<{ status: string }>('PATCH', `/api/tenants/${tenantId}`, { status: 'suspended' });
  assert.equal(suspended.body.status, 'suspended');

  const me = await tenantAdmin.request<{ message: string }>('GET', '/api/devices');
  assert.equal(me.status, 401);
  assert.match(me.body.message, /tenant is suspended/);
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(TA) });
  assert.equal(login.status, 401);
  assert.match(((await login.json()) as { message: string }).message, /tenant is suspended/);

  const refused = await mqttPublish(device.accessToken);
  assert.notEqual(refused.status, 0);
  assert.match(refused.output, /not authori[sz]ed/i);
  assert.equal(await httpTelemetry(device.accessToken), 401);

  assert.equal((await tp.api.request('PATCH', `/api/tenants/${tenantId}`, { status: 'active' })).status, 200);
  assert.equal((await mqttPublish(device.accessToken)).status, 0, 'accepted again');
  assert.equal(await httpTelemetry(device.accessToken), 200);
  assert.equal((await tp.api.request('PATCH', '/api/tenants/00000000-0000-4000-8000-000000000001', { status: 'suspended' })).status, 409);
});

/** The device connected over MQTT (MQTT.js, no reconnect); resolves with how the connection ended. */
async function liveDevice(token: string, protocolVersion: 4 | 5): Promise<{ closed: Promise<{ disconnectReason?: number }> }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${tp.ports.mqtt}`, { username: token, protocolVersion, reconnectPeriod: 0, clientId: `live-${protocolVersion}` });
  await client.subscribeAsync('v1/devices/me/attributes');
  let disconnectReason: number | undefined;
  client.on('disconnect', (packet) => (disconnectReason = packet.reasonCode));
  return { closed: new Promise((resolve) => client.on('close', () => resolve({ disconnectReason }))) };
}

test("regression (issue 15): suspending a tenant disconnects its devices' live MQTT connections, not only new ones", async () => {
  const v5 = await liveDevice(device.accessToken, 5);
  // A second device, connected over MQTT 3.1.1.
  const other = await tenantAdmin.createDevice('b-meter-2');
  const v311 = await liveDevice(other.accessToken, 4);
  assert.equal((await tp.api.request('PATCH', `/api/tenants/${tenantId}`, { status: 'suspended' })).status, 200);
  // MQTT 5 is told why (DISCONNECT 0x87 Not authorized, MQTT 5.0 §3.14.2.1); 3.1.1 has no server DISCONNECT: the socket closes.
  assert.equal((await v5.closed).disconnectReason, 0x87);
  assert.equal((await v311.closed).disconnectReason, undefined);
  assert.equal((await tp.api.request('PATCH', `/api/tenants/${tenantId}`, { status: 'active' })).status, 200);
  assert.equal((await mqttPublish(device.accessToken)).status, 0, 'accepted again');
});

test('deleting a tenant removes its devices and users, is audited; the default tenant cannot be deleted', async () => {
  assert.equal((await tp.api.request('DELETE', '/api/tenants/00000000-0000-4000-8000-000000000001')).status, 409);
  assert.equal((await tp.api.request('DELETE', `/api/tenants/${tenantId}`)).status, 204);
  assert.equal((await tp.api.request('GET', `/api/tenants/${tenantId}`)).status, 404);
  assert.equal(await tp.platform.store.getDevice(device.id), undefined);
  assert.equal(await tp.platform.store.findUserByEmail(TA.email), undefined);
  assert.equal(await httpTelemetry(device.accessToken), 401);
  const audit = await tp.api.request<{ items: { action: string; targetId?: string }[] }>('GET', '/api/audit?limit=50');
  assert.ok(audit.body.items.some((e) => e.action.includes('tenant') && JSON.stringify(e).includes(tenantId)), JSON.stringify(audit.body.items.slice(0, 5)));
});
