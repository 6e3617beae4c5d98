/**
 * The REST calls behind the dashboard's device management (issue 20): GET /api/endpoints (the
 * ports the add-device wizard prints) and PATCH/DELETE /api/devices/:id (rename, move between
 * profiles, delete) — who may call them, and that the changes land in the audit log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let operator: ApiClient;
let device: { id: string };

interface AuditEntry {
  action: string;
  outcome: string;
  targetId?: string;
  details?: { body?: unknown };
}

async function audit(q: string): Promise<AuditEntry[]> {
  return (await tp.api.request<{ items: AuditEntry[] }>('GET', `/api/audit?${q}`)).body.items;
}

before(async () => {
  tp = await startTestPlatform();
  device = await tp.api.createDevice('meter-1');
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'operator@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

test('GET /api/endpoints: 401 without a token or with a wrong one, 200 for an operator', async () => {
  assert.equal((await fetch(`${tp.baseUrl}/api/endpoints`)).status, 401);
  assert.equal((await fetch(`${tp.baseUrl}/api/endpoints`, { headers: { authorization: 'Bearer not-a-token' } })).status, 401);
  const res = await operator.request<{ items: { name: string; port: number }[] }>('GET', '/api/endpoints');
  assert.equal(res.status, 200);
  assert.equal(res.body.items.find((e) => e.name === 'mqtt')?.port, tp.ports.mqtt);
});

test('an operator may neither rename, move nor delete a device (403 FORBIDDEN); the device is unchanged', async () => {
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'meters' });
  for (const [method, body] of [['PATCH', { name: 'renamed-by-operator' }], ['PATCH', { profileId: profile.body.id }], ['DELETE', undefined]] as const) {
    const res = await operator.request<{ error: string }>(method, `/api/devices/${device.id}`, body);
    assert.equal(res.status, 403, `${method} ${JSON.stringify(body)}`);
    assert.equal(res.body.error, 'FORBIDDEN');
  }
  const now = await tp.api.request<{ name: string; profileId: string }>('GET', `/api/devices/${device.id}`);
  assert.equal(now.body.name, 'meter-1');
  assert.notEqual(now.body.profileId, profile.body.id);
});

test('the admin renames a device and moves it to another profile; both are audited with the body', async () => {
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'water meters' });
  const renamed = await tp.api.request<{ name: string }>('PATCH', `/api/devices/${device.id}`, { name: 'meter-1-basement' });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, 'meter-1-basement');
  const moved = await tp.api.request<{ profileId: string }>('PATCH', `/api/devices/${device.id}`, { profileId: profile.body.id });
  assert.equal(moved.body.profileId, profile.body.id);
  // A profile of no tenant (or another one) is refused, and so is a taken name.
  assert.equal((await tp.api.request('PATCH', `/api/devices/${device.id}`, { profileId: 'no-such-profile' })).status, 404);
  await tp.api.createDevice('meter-2');
  assert.equal((await tp.api.request('PATCH', `/api/devices/${device.id}`, { name: 'meter-2' })).status, 409);
  const entries = await audit(`targetId=${device.id}&action=${encodeURIComponent('PATCH /api/devices/:id')}`);
  const bodies = entries.filter((e) => e.outcome === 'success').map((e) => e.details?.body);
  assert.deepEqual(bodies.reverse().slice(0, 2), [{ name: 'meter-1-basement' }, { profileId: profile.body.id }]);
  assert.ok(entries.some((e) => e.outcome === 'denied'), 'the operator attempts are recorded as denied');
});

test('the admin deletes a device: 204, then 404, and the deletion is audited', async () => {
  const doomed = await tp.api.createDevice('to-delete');
  assert.equal((await tp.api.request('DELETE', `/api/devices/${doomed.id}`)).status, 204);
  assert.equal((await tp.api.request('GET', `/api/devices/${doomed.id}`)).status, 404);
  assert.equal((await tp.api.request('DELETE', `/api/devices/${doomed.id}`)).status, 404);
  const [deleted] = await audit(`targetId=${doomed.id}&action=${encodeURIComponent('DELETE /api/devices/:id')}&outcome=success`);
  assert.ok(deleted, 'recorded');
});
