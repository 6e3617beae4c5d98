/**
 * Additive Holt–Winters with two seasons (Taylor's double-seasonal form): a daily season of 24
 * and a weekly season of 168 hourly steps, on top of a level and a trend.
 *
 *   l_t = α (y_t − d_{t−24} − w_{t−168}) + (1 − α)(l_{t−1} + b_{t−1})
 *   b_t = β (l_t − l_{t−1}) + (1 − β) b_{t−1}
 *   d_t = γ (y_t − l_t − w_{t−168}) + (1 − γ) d_{t−24}
 *   w_t = δ (y_t − l_t − d_{t−24}) + (1 − δ) w_{t−168}
 *   ŷ_{t+h} = l_t + h b_t + d_{t+h−24⌈h/24⌉} + w_{t+h−168⌈h/168⌉}
 *
 * The smoothing parameters are chosen by backtest: every candidate of a small grid is run over
 * the whole history and scored on the last part of it (BACKTEST_FRACTION, the part most like the
 * future) by its one-step-ahead absolute error plus that of its forecasts made a day (24 steps)
 * earlier. One-step error alone picks reactive parameters (large α) that chase the last hour and
 * forecast a day ahead worse than last week's values do (bench/forecast.ts, nyc_taxi). Gaps (hours without a roll-up) are NaN and
 * take the one-step forecast as their value, so they move no component.
 *
 * Prediction intervals use the ETS(A,A,A) variance of an h-step error,
 * σ² (1 + Σ_{j<h} c_j²) with c_j = α(1 + jβ) + γ[24 | j] + δ[168 | j], and σ² the one-step error
 * variance on the backtest part: non-decreasing in h by construction.
 */

export const DAY = 24;
export const WEEK = 168;
export const BACKTEST_FRACTION = 0.25;
/** Two days of history at the least (one for the initial season, one to learn from). */
export const MIN_HISTORY_HOURS = 2 * DAY;
/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959963984540054;

export interface HwParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  /** 0 when the history is shorter than two weeks: only the daily season is learned. */
  readonly delta: number;
}

export interface HwFit {
  readonly params: HwParams;
  readonly weekly: boolean;
  readonly level: number;
  readonly trend: number;
  /** The last 24 daily and 168 weekly components, oldest first (index i ↔ step n − len + i). */
  readonly daily: Float64Array;
  readonly weeklySeason: Float64Array;
  /** One-step-ahead error σ over the backtest part, and its mean absolute error. */
  readonly sigma: number;
  readonly mae: number;
  readonly n: number;
}

export interface ForecastPoint {
  /** Steps ahead, 1 = the hour after the last one fitted. */
  readonly h: number;
  readonly value: number;
  readonly lower: number;
  readonly upper: number;
}

const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.4, 0.7];
const BETAS = [0, 0.005, 0.02];
const GAMMAS = [0.02, 0.05, 0.1, 0.2, 0.4];
const DELTAS = [0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1];

interface Run {
  level: number;
  trend: number;
  daily: Float64Array;
  weekly: Float64Array;
  sse: number;
  sae: number;
  scored: number;
  /** Absolute errors of the forecasts made DAY steps earlier, over the same backtest part. */
  saeDay: number;
}

function meanOf(y: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  let c = 0;
  for (let i = from; i < to; i++) {
    const v = y[i] as number;
    if (Number.isFinite(v)) {
      s += v;
      c++;
    }
  }
  return c > 0 ? s / c : NaN;
}

/**
 * Initial state from the first week (or day): the trend is the mean change from each hour of the
 * first period to the same hour of the second; the level is the first period's line; the daily
 * season is the mean deviation from that line per hour of day; the weekly season what is left
 * per hour of week.
 */
