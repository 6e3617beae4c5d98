/**
 * The rule engine's cache of roll-up models per (device, key): loaded lazily the first time a rule
 * that calls expected/deviation/forecastMin/forecastMax meets the device (the engine awaits that
 * one load in `prepare`), then refreshed in the background once the UTC hour it was learned in is
 * over (a new roll-up row exists) — so evaluation never reads the store per message. A refresh
 * that fails keeps the old model and is retried the next hour.
 */
import type { CompiledRule } from '../../domain/rules/compile.js';
import { usesBaseline, MAX_RULE_FORECAST_HOURS } from '../../domain/expression/index.js';
import type { KeyModel } from '../../domain/forecast/key-model.js';
import { HOUR_MS } from '../../domain/forecast/seasonal-baseline.js';
import type { Clock, Logger, TelemetryStore } from '../../ports.js';
import { hourStart, hourlySeries, keyModelOf } from '../forecast-models.js';

interface Need {
  baseline: boolean;
  forecastHours: number;
}

interface Entry {
  model: KeyModel;
  expires: number;
  need: Need;
  refreshing: boolean;
}

const needsMemo = new WeakMap<CompiledRule, ReadonlyMap<string, Need>>();

/** What a rule needs per key (memoized per compiled rule). */
export function modelNeedsOf(rule: CompiledRule): ReadonlyMap<string, Need> {
  let needs = needsMemo.get(rule);
  if (!needs) {
    const m = new Map<string, Need>();
    for (const use of rule.analysis.models) {
      const n = m.get(use.key) ?? { baseline: false, forecastHours: 0 };
      if (usesBaseline(use.fn)) n.baseline = true;
      // Forecast a full week ahead whatever the call's horizon: the same model serves every call
      // until the next refresh, and a message an hour later still needs `hours` ahead of it.
      else n.forecastHours = MAX_RULE_FORECAST_HOURS + 1;
      m.set(use.key, n);
    }
    needs = m;
    needsMemo.set(rule, needs);
  }
  return needs;
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly deps: { store: Pick<TelemetryStore, 'queryAggregated'>; clock: Clock; logger?: Logger; historyHours?: number },
  ) {}

  private static id(deviceId: string, key: string): string {
    return `${deviceId}\u0000${key}`;
  }

  /** Whether every model these rules need for the device is loaded (refreshes do not count: the old model serves meanwhile). */
  isLoaded(deviceId: string, rules: readonly CompiledRule[]): boolean {
    for (const r of rules) {
      for (const [key, need] of modelNeedsOf(r)) {
        const e = this.entries.get(ModelCache.id(deviceId, key));
        if (!e || (need.baseline && !e.need.baseline) || need.forecastHours > e.need.forecastHours) return false;
      }
    }
    return true;
  }

  async load(deviceId: string, rules: readonly CompiledRule[]): Promise<void> {
    for (const r of rules) {
      for (const [key, need] of modelNeedsOf(r)) {
        const id = ModelCache.id(deviceId, key);
        const e = this.entries.get(id);
        if (e && (!need.baseline || e.need.baseline) && need.forecastHours <= e.need.forecastHours) continue;
        const merged = { baseline: need.baseline || (e?.need.baseline ?? false), forecastHours: Math.max(need.forecastHours, e?.need.forecastHours ?? 0) };
        await this.fill(id, deviceId, key, merged);
      }
    }
  }

  private async fill(id: string, deviceId: string, key: string, need: Need): Promise<void> {
    const now = this.deps.clock.now();
    const series = await hourlySeries(this.deps.store, deviceId, key, now, this.deps.historyHours);
    this.entries.set(id, { model: keyModelOf(series, need), need, expires: hourStart(now) + HOUR_MS, refreshing: false });
  }

  /** The model for a call; starts a background refresh once its hour is over. */
  get(deviceId: string, key: string): KeyModel | undefined {
    const e = this.entries.get(ModelCache.id(deviceId, key));
    if (!e) return undefined;
    if (!e.refreshing && this.deps.clock.now() >= e.expires) {
      e.refreshing = true;
      this.fill(ModelCache.id(deviceId, key), deviceId, key, e.need).catch((err: unknown) => {
        e.refreshing = false;
        e.expires = hourStart(this.deps.clock.now()) + HOUR_MS;
        this.deps.logger?.warn({ err, deviceId, key }, 'refreshing a roll-up model failed');
      });
    }
    return e.model;
  }

  forget(deviceId: string): void {
    for (const id of this.entries.keys()) if (id.startsWith(`${deviceId}\u0000`)) this.entries.delete(id);
  }
}
