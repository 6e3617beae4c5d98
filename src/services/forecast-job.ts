/**
 * The scheduled forecast job: for the configured keys of a tenant's devices, writes the forecast
 * (the model its backtest chose, forecast-models.ts) as telemetry series `forecast.<key>` (and
 * `forecast.<key>.lower` / `.upper`, the 95 % interval) at future hourly timestamps, so a chart
 * overlays it on `<key>` (the device page does, web/src/pages/device-overlays.ts). Each run
 * replaces the points of the previous one (a store write is idempotent on device, key and ts);
 * hours already past keep the last forecast made for them.
 *
 * Kept cheap on purpose: only the keys listed in the config, one aggregate read and one model
 * selection (~15–26 ms) per device and key, devices taken a page at a time, and by default once
 * an hour (the roll-ups change once an hour). Rows go straight to the store, not through ingest:
 * they are derived data, are not messages of a device, and must not trigger rules.
 */
import type { Clock, Logger, RegistryStore, TelemetryStore } from '../ports.js';
import { forecastKey } from './forecast-models.js';

export interface ForecastJobConfig {
  /** Telemetry keys to forecast; empty = the job does nothing. */
  readonly keys: readonly string[];
  readonly horizonHours: number;
  readonly everyMinutes: number;
}

export const DEFAULT_FORECAST_JOB: ForecastJobConfig = { keys: [], horizonHours: 24, everyMinutes: 60 };
const PAGE = 200;

export class ForecastJob {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<TelemetryStore, 'queryAggregated' | 'telemetryKeys' | 'appendTelemetry'> & Pick<RegistryStore, 'listDevices'>;
      clock: Clock;
      logger: Logger;
      tenantIds: () => Promise<readonly string[]> | readonly string[];
      config: ForecastJobConfig;
    },
  ) {}

  /** Forecasts every configured key of every device of the tenants; resolves with the rows written. */
  async runOnce(): Promise<number> {
    const { keys, horizonHours } = this.deps.config;
    if (keys.length === 0) return 0;
    let written = 0;
    const now = this.deps.clock.now();
    for (const tenantId of await this.deps.tenantIds()) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.deps.store.listDevices({ tenantId, limit: PAGE, offset });
        for (const device of page.items) {
          const has = new Set(await this.deps.store.telemetryKeys(device.id));
          for (const key of keys) {
            if (!has.has(key)) continue;
            try {
              const f = await forecastKey(this.deps.store, device.id, key, horizonHours * 3_600_000, now);
              if (f.points.length === 0) continue;
              const rows = f.points.flatMap((p) => [
                { deviceId: device.id, key: `forecast.${key}`, ts: p.ts, value: p.value },
                { deviceId: device.id, key: `forecast.${key}.lower`, ts: p.ts, value: p.lower },
                { deviceId: device.id, key: `forecast.${key}.upper`, ts: p.ts, value: p.upper },
              ]);
              await this.deps.store.appendTelemetry(rows);
              written += rows.length;
            } catch (err) {
              this.deps.logger.warn({ err, deviceId: device.id, key }, 'forecast job: a key failed');
            }
          }
        }
        if (page.items.length < PAGE) break;
      }
    }
    return written;
  }

  start(): void {
    if (this.deps.config.keys.length === 0 || this.timer) return;
    this.timer = setInterval(() => {
      // One run at a time: a slow run is not overlapped by the next.
      if (this.running) return;
      this.running = this.runOnce().finally(() => (this.running = undefined));
      this.running.catch((err: unknown) => this.deps.logger.warn({ err }, 'forecast job failed'));
    }, this.deps.config.everyMinutes * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
