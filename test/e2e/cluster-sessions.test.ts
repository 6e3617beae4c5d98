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
