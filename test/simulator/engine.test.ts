/**
 * The engine against a real platform: a few dozen devices over each protocol send telemetry
 * and client attributes, answer commands from the REST API (changing their model state),
 * refuse unknown ones with an error reply, and take shared attribute updates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/protocols/management-api/client.js';
import { startSimulation, type Protocol, type Simulation } from '../../src/simulator/engine.js';
import { provisionDevices, type ProvisionedDevice } from '../../src/simulator/provision.js';
import { ADMIN, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { memoryLog, thermostat } from './support.js';

let tp: TestPlatform;
let sim: Simulation;
const byProto = new Map<Protocol, ProvisionedDevice[]>();
const mem = memoryLog();
const PER_PROTOCOL = 20;

async function adminApi(): Promise<ApiClient> {
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  return new ApiClient(tp.baseUrl, { authorization: `Bearer ${token}` });
}

before(async () => {
  tp = await startTestPlatform();
  const api = await adminApi();
  const groups = (['mqtt', 'coap', 'http'] as const).map((p) => ({ prefix: `sim-${p}`, count: PER_PROTOCOL }));
  const result = await provisionDevices(api, groups);
  assert.equal(result.created, 3 * PER_PROTOCOL);
  for (const p of ['mqtt', 'coap', 'http'] as const) byProto.set(p, result.devices.filter((d) => d.prefix === `sim-${p}`));
  sim = startSimulation({
    devices: result.devices.map((d) => ({ name: d.name, token: d.token, model: thermostat, protocol: d.prefix.slice(4) as Protocol, intervalS: 0.5, index: d.index })),
    endpoints: { mqtt: { host: '127.0.0.1', port: tp.ports.mqtt }, coap: { host: '127.0.0.1', port: tp.ports.coap }, http: tp.baseUrl },
    log: mem.log,
  });
});

after(async () => {
  await sim?.stop();
  await tp?.stop();
});

async function deviceId(name: string): Promise<string> {
  const res = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${name}`);
  const d = res.body.items.find((x) => x.name === name);
  assert.ok(d, `device ${name}`);
  return d.id;
}

test('every device connects and its telemetry is acknowledged', async () => {
  await eventually(async () => (sim.stats().connected === 3 * PER_PROTOCOL ? true : undefined), 20_000, 'all devices connected');
  await eventually(async () => (sim.stats().acked >= 6 * PER_PROTOCOL ? true : undefined), 20_000, 'acked messages');
  const s = sim.stats();
  assert.equal(s.errors, 0, mem.lines.join('\n'));
});

for (const protocol of ['mqtt', 'coap', 'http'] as const) {
  test(`${protocol}: telemetry and client attributes are stored`, async () => {
    const dev = byProto.get(protocol)![3]!;
    const id = await deviceId(dev.name);
    const latest = await eventually(async () => {
      const res = await tp.api.request<Record<string, { value: unknown; ts: number }>>('GET', `/api/devices/${id}/telemetry/latest`);
      return res.body.temperature ? res.body : undefined;
    }, 10_000, 'telemetry');
    assert.equal(typeof latest.temperature?.value, 'number');
    assert.ok(Math.abs(latest.temperature!.ts - Date.now()) < 60_000, 'wall-clock timestamp');
    const attrs = await eventually(async () => {
      const res = await tp.api.request<{ client?: Record<string, { value: unknown }> }>('GET', `/api/devices/${id}/attributes?scope=client`);
      return res.body.client?.model ? res.body.client : undefined;
    }, 10_000, 'client attributes');
    assert.equal(attrs.model?.value, 'sim-thermostat');
    assert.equal(attrs.index?.value, 3);
  });

  test(`${protocol}: a command changes the model state; an unknown one fails`, async () => {
    const dev = byProto.get(protocol)![5]!;
    const id = await deviceId(dev.name);
    const rpc = await tp.api.request<{ response: unknown }>('POST', `/api/devices/${id}/rpc`, { method: 'setHeating', params: { on: true }, timeoutMs: 10_000 });
    assert.equal(rpc.status, 200, JSON.stringify(rpc.body));
    assert.deepEqual(rpc.body.response, { heating: true });
    await eventually(async () => {
      const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${id}/telemetry/latest`);
      return res.body.heating?.value === true ? true : undefined;
    }, 10_000, 'heating reported as telemetry');
    const bad = await tp.api.request<{ status: string; error?: string }>('POST', `/api/devices/${id}/commands`, { method: 'selfDestruct', timeoutMs: 10_000 });
    assert.equal(bad.status, 201);
    assert.equal(bad.body.status, 'FAILED');
    assert.match(bad.body.error ?? '', /unknown method/);
  });

  test(`${protocol}: a shared attribute update reaches the model`, async () => {
    const dev = byProto.get(protocol)![7]!;
    const id = await deviceId(dev.name);
    const set = await tp.api.request('POST', `/api/devices/${id}/attributes/shared`, { setPoint: 23.5 });
    assert.ok(set.status < 300, JSON.stringify(set.body));
    await eventually(async () => {
      const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${id}/telemetry/latest`);
      return res.body.setPoint?.value === 23.5 ? true : undefined;
    }, 10_000, 'set point reported');
  });
}

test('a batching device sends several readings per message, each stored with its own timestamp', async () => {
  const [dev] = (await provisionDevices(await adminApi(), [{ prefix: 'batch', count: 1 }])).devices;
  assert.ok(dev);
  const batched = startSimulation({
    devices: [{ name: dev.name, token: dev.token, model: thermostat, protocol: 'mqtt', intervalS: 0.1, batch: 5 }],
    endpoints: { mqtt: { host: '127.0.0.1', port: tp.ports.mqtt } },
    log: mem.log,
  });
  try {
    await eventually(async () => (batched.stats().acked >= 2 ? true : undefined), 10_000, 'two batches acked');
    const id = await deviceId(dev.name);
    const res = await tp.api.request<{ temperature?: { ts: number }[] }>('GET', `/api/devices/${id}/telemetry?keys=temperature&limit=100`);
    const points = res.body.temperature ?? [];
    assert.ok(points.length >= 10, `${points.length} points from ${batched.stats().acked} messages`);
    assert.equal(new Set(points.map((p) => p.ts)).size, points.length, 'distinct timestamps');
    assert.equal(points.length % 5, 0, 'whole batches only');
  } finally {
    await batched.stop();
  }
});
