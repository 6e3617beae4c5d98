/**
 * Who may reconfigure an edge gateway, and what a push may reach: the platform in process (its
 * log captured), the edge connected over MQTT, an operator and an admin over REST, devices over
 * MQTT 5. The edge's environment holds a secret that must never reach the platform.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { EdgeLogger } from '../../src/edge/ports.js';
import { apiClient, connectMqtt, eventually, startTestPlatform, tempDir, type ApiClient, type TestPlatform } from '../support/platform.js';

const SECRET = 'hunter2-edge-secret-4711';
const PLC_HOST = 'plc-7781-secret.internal';
const edgeEnv = { EDGE_SECRET: SECRET, PLC_HOST };

let tp: TestPlatform;
let operator: ApiClient;
let gatewayId: string;
let edge: Edge;
const platformLog: string[] = [];
const edgeLog: string[] = [];
const edgeLogger: EdgeLogger = {
  debug: (obj, msg) => edgeLog.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => edgeLog.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => edgeLog.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => edgeLog.push(JSON.stringify({ obj, msg })),
};

/** A Modbus connector; nothing listens on port 1 of loopback, which is fine: only the configuration matters here. */
const modbus = (host: string, extra: object = {}) => ({ type: 'modbus-tcp', name: 'plc', host, port: 1, reconnect: { minMs: 1000, maxMs: 5000 }, devices: [{ name: 'sec-plc', pollMs: 1000, registers: [{ key: 'temperature', address: 10 }] }], ...extra });
const rule = { name: 'hot', device: 'sec-plc', condition: 'temperature > 80', actions: [{ type: 'log' }] };

async function clientAttributes(): Promise<Record<string, unknown>> {
  const res = await tp.api.request<{ client?: Record<string, { value: unknown }> }>('GET', `/api/devices/${gatewayId}/attributes?scope=client`);
  return Object.fromEntries(Object.entries(res.body.client ?? {}).map(([k, v]) => [k, v.value]));
}

/** The next edgeConfigError the edge reports after `since`. */
async function reportedError(since: number): Promise<{ path: string; message: string; problems: string[] }> {
  return eventually(async () => {
    const e = (await clientAttributes()).edgeConfigError as { at: number; path: string; message: string; problems: string[] } | null;
    return e && e.at >= since ? e : undefined;
  }, 10_000, 'edgeConfigError reported');
}

before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      platformLog.push(chunk.toString());
      done();
    },
  });
  tp = await startTestPlatform({ logger: pino({ level: 'debug' }, sink) });
  const gw = await tp.api.createDevice('edge-sec', { gateway: true });
  gatewayId = gw.id;
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'op-edge@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'op-edge@test.local', password: 'operator-password-1' });
  const file = JSON.stringify({
    platform: { url: `mqtt://127.0.0.1:${tp.ports.mqtt}`, token: gw.accessToken, reconnectMs: 100, reconnectMaxMs: 300 },
    connectors: [modbus('127.0.0.1')],
    configPush: { allowEnv: ['PLC_HOST'] },
  });
  edge = await startEdge({ config: parseEdgeConfig(file, {}), dataDir: tempDir(), logger: edgeLogger, env: edgeEnv });
  await eventually(async () => ((await clientAttributes()).edgeConfigVersion === edge.configVersion() ? true : undefined), 10_000, 'edge connected');
});

after(async () => {
  await edge?.stop();
  await tp?.stop();
});

test('regression: an operator can take over the edge gateway (config attributes and the push endpoint are admin-only)', async () => {
  const connectors = [modbus('203.0.113.9')];
  // The generic attributes route refuses the reserved names to everyone, admins included.
  assert.equal((await operator.request('POST', `/api/devices/${gatewayId}/attributes/shared`, { edgeConnectors: connectors })).status, 403);
  assert.equal((await operator.request('POST', `/api/devices/${gatewayId}/attributes/shared`, { edgeRules: [rule], setpoint: 1 })).status, 403);
  assert.equal((await operator.request('DELETE', `/api/devices/${gatewayId}/attributes/shared?keys=edgeRules`)).status, 403);
  assert.equal((await tp.api.request('POST', `/api/devices/${gatewayId}/attributes/shared`, { edgeConnectors: connectors })).status, 403);
  assert.equal((await tp.api.request('POST', `/api/devices/${gatewayId}/attributes/server`, { edgeAnything: 1 })).status, 403);
  // The push endpoint is admin-only.
  assert.equal((await operator.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors })).status, 403);
  const shared = await tp.api.request<{ shared: Record<string, unknown> }>('GET', `/api/devices/${gatewayId}/attributes?scope=shared`);
  assert.deepEqual(Object.keys(shared.body.shared), []);
  assert.deepEqual(edge.connectors.map((c) => c.name), ['plc']);

  // An admin's push through the endpoint is applied, and audited with a digest.
  const pushed = await tp.api.request<{ digest: string }>('PUT', `/api/devices/${gatewayId}/edge-config`, { rules: [rule] });
  assert.equal(pushed.status, 200);
  await eventually(async () => (edge.rules.stats().rules === 1 ? true : undefined), 10_000, 'pushed rule running');
  const audit = await tp.api.request<{ items: { action: string; details?: { digest?: string } }[] }>('GET', `/api/audit?action=edge.config_push&targetId=${gatewayId}`);
  assert.ok(audit.body.items.some((e) => e.action === 'edge.config_push' && e.details?.digest === pushed.body.digest), JSON.stringify(audit.body));
});

