/**
 * The Bus on NATS JetStream (issue 14): the bus of a cluster, durable and shared by every node.
 *
 * - publish: the event is encoded with its versioned schema (domain/bus-events.ts; a message
 *   that does not fit is refused) and published to `<prefix>.<event>.<p>.<tenant>.<device>`;
 *   the promise resolves when JetStream acknowledged it, i.e. the stream stored it (R1 or R3
 *   as configured). The partition `p` is computed here (subjects.ts says why).
 * - broadcast subscription: an ordered consumer (broadcast.ts).
 * - work-queue group: N durable pull consumers with max_ack_pending 1 shared by all members
 *   (group.ts says why that and not partition ownership).
 * - receive: every message is decoded and validated; one that does not fit is dead-lettered
 *   (logged, onDeadLetter) and terminated, never handed to a handler and never a crash.
 *
 * subscribe() is synchronous (the port) while creating consumers is a round trip: it starts
 * the setup and returns; this bus's publishes wait for setups under way, so a subscription sees
 * everything this node publishes after subscribe() returned (the memory bus's guarantee). A
 * setup that fails (server unreachable) is logged and retried with a back-off.
 */
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { decodeBusEvent, encodeBusEvent } from '../../../domain/bus-events.js';
import { PlatformError } from '../../../domain/errors.js';
import type { Bus, BusEvents, BusHandler, BusSubscribeOptions, DeadLetter, Logger } from '../../../ports.js';
import { BroadcastSubscription } from './broadcast.js';
import { GroupMember } from './group.js';
import { Resources } from './resources.js';
import { checkName, consumerName, wireFilter, wireSubject } from './subjects.js';

export interface NatsBusOptions {
  /** Server URL(s), e.g. nats://127.0.0.1:4222 (comma-separated for a cluster). */
  readonly url: string;
  /** Namespaces streams (`<prefix>_<event>`) and subjects (`<prefix>.…`): one per cluster or test run. */
  readonly prefix: string;
  /** Partitions of every event (fixed for the life of the streams: every node must agree). Default 64. */
  readonly partitions?: number;
  /** Stream replicas. Default 1. */
  readonly replicas?: number;
  /** How long the streams keep messages, ms. Default 24 h. */
  readonly maxAgeMs?: number;
  /** Bytes each event's stream keeps at most; default -1 (unlimited, bounded by maxAgeMs). */
  readonly maxBytes?: number;
  /** A work-queue delivery not settled (nor reported in progress) within this goes to another member. Default 30 s. */
  readonly ackWaitMs?: number;
  /** Back-off before redelivery attempt n (n ≥ 2); default 10 ms × 2^(n-2), at most 1 s. */
  readonly redeliveryDelayMs?: (attempt: number) => number;
  /** Told of every dead letter (after it is logged). */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** A publish (or JetStream API request) not answered within this rejects (UNAVAILABLE). Default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Connection name shown by the server (`nats server report connections`). */
  readonly name?: string;
}

const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_GROUP_IN_FLIGHT = 1000;

interface Sub {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class NatsBus implements Bus {
  private readonly js: JetStreamClient;
  private readonly resources: Resources;
  private readonly partitions: number;
  private readonly redeliveryDelayMs: (attempt: number) => number;
  /** Subscriptions being set up: publishes wait for them. */
  private readonly settingUp = new Set<Promise<void>>();
  private readonly subs = new Set<Sub>();
  /** Group name → the event and pattern its members consume (checked at subscribe). */
  private readonly groups = new Map<string, { event: keyof BusEvents; pattern: string }>();
  private closed = false;
  /** Publishes waiting for a stream or a subscription setup, chained in call order. */
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsBusOptions,
    private readonly logger: Logger | undefined,
    resources: Resources,
  ) {
    this.js = nc.jetstream({ timeout: options.requestTimeoutMs ?? 5000 });
    this.resources = resources;
    this.partitions = options.partitions ?? 64;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? ((n) => Math.min(1000, 10 * 2 ** Math.max(0, n - 2)));
  }

