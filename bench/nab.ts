/**
 * The rule engine's detectors on the Numenta Anomaly Benchmark (github.com/numenta/NAB).
 *
 *   npm run bench -- nab --nab-dir DIR [--json out.json] [--detector "surprise(value)"]
 *                        [--category realKnownCause] [--file nyc_taxi] [--per-file] [--validate numenta]
 *
 * DIR is a checkout of NAB (data/, labels/combined_windows.json); neither its data nor its code
 * is part of this repository. Each series is replayed through the rule engine's own code path —
 * compileRule, feedWindows, evaluate in the rule's scope (src/domain/rules/runtime.ts) — with the
 * series' timestamps as message time. The rule is `<detector> > T`; like a live rule it raises on
 * the false → true edge, so a detection is a raise. T is chosen per profile over the corpus, as
 * NAB chooses a detector's threshold (its optimizer sweeps the corpus). Scores use NAB's rules
 * (bench/nab/score.ts); `--validate DET` scores NAB's published results of detector DET with its
 * published thresholds, to show the scorer reproduces NAB's scoreboard.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate } from '../src/domain/expression/index.js';
import { compileRule } from '../src/domain/rules/compile.js';
import { feedWindows, makeScope, type Lookups } from '../src/domain/rules/runtime.js';
import { initialState } from '../src/domain/rules/state.js';
import type { KeyModel } from '../src/domain/forecast/key-model.js';
import { learnBaseline, type HourlyPoint } from '../src/domain/forecast/seasonal-baseline.js';
import { normalize, parseNabTime, prepareFile, PROFILES, scoreFile, type ProfileName, type ScoredFile } from './nab/score.js';

interface Series {
  readonly name: string;
  readonly ts: number[];
  readonly values: number[];
  readonly file: ScoredFile;
}

function readCsv(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(','));
}

function loadCorpus(dir: string, category: string | undefined): Series[] {
  const windows = JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: Series[] = [];
  for (const name of Object.keys(windows).sort()) {
    if (category && !name.startsWith(`${category}/`)) continue;
    const rows = readCsv(join(dir, 'data', name));
    const ts = rows.map((r) => parseNabTime(r[0] as string));
    const values = rows.map((r) => Number(r[1]));
    const limits = (windows[name] ?? []).map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as const);
    out.push({ name, ts, values, file: prepareFile(name, ts, limits) });
  }
  if (out.length === 0) throw new Error(`no NAB series under ${dir}${category ? ` (${category})` : ''}`);
  return out;
}

const NO_LOOKUPS: Lookups = { latest: () => undefined, attr: () => undefined };
const HOUR_MS = 3_600_000;
const ROLLUP_HOURS = 8 * 168;

/**
 * What the engine's model cache does for expected()/deviation(), replayed: hourly averages of the
 * series build up as the rows arrive, and at each new hour the baseline is relearned from the
 * completed hours of the last 8 weeks (the engine refreshes once an hour from ts_hourly).
 */
class ReplayedRollups implements Lookups {
  private readonly hours = new Map<number, [number, number]>();
  private current: number | undefined;
  private keyModel: KeyModel | undefined;
  latest(): undefined {
    return undefined;
  }
  attr(): undefined {
    return undefined;
  }
  model(): KeyModel | undefined {
    return this.keyModel;
  }
  /** Before a row is evaluated: a new hour relearns the baseline from the completed ones. */
  advance(ts: number): void {
    const h = Math.floor(ts / HOUR_MS);
    if (h !== this.current) {
      this.current = h;
      const points: HourlyPoint[] = [];
      for (const [hour, [sum, n]] of this.hours) if (hour >= h - ROLLUP_HOURS) points.push({ ts: hour * HOUR_MS, value: sum / n });
      const baseline = learnBaseline(points);
      this.keyModel = { baseline };
    }
  }
  add(ts: number, x: number): void {
    const h = Math.floor(ts / HOUR_MS);
    const acc = this.hours.get(h) ?? [0, 0];
    acc[0] += x;
    acc[1]++;
    this.hours.set(h, acc);
  }
}

