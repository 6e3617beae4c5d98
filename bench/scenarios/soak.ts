/**
 * soak: 1,000 devices at half the platform's window-1 maximum (measured first, or --rate) for
 * 10 minutes (--quick: 2), in windows of a minute (--quick: 20 s). Per window: acknowledged
 * msgs/s, PUBACK p99, server RSS and CPU, and the event-loop delay the platform itself reports
 * on /metrics (prom-client's monitorEventLoopDelay, 10 ms resolution, reset at every scrape).
 * Flat means: the last window's RSS and loop-delay p99 within 10% of the second window's.
 */
import { join } from 'node:path';
import { LoadGen } from '../lib/children.js';
import { makeTokens, metricsText, startPlatform } from '../lib/platform.js';
import { emptyMeasured, fmt, r3, type ScenarioResult } from '../lib/report.js';
import { addExpected, checkStore, type Expected } from '../lib/store-check.js';
import { HOST, measured, subdir, summarize, type BenchContext } from './common.js';
import { installAlarmRule, WINDOW } from './ingest.js';

interface LoopStats {
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly heapMb: number;
}

/** Reads the platform's own gauges; each scrape also resets the loop-delay histogram. */
async function scrape(baseUrl: string): Promise<LoopStats> {
  const text = await metricsText(baseUrl);
  const gauge = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { p99Ms: gauge('nodejs_eventloop_lag_p99_seconds') * 1000, maxMs: gauge('nodejs_eventloop_lag_max_seconds') * 1000, heapMb: gauge('nodejs_heap_size_used_bytes') / 2 ** 20 };
}

interface Window {
  readonly minute: number;
  readonly msgs_per_s: number;
  readonly puback_p99_ms: number;
  readonly rss_mb: number;
  readonly heap_mb: number;
  readonly cpu_pct: number;
  readonly loop_p99_ms: number;
  readonly loop_max_ms: number;
}

function within(a: number, b: number, pct: number): boolean {
  return Math.abs(a - b) <= (Math.abs(b) * pct) / 100;
}

export async function soak(ctx: BenchContext): Promise<ScenarioResult> {
  const totalS = ctx.durationS ?? (ctx.quick ? 120 : 600);
  const windowMs = (ctx.quick ? 20 : 60) * 1000;
  const windows = Math.max(3, Math.round((totalS * 1000) / windowMs));
  const tokens = makeTokens(ctx.devices ?? 1000, ctx.tag);
  const dataDir = subdir(ctx, 'platform');
  const platform = await startPlatform({ dataDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  const baseUrl = `http://127.0.0.1:${platform.ports.http}`;
  const expected: Expected = new Map();
  const rows: Window[] = [];
  let rate = 0;
  let unacknowledged = 0;
  let rule = '';
  try {
    await platform.api.importDevices('soak', tokens);
    rule = await installAlarmRule(platform.api, ctx);
    const lg = new LoadGen();
    try {
      await lg.connect({ target: { host: HOST, port: platform.ports.mqtt }, tokens, window: WINDOW, concurrency: 200 });
      const tsBase = Date.now() - 86_400_000;
      ctx.log('calibrating: window 1, full speed, 10 s');
      const max = await lg.run({ cmd: 'mqtt-run', run: { durationMs: 10_000, window: 1, drainMs: 15_000, tsBase } });
      addExpected(expected, tokens, max.perDevice);
      rate = Math.round(summarize(max).msgsPerS / 2);
      ctx.log(`soak: ${rate} msgs/s for ${windows} × ${windowMs / 1000} s`);
      for (let w = 0; w < windows; w++) {
        await scrape(baseUrl);
        const { value, usage } = await measured([platform.proc.pid], () => lg.run({ cmd: 'mqtt-run', run: { durationMs: windowMs, rate, drainMs: 15_000, tsBase } }));
        const loop = await scrape(baseUrl);
        addExpected(expected, tokens, value.perDevice);
        unacknowledged += value.outstanding + value.failed;
        const s = summarize(value);
        const row: Window = { minute: r3(((w + 1) * windowMs) / 60_000), msgs_per_s: Math.round(s.msgsPerS), puback_p99_ms: s.p99, rss_mb: r3(usage[0]!.rssMb), heap_mb: r3(loop.heapMb), cpu_pct: r3(usage[0]!.cpuPct), loop_p99_ms: r3(loop.p99Ms), loop_max_ms: r3(loop.maxMs) };
        rows.push(row);
        ctx.log(`window ${w + 1}: ${row.msgs_per_s} msgs/s, PUBACK p99 ${row.puback_p99_ms} ms, RSS ${row.rss_mb} MB, loop p99 ${row.loop_p99_ms} ms`);
      }
    } finally {
      await lg.close();
    }
  } finally {
    await platform.stop();
  }
  const check = checkStore(join(dataDir, 'continuum.db'), expected, unacknowledged);
  const second = rows[1]!;
  const last = rows[rows.length - 1]!;
  return {
    scenario: 'soak',
    quick: ctx.quick,
    devices: tokens.length,
    rate,
    alarm_rule: rule,
    window_s: windowMs / 1000,
    windows: rows,
    platform: { ...emptyMeasured(), msgs_per_s: last.msgs_per_s, points_per_s: last.msgs_per_s * 3, p99_ms: last.puback_p99_ms, cpu_pct: last.cpu_pct, rss_mb: last.rss_mb, acked: check.acked, stored: check.stored, store_check: check },
    reference: { name: 'none (the platform against its own second window)', msgs_per_s: null },
    ratio: r3(last.rss_mb / second.rss_mb),
    targets: [
      { target: 'RSS at the end within 10% of window 2', measured: `${fmt(last.rss_mb)} vs ${fmt(second.rss_mb)} MB`, met: within(last.rss_mb, second.rss_mb, 10) },
      { target: 'loop delay p99 at the end within 10% of window 2', measured: `${fmt(last.loop_p99_ms)} vs ${fmt(second.loop_p99_ms)} ms`, met: within(last.loop_p99_ms, second.loop_p99_ms, 10) },
      { target: 'acked == stored', measured: check.ok ? 'yes' : 'no', met: check.ok },
    ],
    table: rows.map((r): [string, string, string] => [`${r.minute} min`, `${fmt(r.msgs_per_s)}/s  PUBACK p99 ${fmt(r.puback_p99_ms)} ms  RSS ${fmt(r.rss_mb)} MB  heap ${fmt(r.heap_mb)} MB  CPU ${fmt(r.cpu_pct)} %  loop p99 ${fmt(r.loop_p99_ms)} ms`, '']),
    notes: ['ratio = RSS at the end ÷ RSS in window 2', 'loop delay from nodejs_eventloop_lag_* on /metrics (10 ms sampling resolution)'],
  };
}
