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
import type { BusDelivery, BusEvents, DeadLetter, Logger } from '../../../ports.js';
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
}

/** A delivery this member holds: received, waiting for room or being handled. */
interface Held {
  readonly msg: JsMsg;
  live: boolean;
  heartbeat: NodeJS.Timeout | undefined;
}

export class GroupMember {
  private readonly consumers: ConsumerMessages[] = [];
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
      await Promise.all(this.consumers.splice(0).map((c) => c.close().catch(() => undefined)));
      throw err;
    }
  }

  private async open(): Promise<void> {
    const { o } = this;
    const stream = await this.resources.stream(o.event);
    const parts: (number | 'all')[] = o.totalOrder ? ['all'] : Array.from({ length: o.partitions }, (_, k) => k);
    await Promise.all(
      parts.map(async (k) => {
        const name = consumerName(o.group, k);
        const filter = wireFilter(o.prefix, o.event, o.pattern, k === 'all' ? '*' : k);
        await this.resources.ensureConsumer({ stream, name, filter, ackWaitMs: o.ackWaitMs, maxDeliveries: o.maxDeliveries });
        if (this.stopped) return;
        const consumer = await this.js.consumers.get(stream, name);
        // one message at a time per partition is all the server hands out (max_ack_pending 1)
        const messages = await consumer.consume({ max_messages: 1, callback: (m) => this.receive(m) });
        if (this.stopped) await messages.close();
        else this.consumers.push(messages);
      }),
    );
    if (!this.stopped) this.watchAdvisories(stream);
  }

  /** Leaves the group: stops pulling and gives back (nak, no delay) every delivery it holds. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.advisories?.unsubscribe();
    const closing = this.consumers.splice(0).map((c) => c.close().catch(() => undefined));
    for (const h of this.held) this.release(h, (m) => m.nak());
    this.held.clear();
    this.waiting.length = 0;
    await Promise.all(closing);
  }

  private receive(msg: JsMsg): void {
    if (this.stopped) {
      msg.nak();
      return;
    }
    const h: Held = { msg, live: true, heartbeat: undefined };
    const every = Math.max(100, Math.floor(this.o.ackWaitMs / 3));
    h.heartbeat = setInterval(() => h.live && msg.working(), every);
    this.held.add(h);
    if (this.running < this.o.maxInFlight) this.run(h);
    else this.waiting.push(() => this.run(h));
  }

  private run(h: Held): void {
    if (!h.live) return;
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
      result = this.o.handler(message, subject, { subject, attempt });
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
