/**
 * Profile display hints (`telemetryKeys[].label`, `.decimals`), which the dashboard's profile page
 * edits and the device page shows: stored and returned by POST/PUT/GET, bounds checked by the
 * schema (400), an operator refused (403, the profile unchanged), and every change audited with
 * its body.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let operator: ApiClient;

interface ProfileBody {
  id: string;
  telemetryKeys: { key: string; type: string; unit?: string; label?: string; decimals?: number }[];
}

before(async () => {
  tp = await startTestPlatform();
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'viewer@test.local', password: 'viewer-password-12', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'viewer@test.local', password: 'viewer-password-12' });
});
after(async () => {
  await tp.stop();
});

test('label and decimals are stored with a key, returned by every read, and replaced by PUT', async () => {
  const keys = [{ key: 't_air', type: 'number', unit: '°C', label: 'Air temperature', decimals: 1 }, { key: 'door', type: 'boolean' }];
  const created = await tp.api.request<ProfileBody>('POST', '/api/profiles', { name: 'cold rooms', telemetryKeys: keys });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.telemetryKeys, keys);
  assert.deepEqual((await tp.api.request<ProfileBody>('GET', `/api/profiles/${created.body.id}`)).body.telemetryKeys, keys);
  const listed = (await tp.api.request<{ items: ProfileBody[] }>('GET', '/api/profiles')).body.items.find((p) => p.id === created.body.id);
  assert.deepEqual(listed?.telemetryKeys, keys);
  const next = [{ key: 't_air', type: 'number', unit: '°C', decimals: 0 }];
  const put = await tp.api.request<ProfileBody>('PUT', `/api/profiles/${created.body.id}`, { telemetryKeys: next });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body.telemetryKeys, next, 'a label not sent is gone: PUT replaces the keys');
});

test('out-of-bounds hints are refused with 400 and change nothing', async () => {
  const p = (await tp.api.request<ProfileBody>('POST', '/api/profiles', { name: 'bounds', telemetryKeys: [{ key: 'x', type: 'number' }] })).body;
  for (const bad of [{ decimals: 7 }, { decimals: -1 }, { decimals: 1.5 }, { label: '' }, { label: 'x'.repeat(65) }]) {
    const res = await tp.api.request('PUT', `/api/profiles/${p.id}`, { telemetryKeys: [{ key: 'x', type: 'number', ...bad }] });
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
  assert.deepEqual((await tp.api.request<ProfileBody>('GET', `/api/profiles/${p.id}`)).body.telemetryKeys, [{ key: 'x', type: 'number' }]);
});

test('an operator may not change hints (403 FORBIDDEN); the admin change is audited with its body', async () => {
  const p = (await tp.api.request<ProfileBody>('POST', '/api/profiles', { name: 'audited', telemetryKeys: [{ key: 'x', type: 'number' }] })).body;
  const denied = await operator.request<{ error: string }>('PUT', `/api/profiles/${p.id}`, { telemetryKeys: [{ key: 'x', type: 'number', label: 'Sneaky' }] });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error, 'FORBIDDEN');
  assert.equal((await operator.request<ProfileBody>('GET', `/api/profiles/${p.id}`)).body.telemetryKeys[0]?.label, undefined, 'operators read, unchanged');
  const body = { telemetryKeys: [{ key: 'x', type: 'number', label: 'Flow', decimals: 2 }] };
  assert.equal((await tp.api.request('PUT', `/api/profiles/${p.id}`, body)).status, 200);
  const entries = (await tp.api.request<{ items: { outcome: string; details?: { body?: unknown } }[] }>('GET', `/api/audit?targetId=${p.id}&action=${encodeURIComponent('PUT /api/profiles/:id')}`)).body.items;
  assert.deepEqual(entries.filter((e) => e.outcome === 'success').map((e) => e.details?.body), [body]);
  assert.ok(entries.some((e) => e.outcome === 'denied'), 'the operator attempt is recorded as denied');
});

test('retentionDays (issue 18): stored, returned, cleared with null, bounded by the schema', async () => {
  const created = await tp.api.request<{ id: string; retentionDays: number | null }>('POST', '/api/profiles', { name: 'kept a month', retentionDays: 30 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.retentionDays, 30);
  assert.equal((await tp.api.request<{ retentionDays: number | null }>('GET', `/api/profiles/${created.body.id}`)).body.retentionDays, 30);
  const renamed = await tp.api.request<{ retentionDays: number | null }>('PUT', `/api/profiles/${created.body.id}`, { name: 'kept a month too' });
  assert.equal(renamed.body.retentionDays, 30, 'a PUT without the field keeps it');
  const cleared = await tp.api.request<{ retentionDays: number | null }>('PUT', `/api/profiles/${created.body.id}`, { retentionDays: null });
  assert.equal(cleared.body.retentionDays, null);
  assert.equal((await tp.api.request<{ retentionDays: number | null }>('PUT', `/api/profiles/${created.body.id}`, { retentionDays: 7 })).body.retentionDays, 7);
  assert.equal((await tp.api.request<{ retentionDays: number | null }>('PUT', `/api/profiles/${created.body.id}`, { retentionDays: 0 })).body.retentionDays, null, '0 is "for ever" too');
  for (const bad of [-1, 1.5, 40_000, 'seven']) {
    assert.equal((await tp.api.request('PUT', `/api/profiles/${created.body.id}`, { retentionDays: bad })).status, 400, String(bad));
  }
  assert.equal((await operator.request('PUT', `/api/profiles/${created.body.id}`, { retentionDays: 1 })).status, 403);
  assert.equal((await tp.api.request<{ retentionDays: number | null }>('GET', `/api/profiles/${created.body.id}`)).body.retentionDays, null);
});