/** The detector expression's value at every row, computed the way the rule engine does. */
function runDetector(expression: string, series: Series): Float64Array {
  const compiled = compileRule({ id: 'nab', tenantId: 'bench', name: 'nab', enabled: true, trigger: 'telemetry', condition: expression, actions: [], createdAt: 0, updatedAt: 0 });
  const state = initialState();
  const device = { id: series.name, name: series.name };
  const out = new Float64Array(series.ts.length);
  const rollups = compiled.analysis.models.length > 0 ? new ReplayedRollups() : undefined;
  for (let i = 0; i < series.ts.length; i++) {
    const message = { ts: series.ts[i] as number, values: { value: series.values[i] as number } };
    feedWindows(compiled, state, message);
    rollups?.advance(message.ts);
    const v = evaluate(compiled.condition, makeScope(compiled, state, device, message, rollups ?? NO_LOOKUPS));
    rollups?.add(message.ts, series.values[i] as number);
    out[i] = typeof v === 'number' ? v : v === true ? 1 : v === false ? 0 : -Infinity;
  }
  return out;
}

/** Raises of the rule `score > T`: rows where the condition becomes true (null counts as false). */
function raises(scores: Float64Array, threshold: number): Uint8Array {
  const d = new Uint8Array(scores.length);
  let active = false;
  for (let i = 0; i < scores.length; i++) {
    const matched = (scores[i] as number) > threshold;
    if (matched && !active) d[i] = 1;
    active = matched;
  }
  return d;
}

interface Scored {
  readonly threshold: number;
  readonly score: number;
  readonly perFile: { name: string; detected: number; windows: number; falsePositives: number }[];
}

function scoreAt(series: readonly Series[], scores: readonly Float64Array[], threshold: number, profile: ProfileName): Scored {
  let raw = 0;
  const perFile = series.map((s, i) => {
    const o = scoreFile(s.file, raises(scores[i] as Float64Array, threshold), PROFILES[profile]);
    raw += o.raw;
    return { name: s.name, detected: o.detectedWindows, windows: s.file.scorableWindows, falsePositives: o.falsePositives };
  });
  return { threshold, score: normalize(series.map((s) => s.file), raw, PROFILES[profile]), perFile };
}

/** Candidate thresholds: quantiles of the scores (1 − 10^−x for x from 0.3 to 5.5), so the grid fits any detector's units. */
function grid(scores: readonly Float64Array[]): number[] {
  const all: number[] = [];
  for (const s of scores) for (const v of s) if (Number.isFinite(v)) all.push(v);
  if (all.length === 0) return [0.5];
  all.sort((a, b) => a - b);
  const steps = 100;
  // 0.5: the one threshold that separates the two answers of a boolean detector (cusum, pagehinkley).
  const out = new Set<number>([0.5]);
  for (let k = 0; k <= steps; k++) {
    const q = 1 - 10 ** -(0.3 + (5.2 * k) / steps);
    out.add(all[Math.min(all.length - 1, Math.floor(q * all.length))] as number);
  }
  return [...out];
}

function best(series: readonly Series[], scores: readonly Float64Array[], profile: ProfileName, thresholds: readonly number[]): Scored {
  let top: Scored | undefined;
  for (const t of thresholds) {
    const s = scoreAt(series, scores, t, profile);
    if (!top || s.score > top.score) top = s;
  }
  return top as Scored;
}

