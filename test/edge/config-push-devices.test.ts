/**
 * Configuration pushes take effect fully (issue 19, item 2), and children follow the edge's view
 * of their field devices (item 1), against real peers: the platform in process, the edge, two
 * pymodbus PLCs. A device added by a push is announced at once (no edge restart), a removed one
 * is disconnected, a changed one re-polled; each numbered push is reported back applied or
 * refused with the reason; a rollback re-pushes an earlier one. A PLC that stops answering shows
 * its child offline (`device_disconnected`) while the gateway stays up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { EdgeLogger, Reading } from '../../src/edge/ports.js';
import { apiClient, startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { relay, startPlc, type Plc } from './support.js';

let plc: Plc;
let tp: TestPlatform;
let gatewayId: string;
let edge: Edge;
const readings: Reading[] = [];
const logger: EdgeLogger = { debug() {}, info() {}, warn() {}, error() {} };

const connector = (name: string, device: string, port: number, registers: object[] = [{ key: 'temperature', address: 10, type: 'float32', wordOrder: 'big' }]) => ({
  type: 'modbus-tcp',
  name,
  host: '127.0.0.1',
  port,
  timeoutMs: 300,
  reconnect: { minMs: 100, maxMs: 300 },
  devices: [{ name: device, pollMs: 100, registers }],
});

interface DeviceBody {
  id: string;
  name: string;
  online: boolean;
  offlineReason: string | null;
}
interface PushResult {
  push: number | null;
  status: string;
  reason?: string;
  devices?: { added: string[]; removed: string[] };
  connectors?: { kept: string[]; stopped: string[]; started: string[] };
}

async function device(name: string): Promise<DeviceBody | undefined> {
  const res = await tp.api.request<{ items: DeviceBody[] }>('GET', `/api/devices?search=${encodeURIComponent(name)}`);
  return res.body.items.find((d) => d.name === name);
}

async function becomes(name: string, online: boolean, ms = 10_000): Promise<DeviceBody> {
  return eventually(async () => {
    const d = await device(name);
    return d?.online === online ? d : undefined;
  }, ms, `${name} ${online ? 'online' : 'offline'}`);
}

async function push(connectors: object[]): Promise<number> {
  const res = await tp.api.request<{ version: number }>('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.version;
}

/** The edge's report on push `n`. */
async function resultOf(n: number): Promise<PushResult> {
  return eventually(async () => {
    const res = await tp.api.request<{ result: PushResult | null }>('GET', `/api/devices/${gatewayId}/edge-config`);
    return res.body.result?.push === n ? res.body.result : undefined;
  }, 10_000, `result of push ${n}`);
}

before(async () => {
  plc = await startPlc();
  tp = await startTestPlatform();
  const gw = await tp.api.createDevice('edge-devices', { gateway: true });
  gatewayId = gw.id;
  const file = JSON.stringify({
    platform: { url: `mqtt://127.0.0.1:${tp.ports.mqtt}`, token: gw.accessToken, reconnectMs: 100, reconnectMaxMs: 300 },
    connectors: [connector('plc-a', 'cp-one', plc.port)],
  });
  edge = await startEdge({ config: parseEdgeConfig(file, {}), dataDir: tempDir(), logger, onReading: (r) => readings.push(r) });
  await becomes('cp-one', true);
});

after(async () => {
  await edge?.stop();
  await tp?.stop();
  await plc?.stop();
});