function initialState(y: ArrayLike<number>, weekly: boolean): { level: number; trend: number; daily: Float64Array; weekly: Float64Array } {
  const period = weekly ? WEEK : DAY;
  let mean = meanOf(y, 0, period);
  if (!Number.isFinite(mean)) mean = meanOf(y, 0, y.length);
  if (!Number.isFinite(mean)) mean = 0;
  // Mean change over one period, from the pairs of hours both present (a gap must not read as a trend).
  let change = 0;
  let pairs = 0;
  for (let i = 0; i < period && i + period < y.length; i++) {
    const a = y[i] as number;
    const b = y[i + period] as number;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      change += b - a;
      pairs++;
    }
  }
  const trend = pairs > 0 ? change / pairs / period : 0;
  // The first period's line: its mean sits at its middle hour. Seasons are deviations from the
  // line (not from the mean), or a trend would be counted twice, once in the season.
  const lineAt = (i: number): number => mean + trend * (i - (period - 1) / 2);
  const daily = new Float64Array(DAY);
  const counts = new Float64Array(DAY);
  for (let i = 0; i < period; i++) {
    const v = y[i] as number;
    if (!Number.isFinite(v)) continue;
    daily[i % DAY] = (daily[i % DAY] as number) + v - lineAt(i);
    counts[i % DAY] = (counts[i % DAY] as number) + 1;
  }
  for (let i = 0; i < DAY; i++) daily[i] = (counts[i] as number) > 0 ? (daily[i] as number) / (counts[i] as number) : 0;
  const w = new Float64Array(WEEK);
  if (weekly) {
    for (let i = 0; i < WEEK; i++) {
      const v = y[i] as number;
      w[i] = Number.isFinite(v) ? v - lineAt(i) - (daily[i % DAY] as number) : 0;
    }
  }
  // The state before step 0: level + trend is the line at step 0.
  return { level: lineAt(-1), trend, daily, weekly: w };
}

/**
 * One pass over the history. Season arrays are rings indexed by step mod period: before the
 * update at step t, daily[t % 24] holds d_{t−24} and weekly[t % 168] holds w_{t−168}.
 */
function run(y: ArrayLike<number>, p: HwParams, weekly: boolean, scoreFrom: number): Run {
  const init = initialState(y, weekly);
  let { level, trend } = init;
  const daily = init.daily;
  const w = init.weekly;
  const { alpha, beta, gamma, delta } = p;
  let sse = 0;
  let sae = 0;
  let scored = 0;
  let saeDay = 0;
  // pending[t % DAY]: the forecast for step t made at step t − DAY.
  const pending = new Float64Array(DAY).fill(NaN);
  const n = y.length;
  for (let t = 0; t < n; t++) {
    const di = t % DAY;
    const wi = t % WEEK;
    const d = daily[di] as number;
    const ws = w[wi] as number;
    const fc = level + trend + d + ws;
    let v = y[t] as number;
    if (!Number.isFinite(v)) v = fc;
    else if (t >= scoreFrom) {
      const e = v - fc;
      sse += e * e;
      sae += Math.abs(e);
      scored++;
      const ahead = pending[t % DAY] as number;
      if (Number.isFinite(ahead)) saeDay += Math.abs(v - ahead);
    }
    const prev = level;
    level = alpha * (v - d - ws) + (1 - alpha) * (level + trend);
    trend = beta * (level - prev) + (1 - beta) * trend;
    daily[di] = gamma * (v - level - ws) + (1 - gamma) * d;
    if (weekly) w[wi] = delta * (v - level - d) + (1 - delta) * ws;
    // After the update, the ring slots for step t + DAY hold its latest daily and weekly components.
    if (t + DAY >= scoreFrom) pending[t % DAY] = level + DAY * trend + (daily[di] as number) + (w[(t + DAY) % WEEK] as number);
  }
  return { level, trend, daily, weekly: w, sse, sae, scored, saeDay };
}

/** Whether the history is long enough for a forecast (at least MIN_HISTORY_HOURS steps, some of them values). */
export function canFit(y: ArrayLike<number>): boolean {
  return y.length >= MIN_HISTORY_HOURS && Number.isFinite(meanOf(y, 0, y.length));
}

/**
 * Fits hourly values (index = hour, NaN = no value), choosing α, β, γ, δ by backtest.
 * `fixed` skips the search (tests, and callers that already know their parameters).
 */
