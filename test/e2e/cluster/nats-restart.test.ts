/**
 * Issue 14, Must show: the cluster test with a NATS server killed and restarted. Three
 * nats-server processes of the test's own form a JetStream cluster (R3 streams); three Continuum
 * nodes take QoS 1 telemetry from publishers spread over them; one NATS server is SIGKILLed a
 * third of the way through and started again at two thirds. PostgreSQL is the system of record
 * (PUBACK after the commit), so acked == stored by count and checksum; and the bus must come
 * back: the outbox relay publishes everything committed and the consumers drain it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { eventually } from '../../support/platform.js';
import { Qos1Publisher, storedSeqs } from '../../support/qos1-publisher.js';

const DEVICES = 6;
const MESSAGES = 240;
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 3, nats: 'own' });
});
after(async () => {
  await cluster?.stop();
});

test('a NATS server SIGKILLed and restarted mid-run: acked == stored, and the bus catches up', async () => {
  const nats = cluster.nats!;
  const api = await cluster.api(0);
  const devices = await Promise.all(Array.from({ length: DEVICES }, (_, i) => api.createDevice(`nats-meter-${i}`)));
  const total = DEVICES * MESSAGES;
  let acked = 0;
  const at = (fraction: number): { reached: Promise<void>; check: () => void } => {
    let resolve: () => void = () => undefined;
    const reached = new Promise<void>((r) => (resolve = r));
    return { reached, check: () => (acked >= total * fraction ? resolve() : undefined) };
  };
  const third = at(1 / 3);
  const twoThirds = at(2 / 3);
  const publishers = devices.map(
    (d, i) =>
      new Qos1Publisher({
        index: i,
        token: d.accessToken,
        messages: MESSAGES,
        window: 4,
        baseTs: Date.now() - 3_600_000,
        port: cluster.nodes[i % 3]!.mqttPort,
        livePorts: () => cluster.liveMqttPorts(),
        onAck: () => {
          acked++;
          third.check();
          twoThirds.check();
        },
      }),
  );
  const running = Promise.all(publishers.map((p) => p.run()));
  try {
    await third.reached;
    await nats.kill(0);
    const ackedWhileDown = acked;
    await twoThirds.reached;
    assert.ok(acked > ackedWhileDown, 'ingest goes on with one NATS server of three down');
    await nats.restart(0);
    await running;
  } finally {
    for (const p of publishers) p.stop();
  }
  // The nodes made their streams R3 on this cluster (bus.nats.replicas 3): a server could go.
  // Asked until the JetStream API answers: right after a restart the servers may still be electing
  // a meta leader, and a request times out meanwhile (that is NATS recovering, not the platform).
  const nc = await connect({ servers: nats.url.split(',') });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await eventually(() => jsm.streams.info(`${cluster.prefix}_telemetry`), 60_000, 'the JetStream API after the restart');
    assert.equal(info.config.num_replicas, 3);
  } finally {
    await nc.close();
  }

  const stored = await storedSeqs(cluster.sql.bind(cluster));
  devices.forEach((d, i) => {
    const p = publishers[i]!;
    assert.equal(p.acked.size, MESSAGES, `device ${i}: every message acknowledged in the end`);
    assert.deepEqual(stored.get(d.id), { count: p.acked.size, sum: p.checksum }, `device ${i}: stored == acked`);
  });
  // Everything committed reaches the bus and is consumed: the outbox empties, no backlog stays.
  await eventually(async () => {
    const [row] = await cluster.sql<{ n: string }>('SELECT count(*) AS n FROM bus_outbox');
    return Number(row!.n) === 0 ? true : undefined;
  }, 120_000, 'the outbox to drain to NATS');
  await eventually(async () => ((await cluster.busBacklog()) === 0 ? true : undefined), 120_000, 'the bus backlog to drain');
});
