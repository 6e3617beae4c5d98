/**
 * Two platform processes on one PostgreSQL database and one NATS server (issue 14 item 4): a
 * device created through node A's REST API connects over MQTT to node B; a command sent through A
 * reaches it on B and A answers with the reply; telemetry published on B is read on A; a shared
 * attribute set on A is pushed to the device on B; a persistent command to an offline device waits
 * in the outbox and is delivered when the device connects (to either node). Presence, in
 * PostgreSQL, tells every node which one holds the session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type mqtt from 'mqtt';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';
import { CREDENTIAL_KEY_FILE } from '../../src/apps/credential-key.js';
import { apiClient, connectMqtt, eventually, spawnServer, tempDir, waitForExit, type ApiClient, type ServerProcess } from '../support/platform.js';

const PREFIX = `cs${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
const dirs: string[] = [];
const nodes: ServerProcess[] = [];

interface Node {
  readonly server: ServerProcess;
  readonly api: ApiClient;
}

/** One node: its own data dir (with the cluster's credential key, when `keyFrom` has it), the shared database and bus. */
async function startNode(id: string, keyFrom?: string): Promise<Node> {
  const dir = tempDir();
  dirs.push(dir);
  // Device tokens are hashed with the credential key: every node of a cluster needs the same one.
  if (keyFrom) copyFileSync(join(keyFrom, CREDENTIAL_KEY_FILE), join(dir, CREDENTIAL_KEY_FILE));
  const server = await spawnServer(dir, ['--store', 'postgres', '--postgres', db.url, '--bus', 'nats', '--nats', NATS_URL, '--node-id', id]);
  nodes.push(server);
  return { server, api: await apiClient(`http://127.0.0.1:${server.ports.http}`) };
}

let a: Node;
let b: Node;

