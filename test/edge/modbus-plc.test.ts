/**
 * The shipped example against real peers: the pymodbus PLC polled by the edge, its registers in
 * the platform as telemetry of child device plc-1 (with scaling), and a platform command that
 * writes a register on the PLC, read back with mbpoll.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { readHolding, startPlc, type Plc } from './support.js';

let tp: TestPlatform;
let plc: Plc;
let edge: Edge;
let childId: string;
let gatewayId: string;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

before(async () => {
  tp = await startTestPlatform();
  plc = await startPlc();
  const gateway = await tp.api.createDevice('edge-gw', { gateway: true });
  const config = loadEdgeConfig('examples/edge/modbus-plc.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    CONTINUUM_GATEWAY_TOKEN: gateway.accessToken,
    MODBUS_HOST: '127.0.0.1',
    MODBUS_PORT: String(plc.port),
  });
  const connector = config.connectors[0];
  assert.ok(connector?.type === 'modbus-tcp');
  const device = connector.devices[0];
  assert.ok(device);
  // Beside the example's map: a scaled key (1005 × 0.1 − 100 = 0.5), a coil and an input register.
  device.registers.push(
    { key: 'pressure', fc: 3, address: 5, type: 'uint16', scale: 0.1, offset: -100 },
    { key: 'coil0', fc: 1, address: 0, type: 'bool' },
    { key: 'in3', fc: 4, address: 3, type: 'int16', scale: 2 },
  );
  edge = await startEdge({ config, dataDir: tempDir(), logger: quiet, healthIntervalMs: 300 });
  gatewayId = gateway.id;
});

after(async () => {
  await edge?.stop();
  await plc?.stop();
  await tp?.stop();
});

test('registers arrive as telemetry of child device plc-1, scaling applied', async () => {
  const child = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=plc-1');
    return list.body.items.find((d) => d.name === 'plc-1');
  }, 10_000, 'child device plc-1');
  childId = child.id;
  const latest = await eventually(async () => {
    const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${childId}/telemetry/latest`);
    return res.body.temperature && res.body.pressure ? res.body : undefined;
  }, 10_000, 'telemetry of plc-1');
  assert.equal(latest.r0?.value, 1000);
  assert.equal(latest.r9?.value, 1009);
  assert.equal(latest.temperature?.value, 21.5);
  assert.equal(latest.pressure?.value, 0.5);
  assert.equal(latest.coil0?.value, true);
  assert.equal(latest.in3?.value, 6);
  assert.equal(edge.status().connectors[0]?.connected, true);
});

test('a platform command writes a register on the PLC; unknown methods fail with a reason', async () => {
  assert.ok(childId);
  const sent = await tp.api.request<{ status: string; response: unknown }>('POST', `/api/devices/${childId}/commands`, { method: 'setR2', params: { value: 4242 }, timeoutMs: 5000 });
  assert.equal(sent.status, 201);
  assert.equal(sent.body.status, 'SUCCESSFUL', JSON.stringify(sent.body));
  assert.equal(await readHolding(plc.port, 2), 4242, 'mbpoll reads the written register back');
  await eventually(async () => {
    const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${childId}/telemetry/latest`);
    return res.body.r2?.value === 4242 ? true : undefined;
  }, 5000, 'r2 = 4242 polled back');

  const unknown = await tp.api.request<{ status: string; error?: string }>('POST', `/api/devices/${childId}/commands`, { method: 'selfDestruct', params: {}, timeoutMs: 5000 });
  assert.equal(unknown.body.status, 'FAILED');
  assert.match(unknown.body.error ?? '', /no command "selfDestruct"/);
  const bad = await tp.api.request<{ status: string; error?: string }>('POST', `/api/devices/${childId}/commands`, { method: 'setR2', params: { value: 70000 }, timeoutMs: 5000 });
  assert.equal(bad.body.status, 'FAILED');
  assert.match(bad.body.error ?? '', /out of range/);
  assert.equal(await readHolding(plc.port, 2), 4242);
});

test('the gateway reports its own health as telemetry: buffer depth, connector errors and status, poll latency', async () => {
  const health = await eventually(async () => {
    const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${gatewayId}/telemetry/latest`);
    return res.body.connectorsConnected?.value === 1 && typeof res.body.pollLatencyMs?.value === 'number' ? res.body : undefined;
  }, 10_000, 'health telemetry of the gateway device');
  assert.equal(typeof health.bufferDepth?.value, 'number');
  assert.equal(health.bufferDropped?.value, 0);
  assert.equal(typeof health.connectorErrors?.value, 'number');
  assert.ok((health.pollLatencyMs?.value as number) > 0, 'a poll cycle took some time');
});
