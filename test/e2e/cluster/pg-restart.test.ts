/**
 * Issue 14, Must show: the cluster test with PostgreSQL gone and back. Three Continuum nodes
 * take QoS 1 telemetry from publishers spread over them; a third of the way through, the test's
 * database stops accepting connections and every open one is terminated (what a restart does to
 * the nodes: `57P01 admin_shutdown`, then refused connections). While it is down the platform must
 * not acknowledge: a message published during the outage gets no PUBACK. When the database is
 * back, ingest resumes and acked == stored by count and checksum.
 *
 * The machine's PostgreSQL serves every other test running now, so it is not restarted here:
 * only this test's database is cut off (`ALLOW_CONNECTIONS false` + pg_terminate_backend), which
 * the nodes cannot tell from a restart of the server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { Qos1Publisher, storedSeqs } from '../../support/qos1-publisher.js';

const DEVICES = 6;
const MESSAGES = 200;
/** How long the database stays away: long enough for every node to try and fail to commit. */
const OUTAGE_MS = 5000;
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 3 });
});
after(async () => {
  await cluster?.stop();
});

test('PostgreSQL cut off mid-run: no PUBACK while it is away, acked == stored after it is back', async () => {
  const api = await cluster.api(0);
  const devices = await Promise.all(Array.from({ length: DEVICES + 1 }, (_, i) => api.createDevice(`pg-meter-${i}`)));
  const probeDevice = devices.pop()!;
  const total = DEVICES * MESSAGES;
  let acked = 0;
  let onThird: () => void = () => undefined;
  const third = new Promise<void>((resolve) => (onThird = resolve));
  const baseTs = Date.now() - 3_600_000;
  const options = (i: number, token: string, messages: number, port: number) => ({
    index: i,
    token,
    messages,
    window: 4,
    baseTs,
    port,
    livePorts: () => cluster.liveMqttPorts(),
    stallMs: 10_000,
  });
  const publishers = devices.map(
    (d, i) =>
      new Qos1Publisher({
        ...options(i, d.accessToken, MESSAGES, cluster.nodes[i % 3]!.mqttPort),
        onAck: () => {
          if (++acked >= total / 3) onThird();
        },
      }),
  );
  const running = Promise.all(publishers.map((p) => p.run()));
  let probe: Qos1Publisher | undefined;
  try {
    await third;
    await cluster.cutDatabase();
    // Published after every connection to the database was terminated: nothing can commit it.
    probe = new Qos1Publisher(options(DEVICES, probeDevice.accessToken, 1, cluster.nodes[0]!.mqttPort));
    const probing = probe.run();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    assert.equal(probe.acked.size, 0, 'no PUBACK while the database is unreachable');
    const dead = cluster.nodes.filter((n) => n.server.child.exitCode !== null || n.server.child.signalCode !== null);
    assert.deepEqual(dead.map((n) => `${n.id}: ${n.server.output().slice(-1500)}`), [], 'every node is still running');
    await cluster.restoreDatabase();
    await Promise.all([running, probing]);
  } finally {
    for (const p of publishers) p.stop();
    probe?.stop();
  }

  const stored = await storedSeqs(cluster.sql.bind(cluster));
  [...publishers, probe!].forEach((p, i) => {
    const id = i < DEVICES ? devices[i]!.id : probeDevice.id;
    assert.equal(p.acked.size, p.options.messages, `device ${i}: every message acknowledged in the end`);
    assert.deepEqual(stored.get(id), { count: p.acked.size, sum: p.checksum }, `device ${i}: stored == acked`);
  });
});
