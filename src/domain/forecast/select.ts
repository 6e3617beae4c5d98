/**
 * Which forecaster a key gets: every candidate is backtested on the key's own history and the one
 * with the lowest day-ahead error forecasts. Candidates: additive Holt–Winters (daily and weekly
 * seasons, its parameters chosen by its own backtest, holt-winters.ts) and the same-hour-of-earlier-
 * weeks rules of seasonal-means.ts — the seasonal-naive forecast itself (so, on the backtest, the
 * choice is never worse than the reference), the mean and the median of the last 2–4 weeks, each
 * with and without a level correction from the last day.
 *
 * The backtest replays what the platform does: at each of the last BACKTEST_DAYS midnights-of-the-
 * series (steps n − 24 j) a forecast of the next BACKTEST_HORIZON hours, from the history before
 * that step only, scored by its mean absolute error. Holt–Winters' parameters were chosen on the
 * same stretch, which flatters it a little; the simple rules have nothing to tune.
 *
 * Intervals of the seasonal rules are empirical: at horizon h, z × the RMS backtest error of the
 * horizons 1 … h, never narrowing (a running maximum), and widened by √weeks beyond the first week
 * ahead (the rules reach one more week back per week of horizon).
 */
import { DAY, Z95, canFit, fitHoltWinters, forecastHoltWinters, holtWintersAt, type ForecastPoint, type HwFit } from './holt-winters.js';
import { WEEK_STEPS, seasonalForecast, seasonalName, type SeasonalSpec } from './seasonal-means.js';

export const BACKTEST_DAYS = 14;
export const BACKTEST_HORIZON = 24;
export const HOLT_WINTERS = 'holt-winters';

export const SEASONAL_CANDIDATES: readonly SeasonalSpec[] = [
  { kind: 'naive', weeks: 1, level: false },
  { kind: 'naive', weeks: 1, level: true },
  ...[2, 3, 4].flatMap((weeks) => (['mean', 'median'] as const).flatMap((kind) => [false, true].map((level) => ({ kind, weeks, level })))),
];

export interface CandidateScore {
  readonly name: string;
  /** Mean absolute error of its backtest forecasts (NaN when it could not be backtested). */
  readonly mae: number;
}

export interface SelectedForecast {
  /** holt-winters, seasonal-naive-week, seasonal-median-4w+level, … */
  readonly name: string;
  readonly points: ForecastPoint[];
  /** Its backtest MAE, and every candidate's (the order they were tried in). */
  readonly mae: number;
  readonly candidates: readonly CandidateScore[];
  /** Backtest origins behind the choice (0: too little history to backtest, Holt–Winters alone). */
  readonly origins: number;
  /** The Holt–Winters fit, always made (its parameters are reported even when another rule won). */
  readonly hw: HwFit;
}

/** Origins of the backtest: steps n − 24 j with at least a week and a day of history before them. */
export function backtestOrigins(n: number, days = BACKTEST_DAYS): number[] {
  const out: number[] = [];
  for (let j = days; j >= 1; j--) {
    const o = n - j * DAY;
    if (o >= WEEK_STEPS + DAY) out.push(o);
  }
  return out;
}

interface Errors {
  sum: number;
  count: number;
  /** Per horizon: sum of squared errors and their count. */
  sq: Float64Array;
  sqCount: Float64Array;
}

function score(y: ArrayLike<number>, origins: readonly number[], forecasts: readonly ArrayLike<number>[]): Errors {
  const e: Errors = { sum: 0, count: 0, sq: new Float64Array(BACKTEST_HORIZON), sqCount: new Float64Array(BACKTEST_HORIZON) };
  origins.forEach((o, i) => {
    const f = forecasts[i] as ArrayLike<number>;
    for (let h = 0; h < BACKTEST_HORIZON && o + h < y.length; h++) {
      const a = y[o + h] as number;
      const v = f[h] as number;
      if (!Number.isFinite(a)) continue;
      // A rule with no value for an hour is charged as if it had said last week's value there.
      const guess = Number.isFinite(v) ? v : (y[o + h - WEEK_STEPS] as number);
      if (!Number.isFinite(guess)) continue;
      const d = guess - a;
      e.sum += Math.abs(d);
      e.count++;
      e.sq[h] = (e.sq[h] as number) + d * d;
      e.sqCount[h] = (e.sqCount[h] as number) + 1;
    }
  });
  return e;
}

