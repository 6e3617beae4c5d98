/**
 * Rules and connectors pushed from the platform (PUT /api/devices/{id}/edge-config, stored as
 * reserved shared attributes of the gateway device),
 * against real peers: the platform in process, the edge, the pymodbus PLC (coils read back with
 * mbpoll). A rule set over REST switches a coil; a bad one is refused and reported while the
 * previous rule keeps working; a changed connector restarts and an unchanged one does not; a
 * push made while the edge was away is applied when it connects; the last push runs after a
 * restart with the platform down, and with --offline.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { EdgeLogger, Reading } from '../../src/edge/ports.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { readCoil, startPlc, writeFloat, type Plc } from './support.js';

let plc: Plc;
let tp: TestPlatform;
let platformUp = false;
let gatewayId: string;
let token: string;
let edge: Edge | undefined;
const dataDir = tempDir();
const warnings: { obj: object; msg?: string }[] = [];
const readings: Reading[] = [];
const logger: EdgeLogger = { debug() {}, info() {}, warn: (obj, msg) => warnings.push({ obj, msg }), error: (obj, msg) => warnings.push({ obj, msg }) };

const connectorA = () => ({ type: 'modbus-tcp', name: 'plc-a', host: '127.0.0.1', port: plc.port, devices: [{ name: 'cp-main', pollMs: 100, registers: [{ key: 'temperature', address: 10, type: 'float32', wordOrder: 'big' }], commands: [{ method: 'setCoil1', fc: 5, address: 1, type: 'bool' }, { method: 'setCoil3', fc: 5, address: 3, type: 'bool' }] }] });
const connectorB = (registers: object[]) => ({ type: 'modbus-tcp', name: 'plc-b', host: '127.0.0.1', port: plc.port, devices: [{ name: 'cp-aux', pollMs: 200, registers }] });
const hotRule = (coil: 'setCoil1' | 'setCoil3', threshold = 80) => ({
  name: 'hot',
  device: 'cp-main',
  condition: `temperature > ${threshold}`,
  actions: [{ type: 'command', method: coil, params: { value: true } }],
  clearActions: [{ type: 'command', method: coil, params: { value: false } }],
});

function fileConfig(offline = false) {
  const text = JSON.stringify({
    platform: { url: `mqtt://127.0.0.1:${tp.ports.mqtt}`, token, reconnectMs: 100, reconnectMaxMs: 300 },
    connectors: [connectorA(), connectorB([{ key: 'r0', address: 0 }])],
  });
  return parseEdgeConfig(text, {}, { offline });
}

async function start(offline = false): Promise<Edge> {
  edge = await startEdge({ config: fileConfig(offline), dataDir, offline, logger, onReading: (r) => readings.push(r) });
  return edge;
}

async function stopEdge(): Promise<void> {
  await edge?.stop();
  edge = undefined;
}

/** A push through the admin endpoint (the only writer of edgeRules/edgeConnectors). */
async function pushShared(values: { edgeRules?: unknown; edgeConnectors?: unknown }): Promise<void> {
  const body = { ...(values.edgeRules !== undefined ? { rules: values.edgeRules } : {}), ...(values.edgeConnectors !== undefined ? { connectors: values.edgeConnectors } : {}) };
  const res = await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function clientAttributes(): Promise<Record<string, unknown>> {
  const res = await tp.api.request<{ client?: Record<string, { value: unknown }> }>('GET', `/api/devices/${gatewayId}/attributes?scope=client`);
  return Object.fromEntries(Object.entries(res.body.client ?? {}).map(([k, v]) => [k, v.value]));
}

/** Waits until the platform holds the edge's running version as `edgeConfigVersion`. */
async function reportedVersion(e: Edge): Promise<string> {
  return eventually(async () => {
    const attrs = await clientAttributes();
    return attrs.edgeConfigVersion === e.configVersion() ? e.configVersion() : undefined;
  }, 10_000, 'edgeConfigVersion reported');
}

async function coil(address: number, value: 0 | 1, what: string): Promise<void> {
  await eventually(async () => ((await readCoil(plc.port, address)) === value ? true : undefined), 10_000, what);
}

/** Over-temperature on, the coil follows; back to normal, the coil follows. */
async function ruleSwitches(address: number): Promise<void> {
  await writeFloat(plc.port, 10, 85);
  await coil(address, 1, `coil ${address} on by the rule`);
  await writeFloat(plc.port, 10, 21.5);
  await coil(address, 0, `coil ${address} off again`);
}

before(async () => {
  plc = await startPlc();
  tp = await startTestPlatform();
  platformUp = true;
  const gw = await tp.api.createDevice('edge-cp', { gateway: true });
  gatewayId = gw.id;
  token = gw.accessToken;
});

after(async () => {
  await stopEdge();
  if (platformUp) await tp?.stop();
  await plc?.stop();
});

test('a rule pushed over REST is applied without a restart: the coil switches on the PLC', async () => {
  const e = await start();
  const fileVersion = await reportedVersion(e);
  assert.equal(e.rules.stats().rules, 0, 'the file has no rules');
  const connectorsBefore = e.connectors;

  const pushed = Date.now();
  await pushShared({ edgeRules: [hotRule('setCoil1')] });
  await eventually(async () => (e.rules.stats().rules === 1 ? true : undefined), 10_000, 'pushed rule running');
  const appliedMs = Date.now() - pushed;
  const pushedVersion = await reportedVersion(e);
  console.log(`rule push: running on the edge ${appliedMs} ms after the REST call (polled every 100 ms); version ${fileVersion} → ${pushedVersion}`);
  assert.notEqual(pushedVersion, fileVersion);
  assert.ok(e.connectors.length === 2 && e.connectors.every((c, i) => c === connectorsBefore[i]), 'a rules-only push leaves every connector running');
  await ruleSwitches(1);
});

test('a bad rule push is refused, reported as edgeConfigError, and the previous rule keeps running', async () => {
  const e = edge as Edge;
  const running = e.configVersion();
  warnings.length = 0;
  await pushShared({ edgeRules: [{ ...hotRule('setCoil1'), condition: 'temperature >' }] });
  const error = await eventually(async () => {
    const attrs = await clientAttributes();
    return attrs.edgeConfigError ? (attrs.edgeConfigError as { path: string; message: string; problems: string[] }) : undefined;
  }, 10_000, 'edgeConfigError reported');
  assert.match(error.path, /^edgeRules\[0\]\.condition/);
  assert.ok(error.message.length > 0);
  assert.ok(warnings.some((w) => w.msg === 'pushed configuration refused; the previous one keeps running'), 'refusal logged');
  assert.equal(e.configVersion(), running, 'previous configuration still running');
  assert.equal((await clientAttributes()).edgeConfigVersion, running);
  await ruleSwitches(1);

  // A push naming a device no connector has is refused the same way (cross-reference check).
  await pushShared({ edgeRules: [{ ...hotRule('setCoil1'), device: 'nowhere' }] });
  await eventually(async () => {
    const attrs = await clientAttributes();
    return (attrs.edgeConfigError as { path?: string } | null)?.path === 'edgeRules[0].device' ? true : undefined;
  }, 10_000, 'second refusal reported');

  // Putting the good rule back clears the error.
  await pushShared({ edgeRules: [hotRule('setCoil1')] });
  await eventually(async () => ((await clientAttributes()).edgeConfigError === null ? true : undefined), 10_000, 'edgeConfigError cleared');
  assert.equal(e.configVersion(), running);
});

test('pushed connectors: the changed connector restarts, the unchanged one keeps running', async () => {
  const e = edge as Edge;
  const [a, b] = e.connectors;
  assert.ok(a && b);
  const pushed = Date.now();
  await pushShared({ edgeConnectors: [connectorA(), connectorB([{ key: 'r0', address: 0 }, { key: 'r1', address: 1 }])] });
  await eventually(async () => (readings.some((r) => r.device === 'cp-aux' && r.values.r1 === 1001) ? true : undefined), 10_000, 'cp-aux read with its new register map');
  console.log(`connector push: first reading with the new register map ${Date.now() - pushed} ms after the REST call (polled every 100 ms)`);
  await reportedVersion(e);
  assert.equal(e.connectors[0], a, 'plc-a untouched');
  assert.notEqual(e.connectors[1], b, 'plc-b restarted');
  assert.equal(b.status().connected, false, 'the old plc-b was stopped');
  await ruleSwitches(1);
});

test('a push made while the edge was away is applied when it connects', async () => {
  await stopEdge();
  await pushShared({ edgeRules: [hotRule('setCoil3')] });
  const e = await start();
  await eventually(async () => ((await clientAttributes()).edgeConfigVersion === e.configVersion() && e.rules.stats().rules === 1 ? true : undefined), 10_000, 'the new push applied on connect');
  await ruleSwitches(3);
  assert.equal(await readCoil(plc.port, 1), 0, 'the replaced rule no longer acts');
});

test('restart with the platform down, then --offline: the last pushed rule and connectors still run', async () => {
  const version = (edge as Edge).configVersion();
  await stopEdge();
  await tp.stop();
  platformUp = false;

  const down = await start();
  assert.equal(down.configVersion(), version, 'started on the pushed configuration');
  assert.deepEqual(down.connectors.map((c) => c.name), ['plc-a', 'plc-b']);
  await ruleSwitches(3);
  await stopEdge();

  const offline = await start(true);
  assert.equal(offline.configVersion(), version);
  await eventually(async () => (readings.some((r) => r.device === 'cp-aux' && r.values.r1 === 1001 && r.ts > Date.now() - 1000) ? true : undefined), 10_000, 'pushed register map in use offline');
  await ruleSwitches(3);
});

test('a pushed section cleared on the platform while the edge was away: the file section applies again at connect', async () => {
  await stopEdge();
  tp = await startTestPlatform({ dataDir: tp.dataDir, config: { mqtt: { port: tp.ports.mqtt, tlsPort: 0 } } });
  platformUp = true;
  await pushShared({ edgeRules: null });
  const e = await start();
  assert.equal(e.rules.stats().rules, 1, 'starts on the stored push');
  await eventually(async () => (e.rules.stats().rules === 0 ? true : undefined), 10_000, 'file rules (none) back after the attribute answer');
  assert.deepEqual(e.connectors.map((c) => c.name), ['plc-a', 'plc-b'], 'edgeConnectors still pushed');
  await reportedVersion(e);
});
