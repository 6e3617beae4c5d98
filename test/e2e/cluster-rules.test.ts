/**
 * The whole platform as a cluster node (bus.kind 'nats' + store.kind 'postgres', the machine's
 * nats-server and PostgreSQL, its own stream prefix and database): alone, the node owns every
 * rule partition (metrics say so), a rule fires once through the owned consumers, its firing is
 * recorded under a unique key, and a clean stop hands the partitions back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { connectMqtt, eventually, metricsText, startTestPlatform, type TestPlatform } from '../support/platform.js';

const PREFIX = `cr${randomBytes(4).toString('hex')}`;
const PARTITIONS = 4;
let tp: TestPlatform | undefined;
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
  tp = await startTestPlatform({
    config: {
      store: { kind: 'postgres', synchronous: 'NORMAL', postgres: { url: db.url, poolSize: 4, statementTimeoutMs: 30_000 } },
      bus: { kind: 'nats', nats: { url: NATS_URL, prefix: PREFIX, partitions: PARTITIONS, replicas: 1, ackWaitMs: 5000, maxAgeSeconds: 3600 } },
      cluster: { rulePartitions: true },
    },
  });
});
after(async () => {
  await tp?.stop();
  await db.drop();
  await deleteStreams(PREFIX);
});

test('a cluster node alone owns every rule partition, fires a rule once with its firing recorded, and releases the partitions on stop', async () => {
  const node = tp as TestPlatform;
  const text = await metricsText(node.baseUrl);
  const owned = [...text.matchAll(/^continuum_rule_partition_owned\{partition="(\d+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
  assert.deepEqual(owned, Array.from({ length: PARTITIONS }, () => 1), text.split('\n').filter((l) => l.includes('partition')).join('\n'));
  assert.match(text, /^continuum_cluster_nodes_live 1$/m);

  const device = await node.api.createDevice('cluster-meter');
  const rule = await node.api.request('POST', '/api/rules', { name: 'Low', deviceId: device.id, trigger: 'telemetry', condition: 'level < 10', actions: [{ type: 'alarm', alarmType: 'Low', severity: 'major' }] });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  const client = await connectMqtt(node.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  try {
    for (const level of [50, 8, 7]) await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ level }), { qos: 1 });
  } finally {
    await client.endAsync();
  }
  const alarms = await eventually(async () => {
    const res = await node.api.request<{ items: { type: string; status: string }[] }>('GET', `/api/alarms?deviceId=${device.id}`);
    return res.body.items.length > 0 ? res.body.items : undefined;
  }, 20_000, 'the alarm');
  assert.deepEqual(alarms.map((a) => [a.type, a.status]), [['Low', 'active']]);

  const client2 = new pg.Client({ connectionString: db.url });
  await client2.connect();
  try {
    const firings = await eventually(async () => {
      const r = await client2.query<{ edge: string; dispatched: boolean }>('SELECT edge, dispatched FROM rule_firings WHERE device_id = $1', [device.id]);
      return r.rows.length > 0 && r.rows.every((f) => f.dispatched) ? r.rows : undefined;
    }, 20_000, 'the firing recorded and dispatched');
    assert.deepEqual(firings, [{ edge: 'raise', dispatched: true }]);
    await node.stop();
    tp = undefined;
    const leases = await client2.query('SELECT partition FROM partition_leases WHERE node_id IS NOT NULL');
    assert.equal(leases.rows.length, 0, 'a clean stop releases every partition');
    assert.equal((await client2.query('SELECT 1 FROM cluster_nodes')).rows.length, 0, 'and leaves the membership');
  } finally {
    await client2.end();
  }
});
