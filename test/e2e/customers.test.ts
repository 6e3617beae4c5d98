/**
 * Customers (issue 15 contract) on a real platform: a customer user sees exactly the devices of
 * its customer and its sub-customers; every other id answers 404 on devices, telemetry, alarms and
 * commands; lists and the WebSocket carry nothing of others.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { apiClient, eventually, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const PASSWORD = 'customer-password-1';
let tp: TestPlatform;
let c1: string;
let c1sub: string;
let c2: string;
const dev: Record<string, { id: string; accessToken: string }> = {};
let u1: ApiClient;
let u2: ApiClient;

before(async () => {
  tp = await startTestPlatform();
  const api = tp.api;
  const create = async (name: string, parentId?: string): Promise<string> => {
    const res = await api.request<{ id: string }>('POST', '/api/customers', { name, ...(parentId ? { parentId } : {}) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };
  c1 = await create('Household 1');
  c1sub = await create('Household 1 / garage', c1);
  c2 = await create('Household 2');
  for (const name of ['meter-1', 'meter-1-garage', 'meter-2', 'meter-free']) dev[name] = await api.createDevice(name);
  const assign = async (customer: string, ids: string[]) => assert.equal((await api.request('POST', `/api/customers/${customer}/devices`, { deviceIds: ids })).status, 204);
  await assign(c1, [dev['meter-1']!.id]);
  await assign(c1sub, [dev['meter-1-garage']!.id]);
  await assign(c2, [dev['meter-2']!.id]);
  for (const [email, customerId] of [['u1@c1.test', c1], ['u2@c2.test', c2]] as const) {
    const res = await api.request('POST', '/api/users', { email, password: PASSWORD, role: 'customer-user', customerId });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  u1 = await apiClient(tp.baseUrl, { email: 'u1@c1.test', password: PASSWORD });
  u2 = await apiClient(tp.baseUrl, { email: 'u2@c2.test', password: PASSWORD });
});
after(async () => {
  await tp.stop();
});

const names = (body: { items: { name: string }[] }): string[] => body.items.map((d) => d.name).sort();

test('a customer user lists exactly the devices of its customer and its sub-customers', async () => {
  const one = await u1.request<{ items: { name: string }[]; total: number }>('GET', '/api/devices?limit=100');
  assert.equal(one.status, 200);
  assert.deepEqual(names(one.body), ['meter-1', 'meter-1-garage']);
  assert.equal(one.body.total, 2);
  const two = await u2.request<{ items: { name: string }[] }>('GET', '/api/devices?limit=100');
  assert.deepEqual(names(two.body), ['meter-2']);
  const counts = await u1.request<{ total: number }>('GET', '/api/devices/counts');
  assert.equal(counts.body.total, 2);
  const admin = await tp.api.request<{ items: { name: string }[] }>('GET', '/api/devices?limit=100');
  assert.equal(admin.body.items.length, 4);
});

test("any other device id answers 404 (not 403) on device, telemetry, attributes, commands, RPC and alarms", async () => {
  const other = dev['meter-2']!.id;
  const free = dev['meter-free']!.id;
  for (const id of [other, free, 'no-such-device']) {
    for (const [method, path, body] of [
      ['GET', `/api/devices/${id}`],
      ['GET', `/api/devices/${id}/status`],
      ['GET', `/api/devices/${id}/telemetry/latest`],
      ['GET', `/api/devices/${id}/telemetry?keys=t&from=0&to=1`],
      ['GET', `/api/devices/${id}/attributes`],
      ['POST', `/api/devices/${id}/attributes/shared`, { target: 1 }],
      ['POST', `/api/devices/${id}/commands`, { method: 'reboot', persistent: true }],
      ['POST', `/api/devices/${id}/rpc`, { method: 'reboot' }],
      ['GET', `/api/alarms?deviceId=${id}`],
      ['GET', `/api/commands?deviceId=${id}`],
    ] as const) {
      const res = await u1.request(method, path, body);
      assert.equal(res.status, 404, `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  // Its own device answers.
  assert.equal((await u1.request('GET', `/api/devices/${dev['meter-1-garage']!.id}`)).status, 200);
});

test("alarms and commands of other customers' devices are neither listed nor readable by id", async () => {
  const theirs = await tp.platform.alarms.raise({ tenantId: DEFAULT_TENANT_ID, deviceId: dev['meter-2']!.id, type: 'Leak', severity: 'major' });
  const mine = await tp.platform.alarms.raise({ tenantId: DEFAULT_TENANT_ID, deviceId: dev['meter-1']!.id, type: 'Leak', severity: 'major' });
  const cmd = await tp.api.request<{ id: string }>('POST', `/api/devices/${dev['meter-2']!.id}/commands`, { method: 'close-valve', persistent: true });
  assert.equal(cmd.status, 201);
  const alarms = await u1.request<{ items: { id: string }[] }>('GET', '/api/alarms');
  assert.deepEqual(alarms.body.items.map((a) => a.id), [mine.id]);
  for (const path of [`/api/alarms/${theirs.id}`, `/api/alarms/${theirs.id}/history`, `/api/commands/${cmd.body.id}`]) {
    assert.equal((await u1.request('GET', path)).status, 404, path);
  }
  assert.equal((await u1.request('POST', `/api/alarms/${theirs.id}/ack`)).status, 404);
  assert.equal((await u1.request('POST', `/api/alarms/${mine.id}/ack`)).status, 200);
  const commands = await u1.request<{ items: unknown[] }>('GET', '/api/commands');
  assert.equal(commands.body.items.length, 0);
  assert.equal((await u2.request('GET', `/api/commands/${cmd.body.id}`)).status, 200);
});

test('a customer user may operate its devices but reaches no configuration', async () => {
  const own = dev['meter-1']!.id;
  assert.equal((await u1.request('POST', `/api/devices/${own}/commands`, { method: 'reboot', persistent: true })).status, 201);
  assert.equal((await u1.request('POST', `/api/devices/${own}/attributes/shared`, { target: 21 })).status, 200);
  for (const [method, path, body] of [
    ['GET', '/api/rules'],
    ['GET', '/api/profiles'],
    ['GET', '/api/customers'],
    ['GET', '/api/users'],
    ['GET', '/api/groups'],
    ['PATCH', `/api/devices/${own}`, { label: 'x' }],
    ['DELETE', `/api/devices/${own}`],
    ['POST', `/api/devices/${own}/attributes/server`, { a: 1 }],
    ['POST', '/api/devices', { name: 'sneaky' }],
  ] as const) {
    const res = await u1.request(method, path, body);
    assert.equal(res.status, 403, `${method} ${path} → ${res.status}`);
  }
});

test('customer users need a customer of the tenant; other roles refuse one', async () => {
  const noCustomer = await tp.api.request('POST', '/api/users', { email: 'x1@c.test', password: PASSWORD, role: 'customer-user' });
  assert.equal(noCustomer.status, 400);
  const operatorWithCustomer = await tp.api.request('POST', '/api/users', { email: 'x2@c.test', password: PASSWORD, role: 'user', customerId: c1 });
  assert.equal(operatorWithCustomer.status, 400);
  const unknown = await tp.api.request('POST', '/api/users', { email: 'x3@c.test', password: PASSWORD, role: 'customer-user', customerId: 'nope' });
  assert.equal(unknown.status, 404);
  // A customer with users or sub-customers is not deleted.
  assert.equal((await tp.api.request('DELETE', `/api/customers/${c1}`)).status, 409);
  assert.equal((await tp.api.request('DELETE', `/api/customers/${c2}`)).status, 409);
});

test('sub-customers: no cycles, at most five deep; assigning a device of nowhere names it', async () => {
  const cycle = await tp.api.request('PATCH', `/api/customers/${c1}`, { parentId: c1sub });
  assert.equal(cycle.status, 400);
  let parent = c1sub; // depth 2
  for (let depth = 3; depth <= 5; depth++) {
    const res = await tp.api.request<{ id: string }>('POST', '/api/customers', { name: `level ${depth}`, parentId: parent });
    assert.equal(res.status, 201);
    parent = res.body.id;
  }
  const tooDeep = await tp.api.request('POST', '/api/customers', { name: 'level 6', parentId: parent });
  assert.equal(tooDeep.status, 400);
  const missing = await tp.api.request<{ message: string }>('POST', `/api/customers/${c1}/devices`, { deviceIds: [dev['meter-free']!.id, 'ghost-device'] });
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /ghost-device/);
  // Nothing was assigned (all or none).
  const list = await tp.api.request<{ items: { name: string }[] }>('GET', `/api/customers/${c1}/devices`);
  assert.deepEqual(names(list.body), ['meter-1']);
});

test('dashboards: a customer user sees only those assigned to its customers', async () => {
  const mk = async (name: string): Promise<string> => (await tp.api.request<{ id: string }>('POST', '/api/dashboards', { name, widgets: [] })).body.id;
  const mine = await mk('Household 1 overview');
  const theirs = await mk('Household 2 overview');
  await mk('Tenant-wide');
  assert.equal((await tp.api.request('POST', `/api/customers/${c1sub}/dashboards`, { dashboardIds: [mine] })).status, 204);
  assert.equal((await tp.api.request('POST', `/api/customers/${c2}/dashboards`, { dashboardIds: [theirs] })).status, 204);
  const list = await u1.request<{ items: { name: string }[] }>('GET', '/api/dashboards');
  assert.deepEqual(names(list.body), ['Household 1 overview']);
  assert.equal((await u1.request('GET', `/api/dashboards/${mine}`)).status, 200);
  assert.equal((await u1.request('GET', `/api/dashboards/${theirs}`)).status, 404);
});

test('the WebSocket streams a customer user only its devices', async () => {
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'u1@c1.test', password: PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  const ws = new WebSocket(`ws://127.0.0.1:${tp.ports.http}/api/ws`, ['continuum.v1', `bearer.${token}`]);
  const messages: { id?: number; type?: string; deviceId?: string; result?: unknown; error?: { status?: number; error?: string } }[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  try {
    ws.send(JSON.stringify({ id: 1, subscribe: { type: 'telemetry' } }));
    ws.send(JSON.stringify({ id: 2, subscribe: { type: 'telemetry', deviceId: dev['meter-2']!.id } }));
    await eventually(async () => (messages.some((m) => m.id === 1) && messages.some((m) => m.id === 2) ? true : undefined), 5000, 'subscription answers');
    assert.ok(messages.find((m) => m.id === 2)?.error, 'a subscription to another customer\'s device is refused');
    const pub = (token: string, value: number) =>
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ power: value })]);
    await pub(dev['meter-2']!.accessToken, 2);
    await pub(dev['meter-free']!.accessToken, 3);
    await pub(dev['meter-1-garage']!.accessToken, 1);
    await eventually(async () => messages.find((m) => m.type === 'telemetry' && m.deviceId === dev['meter-1-garage']!.id), 5000, 'own telemetry');
    // Published before the own one, in order on one bus: had they passed, they would be here now.
    const seen = new Set(messages.filter((m) => m.type === 'telemetry').map((m) => m.deviceId));
    assert.deepEqual([...seen], [dev['meter-1-garage']!.id]);
  } finally {
    ws.close();
  }
});
