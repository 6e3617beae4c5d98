/**
 * Children follow their gateway (issue 19, item 1): when the gateway's MQTT session ends —
 * clean DISCONNECT, a killed socket, a keep-alive timeout — every child it connected goes offline
 * at once with `offlineReason: gateway_offline`; a persistent command to a child waits QUEUED
 * while the gateway is away and is delivered when it returns (also across a platform restart),
 * ending SUCCESSFUL with no retry burnt. Real MQTT.js clients against the platform's own broker
 * (port 0); the restart test runs `continuum start` as a child process on one data dir.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import type mqtt from 'mqtt';
import { runCli } from '../support/cli.js';
import { apiClient, connectMqtt, eventually, spawnServer, startTestPlatform, tempDir, waitForExit, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

interface StatusBody {
  online: boolean;
  offlineReason: string | null;
}
interface DeviceBody {
  id: string;
  name: string;
  online: boolean;
  offlineReason: string | null;
}
interface CommandBody {
  id: string;
  status: string;
  retries: number;
  response?: unknown;
}

async function childrenOf(api: ApiClient, names: readonly string[]): Promise<DeviceBody[]> {
  const res = await api.request<{ items: DeviceBody[] }>('GET', '/api/devices?limit=1000');
  return names.map((n) => {
    const d = res.body.items.find((x) => x.name === n);
    if (!d) throw new Error(`no device ${n}`);
    return d;
  });
}

/** A gateway that connects its children and answers RPCs for them with {ok, device}. */
async function gatewayClient(port: number, token: string, children: readonly string[], clientId: string, keepalive = 60): Promise<mqtt.MqttClient> {
  const client = await connectMqtt(port, { username: token, clientId, keepalive });
  await client.subscribeAsync('v1/gateway/rpc', { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic !== 'v1/gateway/rpc') return;
    const req = JSON.parse(payload.toString()) as { device: string; data: { id: number; method: string } };
    void client.publishAsync('v1/gateway/rpc', JSON.stringify({ device: req.device, id: req.data.id, data: { ok: true, device: req.device, method: req.data.method } }), { qos: 1 });
  });
  for (const device of children) await client.publishAsync('v1/gateway/connect', JSON.stringify({ device }), { qos: 1 });
  return client;
}

async function allOnline(api: ApiClient, names: readonly string[]): Promise<void> {
  await eventually(async () => ((await childrenOf(api, names)).every((c) => c.online) ? true : undefined), 10_000, 'children online');
}

