/**
 * Telemetry retention (issue 18 item 5): a background job that deletes, for every device whose
 * profile sets `retentionDays`, the telemetry older than that many days (raw points and their
 * hourly roll-ups; the latest values stay). The cut-off is rounded down to the hour so the
 * roll-ups left are exact. Work goes one device at a time in steps of `stepPoints` (one store
 * transaction each) with a turn of the event loop between steps, so ingest is not held up; a run
 * that is still going when the next is due is not overlapped. Idempotent: several nodes of a
 * cluster running it at once only repeat deletes of nothing.
 */
import type { Clock, Logger, RegistryStore, TelemetryStore } from '../ports.js';
import type { RetentionMetrics } from '../ports/metrics.js';
import type { TenancyStore } from '../ports/tenancy.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PAGE = 500;

export interface RetentionConfig {
  /** How often a run starts; 0 turns the job off. */
  readonly everyMinutes: number;
  /** Points deleted per store transaction. */
  readonly stepPoints: number;
}

export const DEFAULT_RETENTION: RetentionConfig = { everyMinutes: 60, stepPoints: 5_000 };

export interface RetentionRun {
  readonly devices: number;
  readonly points: number;
}

/** The cut-off for a retention of `days` at `now`: an hour boundary. */
export function retentionCutoff(now: number, days: number): number {
  const raw = now - days * DAY;
  return raw - (((raw % HOUR) + HOUR) % HOUR);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class RetentionJob {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<RetentionRun> | undefined;
  private stopping = false;

  constructor(
    private readonly deps: {
      store: Pick<TelemetryStore, 'pruneTelemetry'> & Pick<RegistryStore, 'listProfiles' | 'listDevices'> & Pick<TenancyStore, 'listTenants'>;
      clock: Clock;
      logger: Logger;
      metrics?: RetentionMetrics;
      config: RetentionConfig;
    },
  ) {}

  /** One pass over every tenant's profiles that set a retention; resolves with what it deleted. */
  async runOnce(): Promise<RetentionRun> {
    const started = this.deps.clock.now();
    let devices = 0;
    let points = 0;
    for (const tenant of await this.deps.store.listTenants()) {
      for (const profile of await this.deps.store.listProfiles(tenant.id)) {
        if (profile.retentionDays === undefined || this.stopping) continue;
        const cutoff = retentionCutoff(started, profile.retentionDays);
        for (let offset = 0; !this.stopping; offset += PAGE) {
          const page = await this.deps.store.listDevices({ tenantId: tenant.id, profileId: profile.id, limit: PAGE, offset });
          for (const device of page.items) {
            const n = await this.pruneDevice(device.id, cutoff);
            if (n > 0) devices++;
            points += n;
          }
          if (page.items.length < PAGE) break;
        }
      }
    }
    const seconds = (this.deps.clock.now() - started) / 1000;
    this.deps.metrics?.ran(seconds);
    if (points > 0) this.deps.logger.info({ devices, points, seconds }, 'retention: old telemetry deleted');
    return { devices, points };
  }

  private async pruneDevice(deviceId: string, cutoff: number): Promise<number> {
    const step = this.deps.config.stepPoints;
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = await this.deps.store.pruneTelemetry(deviceId, cutoff, step);
      } catch (err) {
        this.deps.logger.warn({ err, deviceId }, 'retention: deleting old telemetry failed; next run retries');
        return total;
      }
      total += n;
      this.deps.metrics?.deleted(n);
      if (n < step || this.stopping) return total;
      await nextTurn();
    }
  }

  start(): void {
    if (this.deps.config.everyMinutes <= 0 || this.timer) return;
    this.stopping = false;
    const run = (): void => {
      if (this.running) return; // a slow run is not overlapped by the next
      this.running = this.runOnce().finally(() => (this.running = undefined));
      this.running.catch((err: unknown) => this.deps.logger.warn({ err }, 'retention run failed'));
    };
    this.timer = setInterval(run, this.deps.config.everyMinutes * 60_000);
    this.timer.unref();
  }

  /** Ends the timer and lets a run in progress stop after its current step. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