test('regression: an operator can take over the edge gateway (a push cannot read the edge environment; nothing echoes a secret)', async () => {
  // The echo of old: a value substituted into a field that validation quotes back.
  const since = Date.now();
  const leaky = modbus('127.0.0.1', { devices: [{ name: 'sec-plc', registers: [{ key: '${EDGE_SECRET}', address: 1 }, { key: '${EDGE_SECRET}', address: 2 }] }] });
  assert.equal((await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors: [leaky] })).status, 200);
  const error = await reportedError(since);
  assert.match(error.problems.join('\n'), /EDGE_SECRET is not in configPush\.allowEnv/);
  assert.deepEqual(edge.connectors.map((c) => c.name), ['plc'], 'the previous connectors keep running');

  // An allowed variable may be used, but a problem quoting its value shows the name instead.
  const at = Date.now();
  assert.equal((await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors: [modbus('${PLC_HOST}')] })).status, 200);
  const outside = await reportedError(at);
  assert.equal(outside.path, 'edgeConnectors[0].host');
  assert.match(outside.message, /"\$\{PLC_HOST\}" is not in configPush\.allowHosts/);

  // Neither value anywhere the platform keeps or shows: attributes, audit, its log; nor in the edge's own log.
  const everything = JSON.stringify([
    (await tp.api.request('GET', `/api/devices/${gatewayId}/attributes`)).body,
    (await tp.api.request('GET', '/api/audit?limit=1000')).body,
    platformLog,
    edgeLog,
  ]);
  assert.ok(everything.includes('EDGE_SECRET'), 'the variable name is reported');
  assert.ok(!everything.includes(SECRET), 'the secret value leaked');
  assert.ok(!everything.includes(PLC_HOST), 'the allowed value leaked');
});

test('regression: an operator can take over the edge gateway (a pushed Modbus host outside configPush.allowHosts is refused)', async () => {
  const since = Date.now();
  assert.equal((await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors: [modbus('203.0.113.9')] })).status, 200);
  const error = await reportedError(since);
  assert.equal(error.path, 'edgeConnectors[0].host');
  assert.match(error.message, /"203\.0\.113\.9" is not in configPush\.allowHosts/);
  assert.deepEqual(edge.connectors.map((c) => c.name), ['plc']);
  // A host of the file's own connectors (the default allow-list) is accepted.
  assert.equal((await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, { connectors: [modbus('127.0.0.1', { name: 'plc-pushed' })] })).status, 200);
  await eventually(async () => (edge.connectors[0]?.name === 'plc-pushed' ? true : undefined), 10_000, 'pushed connector running');
});

test('a device, a gateway or a rule writing the reserved edge attributes is refused', async () => {
  const device = await tp.api.createDevice('sec-device');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  const publish = (topic: string, body: unknown): Promise<number> =>
    client.publishAsync(topic, JSON.stringify(body), { qos: 1 }).then(
      (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: { code?: number }) => err.code ?? -1,
    );
  try {
    assert.equal(await publish('v1/devices/me/attributes', { edgeConnectors: [modbus('203.0.113.9')] }), 0x87);
    assert.equal(await publish('v1/devices/me/attributes', { edgeRules: [rule], fw: '1.0' }), 0x87);
    // The edge's own status reports stay allowed.
    assert.equal(await publish('v1/devices/me/attributes', { edgeConfigVersion: 'abc', fw: '1.0' }), 0);
  } finally {
    await client.endAsync();
  }
  const attrs = await tp.api.request<{ client: Record<string, unknown> }>('GET', `/api/devices/${device.id}/attributes?scope=client`);
  assert.deepEqual(Object.keys(attrs.body.client).sort(), ['edgeConfigVersion', 'fw']);

  const saved = await tp.api.request('POST', '/api/rules', { name: 'reconfigure', trigger: 'telemetry', condition: 'true', actions: [{ type: 'setAttribute', values: { edgeConnectors: [] } }] });
  assert.equal(saved.status, 400, JSON.stringify(saved.body));
});
