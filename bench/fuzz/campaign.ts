/**
 * The fuzz campaign: every input surface against a real platform in this process, while an
 * honest device publishes counted QoS 1 telemetry. The network surfaces (MQTT, CoAP, HTTP device
 * API, REST) run at the same time, each on several connections at once; then the pure surfaces
 * (codecs, expression language, MQTT framing) in chunks that keep the platform answering. At
 * the end: acked == stored for the honest device, /healthz answers, memory is back where it was.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { coapSurface } from './net/coap.js';
import { startHonestDevice, type HonestReport } from './net/honest.js';
import { connectionRetries, fetchRoutes, httpSurfaces } from './net/http.js';
import { mqttSurface } from './net/mqtt.js';
import { startWorld } from './net/world.js';
import { pureSurfaces } from './surfaces/pure.js';
import type { Failure, SlowCase, Surface } from './surface.js';

export interface CampaignOptions {
  /** Cases in total, shared out by SHARES. */
  readonly cases: number;
  readonly seed: number;
  /** Include the pending hostile payloads (issue 12 #5 codec limits) and the pending properties. */
  readonly hostile: boolean;
  /** Concurrent connections per network surface. */
  readonly lanes: number;
  log(message: string): void;
}

export interface SurfaceReport {
  readonly surface: string;
  readonly kind: 'network' | 'pure';
  readonly cases: number;
  readonly crashes: number;
  readonly hangs: number;
  readonly property_failures: number;
  readonly pending?: string;
  readonly seconds: number;
  readonly failures: Failure[];
  readonly slowest?: readonly SlowCase[];
}

export interface CampaignResult {
  readonly seed: number;
  readonly hostile: boolean;
  readonly total_cases: number;
  readonly surfaces: SurfaceReport[];
  readonly honest: HonestReport;
  /** Errors that escaped to the process (uncaught exceptions, unhandled rejections). */
  readonly process_crashes: string[];
  readonly healthz_ok: boolean;
  readonly rss_mb: { start: number; peak: number; end: number };
  readonly heap_mb: { start: number; end: number };
  readonly external_mb: { start: number; end: number };
  readonly http_connection_retries: { count: number; examples: string[] };
  readonly memory_timeline: { s: number; rss_mb: number; heap_mb: number; external_mb: number }[];
  readonly event_loop_max_ms: number;
  readonly wall_s: number;
  readonly ok: boolean;
}

