/**
 * Ingest: validate, stamp, group-commit. Every transport's telemetry ends here. Rows from all
 * devices accumulate while the event loop is busy and are written in one transaction when it
 * turns (or when a batch is full); each caller's promise resolves only after its rows are
 * committed, which is when the transport sends PUBACK / CoAP ACK / HTTP 200.
 */
import type { DeviceIdentity, TransportName } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import { validatePoints, type Point, type PointLimits } from '../domain/telemetry.js';
import type { Bus, Clock, Logger, TelemetryRow, TelemetryStore } from '../ports.js';
import type { PlatformMetrics } from './device-api.js';

interface PendingMessage {
  readonly identity: DeviceIdentity;
  readonly points: readonly Point[];
  /** How the device sent it; undefined for platform-made points (derived telemetry). */
  readonly transport: TransportName | undefined;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export interface IngestDeps {
  readonly store: TelemetryStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics;
  readonly limits: PointLimits;
  readonly maxBatchRows: number;
  /** Called for every committed message a device sent (activity tracking). */
  readonly onCommitted?: (identity: DeviceIdentity, transport: TransportName) => void;
}

export class IngestService {
  private pending: PendingMessage[] = [];
  private pendingRows = 0;
  private flushScheduled = false;
  private committing: Promise<void> | undefined;

  constructor(private readonly deps: IngestDeps) {}

  /**
   * Validates and queues the points; resolves once they are durable. `transport` names how the
   * device sent them; points the platform derives itself (rules) pass none and do not count as
   * device activity.
   */
  ingest(identity: DeviceIdentity, points: readonly Point[], transport?: TransportName): Promise<void> {
    validatePoints(points, this.deps.clock.now(), this.deps.limits);
    if (points.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ identity, points, transport, resolve, reject });
      this.pendingRows += points.length;
      if (this.pendingRows >= this.deps.maxBatchRows) this.flushSoon(true);
      else this.flushSoon(false);
    });
  }

  /** Commits whatever is queued; used at shutdown. */
  async drain(): Promise<void> {
    while (this.committing || this.pending.length > 0) {
      if (this.committing) await this.committing;
      else await this.commitBatch();
    }
  }

  private flushSoon(now: boolean): void {
    if (now && !this.committing) {
      void this.commitBatch();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.committing && this.pending.length > 0) void this.commitBatch();
    });
  }

  private commitBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    const rows: TelemetryRow[] = [];
    for (const message of batch) {
      for (const p of message.points) rows.push({ deviceId: message.identity.deviceId, key: p.key, ts: p.ts, value: p.value });
    }
    const started = performance.now();
    const done = this.deps.store
      .appendTelemetry(rows)
      .then(
        () => this.committed(batch, rows.length, started),
        (err: unknown) => this.failed(batch, err),
      )
      .finally(() => {
        this.committing = undefined;
        // What queued during this commit has waited long enough: commit it now.
        if (this.pending.length > 0) void this.commitBatch();
      });
    this.committing = done;
    return done;
  }

  private committed(batch: readonly PendingMessage[], rowCount: number, started: number): void {
    this.deps.metrics.storeCommit(rowCount, (performance.now() - started) / 1000);
    for (const message of batch) {
      message.resolve();
      const { identity } = message;
      if (message.transport) this.deps.onCommitted?.(identity, message.transport);
      this.deps.bus.publish('telemetry', subjectFor('telemetry', identity.tenantId, identity.deviceId), {
        tenantId: identity.tenantId,
        deviceId: identity.deviceId,
        points: message.points,
      });
    }
  }

  private failed(batch: readonly PendingMessage[], err: unknown): void {
    this.deps.logger.error({ err, messages: batch.length }, 'telemetry commit failed; devices will retry');
    const error = new PlatformError('UNAVAILABLE', 'storage commit failed', { cause: err });
    for (const message of batch) message.reject(error);
  }
}