/** Scores NAB's published per-row anomaly scores of `detector` at its published thresholds (NAB semantics: every row ≥ T is a detection). */
function validate(dir: string, detector: string, series: readonly Series[]): Record<string, number> {
  const thresholds = JSON.parse(readFileSync(join(dir, 'config', 'thresholds.json'), 'utf8')) as Record<string, Record<string, { threshold: number }>>;
  const names: Record<ProfileName, string> = { standard: 'standard', lowFP: 'reward_low_FP_rate', lowFN: 'reward_low_FN_rate' };
  const out: Record<string, number> = {};
  for (const profile of Object.keys(PROFILES) as ProfileName[]) {
    const t = thresholds[detector]?.[names[profile]]?.threshold;
    if (t === undefined) throw new Error(`no published threshold for ${detector}`);
    let raw = 0;
    for (const s of series) {
      const [category, file] = s.name.split('/') as [string, string];
      const rows = readCsv(join(dir, 'results', detector, category, `${detector}_${file}`));
      const d = new Uint8Array(rows.map((r) => (Number(r[2]) >= t ? 1 : 0)));
      raw += scoreFile(s.file, d, PROFILES[profile]).raw;
    }
    out[profile] = normalize(
      series.map((s) => s.file),
      raw,
      PROFILES[profile],
    );
  }
  return out;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function main(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'nab-dir': { type: 'string' },
      json: { type: 'string' },
      detector: { type: 'string', default: 'surprise(value)' },
      category: { type: 'string' },
      file: { type: 'string' },
      'per-file': { type: 'boolean', default: false },
      validate: { type: 'string' },
    },
  });
  const dir = values['nab-dir'];
  if (!dir) {
    console.error('usage: npm run bench -- nab --nab-dir DIR [--json FILE] [--detector EXPR] [--category NAME] [--per-file] [--validate DETECTOR]');
    return 2;
  }
  const series = loadCorpus(dir, values.category).filter((s) => !values.file || s.name.includes(values.file));
  const points = series.reduce((n, s) => n + s.ts.length, 0);
  const windows = series.reduce((n, s) => n + s.file.windows, 0);
  console.log(`NAB: ${series.length} series, ${points} points, ${windows} labelled windows${values.category ? ` (${values.category})` : ''}`);
  if (values.validate) {
    const v = validate(dir, values.validate, series);
    console.log(`scorer check, ${values.validate} at its published thresholds: standard ${round1(v.standard ?? NaN)}, low FP ${round1(v.lowFP ?? NaN)}, low FN ${round1(v.lowFN ?? NaN)}`);
    return 0;
  }
  const expression = values.detector;
  // Warm the code path once, then time the replay of the whole corpus.
  runDetector(expression, series[0] as Series);
  const started = process.hrtime.bigint();
  const scores = series.map((s) => runDetector(expression, s));
  const usPerPoint = Number(process.hrtime.bigint() - started) / 1000 / points;
  const thresholds = grid(scores);
  const results = Object.fromEntries((Object.keys(PROFILES) as ProfileName[]).map((p) => [p, best(series, scores, p, thresholds)])) as Record<ProfileName, Scored>;
  const std = results.standard;
  const detected = std.perFile.reduce((n, f) => n + f.detected, 0);
  const scorable = std.perFile.reduce((n, f) => n + f.windows, 0);
  const fps = std.perFile.reduce((n, f) => n + f.falsePositives, 0);
  console.log(`detector: ${expression} > T`);
  for (const [p, r] of Object.entries(results)) console.log(`  ${p.padEnd(8)} score ${round1(r.score).toFixed(1).padStart(6)}  (T = ${r.threshold.toPrecision(3)})`);
  console.log(`  at the standard T: ${detected}/${scorable} windows detected, ${fps} false positives (${(fps / series.length).toFixed(2)} per series), ${usPerPoint.toFixed(2)} µs per point`);
  if (values['per-file']) for (const f of std.perFile) console.log(`    ${f.name.padEnd(58)} ${f.detected}/${f.windows} windows, ${f.falsePositives} FP`);
  if (values.json) {
    const out = {
      scenario: 'nab',
      scores: { standard: round1(results.standard.score), lowFP: round1(results.lowFP.score), lowFN: round1(results.lowFN.score) },
      thresholds: { standard: results.standard.threshold, lowFP: results.lowFP.threshold, lowFN: results.lowFN.threshold },
      usPerPoint: Math.round(usPerPoint * 100) / 100,
      detector: expression,
      series: series.length,
      points,
      windows: { total: windows, scorable, detected },
      falsePositives: fps,
      ...(values.category ? { category: values.category } : {}),
      perFile: std.perFile,
    };
    writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
  }
  return 0;
}

// Run directly (`npx tsx bench/nab.ts …`) as well as through `npm run bench -- nab …`.
if (process.argv[1]?.endsWith('nab.ts')) process.exitCode = main(process.argv.slice(2));