test('a device added by a push is announced at once, a removed one disconnected, a changed one re-polled; each push reported back', async () => {
  // Added: cp-two exists and is online on the platform without an edge restart.
  let t0 = Date.now();
  const n1 = await push([connector('plc-a', 'cp-one', plc.port), connector('plc-b', 'cp-two', plc.port)]);
  const two = await becomes('cp-two', true);
  const addedMs = Date.now() - t0;
  const r1 = await resultOf(n1);
  assert.equal(r1.status, 'applied');
  assert.deepEqual(r1.devices, { added: ['cp-two'], removed: [] });
  assert.deepEqual(r1.connectors, { kept: ['plc-a'], stopped: [], started: ['plc-b'] });

  // Removed: cp-one goes offline at once, reason device_disconnected; cp-two stays.
  t0 = Date.now();
  const n2 = await push([connector('plc-b', 'cp-two', plc.port)]);
  const one = await becomes('cp-one', false);
  const removedMs = Date.now() - t0;
  assert.equal(one.offlineReason, 'device_disconnected');
  assert.equal((await device('cp-two'))?.online, true);
  assert.deepEqual((await resultOf(n2)).devices, { added: [], removed: ['cp-one'] });

  // Changed: plc-b restarts with its new register map and cp-two is polled again right away.
  t0 = Date.now();
  const n3 = await push([connector('plc-b', 'cp-two', plc.port, [{ key: 'r0', address: 0 }, { key: 'r1', address: 1 }])]);
  await eventually(async () => (readings.some((r) => r.device === 'cp-two' && r.values.r1 !== undefined) ? true : undefined), 10_000, 'cp-two re-polled');
  const repolledMs = Date.now() - t0;
  const r3 = await resultOf(n3);
  assert.deepEqual(r3.connectors, { kept: [], stopped: ['plc-b'], started: ['plc-b'] });
  assert.equal((await device('cp-two'))?.online, true, 'a changed device stays online');
  assert.equal(two.id, (await device('cp-two'))?.id);

  // Refused: a host outside the edge's allow-list; reported with the reason, nothing changes.
  const running = edge.configVersion();
  const n4 = await push([{ ...connector('plc-b', 'cp-two', plc.port), host: '203.0.113.9' }]);
  const r4 = await resultOf(n4);
  assert.equal(r4.status, 'refused');
  assert.match(r4.reason ?? '', /allowHosts/);
  assert.equal(edge.configVersion(), running);
  console.log(`config push: added device online on the platform after ${addedMs} ms, removed one offline after ${removedMs} ms, changed one re-polled after ${repolledMs} ms`);
});

test('a push is rolled back by number: the earlier sections run again under a new number, its device back online', async () => {
  const before = await tp.api.request<{ version: number; history: { version: number }[] }>('GET', `/api/devices/${gatewayId}/edge-config`);
  const res = await tp.api.request<{ version: number; rollbackOf: number }>('POST', `/api/devices/${gatewayId}/edge-config/rollback`, { version: 1 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.rollbackOf, 1);
  assert.equal(res.body.version, before.body.version + 1);
  await becomes('cp-one', true);
  const r = await resultOf(res.body.version);
  assert.equal(r.status, 'applied');
  assert.deepEqual(r.devices, { added: ['cp-one'], removed: [] });
  assert.deepEqual(edge.connectors.map((c) => c.name), ['plc-a', 'plc-b']);
  const after = await tp.api.request<{ history: { version: number; rollbackOf: number | null }[] }>('GET', `/api/devices/${gatewayId}/edge-config`);
  assert.equal(after.body.history.at(-1)?.rollbackOf, 1);
  assert.equal((await tp.api.request('POST', `/api/devices/${gatewayId}/edge-config/rollback`, { version: 999 })).status, 404);
});

test('a PLC that stops answering: its child goes offline (device_disconnected) while the gateway and the other children stay online; back when it answers', async () => {
  // A relay in front of the PLC, cut and restored: the network to the PLC fails, the edge stays up.
  const link = await relay(plc.port);
  const n = await push([connector('plc-a', 'cp-one', plc.port), connector('plc-b', 'cp-two', plc.port), connector('plc-c', 'cp-three', link.port)]);
  await becomes('cp-three', true);
  await resultOf(n);
  let t0 = Date.now();
  await link.cut();
  const three = await becomes('cp-three', false);
  const downMs = Date.now() - t0;
  assert.equal(three.offlineReason, 'device_disconnected');
  assert.equal((await device('cp-one'))?.online, true);
  assert.equal((await device('edge-devices'))?.online, true, 'the gateway itself stays online');
  t0 = Date.now();
  await link.restore();
  await becomes('cp-three', true);
  console.log(`field device stopped answering: child offline on the platform after ${downMs} ms; online again ${Date.now() - t0} ms after it answers`);
  await link.cut();
});

test('operators may not read the push history or roll back (admin only)', async () => {
  await tp.api.request('POST', '/api/users', { email: 'op-push@test.local', password: 'operator-password-1', role: 'user' });
  const operator = await apiClient(tp.baseUrl, { email: 'op-push@test.local', password: 'operator-password-1' });
  assert.equal((await operator.request('GET', `/api/devices/${gatewayId}/edge-config`)).status, 403);
  assert.equal((await operator.request('POST', `/api/devices/${gatewayId}/edge-config/rollback`, { version: 1 })).status, 403);
  assert.equal((await operator.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors: [] })).status, 403);
  // The history is a reserved attribute: no generic write reaches it, admins included.
  assert.equal((await tp.api.request('POST', `/api/devices/${gatewayId}/attributes/server`, { edgeConfigHistory: [] })).status, 403);
});
