/**
 * The platform's forecasts (src/domain/forecast/select.ts: the candidate that backtests best on the
 * training window, the code the forecast API, the forecast job and the rules run) and Holt–Winters
 * alone against the seasonal-naive reference, on public NAB series with daily/weekly seasons.
 *
 *   npx tsx bench/forecast.ts --nab-dir DIR [--json out.json] [--series realKnownCause/nyc_taxi.csv,…]
 *
 * DIR is a checkout of github.com/numenta/NAB (only data/ is read; nothing of it is committed).
 * Each series is averaged into UTC hours (as the platform's hourly roll-ups are). Rolling origin:
 * at every midnight of the last half of the series (at least two weeks in), the model is fitted on
 * the 8 weeks before it (the platform's history window) and forecasts 24 hours; the seasonal-naive
 * forecast is the same hours one week (168 h) earlier — also computed with 24 h (one day earlier).
 *
 * Reported per series, over all origins and the 24 hours of each:
 *   - MASE: MAE / in-sample MAE of the one-step seasonal-naive (m = 168) on each origin's training
 *     window (Hyndman & Koehler 2006), for the platform's forecast (sel), Holt–Winters alone (hw) and
 *     the seasonal-naive forecasts themselves;
 *   - relMAE: a forecast's MAE / the seasonal-naive forecast's MAE on the same hours (< 1 = better);
 *   - sMAPE (%): mean of 200·|F − A| / (|F| + |A|);
 *   - ms per selection (all candidates backtested, Holt–Winters' grid included), and which model
 *     the selection chose how often.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forecastHoltWinters } from '../src/domain/forecast/holt-winters.js';
import { selectForecast } from '../src/domain/forecast/select.js';

const HOUR = 3_600_000;
const DEFAULT_SERIES = [
  'realKnownCause/nyc_taxi.csv',
  'realKnownCause/ambient_temperature_system_failure.csv',
  'realKnownCause/cpu_utilization_asg_misconfiguration.csv',
  'realTweets/Twitter_volume_AAPL.csv',
  'realTweets/Twitter_volume_GOOG.csv',
];
const HISTORY = 8 * 168;
const H = 24;

/** Hourly means of a NAB csv (timestamps are "YYYY-MM-DD hh:mm:ss", taken as UTC). */
function hourly(path: string): { start: number; y: Float64Array } {
  const rows = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const sums = new Map<number, [number, number]>();
  for (const l of rows) {
    const [t, v] = l.split(',');
    const ts = Date.parse(`${(t as string).replace(' ', 'T')}Z`);
    const h = Math.floor(ts / HOUR);
    const acc = sums.get(h) ?? [0, 0];
    acc[0] += Number(v);
    acc[1]++;
    sums.set(h, acc);
  }
  const hours = [...sums.keys()].sort((a, b) => a - b);
  const first = hours[0] as number;
  const y = new Float64Array((hours[hours.length - 1] as number) - first + 1).fill(NaN);
  for (const [h, [s, c]] of sums) y[h - first] = s / c;
  return { start: first * HOUR, y };
}

interface Acc {
  ae: number;
  scaled: number;
  smape: number;
  n: number;
}
const acc = (): Acc => ({ ae: 0, scaled: 0, smape: 0, n: 0 });

function add(a: Acc, f: number, actual: number, scale: number): void {
  const e = Math.abs(f - actual);
  a.ae += e;
  a.scaled += e / scale;
  a.smape += Math.abs(f) + Math.abs(actual) > 0 ? (200 * e) / (Math.abs(f) + Math.abs(actual)) : 0;
  a.n++;
}

function inSampleScale(train: Float64Array, m: number): number {
  let s = 0;
  let c = 0;
  for (let i = m; i < train.length; i++) {
    const d = Math.abs((train[i] as number) - (train[i - m] as number));
    if (Number.isFinite(d)) {
      s += d;
      c++;
    }
  }
  return c > 0 ? s / c : NaN;
}

export function benchSeries(path: string): Record<string, number | Record<string, number>> {
  const { start, y } = hourly(path);
  const sel = acc();
  const hw = acc();
  const chosen: Record<string, number> = {};
  const naiveWeek = acc();
  const naiveDay = acc();
  let origins = 0;
  let fitMs = 0;
  // Origins at UTC midnights in the last half, with at least two weeks of history.
  const firstOrigin = Math.max(2 * 168, Math.floor(y.length / 2));
  for (let o = firstOrigin; o + H <= y.length; o++) {
    if (((start / HOUR + o) % 24) !== 0) continue;
    const train = y.subarray(Math.max(0, o - HISTORY), o);
    const scale = inSampleScale(train, 168);
    if (!(scale > 0)) continue;
    const t0 = performance.now();
    const s = selectForecast(train, H);
    fitMs += performance.now() - t0;
    const f = s.points;
    // Holt–Winters alone: the fit the selection made anyway, forecasting from the origin.
    const g = forecastHoltWinters(s.hw, H);
    chosen[s.name] = (chosen[s.name] ?? 0) + 1;
    origins++;
    for (let h = 0; h < H; h++) {
      const actual = y[o + h] as number;
      const week = y[o + h - 168] as number;
      const day = y[o + h - 24 * Math.ceil((h + 1) / 24)] as number;
      if (!Number.isFinite(actual) || !Number.isFinite(week) || !Number.isFinite(day)) continue;
      add(sel, (f[h] as { value: number }).value, actual, scale);
      add(hw, (g[h] as { value: number }).value, actual, scale);
      add(naiveWeek, week, actual, scale);
      add(naiveDay, day, actual, scale);
    }
  }
  const r = (a: Acc, k: 'scaled' | 'smape'): number => Number((a[k] / a.n).toFixed(3));
  return {
    hours: y.length,
    origins,
    points: sel.n,
    selMASE: r(sel, 'scaled'),
    hwMASE: r(hw, 'scaled'),
    naiveWeekMASE: r(naiveWeek, 'scaled'),
    naiveDayMASE: r(naiveDay, 'scaled'),
    selRelMAEvsWeek: Number((sel.ae / naiveWeek.ae).toFixed(3)),
    selRelMAEvsDay: Number((sel.ae / naiveDay.ae).toFixed(3)),
    hwRelMAEvsWeek: Number((hw.ae / naiveWeek.ae).toFixed(3)),
    selSMAPE: r(sel, 'smape'),
    hwSMAPE: r(hw, 'smape'),
    naiveWeekSMAPE: r(naiveWeek, 'smape'),
    naiveDaySMAPE: r(naiveDay, 'smape'),
    msPerSelection: Number((fitMs / Math.max(1, origins)).toFixed(2)),
    chosen,
  };
}

export function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { 'nab-dir': { type: 'string' }, json: { type: 'string' }, series: { type: 'string' } } });
  const dir = values['nab-dir'];
  if (!dir) throw new Error('--nab-dir DIR (a checkout of github.com/numenta/NAB) is required');
  const names = values.series ? values.series.split(',') : DEFAULT_SERIES;
  const results: Record<string, ReturnType<typeof benchSeries>> = {};
  for (const name of names) {
    results[name] = benchSeries(join(dir, 'data', name));
    console.log(name, JSON.stringify(results[name]));
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ scenario: 'forecast', horizonHours: H, historyHours: HISTORY, series: results }, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
