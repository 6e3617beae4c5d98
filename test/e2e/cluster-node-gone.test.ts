/**
 * A node dies (SIGKILL): the survivor is told (Platform.onNodeGone, which the lead wires to
 * cluster membership), expires the dead node's presence (its devices are no longer routed to it)
 * and takes over the persistent MQTT sessions it held, so a Clean Session 0 client reconnecting
 * to the survivor gets its subscriptions and the QoS 1 messages queued since.
 * Node A is a child process (so it can be killed); node B runs in this process (so it can be called).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqttjs from 'mqtt';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';
import { CREDENTIAL_KEY_FILE } from '../../src/apps/credential-key.js';
import { ADMIN, apiClient, connectMqtt, eventually, spawnServer, startTestPlatform, tempDir, waitForExit, type ServerProcess, type TestPlatform } from '../support/platform.js';

const PREFIX = `cg${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
let dirA: string;
let nodeA: ServerProcess | undefined;
let nodeB: TestPlatform | undefined;

before(async () => {
  process.env.CONTINUUM_BUS_NATS_PREFIX = PREFIX;
  db = await createTestDatabase();
  dirA = tempDir();
  nodeA = await spawnServer(dirA, ['--store', 'postgres', '--postgres', db.url, '--bus', 'nats', '--nats', NATS_URL, '--node-id', 'a']);
  nodeB = await startTestPlatform({
    config: {
      node: { id: 'b' },
      store: { kind: 'postgres', synchronous: 'NORMAL', postgres: { url: db.url, poolSize: 4, statementTimeoutMs: 30_000 } },
      bus: { kind: 'nats', nats: { url: NATS_URL, prefix: PREFIX, partitions: 4, replicas: 1, ackWaitMs: 5000, maxAgeSeconds: 3600 } },
      // The cluster's one credential key (device tokens are hashed with it).
      auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600, passwordHashCost: 1024, credentialKey: readFileSync(join(dirA, CREDENTIAL_KEY_FILE), 'utf8').trim() },
    },
  });
});
after(async () => {
  if (nodeA) {
    nodeA.child.kill('SIGKILL');
    await waitForExit(nodeA.child);
  }
  await nodeB?.stop();
  await db.drop();
  await deleteStreams(PREFIX);
  rmSync(dirA, { recursive: true, force: true });
});

test('onNodeGone: the dead node’s presence expires and its persistent MQTT sessions, with their queued messages, are served by the survivor', async () => {
  const a = nodeA as ServerProcess;
  const b = nodeB as TestPlatform;
  const api = await apiClient(`http://127.0.0.1:${a.ports.http}`);
  const device = await api.createDevice('survivor-test');
  const connected = await connectMqtt(a.ports.mqtt, { username: device.accessToken, clientId: 'on-a', protocolVersion: 5 });
  const kept = await connectMqtt(a.ports.mqtt, { username: device.accessToken, clientId: 'kept', protocolVersion: 4, clean: false });
  await kept.subscribeAsync('devices/survivor-test/in', { qos: 1 });
  await kept.endAsync();
  // B sees A's session through the shared presence.
  await eventually(async () => ((await b.api.request<{ online?: boolean }>('GET', `/api/devices/${device.id}/status`)).body.online ? true : undefined), 15_000, 'the device online on B');

  a.child.kill('SIGKILL');
  await waitForExit(a.child);
  nodeA = undefined;
  connected.end(true);

  const expired = await b.platform.onNodeGone('a');
  assert.deepEqual(expired, [device.id]);
  assert.deepEqual(await b.platform.onNodeGone('a'), [], 'a second call finds nothing left');

  // Queued on B for the session B took over, then delivered when its client reconnects to B.
  const publisher = await connectMqtt(b.ports.mqtt, { username: device.accessToken, clientId: 'pub', protocolVersion: 5 });
  await publisher.publishAsync('devices/survivor-test/in', 'after-the-crash', { qos: 1 });
  await publisher.endAsync();
  const back = mqttjs.connect(`mqtt://127.0.0.1:${b.ports.mqtt}`, { username: device.accessToken, clientId: 'kept', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  const inbox: string[] = [];
  back.on('message', (topic, payload) => inbox.push(`${topic} ${payload.toString()}`));
  try {
    const present = await new Promise<boolean>((resolve, reject) => {
      back.once('connect', (connack) => resolve(connack.sessionPresent));
      back.once('error', reject);
    });
    assert.equal(present, true);
    await eventually(async () => (inbox.length > 0 ? true : undefined), 10_000, 'the queued message');
    assert.deepEqual(inbox, ['devices/survivor-test/in after-the-crash']);
  } finally {
    await back.endAsync();
  }
});
