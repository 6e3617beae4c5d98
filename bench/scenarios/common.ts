/** Pieces every scenario uses: the run context, measured phases, and the two MQTT references. */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { LoadGen, startSink } from '../lib/children.js';
import { Histogram } from '../lib/histogram.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { UsageMeter, type Usage } from '../lib/proc.js';
import { r3 } from '../lib/report.js';
import { TELEMETRY_TOPIC } from '../loadgen/mqtt-wire.js';
import type { RunResult } from '../loadgen/protocol.js';

export const HOST = '127.0.0.1';

export interface BenchContext {
  readonly quick: boolean;
  /** --devices, --duration (seconds) when given. */
  readonly devices?: number;
  readonly durationS?: number;
  /** --cases, --seed: the fuzz scenario's total cases and seed. */
  readonly cases?: number;
  readonly seed?: number;
  /** A temp dir of this run (removed at the end unless --keep). */
  readonly tmp: string;
  /** --cpu-prof DIR: profile the platform server into DIR. */
  readonly cpuProfDir?: string;
  /** --no-rule: run without the battery alarm rule (to measure what the rule costs). */
  readonly noRule?: boolean;
  /** Distinguishes this run's tokens. */
  readonly tag: string;
  log(message: string): void;
}

export function subdir(ctx: BenchContext, name: string): string {
  return mkdtempSync(join(ctx.tmp, `${name}-`));
}

export interface RunSummary {
  readonly msgsPerS: number;
  readonly p50: number;
  readonly p99: number;
  readonly latency: Histogram;
}

export function summarize(run: RunResult): RunSummary {
  const latency = Histogram.fromJSON(run.latency);
  return { msgsPerS: run.ackedInWindow / (run.elapsedMs / 1000), p50: r3(latency.percentileMs(50)), p99: r3(latency.percentileMs(99)), latency };
}

/** Runs `fn` while measuring the CPU and memory of the given processes. */
export async function measured<T>(pids: readonly number[], fn: () => Promise<T>): Promise<{ value: T; usage: Usage[] }> {
  const meters = pids.map((pid) => new UsageMeter(pid));
  for (const m of meters) m.start();
  const value = await fn();
  return { value, usage: meters.map((m) => m.stop()) };
}

export interface LoadgenCeiling {
  readonly msgs_per_s: number;
  readonly p99_ms: number;
  readonly loadgen_cpu_pct: number;
  readonly sink_cpu_pct: number;
}

/** The generator against a sink that PUBACKs at once: what the generator itself can do. */
export async function mqttCeiling(ctx: BenchContext, tokens: readonly string[], window: number, durationMs: number): Promise<LoadgenCeiling> {
  ctx.log(`load generator ceiling: ${tokens.length} connections against the trivial sink, ${durationMs / 1000} s`);
  const sink = await startSink('mqtt');
  const lg = new LoadGen();
  try {
    await lg.connect({ target: { host: HOST, port: sink.port }, tokens, window, concurrency: 200 });
    const { value, usage } = await measured([lg.pid, sink.pid], () => lg.run({ cmd: 'mqtt-run', run: { durationMs, drainMs: 5000, tsBase: Date.now() } }));
    const s = summarize(value);
    return { msgs_per_s: Math.round(s.msgsPerS), p99_ms: s.p99, loadgen_cpu_pct: r3(usage[0]!.cpuPct), sink_cpu_pct: r3(usage[1]!.cpuPct) };
  } finally {
    await lg.close();
    await sink.stop();
  }
}

export interface MosquittoRun {
  readonly name: string;
  readonly msgs_per_s: number;
  readonly acked_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly cpu_pct: number;
  readonly rss_mb: number;
  readonly loadgen_cpu_pct: number;
  readonly acked: number;
  readonly received: number;
  /** The same with one PUBLISH in flight per connection, when asked for. */
  readonly single?: { readonly msgs_per_s: number; readonly p99_ms: number; readonly cpu_pct: number };
}

/** Mosquitto forwarding the same load to one QoS 1 subscriber; msgs/s = what the subscriber got. */
export async function mosquittoReference(ctx: BenchContext, tokens: readonly string[], window: number, durationMs: number, singleMs = 0): Promise<MosquittoRun> {
  ctx.log(`reference: mosquitto, ${tokens.length} publishers → 1 subscriber, ${durationMs / 1000} s`);
  const broker = await startMosquitto(subdir(ctx, 'mosquitto'));
  const lg = new LoadGen();
  try {
    await lg.subscribe({ host: HOST, port: broker.port }, TELEMETRY_TOPIC);
    const conn = await lg.connect({ target: { host: HOST, port: broker.port }, tokens, window, concurrency: 200 });
    if (conn.failed > 0) throw new Error(`mosquitto: ${conn.failed} connections failed: ${conn.firstError}`);
    const { value, usage } = await measured([broker.proc.pid, lg.pid], () =>
      lg.run({ cmd: 'mqtt-run', run: { durationMs, drainMs: 15_000, tsBase: Date.now() } }),
    );
    const s = summarize(value);
    const seconds = durationMs / 1000;
    let single: MosquittoRun['single'];
    if (singleMs > 0) {
      ctx.log(`reference: mosquitto, window 1, ${singleMs / 1000} s`);
      const one = await measured([broker.proc.pid], () => lg.run({ cmd: 'mqtt-run', run: { durationMs: singleMs, window: 1, drainMs: 15_000, tsBase: Date.now() } }));
      single = { msgs_per_s: Math.round((one.value.receivedInWindow ?? 0) / (singleMs / 1000)), p99_ms: summarize(one.value).p99, cpu_pct: r3(one.usage[0]!.cpuPct) };
    }
    return {
      ...(single ? { single } : {}),
      name: 'mosquitto 2.0 (QoS 1 → 1 subscriber)',
      msgs_per_s: Math.round((value.receivedInWindow ?? 0) / seconds),
      acked_per_s: Math.round(s.msgsPerS),
      p50_ms: s.p50,
      p99_ms: s.p99,
      cpu_pct: r3(usage[0]!.cpuPct),
      rss_mb: r3(usage[0]!.peakRssMb),
      loadgen_cpu_pct: r3(usage[1]!.cpuPct),
      acked: value.acked,
      received: value.received ?? 0,
    };
  } finally {
    await lg.close();
    await broker.stop();
  }
}