export function fitHoltWinters(y: ArrayLike<number>, fixed?: HwParams): HwFit {
  if (!canFit(y)) throw new RangeError(`Holt–Winters needs at least ${MIN_HISTORY_HOURS} hourly values`);
  const n = y.length;
  const weekly = n >= 2 * WEEK;
  // Score the last quarter, but never the initial period (its errors only measure the start-up).
  const scoreFrom = Math.max(weekly ? WEEK : DAY, Math.floor(n * (1 - BACKTEST_FRACTION)));
  let best: { p: HwParams; r: Run } | undefined;
  const grid: HwParams[] = [];
  if (fixed) grid.push(fixed);
  else {
    for (const alpha of ALPHAS)
      for (const beta of BETAS)
        for (const gamma of GAMMAS)
          for (const delta of weekly ? DELTAS : [0]) grid.push({ alpha, beta, gamma, delta });
  }
  for (const p of grid) {
    const r = run(y, p, weekly, scoreFrom);
    if (!best || r.sae + r.saeDay < best.r.sae + best.r.saeDay) best = { p, r };
  }
  const { p, r } = best as { p: HwParams; r: Run };
  // Unroll the rings so index i is the component of step n − len + i.
  const daily = new Float64Array(DAY);
  for (let i = 0; i < DAY; i++) daily[i] = r.daily[(n + i) % DAY] as number;
  const weeklySeason = new Float64Array(WEEK);
  for (let i = 0; i < WEEK; i++) weeklySeason[i] = r.weekly[(n + i) % WEEK] as number;
  const sigma = r.scored > 0 ? Math.sqrt(r.sse / r.scored) : 0;
  return { params: p, weekly, level: r.level, trend: r.trend, daily, weeklySeason, sigma, mae: r.scored > 0 ? r.sae / r.scored : 0, n };
}

/** Point forecasts and 95 % intervals (or z other than Z95) for the next `horizon` hours. */
export function forecastHoltWinters(fit: HwFit, horizon: number, z = Z95): ForecastPoint[] {
  const out: ForecastPoint[] = [];
  const { alpha, beta, gamma, delta } = fit.params;
  let varSum = 1;
  for (let h = 1; h <= horizon; h++) {
    const d = fit.daily[(h - 1) % DAY] as number;
    const w = fit.weekly ? (fit.weeklySeason[(h - 1) % WEEK] as number) : 0;
    const value = fit.level + h * fit.trend + d + w;
    if (h > 1) {
      const j = h - 1;
      const c = alpha * (1 + j * beta) + (j % DAY === 0 ? gamma : 0) + (fit.weekly && j % WEEK === 0 ? delta : 0);
      varSum += c * c;
    }
    const half = z * fit.sigma * Math.sqrt(varSum);
    out.push({ h, value, lower: value - half, upper: value + half });
  }
  return out;
}

/**
 * The point forecasts a fit's parameters made at earlier steps: for each origin o (0 < o ≤ n), the
 * `horizon` values forecast for steps o … o + horizon − 1 from the state after step o − 1, by one
 * pass with the fit's parameters. The model selector (select.ts) scores them against what came
 * next, as it scores the other candidates.
 */
export function holtWintersAt(y: ArrayLike<number>, fit: HwFit, origins: readonly number[], horizon: number): Float64Array[] {
  const init = initialState(y, fit.weekly);
  let { level, trend } = init;
  const daily = init.daily;
  const w = init.weekly;
  const { alpha, beta, gamma, delta } = fit.params;
  const wanted = new Map<number, number>(origins.map((o, i) => [o, i]));
  const out = origins.map(() => new Float64Array(horizon).fill(NaN));
  const take = (t: number): void => {
    const i = wanted.get(t);
    if (i === undefined) return;
    const f = out[i] as Float64Array;
    for (let h = 0; h < horizon; h++) {
      const s = t + h;
      f[h] = level + (h + 1) * trend + (daily[s % DAY] as number) + (fit.weekly ? (w[s % WEEK] as number) : 0);
    }
  };
  for (let t = 0; t < y.length; t++) {
    take(t);
    const d = daily[t % DAY] as number;
    const ws = w[t % WEEK] as number;
    let v = y[t] as number;
    if (!Number.isFinite(v)) v = level + trend + d + ws;
    const prev = level;
    level = alpha * (v - d - ws) + (1 - alpha) * (level + trend);
    trend = beta * (level - prev) + (1 - beta) * trend;
    daily[t % DAY] = gamma * (v - level - ws) + (1 - gamma) * d;
    if (fit.weekly) w[t % WEEK] = delta * (v - level - d) + (1 - delta) * ws;
  }
  take(y.length);
  return out;
}

/** The seasonal-naive reference: the value one season (168 or 24 steps) before each forecast hour. */
export function seasonalNaive(y: ArrayLike<number>, horizon: number, season: number): number[] {
  const out: number[] = [];
  const n = y.length;
  for (let h = 1; h <= horizon; h++) {
    const k = Math.ceil(h / season);
    out.push(y[n + h - 1 - k * season] as number);
  }
  return out;
}
