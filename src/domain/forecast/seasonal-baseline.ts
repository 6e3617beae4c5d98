/**
 * The seasonal baseline behind `expected(key)` and `deviation(key)`: for each hour of the week
 * (UTC, Monday 00:00 = slot 0) the mean of the hourly averages seen in that slot, and one pooled
 * spread of the residuals (value − slot mean) across all slots. Learned from the stored hourly
 * roll-ups, not from the message stream, so it costs nothing per message: the rule engine loads
 * one per (device, key) when a rule first needs it and refreshes it hourly.
 *
 * The spread is pooled because a slot sees one value a week: eight weeks give eight values, too
 * few for a per-slot deviation. It is robust (median absolute residual × 1.4826) so the anomalies
 * the baseline is meant to find do not widen it.
 */

export const HOUR_MS = 3_600_000;
export const WEEK_HOURS = 168;
/** 1970-01-01 was a Thursday: its first hour is slot 3 × 24 of a week that starts on Monday. */
const EPOCH_SLOT = 72;
/** A slot answers only once it has this many hourly values (two weeks of history). */
export const MIN_SLOT_SAMPLES = 2;
/** MAD → σ for normal data. */
const MAD_TO_SIGMA = 1.4826;

/** Hour of the week of ts, 0 (Monday 00:00–01:00 UTC) … 167. */
export function hourOfWeek(ts: number): number {
  const h = Math.floor(ts / HOUR_MS) + EPOCH_SLOT;
  return ((h % WEEK_HOURS) + WEEK_HOURS) % WEEK_HOURS;
}

export interface SeasonalBaseline {
  /** Mean per hour-of-week slot; NaN where the slot has fewer than MIN_SLOT_SAMPLES values. */
  readonly mean: Float64Array;
  readonly count: Uint32Array;
  /** Pooled robust σ of the residuals; 0 when there are none. */
  readonly sigma: number;
  /** Hourly values the baseline was learned from. */
  readonly samples: number;
}

/** One hourly average: the start of its hour and the value. */
export interface HourlyPoint {
  readonly ts: number;
  readonly value: number;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? (xs[m] as number) : ((xs[m - 1] as number) + (xs[m] as number)) / 2;
}

export function learnBaseline(points: readonly HourlyPoint[]): SeasonalBaseline {
  const sum = new Float64Array(WEEK_HOURS);
  const count = new Uint32Array(WEEK_HOURS);
  let samples = 0;
  for (const p of points) {
    if (!Number.isFinite(p.value) || !Number.isFinite(p.ts)) continue;
    const s = hourOfWeek(p.ts);
    sum[s] = (sum[s] as number) + p.value;
    count[s] = (count[s] as number) + 1;
    samples++;
  }
  const mean = new Float64Array(WEEK_HOURS);
  for (let s = 0; s < WEEK_HOURS; s++) mean[s] = (count[s] as number) >= MIN_SLOT_SAMPLES ? (sum[s] as number) / (count[s] as number) : NaN;
  const residuals: number[] = [];
  for (const p of points) {
    if (!Number.isFinite(p.value) || !Number.isFinite(p.ts)) continue;
    const m = mean[hourOfWeek(p.ts)] as number;
    if (Number.isFinite(m)) residuals.push(Math.abs(p.value - m));
  }
  let sigma = MAD_TO_SIGMA * median(residuals);
  // Quantized or very regular data can leave half the residuals at exactly 0: fall back to the mean absolute residual.
  if (!(sigma > 0) && residuals.length > 0) sigma = 1.2533141373155001 * (residuals.reduce((a, b) => a + b, 0) / residuals.length);
  return { mean, count, sigma, samples };
}

/** The expected value at ts, or null when its slot has too little history. */
export function expectedAt(b: SeasonalBaseline, ts: number): number | null {
  const m = b.mean[hourOfWeek(ts)] as number;
  return Number.isFinite(m) ? m : null;
}

/** (x − expected) / σ, capped like the detectors' z-scores; null before the minimum history. */
export function deviationAt(b: SeasonalBaseline, ts: number, x: number): number | null {
  const m = expectedAt(b, ts);
  if (m === null || !Number.isFinite(x)) return null;
  const d = x - m;
  if (!(b.sigma > 0)) return d === 0 ? 0 : Math.sign(d) * 1e6;
  return Math.max(-1e6, Math.min(1e6, d / b.sigma));
}
