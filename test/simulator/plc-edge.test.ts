/**
 * The PLC simulator stands in for hardware: the edge gateway's shipped Modbus example polls it
 * into the platform, and a platform command writes a coil that the simulated PLC keeps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { loadPlcMap } from '../../src/simulator/plc/map.js';
import { startPlc, type PlcServer } from '../../src/simulator/plc/server.js';
import { eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';
import { memoryLog } from './support.js';

let tp: TestPlatform;
let plc: PlcServer;
let edge: Edge;
const mem = memoryLog();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

before(async () => {
  tp = await startTestPlatform();
  plc = await startPlc({ map: loadPlcMap('examples/simulator/plc-map.yaml'), port: 0, log: mem.log });
  const gateway = await tp.api.createDevice('edge-gw', { gateway: true });
  const config = loadEdgeConfig('examples/edge/modbus-plc.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    CONTINUUM_GATEWAY_TOKEN: gateway.accessToken,
    MODBUS_HOST: '127.0.0.1',
    MODBUS_PORT: String(plc.port),
  });
  edge = await startEdge({ config, dataDir: tempDir(), logger: quiet });
});

after(async () => {
  await edge?.stop();
  await plc?.stop();
  await tp?.stop();
});

test('the edge polls the simulated PLC; a command writes a coil that the PLC keeps', async () => {
  const child = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=plc-1');
    return list.body.items.find((d) => d.name === 'plc-1');
  }, 15_000, 'child device plc-1');
  const latest = await eventually(async () => {
    const res = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${child.id}/telemetry/latest`);
    return res.body.temperature ? res.body : undefined;
  }, 15_000, 'telemetry of plc-1');
  assert.equal(latest.r0?.value, 1000);
  assert.equal(latest.r9?.value, 1009);
  const temperature = latest.temperature?.value as number;
  assert.ok(temperature > 30 && temperature < 60, `temperature ${temperature}`);
  const sent = await tp.api.request<{ status: string }>('POST', `/api/devices/${child.id}/commands`, { method: 'setCoil0', params: { value: true }, timeoutMs: 5000 });
  assert.equal(sent.body.status, 'SUCCESSFUL', JSON.stringify(sent.body));
  assert.equal(plc.written.coils.get(0), true);
  assert.ok(mem.lines.some((l) => l.startsWith('coil written')));
});
