/**
 * What the rule functions expected/deviation/forecastMin/forecastMax read for one (device, key):
 * the seasonal baseline and an hourly forecast, both computed from the hourly roll-ups when the
 * engine (or a backtest) loads the model, so answering a call is an array lookup, never a fit.
 */
import type { ModelUse } from '../expression/model-calls.js';
import { HOUR_MS, deviationAt, expectedAt, type SeasonalBaseline } from './seasonal-baseline.js';

export interface HourlyForecast {
  /** Start of the first forecast hour; value[i] is for the hour starting at from + i·HOUR_MS. */
  readonly from: number;
  readonly value: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

export interface KeyModel {
  /** Absent until the key has the baseline's minimum history. */
  readonly baseline?: SeasonalBaseline;
  /** Absent until the key has Holt–Winters' minimum history. */
  readonly forecast?: HourlyForecast;
}

/** What a model call found, for the alarm explanation. */
export interface ModelReading {
  readonly score: number;
  readonly baseline: number;
  /** The forecast hour the extreme falls in, and its interval. */
  readonly at?: number;
  readonly lower?: number;
  readonly upper?: number;
}

/** The forecast hour with the lowest (min) or highest (max) value in the `hours` hours starting with the one holding ts. */
function extreme(f: HourlyForecast, ts: number, hours: number, min: boolean): number | undefined {
  const first = Math.floor((ts - f.from) / HOUR_MS);
  const lo = Math.max(0, first);
  const hi = Math.min(f.value.length, first + hours);
  let best: number | undefined;
  for (let i = lo; i < hi; i++) {
    const v = f.value[i] as number;
    if (best === undefined || (min ? v < (f.value[best] as number) : v > (f.value[best] as number))) best = i;
  }
  return best;
}

/** The call's reading at message time ts, `value` being the key's current value (message or latest). */
export function modelReading(use: ModelUse, model: KeyModel | undefined, ts: number, value: number | undefined): ModelReading | null {
  if (!model) return null;
  switch (use.fn) {
    case 'expected':
    case 'deviation': {
      if (!model.baseline) return null;
      const expected = expectedAt(model.baseline, ts);
      if (expected === null) return null;
      if (use.fn === 'expected') return { score: expected, baseline: expected };
      const d = value === undefined ? null : deviationAt(model.baseline, ts, value);
      return d === null ? null : { score: d, baseline: expected };
    }
    case 'forecastMin':
    case 'forecastMax': {
      const f = model.forecast;
      if (!f) return null;
      const i = extreme(f, ts, use.hours ?? 1, use.fn === 'forecastMin');
      if (i === undefined) return null;
      const score = f.value[i] as number;
      return { score, baseline: value ?? score, at: f.from + i * HOUR_MS, lower: f.lower[i] as number, upper: f.upper[i] as number };
    }
  }
}

/** The value the call answers: null while the model lacks history (so comparisons are false). */
export function modelValue(use: ModelUse, model: KeyModel | undefined, ts: number, value: number | undefined): number | null {
  const r = modelReading(use, model, ts, value);
  return r === null || !Number.isFinite(r.score) ? null : r.score;
}
