/**
 * The audit trail (issue 12, item 10): sign-ins with their address, every change made through
 * the API, credential reads; read back by admins only through GET /api/audit, secrets redacted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';
import { ADMIN, apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

interface Entry {
  actor: string;
  actorName: string | null;
  action: string;
  outcome: string;
  targetId: string | null;
  address: string | null;
  details?: { params?: Record<string, string>; body?: Record<string, unknown> };
}

let tp: TestPlatform;
let operator: ApiClient;
let device: { id: string };

const audit = async (query: string): Promise<Entry[]> => {
  const res = await tp.api.request<{ items: Entry[] }>('GET', `/api/audit?${query}`);
  assert.equal(res.status, 200);
  return res.body.items;
};

before(async () => {
  tp = await startTestPlatform();
  device = await tp.api.createDevice('boiler-1');
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'operator@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

test('regression: no audit trail — sign-ins, failed sign-ins and their address are recorded', async () => {
  const failed = await fetch(`${tp.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.email, password: 'not-the-password' }),
  });
  assert.equal(failed.status, 401);
  const entries = await audit('action=auth.');
  const failure = entries.find((e) => e.action === 'auth.login_failed');
  assert.ok(failure, 'the failed sign-in is recorded');
  assert.deepEqual([failure.actor, failure.actorName, failure.outcome], ['anonymous', ADMIN.email, 'failure']);
  assert.match(failure.address ?? '', /127\.0\.0\.1/);
  const logins = entries.filter((e) => e.action === 'auth.login');
  assert.ok(logins.some((e) => e.actorName === ADMIN.email && e.outcome === 'success'));
  assert.ok(logins.some((e) => e.actorName === 'operator@test.local'));
});

test('regression: no audit trail — changes through the API are recorded with who, what and the target', async () => {
  assert.equal((await operator.request('POST', `/api/devices/${device.id}/attributes/shared`, { setpoint: 21 })).status, 200);
  assert.equal((await operator.request('POST', '/api/devices', { name: 'sneaky' })).status, 403);
  const [write] = await audit(`targetId=${device.id}&action=${encodeURIComponent('POST /api/devices/:id/attributes/:scope')}`);
  assert.ok(write);
  assert.equal(write.outcome, 'success');
  assert.deepEqual(write.details?.body, { setpoint: 21 });
  assert.equal(write.details?.params?.scope, 'shared');
  const me = await operator.request<{ id: string }>('GET', '/api/auth/me');
  assert.equal(write.actor, me.body.id);
  const [denied] = await audit(`actor=${me.body.id}&outcome=denied`);
  assert.equal(denied?.action, 'POST /api/devices');
});

test('secrets in audited requests are redacted', async () => {
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'second@test.local', password: 'second-password-1', role: 'user' })).status, 201);
  const [created] = await audit(`action=${encodeURIComponent('POST /api/users')}`);
  assert.deepEqual(created?.details?.body, { email: 'second@test.local', password: '[redacted]', role: 'user' });
});

test('credential reads are audited and admin-only; the audit log is admin-only', async () => {
  assert.equal((await operator.request('GET', `/api/devices/${device.id}/credentials`)).status, 403);
  assert.equal((await operator.request('GET', '/api/audit')).status, 403);
  assert.equal((await tp.api.request('GET', `/api/devices/${device.id}/credentials`)).status, 200);
  const reads = await audit('action=credentials.read');
  assert.deepEqual(reads.map((e) => [e.targetId, e.outcome]), [[device.id, 'success'], [device.id, 'denied']]);
});

test('continuum audit lists the entries; an operator is refused', async () => {
  const asAdmin = await runCli(['audit', '--action', 'auth.', '--url', tp.baseUrl], { CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password });
  assert.equal(asAdmin.code, 0, asAdmin.stderr);
  assert.match(asAdmin.stdout, /^TIME +WHO +ACTION +OUTCOME +TARGET +FROM/);
  assert.match(asAdmin.stdout, /auth\.login_failed +failure/);
  const json = await runCli(['audit', '--outcome', 'denied', '--json', '--url', tp.baseUrl], { CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password });
  const page = JSON.parse(json.stdout) as { items: Entry[] };
  assert.ok(page.items.length > 0 && page.items.every((e) => e.outcome === 'denied'));
  const asOperator = await runCli(['audit', '--url', tp.baseUrl], { CONTINUUM_EMAIL: 'operator@test.local', CONTINUUM_PASSWORD: 'operator-password-1' });
  assert.notEqual(asOperator.code, 0);
  assert.match(asOperator.stderr, /FORBIDDEN|403|admin role/);
});
