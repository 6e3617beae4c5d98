/**
 * Models of one (device, key) learned from the stored hourly roll-ups: the hour-of-week baseline
 * and the forecast (the candidate that backtests best on the key's history, domain/forecast/
 * select.ts). One aggregate read (hourly averages, which the SQLite store answers from ts_hourly,
 * one row per hour) and one selection; shared by the rule engine's model cache, the forecast API
 * and the scheduled forecast job.
 */
import { canFit, type ForecastPoint } from '../domain/forecast/holt-winters.js';
import { BACKTEST_HORIZON, selectForecast, type SelectedForecast } from '../domain/forecast/select.js';
import type { KeyModel } from '../domain/forecast/key-model.js';
import { HOUR_MS, learnBaseline, MIN_SLOT_SAMPLES, type SeasonalBaseline } from '../domain/forecast/seasonal-baseline.js';
import { PlatformError } from '../domain/errors.js';
import type { TelemetryStore } from '../ports.js';

/** History the models learn from: eight weeks of hours (1,344 roll-up rows per key). */
export const DEFAULT_HISTORY_HOURS = 8 * 168;

/** Hourly averages as an array indexed by hour, NaN for hours without data. */
export interface HourlySeries {
  /** Start of the hour of y[0]. */
  readonly start: number;
  readonly y: Float64Array;
}

