import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startTestApi, type TestApi } from './helpers.js';

describe('management API: auth and devices', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  it('logs in and rejects bad passwords', async () => {
    const ok = await api.call('POST', '/api/auth/login', ADMIN, { authorization: '' });
    assert.equal(ok.status, 200);
    assert.match(ok.body.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const bad = await api.call('POST', '/api/auth/login', { ...ADMIN, password: 'nope' }, { authorization: '' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'UNAUTHORIZED');
  });

  it('answers 401 JSON without a token or with a bad one', async () => {
    for (const authorization of ['', 'Bearer nope', 'Basic YTpi']) {
      const res = await api.call('GET', '/api/devices', undefined, { authorization });
      assert.equal(res.status, 401, authorization);
      assert.equal(res.body.error, 'UNAUTHORIZED');
      assert.equal(typeof res.body.message, 'string');
    }
    const res = await fetch(`${api.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
  });

  it('creates API keys that authenticate, and tells who is calling', async () => {
    const created = await api.call('POST', '/api/auth/api-keys', { name: 'ci' });
    assert.equal(created.status, 201);
    const me = await api.call('GET', '/api/auth/me', undefined, { authorization: '', 'x-api-key': created.body.key });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, ADMIN.email);
    assert.equal(me.body.role, 'sysadmin');
  });

  it('creates, reads, updates and deletes a device', async () => {
    const created = await api.call('POST', '/api/devices', { name: 'boiler', label: 'Basement', gateway: true });
    assert.equal(created.status, 201);
    const d = created.body;
    assert.equal(d.name, 'boiler');
    assert.equal(d.label, 'Basement');
    assert.equal(d.gateway, true);
    assert.match(d.accessToken, /^[0-9A-Za-z]{20}$/);
    assert.equal(typeof d.createdAt, 'number');
    assert.deepEqual(d.credentials, [{ type: 'ACCESS_TOKEN', hint: `${String(d.accessToken).slice(0, 4)}…`, token: d.accessToken }]);

    api.statuses.statuses.set(d.id, { deviceId: d.id, online: true, lastActivity: 123, transport: 'mqtt' });
    const got = await api.call('GET', `/api/devices/${d.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(
      { online: got.body.online, lastActivity: got.body.lastActivity, transport: got.body.transport },
      { online: true, lastActivity: 123, transport: 'mqtt' },
    );
    assert.equal(got.body.accessToken, undefined);

    const status = await api.call('GET', `/api/devices/${d.id}/status`);
    assert.deepEqual(status.body, { deviceId: d.id, online: true, lastActivity: 123, lastConnect: null, lastDisconnect: null, transport: 'mqtt', offlineReason: null });

    const patched = await api.call('PATCH', `/api/devices/${d.id}`, { name: 'boiler-2', label: null });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'boiler-2');
    assert.equal(patched.body.label, null);

    const dup = await api.call('POST', '/api/devices', { name: 'boiler-2' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error, 'DEVICE_NAME_TAKEN');

    assert.equal((await api.call('DELETE', `/api/devices/${d.id}`)).status, 204);
    const gone = await api.call('GET', `/api/devices/${d.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'DEVICE_NOT_FOUND');
  });

  it('validates bodies with the failing path', async () => {
    const res = await api.call('POST', '/api/devices', { name: 'x'.repeat(256) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'BAD_REQUEST');
    assert.equal(res.body.path, 'body.name');
    const extra = await api.call('POST', '/api/devices', { name: 'ok', colour: 'red' });
    assert.equal(extra.status, 400);
    const badJson = await api.call('POST', '/api/devices', '{"name":', { 'content-type': 'application/json' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error, 'BAD_REQUEST');
  });

  it('searches and pages', async () => {
    for (let i = 0; i < 25; i++) {
      const res = await api.call('POST', '/api/devices', { name: `meter-${String(i).padStart(2, '0')}`, label: i % 2 ? 'odd' : 'even' });
      assert.equal(res.status, 201);
    }
    const page = await api.call('GET', '/api/devices?search=METER&limit=10&offset=20');
    assert.equal(page.status, 200);
    assert.equal(page.body.total, 25);
    assert.deepEqual(
      page.body.items.map((d: { name: string }) => d.name),
      ['meter-20', 'meter-21', 'meter-22', 'meter-23', 'meter-24'],
    );
    const item = page.body.items[0];
    assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'gateway', 'gatewayId', 'id', 'label', 'lastActivity', 'name', 'offlineReason', 'online', 'profileId', 'transport']);
    const odd = await api.call('GET', '/api/devices?search=odd&limit=100');
    assert.equal(odd.body.total, 12);
    assert.equal((await api.call('GET', '/api/devices?limit=0')).status, 400);
  });

  it('shows and sets credentials without leaking password hashes', async () => {
    const d = (await api.call('POST', '/api/devices', { name: 'creds', credentials: { type: 'MQTT_BASIC', clientId: 'c', username: 'u', password: 'password1' } })).body;
    assert.equal(d.accessToken, null);
    const creds = await api.call('GET', `/api/devices/${d.id}/credentials`);
    assert.deepEqual(creds.body, [{ type: 'MQTT_BASIC', clientId: 'c', username: 'u', hasPassword: true }]);
    const set = await api.call('PUT', `/api/devices/${d.id}/credentials`, { type: 'ACCESS_TOKEN' });
    assert.equal(set.status, 200);
    assert.match(set.body.token, /^[0-9A-Za-z]{20}$/);
    assert.equal((await api.registry.authenticate({ token: set.body.token })).deviceId, d.id);
    const taken = await api.call('PUT', `/api/devices/${d.id}/credentials`, { type: 'ACCESS_TOKEN', token: set.body.token });
    assert.equal(taken.status, 200);
    const other = (await api.call('POST', '/api/devices', { name: 'other' })).body;
    const conflict = await api.call('PUT', `/api/devices/${other.id}/credentials`, { type: 'ACCESS_TOKEN', token: set.body.token });
    assert.equal(conflict.status, 409);
  });

  it('manages profiles', async () => {
    const created = await api.call('POST', '/api/profiles', {
      name: 'thermo',
      codec: 'senml',
      telemetryKeys: [{ key: 'temp', type: 'number', unit: 'Cel' }],
      provisionKey: 'pk',
      provisionSecret: 'ps',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.codec, 'senml');
    assert.equal(created.body.provisionSecret, 'ps');
    const list = await api.call('GET', '/api/profiles');
    assert.deepEqual(list.body.items.map((p: { name: string }) => p.name).sort(), ['default', 'thermo']);
    assert.equal((await api.call('GET', `/api/profiles/${created.body.id}`)).body.name, 'thermo');
    assert.equal((await api.call('GET', '/api/profiles/nope')).status, 404);
    assert.equal((await api.call('POST', '/api/profiles', { name: 'x', codec: 'nope' })).status, 400);
    const dev = await api.call('POST', '/api/devices', { name: 'with-profile', profileId: created.body.id });
    assert.equal(dev.body.profileId, created.body.id);
  });

  it('keeps tenants apart', async () => {
    await api.store.ensureTenant({ id: 'tenant-2', name: 'Other' });
    // An admin of the other tenant: what stops it is the tenant boundary, not its role.
    await api.auth.createUser({ email: 'other@example.com', password: 'password-two-2', tenantId: 'tenant-2', role: 'admin' });
    const { token } = await api.auth.login('other@example.com', 'password-two-2');
    const as2 = { authorization: `Bearer ${token}` };
    const mine = (await api.call('POST', '/api/devices', { name: 'tenant-1-device' })).body;
    assert.equal((await api.call('GET', `/api/devices/${mine.id}`, undefined, as2)).status, 404);
    assert.equal((await api.call('DELETE', `/api/devices/${mine.id}`, undefined, as2)).status, 404);
    assert.equal((await api.call('GET', `/api/devices/${mine.id}/telemetry`, undefined, as2)).status, 404);
    assert.equal((await api.call('GET', '/api/devices', undefined, as2)).body.total, 0);
    assert.equal((await api.call('GET', `/api/devices/${mine.id}`)).status, 200);
  });
});
