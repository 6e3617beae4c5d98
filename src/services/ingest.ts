/**
 * Ingest: validate, stamp, group-commit. Every transport's telemetry ends here. Rows from all
 * devices accumulate while the event loop is busy and are written in one transaction when it
 * turns (or when a batch is full); each caller's promise resolves only after its rows are
 * committed, which is when the transport sends PUBACK / CoAP ACK / HTTP 200.
 *
 * One message can never fail the others of its batch (issue 12, item 5): each message is
 * validated and its object values serialized on the caller's side, before it joins a batch, so
 * what cannot be stored fails that caller alone; and a batch whose transaction still fails is
 * split in halves and retried, down to the single message that fails, which alone is rejected.
 * Halves commit one after the other, in arrival order, before anything queued later: PUBACKs
 * to one client stay in order [MQTT-4.6.0-2].
 *
 * The bus events announcing a batch (`telemetry.<tenant>.<device>`, one per message: rule input)
 * are written as one outbox record in the batch's own transaction and published by the
 * OutboxRelay after the commit, so a crash between the commit and the publish loses none
 * (services/outbox-relay.ts).
 */
import type { DeviceIdentity, TransportName } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import { validatePoints, type Point, type PointLimits } from '../domain/telemetry.js';
import type { Bus, Clock, Logger, TelemetryRow, TelemetryStore } from '../ports.js';
import type { PlatformMetrics } from '../ports/device-api.js';
import type { OutboxEvent, OutboxRelay } from './outbox-relay.js';
import type { QuotaService } from './quotas.js';

interface PendingMessage {
  readonly identity: DeviceIdentity;
  readonly points: readonly Point[];
  /** The points as store rows, object values serialized already. */
  readonly rows: readonly TelemetryRow[];
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
  /**
   * Writes each batch's events to the store's outbox and publishes them after the commit. Without
   * it (tests, tools) the events are published after the commit with nothing kept.
   */
  readonly outbox?: OutboxRelay;
  /** Called for every committed message a device sent (activity tracking). */
  readonly onCommitted?: (identity: DeviceIdentity, transport: TransportName) => void;
  /**
   * Tenant quotas (services/quotas.ts): each message is admitted before it joins a batch (no
   * store read), and the points of each commit are counted after it.
   */
  readonly quotas?: Pick<QuotaService, 'admit' | 'committed'>;
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
    this.check(points);
    if (points.length === 0) return Promise.resolve();
    // A gateway's message was admitted once, as a whole, before its children (admit below).
    if (transport !== 'gateway') this.deps.quotas?.admit(identity.tenantId, transport !== undefined);
    const rows = toRows(identity.deviceId, points);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ identity, points, rows, transport, resolve, reject });
      this.pendingRows += points.length;
      if (this.pendingRows >= this.deps.maxBatchRows) this.flushSoon(true);
      else this.flushSoon(false);
    });
  }

  /** Throws what ingest() would for these points (callers that ingest several messages at once check all first). */
  check(points: readonly Point[]): void {
    validatePoints(points, this.deps.clock.now(), this.deps.limits);
  }

  /**
   * Admits one device message of the tenant against its quotas, or throws (TENANT_RATE_LIMITED,
   * TENANT_QUOTA_EXCEEDED). The gateway API calls it once per gateway message, before it creates
   * or queues anything for the children; ingest() admits every other message itself.
   */
  admit(tenantId: string): void {
    this.deps.quotas?.admit(tenantId, true);
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
    const done = this.commit(batch)
      .finally(() => {
        this.committing = undefined;
        // What queued during this commit has waited long enough: commit it now.
        if (this.pending.length > 0) void this.commitBatch();
      });
    this.committing = done;
    return done;
  }

  /** Commits the messages in one transaction; if it fails, each half separately (in order). */
  private async commit(batch: readonly PendingMessage[]): Promise<void> {
    const rows = batch.length === 1 ? (batch[0] as PendingMessage).rows : batch.flatMap((m) => m.rows);
    const events = eventsOf(batch);
    const { outbox } = this.deps;
    const started = performance.now();
    let outboxId: number | undefined;
    try {
      outboxId = await this.deps.store.appendTelemetry(rows, outbox?.encode(events));
    } catch (err) {
      if (batch.length === 1) return this.failed(batch, err);
      this.deps.logger.warn({ err, messages: batch.length }, 'telemetry commit failed; retrying its messages in halves to isolate the cause');
      const half = Math.ceil(batch.length / 2);
      // One turn of the event loop between attempts: a store that keeps failing must not freeze it.
      await new Promise((resolve) => setImmediate(resolve));
      await this.commit(batch.slice(0, half));
      await this.commit(batch.slice(half));
      return;
    }
    this.committed(batch, rows.length, started);
    if (outbox) outbox.relay(outboxId, events);
    else {
      // Nothing kept to publish again: a tool or test wiring without an outbox accepts the loss.
      for (const e of events) void this.deps.bus.publish(e.event, e.subject, e.message as never).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing a committed event failed (no outbox in this wiring: lost)'));
    }
  }

  private committed(batch: readonly PendingMessage[], rowCount: number, started: number): void {
    this.deps.metrics.storeCommit(rowCount, (performance.now() - started) / 1000);
    if (this.deps.quotas) countPoints(this.deps.quotas, batch);
    for (const message of batch) {
      message.resolve();
      if (message.transport) this.deps.onCommitted?.(message.identity, message.transport);
    }
  }

  /** The one message whose commit fails on its own. A store's PlatformError is the device's answer. */
  private failed(batch: readonly PendingMessage[], err: unknown): void {
    for (const message of batch) {
      this.deps.logger.error({ err, deviceId: message.identity.deviceId, rows: message.rows.length }, 'telemetry commit failed for this message');
      message.reject(err instanceof PlatformError ? err : new PlatformError('UNAVAILABLE', 'storage commit failed', { cause: err }));
    }
  }
}

