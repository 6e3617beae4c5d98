/**
 * ingest: N smart meters, each its own MQTT connection and token, publish QoS 1 as fast as their
 * windows allow; then at half that rate while probes measure publish → queryable; then the store
 * is checked against every PUBACK. Side by side: Mosquitto forwarding the same load, the load
 * generator against a trivial sink (its own ceiling), and a raw SQLite insert loop.
 */
import { join } from 'node:path';
import { LoadGen } from '../lib/children.js';
import { commitStats, makeTokens, scrapeMetrics, startPlatform, type Api, type CommitStats, type PlatformProcess } from '../lib/platform.js';
import { emptyMeasured, fmt, r3, ratio, type ScenarioResult } from '../lib/report.js';
import { addExpected, checkStore, rawInsertRate, type Expected, type StoreCheck } from '../lib/store-check.js';
import { POINTS_PER_MESSAGE, type RunResult, type RunSpec } from '../loadgen/protocol.js';
import { HOST, measured, mosquittoReference, mqttCeiling, subdir, summarize, type BenchContext, type MosquittoRun, type RunSummary } from './common.js';
import { probeQueryable, type ProbeResult } from './probe.js';

/** PUBLISHes in flight per connection: enough to hide the group-commit latency, as a real fleet's many devices do. */
export const WINDOW = 32;

/**
 * The issue's load has a battery-level alarm rule active: `batteryLevel < 10` raises a LowBattery
 * alarm (the meter payload's batteryLevel cycles 100…1, so ~9% of messages match and every device
 * raises and clears its alarm every 100 messages). A build without the rules API (404) runs
 * without it and says so.
 */
export async function installAlarmRule(api: Api, ctx: BenchContext): Promise<string> {
  if (ctx.noRule) return 'none (--no-rule)';
  const rule = { name: 'battery alarm', condition: 'batteryLevel < 10', actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'warning' }] };
  try {
    await api.request('POST', '/api/rules', JSON.stringify(rule));
    return `active: ${rule.condition} → alarm LowBattery (every device of the tenant)`;
  } catch (err) {
    if (/: 404 /.test((err as Error).message)) return 'none (this build has no rules API)';
    throw err;
  }
}

interface PlatformIngest {
  /** Closed loop, WINDOW in flight per connection: PUBLISHes arrive many to a TCP segment. */
  readonly max: RunSummary;
  readonly cpuPct: number;
  readonly rssMb: number;
  readonly kbPerMsg: number;
  readonly loadgenCpuPct: number;
  readonly commits: CommitStats;
  /** Closed loop, one in flight per connection: one PUBLISH per segment, as from a real device. */
  readonly single: RunSummary;
  readonly singleCpuPct: number;
  readonly singleKbPerMsg: number;
  readonly singleCommits: CommitStats;
  /** Paced at half the single-message maximum, with the REST probes. */
  readonly half: RunSummary;
  readonly halfRate: number;
  readonly probe: ProbeResult;
  readonly check: StoreCheck;
  readonly connectPerS: number;
  readonly rule: string;
  readonly unacknowledged: number;
}

type Measured = Awaited<ReturnType<typeof measured<RunResult>>> & { commits: CommitStats };

function perMessageKb(phase: Measured): number {
  return r3((phase.usage[0]!.writtenMb * 1024) / Math.max(1, phase.value.acked));
}

async function runOnPlatform(ctx: BenchContext, platform: PlatformProcess, tokens: readonly string[], durationMs: number, expected: Expected): Promise<Omit<PlatformIngest, 'check'>> {
  const probes = await Promise.all([0, 1, 2].map((i) => platform.api.createDevice(`probe-${i}`)));
  const rule = await installAlarmRule(platform.api, ctx);
  const lg = new LoadGen();
  const pids = [platform.proc.pid, lg.pid];
  const shortMs = ctx.quick ? 5000 : 20_000;
  try {
    const target = { host: HOST, port: platform.ports.mqtt };
    const conn = await lg.connect({ target, tokens, window: WINDOW, concurrency: 200 });
    if (conn.failed > 0) throw new Error(`${conn.failed} MQTT connections failed: ${conn.firstError}`);
    const tsBase = Date.now() - 86_400_000;
    const metricsUrl = `http://${HOST}:${platform.ports.http}`;
    const phase = async (run: RunSpec): Promise<Measured> => {
      const before = await scrapeMetrics(metricsUrl);
      const t = performance.now();
      const m = await measured(pids, () => lg.run({ cmd: 'mqtt-run', run }));
      return { ...m, commits: commitStats(before, await scrapeMetrics(metricsUrl), (performance.now() - t) / 1000) };
    };
    ctx.log(`platform: ${tokens.length} devices, window ${WINDOW}, full speed, ${durationMs / 1000} s`);
    const max = await phase({ durationMs, drainMs: 15_000, tsBase });
    ctx.log(`platform: window 1 (one PUBLISH per segment), full speed, ${shortMs / 1000} s`);
    const single = await phase({ durationMs: shortMs, window: 1, drainMs: 15_000, tsBase });
    const singleSummary = summarize(single.value);
    const halfRate = Math.round(singleSummary.msgsPerS / 2);
    ctx.log(`platform: paced at ${halfRate} msgs/s (half of window 1), ${shortMs / 1000} s, with REST probes`);
    const [half, probe] = await Promise.all([
      lg.run({ cmd: 'mqtt-run', run: { durationMs: shortMs, rate: halfRate, drainMs: 15_000, tsBase } }),
      probeQueryable(platform.api, platform.ports.mqtt, probes, shortMs - 1000),
    ]);
    let unacknowledged = 0;
    for (const run of [max.value, single.value, half]) {
      addExpected(expected, tokens, run.perDevice);
      unacknowledged += run.outstanding + run.failed;
    }
    return {
      max: summarize(max.value),
      cpuPct: max.usage[0]!.cpuPct,
      rssMb: max.usage[0]!.peakRssMb,
      kbPerMsg: perMessageKb(max),
      loadgenCpuPct: max.usage[1]!.cpuPct,
      commits: max.commits,
      single: singleSummary,
      singleCpuPct: single.usage[0]!.cpuPct,
      singleKbPerMsg: perMessageKb(single),
      singleCommits: single.commits,
      half: summarize(half),
      halfRate,
      probe,
      rule,
      unacknowledged,
      connectPerS: tokens.length / (conn.elapsedMs / 1000),
    };
  } finally {
    await lg.close();
  }
}