before(async () => {
  // The bus prefix is read from the environment the spawned nodes inherit.
  process.env.CONTINUUM_BUS_NATS_PREFIX = PREFIX;
  db = await createTestDatabase();
  a = await startNode('a');
  b = await startNode('b', dirs[0]);
});
after(async () => {
  if (process.env.E2E_DUMP) for (const server of nodes) console.log(server.output());
  for (const server of nodes) {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
  }
  await db.drop();
  await deleteStreams(PREFIX);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Answers every RPC request with `{ echo: params, node }`, and records shared attribute pushes. */
async function deviceOn(node: Node, token: string, clientId: string): Promise<{ client: mqtt.MqttClient; shared: unknown[]; requests: string[] }> {
  const client = await connectMqtt(node.server.ports.mqtt, { username: token, clientId, protocolVersion: 5 });
  const shared: unknown[] = [];
  const requests: string[] = [];
  client.on('message', (topic, payload) => {
    if (topic === 'v1/devices/me/attributes') shared.push(JSON.parse(payload.toString()));
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const { method, params } = JSON.parse(payload.toString()) as { method: string; params: unknown };
    requests.push(method);
    void client.publishAsync(`v1/devices/me/rpc/response/${topic.split('/').pop()}`, JSON.stringify({ echo: params, method }), { qos: 1 });
  });
  await client.subscribeAsync(['v1/devices/me/rpc/request/+', 'v1/devices/me/attributes'], { qos: 1 });
  return { client, shared, requests };
}

const online = (node: Node, id: string): Promise<true> =>
  eventually(async () => ((await node.api.request<{ online?: boolean }>('GET', `/api/devices/${id}/status`)).body.online === true ? true : undefined), 15_000, `device ${id} online`);

test('a device on node B: commands and attributes through node A reach it, its telemetry is read on A', async () => {
  const device = await a.api.createDevice('cluster-meter');
  const dev = await deviceOn(b, device.accessToken, 'cluster-meter-1');
  try {
    await online(a, device.id);

    const command = await a.api.request<{ status: string; response?: unknown }>('POST', `/api/devices/${device.id}/commands`, { method: 'setValve', params: { open: true }, timeoutMs: 10_000 });
    assert.equal(command.status, 201, JSON.stringify(command.body));
    assert.equal(command.body.status, 'SUCCESSFUL');
    assert.deepEqual(command.body.response, { echo: { open: true }, method: 'setValve' });

    const ts = Date.now() - 1_000;
    await dev.client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts, values: { flow: 12.5 } }), { qos: 1 });
    const series = await eventually(async () => {
      const res = await a.api.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${device.id}/telemetry?keys=flow&from=${ts}&to=${ts + 1}`);
      return res.body.flow?.length ? res.body.flow : undefined;
    }, 10_000, 'the telemetry on A');
    assert.deepEqual(series.map((p) => [p.ts, p.value]), [[ts, 12.5]]);

    const set = await a.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { target: 21 });
    assert.ok(set.status < 300, JSON.stringify(set.body));
    const pushed = await eventually(async () => (dev.shared.length > 0 ? dev.shared : undefined), 10_000, 'the shared attribute push on B');
    assert.deepEqual(pushed, [{ target: 21 }]);
  } finally {
    await dev.client.endAsync();
  }
});

test('a persistent command to an offline device waits in the outbox and is delivered once it connects to either node', async () => {
  for (const [name, connectTo] of [['sleeper-a', () => a], ['sleeper-b', () => b]] as const) {
    const device = await a.api.request<{ id: string; accessToken: string }>('POST', '/api/devices', { name }).then((r) => r.body);
    const sent = await b.api.request<{ id: string; status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'wake', params: { n: 1 }, persistent: true, timeoutMs: 10_000 });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.status, 'QUEUED');
    const dev = await deviceOn(connectTo(), device.accessToken, `${name}-1`);
    try {
      const done = await eventually(async () => {
        const res = await a.api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
        return res.body.status === 'SUCCESSFUL' ? res.body : undefined;
      }, 20_000, `the queued command of ${name}`);
      assert.deepEqual(done.response, { echo: { n: 1 }, method: 'wake' });
      assert.deepEqual(dev.requests, ['wake'], 'delivered once');
    } finally {
      await dev.client.endAsync();
    }
  }
});

/** Resolves with the reason code of the DISCONNECT the server sent (undefined: closed without one), on close. */
function closedBy(client: mqtt.MqttClient): Promise<number | undefined> {
  let reason: number | undefined;
  client.on('disconnect', (packet) => (reason = packet.reasonCode));
  return new Promise((resolve) => client.once('close', () => resolve(reason)));
}

test('session takeover across nodes: the same client id connecting to the other node closes the first connection (MQTT 5: 0x8E; 3.1.1: closed)', async () => {
  const device = await a.api.createDevice('roamer');
  const first = await deviceOn(a, device.accessToken, 'roamer-1');
  const firstClosed = closedBy(first.client);
  const second = await deviceOn(b, device.accessToken, 'roamer-1');
  try {
    assert.equal(await firstClosed, 0x8e, 'DISCONNECT Session taken over');
    // The session now on B is the one commands reach, through either node.
    const command = await a.api.request<{ status: string; response?: unknown }>('POST', `/api/devices/${device.id}/commands`, { method: 'where', params: {}, timeoutMs: 10_000 });
    assert.equal(command.body.status, 'SUCCESSFUL', JSON.stringify(command.body));
    assert.deepEqual([first.requests, second.requests], [[], ['where']]);

    // MQTT 3.1.1 has no DISCONNECT from the server: the older connection is closed.
    const v4 = await connectMqtt(b.server.ports.mqtt, { username: device.accessToken, clientId: 'roamer-2', protocolVersion: 4 });
    const v4Closed = closedBy(v4);
    const again = await connectMqtt(a.server.ports.mqtt, { username: device.accessToken, clientId: 'roamer-2', protocolVersion: 4 });
    assert.equal(await v4Closed, undefined);
    assert.equal(again.connected, true);
    await again.endAsync();
  } finally {
    first.client.end(true);
    await second.client.endAsync();
  }
});

test('device-to-device topics are routed across nodes once, under the subscriber’s ACL; retained messages are kept on every node', async () => {
  const sensor = await a.api.createDevice('d2d-sensor');
  const panel = await a.api.createDevice('d2d-panel');
  const stranger = await a.api.createDevice('d2d-stranger');
  const grant = await a.api.request('POST', '/api/grants', { subject: { deviceId: panel.id }, actions: ['subscribe'], topic: 'devices/d2d-sensor/#' });
  assert.equal(grant.status, 201, JSON.stringify(grant.body));

  const sensorClient = await connectMqtt(a.server.ports.mqtt, { username: sensor.accessToken, clientId: 'd2d-sensor', protocolVersion: 5 });
  const panelClient = await connectMqtt(b.server.ports.mqtt, { username: panel.accessToken, clientId: 'd2d-panel', protocolVersion: 5 });
  const strangerClient = await connectMqtt(b.server.ports.mqtt, { username: stranger.accessToken, clientId: 'd2d-stranger', protocolVersion: 5 });
  const received: string[] = [];
  panelClient.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  try {
    const granted = await panelClient.subscribeAsync('devices/d2d-sensor/#', { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    // The ACL is checked where the subscriber is: B refuses the stranger's subscription (0x87).
    await assert.rejects(strangerClient.subscribeAsync('devices/d2d-sensor/#', { qos: 1 }), (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0] === 0x87);

    await sensorClient.publishAsync('devices/d2d-sensor/temp', '21.5', { qos: 1 });
    await sensorClient.publishAsync('devices/d2d-sensor/state', 'on', { qos: 1, retain: true });
    await eventually(async () => (received.length >= 2 ? true : undefined), 10_000, 'the messages on B');
    // A last message in order after the two: when it arrives, no duplicate of those is still on its way.
    await sensorClient.publishAsync('devices/d2d-sensor/end', '.', { qos: 1 });
    await eventually(async () => (received.length >= 3 ? true : undefined), 10_000, 'the last message on B');
    assert.deepEqual(received, ['devices/d2d-sensor/temp 21.5', 'devices/d2d-sensor/state on', 'devices/d2d-sensor/end .']);

    // Retained on B too: a new subscription there gets it with RETAIN set.
    const late = await connectMqtt(b.server.ports.mqtt, { username: panel.accessToken, clientId: 'd2d-panel-late', protocolVersion: 5 });
    try {
      const retained = new Promise<[string, string, boolean]>((resolve) => late.once('message', (topic, payload, packet) => resolve([topic, payload.toString(), packet.retain])));
      await late.subscribeAsync('devices/d2d-sensor/state', { qos: 1 });
      assert.deepEqual(await retained, ['devices/d2d-sensor/state', 'on', true]);
    } finally {
      await late.endAsync();
    }
  } finally {
    await Promise.all([sensorClient.endAsync(), panelClient.endAsync(), strangerClient.endAsync()]);
  }
});

/** Connects and resolves with the client and whether the server had the session (CONNACK Session Present). */
async function connectKept(node: Node, token: string, clientId: string): Promise<{ client: mqtt.MqttClient; present: boolean; inbox: string[] }> {
  const { default: mqttjs } = await import('mqtt');
  const client = mqttjs.connect(`mqtt://127.0.0.1:${node.server.ports.mqtt}`, { username: token, clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  const inbox: string[] = [];
  client.on('message', (topic, payload) => inbox.push(`${topic} ${payload.toString()}`));
  const present = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
  return { client, present, inbox };
}

test('a Clean Session 0 client reconnecting to the other node gets its subscriptions and the QoS 1 messages queued meanwhile', async () => {
  const device = await a.api.createDevice('keeper');
  const first = await connectKept(a, device.accessToken, 'keeper-sub');
  assert.equal(first.present, false);
  await first.client.subscribeAsync('devices/keeper/in', { qos: 1 });
  await first.client.endAsync();

  // Published on B while the session is kept offline on A: A queues it, in the shared state.
  const publisher = await connectMqtt(b.server.ports.mqtt, { username: device.accessToken, clientId: 'keeper-pub', protocolVersion: 5 });
  await publisher.publishAsync('devices/keeper/in', 'queued-1', { qos: 1 });
  await publisher.endAsync();
  const pg = await import('pg');
  const sql = new pg.default.Client({ connectionString: db.url });
  await sql.connect();
  try {
    // The forward to A and A's write are asynchronous to B's PUBACK: wait until the message is kept.
    await eventually(async () => ((await sql.query("SELECT 1 FROM mqtt_outbound WHERE topic = 'devices/keeper/in'")).rowCount ? true : undefined), 10_000, 'the queued message in PostgreSQL');
  } finally {
    await sql.end();
  }

  const second = await connectKept(b, device.accessToken, 'keeper-sub');
  try {
    assert.equal(second.present, true, 'the session moved to B');
    await eventually(async () => (second.inbox.length > 0 ? true : undefined), 10_000, 'the queued message on B');
    assert.deepEqual(second.inbox, ['devices/keeper/in queued-1']);
    // The subscription moved too: a new message reaches the client on B, once.
    const again = await connectMqtt(a.server.ports.mqtt, { username: device.accessToken, clientId: 'keeper-pub', protocolVersion: 5 });
    await again.publishAsync('devices/keeper/in', 'live-2', { qos: 1 });
    await again.endAsync();
    await eventually(async () => (second.inbox.length > 1 ? true : undefined), 10_000, 'the live message on B');
    assert.deepEqual(second.inbox, ['devices/keeper/in queued-1', 'devices/keeper/in live-2']);
  } finally {
    await second.client.endAsync();
  }
});
