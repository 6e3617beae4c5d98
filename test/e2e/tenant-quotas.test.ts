/**
 * Tenant quotas end to end (issue 15): each quota over every transport that reaches it, with a
 * frozen clock (the rate bucket never refills during the test: no timing). Accepted messages
 * are stored (acked == stored), another tenant is not affected, the metric counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { startTestPlatform, connectMqtt, metricsText, apiClient, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;
const clock = { t: Date.now(), now: () => clock.t };

before(async () => {
  tp = await startTestPlatform({ clock });
  await tp.platform.store.ensureTenant({ id: 'tenant-b', name: 'B' });
});
after(async () => {
  await tp.stop();
});

async function rejections(tenant: string, quota: string): Promise<number> {
  const text = await metricsText(tp.baseUrl);
  const line = text.split('\n').find((l) => l.startsWith('continuum_quota_rejections_total{') && l.includes(`tenant="${tenant}"`) && l.includes(`quota="${quota}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function setQuotas(tenant: string, body: Record<string, number | null>): Promise<void> {
  const res = await tp.api.request('PUT', `/api/tenants/${tenant}/quotas`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function stored(deviceId: string, key: string): Promise<number> {
  const res = await tp.api.request<Record<string, unknown[]>>('GET', `/api/devices/${deviceId}/telemetry?keys=${key}&startTs=0&endTs=${clock.t + 86_400_000}&limit=1000`);
  return res.body[key]?.length ?? 0;
}

function pubackCode(client: mqtt.MqttClient, payload: string): Promise<number> {
  return new Promise((resolve) => {
    client.publish('v1/devices/me/telemetry', payload, { qos: 1 }, (err, packet) => {
      resolve((err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

test('messages/s over MQTT 5, MQTT 3.1.1, HTTP and CoAP; acked == stored; tenant B unaffected; metric counts', async () => {
  const a = await tp.api.createDevice('rate-a');
  const b = await tp.platform.registry.createDevice({ tenantId: 'tenant-b', name: 'rate-b' });
  await setQuotas(DEFAULT_TENANT_ID, { maxMessagesPerSecond: 3 });
  const before = await rejections(DEFAULT_TENANT_ID, 'messagesPerSecond');

  const v5 = await connectMqtt(tp.ports.mqtt, { username: a.accessToken, protocolVersion: 5 });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push(await pubackCode(v5, JSON.stringify({ ts: clock.t - 1000 + i, values: { n: i } })));
  assert.deepEqual(codes, [0, 0, 0, 0x97, 0x97], 'three accepted, then PUBACK 0x97 (Quota exceeded)');
  await v5.endAsync();
  assert.equal(await stored(a.id, 'n'), 3, 'every acknowledged message is stored, no other');

  // HTTP: 429 with the error body and Retry-After
  const res = await fetch(`${tp.baseUrl}/api/v1/${a.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"h":1}' });
  assert.equal(res.status, 429);
  assert.equal(((await res.json()) as { error: string }).error, 'TENANT_RATE_LIMITED');
  assert.ok(res.headers.get('retry-after'));

  // CoAP: 4.29
  const coap = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', '{"c":1}', `coap://127.0.0.1:${tp.ports.coap}/api/v1/${a.accessToken}/telemetry`]).catch((e: { stdout?: string; stderr?: string }) => e);
  assert.match(`${coap.stdout ?? ''}${coap.stderr ?? ''}`, /4\.29/);

  // MQTT 3.1.1: no negative PUBACK; the refused message is never acknowledged: the connection closes
  const v4 = await connectMqtt(tp.ports.mqtt, { username: a.accessToken, protocolVersion: 4 });
  const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
  let acked = false;
  v4.publish('v1/devices/me/telemetry', '{"m4":1}', { qos: 1 }, (err) => {
    if (!err) acked = true;
  });
  await closed;
  v4.end(true);
  assert.equal(acked, false);
  assert.equal(await stored(a.id, 'm4'), 0);

  // Tenant B has no quota: all its messages pass.
  const vb = await connectMqtt(tp.ports.mqtt, { username: b.accessToken ?? '', protocolVersion: 5 });
  for (let i = 0; i < 6; i++) assert.equal(await pubackCode(vb, JSON.stringify({ ts: clock.t - 1000 + i, values: { nb: i } })), 0);
  await vb.endAsync();
  // (tenant B's device is not visible through the default tenant's API: read the store)
  assert.equal((await tp.platform.store.queryRaw({ deviceId: b.device.id, keys: ['nb'], from: 0, to: clock.t + 1, limit: 100, order: 'asc' }))['nb']?.length, 6);

  assert.equal(await rejections(DEFAULT_TENANT_ID, 'messagesPerSecond'), before + 5, 'MQTT 5 ×2, HTTP, CoAP, MQTT 3.1.1');
  await setQuotas(DEFAULT_TENANT_ID, { maxMessagesPerSecond: null });
});

test('points/day: refused with 403 / 4.03 / 0x97 once reached; acked == stored', async () => {
  const a = await tp.api.createDevice('points-a');
  await setQuotas(DEFAULT_TENANT_ID, { maxPointsPerDay: (await tp.api.request<{ usage: { pointsToday: number } }>('GET', '/api/quotas')).body.usage.pointsToday + 4 });
  const v5 = await connectMqtt(tp.ports.mqtt, { username: a.accessToken, protocolVersion: 5 });
  assert.equal(await pubackCode(v5, JSON.stringify({ ts: clock.t - 10, values: { p: 1, q: 2, r: 3 } })), 0);
  assert.equal(await pubackCode(v5, JSON.stringify({ ts: clock.t - 9, values: { p: 4, q: 5 } })), 0);
  assert.equal(await pubackCode(v5, JSON.stringify({ ts: clock.t - 8, values: { p: 6 } })), 0x97);
  await v5.endAsync();
  assert.equal(await stored(a.id, 'p'), 2);
  const res = await fetch(`${tp.baseUrl}/api/v1/${a.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"p":7}' });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: string }).error, 'TENANT_QUOTA_EXCEEDED');
  const coap = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', '{"p":8}', `coap://127.0.0.1:${tp.ports.coap}/api/v1/${a.accessToken}/telemetry`]).catch((e: { stdout?: string; stderr?: string }) => e);
  assert.match(`${coap.stdout ?? ''}${coap.stderr ?? ''}`, /4\.03/);
  const view = await tp.api.request<{ usage: { pointsToday: number }; limits: { maxPointsPerDay: number } }>('GET', '/api/quotas');
  assert.ok(view.body.usage.pointsToday >= view.body.limits.maxPointsPerDay);
  assert.ok((await rejections(DEFAULT_TENANT_ID, 'pointsPerDay')) >= 3);
  await setQuotas(DEFAULT_TENANT_ID, { maxPointsPerDay: null });
});

test('devices (REST, CSV import, gateway children) and rules at create', async () => {
  const have = (await tp.api.request<{ usage: { devices: number; rules: number } }>('GET', '/api/quotas')).body.usage;
  await setQuotas(DEFAULT_TENANT_ID, { maxDevices: have.devices + 1, maxRules: have.rules });
  const gw = await tp.api.createDevice('quota-gw', { gateway: true }); // the last one that fits
  const refused = await tp.api.request<{ error: string }>('POST', '/api/devices', { name: 'one-too-many' });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'TENANT_QUOTA_EXCEEDED');
  // a gateway child created on first sight is refused too (MQTT 5: 0x97), nothing stored
  const client = await connectMqtt(tp.ports.mqtt, { username: gw.accessToken, protocolVersion: 5 });
  const code = await new Promise<number>((resolve) => client.publish('v1/gateway/telemetry', JSON.stringify({ 'child-1': [{ t: 1 }] }), { qos: 1 }, (err, p) => resolve((err as { code?: number } | undefined)?.code ?? (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0)));
  assert.equal(code, 0x97);
  await client.endAsync();
  const rule = await tp.api.request<{ error: string }>('POST', '/api/rules', { name: 'r', condition: 'true', actions: [] });
  assert.equal(rule.status, 403, JSON.stringify(rule.body));
  assert.equal(rule.body.error, 'TENANT_QUOTA_EXCEEDED');
  await setQuotas(DEFAULT_TENANT_ID, { maxDevices: null, maxRules: null });
});

test('authorization: operators may not read or set tenant quotas; an unknown tenant is 404; bad limits 400', async () => {
  const created = await tp.api.request('POST', '/api/users', { email: 'op@test.local', password: 'operator-password-1', role: 'user' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const op = await apiClient(tp.baseUrl, { email: 'op@test.local', password: 'operator-password-1' });
  assert.equal((await op.request('GET', '/api/quotas')).status, 200, 'everyone sees its own tenant usage');
  assert.equal((await op.request('GET', `/api/tenants/${DEFAULT_TENANT_ID}/quotas`)).status, 403);
  assert.equal((await op.request('PUT', `/api/tenants/${DEFAULT_TENANT_ID}/quotas`, { maxDevices: 1 })).status, 403);
  // the first admin (system administrator) reads and sets any tenant; an unknown one is 404
  assert.equal((await tp.api.request('GET', '/api/tenants/tenant-b/quotas')).status, 200);
  assert.equal((await tp.api.request('GET', '/api/tenants/no-such/quotas')).status, 404);
  assert.equal((await tp.api.request('PUT', '/api/tenants/tenant-b/quotas', { maxDevices: -1 })).status, 400);
});
