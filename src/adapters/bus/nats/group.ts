/**
 * One member of a work-queue group on JetStream.
 *
 * The group is N durable pull consumers, one per partition (`<group>_p<k>`, filter
 * `<prefix>.<event>.<k>.<pattern rest>`), each with max_ack_pending 1; every member pulls from
 * every partition consumer. The server hands a partition's next message out only once the
 * previous one is acknowledged (or terminated), to whichever member has a pull waiting, so a
 * device's messages are handled in publish order, one at a time, across all members and nodes,
 * with no ownership protocol between members: a member that dies simply stops pulling, and the
 * message it held comes back after ack_wait (or at once, nak'ed, when it leaves cleanly).
 * Chosen over "one consumer per partition owned by one member" because ownership needs leases
 * and rebalancing (the field's lost-on-rebalance bugs live there); the price is one round trip
 * per message per partition (throughput ≈ partitions / round trip) and no stickiness of a
 * device to a member (a member's caches are not warmer for "its" devices).
 *
 * A subscription with an explicit `partition` function cannot be partitioned at publish time
 * (the publisher does not know it), so it gets one consumer over all partitions with
 * max_ack_pending 1: a total order, which satisfies any partition function, at the throughput
 * of one partition.
 *
 * Settling: resolve → ack; reject → nak with back-off, or, on the last allowed delivery, a
 * dead letter (logged, onDeadLetter) and term so the partition goes on. A handler that runs long
 * sends "in progress" every ackWait/3, so only a dead member's message is redelivered by timeout.
 * A message whose delivery exhausted max_deliver by timeouts (members died on it) is reported
 * from the server's MAX_DELIVERIES advisory by one member of the group (a NATS queue group).
 */
import type { ConsumerMessages, JetStreamClient, JsMsg, NatsConnection, Subscription } from 'nats';
import type { BusDelivery, BusEvents, DeadLetter, Logger, PartitionOwnership } from '../../../ports.js';
import type { Resources } from './resources.js';
import { busSubject, consumerName, wireFilter } from './subjects.js';

type Handler = (message: unknown, subject: string, delivery: BusDelivery) => unknown;

export interface GroupMemberOptions {
  readonly prefix: string;
  readonly event: keyof BusEvents;
  readonly pattern: string;
  readonly group: string;
  readonly partitions: number;
  /** One consumer over all partitions (an explicit partition function was given). */
  readonly totalOrder: boolean;
  readonly maxInFlight: number;
  readonly maxDeliveries: number;
  readonly ackWaitMs: number;
  readonly redeliveryDelayMs: (attempt: number) => number;
  readonly handler: Handler;
  readonly decode: (text: string) => unknown;
  readonly deadLetter: (letter: DeadLetter) => void;
  readonly logger: Logger | undefined;
  /**
   * Consume only the owned partitions (cluster partition ownership). Ownership is exclusive, so
   * an owned consumer lets `ownedAckPending` messages be in flight (in stream order) instead of 1.
   */
  readonly ownership?: PartitionOwnership;
  readonly ownedAckPending?: number;
}

/** A delivery this member holds: received, waiting for room or being handled. */
interface Held {
  readonly msg: JsMsg;
  readonly partition: number | 'all';
  live: boolean;
  /** Handed to the handler (else waiting for a free slot). */
  started: boolean;
  heartbeat: NodeJS.Timeout | undefined;
}

