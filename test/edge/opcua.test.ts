/**
 * The OPC UA connector against a real OPC UA server started in this test (node-opcua's
 * OPCUAServer, test/fixtures/opcua/server.ts) and a real platform: monitored items become the
 * child's telemetry and client attributes, platform commands write nodes and call methods, a
 * stopped server takes the child offline and a restarted one brings it back with data flowing;
 * `continuum edge scan opcua` prints a config that loads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig, parseEdgeConfig, type OpcuaConfig } from '../../src/edge/config.js';
import type { Reading } from '../../src/edge/ports.js';
import { runScanFromCli } from '../../src/edge/scan/index.js';
import { OpcuaConnector } from '../../src/edge/connectors/opcua/index.js';
import type { ReadingSink } from '../../src/edge/ports.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { startOpcuaServer, USER, type TestOpcuaServer } from '../fixtures/opcua/server.js';
import { freePort } from './support.js';

let tp: TestPlatform;
let server: TestOpcuaServer;
let edge: Edge;
let boilerId: string;
let pki: string;
const readings: Reading[] = [];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type Latest = Record<string, { value: unknown }>;
const latest = async (id: string): Promise<Latest> => (await tp.api.request<Latest>('GET', `/api/devices/${id}/telemetry/latest`)).body;
const command = (id: string, method: string, params: unknown) =>
  tp.api.request<{ status: string; error?: string; response?: Record<string, unknown> }>('POST', `/api/devices/${id}/commands`, { method, params, timeoutMs: 10_000 });
const onlineOf = async (name: string): Promise<boolean | undefined> => {
  const list = (await tp.api.request<{ items: { name: string; online: boolean }[] }>('GET', `/api/devices?search=${name}`)).body.items;
  return list.find((d) => d.name === name)?.online;
};

before(async () => {
  pki = tempDir('continuum-opcua-');
  [tp, server] = await Promise.all([startTestPlatform(), freePort().then((port) => startOpcuaServer(port, pki))]);
  const gateway = await tp.api.createDevice('edge-opcua', { gateway: true });
  const config = loadEdgeConfig('examples/edge/opcua.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    CONTINUUM_GATEWAY_TOKEN: gateway.accessToken,
    OPCUA_ENDPOINT: server.url,
    OPCUA_USER: USER.userName,
    OPCUA_PASSWORD: USER.password,
  });
  const connector = config.connectors[0] as OpcuaConfig;
  connector.pkiDir = join(pki, 'client');
  connector.reconnectMs = 200;
  connector.reconnectMaxMs = 500;
  edge = await startEdge({ config, dataDir: tempDir(), logger: quiet, onReading: (r) => readings.push(r) });
});

after(async () => {
  await edge?.stop();
  await server?.stop();
  await tp?.stop();
});

test('monitored items arrive as the child\'s telemetry and client attributes', async () => {
  const child = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=boiler-1');
    return list.body.items.find((d) => d.name === 'boiler-1');
  }, 20_000, 'child device boiler-1');
  boilerId = child.id;
  const values = await eventually(async () => {
    const l = await latest(boilerId);
    return l.temperature && l.setpoint && l.label ? l : undefined;
  }, 20_000, 'telemetry of boiler-1');
  assert.equal(typeof values.temperature?.value, 'number');
  assert.equal(values.setpoint?.value, 50, 'a Float as its decimal value');
  assert.equal(String(values.label?.value).length, 4096, 'a 5000-character string cut to maxStringLength');
  // The temperature changes on the server: new values arrive without polling (subscription).
  const first = Number(values.temperature?.value);
  await eventually(async () => (readings.some((r) => r.device === 'boiler-1' && typeof r.values.temperature === 'number' && r.values.temperature !== first) ? true : undefined), 10_000, 'a newer temperature');
  const attrs = await eventually(async () => {
    const body = (await tp.api.request<{ client?: Record<string, { value: unknown }> }>('GET', `/api/devices/${boilerId}/attributes?scope=client`)).body;
    return body.client?.serial ? body.client : undefined;
  }, 10_000, 'client attribute serial');
  assert.equal(attrs.serial?.value, 'SN-4711');
  assert.equal(await onlineOf('boiler-1'), true);
  const status = edge.status().connectors[0] as unknown as { connected: boolean; notifications: number; truncated: number };
  assert.equal(status.connected, true);
  assert.ok(status.truncated >= 1, 'the cut was counted');
});

test('commands write the Setpoint (coerced to Float) and call Reset; bad input fails with the reason', async () => {
  assert.ok(boilerId);
  const set = await command(boilerId, 'setSetpoint', { value: 55.5 });
  assert.equal(set.body.status, 'SUCCESSFUL', JSON.stringify(set.body));
  assert.equal(server.setpoint(), 55.5, 'the server holds the written value');
  await eventually(async () => ((await latest(boilerId)).setpoint?.value === 55.5 ? true : undefined), 10_000, 'setpoint 55.5 back as telemetry');

  const byKey = await command(boilerId, 'setValue', { key: 'setpoint', value: '52' });
  assert.equal(byKey.body.status, 'SUCCESSFUL', JSON.stringify(byKey.body));
  assert.equal(server.setpoint(), 52);
  const notWritable = await command(boilerId, 'setValue', { key: 'temperature', value: 1 });
  assert.equal(notWritable.body.status, 'FAILED');
  assert.match(notWritable.body.error ?? '', /not a writable node/);
  const bad = await command(boilerId, 'setSetpoint', { value: 'hot' });
  assert.equal(bad.body.status, 'FAILED');
  assert.match(bad.body.error ?? '', /expected a number/);
  const huge = await command(boilerId, 'setSetpoint', { value: 1e39 });
  assert.equal(huge.body.status, 'FAILED');
  assert.match(huge.body.error ?? '', /Float range/);
  assert.equal(server.setpoint(), 52, 'refused values never reached the server');

  const reset = await command(boilerId, 'reset', { level: 2 });
  assert.equal(reset.body.status, 'SUCCESSFUL', JSON.stringify(reset.body));
  assert.deepEqual(server.state.resets, [2]);
  const outputs = (reset.body.response as { outputs?: { previous?: number } } | undefined)?.outputs;
  assert.ok(typeof outputs?.previous === 'number' && outputs.previous >= 20 && outputs.previous <= 30, JSON.stringify(reset.body.response));
  const refused = await command(boilerId, 'reset', { level: 9 });
  assert.equal(refused.body.status, 'FAILED');
  assert.match(refused.body.error ?? '', /BadOutOfRange/);
  const wrongType = await command(boilerId, 'reset', { level: -1 });
  assert.equal(wrongType.body.status, 'FAILED');
  assert.match(wrongType.body.error ?? '', /level: expected an integer 0\.\.4294967295/);
  assert.deepEqual(server.state.resets, [2]);
});

test('scan opcua prints the variables and methods as a config that loads', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runScanFromCli(['opcua', '--url', server.url, '--depth', '2', '--user', USER.userName, '--pki-dir', join(pki, 'client')], { stdout, stderr }, { OPCUA_PASSWORD: USER.password });
  assert.equal(code, 0, err);
  assert.match(out, /key: temperature, nodeId: "ns=1;s=Boiler.Temperature" }  # \/1:Boiler\/1:Temperature Double = /);
  assert.match(out, /method: set_setpoint, nodeId: "ns=1;s=Boiler.Setpoint"/);
  assert.match(out, /method: reset, objectId: "ns=1;s=Boiler", methodId: "ns=1;s=Boiler.Reset"/);
  assert.doesNotMatch(out, /edge-secret/, 'the password is not printed');
  assert.doesNotMatch(out, /set_temperature/, 'read-only variables get no command');
  const config = parseEdgeConfig(out, { OPCUA_PASSWORD: 'x' }, { offline: true });
  const connector = config.connectors[0] as OpcuaConfig;
  assert.equal(connector.devices[0]?.name, 'boiler');
  assert.ok((connector.devices[0]?.nodes.length ?? 0) >= 4);
});

test('server stopped: the child goes offline; restarted: online again and values flow', async () => {
  assert.ok(boilerId);
  await server.stop();
  await eventually(async () => ((await onlineOf('boiler-1')) === false ? true : undefined), 20_000, 'boiler-1 offline');
  const denied = await command(boilerId, 'setSetpoint', { value: 40 });
  assert.equal(denied.body.status, 'FAILED');
  const restartedAt = Date.now();
  await server.restart();
  await eventually(async () => ((await onlineOf('boiler-1')) === true ? true : undefined), 30_000, 'boiler-1 online again');
  await eventually(async () => (readings.some((r) => r.device === 'boiler-1' && r.ts > restartedAt && r.values.temperature !== undefined) ? true : undefined), 30_000, 'temperature after the restart');
});

test('SignAndEncrypt session reads; a wrong password is refused with the reason and the child stays offline', async () => {
  const base = parseEdgeConfig(
    `connectors:\n  - type: opcua\n    endpoint: "${server.url}"\n    devices: [{ name: sec, publishingIntervalMs: 100, nodes: [{ key: temperature, nodeId: "ns=1;s=Boiler.Temperature" }] }]\n`,
    {},
    { offline: true },
  ).connectors[0] as OpcuaConfig;
  const local: Reading[] = [];
  const statuses: [string, boolean, string | undefined][] = [];
  const sink: ReadingSink = { reading: (r) => local.push(r), deviceStatus: (d, online, reason) => statuses.push([d, online, reason]) };
  const pkiDir = join(pki, 'client');
  const secure = new OpcuaConnector({ ...base, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', pkiDir, acceptUnknownCertificate: true, username: USER.userName, password: USER.password }, quiet);
  await secure.start(sink);
  try {
    await eventually(async () => (local.some((r) => r.device === 'sec' && typeof r.values.temperature === 'number') ? true : undefined), 30_000, 'a reading over SignAndEncrypt');
  } finally {
    await secure.stop();
  }
  const wrong = new OpcuaConnector({ ...base, name: 'wrong', reconnectMaxMs: 60_000, pkiDir, username: USER.userName, password: 'not-it', devices: [{ ...base.devices[0]!, name: 'wrong' }] }, quiet);
  await wrong.start(sink);
  try {
    await eventually(async () => (statuses.some(([d, online]) => d === 'wrong' && !online) ? true : undefined), 30_000, 'wrong reported offline');
    assert.match(wrong.status().lastError ?? '', /Bad(UserAccessDenied|IdentityTokenRejected|IdentityTokenInvalid)/);
    assert.equal(wrong.status().connected, false);
    assert.ok(!local.some((r) => r.device === 'wrong'));
  } finally {
    await wrong.stop();
  }
});

test('bad OPC UA sections are reported with their paths', () => {
  const text = `
connectors:
  - type: opcua
    endpoint: opc.tcp://10.0.0.9:4840
    securityMode: Sign
    securityPolicy: None
    password: x
    devices:
      - name: a
        nodes: [{ key: t, nodeId: "ns=1;i=1" }, { key: t, browsePath: "/1:A/1:T", nodeId: "ns=1;i=2" }]
        commands: [{ method: setValue, nodeId: "ns=1;i=3" }, { method: go, objectId: "ns=1;i=4", methodId: "ns=1;i=5" }, { method: go, nodeId: "ns=1;i=3" }]
`;
  assert.throws(() => parseEdgeConfig(text, {}, { offline: true }), (err: Error) => {
    for (const part of ['securityPolicy: None does not go with securityMode Sign', 'password: without username', 'nodes[1].key: "t" is defined twice', 'nodes[1]: give exactly one of nodeId and browsePath', 'commands[0].method: setValue is reserved', 'commands[2].method: "go" is defined twice'])
      assert.ok(err.message.includes(part), `${part} in ${err.message}`);
    return true;
  });
  assert.throws(() => parseEdgeConfig(text.replace('opc.tcp://10.0.0.9:4840', 'http://10.0.0.9'), {}, { offline: true }), /connectors\[0\]\.endpoint/);
});