  /** Connects (failing if no server answers) and checks that JetStream is enabled. */
  static async connect(options: NatsBusOptions, logger?: Logger): Promise<NatsBus> {
    checkName('prefix', options.prefix);
    const partitions = options.partitions ?? 64;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) throw new RangeError('bus partitions must be an integer from 1 to 4096');
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.url.split(','), name: options.name ?? `continuum-bus-${options.prefix}`, maxReconnectAttempts: -1 });
    } catch (err) {
      throw new PlatformError('UNAVAILABLE', `bus: cannot connect to NATS at ${options.url}`, { cause: err });
    }
    try {
      const jsm = await nc.jetstreamManager({ timeout: options.requestTimeoutMs ?? 5000 });
      const resources = new Resources(jsm, {
        prefix: options.prefix,
        replicas: options.replicas ?? 1,
        maxAgeMs: options.maxAgeMs ?? 24 * 3600_000,
        maxBytes: options.maxBytes ?? -1,
      });
      return new NatsBus(nc, options, logger, resources);
    } catch (err) {
      await nc.close();
      throw new PlatformError('UNAVAILABLE', `bus: JetStream is not available at ${options.url}`, { cause: err });
    }
  }

  /**
   * Publishes go out in call order (so one device's events are in the stream in the order they
   * were published): on the usual path the request is written synchronously; while a stream is
   * being created or a subscription set up, publishes queue in one chain and each is written as
   * soon as its turn comes, before any later one.
   */
  publish<E extends keyof BusEvents>(event: E, subject: string, message: BusEvents[E]): Promise<void> {
    try {
      if (this.closed) throw new PlatformError('UNAVAILABLE', 'bus closed');
      const wire = wireSubject(this.options.prefix, event, subject, this.partitions);
      const data = encodeBusEvent(event, message);
      if (this.waiting === 0 && this.settingUp.size === 0 && this.resources.ready(event)) return this.send(event, wire, data, subject);
      this.waiting++;
      const turn = this.queue.then(async () => {
        if (this.settingUp.size > 0) await Promise.allSettled([...this.settingUp]);
        await this.resources.stream(event);
      });
      // registered before the chain moves on: this publish is written before the next one's turn
      const sent = turn.then(
        () => {
          this.waiting--;
          return this.send(event, wire, data, subject);
        },
        (err: unknown) => {
          this.waiting--;
          throw new PlatformError('UNAVAILABLE', `bus: JetStream did not take ${subject}`, { cause: err });
        },
      );
      this.queue = turn.catch(() => undefined);
      return sent;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private send(event: keyof BusEvents, wire: string, data: string, subject: string): Promise<void> {
    return this.js.publish(wire, data).then(
      () => undefined,
      (err: unknown) => {
        // the stream may be gone (deleted, a server that lost its store): the next publish checks it again
        this.resources.forget(event);
        throw new PlatformError('UNAVAILABLE', `bus: JetStream did not take ${subject}`, { cause: err });
      },
    );
  }

  subscribe<E extends keyof BusEvents>(event: E, pattern: string, handler: BusHandler<E>, options: BusSubscribeOptions = {}): () => void {
    if (this.closed) throw new Error('bus closed');
    const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!(maxDeliveries >= 1)) throw new RangeError('maxDeliveries must be at least 1');
    wireFilter(this.options.prefix, event, pattern, '*'); // refuses a pattern that cannot match this event, now
    const common = {
      prefix: this.options.prefix,
      event,
      pattern,
      maxDeliveries,
      redeliveryDelayMs: this.redeliveryDelayMs,
      handler: handler as unknown as (message: unknown, subject: string, delivery: { subject: string; attempt: number }) => unknown,
      decode: (text: string) => decodeBusEvent(text, event),
      deadLetter: (letter: DeadLetter) => this.deadLetter(letter),
      logger: this.logger,
    };
    let sub: Sub;
    const { group } = options;
    if (group === undefined) {
      sub = new BroadcastSubscription(this.js, this.resources, common);
    } else {
      checkName('group', group);
      const known = this.groups.get(group);
      if (known !== undefined && (known.event !== event || known.pattern !== pattern)) {
        throw new Error(`bus group ${group} consumes ${known.pattern}; a member cannot subscribe to ${pattern}`);
      }
      this.groups.set(group, { event, pattern });
      sub = new GroupMember(this.nc, this.js, this.resources, {
        ...common,
        group,
        partitions: this.partitions,
        totalOrder: options.partition !== undefined,
        ...(options.ownership !== undefined && options.partition === undefined ? { ownership: options.ownership } : {}),
        maxInFlight: options.maxInFlight ?? DEFAULT_GROUP_IN_FLIGHT,
        ackWaitMs: this.options.ackWaitMs ?? 30_000,
      });
    }
    this.subs.add(sub);
    const ready = this.setUp(sub, group ?? pattern);
    this.settingUp.add(ready);
    void ready.finally(() => this.settingUp.delete(ready));
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.subs.delete(sub);
      void sub.stop().catch((err: unknown) => this.logger?.warn({ err, event, pattern }, 'bus: unsubscribing failed'));
    };
  }

  /**
   * Messages a work-queue group's partition consumers have not had acknowledged yet (pending +
   * unacknowledged), per partition: the lag metrics of partition ownership read it.
   */
  async groupLag(event: keyof BusEvents, group: string, partitions: Iterable<number>): Promise<Map<number, number>> {
    const stream = await this.resources.stream(event);
    const lag = new Map<number, number>();
    await Promise.all(
      [...partitions].map(async (k) => {
        const info = await this.resources.consumerInfo(stream, consumerName(group, k));
        if (info) lag.set(k, info.num_pending + info.num_ack_pending);
      }),
    );
    return lag;
  }

  /** One PING/PONG with the server the connection is on; while it reconnects this waits (the caller bounds it). */
  async ping(): Promise<void> {
    if (this.closed || this.nc.isClosed()) throw new PlatformError('UNAVAILABLE', 'NATS connection closed');
    await this.nc.rtt();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subs].map((s) => s.stop()));
    this.subs.clear();
    await this.nc.drain().catch(() => undefined);
  }

  /**
   * Starts a subscription; resolves after the first attempt (what publishes wait for: a setup
   * that keeps failing must not hold them), retrying in the background with a back-off up to 5 s.
   */
  private setUp(sub: Sub, what: string): Promise<void> {
    const attempt = async (n: number): Promise<void> => {
      if (this.closed || !this.subs.has(sub)) return;
      try {
        await sub.start();
      } catch (err) {
        if (this.closed || !this.subs.has(sub)) return;
        this.logger?.error({ err, subscription: what, attempt: n }, 'bus: setting up a subscription failed; retrying');
        setTimeout(() => void attempt(n + 1), Math.min(5000, 100 * 2 ** n)).unref();
      }
    };
    return attempt(1);
  }

  private deadLetter(letter: DeadLetter): void {
    this.logger?.error({ err: letter.error, event: letter.event, subject: letter.subject, group: letter.group, attempts: letter.attempts }, 'bus message dead-lettered');
    this.options.onDeadLetter?.(letter);
  }
}
