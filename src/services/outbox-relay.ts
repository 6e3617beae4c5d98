/**
 * The relay of the transactional outbox: the ingest → rules handoff cannot lose an event.
 *
 * IngestService encodes the bus events of a group commit (one per message) as one outbox record
 * that the store writes in the commit's own transaction. After the commit, relay() publishes the
 * events and acknowledges the record once every publish has resolved (once the bus holds them:
 * durably, for a durable bus). A crash between the commit and the acknowledgement leaves the
 * record in the store, and recover() publishes it again at the next start, before any device
 * can connect. Delivery is therefore at least once: consumers tolerate duplicates (the rule
 * engine does: window samples are keyed on the point's timestamp, edges fire on a change).
 *
 * The record format (outbox-record.ts): telemetry as a reference to the committed rows, other
 * events as versioned envelopes; a record this build cannot read is logged and kept, never misread.
 */
import { BusSchemaError } from '../domain/bus-events.js';
import type { Bus, Logger, OutboxStore } from '../ports.js';
import { decodeRecord, encodeRecord, type OutboxEvent, type TelemetryReader } from './outbox-record.js';

export type { OutboxEvent } from './outbox-record.js';

export interface OutboxRelayDeps {
  readonly store: OutboxStore & TelemetryReader;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Records taken per read at recovery; default 256. */
  readonly batch?: number;
  /** Delay before publishing again what failed to publish; default 1,000 ms. */
  readonly retryMs?: number;
}

export class OutboxRelay {
  private readonly inFlight = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly deps: OutboxRelayDeps) {}

  /** Outbox records being published and not yet acknowledged: the outbox depth gauge. */
  depth(): number {
    return this.inFlight.size;
  }

  /** The record of one commit's events (outbox-record.ts). */
  encode(events: readonly OutboxEvent[]): string {
    return encodeRecord(events);
  }

  /**
   * After the commit of record `id`: publishes its events in order and acknowledges the record.
   * Never rejects: a failed publish leaves the record, published again by a retry pass.
   * Without an id (a store that wrote no record) the events are only published.
   */
  relay(id: number | undefined, events: readonly OutboxEvent[]): void {
    const done = this.publishAll(events)
      .then(() => (id === undefined ? undefined : this.deps.store.ackOutbox([id])))
      .catch((err: unknown) => {
        this.deps.logger.warn({ err, outboxId: id }, 'outbox record not published or not acknowledged; trying again later');
        this.retrySoon();
      });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /**
   * Publishes what earlier runs (or failed relays) left in the outbox, oldest first, and
   * acknowledges each record once published. Call at start, after the consumers subscribed and
   * before new commits. Resolves with the number of records published.
   */
  recover(): Promise<number> {
    this.recovering ??= this.recoverAll().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /** Waits for every publish and acknowledgement under way; no retry pass is started afterwards. */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (this.inFlight.size > 0 || this.recovering) {
      await Promise.all([...this.inFlight, this.recovering]);
    }
  }

  /**
   * Publishes in order; resolves when the bus holds every one (one promise per commit, not per
   * message). A bus that has a message at once answers with one shared settled promise (the
   * memory bus does): it is awaited once, not once per message — thousands of reactions per
   * commit otherwise, measured at ~1% of the ingest rate.
   */
  private publishAll(events: readonly OutboxEvent[]): Promise<void> {
    const waiting: Promise<void>[] = [];
    let last: Promise<void> | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as OutboxEvent;
      const p = this.deps.bus.publish(e.event, e.subject, e.message as never);
      if (p !== last) waiting.push((last = p));
    }
    return waiting.length === 1 ? (waiting[0] as Promise<void>) : Promise.all(waiting).then(() => undefined);
  }

  private async recoverAll(): Promise<number> {
    const limit = this.deps.batch ?? 256;
    let published = 0;
    const skipped = new Set<number>();
    for (;;) {
      const records = (await this.deps.store.takeOutbox(limit + skipped.size)).filter((r) => !skipped.has(r.id));
      if (records.length === 0) return published;
      for (const record of records) {
        let events: OutboxEvent[];
        try {
          events = await decodeRecord(record.payload, this.deps.store);
        } catch (err) {
          if (!(err instanceof BusSchemaError) && !(err instanceof SyntaxError)) throw err; // e.g. the store failing: not the record's fault
          // Kept for a build that reads it; never acknowledged unread.
          this.deps.logger.error({ err, outboxId: record.id }, 'outbox record unreadable by this build; left in the outbox');
          skipped.add(record.id);
          continue;
        }
        await this.publishAll(events);
        await this.deps.store.ackOutbox([record.id]);
        published++;
      }
    }
  }

  private retrySoon(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.recover().catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'outbox retry failed');
        this.retrySoon();
      });
    }, this.deps.retryMs ?? 1000);
    this.retryTimer.unref();
  }
}

