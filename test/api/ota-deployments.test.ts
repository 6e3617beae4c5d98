/**
 * OTA deployments over the management API (issue 16 step 2): the request checked (target,
 * waves, unknown package, overlapping deployments), the lifecycle routes (pause: nobody more is
 * told; resume; cancel: the queued are never told; 409 where the status forbids it), a device
 * that comes back on the old version counted as failed, roles (admins write, operators read,
 * anonymous 401) and audit entries (the user's writes and the scheduler's own decisions).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { apiClient, connectMqtt, eventually, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';
import type { DeploymentBody } from '../support/ota-rollout.js';

let tp: TestPlatform;
let operator: ApiClient;
let pkgSeq = 0;

before(async () => {
  tp = await startTestPlatform({ config: { ota: { rolloutTickMs: 100 } } });
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'operator@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

async function pkg(): Promise<string> {
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@test.local', password: 'test-password-1' }) });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?title=dep-fw&version=${++pkgSeq}.0`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(randomBytes(1000)),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

async function devices(prefix: string, n: number): Promise<{ id: string; accessToken: string }[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await tp.api.createDevice(`${prefix}-${i}`));
  return out;
}

const get = async (id: string): Promise<DeploymentBody> => (await tp.api.request<DeploymentBody>('GET', `/api/ota/deployments/${id}`)).body;

describe('creating', () => {
  it('answers 201 {id}; the view has status, counts, per-wave counts; canaries make their own wave', async () => {
    const ds = await devices('dep-c', 10);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: ds.map((d) => d.id) }, canaries: 2, waves: [50, 100] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body), ['id']);
    const d = await get(res.body.id);
    assert.equal(d.status, 'running');
    assert.deepEqual(d.perWave.map((w) => w.total), [2, 4, 4]);
    assert.equal(d.counts.total, 10);
    assert.equal(d.counts.inProgress, 2, 'the canaries are told at once');
    assert.equal(d.counts.queued, 8);
    assert.equal((await tp.api.request('POST', `/api/ota/deployments/${res.body.id}/cancel`)).status, 200);
  });

  it('takes a profile as the target, or an exponential rate', async () => {
    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'dep-profile' });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    for (let i = 0; i < 7; i++) await tp.api.createDevice(`dep-p-${i}`, { profileId: profile.body.id });
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { profileId: profile.body.id }, rate: { base: 1, factor: 2 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual((await get(res.body.id)).perWave.map((w) => w.total), [1, 2, 4]);
    await tp.api.request('POST', `/api/ota/deployments/${res.body.id}/cancel`);
  });

  it('narrows the target by attributes (server, else client)', async () => {
    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'dep-attr-profile' });
    const ds = [];
    for (let i = 0; i < 4; i++) ds.push(await tp.api.createDevice(`dep-attr-${i}`, { profileId: profile.body.id }));
    for (const d of ds.slice(0, 2)) assert.equal((await tp.api.request('POST', `/api/devices/${d.id}/attributes/server`, { region: 'north', rev: 2 })).status, 200);
    assert.equal((await tp.api.request('POST', `/api/devices/${ds[2]?.id}/attributes/server`, { region: 'south', rev: 2 })).status, 200);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { profileId: profile.body.id, attributes: { region: 'north', rev: 2 } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const rows = (await tp.api.request<{ deviceId: string }[]>('GET', `/api/ota/deployments/${res.body.id}/devices`)).body;
    assert.deepEqual(rows.map((r) => r.deviceId).sort(), ds.slice(0, 2).map((d) => d.id).sort());
    const none = await tp.api.request('POST', '/api/ota/deployments', { packageId: await pkg(), target: { profileId: profile.body.id, attributes: { region: 'east' } } });
    assert.equal(none.status, 400, 'no device matches');
    await tp.api.request('POST', `/api/ota/deployments/${res.body.id}/cancel`);
  });

  it('refuses bad requests: both or no target, waves not ascending, unknown package (404), a device already in a running deployment (409)', async () => {
    const [a] = await devices('dep-bad', 1);
    const packageId = await pkg();
    const post = (body: unknown) => tp.api.request<{ error?: string }>('POST', '/api/ota/deployments', body);
    assert.equal((await post({ packageId, target: {} })).status, 400);
    assert.equal((await post({ packageId, target: { deviceIds: [a?.id], profileId: 'x' } })).status, 400);
    assert.equal((await post({ packageId, target: { deviceIds: [a?.id] }, waves: [50, 20] })).status, 400);
    assert.equal((await post({ packageId, target: { deviceIds: [a?.id] }, waves: [50], rate: { base: 1, factor: 2 } })).status, 400);
    assert.equal((await post({ packageId, target: { deviceIds: [a?.id] }, extra: 1 })).status, 400);
    assert.equal((await post({ packageId: 'nope', target: { deviceIds: [a?.id] } })).status, 404);
    assert.equal((await post({ packageId, target: { deviceIds: ['no-such-device'] } })).status, 404);
    const first = await post({ packageId, target: { deviceIds: [a?.id] } });
    assert.equal(first.status, 201);
    assert.equal((await post({ packageId, target: { deviceIds: [a?.id] } })).status, 409);
    assert.equal((await tp.api.request('GET', '/api/ota/deployments/nope')).status, 404);
  });
});

describe('lifecycle', () => {
  it('pause tells nobody more, resume goes on, cancel cancels the queued; 409 where the status forbids it', async () => {
    const ds = await devices('dep-l', 6);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: ds.map((d) => d.id) }, jitterMs: 1500 });
    const id = res.body.id;
    const paused = await tp.api.request<DeploymentBody>('POST', `/api/ota/deployments/${id}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.body.status, 'paused');
    assert.equal((await tp.api.request('POST', `/api/ota/deployments/${id}/pause`)).status, 409);
    const told = paused.body.counts.inProgress;
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal((await get(id)).counts.inProgress, told, 'nobody told while paused');
    assert.equal((await tp.api.request<DeploymentBody>('POST', `/api/ota/deployments/${id}/resume`)).body.status, 'running');
    await eventually(async () => ((await get(id)).counts.inProgress === 6 ? true : undefined), 5_000, 'all told after resume');
    const canceled = await tp.api.request<DeploymentBody>('POST', `/api/ota/deployments/${id}/cancel`);
    assert.equal(canceled.body.status, 'canceled');
    assert.equal((await tp.api.request<{ error: string }>('POST', `/api/ota/deployments/${id}/resume`)).body.error, 'DEPLOYMENT_STATE');
    assert.equal((await tp.api.request('POST', `/api/ota/deployments/${id}/cancel`)).status, 409);

    const more = await devices('dep-l2', 4);
    const second = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: more.map((d) => d.id) }, waves: [25, 100] });
    const after = await tp.api.request<DeploymentBody>('POST', `/api/ota/deployments/${second.body.id}/cancel`);
    assert.deepEqual(after.body.perWave.map((w) => w.canceled), [0, 3], 'the second wave was never told');
  });

  it('a device that reports UPDATED but comes back on the old version failed; the target version counts as updated', async () => {
    const [good, bad] = await devices('dep-v', 2);
    assert.ok(good && bad);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: [good.id, bad.id] } });
    const version = `${pkgSeq}.0`;
    for (const [d, current] of [[good, version], [bad, '0.9']] as const) {
      const c = await connectMqtt(tp.ports.mqtt, { username: d.accessToken });
      const send = (values: Record<string, string>, ts: number) => c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts, values }), { qos: 1 });
      const t = Date.now();
      await send({ fw_state: 'DOWNLOADING' }, t);
      await send({ fw_state: 'UPDATING' }, t + 1);
      await send({ fw_state: 'UPDATED', current_fw_version: current }, t + 2);
      await c.endAsync();
    }
    const done = await eventually(async () => {
      const d = await get(res.body.id);
      return d.status === 'completed' ? d : undefined;
    }, 10_000, 'completed');
    assert.equal(done.counts.updated, 1);
    assert.equal(done.counts.failed, 1);
    assert.deepEqual(Object.keys(done.failures), [`came back on version 0.9, not ${version}`]);
    const rows = (await tp.api.request<{ deviceId: string; state: string }[]>('GET', `/api/ota/deployments/${res.body.id}/devices`)).body;
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.deviceId, r.state])), { [good.id]: 'updated', [bad.id]: 'failed' });
  });

  it('a device silent past the timeout fails, and is told again while retries remain', async () => {
    const [d] = await devices('dep-t', 1);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: [d?.id] }, timeouts: { notifiedMs: 1000 }, retries: 1 });
    const done = await eventually(async () => {
      const v = await get(res.body.id);
      return v.status === 'completed' ? v : undefined;
    }, 10_000, 'completed');
    assert.deepEqual(done.failures, { 'timeout in notified': 1 });
    const [row] = (await tp.api.request<{ attempts: number }[]>('GET', `/api/ota/deployments/${res.body.id}/devices`)).body;
    assert.equal(row?.attempts, 2);
  });
});

describe('authorization and audit', () => {
  it('operators read deployments but may not create, pause, resume or cancel; anonymous callers get 401', async () => {
    const ds = await devices('dep-r', 2);
    const packageId = await pkg();
    const created = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId, target: { deviceIds: [ds[0]?.id] } });
    const id = created.body.id;
    assert.equal((await operator.request('POST', '/api/ota/deployments', { packageId, target: { deviceIds: [ds[1]?.id] } })).status, 403);
    for (const action of ['pause', 'resume', 'cancel']) assert.equal((await operator.request('POST', `/api/ota/deployments/${id}/${action}`)).status, 403, action);
    assert.equal((await operator.request('GET', '/api/ota/deployments')).status, 200);
    assert.equal((await operator.request('GET', `/api/ota/deployments/${id}`)).status, 200);
    assert.equal((await operator.request('GET', `/api/ota/deployments/${id}/devices`)).status, 200);
    for (const [method, path] of [
      ['GET', '/api/ota/deployments'],
      ['GET', `/api/ota/deployments/${id}`],
      ['GET', `/api/ota/deployments/${id}/devices`],
      ['POST', '/api/ota/deployments'],
      ['POST', `/api/ota/deployments/${id}/pause`],
      ['POST', `/api/ota/deployments/${id}/resume`],
      ['POST', `/api/ota/deployments/${id}/cancel`],
    ] as const) {
      const res = await fetch(`${tp.baseUrl}${path}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) });
      assert.equal(res.status, 401, `${method} ${path}`);
    }
    await tp.api.request('POST', `/api/ota/deployments/${id}/cancel`);
  });

  it('records the writes, and the scheduler decisions as system', async () => {
    const [d] = await devices('dep-a', 1);
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: await pkg(), target: { deviceIds: [d?.id] }, timeouts: { notifiedMs: 1000 } });
    await eventually(async () => ((await get(res.body.id)).status === 'completed' ? true : undefined), 10_000, 'completed');
    const entries = await eventually(async () => {
      const items = (await tp.api.request<{ items: { action: string; actor: string; targetId?: string }[] }>('GET', '/api/audit?limit=500')).body.items;
      return items.some((e) => e.action === 'ota.deployment_completed' && e.targetId === res.body.id) ? items : undefined;
    }, 5_000, 'audit entries');
    assert.ok(entries.some((e) => e.action === 'POST /api/ota/deployments'));
    assert.ok(entries.some((e) => e.action === 'ota.deployment_completed' && e.actor === 'system'));
  });
});