export async function platformIngest(ctx: BenchContext, tokens: readonly string[], durationMs: number): Promise<PlatformIngest> {
  const dataDir = subdir(ctx, 'platform');
  const platform = await startPlatform({ dataDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  const expected: Expected = new Map();
  let result: Omit<PlatformIngest, 'check'>;
  try {
    await platform.api.importDevices('meter', tokens);
    result = await runOnPlatform(ctx, platform, tokens, durationMs, expected);
  } finally {
    // SIGTERM: the platform commits what is queued and closes the database.
    const code = await platform.stop();
    if (code !== 0) ctx.log(`platform exited with ${code}: ${platform.proc.output().slice(-2000)}`);
  }
  const check = checkStore(join(dataDir, 'continuum.db'), expected, result.unacknowledged);
  return { ...result, check };
}

export async function ingest(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = (ctx.durationS ?? (ctx.quick ? 10 : 60)) * 1000;
  const tokens = makeTokens(ctx.devices ?? 1000, ctx.tag);
  const ceiling = await mqttCeiling(ctx, tokens, WINDOW, ctx.quick ? 3000 : 15_000);
  const p = await platformIngest(ctx, tokens, durationMs);
  // Window 1 on Mosquitto too in full runs; --quick keeps to the 60 s budget.
  const mosq = await mosquittoReference(ctx, tokens, WINDOW, durationMs, ctx.quick ? 0 : 20_000);
  ctx.log('storage reference: raw better-sqlite3 insert loop at the platform\'s commit sizes');
  const rawRows = ctx.quick ? 300_000 : 1_500_000;
  const raw = rawInsertRate(join(subdir(ctx, 'raw'), 'raw.db'), rawRows, Math.max(3, p.commits.rowsPerCommit));
  const rawSingle = rawInsertRate(join(subdir(ctx, 'raw'), 'raw.db'), Math.min(rawRows, 300_000), Math.max(3, p.singleCommits.rowsPerCommit));
  const msgs = Math.round(p.max.msgsPerS);
  const result: ScenarioResult = {
    scenario: 'ingest',
    quick: ctx.quick,
    devices: tokens.length,
    window: WINDOW,
    duration_s: durationMs / 1000,
    alarm_rule: p.rule,
    platform: {
      ...emptyMeasured(),
      msgs_per_s: msgs,
      points_per_s: msgs * POINTS_PER_MESSAGE,
      p50_ms: p.max.p50,
      p99_ms: p.max.p99,
      cpu_pct: r3(p.cpuPct),
      rss_mb: r3(p.rssMb),
      acked: p.check.acked,
      stored: p.check.stored,
      written_kb_per_msg: p.kbPerMsg,
      group_commit: p.commits,
      store_check: p.check,
      connects_per_s: Math.round(p.connectPerS),
      window_1: { msgs_per_s: Math.round(p.single.msgsPerS), p50_ms: p.single.p50, p99_ms: p.single.p99, cpu_pct: r3(p.singleCpuPct), written_kb_per_msg: p.singleKbPerMsg, group_commit: p.singleCommits },
      half_rate: { rate: p.halfRate, msgs_per_s: Math.round(p.half.msgsPerS), p50_ms: p.half.p50, p99_ms: p.half.p99, probe: p.probe },
    },
    reference: { ...mosq },
    storage_reference: {
      name: 'raw better-sqlite3 insert loop (store layout and pragmas, the platform\'s mean commit size)',
      rows_per_s: Math.round(raw.rowsPerS),
      batch_rows: p.commits.rowsPerCommit,
      platform_points_ratio: r3((msgs * POINTS_PER_MESSAGE) / raw.rowsPerS),
      window_1: { rows_per_s: Math.round(rawSingle.rowsPerS), batch_rows: p.singleCommits.rowsPerCommit },
    },
    loadgen: { ceiling_msgs_per_s: ceiling.msgs_per_s, ceiling_p99_ms: ceiling.p99_ms, ceiling_cpu_pct: ceiling.loadgen_cpu_pct, sink_cpu_pct: ceiling.sink_cpu_pct, cpu_pct_vs_platform: r3(p.loadgenCpuPct), cpu_pct_vs_mosquitto: mosq.loadgen_cpu_pct },
    ratio: ratio(msgs, mosq.msgs_per_s),
    targets: [],
    table: [],
    notes: [],
  };
  fillIngestReport(result, p, mosq, ceiling.msgs_per_s, raw.rowsPerS, rawSingle.rowsPerS);
  return result;
}

function fillIngestReport(r: ScenarioResult, p: PlatformIngest, mosq: MosquittoRun, ceiling: number, rawRows: number, rawSingleRows: number): void {
  const msgs = r.platform.msgs_per_s ?? 0;
  r.table.push(
    [`msgs/s, window ${WINDOW} (QoS 1, sustained)`, fmt(msgs), `${fmt(mosq.msgs_per_s)} forwarded (${fmt(mosq.acked_per_s)} acked)`],
    ['data points/s', fmt(msgs * POINTS_PER_MESSAGE), `raw SQLite loop ${fmt(rawRows)} rows/s in commits of ${fmt(p.commits.rowsPerCommit)}`],
    ['group commits: rows each / mean ms / share of time', `${fmt(p.commits.rowsPerCommit)} / ${fmt(p.commits.meanCommitMs)} ms / ${fmt(p.commits.commitSharePct)} %`, ''],
    ['PUBACK p50 / p99', `${fmt(p.max.p50)} / ${fmt(p.max.p99)} ms`, `${fmt(mosq.p50_ms)} / ${fmt(mosq.p99_ms)} ms`],
    ['server CPU / peak RSS', `${fmt(p.cpuPct)} % / ${fmt(p.rssMb)} MB`, `${fmt(mosq.cpu_pct)} % / ${fmt(mosq.rss_mb)} MB`],
    ['storage written per message', `${fmt(p.kbPerMsg)} KB`, ''],
    ['msgs/s, window 1 (one PUBLISH per segment)', fmt(p.single.msgsPerS), mosq.single ? `${fmt(mosq.single.msgs_per_s)} forwarded` : '(full run only)'],
    ['  window 1: PUBACK p99 / CPU / written per msg', `${fmt(p.single.p99)} ms / ${fmt(p.singleCpuPct)} % / ${fmt(p.singleKbPerMsg)} KB`, ''],
    ['  window 1: commits: rows each / mean ms / share', `${fmt(p.singleCommits.rowsPerCommit)} / ${fmt(p.singleCommits.meanCommitMs)} ms / ${fmt(p.singleCommits.commitSharePct)} %`, `raw SQLite loop ${fmt(rawSingleRows)} rows/s`],
    [`paced ${fmt(p.halfRate)}/s: PUBACK p50 / p99`, `${fmt(p.half.p50)} / ${fmt(p.half.p99)} ms`, ''],
    ['REST probe publish→queryable p50 / p99', `${fmt(p.probe.queryable_p50_ms)} / ${fmt(p.probe.queryable_p99_ms)} ms (${p.probe.samples} probes)`, ''],
    ['acked / stored (checksum)', `${fmt(p.check.acked)} / ${fmt(p.check.stored)} (${p.check.checksumAcked === p.check.checksumStored ? 'equal' : 'DIFFERENT'})`, ''],
    ['load generator ceiling (trivial sink)', `${fmt(ceiling)} msgs/s`, ''],
  );
  r.targets.push(
    { target: '≥ 50,000 msg/s QoS 1 stored', measured: `${fmt(msgs)} (window ${WINDOW}); ${fmt(p.single.msgsPerS)} (window 1)`, met: msgs >= 50_000 },
    { target: '≥ 0.6 × Mosquitto', measured: String(r.ratio), met: r.ratio !== null && r.ratio >= 0.6 },
    { target: 'acked == stored (count and checksum)', measured: p.check.ok ? 'yes' : `no${p.check.error ? `: ${p.check.error}` : ''}`, met: p.check.ok },
    { target: 'p99 publish→queryable < 50 ms at half rate', measured: `${fmt(p.half.p99)} ms (PUBACK after commit)`, met: p.half.p99 < 50 },
  );
  r.notes.push(`alarm rule: ${p.rule}`);
  r.notes.push('PUBACK is sent after the group commit, so PUBACK latency is publish→queryable; the REST probes confirm it (value visible on the first GET after PUBACK)');
  if (ceiling < msgs * 1.5) r.notes.push(`load generator ceiling (${fmt(ceiling)}) is close to the measured rate: the generator may be the limit`);
}
