/**
 * cluster-ingest (`npm run bench -- cluster-ingest [--quick] [--devices N] [--duration S]`):
 * QoS 1 ingest on a cluster of 1, 2 and 3 Continuum nodes on this machine (PostgreSQL store,
 * NATS JetStream bus: the machine's servers), each its own database and stream prefix, devices
 * spread round robin over the nodes, one load generator per node. Beside them, in the same run:
 * the single-node SQLite platform under the same load, raw PostgreSQL upsert and COPY into the
 * ts_kv shape, and raw JetStream publish (bench/lib/cluster-refs.ts). Per-node CPU from
 * /proc/<pid>/stat. Every run checks acked == stored (count and checksum per device, read from
 * PostgreSQL or the SQLite file).
 *
 * On one 2-core machine the nodes, PostgreSQL, NATS and the load generators share the same cores,
 * so more nodes do not mean more capacity here: the figures show what a node costs per message
 * and where the shared servers stand, and the prediction for N machines is a model built on
 * them (see `prediction`), not a measurement.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import { LoadGen } from './lib/children.js';
import { benchDatabase, jetstreamReference, NATS_BENCH_URL, postgresReferences } from './lib/cluster-refs.js';
import { makeTokens, startPlatform, type PlatformProcess } from './lib/platform.js';
import { UsageMeter } from './lib/proc.js';
import { emptyMeasured, fmt, r3, ratio, type ScenarioResult } from './lib/report.js';
import { addExpected, checkStore, type Expected } from './lib/store-check.js';
import { POINTS_PER_MESSAGE, type RunResult } from './loadgen/protocol.js';
import { HOST, subdir, type BenchContext } from './scenarios/common.js';
import { WINDOW } from './scenarios/ingest.js';

interface NodeFigure {
  readonly node: string;
  readonly msgs_per_s: number;
  readonly cpu_pct: number;
  readonly rss_mb: number;
}

interface IngestRun {
  readonly nodes: number;
  readonly msgs_per_s: number;
  readonly per_node: NodeFigure[];
  /** Sum of the nodes' CPU, percent of one core. */
  readonly node_cpu_pct: number;
  readonly loadgen_cpu_pct: number;
  /** Messages per second per core-second the nodes spent: the nodes' cost, whatever shares the machine. */
  readonly msgs_per_node_core_s: number;
  readonly acked: number;
  readonly stored: number;
  readonly checksum_acked: number;
  readonly checksum_stored: number;
  readonly unacknowledged: number;
  readonly ok: boolean;
  /** Telemetry events the nodes published to JetStream per acknowledged message (one per device and commit). */
  readonly bus_events_per_msg?: number;
}

/** Runs one load generator per platform process, tokens split round robin, all at once. */
async function drive(ctx: BenchContext, platforms: PlatformProcess[], tokens: readonly string[], durationMs: number): Promise<{ runs: RunResult[]; shares: string[][]; cpu: number[]; rss: number[]; loadgenCpu: number }> {
  const shares = platforms.map((_, n) => tokens.filter((__, i) => i % platforms.length === n));
  const gens = platforms.map(() => new LoadGen());
  try {
    await Promise.all(
      gens.map(async (lg, n) => {
        const conn = await lg.connect({ target: { host: HOST, port: platforms[n]!.ports.mqtt }, tokens: shares[n]!, window: WINDOW, concurrency: 100 });
        if (conn.failed > 0) throw new Error(`node ${n}: ${conn.failed} MQTT connections failed: ${conn.firstError}`);
      }),
    );
    const meters = [...platforms.map((p) => new UsageMeter(p.proc.pid)), ...gens.map((g) => new UsageMeter(g.pid))];
    for (const m of meters) m.start();
    const tsBase = Date.now() - 86_400_000;
    ctx.log(`${platforms.length} node(s): ${tokens.length} devices, window ${WINDOW}, ${durationMs / 1000} s`);
    const runs = await Promise.all(gens.map((lg) => lg.run({ cmd: 'mqtt-run', run: { durationMs, drainMs: 30_000, tsBase } })));
    const usage = meters.map((m) => m.stop());
    return {
      runs,
      shares,
      cpu: usage.slice(0, platforms.length).map((u) => u.cpuPct),
      rss: usage.slice(0, platforms.length).map((u) => u.peakRssMb),
      loadgenCpu: usage.slice(platforms.length).reduce((a, u) => a + u.cpuPct, 0),
    };
  } finally {
    await Promise.all(gens.map((g) => g.close()));
  }
}

