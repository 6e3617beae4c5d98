/**
 * A custom role scoped to a device group (issue 15 item 3): its users see and operate only the
 * group's members — static ones and those matching the attribute filter as of the request — on
 * every device-scoped route and on the live WebSocket; any other device id answers 404.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, eventually, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';
import { openLiveSocket } from '../support/live-socket.js';

let tp: TestPlatform;
let scoped: ApiClient;
let token: string;
let pinned: { id: string };
let matched: { id: string };
let outside: { id: string };
const USER = { email: 'north@group-scope.test', password: 'group-scoped-password-1' };

before(async () => {
  tp = await startTestPlatform();
  pinned = await tp.api.createDevice('lamp-pinned');
  matched = await tp.api.createDevice('lamp-matched');
  outside = await tp.api.createDevice('lamp-outside');
  const group = await tp.api.request<{ id: string }>('POST', '/api/groups', { name: 'north', filter: { all: [{ scope: 'server', key: 'site', equals: 'north' }] } });
  assert.equal(group.status, 201);
  assert.equal((await tp.api.request('POST', `/api/groups/${group.body.id}/devices`, { deviceIds: [pinned.id] })).status, 204);
  assert.equal((await tp.api.request('POST', `/api/devices/${matched.id}/attributes/server`, { site: 'north' })).status, 200);
  assert.equal((await tp.api.request('POST', `/api/devices/${outside.id}/attributes/server`, { site: 'south' })).status, 200);
  const permissions = ['devices:read', 'telemetry:read', 'attributes:read', 'alarms:read', 'commands:read', 'commands:operate'];
  const role = await tp.api.request<{ role: string }>('POST', '/api/roles', { name: 'north crew', permissions, scope: { groupId: group.body.id } });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  assert.equal((await tp.api.request('POST', '/api/users', { ...USER, role: role.body.role })).status, 201);
  scoped = await apiClient(tp.baseUrl, USER);
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(USER) });
  token = ((await login.json()) as { token: string }).token;
});
after(async () => {
  await tp.stop();
});

const listed = async (): Promise<string[]> => {
  const list = await scoped.request<{ items: { id: string }[]; total: number }>('GET', '/api/devices?limit=100&offset=0');
  assert.equal(list.status, 200);
  assert.equal(list.body.total, list.body.items.length);
  return list.body.items.map((d) => d.id).sort();
};

test('the device list and counts hold the static member and the filter-matched one only', async () => {
  assert.deepEqual(await eventually(async () => {
    const ids = await listed();
    return ids.length === 2 ? ids : undefined;
  }, 5000, 'two members listed'), [pinned.id, matched.id].sort());
  const counts = await scoped.request<{ total: number }>('GET', '/api/devices/counts');
  assert.equal(counts.body.total, 2);
});

test('members are readable and operable; a non-member answers 404 on every device-scoped route', async () => {
  for (const member of [pinned, matched]) {
    assert.equal((await scoped.request('GET', `/api/devices/${member.id}`)).status, 200);
    assert.equal((await scoped.request('GET', `/api/devices/${member.id}/attributes`)).status, 200);
    assert.equal((await scoped.request('GET', `/api/devices/${member.id}/telemetry/latest`)).status, 200);
  }
  const command = await scoped.request<{ id: string }>('POST', `/api/devices/${pinned.id}/commands`, { method: 'blink', params: {}, persistent: true });
  assert.equal(command.status < 300, true, JSON.stringify(command.body));
  assert.equal((await scoped.request('GET', `/api/commands/${command.body.id}`)).status, 200);

  const id = outside.id;
  assert.equal((await scoped.request('GET', `/api/devices/${id}`)).status, 404);
  assert.equal((await scoped.request('GET', `/api/devices/${id}/telemetry/latest`)).status, 404);
  assert.equal((await scoped.request('GET', `/api/devices/${id}/attributes`)).status, 404);
  assert.equal((await scoped.request('POST', `/api/devices/${id}/commands`, { method: 'blink', params: {}, persistent: true })).status, 404);
  assert.equal((await scoped.request('POST', `/api/devices/${id}/rpc`, { method: 'blink', params: {} })).status, 404);
  assert.equal((await scoped.request('GET', `/api/alarms?deviceId=${id}`)).status, 404);
  assert.equal((await scoped.request('GET', `/api/commands?deviceId=${id}`)).status, 404);

  // A command on the non-member, sent by the tenant admin, is not found for the scoped user either.
  const theirs = await tp.api.request<{ id: string }>('POST', `/api/devices/${id}/commands`, { method: 'blink', params: {}, persistent: true });
  assert.equal((await scoped.request('GET', `/api/commands/${theirs.body.id}`)).status, 404);
  const commands = await scoped.request<{ items: { deviceId: string }[] }>('GET', '/api/commands');
  assert.equal(commands.status, 200);
  assert.ok(commands.body.items.every((c) => c.deviceId !== id));
});

test('the attribute filter is evaluated as of the request: a device that moves north joins the scope', async () => {
  assert.equal((await tp.api.request('POST', `/api/devices/${outside.id}/attributes/server`, { site: 'north' })).status, 200);
  await eventually(async () => ((await scoped.request('GET', `/api/devices/${outside.id}`)).status === 200 ? true : undefined), 5000, 'moved device visible');
  assert.deepEqual(await listed(), [pinned.id, matched.id, outside.id].sort());
  assert.equal((await tp.api.request('POST', `/api/devices/${outside.id}/attributes/server`, { site: 'south' })).status, 200);
  await eventually(async () => ((await scoped.request('GET', `/api/devices/${outside.id}`)).status === 404 ? true : undefined), 5000, 'moved device hidden again');
});

test('the same group scope holds on the live WebSocket', async () => {
  const ws = await openLiveSocket(tp.baseUrl, token);
  const answer = (id: number, deviceId: string) => ws.subscribeTelemetry(id, deviceId);
  try {
    assert.ok('result' in (await answer(1, pinned.id)));
    assert.ok('result' in (await answer(2, matched.id)));
    assert.ok('error' in (await answer(3, outside.id)));
  } finally {
    ws.close();
  }
});

test('regression (issue 15): a scoped role cannot hold permissions that reach past its devices (groups:operate sent bulk commands to other groups)', async () => {
  const groups = await tp.api.request<{ items: { id: string }[] }>('GET', '/api/groups');
  const groupId = groups.body.items[0]!.id;
  const refused = await tp.api.request<{ message: string }>('POST', '/api/roles', { name: 'too wide', permissions: ['devices:read', 'groups:operate', 'rules:write'], scope: { groupId } });
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /groups:operate, rules:write/);
  // Dashboards are narrowed by a customer scope only.
  assert.equal((await tp.api.request('POST', '/api/roles', { name: 'group boards', permissions: ['dashboards:read'], scope: { groupId } })).status, 400);
  const widened = await tp.api.request('POST', '/api/roles', { name: 'north readers', permissions: ['devices:read'], scope: { groupId } });
  assert.equal(widened.status, 201);
  const id = (widened.body as { id: string }).id;
  assert.equal((await tp.api.request('PATCH', `/api/roles/${id}`, { permissions: ['devices:read', 'ota:write'] })).status, 400);
});
