/** Dashboards and profile command controls over REST: the contract the pack installer and the composer use. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './helpers.js';

const OTHER_TENANT = '00000000-0000-4000-8000-0000000000ff';

describe('management API: dashboards', () => {
  let api: TestApi;
  let pumpId: string;
  let foreignId: string;
  let otherToken: string;

  before(async () => {
    api = await startTestApi();
    pumpId = (await api.call('POST', '/api/devices', { name: 'pump-1' })).body.id;
    await api.store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
    const other = await api.registry.createDevice({ tenantId: OTHER_TENANT, name: 'theirs' });
    foreignId = other.device.id;
    // An admin of the other tenant: what stops it is the tenant boundary, not its role.
    await api.auth.createUser({ email: 'other@example.com', password: 'another long password', tenantId: OTHER_TENANT, role: 'admin' });
    otherToken = (await api.auth.login('other@example.com', 'another long password')).token;
  });
  after(() => api.close());

  const widgets = () => [
    { type: 'value', title: 'Flow', deviceId: pumpId, keys: ['flow'], unit: 'm³/h', x: 0, y: 0, w: 3, h: 2 },
    { type: 'control', title: 'Pump', deviceId: pumpId, control: { kind: 'toggle', method: 'setPump', stateKey: 'pump' }, x: 3, y: 0, w: 3, h: 2 },
    { type: 'alarms', title: 'Alarms', x: 6, y: 0, w: 6, h: 4 },
  ];

  it('creates a dashboard, assigning widget ids, and reads it back, lists, replaces and deletes it', async () => {
    const created = await api.call('POST', '/api/dashboards', { name: 'Pump house', description: 'North field', widgets: widgets() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const d = created.body;
    assert.equal(d.name, 'Pump house');
    assert.equal(d.widgets.length, 3);
    assert.ok(d.widgets.every((w: { id: string }) => typeof w.id === 'string' && w.id.length > 0));
    assert.equal(new Set(d.widgets.map((w: { id: string }) => w.id)).size, 3);
    assert.equal(d.tenantId, undefined, 'the tenant is implied');

    assert.deepEqual((await api.call('GET', `/api/dashboards/${d.id}`)).body, d);
    assert.deepEqual((await api.call('GET', '/api/dashboards')).body.items.map((x: { id: string }) => x.id), [d.id]);

    api.clock.set(api.clock.now() + 60_000);
    const kept = d.widgets[0];
    const put = await api.call('PUT', `/api/dashboards/${d.id}`, { name: 'Pump house', widgets: [{ ...kept, x: 6, w: 6 }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.widgets[0].id, kept.id, 'a widget id sent back is kept');
    assert.equal(put.body.widgets[0].x, 6);
    assert.equal(put.body.createdAt, d.createdAt);
    assert.ok(put.body.updatedAt > d.updatedAt);
    assert.equal(put.body.description, undefined);

    assert.equal((await api.call('DELETE', `/api/dashboards/${d.id}`)).status, 204);
    const gone = await api.call('GET', `/api/dashboards/${d.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'NOT_FOUND');
  });

  it('rejects widgets off the 12-column grid, unknown types and control widgets without a control', async () => {
    const cases: [string, object][] = [
      ['x + w past 12 columns', { ...widgets()[0], x: 10, w: 3 }],
      ['zero width', { ...widgets()[0], w: 0 }],
      ['unknown type', { ...widgets()[0], type: 'pie' }],
      ['control widget without control', { ...widgets()[1], control: undefined }],
      ['slider with min above max', { ...widgets()[1], control: { kind: 'slider', method: 'setSpeed', min: 10, max: 5 } }],
      ['keys that are not strings', { ...widgets()[0], keys: [{ k: 1 }] }],
    ];
    for (const [what, widget] of cases) {
      const res = await api.call('POST', '/api/dashboards', { name: 'Bad', widgets: [widget] });
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await api.call('GET', '/api/dashboards')).body.items.length, 0, 'nothing was saved');
  });

  it('accepts the table, bar and state timeline widgets, each bound to a device (400 without one)', async () => {
    const more = [
      { type: 'table', title: 'All values', deviceId: pumpId, x: 0, y: 0, w: 4, h: 3 },
      { type: 'bar', title: 'Levels', deviceId: pumpId, keys: ['flow', 'pressure'], min: 0, max: 50, unit: 'bar', x: 4, y: 0, w: 4, h: 3 },
      { type: 'timeline', title: 'Pump state', deviceId: pumpId, keys: ['pump'], range: '24h', x: 8, y: 0, w: 4, h: 2 },
    ];
    const created = await api.call('POST', '/api/dashboards', { name: 'More widgets', widgets: more });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.widgets.map((w: { type: string }) => w.type), ['table', 'bar', 'timeline']);
    for (const w of more) {
      const { deviceId: _omit, ...noDevice } = w;
      const res = await api.call('POST', '/api/dashboards', { name: 'No device', widgets: [noDevice] });
      assert.equal(res.status, 400, `${w.type} without a device: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /deviceId is required/);
    }
    assert.equal((await api.call('DELETE', `/api/dashboards/${created.body.id}`)).status, 204);
  });

  it("answers DEVICE_NOT_FOUND for another tenant's device or a missing one", async () => {
    for (const deviceId of [foreignId, 'no-such-device']) {
      const res = await api.call('POST', '/api/dashboards', { name: 'Sneaky', widgets: [{ ...widgets()[0], deviceId }] });
      assert.equal(res.status, 404);
      assert.equal(res.body.error, 'DEVICE_NOT_FOUND');
    }
  });

  it("keeps tenants apart: another tenant neither lists nor reads nor changes a dashboard", async () => {
    const d = (await api.call('POST', '/api/dashboards', { name: 'Mine', widgets: [] })).body;
    const as = { authorization: `Bearer ${otherToken}` };
    assert.deepEqual((await api.call('GET', '/api/dashboards', undefined, as)).body.items, []);
    assert.equal((await api.call('GET', `/api/dashboards/${d.id}`, undefined, as)).status, 404);
    assert.equal((await api.call('PUT', `/api/dashboards/${d.id}`, { name: 'Theirs', widgets: [] }, as)).status, 404);
    assert.equal((await api.call('DELETE', `/api/dashboards/${d.id}`, undefined, as)).status, 404);
    assert.equal((await api.call('GET', `/api/dashboards/${d.id}`)).body.name, 'Mine');
  });
});

describe('management API: profile command controls', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  const controls = [
    { label: 'Pump', kind: 'toggle', method: 'setPump', stateKey: 'pump' },
    { label: 'Speed', kind: 'slider', method: 'setSpeed', min: 0, max: 3000, step: 50, stateKey: 'rpm' },
  ];

  it('stores controls given at creation and returns them in the profile view; none is an empty list', async () => {
    const created = await api.call('POST', '/api/profiles', { name: 'Pumps', controls });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.controls, controls);
    assert.deepEqual((await api.call('GET', `/api/profiles/${created.body.id}`)).body.controls, controls);
    const plain = await api.call('POST', '/api/profiles', { name: 'Plain' });
    assert.deepEqual(plain.body.controls, []);
  });

  it('PUT /profiles/:id replaces controls and keeps what it is not given', async () => {
    const p = (await api.call('POST', '/api/profiles', { name: 'Valves', telemetryKeys: [{ key: 'open', type: 'boolean' }] })).body;
    const put = await api.call('PUT', `/api/profiles/${p.id}`, { controls: [{ label: 'Open', kind: 'button', method: 'open', params: { percent: 100 } }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.controls, [{ label: 'Open', kind: 'button', method: 'open', params: { percent: 100 } }]);
    assert.deepEqual(put.body.telemetryKeys, [{ key: 'open', type: 'boolean' }]);
    assert.equal(put.body.name, 'Valves');
    const device = (await api.call('POST', '/api/devices', { name: 'valve-1', profileId: p.id })).body;
    const viaDevice = (await api.call('GET', `/api/devices/${device.id}`)).body;
    assert.equal((await api.call('GET', `/api/profiles/${viaDevice.profileId}`)).body.controls[0].method, 'open');
  });

  it('rejects a bad control with 400 and an unknown profile with PROFILE_NOT_FOUND', async () => {
    const p = (await api.call('POST', '/api/profiles', { name: 'Fans' })).body;
    const bad = await api.call('PUT', `/api/profiles/${p.id}`, { controls: [{ label: 'Speed', kind: 'slider', method: 'setSpeed', min: 5, max: 5 }] });
    assert.equal(bad.status, 400);
    const noKind = await api.call('POST', '/api/profiles', { name: 'Fans 2', controls: [{ label: 'x', kind: 'knob', method: 'm' }] });
    assert.equal(noKind.status, 400);
    const missing = await api.call('PUT', '/api/profiles/nope', { controls: [] });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'PROFILE_NOT_FOUND');
  });
});