/** Per device name: stored pulseCounter points and their sum, from the cluster's database. */
async function storedInPostgres(url: string): Promise<Map<string, { count: number; sum: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; count: string; sum: number }>(
      "SELECT d.name, count(*) AS count, sum(k.n) AS sum FROM ts_kv k JOIN devices d ON d.id = k.device_id WHERE k.key = 'pulseCounter' GROUP BY d.name",
    );
    return new Map(rows.map((r) => [r.name, { count: Number(r.count), sum: Number(r.sum) }]));
  } finally {
    await client.end();
  }
}

function summarizeRun(nodes: number, d: Awaited<ReturnType<typeof drive>>, durationMs: number, counts: { acked: number; stored: number; checksumAcked: number; checksumStored: number; ok: boolean }): IngestRun {
  const seconds = durationMs / 1000;
  const perNode = d.runs.map((r, n) => ({ node: `node-${n + 1}`, msgs_per_s: Math.round(r.ackedInWindow / seconds), cpu_pct: r3(d.cpu[n]!), rss_mb: r3(d.rss[n]!) }));
  const msgs = perNode.reduce((a, n) => a + n.msgs_per_s, 0);
  const nodeCpu = d.cpu.reduce((a, c) => a + c, 0);
  return {
    nodes,
    msgs_per_s: msgs,
    per_node: perNode,
    node_cpu_pct: r3(nodeCpu),
    loadgen_cpu_pct: r3(d.loadgenCpu),
    msgs_per_node_core_s: Math.round(msgs / Math.max(0.01, nodeCpu / 100)),
    acked: counts.acked,
    stored: counts.stored,
    checksum_acked: counts.checksumAcked,
    checksum_stored: counts.checksumStored,
    unacknowledged: d.runs.reduce((a, r) => a + r.outstanding + r.failed, 0),
    ok: counts.ok,
  };
}

/** N nodes on a fresh database and stream prefix; stopped (SIGTERM) and removed at the end. */
async function clusterRun(ctx: BenchContext, nodes: number, tokens: readonly string[], durationMs: number): Promise<IngestRun> {
  const db = await benchDatabase();
  const prefix = `bc${randomBytes(4).toString('hex')}`;
  const env = {
    CONTINUUM_BUS_NATS_PREFIX: prefix,
    CONTINUUM_BUS_NATS_PARTITIONS: '16',
    CONTINUUM_AUTH_CREDENTIAL_KEY: randomBytes(32).toString('base64'),
  };
  const platforms: PlatformProcess[] = [];
  try {
    for (let n = 0; n < nodes; n++) {
      const args = ['--store', 'postgres', '--postgres', db.url, '--bus', 'nats', '--nats', NATS_BENCH_URL, '--node-id', `bench-${n + 1}`];
      platforms.push(await startPlatform({ dataDir: subdir(ctx, `node${n + 1}`), args, env }));
    }
    await platforms[0]!.api.importDevices('meter', tokens);
    const d = await drive(ctx, platforms, tokens, durationMs);
    const stored = await storedInPostgres(db.url);
    let acked = 0;
    let checksumAcked = 0;
    let storedCount = 0;
    let checksumStored = 0;
    let mismatched = 0;
    d.shares.forEach((share, n) => {
      const perDevice = d.runs[n]!.perDevice;
      share.forEach((token, j) => {
        const name = `meter-${tokens.indexOf(token)}`;
        const s = stored.get(name) ?? { count: 0, sum: 0 };
        acked += perDevice.acked[j] ?? 0;
        checksumAcked += perDevice.pulseSum[j] ?? 0;
        storedCount += s.count;
        checksumStored += s.sum;
        if (s.count !== perDevice.acked[j] || s.sum !== perDevice.pulseSum[j]) mismatched++;
      });
    });
    const unacked = d.runs.reduce((a, r) => a + r.outstanding + r.failed, 0);
    const events = await streamMessages(`${prefix}_telemetry`);
    // A message sent but not acknowledged (drain timed out) may be stored: the only allowed excess.
    const ok = (mismatched === 0 && storedCount === acked) || (storedCount >= acked && storedCount - acked <= unacked);
    return { ...summarizeRun(nodes, d, durationMs, { acked, stored: storedCount, checksumAcked, checksumStored, ok }), bus_events_per_msg: r3(events / Math.max(1, acked)) };
  } finally {
    for (const p of platforms.reverse()) await p.stop();
    await db.drop();
    await dropStreams(prefix);
  }
}

