/**
 * ingest-http and ingest-coap: the smart-meter load through the HTTP device API (keep-alive
 * connections, one request in flight each) and CoAP (Confirmable POSTs, one UDP endpoint per
 * device). The reference is a bare server on the same library stack (node:http, npm coap) that
 * parses the JSON and answers at once: what the transport costs before any platform work.
 */
import { join } from 'node:path';
import { LoadGen, startSink } from '../lib/children.js';
import { makeTokens, startPlatform } from '../lib/platform.js';
import { emptyMeasured, fmt, r3, ratio, type ScenarioResult } from '../lib/report.js';
import { addExpected, checkStore, type Expected } from '../lib/store-check.js';
import { POINTS_PER_MESSAGE, type LoadCommand, type RunResult, type RunSpec, type Target } from '../loadgen/protocol.js';
import { HOST, measured, subdir, summarize, type BenchContext } from './common.js';
import { installAlarmRule } from './ingest.js';

/** Keep-alive connections of the HTTP load (devices share them round-robin). */
const HTTP_SOCKETS = 128;
/** Confirmable requests in flight per CoAP device (RFC 7252 NSTART = 1). */
const COAP_WINDOW = 1;

type Transport = 'http' | 'coap';

function command(transport: Transport, target: Target, tokens: readonly string[], run: RunSpec): Extract<LoadCommand, { cmd: 'http-run' | 'coap-run' }> {
  return transport === 'http'
    ? { cmd: 'http-run', target, tokens, sockets: HTTP_SOCKETS, run }
    : { cmd: 'coap-run', target, tokens, window: COAP_WINDOW, run };
}

async function loadAgainst(transport: Transport, target: Target, tokens: readonly string[], durationMs: number, serverPid: number) {
  const lg = new LoadGen();
  try {
    const { value, usage } = await measured([serverPid, lg.pid], () => lg.run(command(transport, target, tokens, { durationMs, drainMs: 15_000, tsBase: Date.now() - 86_400_000 })));
    return { run: value, summary: summarize(value), server: usage[0]!, loadgen: usage[1]! };
  } finally {
    await lg.close();
  }
}

async function ingestVia(transport: Transport, ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = (ctx.durationS ?? (ctx.quick ? 10 : 60)) * 1000;
  const tokens = makeTokens(ctx.devices ?? 1000, ctx.tag);
  const refName = transport === 'http' ? 'bare node:http server (JSON.parse + 200)' : 'bare npm coap server (JSON.parse + 2.04)';
  ctx.log(`reference: ${refName}, ${durationMs / 1000} s`);
  const sink = await startSink(transport);
  const ref = await loadAgainst(transport, { host: HOST, port: sink.port }, tokens, durationMs, sink.pid).finally(() => sink.stop());

  const dataDir = subdir(ctx, 'platform');
  const platform = await startPlatform({ dataDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  let p: Awaited<ReturnType<typeof loadAgainst>>;
  let rule: string;
  try {
    await platform.api.importDevices('meter', tokens);
    rule = await installAlarmRule(platform.api, ctx);
    ctx.log(`platform: ${tokens.length} devices over ${transport}, ${durationMs / 1000} s`);
    const port = transport === 'http' ? platform.ports.http : platform.ports.coap;
    p = await loadAgainst(transport, { host: HOST, port }, tokens, durationMs, platform.proc.pid);
  } finally {
    await platform.stop();
  }
  const expected: Expected = new Map();
  addExpected(expected, tokens, p.run.perDevice);
  const check = checkStore(join(dataDir, 'continuum.db'), expected, p.run.outstanding + p.run.failed + retransmits(p.run));
  const msgs = Math.round(p.summary.msgsPerS);
  const refMsgs = Math.round(ref.summary.msgsPerS);
  const target = 20_000;
  return {
    scenario: `ingest-${transport}`,
    quick: ctx.quick,
    devices: tokens.length,
    duration_s: durationMs / 1000,
    alarm_rule: rule,
    concurrency: transport === 'http' ? `${HTTP_SOCKETS} keep-alive sockets` : `${tokens.length} UDP endpoints × ${COAP_WINDOW} CON in flight`,
    platform: {
      ...emptyMeasured(),
      msgs_per_s: msgs,
      points_per_s: msgs * POINTS_PER_MESSAGE,
      p50_ms: p.summary.p50,
      p99_ms: p.summary.p99,
      cpu_pct: r3(p.server.cpuPct),
      rss_mb: r3(p.server.peakRssMb),
      acked: check.acked,
      stored: check.stored,
      failed: p.run.failed,
      written_kb_per_msg: r3((p.server.writtenMb * 1024) / Math.max(1, p.run.acked)),
      store_check: check,
      ...(transport === 'coap' ? { retransmits: retransmits(p.run) } : {}),
    },
    reference: { name: refName, msgs_per_s: refMsgs, p50_ms: ref.summary.p50, p99_ms: ref.summary.p99, cpu_pct: r3(ref.server.cpuPct), rss_mb: r3(ref.server.peakRssMb) },
    loadgen: { cpu_pct_vs_platform: r3(p.loadgen.cpuPct), cpu_pct_vs_reference: r3(ref.loadgen.cpuPct) },
    ratio: ratio(msgs, refMsgs),
    targets: [
      { target: `≥ ${fmt(target)} ${transport === 'http' ? 'req/s' : 'msg/s'} stored`, measured: fmt(msgs), met: msgs >= target },
      { target: 'acked == stored (count and checksum)', measured: check.ok ? 'yes' : `no${check.error ? `: ${check.error}` : ''}`, met: check.ok },
    ],
    table: [
      ['msgs/s (acknowledged after commit)', fmt(msgs), fmt(refMsgs)],
      ['data points/s', fmt(msgs * POINTS_PER_MESSAGE), ''],
      ['latency p50 / p99', `${fmt(p.summary.p50)} / ${fmt(p.summary.p99)} ms`, `${fmt(ref.summary.p50)} / ${fmt(ref.summary.p99)} ms`],
      ['server CPU / peak RSS', `${fmt(p.server.cpuPct)} % / ${fmt(p.server.peakRssMb)} MB`, `${fmt(ref.server.cpuPct)} % / ${fmt(ref.server.peakRssMb)} MB`],
      ['load generator CPU', `${fmt(p.loadgen.cpuPct)} %`, `${fmt(ref.loadgen.cpuPct)} %`],
      ['acked / stored', `${fmt(check.acked)} / ${fmt(check.stored)}`, ''],
    ],
    notes: ref.server.exited ? [`the reference process died during its run (peak RSS ${fmt(ref.server.peakRssMb)} MB); its rate is what it acknowledged until then`] : [],
  };
}

function retransmits(run: RunResult): number {
  return (run as RunResult & { retransmits?: number }).retransmits ?? 0;
}

export const ingestHttp = (ctx: BenchContext): Promise<ScenarioResult> => ingestVia('http', ctx);
export const ingestCoap = (ctx: BenchContext): Promise<ScenarioResult> => ingestVia('coap', ctx);
