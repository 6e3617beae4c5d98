/**
 * Roles are enforced by the API, not only hidden in the dashboard: an operator (role `user`,
 * created by an admin with POST /api/users) reads everything and operates devices, but every
 * configuration change answers 403 FORBIDDEN.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let operator: ApiClient;
let device: { id: string };

before(async () => {
  tp = await startTestPlatform();
  device = await tp.api.createDevice('pump-1');
  const created = await tp.api.request<{ role: string; email: string }>('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'user' });
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.email, created.body.role], ['operator@test.local', 'operator'], 'the legacy role user is stored as operator');
  operator = await apiClient(tp.baseUrl, { email: 'operator@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

test('an operator reads devices, telemetry, rules and alarms', async () => {
  for (const path of ['/api/devices', `/api/devices/${device.id}`, `/api/devices/${device.id}/telemetry?keys=x`, '/api/rules', '/api/alarms', '/api/commands', '/api/auth/me']) {
    assert.equal((await operator.request('GET', path)).status, 200, path);
  }
});

test('an operator sends commands, sets shared attributes and works alarms', async () => {
  const command = await operator.request<{ status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'setPump', params: { on: true }, persistent: true });
  assert.equal(command.status, 201);
  assert.equal(command.body.status, 'QUEUED');
  assert.equal((await operator.request('POST', `/api/devices/${device.id}/attributes/shared`, { targetPressure: 2.5 })).status, 200);
  // Not 403: the alarm does not exist, the permission is there.
  assert.equal((await operator.request('POST', '/api/alarms/00000000-0000-4000-8000-00000000dead/ack')).status, 404);
  assert.equal((await operator.request('POST', '/api/auth/api-keys', { name: 'operator laptop' })).status, 201);
});

test('an operator changes no configuration: 403 FORBIDDEN with the reason', async () => {
  const attempts: [string, string, unknown][] = [
    ['POST', '/api/devices', { name: 'sneaky' }],
    ['DELETE', `/api/devices/${device.id}`, undefined],
    ['PUT', `/api/devices/${device.id}/credentials`, { type: 'ACCESS_TOKEN', token: 'stolen-token-123' }],
    ['POST', `/api/devices/${device.id}/attributes/server`, { rainForecast: true }],
    ['POST', '/api/profiles', { name: 'p' }],
    ['DELETE', '/api/profiles/00000000-0000-4000-8000-00000000dead', undefined],
    ['POST', '/api/rules', { name: 'r', trigger: 'telemetry', condition: 'x > 1', actions: [{ type: 'alarm', alarmType: 'X' }] }],
    ['POST', '/api/dashboards', { name: 'd', widgets: [] }],
    ['POST', '/api/devices/import', { csv: 'name\nx' }],
    ['POST', '/api/users', { email: 'another@test.local', password: 'another-password-1', role: 'admin' }],
  ];
  for (const [method, path, body] of attempts) {
    const res = await operator.request<{ error: string; message: string }>(method, path, body);
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(res.body.error, 'FORBIDDEN');
    assert.match(res.body.message, /needs the permission [a-z-]+:write/);
  }
  const list = await tp.api.request<{ items: { name: string }[] }>('GET', '/api/devices');
  assert.deepEqual(list.body.items.map((d) => d.name), ['pump-1'], 'nothing was created');
});

test('the admin creates users; a duplicate e-mail is a conflict and a bad role is refused', async () => {
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1' })).status, 409);
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'x@test.local', password: 'operator-password-1', role: 'root' })).status, 400);
});
