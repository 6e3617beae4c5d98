/**
 * connections: as many idle MQTT devices as the per-process file limit allows (each its own
 * token), opened as fast as the server accepts them; RSS per connection; then 1 msg/s/device.
 * Connections come from 127.0.0.2… so one source address's ephemeral ports never run short.
 * Reference: Mosquitto with the same connections and load (one QoS 1 subscriber).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadGen, startSink } from '../lib/children.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { loopbackSources } from '../lib/net.js';
import { makeTokens, startPlatform } from '../lib/platform.js';
import { rssMb } from '../lib/proc.js';
import { emptyMeasured, fmt, r3, ratio, type ScenarioResult } from '../lib/report.js';
import { addExpected, checkStore, type Expected } from '../lib/store-check.js';
import { TELEMETRY_TOPIC } from '../loadgen/mqtt-wire.js';
import { HOST, measured, subdir, summarize, type BenchContext } from './common.js';

/** File descriptors kept for everything else a process has open (listeners, SQLite, stdio). */
const FD_RESERVE = 200;
const SOURCES = loopbackSources(49); // 127.0.0.2 – 127.0.0.50

function fileLimit(): number {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 1024;
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ConnPhase {
  readonly connected: number;
  readonly failed: number;
  readonly connectsPerS: number;
  readonly kbPerConn: number;
  readonly rssMb: number;
  readonly load: ReturnType<typeof summarize>;
  readonly loadCpuPct: number;
  readonly perDevice: { acked: number[]; pulseSum: number[] };
  readonly unacknowledged: number;
  readonly received?: number;
}

/** Connect all, measure RSS growth, then 1 msg/s/device; `pid` is the server's. */
async function exercise(ctx: BenchContext, pid: number, port: number, tokens: readonly string[], loadMs: number, subscribe: boolean): Promise<ConnPhase> {
  const lg = new LoadGen();
  try {
    if (subscribe) await lg.subscribe({ host: HOST, port }, TELEMETRY_TOPIC);
    await settle(1000);
    const before = rssMb(pid);
    const conn = await lg.connect({ target: { host: HOST, port }, tokens, window: 4, concurrency: 500, localAddresses: SOURCES });
    ctx.log(`${conn.connected} connected in ${(conn.elapsedMs / 1000).toFixed(1)} s${conn.failed ? `, ${conn.failed} failed: ${conn.firstError}` : ''}`);
    await settle(3000);
    const after = rssMb(pid);
    ctx.log(`1 msg/s per device for ${loadMs / 1000} s`);
    const { value, usage } = await measured([pid], () => lg.run({ cmd: 'mqtt-run', run: { durationMs: loadMs, rate: conn.connected, drainMs: 15_000, tsBase: Date.now() - 86_400_000 } }));
    return {
      connected: conn.connected,
      failed: conn.failed,
      connectsPerS: conn.connected / (conn.elapsedMs / 1000),
      kbPerConn: ((after - before) * 1024) / Math.max(1, conn.connected),
      rssMb: after,
      load: summarize(value),
      loadCpuPct: usage[0]!.cpuPct,
      perDevice: value.perDevice,
      unacknowledged: value.outstanding + value.failed,
      ...(value.received !== undefined ? { received: value.receivedInWindow ?? 0 } : {}),
    };
  } finally {
    await lg.close();
  }
}

/** How fast the generator itself opens connections, against a sink that CONNACKs at once. */
async function connectCeiling(tokens: readonly string[]): Promise<number> {
  const sink = await startSink('mqtt');
  const lg = new LoadGen();
  try {
    const conn = await lg.connect({ target: { host: HOST, port: sink.port }, tokens, window: 4, concurrency: 500, localAddresses: SOURCES });
    return conn.connected / (conn.elapsedMs / 1000);
  } finally {
    await lg.close();
    await sink.stop();
  }
}

export async function connections(ctx: BenchContext): Promise<ScenarioResult> {
  const limit = fileLimit();
  const n = Math.min(ctx.devices ?? (ctx.quick ? 5000 : limit - FD_RESERVE), limit - FD_RESERVE);
  const loadMs = (ctx.durationS ?? (ctx.quick ? 10 : 30)) * 1000;
  const tokens = makeTokens(n, ctx.tag);
  ctx.log(`load generator connect ceiling: ${n} connections to a trivial sink`);
  const ceiling = await connectCeiling(tokens);
  const dataDir = subdir(ctx, 'platform');
  const platform = await startPlatform({ dataDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  let p: ConnPhase;
  try {
    ctx.log(`importing ${n} devices (file limit ${limit})`);
    await platform.api.importDevices('idle', tokens);
    ctx.log(`platform: opening ${n} MQTT connections`);
    p = await exercise(ctx, platform.proc.pid, platform.ports.mqtt, tokens, loadMs, false);
  } finally {
    await platform.stop();
  }
  const expected: Expected = new Map();
  addExpected(expected, tokens, p.perDevice);
  const check = checkStore(join(dataDir, 'continuum.db'), expected, p.unacknowledged);

  ctx.log(`reference: mosquitto, ${n} connections`);
  const broker = await startMosquitto(subdir(ctx, 'mosquitto'));
  const m = await exercise(ctx, broker.proc.pid, broker.port, tokens, loadMs, true).finally(() => broker.stop());
  return {
    scenario: 'connections',
    quick: ctx.quick,
    devices: n,
    file_limit: limit,
    source_addresses: `${SOURCES[0]}–${SOURCES[SOURCES.length - 1]}`,
    loadgen: { connect_ceiling_per_s: Math.round(ceiling) },
    platform: {
      ...emptyMeasured(),
      msgs_per_s: Math.round(p.load.msgsPerS),
      points_per_s: Math.round(p.load.msgsPerS * 3),
      p50_ms: p.load.p50,
      p99_ms: p.load.p99,
      cpu_pct: r3(p.loadCpuPct),
      rss_mb: r3(p.rssMb),
      acked: check.acked,
      stored: check.stored,
      connected: p.connected,
      failed: p.failed,
      connects_per_s: Math.round(p.connectsPerS),
      kb_per_connection: r3(p.kbPerConn),
      store_check: check,
    },
    reference: { name: 'mosquitto 2.0', msgs_per_s: m.received !== undefined ? Math.round(m.received / (loadMs / 1000)) : null, connected: m.connected, connects_per_s: Math.round(m.connectsPerS), kb_per_connection: r3(m.kbPerConn), rss_mb: r3(m.rssMb), cpu_pct: r3(m.loadCpuPct), p99_ms: m.load.p99 },
    // The headline here is memory: platform KB per connection ÷ Mosquitto's.
    ratio: ratio(p.kbPerConn, m.kbPerConn),
    targets: [
      { target: '≤ 6 KB RSS per connected device', measured: `${fmt(p.kbPerConn)} KB`, met: p.kbPerConn <= 6 },
      { target: '≥ 5,000 authenticated connects/s', measured: fmt(p.connectsPerS), met: p.connectsPerS >= 5000 },
      { target: `all ${fmt(n)} devices connected`, measured: fmt(p.connected), met: p.failed === 0 },
      { target: 'acked == stored at 1 msg/s/device', measured: check.ok ? 'yes' : 'no', met: check.ok },
    ],
    table: [
      ['connected (failed)', `${fmt(p.connected)} (${p.failed})`, `${fmt(m.connected)} (${m.failed})`],
      ['connects/s', fmt(p.connectsPerS), fmt(m.connectsPerS)],
      ['  load generator ceiling (trivial sink)', `${fmt(ceiling)} connects/s`, ''],
      ['RSS per connection', `${fmt(p.kbPerConn)} KB`, `${fmt(m.kbPerConn)} KB`],
      ['RSS with all connected', `${fmt(p.rssMb)} MB`, `${fmt(m.rssMb)} MB`],
      ['1 msg/s/device: msgs/s', fmt(p.load.msgsPerS), `${fmt(m.received !== undefined ? m.received / (loadMs / 1000) : null)} forwarded`],
      ['  PUBACK p50 / p99', `${fmt(p.load.p50)} / ${fmt(p.load.p99)} ms`, `${fmt(m.load.p50)} / ${fmt(m.load.p99)} ms`],
      ['  server CPU', `${fmt(p.loadCpuPct)} %`, `${fmt(m.loadCpuPct)} %`],
    ],
    notes: [
      'ratio = platform KB per connection ÷ Mosquitto KB per connection (lower is better)',
      ...(ceiling < p.connectsPerS * 1.5 ? [`the generator opens at most ${fmt(ceiling)} connections/s here: connect rates near it measure the generator`] : []),
    ],
  };
}
