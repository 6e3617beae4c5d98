/**
 * Device groups (issue 15) on a real platform: static and attribute-filtered membership, a bulk
 * command that reaches each member (one of them listening with mosquitto_sub on its RPC topic),
 * bulk shared attributes, assignment of a group's members to a customer, and 404 across tenants.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

const names = (body: { items: { name: string }[] }): string[] => body.items.map((d) => d.name).sort();

test('static and dynamic members; a bulk command reaches every member, seen by mosquitto_sub on the RPC topic', async () => {
  const api = tp.api;
  const a = await api.createDevice('lamp-a');
  const b = await api.createDevice('lamp-b');
  const c = await api.createDevice('lamp-c');
  await api.createDevice('pump-x');
  const group = await api.request<{ id: string }>('POST', '/api/groups', { name: 'lights-north', filter: { all: [{ scope: 'server', key: 'site', equals: 'north' }] } });
  assert.equal(group.status, 201, JSON.stringify(group.body));
  const gid = group.body.id;
  assert.equal((await api.request('POST', `/api/groups/${gid}/devices`, { deviceIds: [a.id] })).status, 204);
  assert.equal((await api.request('POST', `/api/devices/${b.id}/attributes/server`, { site: 'north' })).status, 200);
  assert.equal((await api.request('POST', `/api/devices/${c.id}/attributes/server`, { site: 'south' })).status, 200);
  const members = await eventually(async () => {
    const res = await api.request<{ items: { name: string }[] }>('GET', `/api/groups/${gid}/devices`);
    return res.body.items.length === 2 ? res.body : undefined;
  }, 5000, 'members');
  assert.deepEqual(names(members), ['lamp-a', 'lamp-b']);

  // c moves north: the dynamic membership follows the attribute change.
  await api.request('POST', `/api/devices/${c.id}/attributes/server`, { site: 'north' });
  const after = await eventually(async () => {
    const res = await api.request<{ items: { name: string }[] }>('GET', `/api/groups/${gid}/devices`);
    return res.body.items.length === 3 ? res.body : undefined;
  }, 5000, 'c joins');
  assert.deepEqual(names(after), ['lamp-a', 'lamp-b', 'lamp-c']);

  // lamp-a listens on its RPC topic with mosquitto_sub.
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', a.accessToken, '-i', 'lamp-a-sub', '-q', '1', '-t', 'v1/devices/me/rpc/request/+', '-v']);
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await eventually(async () => {
      const res = await api.request<{ online: boolean }>('GET', `/api/devices/${a.id}/status`);
      return res.body.online ? true : undefined;
    }, 5000, 'lamp-a online');
    const bulk = await api.request<{ items: { deviceId: string; commandId?: string; status?: string; error?: string }[] }>('POST', `/api/groups/${gid}/commands`, {
      method: 'setLight',
      params: { on: true },
      persistent: true,
    });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.deepEqual(bulk.body.items.map((i) => i.deviceId).sort(), [a.id, b.id, c.id].sort());
    for (const item of bulk.body.items) assert.ok(item.commandId, `${item.deviceId}: ${item.error}`);
    await eventually(async () => (out.includes('setLight') ? true : undefined), 5000, 'mosquitto_sub got the RPC');
    assert.match(out, /v1\/devices\/me\/rpc\/request\/\d+ \{"method":"setLight","params":\{"on":true\}\}/);
    // Every member has its own command.
    for (const item of bulk.body.items) {
      const cmd = await api.request<{ deviceId: string; method: string }>('GET', `/api/commands/${item.commandId}`);
      assert.equal(cmd.body.deviceId, item.deviceId);
      assert.equal(cmd.body.method, 'setLight');
    }
  } finally {
    sub.kill();
  }

  // Bulk shared attributes.
  const attrs = await api.request<{ deviceIds: string[] }>('POST', `/api/groups/${gid}/attributes`, { values: { brightness: 70 } });
  assert.equal(attrs.status, 200);
  assert.equal(attrs.body.deviceIds.length, 3);
  const shared = await api.request<{ shared?: { key: string; value: unknown }[] }>('GET', `/api/devices/${c.id}/attributes?scope=shared`);
  assert.match(JSON.stringify(shared.body), /brightness/);

  // The group as the unit of assignment.
  const customer = await api.request<{ id: string }>('POST', '/api/customers', { name: 'North campus' });
  const assigned = await api.request<{ deviceIds: string[] }>('POST', `/api/customers/${customer.body.id}/groups`, { groupIds: [gid] });
  assert.equal(assigned.status, 200);
  const owned = await api.request<{ items: { name: string }[] }>('GET', `/api/customers/${customer.body.id}/devices`);
  assert.deepEqual(names(owned.body), ['lamp-a', 'lamp-b', 'lamp-c']);

  // Removing a static member; unknown ids name themselves.
  assert.equal((await api.request('DELETE', `/api/groups/${gid}/devices/${a.id}`)).status, 204);
  const missing = await api.request<{ message: string }>('POST', `/api/groups/${gid}/devices`, { deviceIds: ['ghost'] });
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /ghost/);
});

test('group names are unique per tenant; filters are checked; an operator may run bulk actions but not edit groups', async () => {
  const api = tp.api;
  const g = await api.request<{ id: string }>('POST', '/api/groups', { name: 'pumps' });
  assert.equal(g.status, 201);
  assert.equal((await api.request('POST', '/api/groups', { name: 'pumps' })).status, 409);
  assert.equal((await api.request('POST', '/api/groups', { name: 'bad', filter: { all: [] } })).status, 400);
  assert.equal((await api.request('POST', '/api/groups', { name: 'bad', filter: { all: [{ scope: 'nope', key: 'k', equals: 1 }] } })).status, 400);
  const operator = { email: 'op@groups.test', password: 'operator-password-1' };
  assert.equal((await api.request('POST', '/api/users', { ...operator, role: 'user' })).status, 201);
  const { apiClient } = await import('../support/platform.js');
  const op = await apiClient(tp.baseUrl, operator);
  assert.equal((await op.request('GET', '/api/groups')).status, 200);
  assert.equal((await op.request('PATCH', `/api/groups/${g.body.id}`, { name: 'renamed' })).status, 403);
  assert.equal((await op.request('POST', `/api/groups/${g.body.id}/commands`, { method: 'noop', persistent: true })).status, 200);
  assert.equal((await api.request('GET', '/api/groups/not-a-group')).status, 404);
});

test('a rule limited to a group fires only for its members, and follows membership changes', async () => {
  const api = tp.api;
  const member = await api.createDevice('tank-member');
  const outsider = await api.createDevice('tank-outsider');
  const later = await api.createDevice('tank-later');
  const group = await api.request<{ id: string }>('POST', '/api/groups', { name: 'tanks-monitored' });
  await api.request('POST', `/api/groups/${group.body.id}/devices`, { deviceIds: [member.id] });
  const rule = await api.request<{ id: string }>('POST', '/api/rules', {
    name: 'tank overflow',
    groupId: group.body.id,
    trigger: 'telemetry',
    condition: 'level > 90',
    actions: [{ type: 'alarm', alarmType: 'Overflow', severity: 'major' }],
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  assert.equal((await api.request('POST', '/api/rules', { name: 'bad target', groupId: 'no-such-group', trigger: 'telemetry', actions: [] })).status, 404);
  const send = (token: string) => fetch(`${tp.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: 95 }) });
  const alarmsOf = async (deviceId: string) => (await api.request<{ items: { type: string }[] }>('GET', `/api/alarms?deviceId=${deviceId}`)).body.items;
  // The membership is kept in memory once the rule exists; until then a message may pass unseen.
  await eventually(async () => {
    assert.equal((await send(member.accessToken)).status, 200);
    return (await alarmsOf(member.id)).length > 0 ? true : undefined;
  }, 5000, 'member alarm');
  assert.equal((await send(outsider.accessToken)).status, 200);
  assert.equal((await send(later.accessToken)).status, 200);
  // The member's alarm came after a message of it; the outsider's message is handled in order too.
  await assert.doesNotReject(eventually(async () => ((await alarmsOf(member.id)).length === 1 ? true : undefined), 2000, 'one member alarm'));
  assert.equal((await alarmsOf(outsider.id)).length, 0);
  // A new member is evaluated from then on.
  await api.request('POST', `/api/groups/${group.body.id}/devices`, { deviceIds: [later.id] });
  await eventually(async () => {
    await send(later.accessToken);
    return (await alarmsOf(later.id)).length > 0 ? true : undefined;
  }, 5000, 'new member alarm');
  assert.equal((await alarmsOf(outsider.id)).length, 0);
});
