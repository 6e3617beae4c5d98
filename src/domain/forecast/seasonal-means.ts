/**
 * Forecasts that copy the same hour of earlier weeks: the seasonal-naive forecast (last week's
 * value), the mean or the median of the last k weeks (a holiday or an outage in one of them moves
 * the median not at all and the mean by 1/k), and either of them shifted by how far the last day
 * ran above or below what the same rule would have said for it (a level correction, for series
 * whose level drifts from week to week).
 *
 * Hourly values, index = hour, NaN = no value. A forecast made at `origin` reads only y[i < origin].
 */

export const WEEK_STEPS = 168;
const DAY_STEPS = 24;

export interface SeasonalSpec {
  /** naive = the value one week before (weeks is 1); mean/median over `weeks` weeks. */
  readonly kind: 'naive' | 'mean' | 'median';
  readonly weeks: number;
  /** Add the last day's mean residual against the same rule. */
  readonly level: boolean;
}

export function seasonalName(s: SeasonalSpec): string {
  const base = s.kind === 'naive' ? 'seasonal-naive-week' : `seasonal-${s.kind}-${s.weeks}w`;
  return s.level ? `${base}+level` : base;
}

/**
 * The value the rule gives for step t from the weeks before `origin`: the hours t − 168·j for the
 * first `weeks` j that land before origin, skipping missing hours (NaN when all are missing).
 */
function seasonalValue(y: ArrayLike<number>, t: number, origin: number, s: SeasonalSpec, scratch: number[]): number {
  const first = Math.max(1, Math.ceil((t - origin + 1) / WEEK_STEPS));
  scratch.length = 0;
  for (let j = first; j < first + s.weeks; j++) {
    const i = t - j * WEEK_STEPS;
    if (i < 0) break;
    const v = y[i] as number;
    if (Number.isFinite(v)) scratch.push(v);
  }
  if (scratch.length === 0) return NaN;
  if (s.kind !== 'median') return scratch.reduce((a, b) => a + b, 0) / scratch.length;
  scratch.sort((a, b) => a - b);
  const m = scratch.length >> 1;
  return scratch.length % 2 === 1 ? (scratch[m] as number) : ((scratch[m - 1] as number) + (scratch[m] as number)) / 2;
}

/** Point forecasts for steps origin … origin + horizon − 1 (NaN where no earlier week has the hour). */
export function seasonalForecast(y: ArrayLike<number>, origin: number, horizon: number, s: SeasonalSpec): Float64Array {
  const out = new Float64Array(horizon);
  const scratch: number[] = [];
  let shift = 0;
  if (s.level) {
    // The last day's residuals, each hour judged by the rule as it stood at that hour.
    let sum = 0;
    let c = 0;
    for (let t = Math.max(0, origin - DAY_STEPS); t < origin; t++) {
      const v = y[t] as number;
      const f = seasonalValue(y, t, t, s, scratch);
      if (Number.isFinite(v) && Number.isFinite(f)) {
        sum += v - f;
        c++;
      }
    }
    shift = c > 0 ? sum / c : 0;
  }
  for (let h = 0; h < horizon; h++) out[h] = seasonalValue(y, origin + h, origin, s, scratch) + shift;
  return out;
}