export function hourStart(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/**
 * The hourly averages of whole hours before `now` (the current hour is still filling), starting at
 * the first hour with data in the last `hours` hours; undefined when there is none.
 */
export async function hourlySeries(store: Pick<TelemetryStore, 'queryAggregated'>, deviceId: string, key: string, now: number, hours = DEFAULT_HISTORY_HOURS): Promise<HourlySeries | undefined> {
  const end = hourStart(now);
  const from = end - hours * HOUR_MS;
  const got = await store.queryAggregated({ deviceId, keys: [key], from, to: end - 1, interval: HOUR_MS, agg: 'avg' });
  const points = (Object.hasOwn(got, key) ? got[key] : undefined) ?? [];
  const numeric = points.filter((p): p is { ts: number; value: number } => typeof p.value === 'number' && Number.isFinite(p.value));
  const first = numeric[0];
  if (!first) return undefined;
  const start = first.ts;
  const y = new Float64Array((end - start) / HOUR_MS).fill(NaN);
  for (const p of numeric) y[(p.ts - start) / HOUR_MS] = p.value;
  return { start, y };
}

export function baselineOf(s: HourlySeries): SeasonalBaseline | undefined {
  const points: { ts: number; value: number }[] = [];
  s.y.forEach((value, i) => {
    if (Number.isFinite(value)) points.push({ ts: s.start + i * HOUR_MS, value });
  });
  const b = learnBaseline(points);
  return b.count.some((c) => c >= MIN_SLOT_SAMPLES) ? b : undefined;
}

export interface TimedForecast {
  readonly fit: SelectedForecast;
  /** Start of the hour of points[0]. */
  readonly from: number;
  readonly points: readonly ForecastPoint[];
}

export function forecastOf(s: HourlySeries, horizonHours: number): TimedForecast | undefined {
  if (!canFit(s.y)) return undefined;
  const fit = selectForecast(s.y, horizonHours);
  return { fit, from: s.start + s.y.length * HOUR_MS, points: fit.points };
}

/** A rule engine model: the baseline and/or a forecast `horizonHours` ahead, as asked. */
export function keyModelOf(s: HourlySeries | undefined, need: { baseline: boolean; forecastHours: number }): KeyModel {
  if (!s) return {};
  const baseline = need.baseline ? baselineOf(s) : undefined;
  const f = need.forecastHours > 0 ? forecastOf(s, need.forecastHours) : undefined;
  return {
    ...(baseline ? { baseline } : {}),
    ...(f
      ? {
          forecast: {
            from: f.from,
            value: Float64Array.from(f.points, (p) => p.value),
            lower: Float64Array.from(f.points, (p) => p.lower),
            upper: Float64Array.from(f.points, (p) => p.upper),
          },
        }
      : {}),
  };
}

/** The API's horizon limit: two weeks of hours. */
export const MAX_FORECAST_HOURS = 336;

export interface ForecastModelInfo {
  /** The candidate chosen by backtest: holt-winters, seasonal-naive-week, seasonal-median-4w+level, … */
  readonly name: string;
  /** Its mean absolute error over the backtest (day-ahead forecasts; Holt–Winters' one-step error when there was no backtest). */
  readonly mae: number;
  readonly historyHours: number;
  readonly interval: number;
  /** Forecasts behind the choice (one a day over the last two weeks) and their horizon in hours. */
  readonly backtest: { origins: number; horizonHours: number; candidates: { name: string; mae: number | null }[] };
  /** The Holt–Winters fit (always made): parameters chosen by its own backtest, one-step error σ and MAE. */
  readonly holtWinters: { alpha: number; beta: number; gamma: number; delta: number; weekly: boolean; sigma: number; mae: number };
}

/** What GET /api/devices/{id}/forecast answers. */
export interface KeyForecast {
  readonly key: string;
  /** Hourly points from the current (unfinished) hour on; empty until there are two days of history. */
  readonly points: { ts: number; value: number; lower: number; upper: number }[];
  /** The model that forecast (null without enough history), how it was chosen, and the Holt–Winters fit. */
  readonly model: ForecastModelInfo | null;
}

/** Forecasts `key` of a device for `horizonMs` (rounded up to whole hours) from now. */
export async function forecastKey(store: Pick<TelemetryStore, 'queryAggregated'>, deviceId: string, key: string, horizonMs: number, now: number, historyHours = DEFAULT_HISTORY_HOURS): Promise<KeyForecast> {
  const hours = Math.ceil(horizonMs / HOUR_MS);
  if (!Number.isFinite(hours) || hours < 1 || hours > MAX_FORECAST_HOURS) {
    throw new PlatformError('BAD_REQUEST', `horizon must be from 1h to ${MAX_FORECAST_HOURS}h`);
  }
  if (key.length === 0 || key.length > 255) throw new PlatformError('BAD_REQUEST', 'key must be 1 to 255 characters');
  const series = await hourlySeries(store, deviceId, key, now, historyHours);
  // The series runs up to the current hour (silent hours at its end are NaN and take the forecast), so the first point is the current hour.
  const f = series ? forecastOf(series, hours) : undefined;
  if (!f || !series) return { key, points: [], model: null };
  const { hw } = f.fit;
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return {
    key,
    points: f.points.map((p) => ({ ts: f.from + (p.h - 1) * HOUR_MS, value: p.value, lower: p.lower, upper: p.upper })),
    model: {
      name: f.fit.name,
      mae: Number.isFinite(f.fit.mae) ? f.fit.mae : hw.mae,
      historyHours: series.y.length,
      interval: 0.95,
      backtest: { origins: f.fit.origins, horizonHours: BACKTEST_HORIZON, candidates: f.fit.candidates.map((c) => ({ name: c.name, mae: finite(c.mae) })) },
      holtWinters: { ...hw.params, weekly: hw.weekly, sigma: hw.sigma, mae: hw.mae },
    },
  };
}

/** What GET /api/devices/{id}/baseline answers: the hour-of-week baseline behind expected(key) and deviation(key). */
export interface KeyBaseline {
  readonly key: string;
  /** 168 slot means, index 0 = Monday 00:00–01:00 UTC; null where a slot has fewer than two values. */
  readonly expected: (number | null)[];
  /** The pooled robust σ that deviation(key) divides by (0 without residuals). */
  readonly sigma: number;
  /** Hourly values it was learned from (0: no roll-ups, every slot null). */
  readonly samples: number;
  readonly historyHours: number;
}

/** The baseline of `key` as the rule engine would learn it now (same history, same roll-ups). */
export async function baselineKey(store: Pick<TelemetryStore, 'queryAggregated'>, deviceId: string, key: string, now: number, historyHours = DEFAULT_HISTORY_HOURS): Promise<KeyBaseline> {
  if (key.length === 0 || key.length > 255) throw new PlatformError('BAD_REQUEST', 'key must be 1 to 255 characters');
  const series = await hourlySeries(store, deviceId, key, now, historyHours);
  const b = series ? baselineOf(series) : undefined;
  if (!b || !series) return { key, expected: new Array<null>(168).fill(null), sigma: 0, samples: 0, historyHours: series?.y.length ?? 0 };
  return { key, expected: Array.from(b.mean, (m) => (Number.isFinite(m) ? m : null)), sigma: b.sigma, samples: b.samples, historyHours: series.y.length };
}
