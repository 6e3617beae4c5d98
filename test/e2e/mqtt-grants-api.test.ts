/**
 * Issue 15: the grants REST API — tenant admins only (operators get 403, reads included), another
 * tenant's grant answers 404, templates are validated with the position of the fault, changes are audited.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runCli } from '../support/cli.js';
import { ADMIN, apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let operator: ApiClient;
let deviceId: string;

before(async () => {
  tp = await startTestPlatform({ store: 'memory' });
  deviceId = (await tp.api.createDevice('light-1')).id;
  const op = { email: 'op@test.local', password: 'operator-password-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...op, role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, op);
});

after(() => tp.stop());

describe('issue 15: grants API', () => {
  it('creates, lists, reads and deletes a grant; each change is in the audit log', async () => {
    const created = await tp.api.request<{ id: string; subject: unknown; actions: string[]; topic: string }>('POST', '/api/grants', {
      subject: { deviceId },
      actions: ['subscribe', 'publish'],
      topic: 'devices/${device.name}-peer/#',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.subject, { deviceId });
    const list = await tp.api.request<{ items: { id: string }[] }>('GET', '/api/grants');
    assert.deepEqual(list.body.items.map((g) => g.id), [created.body.id]);
    assert.equal((await tp.api.request('GET', `/api/grants/${created.body.id}`)).status, 200);
    assert.equal((await tp.api.request('DELETE', `/api/grants/${created.body.id}`)).status, 204);
    assert.equal((await tp.api.request('DELETE', `/api/grants/${created.body.id}`)).status, 404);
    const audit = await tp.api.request<{ items: { action: string; outcome: string }[] }>('GET', '/api/audit?limit=50');
    const actions = audit.body.items.map((e) => `${e.action} ${e.outcome}`);
    assert.ok(actions.includes('POST /api/grants success'), actions.join('\n'));
    assert.ok(actions.includes('DELETE /api/grants/:id success'), actions.join('\n'));
  });

  it('refuses bad templates and subjects with the reason (and the position)', async () => {
    const bad = async (body: unknown, pattern: RegExp) => {
      const res = await tp.api.request<{ message?: string; error?: string }>('POST', '/api/grants', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(JSON.stringify(res.body), pattern);
    };
    await bad({ subject: { all: true }, actions: ['subscribe'], topic: 'devices/${device.nme}/x' }, /unknown variable.*position 8/);
    await bad({ subject: { all: true }, actions: ['subscribe'], topic: 'devices/a#/x' }, /position 9/);
    await bad({ subject: { all: true }, actions: ['subscribe'], topic: '$SYS/#' }, /reserved/);
    await bad({ subject: { all: true, group: 'g' }, actions: ['subscribe'], topic: 'x' }, /exactly one/);
    await bad({ subject: { all: true }, actions: [], topic: 'x' }, /actions/);
    await bad({ subject: { all: true }, actions: ['read'], topic: 'x' }, /actions/);
  });

  it('operators get 403 on every grant route; another tenant\'s grant or device answers 404', async () => {
    const own = await tp.api.request<{ id: string }>('POST', '/api/grants', { subject: { all: true }, actions: ['subscribe'], topic: 'x/#' });
    assert.equal((await operator.request('GET', '/api/grants')).status, 403);
    assert.equal((await operator.request('GET', `/api/grants/${own.body.id}`)).status, 403);
    assert.equal((await operator.request('POST', '/api/grants', { subject: { all: true }, actions: ['subscribe'], topic: 'y/#' })).status, 403);
    assert.equal((await operator.request('DELETE', `/api/grants/${own.body.id}`)).status, 403);

    const other = randomUUID();
    await tp.platform.store.ensureTenant({ id: other, name: 'other' });
    const foreignDevice = await tp.platform.registry.createDevice({ tenantId: other, name: 'foreign' });
    const foreign = await tp.platform.mqttGrants.create(other, { subject: { all: true }, actions: ['subscribe'], topic: 'z/#' });
    assert.equal((await tp.api.request('GET', `/api/grants/${foreign.id}`)).status, 404);
    assert.equal((await tp.api.request('DELETE', `/api/grants/${foreign.id}`)).status, 404);
    const list = await tp.api.request<{ items: { id: string }[] }>('GET', '/api/grants');
    assert.ok(!list.body.items.some((g) => g.id === foreign.id));
    const res = await tp.api.request('POST', '/api/grants', { subject: { deviceId: foreignDevice.device.id }, actions: ['subscribe'], topic: 'z/#' });
    assert.equal(res.status, 404);
  });

  it('the CLI adds, lists and deletes grants (continuum grant)', async () => {
    const conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
    const added = await runCli(['grant', 'add', '--device', 'light-1', '--actions', 'subscribe,publish', '--topic', 'devices/switch-9/#', ...conn]);
    assert.equal(added.code, 0, added.stderr);
    const id = /created grant (\S+)/.exec(added.stdout)?.[1] as string;
    const listed = await runCli(['grant', 'list', ...conn]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+device ${deviceId}\\s+subscribe,publish\\s+devices/switch-9/#`));
    const refused = await runCli(['grant', 'add', '--all', '--actions', 'subscribe', '--topic', 'a/${device.bogus}', ...conn]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unknown variable.*position 2/);
    assert.equal((await runCli(['grant', 'delete', id, ...conn])).code, 0);
    assert.doesNotMatch((await runCli(['grant', 'list', ...conn])).stdout, new RegExp(id));
  });
});