/** Messages in a stream now (0 when it does not exist). */
async function streamMessages(stream: string): Promise<number> {
  const nc = await connect({ servers: NATS_BENCH_URL });
  try {
    return (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
  } catch {
    return 0;
  } finally {
    await nc.close();
  }
}

async function dropStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_BENCH_URL });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/** The single-node SQLite platform under the same load (one node, one load generator). */
async function sqliteRun(ctx: BenchContext, tokens: readonly string[], durationMs: number): Promise<IngestRun> {
  const dataDir = subdir(ctx, 'sqlite');
  const platform = await startPlatform({ dataDir });
  let d: Awaited<ReturnType<typeof drive>>;
  try {
    await platform.api.importDevices('meter', tokens);
    d = await drive(ctx, [platform], tokens, durationMs);
  } finally {
    await platform.stop();
  }
  const expected: Expected = new Map();
  addExpected(expected, tokens, d.runs[0]!.perDevice);
  const unacked = d.runs[0]!.outstanding + d.runs[0]!.failed;
  const check = checkStore(join(dataDir, 'continuum.db'), expected, unacked);
  return summarizeRun(1, d, durationMs, { acked: check.acked, stored: check.stored, checksumAcked: check.checksumAcked, checksumStored: check.checksumStored, ok: check.ok });
}

