/**
 * The JetStream resources of one bus prefix: a stream per event, created on first use (a node
 * that never publishes or consumes an event makes no stream for it), and the durable consumers
 * of work-queue groups. Creation is idempotent, so every node of a cluster may ensure the same
 * names; a stream that exists is updated to this node's limits.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type NatsError, type StoredMsg, type StreamConfig } from 'nats';
import type { BusEvents } from '../../../ports.js';
import { streamName } from './subjects.js';

export interface StreamLimits {
  readonly prefix: string;
  /** Stream replicas: 1 for one server, 3 for a three-server cluster. */
  readonly replicas: number;
  /** Messages older than this are dropped (the log's horizon for replay), ms. */
  readonly maxAgeMs: number;
  /** Bytes one event's stream keeps at most (oldest dropped first); -1 unlimited. */
  readonly maxBytes: number;
}

export interface GroupConsumer {
  readonly stream: string;
  readonly name: string;
  readonly filter: string;
  readonly ackWaitMs: number;
  readonly maxDeliveries: number;
  /** 1 for a consumer every member pulls from (keeps the partition in order); more for an owned one. */
  readonly maxAckPending: number;
}

/** The JetStream API error code of a failed request, if it is one. */
export function apiErrorCode(err: unknown): number | undefined {
  return (err as Partial<NatsError> | undefined)?.api_error?.err_code;
}

const STREAM_NOT_FOUND = 10059;

export class Resources {
  private readonly streams = new Map<keyof BusEvents, Promise<string>>();
  /** Events whose stream is known to exist (publishes need not wait for it). */
  private readonly known = new Set<keyof BusEvents>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly limits: StreamLimits,
  ) {}

  ready(event: keyof BusEvents): boolean {
    return this.known.has(event);
  }

  /** Checks (or creates) the stream again on next use. */
  forget(event: keyof BusEvents): void {
    this.known.delete(event);
    this.streams.delete(event);
  }

  /** The event's stream name, once the stream exists (created or updated on first call). */
  stream(event: keyof BusEvents): Promise<string> {
    let p = this.streams.get(event);
    if (p === undefined) {
      p = this.ensureStream(event).then((name) => {
        this.known.add(event);
        return name;
      });
      // a failure (server unreachable) is not remembered: the next call tries again
      p.catch(() => this.streams.delete(event));
      this.streams.set(event, p);
    }
    return p;
  }

  /** The stream's last sequence (0 when empty): a broadcast subscription starts after it. */
  async lastSequence(stream: string): Promise<number> {
    return (await this.jsm.streams.info(stream)).state.last_seq;
  }

  /** A consumer's state, or undefined when it does not exist (yet). */
  consumerInfo(stream: string, name: string): Promise<{ num_pending: number; num_ack_pending: number } | undefined> {
    return this.jsm.consumers.info(stream, name).catch(() => undefined);
  }

  /** One stored message by sequence (a dead letter reported from an advisory). */
  message(stream: string, seq: number): Promise<StoredMsg> {
    return this.jsm.streams.getMessage(stream, { seq });
  }

  /**
   * A work-queue partition consumer: durable, explicit acks, one message unacknowledged at a
   * time (max_ack_pending 1, which is what keeps a partition in order across members), starting
   * with messages published after the group was first created.
   */
  async ensureConsumer(c: GroupConsumer): Promise<void> {
    const config = {
      durable_name: c.name,
      filter_subject: c.filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: c.maxAckPending,
      ack_wait: nanos(c.ackWaitMs),
      max_deliver: c.maxDeliveries,
      max_waiting: 512,
    };
    try {
      await this.jsm.consumers.add(c.stream, config);
    } catch (err) {
      // The consumer exists with other settings (a group switched to or from partition ownership): update them.
      const info = await this.jsm.consumers.info(c.stream, c.name).catch(() => undefined);
      if (info === undefined) throw err;
      await this.jsm.consumers.update(c.stream, c.name, { max_ack_pending: c.maxAckPending, ack_wait: config.ack_wait, max_deliver: c.maxDeliveries });
    }
  }

  private async ensureStream(event: keyof BusEvents): Promise<string> {
    const name = streamName(this.limits.prefix, event);
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [`${this.limits.prefix}.${event}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: this.limits.replicas,
      max_age: nanos(this.limits.maxAgeMs),
      max_bytes: this.limits.maxBytes,
      duplicate_window: nanos(Math.min(120_000, this.limits.maxAgeMs)),
    };
    try {
      const info = await this.jsm.streams.info(name);
      const same = info.config.num_replicas === config.num_replicas && info.config.max_age === config.max_age && info.config.max_bytes === config.max_bytes;
      if (!same) await this.jsm.streams.update(name, config);
    } catch (err) {
      if (apiErrorCode(err) !== STREAM_NOT_FOUND) throw err;
      await this.jsm.streams.add(config);
    }
    return name;
  }
}