/** Polls every 10 ms until every child is offline; resolves with the ms since `from`. */
async function offlineAfter(api: ApiClient, names: readonly string[], from: number): Promise<number> {
  for (;;) {
    const children = await childrenOf(api, names);
    if (children.every((c) => !c.online)) {
      for (const c of children) assert.equal(c.offlineReason, 'gateway_offline', `${c.name} offline reason`);
      return Date.now() - from;
    }
    if (Date.now() - from > 10_000) throw new Error(`children still online: ${children.filter((c) => c.online).map((c) => c.name).join(',')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('children go offline within a second of their gateway disconnecting (clean, killed, keep-alive timeout), reason gateway_offline', async () => {
  const gw = await tp.api.createDevice('gw-follow', { gateway: true });
  const names = ['plc-f1', 'plc-f2', 'plc-f3', 'plc-f4', 'plc-f5'];
  const latencies: Record<string, number> = {};

  // 1. Clean DISCONNECT.
  let client = await gatewayClient(tp.ports.mqtt, gw.accessToken, names, 'gw-follow-1');
  await allOnline(tp.api, names);
  let t0 = Date.now();
  await client.endAsync();
  latencies.clean = await offlineAfter(tp.api, names, t0);

  // 2. The TCP connection killed (no DISCONNECT): the broker sees the socket close.
  client = await gatewayClient(tp.ports.mqtt, gw.accessToken, names, 'gw-follow-2');
  await allOnline(tp.api, names);
  t0 = Date.now();
  client.stream.destroy();
  latencies.killed = await offlineAfter(tp.api, names, t0);
  client.end(true);

  // 3. Keep-alive timeout: a raw client with keepalive 1 s that never pings; the broker closes it
  // after 1.5 × keepalive (MQTT 3.1.1, 3.1.2.10). Measured from that deadline.
  const socket = tcpConnect(tp.ports.mqtt, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const connack = new Promise<void>((resolve) => parser.on('packet', (p: mqttPacket.Packet) => p.cmd === 'connack' && resolve()));
  socket.on('data', (d: Buffer) => parser.parse(d));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'gw-follow-3', keepalive: 1, username: gw.accessToken }));
  await connack;
  for (const [i, device] of names.entries()) socket.write(mqttPacket.generate({ cmd: 'publish', topic: 'v1/gateway/connect', payload: JSON.stringify({ device }), qos: 1, messageId: i + 1, dup: false, retain: false }));
  const lastPacket = Date.now();
  await allOnline(tp.api, names);
  const closedBy = await offlineAfter(tp.api, names, lastPacket);
  latencies.keepalive = closedBy - 1500;
  socket.destroy();

  console.log(`children offline after gateway loss (5 children, ms): clean ${latencies.clean}, killed ${latencies.killed}, keep-alive (after the 1.5 s deadline) ${latencies.keepalive}`);
  assert.ok(latencies.clean < 1000, `clean: ${latencies.clean} ms`);
  assert.ok(latencies.killed < 1000, `killed: ${latencies.killed} ms`);
  assert.ok(latencies.keepalive < 1000, `keep-alive: ${latencies.keepalive} ms after the deadline`);

  // The status route shows the reason too.
  const [first] = await childrenOf(tp.api, names);
  const status = await tp.api.request<StatusBody>('GET', `/api/devices/${first?.id}/status`);
  assert.deepEqual({ online: status.body.online, offlineReason: status.body.offlineReason }, { online: false, offlineReason: 'gateway_offline' });

  // And the CLI's device list.
  const key = await tp.api.request<{ key: string }>('POST', '/api/auth/api-keys', { name: 'gw-children' });
  const listed = await runCli(['device', 'list', '--search', 'plc-f1', '--url', tp.baseUrl, '--api-key', key.body.key]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /plc-f1.*offline \(gateway_offline\)/);
});

test('a child the gateway reports down is offline (device_disconnected) while the gateway stays up; its telemetry does not revive it, a connect does', async () => {
  const gw = await tp.api.createDevice('gw-field', { gateway: true });
  const client = await gatewayClient(tp.ports.mqtt, gw.accessToken, ['plc-up', 'plc-dead'], 'gw-field');
  try {
    await allOnline(tp.api, ['plc-up', 'plc-dead']);
    await client.publishAsync('v1/gateway/disconnect', JSON.stringify({ device: 'plc-dead' }), { qos: 1 });
    const [, dead] = await eventually(async () => {
      const list = await childrenOf(tp.api, ['plc-up', 'plc-dead']);
      return list[1]?.online === false ? list : undefined;
    });
    assert.equal(dead?.offlineReason, 'device_disconnected');
    // A backlog reading from before it went down is stored but does not bring it back.
    await client.publishAsync('v1/gateway/telemetry', JSON.stringify({ 'plc-dead': [{ ts: Date.now() - 60_000, values: { t: 1 } }] }), { qos: 1 });
    const after = await childrenOf(tp.api, ['plc-up', 'plc-dead']);
    assert.equal(after[0]?.online, true, 'the other child stays online');
    assert.equal(after[1]?.online, false, 'telemetry after a disconnect does not revive it');
    await client.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'plc-dead' }), { qos: 1 });
    await allOnline(tp.api, ['plc-up', 'plc-dead']);
    // A child first seen in telemetry is connected implicitly (ThingsBoard's behaviour).
    await client.publishAsync('v1/gateway/telemetry', JSON.stringify({ 'plc-new': { t: 2 } }), { qos: 1 });
    await allOnline(tp.api, ['plc-new']);
  } finally {
    await client.endAsync();
  }
  await offlineAfter(tp.api, ['plc-up', 'plc-dead', 'plc-new'], Date.now());
});

test('a second session of the gateway keeps its children online when the first ends; another gateway cannot disconnect them', async () => {
  const gw = await tp.api.createDevice('gw-two-sessions', { gateway: true });
  const other = await tp.api.createDevice('gw-intruder', { gateway: true });
  const first = await gatewayClient(tp.ports.mqtt, gw.accessToken, ['ts-1', 'ts-2'], 'gw-two-1');
  await allOnline(tp.api, ['ts-1', 'ts-2']);
  // The edge reconnecting under a new client id before the broker noticed the old connection died.
  const second = await gatewayClient(tp.ports.mqtt, gw.accessToken, [], 'gw-two-2');
  await first.endAsync();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await childrenOf(tp.api, ['ts-1', 'ts-2'])).map((c) => c.online), [true, true], 'the gateway is still connected');

  // Another gateway naming these children: refused, and they stay online.
  const intruder = await connectMqtt(tp.ports.mqtt, { username: other.accessToken, clientId: 'gw-intruder', protocolVersion: 5 });
  const reasonCode = await intruder.publishAsync('v1/gateway/disconnect', JSON.stringify({ device: 'ts-1' }), { qos: 1 }).then(
    (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
    (err: { code?: number }) => err.code ?? -1,
  );
  assert.equal(reasonCode, 0x87, 'FORBIDDEN (not authorized)');
  await intruder.endAsync();
  assert.deepEqual((await childrenOf(tp.api, ['ts-1', 'ts-2'])).map((c) => c.online), [true, true]);

  const t0 = Date.now();
  await second.endAsync();
  await offlineAfter(tp.api, ['ts-1', 'ts-2'], t0);
});

test('a persistent command to a child waits QUEUED while its gateway is away and is delivered when it returns: SUCCESSFUL, no retry', async () => {
  const gw = await tp.api.createDevice('gw-outbox', { gateway: true });
  let client = await gatewayClient(tp.ports.mqtt, gw.accessToken, ['valve-1'], 'gw-outbox');
  await allOnline(tp.api, ['valve-1']);
  await client.endAsync();
  const [valve] = await childrenOf(tp.api, ['valve-1']);
  await offlineAfter(tp.api, ['valve-1'], Date.now());

  const sent = await tp.api.request<CommandBody>('POST', `/api/devices/${valve?.id}/commands`, { method: 'open', params: { pct: 50 }, persistent: true, timeoutMs: 2000 });
  assert.equal(sent.status, 201);
  assert.equal(sent.body.status, 'QUEUED');
  // Well past its timeout: still waiting, nothing sent into the void.
  await new Promise((r) => setTimeout(r, 3000));
  const waiting = await tp.api.request<CommandBody>('GET', `/api/commands/${sent.body.id}`);
  assert.deepEqual({ status: waiting.body.status, retries: waiting.body.retries }, { status: 'QUEUED', retries: 0 });

  const t0 = Date.now();
  client = await gatewayClient(tp.ports.mqtt, gw.accessToken, ['valve-1'], 'gw-outbox');
  try {
    const done = await eventually(async () => {
      const c = await tp.api.request<CommandBody>('GET', `/api/commands/${sent.body.id}`);
      return c.body.status === 'SUCCESSFUL' || c.body.status === 'TIMEOUT' || c.body.status === 'FAILED' ? c.body : undefined;
    });
    console.log(`queued command delivered ${Date.now() - t0} ms after the gateway reconnected`);
    assert.equal(done.status, 'SUCCESSFUL');
    assert.equal(done.retries, 0);
    assert.deepEqual(done.response, { ok: true, device: 'valve-1', method: 'open' });
  } finally {
    await client.endAsync();
  }
});

test('the same across a platform restart: queued while the gateway is away, platform stopped (SIGTERM, then SIGKILL) and started on the same data dir, delivered when the gateway returns', async () => {
  const dataDir = tempDir();
  let server = await spawnServer(dataDir);
  let api = await apiClient(`http://127.0.0.1:${server.ports.http}`);
  const gw = await api.createDevice('gw-restart', { gateway: true });
  let client = await gatewayClient(server.ports.mqtt, gw.accessToken, ['pump-1', 'pump-2'], 'gw-restart');
  await allOnline(api, ['pump-1', 'pump-2']);
  await client.endAsync();
  await offlineAfter(api, ['pump-1', 'pump-2'], Date.now());
  const pumps = await childrenOf(api, ['pump-1', 'pump-2']);
  const ids: string[] = [];
  for (const p of pumps) {
    const sent = await api.request<CommandBody>('POST', `/api/devices/${p.id}/commands`, { method: 'start', persistent: true, timeoutMs: 2000 });
    assert.equal(sent.body.status, 'QUEUED');
    ids.push(sent.body.id);
  }

  server.child.kill('SIGTERM');
  await waitForExit(server.child);
  // The first run's ports file would be read as the second's.
  rmSync(join(dataDir, 'ports.json'), { force: true });
  server = await spawnServer(dataDir);
  try {
    api = await apiClient(`http://127.0.0.1:${server.ports.http}`);
    // After the restart, before the gateway is back: children offline (their gateway is), commands still QUEUED.
    for (const p of await childrenOf(api, ['pump-1', 'pump-2'])) assert.deepEqual({ online: p.online, offlineReason: p.offlineReason }, { online: false, offlineReason: 'gateway_offline' });
    await new Promise((r) => setTimeout(r, 2500));
    for (const id of ids) assert.equal((await api.request<CommandBody>('GET', `/api/commands/${id}`)).body.status, 'QUEUED');

    client = await gatewayClient(server.ports.mqtt, gw.accessToken, ['pump-1', 'pump-2'], 'gw-restart');
    try {
      for (const id of ids) {
        const done = await eventually(async () => {
          const c = await api.request<CommandBody>('GET', `/api/commands/${id}`);
          return ['SUCCESSFUL', 'TIMEOUT', 'FAILED', 'EXPIRED'].includes(c.body.status) ? c.body : undefined;
        });
        assert.deepEqual({ status: done.status, retries: done.retries }, { status: 'SUCCESSFUL', retries: 0 });
      }
    } finally {
      await client.endAsync();
    }

    // Once more with the platform killed (SIGKILL: no clean shutdown, no last status flush).
    await offlineAfter(api, ['pump-1', 'pump-2'], Date.now());
    const [pump1] = await childrenOf(api, ['pump-1']);
    const queued = await api.request<CommandBody>('POST', `/api/devices/${pump1?.id}/commands`, { method: 'stop', persistent: true, timeoutMs: 2000 });
    assert.equal(queued.body.status, 'QUEUED');
    server.child.kill('SIGKILL');
    await waitForExit(server.child);
    rmSync(join(dataDir, 'ports.json'), { force: true });
    server = await spawnServer(dataDir);
    api = await apiClient(`http://127.0.0.1:${server.ports.http}`);
    assert.deepEqual(
      (await childrenOf(api, ['pump-1', 'pump-2'])).map((p) => [p.online, p.offlineReason]),
      [
        [false, 'gateway_offline'],
        [false, 'gateway_offline'],
      ],
    );
    client = await gatewayClient(server.ports.mqtt, gw.accessToken, ['pump-1', 'pump-2'], 'gw-restart');
    try {
      const done = await eventually(async () => {
        const c = await api.request<CommandBody>('GET', `/api/commands/${queued.body.id}`);
        return ['SUCCESSFUL', 'TIMEOUT', 'FAILED', 'EXPIRED'].includes(c.body.status) ? c.body : undefined;
      });
      assert.deepEqual({ status: done.status, retries: done.retries }, { status: 'SUCCESSFUL', retries: 0 });
    } finally {
      await client.endAsync();
    }
  } finally {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
  }
});
