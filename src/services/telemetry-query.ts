/**
 * Reads stored telemetry for the management API: raw points, time buckets, latest values and
 * key lists. Every call checks that the device exists in the caller's tenant first.
 */
import { PlatformError } from '../domain/errors.js';
import { AGGREGATIONS, type Aggregation, type TsValue } from '../domain/telemetry.js';
import type { Device } from '../domain/device.js';
import { systemClock, type Clock, type TelemetryStore } from '../ports.js';
import { baselineKey, forecastKey, type KeyBaseline, type KeyForecast } from './forecast-models.js';
import { exportPages, type ExportPage } from './telemetry-export.js';

export const DEFAULT_RAW_LIMIT = 100;
export const MAX_RAW_LIMIT = 100_000;
export const MAX_BUCKETS = 100_000;
export const MAX_QUERY_KEYS = 1000;

export interface TelemetryQueryDeps {
  readonly store: TelemetryStore;
  /** Where devices are looked up for the tenant check (the RegistryService or the store). */
  readonly registry: { getDevice(id: string): Promise<Device | undefined> };
  readonly clock?: Clock;
}

export interface TimeRange {
  /** Keys to read; absent or empty = every key the device has reported. */
  readonly keys?: readonly string[];
  readonly from?: number;
  readonly to?: number;
}

export interface RawOptions extends TimeRange {
  /** Points per key (default 100, at most 100,000). */
  readonly limit?: number;
  readonly order?: 'asc' | 'desc';
}

export interface AggregateOptions extends TimeRange {
  readonly interval: number;
  readonly agg: Aggregation;
}

/** Forecast answers kept (oldest dropped first). */
const MAX_CACHED_FORECASTS = 1000;

export class TelemetryQueryService {
  private readonly clock: Clock;
  private readonly forecasts = new Map<string, { hour: number; answer: KeyForecast }>();

  constructor(private readonly deps: TelemetryQueryDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  async raw(tenantId: string, deviceId: string, options: RawOptions = {}): Promise<Record<string, TsValue[]>> {
    const limit = options.limit ?? DEFAULT_RAW_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new PlatformError('BAD_REQUEST', 'limit must be a positive integer');
    const { keys, from, to } = await this.prepare(tenantId, deviceId, options);
    if (keys.length === 0) return {};
    return this.deps.store.queryRaw({ deviceId, keys, from, to, limit: Math.min(limit, MAX_RAW_LIMIT), order: options.order ?? 'desc' });
  }

  async aggregated(tenantId: string, deviceId: string, options: AggregateOptions): Promise<Record<string, TsValue[]>> {
    const { interval, agg } = options;
    if (!Number.isFinite(interval) || interval <= 0 || !Number.isInteger(interval)) {
      throw new PlatformError('BAD_REQUEST', 'interval must be a positive number of milliseconds');
    }
    if (!AGGREGATIONS.includes(agg)) throw new PlatformError('BAD_REQUEST', `agg must be one of ${AGGREGATIONS.join(', ')}`);
    const { keys, from, to } = await this.prepare(tenantId, deviceId, options);
    const buckets = Math.ceil((to - from + 1) / interval);
    if (buckets > MAX_BUCKETS) {
      throw new PlatformError('BAD_REQUEST', `${buckets} buckets requested; at most ${MAX_BUCKETS} (widen the interval or narrow from/to)`);
    }
    if (keys.length === 0) return {};
    return this.deps.store.queryAggregated({ deviceId, keys, from, to, interval, agg });
  }

  /**
   * Every raw point of the range (no cap), key by key and oldest first, in pages read as the
   * caller consumes them. The tenant check and the range are done before this resolves, so a
   * refusal is an error answer rather than a broken stream.
   */
  async export(tenantId: string, deviceId: string, range: TimeRange = {}): Promise<AsyncGenerator<ExportPage>> {
    const { keys, from, to } = await this.prepare(tenantId, deviceId, range);
    return exportPages(this.deps.store, { deviceId, keys: [...keys].sort(), from, to });
  }

  async latest(tenantId: string, deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>> {
    await this.requireDevice(tenantId, deviceId);
    return this.deps.store.latest(deviceId, keys && keys.length > 0 ? checkKeys(keys) : undefined);
  }

  async keys(tenantId: string, deviceId: string): Promise<string[]> {
    await this.requireDevice(tenantId, deviceId);
    return (await this.deps.store.telemetryKeys(deviceId)).sort();
  }

  /**
   * Forecast of a key from its hourly roll-ups by the model that backtests best, `horizonMs` ahead
   * (whole hours, at most MAX_FORECAST_HOURS). A selection costs ~30–40 ms of CPU and the roll-ups change once an hour,
   * so answers are kept until the hour is over (a dashboard polling a chart does not refit).
   */
  async forecast(tenantId: string, deviceId: string, key: string, horizonMs: number): Promise<KeyForecast> {
    await this.requireDevice(tenantId, deviceId);
    const now = this.clock.now();
    const hour = Math.floor(now / 3_600_000);
    const id = `${deviceId}\u0000${key}\u0000${horizonMs}`;
    const hit = this.forecasts.get(id);
    if (hit && hit.hour === hour) return hit.answer;
    const answer = await forecastKey(this.deps.store, deviceId, key, horizonMs, now);
    this.forecasts.delete(id);
    if (this.forecasts.size >= MAX_CACHED_FORECASTS) this.forecasts.delete(this.forecasts.keys().next().value as string);
    this.forecasts.set(id, { hour, answer });
    return answer;
  }

  /** The hour-of-week baseline of a key (what expected/deviation read), from its hourly roll-ups: one aggregate read, no fit. */
  async baseline(tenantId: string, deviceId: string, key: string): Promise<KeyBaseline> {
    await this.requireDevice(tenantId, deviceId);
    return baselineKey(this.deps.store, deviceId, key, this.clock.now());
  }

  private async requireDevice(tenantId: string, deviceId: string): Promise<void> {
    const device = await this.deps.registry.getDevice(deviceId);
    if (!device || device.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
  }

  private async prepare(tenantId: string, deviceId: string, range: TimeRange): Promise<{ keys: string[]; from: number; to: number }> {
    const from = range.from ?? 0;
    const to = range.to ?? this.clock.now();
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0) {
      throw new PlatformError('BAD_REQUEST', 'from and to must be millisecond timestamps');
    }
    if (from > to) throw new PlatformError('BAD_REQUEST', 'from is after to');
    await this.requireDevice(tenantId, deviceId);
    const keys = range.keys && range.keys.length > 0 ? checkKeys(range.keys) : await this.deps.store.telemetryKeys(deviceId);
    return { keys, from, to };
  }
}

function checkKeys(keys: readonly string[]): string[] {
  const unique = [...new Set(keys.filter((k) => k.length > 0))];
  if (unique.length > MAX_QUERY_KEYS) throw new PlatformError('BAD_REQUEST', `at most ${MAX_QUERY_KEYS} keys per query`);
  return unique;
}
