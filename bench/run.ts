/**
 * Benchmarks: `npm run bench -- <scenario|all> [--quick] [--json FILE] [--devices N] [--duration S]
 *                                 [--cpu-prof DIR] [--keep] [--no-rule]`
 *
 * Every scenario runs the platform and a reference side by side on loopback, bounded in time and
 * count, and cleans up its processes and temp dirs even on error or Ctrl-C. Results are printed
 * as a table; --json writes the scenario's object (an array of them for `all`). See
 * docs/BENCHMARKS.md for what each scenario measures and the latest figures.
 * `npm run bench -- nab --nab-dir DIR [--json FILE]` scores the rule detectors on the Numenta
 * Anomaly Benchmark (bench/nab.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterIngest } from './cluster-ingest.js';
import { cleanupAll, onCleanup } from './lib/cleanup.js';
import { printResult, type ScenarioResult } from './lib/report.js';
import type { BenchContext } from './scenarios/common.js';
import { connections } from './scenarios/connections.js';
import { fuzz } from './scenarios/fuzz.js';
import { ingest } from './scenarios/ingest.js';
import { ingestCoap, ingestHttp } from './scenarios/ingest-other.js';
import { query } from './scenarios/query.js';
import { soak } from './scenarios/soak.js';

const SCENARIOS: Record<string, { run: (ctx: BenchContext) => Promise<ScenarioResult>; limitMin: [quick: number, full: number] }> = {
  ingest: { run: ingest, limitMin: [3, 15] },
  'ingest-http': { run: ingestHttp, limitMin: [3, 10] },
  'ingest-coap': { run: ingestCoap, limitMin: [3, 10] },
  query: { run: query, limitMin: [3, 10] },
  connections: { run: connections, limitMin: [5, 15] },
  soak: { run: soak, limitMin: [8, 20] },
  fuzz: { run: fuzz, limitMin: [10, 90] },
  // Needs the machine's PostgreSQL and nats-server (JetStream) on their default ports.
  'cluster-ingest': { run: clusterIngest, limitMin: [8, 20] },
};

const USAGE = `usage: npm run bench -- <${Object.keys(SCENARIOS).join('|')}|all> [--quick] [--json FILE] [--devices N] [--duration S] [--cpu-prof DIR] [--keep] [--no-rule] [--cases N] [--seed S]`;

function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

function machine(): Record<string, unknown> {
  return {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg_at_start: loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
  };
}

async function main(): Promise<number> {
  // Not a platform scenario: the detectors over a NAB checkout, in this process (bench/nab.ts).
  if (process.argv[2] === 'nab') return (await import('./nab.js')).main(process.argv.slice(3));
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      devices: { type: 'string' },
      duration: { type: 'string' },
      'cpu-prof': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-rule': { type: 'boolean', default: false },
      cases: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const name = positionals[0];
  if (values.help || !name || (name !== 'all' && !SCENARIOS[name])) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  // The fuzz campaign is a run of its own (an hour and more), not a benchmark figure.
  // cluster-ingest needs PostgreSQL and NATS: asked for by name.
  const names = name === 'all' ? Object.keys(SCENARIOS).filter((n) => n !== 'fuzz' && n !== 'cluster-ingest') : [name];
  const tmp = mkdtempSync(join(tmpdir(), 'continuum-bench-'));
  if (!values.keep) onCleanup('temp dir', () => rmSync(tmp, { recursive: true, force: true }));
  const devices = positiveNumber('devices', values.devices);
  const durationS = positiveNumber('duration', values.duration);
  const cases = positiveNumber('cases', values.cases);
  const seed = positiveNumber('seed', values.seed);
  const results: ScenarioResult[] = [];
  const failed: string[] = [];
  for (const scenario of names) {
    const spec = SCENARIOS[scenario]!;
    const started = performance.now();
    const ctx: BenchContext = {
      quick: values.quick,
      noRule: values['no-rule'],
      tmp,
      tag: randomBytes(3).toString('hex'),
      ...(devices !== undefined ? { devices: Math.floor(devices) } : {}),
      ...(durationS !== undefined ? { durationS } : {}),
      ...(cases !== undefined ? { cases: Math.floor(cases) } : {}),
      ...(seed !== undefined ? { seed: Math.floor(seed) } : {}),
      ...(values['cpu-prof'] ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
      log: (m) => console.log(`[${scenario} ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}`),
    };
    const limitMs = (spec.limitMin[values.quick ? 0 : 1] + (durationS ?? 0) / 30) * 60_000;
    try {
      const result = await withDeadline(spec.run(ctx), limitMs, scenario);
      result.machine = machine();
      result.wall_s = Math.round((performance.now() - started) / 100) / 10;
      printResult(result);
      results.push(result);
    } catch (err) {
      if (names.length === 1) throw err;
      // `all`: one failed scenario is reported and the others still run.
      console.error(`${scenario} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      failed.push(scenario);
    }
    // Written after every scenario, so a long `all` run keeps what it measured if it is stopped.
    if (values.json) writeFileSync(values.json, JSON.stringify(results.length === 1 && names.length === 1 ? results[0] : results, null, 2) + '\n');
  }
  if (values.json) console.log(`\nwrote ${values.json}`);
  if (values.keep) console.log(`kept ${tmp}`);
  if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

/** A scenario that overruns its limit is abandoned: cleanup kills what it started. */
async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await cleanupAll();
}
// Sockets or timers of an abandoned scenario must not keep the process alive.
process.exit(code);