/** The points a commit stored, by tenant (most batches hold one tenant: one call). */
function countPoints(quotas: Pick<QuotaService, 'committed'>, batch: readonly PendingMessage[]): void {
  let tenant = '';
  let points = 0;
  for (const m of batch) {
    if (m.identity.tenantId !== tenant) {
      if (points > 0) quotas.committed(tenant, points);
      tenant = m.identity.tenantId;
      points = 0;
    }
    points += m.rows.length;
  }
  if (points > 0) quotas.committed(tenant, points);
}

/** The bus events of a batch: one `telemetry` event per message, in arrival order. */
function eventsOf(batch: readonly PendingMessage[]): OutboxEvent[] {
  const events = new Array<OutboxEvent>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const { identity, points } = batch[i] as PendingMessage;
    events[i] = {
      event: 'telemetry',
      subject: subjectFor('telemetry', identity.tenantId, identity.deviceId),
      message: { tenantId: identity.tenantId, deviceId: identity.deviceId, points },
    };
  }
  return events;
}

/**
 * Store rows of one message. Object values are serialized here, on the caller's side: what
 * JSON.stringify cannot handle (validation bounds depth, so this is a last line) fails this
 * message alone instead of the transaction it would have joined.
 */
function toRows(deviceId: string, points: readonly Point[]): TelemetryRow[] {
  const rows: TelemetryRow[] = new Array<TelemetryRow>(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as Point;
    rows[i] = typeof p.value === 'object' ? { deviceId, key: p.key, ts: p.ts, value: p.value, json: serialize(p) } : { deviceId, key: p.key, ts: p.ts, value: p.value };
  }
  return rows;
}

function serialize(p: Point): string {
  try {
    return JSON.stringify(p.value);
  } catch (err) {
    throw new PlatformError('MALFORMED_PAYLOAD', `value of "${p.key}" cannot be stored`, { cause: err });
  }
}
