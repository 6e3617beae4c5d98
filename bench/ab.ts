/**
 * Before/after in one window: `node --import tsx bench/ab.ts --before DIR --after DIR
 *   [--scenario ingest] [--rounds 3] [--json FILE]`
 *
 * Runs one quick scenario against the platform of two checkouts, alternating the order each round
 * (A B, B A, A B …) so drift in the machine's load falls on both sides alike. The load generator
 * and the references (Mosquitto, raw SQLite) are this checkout's, so only the platform differs.
 * Prints each run and the medians; `after / before` is the figure a refactor is judged by.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface RunFigures {
  readonly side: 'before' | 'after';
  readonly msgsPerS: number;
  readonly ratio: number | null;
  readonly window1: number | null;
  readonly halfP99: number | null;
  /** Messages per second of the server's CPU time at window 32: steadier than the rate when other work shares the machine. */
  readonly msgsPerCpuS: number | null;
}

interface IngestJson {
  ratio?: number | null;
  platform?: { msgs_per_s?: number; cpu_pct?: number; window_1?: { msgs_per_s?: number }; half_rate?: { p99_ms?: number } };
}

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    scenario: { type: 'string', default: 'ingest' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
if (!values.before || !values.after) {
  console.error('usage: bench/ab.ts --before DIR --after DIR [--scenario ingest] [--rounds 3] [--json FILE]');
  process.exit(2);
}
const sides = { before: resolve(values.before), after: resolve(values.after) } as const;
const rounds = Math.max(1, Number(values.rounds));
const tmp = mkdtempSync(join(tmpdir(), 'continuum-ab-'));

function runOnce(side: 'before' | 'after', round: number): RunFigures {
  const out = join(tmp, `${side}-${round}.json`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', values.scenario!, '--quick', '--json', out], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CONTINUUM_BENCH_CHECKOUT: sides[side] },
  });
  if (res.status !== 0) throw new Error(`${side} round ${round} failed (exit ${res.status})`);
  const r = JSON.parse(readFileSync(out, 'utf8')) as IngestJson;
  return {
    side,
    msgsPerS: r.platform?.msgs_per_s ?? 0,
    ratio: r.ratio ?? null,
    window1: r.platform?.window_1?.msgs_per_s ?? null,
    halfP99: r.platform?.half_rate?.p99_ms ?? null,
    msgsPerCpuS: r.platform?.msgs_per_s && r.platform.cpu_pct ? Math.round(r.platform.msgs_per_s / (r.platform.cpu_pct / 100)) : null,
  };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const runs: RunFigures[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order: Array<'before' | 'after'> = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const side of order) {
      runs.push(runOnce(side, round));
      console.log(`ab: ${JSON.stringify(runs.at(-1))}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const pick = (side: string, f: (r: RunFigures) => number | null): number | null =>
  median(runs.filter((r) => r.side === side).map(f).filter((v): v is number => v !== null));
const summary: Record<string, unknown> = { scenario: values.scenario, rounds, before: sides.before, after: sides.after, runs };
for (const [name, f] of [
  ['msgs_per_s', (r: RunFigures) => r.msgsPerS],
  ['ratio_to_reference', (r: RunFigures) => r.ratio],
  ['window_1_msgs_per_s', (r: RunFigures) => r.window1],
  ['half_rate_p99_ms', (r: RunFigures) => r.halfP99],
  ['msgs_per_cpu_s', (r: RunFigures) => r.msgsPerCpuS],
] as const) {
  const b = pick('before', f);
  const a = pick('after', f);
  summary[name] = { before: b, after: a, after_over_before: a !== null && b ? Math.round((a / b) * 1000) / 1000 : null };
}
// Each round's own after/before (the two runs minutes apart, not the whole window): drift in the
// machine's speed over the run cancels within a round, so the median of these is the steadier figure.
const pairs: number[] = [];
for (let i = 0; i + 1 < runs.length; i += 2) {
  const [x, y] = [runs[i]!, runs[i + 1]!];
  const [b, a] = x.side === 'before' ? [x, y] : [y, x];
  if (b.msgsPerS > 0) pairs.push(Math.round((a.msgsPerS / b.msgsPerS) * 1000) / 1000);
}
summary.msgs_per_s_pairwise = { after_over_before: pairs, median: median(pairs) };
console.log(JSON.stringify(summary, null, 2));
if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2) + '\n');