export class GroupMember {
  private readonly consumers = new Map<number | 'all', ConsumerMessages>();
  private unwatch: (() => void) | undefined;
  private readonly held = new Set<Held>();
  /** Deliveries waiting for a free slot (maxInFlight), in arrival order. */
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private advisories: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly resources: Resources,
    private readonly o: GroupMemberOptions,
  ) {}

  /** Creates (or finds) the group's consumers and starts pulling from each. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // a later start() begins from scratch
      this.unwatch?.();
      await Promise.all(this.takeConsumers().map((c) => c.close().catch(() => undefined)));
      throw err;
    }
  }

  private async open(): Promise<void> {
    const { o } = this;
    const stream = await this.resources.stream(o.event);
    let parts: (number | 'all')[];
    if (o.totalOrder) parts = ['all'];
    else if (o.ownership) {
      // registered before the first consumers open: a change meanwhile is not missed
      this.unwatch = o.ownership.onChange((change) => this.ownershipChanged(stream, change));
      parts = [...o.ownership.owned()];
    } else parts = Array.from({ length: o.partitions }, (_, k) => k);
    await Promise.all(parts.map((k) => this.openPartition(stream, k)));
    if (!this.stopped) this.watchAdvisories(stream);
  }

  private async openPartition(stream: string, k: number | 'all'): Promise<void> {
    const { o } = this;
    if (this.consumers.has(k)) return;
    const name = consumerName(o.group, k);
    const filter = wireFilter(o.prefix, o.event, o.pattern, k === 'all' ? '*' : k);
    const owned = o.ownership !== undefined && k !== 'all';
    const maxAckPending = owned ? (o.ownedAckPending ?? 1000) : 1;
    await this.resources.ensureConsumer({ stream, name, filter, ackWaitMs: o.ackWaitMs, maxDeliveries: o.maxDeliveries, maxAckPending });
    if (this.stopped || !this.wants(k)) return;
    const consumer = await this.js.consumers.get(stream, name);
    // shared: one message at a time per partition is all the server hands out (max_ack_pending 1)
    const messages = await consumer.consume({ max_messages: owned ? Math.min(256, maxAckPending) : 1, callback: (m) => this.receive(m, k) });
    if (this.stopped || !this.wants(k) || this.consumers.has(k)) await messages.close();
    else this.consumers.set(k, messages);
  }

  private wants(k: number | 'all'): boolean {
    return k === 'all' || this.o.ownership === undefined || [...this.o.ownership.owned()].includes(k);
  }

  /** Gained partitions start pulling; lost ones stop, and what this member held of them goes back (nak). */
  private async ownershipChanged(stream: string, change: { readonly gained: readonly number[]; readonly lost: readonly number[] }): Promise<void> {
    if (this.stopped) return;
    const closing: Promise<unknown>[] = [];
    for (const k of change.lost) {
      const c = this.consumers.get(k);
      this.consumers.delete(k);
      if (c) closing.push(c.close().catch(() => undefined));
    }
    // Pulls closed first: a message given back now is not redelivered to this member's open pull.
    await Promise.all(closing);
    const lost = new Set(change.lost);
    for (const h of [...this.held]) if (typeof h.partition === 'number' && lost.has(h.partition)) this.giveBack(h);
    await Promise.all(
      change.gained.map((k) =>
        this.openPartition(stream, k).catch((err: unknown) => {
          // the setup retry does not cover a partition gained later: retry it while it is still owned
          this.o.logger?.error({ err, group: this.o.group, partition: k }, 'bus: consuming a gained partition failed; retrying');
          const retry = setTimeout(() => void this.ownershipChanged(stream, { gained: this.wants(k) ? [k] : [], lost: [] }), 1000);
          retry.unref();
        }),
      ),
    );
  }

  private takeConsumers(): ConsumerMessages[] {
    const all = [...this.consumers.values()];
    this.consumers.clear();
    return all;
  }

  /** A held delivery of a partition no longer owned: back to the stream (its next owner gets it). */
  private giveBack(h: Held): void {
    if (!h.live) return;
    const started = h.started;
    this.release(h, (m) => m.nak());
    this.held.delete(h);
    // its handler's later outcome finds it released and changes nothing; a waiting one never ran
    if (started) {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** Leaves the group: stops pulling and gives back (nak, no delay) every delivery it holds. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.advisories?.unsubscribe();
    this.unwatch?.();
    const closing = this.takeConsumers().map((c) => c.close().catch(() => undefined));
    for (const h of this.held) this.release(h, (m) => m.nak());
    this.held.clear();
    this.waiting.length = 0;
    await Promise.all(closing);
  }

  private receive(msg: JsMsg, partition: number | 'all'): void {
    if (this.stopped || (partition !== 'all' && !this.consumers.has(partition) && !this.wants(partition))) {
      msg.nak();
      return;
    }
    const h: Held = { msg, partition, live: true, started: false, heartbeat: undefined };
    const every = Math.max(100, Math.floor(this.o.ackWaitMs / 3));
    h.heartbeat = setInterval(() => h.live && msg.working(), every);
    this.held.add(h);
    if (this.running < this.o.maxInFlight) this.run(h);
    else this.waiting.push(() => this.run(h));
  }

  private run(h: Held): void {
    if (!h.live) {
      // given back while waiting: the slot it was offered goes to the next one
      this.waiting.shift()?.();
      return;
    }
    h.started = true;
    this.running++;
    const { msg } = h;
    const attempt = msg.info.redeliveryCount;
    const subject = busSubject(msg.subject);
    let message: unknown;
    try {
      message = this.o.decode(msg.string());
    } catch (err) {
      // a message this build cannot read is never retried: it would fail the same way
      this.fail(h, subject, msg.string(), err, true);
      return;
    }
    let result: unknown;
    try {
      result = this.o.handler(message, subject, { subject, attempt, position: msg.seq });
    } catch (err) {
      this.fail(h, subject, message, err, false);
      return;
    }
    if (!isThenable(result)) {
      this.settle(h, (m) => m.ack());
      return;
    }
    result.then(
      () => this.settle(h, (m) => m.ack()),
      (err: unknown) => this.fail(h, subject, message, err, false),
    );
  }

  private fail(h: Held, subject: string, message: unknown, error: unknown, poison: boolean): void {
    if (!h.live) return;
    const attempt = h.msg.info.redeliveryCount;
    if (poison || attempt >= this.o.maxDeliveries) {
      this.o.deadLetter({ event: this.o.event, subject, group: this.o.group, attempts: attempt, message, error });
      this.settle(h, (m) => m.term());
    } else {
      this.settle(h, (m) => m.nak(this.o.redeliveryDelayMs(attempt + 1)));
    }
  }

  /** Sends the delivery's outcome, unless the member left meanwhile (its message went back then). */
  private settle(h: Held, outcome: (m: JsMsg) => void): void {
    if (!h.live) return;
    this.release(h, outcome);
    this.held.delete(h);
    this.running--;
    this.waiting.shift()?.();
  }

  private release(h: Held, outcome: (m: JsMsg) => void): void {
    h.live = false;
    clearInterval(h.heartbeat);
    outcome(h.msg);
  }

  /**
   * A message whose last delivery timed out (its member died holding it) is given up by the
   * server with a MAX_DELIVERIES advisory; one member of the group reports it as a dead letter.
   */
  private watchAdvisories(stream: string): void {
    const ours = new RegExp(`^${this.o.group}_(p\\d+|all)$`);
    this.advisories = this.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.*`, {
      queue: `${this.o.prefix}_${this.o.group}_dead`,
      callback: (err, m) => {
        if (err !== null || !ours.test(m.subject.slice(m.subject.lastIndexOf('.') + 1))) return;
        void this.reportAdvisory(stream, m.json<{ stream_seq?: number; deliveries?: number }>()).catch((e: unknown) =>
          this.o.logger?.warn({ err: e, group: this.o.group }, 'bus: reading a max-deliveries advisory failed'),
        );
      },
    });
  }

  private async reportAdvisory(stream: string, advisory: { stream_seq?: number; deliveries?: number }): Promise<void> {
    const seq = advisory.stream_seq;
    if (seq === undefined) return;
    const stored = await this.resources.message(stream, seq);
    let message: unknown = stored.string();
    try {
      message = this.o.decode(stored.string());
    } catch {
      // reported as the raw text
    }
    const error = new Error(`no member settled it within ack_wait ${this.o.maxDeliveries} times (members died holding it)`);
    this.o.deadLetter({ event: this.o.event, subject: busSubject(stored.subject), group: this.o.group, attempts: advisory.deliveries ?? this.o.maxDeliveries, message, error });
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