/** Empirical intervals around point forecasts, from the per-horizon backtest errors (see the file comment). */
function empiricalPoints(values: Float64Array, e: Errors, z: number): ForecastPoint[] {
  const sigma = new Float64Array(BACKTEST_HORIZON);
  let sq = 0;
  let c = 0;
  let widest = 0;
  for (let h = 0; h < BACKTEST_HORIZON; h++) {
    sq += e.sq[h] as number;
    c += e.sqCount[h] as number;
    if (c > 0) widest = Math.max(widest, Math.sqrt(sq / c));
    sigma[h] = widest;
  }
  const out: ForecastPoint[] = [];
  for (let i = 0; i < values.length; i++) {
    const base = sigma[Math.min(i, BACKTEST_HORIZON - 1)] as number;
    const half = z * base * Math.sqrt(Math.ceil((i + 1) / WEEK_STEPS));
    const value = values[i] as number;
    out.push({ h: i + 1, value, lower: value - half, upper: value + half });
  }
  return out;
}

/**
 * Backtests the candidates on hourly values y (index = hour, NaN = none) and forecasts `horizon`
 * hours after them with the best. Needs canFit(y) (two days); below a week and a day of history
 * there is nothing to backtest a weekly rule on and Holt–Winters forecasts alone.
 */
export function selectForecast(y: ArrayLike<number>, horizon: number, z = Z95): SelectedForecast {
  if (!canFit(y)) throw new RangeError('a forecast needs at least two days of hourly values');
  const n = y.length;
  const hw = fitHoltWinters(y);
  const origins = backtestOrigins(n);
  if (origins.length === 0) {
    return { name: HOLT_WINTERS, points: forecastHoltWinters(hw, horizon, z), mae: hw.mae, candidates: [{ name: HOLT_WINTERS, mae: NaN }], origins: 0, hw };
  }
  const hwErrors = score(y, origins, holtWintersAt(y, hw, origins, BACKTEST_HORIZON));
  const candidates: CandidateScore[] = [{ name: HOLT_WINTERS, mae: hwErrors.count > 0 ? hwErrors.sum / hwErrors.count : NaN }];
  let best: { spec: SeasonalSpec | undefined; e: Errors; mae: number } = { spec: undefined, e: hwErrors, mae: candidates[0]?.mae ?? NaN };
  for (const spec of SEASONAL_CANDIDATES) {
    const e = score(y, origins, origins.map((o) => seasonalForecast(y, o, BACKTEST_HORIZON, spec)));
    const mae = e.count > 0 ? e.sum / e.count : NaN;
    candidates.push({ name: seasonalName(spec), mae });
    // Strictly better only: on a tie the earlier (simpler, or Holt–Winters) candidate stays.
    if (Number.isFinite(mae) && !(mae >= best.mae)) best = { spec, e, mae };
  }
  if (!best.spec) return { name: HOLT_WINTERS, points: forecastHoltWinters(hw, horizon, z), mae: best.mae, candidates, origins: origins.length, hw };
  const values = seasonalForecast(y, n, horizon, best.spec);
  // An hour no earlier week has (a gap a week back): Holt–Winters fills it.
  const hwPoints = values.some((v) => !Number.isFinite(v)) ? forecastHoltWinters(hw, horizon, z) : undefined;
  if (hwPoints) for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) values[i] = (hwPoints[i] as ForecastPoint).value;
  return { name: seasonalName(best.spec), points: empiricalPoints(values, best.e, z), mae: best.mae, candidates, origins: origins.length, hw };
}