export async function clusterIngest(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = (ctx.durationS ?? (ctx.quick ? 8 : 30)) * 1000;
  const tokens = makeTokens(ctx.devices ?? (ctx.quick ? 150 : 600), ctx.tag);
  ctx.log('reference: single-node SQLite platform');
  const sqlite = await sqliteRun(ctx, tokens, durationMs);
  const cluster: IngestRun[] = [];
  for (const n of [1, 2, 3]) cluster.push(await clusterRun(ctx, n, tokens, durationMs));
  ctx.log('reference: raw PostgreSQL unnest upsert and COPY');
  const pgRef = await postgresReferences(ctx.quick ? 2 : 5);
  ctx.log('reference: raw JetStream publish');
  const jsRef = await jetstreamReference(ctx.quick ? 20_000 : 100_000);
  const best = cluster.reduce((a, r) => (r.msgs_per_s > a.msgs_per_s ? r : a));
  const prediction = predict(cluster, pgRef.upsert.per_s, jsRef.per_s);
  const result: ScenarioResult = {
    scenario: 'cluster-ingest',
    quick: ctx.quick,
    devices: tokens.length,
    window: WINDOW,
    duration_s: durationMs / 1000,
    platform: {
      ...emptyMeasured(),
      msgs_per_s: cluster[2]!.msgs_per_s,
      points_per_s: cluster[2]!.msgs_per_s * POINTS_PER_MESSAGE,
      cpu_pct: cluster[2]!.node_cpu_pct,
      acked: cluster[2]!.acked,
      stored: cluster[2]!.stored,
    },
    reference: { name: 'single-node SQLite platform, same load', msgs_per_s: sqlite.msgs_per_s },
    runs: { sqlite, cluster },
    raw_postgres: pgRef,
    raw_jetstream: jsRef,
    prediction,
    ratio: ratio(cluster[2]!.msgs_per_s, sqlite.msgs_per_s),
    targets: [
      { target: 'acked == stored in every run (count and checksum)', measured: [sqlite, ...cluster].map((r) => (r.ok ? 'yes' : 'NO')).join(' / '), met: [sqlite, ...cluster].every((r) => r.ok) },
    ],
    table: [],
    notes: [
      'one 2-core machine: nodes, PostgreSQL, NATS and the load generators share the cores, so added nodes add no capacity here',
      `best: ${best.nodes} node(s), ${fmt(best.msgs_per_s)} msgs/s`,
      prediction.line,
    ],
  };
  for (const r of [sqlite, ...cluster]) {
    const label = r === sqlite ? 'SQLite, 1 node' : `cluster, ${r.nodes} node(s)`;
    result.table.push([
      `${label}: msgs/s (points/s)`,
      `${fmt(r.msgs_per_s)} (${fmt(r.msgs_per_s * POINTS_PER_MESSAGE)})`,
      `${r.bus_events_per_msg !== undefined ? `${fmt(r.bus_events_per_msg)} bus events/msg; ` : ''}node CPU ${r.per_node.map((n) => `${fmt(n.cpu_pct)} %`).join(' + ')}; ${fmt(r.msgs_per_node_core_s)} msgs per node core-s; acked ${fmt(r.acked)} = stored ${fmt(r.stored)}${r.checksum_acked === r.checksum_stored ? ' (checksum equal)' : ' (checksum DIFFERENT)'}`,
    ]);
  }
  result.table.push(
    ['raw PostgreSQL unnest upsert, ts_kv shape', `${fmt(pgRef.upsert.per_s)} rows/s`, `batches of ${fmt(pgRef.batch_rows)}; = ${fmt(pgRef.upsert.per_s / POINTS_PER_MESSAGE)} msgs/s of 3 points`],
    ['raw PostgreSQL COPY (server file, CSV)', `${fmt(pgRef.copy.per_s)} rows/s`, `${fmt(pgRef.copy.n)} rows`],
    ['raw JetStream publish (R1 file, 1,000 in flight)', `${fmt(jsRef.per_s)} msgs/s`, `${jsRef.bytes} B each`],
  );
  return result;
}

/**
 * What N machines would do, from this run: each node on a 2-core machine of its own spends the
 * measured node core-seconds per message (the best of the 1–3 node runs) on both cores; the
 * shared PostgreSQL takes the raw upsert rate (3 rows a message) and JetStream the raw
 * publish rate divided by the bus events per message measured (one event per device and commit);
 * the cluster gets the smallest of the three.
 */
function predict(cluster: IngestRun[], pgRowsPerS: number, jsEventsPerS: number): { per_machine_msgs_per_s: number; postgres_msgs_per_s: number; jetstream_msgs_per_s: number; n: Record<string, number>; line: string } {
  const perCore = Math.max(...cluster.map((r) => r.msgs_per_node_core_s));
  const perMachine = perCore * 2;
  const pgMsgs = pgRowsPerS / POINTS_PER_MESSAGE;
  // The relay publishes one telemetry event per device and commit: fewer events than messages.
  const eventsPerMsg = Math.max(...cluster.map((r) => r.bus_events_per_msg ?? 1));
  const jsMsgsPerS = Math.round(jsEventsPerS / Math.max(0.001, eventsPerMsg));
  const n: Record<string, number> = {};
  for (const machines of [1, 2, 3, 5, 10]) n[String(machines)] = Math.round(Math.min(machines * perMachine, pgMsgs, jsMsgsPerS));
  const line =
    `prediction, N 2-core machines for nodes (PostgreSQL and NATS on their own): min(N × ${fmt(perMachine)}, PostgreSQL ${fmt(pgMsgs)}, JetStream ${fmt(jsMsgsPerS)} at ${fmt(eventsPerMsg)} events/msg) msgs/s → ` +
    Object.entries(n).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ');
  return { per_machine_msgs_per_s: Math.round(perMachine), postgres_msgs_per_s: Math.round(pgMsgs), jetstream_msgs_per_s: jsMsgsPerS, n, line };
}