/** Share of the cases per network surface; the rest is split evenly over the pure surfaces. */
const NETWORK_SHARE = { mqtt: 0.05, coap: 0.05, device: 0.02, rest: 0.02 };
const CHUNK_NETWORK = 250;
const CHUNK_PURE = 1000;
const NETWORK_TIMEOUT_MS = 15_000;

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/** A full collection before reading memory (also without --expose-gc, e.g. under `npm run bench`). */
function gc(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

class Tally {
  cases = 0;
  crashes = 0;
  hangs = 0;
  propertyFailures = 0;
  readonly failures: Failure[] = [];

  add(cases: number, failure: Failure | undefined): void {
    this.cases += cases;
    if (!failure) return;
    this.cases += 1; // the failing case itself
    if (failure.kind === 'crash') this.crashes++;
    else if (failure.kind === 'hang') this.hangs++;
    else this.propertyFailures++;
    if (this.failures.length < 5) this.failures.push(failure);
  }

  report(surface: Surface, kind: SurfaceReport['kind'], seconds: number): SurfaceReport {
    return {
      surface: surface.name,
      kind,
      cases: this.cases,
      crashes: this.crashes,
      hangs: this.hangs,
      property_failures: this.propertyFailures,
      ...(surface.pending ? { pending: surface.pending } : {}),
      seconds: Math.round(seconds),
      failures: this.failures,
      ...(surface.slowest ? { slowest: surface.slowest() } : {}),
    };
  }
}

/** `lanes` chains of seeded chunks side by side, until `cases` ran. */
async function runNetwork(surface: Surface, cases: number, seed: number, lanes: number, log: (m: string) => void): Promise<SurfaceReport> {
  const tally = new Tally();
  const started = performance.now();
  let nextChunk = 0;
  let reserved = 0;
  let lastLog = started;
  const lane = async (): Promise<void> => {
    while (reserved < cases) {
      const chunk = nextChunk++;
      const size = Math.min(CHUNK_NETWORK, cases - reserved);
      reserved += size;
      const result = await surface.run(size, seed + chunk);
      tally.add(result.cases, result.failure);
      if (result.failure) log(`${surface.name}: ${result.failure.kind} (seed ${result.failure.seed}, path ${result.failure.path}): ${result.failure.error}\n  counterexample: ${result.failure.counterexample.slice(0, 600)}`);
      if (performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        log(`${surface.name}: ${tally.cases.toLocaleString('en')} / ${cases.toLocaleString('en')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return tally.report(surface, 'network', (performance.now() - started) / 1000);
}

async function runPure(surface: Surface, cases: number, seed: number, log: (m: string) => void): Promise<SurfaceReport> {
  const tally = new Tally();
  const started = performance.now();
  for (let chunk = 0; tally.cases < cases; chunk++) {
    const result = await surface.run(Math.min(CHUNK_PURE, cases - tally.cases), seed + chunk);
    tally.add(result.cases, result.failure);
    if (result.failure && tally.failures.length <= 2) log(`${surface.name}: ${result.failure.kind} (seed ${result.failure.seed}, path ${result.failure.path}): ${result.failure.error}\n  counterexample: ${result.failure.counterexample.slice(0, 600)}`);
    // Let the platform serve the honest device between chunks.
    await new Promise((r) => setImmediate(r));
  }
  log(`${surface.name}: ${tally.cases.toLocaleString('en')} cases in ${Math.round((performance.now() - started) / 1000)} s`);
  return tally.report(surface, 'pure', (performance.now() - started) / 1000);
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const began = performance.now();
  const processCrashes: string[] = [];
  const onCrash = (err: unknown): void => {
    processCrashes.push(err instanceof Error ? (err.stack ?? err.message).slice(0, 2000) : String(err));
    opts.log(`PROCESS CRASH: ${processCrashes.at(-1)}`);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const loop = monitorEventLoopDelay({ resolution: 20 });
  const world = await startWorld();
  try {
    const honest = await startHonestDevice(world.tp.api, world.tp.platform.store, world.ports.mqtt);
    const routes = await fetchRoutes(world);
    const http = httpSurfaces(world, routes, { hostile: opts.hostile, timeoutMs: NETWORK_TIMEOUT_MS });
    const network: [Surface, number][] = [
      [mqttSurface(world, { hostile: opts.hostile, timeoutMs: NETWORK_TIMEOUT_MS }), NETWORK_SHARE.mqtt],
      [coapSurface(world, { hostile: opts.hostile, timeoutMs: NETWORK_TIMEOUT_MS }), NETWORK_SHARE.coap],
      [http.device, NETWORK_SHARE.device],
      [http.rest, NETWORK_SHARE.rest],
    ];
    const pure = pureSurfaces.filter((s) => opts.hostile || s.pending === undefined);
    const pureShare = (1 - Object.values(NETWORK_SHARE).reduce((a, b) => a + b, 0)) / pure.length;

    await sleep(1000);
    gc();
    const startMem = process.memoryUsage();
    let peakRss = startMem.rss;
    const timeline: { s: number; rss_mb: number; heap_mb: number; external_mb: number }[] = [];
    let tick = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      // One sample every 30 s: enough to tell a plateau (caches filling) from a leak (a slope).
      if (tick++ % 30 === 0) timeline.push({ s: tick - 1, rss_mb: mb(m.rss), heap_mb: mb(m.heapUsed), external_mb: mb(m.external) });
    }, 1000);
    loop.enable();
    opts.log(`platform on http ${world.ports.http}, mqtt ${world.ports.mqtt}, coap ${world.ports.coap}; RSS ${mb(startMem.rss)} MB; seed ${opts.seed}`);

    const reports: SurfaceReport[] = [];
    try {
      reports.push(...(await Promise.all(network.map(([s, share], i) => runNetwork(s, Math.max(1, Math.round(opts.cases * share)), opts.seed + (i + 1) * 1_000_000, opts.lanes, opts.log)))));
      for (const [i, s] of pure.entries()) reports.push(await runPure(s, Math.max(1, Math.round(opts.cases * pureShare)), opts.seed + (i + 10) * 1_000_000, opts.log));
    } finally {
      clearInterval(sampler);
      loop.disable();
      http.agent.destroy();
    }

    const honestReport = await honest.stop();
    const health = await fetch(`${world.baseUrl}/healthz`).then((r) => r.status === 200, () => false);
    // What is still referenced after the run, not what the collector has not reached yet.
    await sleep(2000);
    gc();
    const endMem = process.memoryUsage();
    const total = reports.reduce((a, r) => a + r.cases, 0);
    const failed = reports.some((r) => !r.pending && r.crashes + r.hangs + r.property_failures > 0);
    return {
      seed: opts.seed,
      hostile: opts.hostile,
      total_cases: total,
      surfaces: reports,
      honest: honestReport,
      process_crashes: processCrashes,
      healthz_ok: health,
      rss_mb: { start: mb(startMem.rss), peak: mb(Math.max(peakRss, endMem.rss)), end: mb(endMem.rss) },
      heap_mb: { start: mb(startMem.heapUsed), end: mb(endMem.heapUsed) },
      external_mb: { start: mb(startMem.external), end: mb(endMem.external) },
      memory_timeline: timeline,
      http_connection_retries: connectionRetries,
      event_loop_max_ms: Math.round(loop.max / 1e6),
      wall_s: Math.round((performance.now() - began) / 1000),
      ok: !failed && processCrashes.length === 0 && health && honestReport.lost === 0,
    };
  } finally {
    await world.stop();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
}

export function printCampaign(r: CampaignResult): void {
  const rows = r.surfaces.map((s) => [s.surface + (s.pending ? ' [pending]' : ''), s.cases.toLocaleString('en'), String(s.crashes), String(s.hangs), String(s.property_failures), `${s.seconds} s`]);
  const header = ['surface', 'cases', 'crashes', 'hangs', 'prop. fail', 'time'];
  const all = [header, ...rows, ['total', r.total_cases.toLocaleString('en'), '', '', '', `${r.wall_s} s`]];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  for (const row of all) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '));
  const h = r.honest;
  console.log(`\nhonest device (MQTT 3.1.1, QoS 1): sent ${h.sent}, acked ${h.acked}, stored ${h.stored}, acked-but-lost ${h.lost}, reconnects ${h.reconnects}, slowest PUBACK ${h.maxAckMs} ms`);
  console.log(`process crashes ${r.process_crashes.length}; /healthz ${r.healthz_ok ? 'ok' : 'FAILED'}; RSS start ${r.rss_mb.start} MB, peak ${r.rss_mb.peak} MB, end ${r.rss_mb.end} MB; heap ${r.heap_mb.start} → ${r.heap_mb.end} MB; event loop max ${r.event_loop_max_ms} ms`);
  console.log(`seed ${r.seed}${r.hostile ? ', hostile payloads and pending properties included' : ''}: ${r.ok ? 'OK' : 'FAILED'}`);
}
