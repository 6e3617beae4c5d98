/**
 * Issue 14, Must show: three Continuum processes on one PostgreSQL database and one NATS stream
 * prefix; QoS 1 publishers spread over the three; node C is SIGKILLed mid-run and its devices
 * reconnect to A and B, re-sending what C had not acknowledged. Every PUBACK any node sent is a
 * point in PostgreSQL: acked == stored, per device, by count and by checksum.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { Qos1Publisher, storedSeqs } from '../../support/qos1-publisher.js';

const DEVICES = 9;
const MESSAGES = 300;
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 3 });
});
after(async () => {
  await cluster?.stop();
});

test('SIGKILL of one node mid-run: its devices move to the others and acked == stored (count and checksum)', async () => {
  const api = await cluster.api(0);
  const devices = await Promise.all(Array.from({ length: DEVICES }, (_, i) => api.createDevice(`kill-meter-${i}`)));
  const total = DEVICES * MESSAGES;
  let acked = 0;
  let onThird: () => void = () => undefined;
  const third = new Promise<void>((resolve) => (onThird = resolve));
  const baseTs = Date.now() - 3_600_000;
  // Device i starts on node i % 3: three on each node, C's are devices 2, 5 and 8.
  const publishers = devices.map(
    (d, i) =>
      new Qos1Publisher({
        index: i,
        token: d.accessToken,
        messages: MESSAGES,
        window: 4,
        baseTs,
        port: cluster.nodes[i % 3]!.mqttPort,
        livePorts: () => cluster.liveMqttPorts(),
        onAck: () => {
          if (++acked >= total / 3) onThird();
        },
      }),
  );
  const running = Promise.all(publishers.map((p) => p.run()));
  try {
    await third;
    await cluster.kill(2);
    await running;
  } finally {
    for (const p of publishers) p.stop();
  }

  const cPort = cluster.nodes[2]!.mqttPort;
  const moved = publishers.filter((p) => p.ports[0] === cPort);
  assert.equal(moved.length, 3);
  for (const p of moved) {
    assert.ok(p.reconnects >= 1, `device ${p.options.index} reconnected after the kill`);
    assert.ok(p.ports.slice(1).every((port) => port !== cPort), 'moved to a live node');
  }

  const stored = await storedSeqs(cluster.sql.bind(cluster));
  let storedCount = 0;
  let storedSum = 0;
  let ackedSum = 0;
  devices.forEach((d, i) => {
    const p = publishers[i]!;
    const s = stored.get(d.id) ?? { count: 0, sum: 0 };
    assert.equal(p.acked.size, MESSAGES, `device ${i}: every message acknowledged in the end`);
    assert.deepEqual(s, { count: p.acked.size, sum: p.checksum }, `device ${i}: stored == acked`);
    storedCount += s.count;
    storedSum += s.sum;
    ackedSum += p.checksum;
  });
  assert.equal(storedCount, total);
  assert.equal(storedSum, ackedSum);

  // Node C comes back on its data dir and node id and serves again.
  const c = await cluster.restart(2);
  const back = await (await cluster.api(2)).request<{ id: string }>('GET', `/api/devices/${devices[2]!.id}`);
  assert.equal(back.status, 200);
  assert.ok(c.mqttPort > 0);
});
