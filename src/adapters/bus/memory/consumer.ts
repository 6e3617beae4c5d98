/**
 * One consumer of the memory bus: a broadcast subscription (one member, its own consumer) or a
 * work-queue group (any number of members sharing the consumer, as members of a NATS JetStream
 * durable consumer pull from it). Messages are queued per partition; a partition has at most
 * one message in flight, so its messages are handled in publish order, one at a time, by one
 * member. A delivery is settled by the handler: returning (or resolving) acknowledges it;
 * throwing or rejecting puts the message back at the head of its partition, delivered again
 * after a back-off, up to maxDeliveries, then dead-lettered. A member that leaves with
 * unsettled deliveries gives them back the same way, to the remaining members (or to the next
 * one to join a group left empty: a group keeps its queue, bounded by maxQueued).
 */
import type { BusDelivery, BusEvents, DeadLetter } from '../../../ports.js';
import { hashKey, matches } from './subjects.js';

export type AnyHandler = (message: never, subject: string, delivery: BusDelivery) => void | Promise<void>;
type CallableHandler = (message: unknown, subject: string, delivery: BusDelivery) => unknown;

interface Pending {
  readonly subject: string;
  readonly message: unknown;
  /** Deliveries made so far. */
  attempt: number;
}

interface Partition {
  readonly queue: Pending[];
  /** A message of this partition is in flight or waits for its redelivery back-off. */
  busy: boolean;
}

/** An unsettled asynchronous delivery; `live` turns false when its member left (the result is then ignored). */
interface Flight {
  readonly member: Member;
  readonly key: string;
  readonly pending: Pending;
  live: boolean;
}

export class Member {
  inFlight = 0;
  readonly flights = new Set<Flight>();
  constructor(
    readonly handler: CallableHandler,
    readonly maxInFlight: number,
  ) {}
}

/** What a consumer needs from its bus. */
export interface ConsumerHost {
  deadLetter(letter: DeadLetter): void;
  /** Back-off before the given (next) delivery attempt. */
  redeliveryDelayMs(attempt: number): number;
  readonly maxQueued: number;
}

export class Consumer {
  readonly members: Member[] = [];
  private readonly tokens: readonly string[];
  private readonly partitions = new Map<string, Partition>();
  /** Partitions with queued messages that wait for a member with room. */
  private readonly blocked = new Set<string>();
  /** Subjects whose handler is running synchronously right now (re-entrant publishes of their partitions queue behind them). */
  private readonly active: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private queued = 0;
  private closed = false;

  constructor(
    readonly event: keyof BusEvents,
    readonly pattern: string,
    readonly group: string | undefined,
    private readonly partitionOf: (subject: string) => string,
    readonly maxDeliveries: number,
    private readonly host: ConsumerHost,
    /** Gives each delivery its own copy of the message (telemetry; see subjects.ts). */
    private readonly copy?: (message: unknown) => unknown,
  ) {
    this.tokens = pattern.split('.');
  }

  matches(subject: string): boolean {
    return matches(this.tokens, subject);
  }

  /** Nothing queued, in flight or waiting for a redelivery (a group with no member counts as idle). */
  idle(): boolean {
    if (this.members.length === 0) return this.timers.size === 0;
    return this.queued === 0 && this.timers.size === 0 && this.members.every((m) => m.inFlight === 0);
  }

  join(member: Member): void {
    this.members.push(member);
    this.unblock();
  }

  /** The member is gone (unsubscribed, closed, died): what it held unsettled goes to the others. */
  leave(member: Member): void {
    const i = this.members.indexOf(member);
    if (i === -1) return;
    this.members.splice(i, 1);
    for (const flight of member.flights) {
      flight.live = false;
      member.inFlight--;
      this.giveBack(flight.key, flight.pending, new Error('consumer left before settling'));
    }
    member.flights.clear();
    if (this.members.length > 0) this.unblock();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.partitions.clear();
    this.blocked.clear();
    this.queued = 0;
    for (const m of this.members) {
      for (const f of m.flights) f.live = false;
      m.flights.clear();
      m.inFlight = 0;
    }
    this.members.length = 0;
  }

  offer(subject: string, message: unknown): void {
    if (this.partitions.size === 0 && this.active.length === 0 && this.members.length === 1) {
      // The hot path (one node, nothing pending): no partition key needed unless the handler goes async.
      const only = this.members[0] as Member;
      if (only.inFlight < only.maxInFlight) {
        if (this.deliver(only, undefined, { subject, message, attempt: 0 }) && this.partitions.size > 0) this.dispatch(this.partitionOf(subject));
        return;
      }
    }
    const key = this.partitionOf(subject);
    let part = this.partitions.get(key);
    if (part === undefined && !this.isActive(key)) {
      // The usual case: nothing of this partition pending, a member with room takes it now.
      const member = this.pick(key);
      if (member !== undefined) {
        if (this.deliver(member, key, { subject, message, attempt: 0 })) this.dispatch(key);
        return;
      }
    }
    if (this.queued >= this.host.maxQueued) {
      this.host.deadLetter({ event: this.event, subject, group: this.group, attempts: 0, message, error: new Error(`queue full (${this.host.maxQueued})`) });
      return;
    }
    if (part === undefined) this.partitions.set(key, (part = { queue: [], busy: false }));
    part.queue.push({ subject, message, attempt: 0 });
    this.queued++;
    if (!part.busy && !this.isActive(key)) this.dispatch(key);
  }

  private isActive(key: string): boolean {
    for (const subject of this.active) if (this.partitionOf(subject) === key) return true;
    return false;
  }

  /** Delivers the partition's queued messages while they settle synchronously. */
  private dispatch(key: string): void {
    for (;;) {
      const part = this.partitions.get(key);
      if (part === undefined || part.busy || this.closed) return;
      const pending = part.queue[0];
      if (pending === undefined) {
        this.partitions.delete(key);
        return;
      }
      const member = this.pick(key);
      if (member === undefined) {
        this.blocked.add(key);
        return;
      }
      part.queue.shift();
      this.queued--;
      if (!this.deliver(member, key, pending)) return;
    }
  }

  /**
   * Calls the handler. True when it settled synchronously with success (the caller goes on with
   * the partition); otherwise the partition stays busy until the promise settles or the
   * redelivery back-off ends.
   */
  private deliver(member: Member, partition: string | undefined, pending: Pending): boolean {
    pending.attempt++;
    member.inFlight++;
    let result: unknown;
    this.active.push(pending.subject);
    try {
      const message = this.copy === undefined ? pending.message : this.copy(pending.message);
      result = member.handler(message, pending.subject, { subject: pending.subject, attempt: pending.attempt });
    } catch (err) {
      member.inFlight--;
      this.active.pop();
      this.giveBack(partition ?? this.partitionOf(pending.subject), pending, err);
      return false;
    }
    this.active.pop();
    if (!isThenable(result)) {
      member.inFlight--;
      return true;
    }
    const key = partition ?? this.partitionOf(pending.subject);
    let part = this.partitions.get(key);
    if (part === undefined) this.partitions.set(key, (part = { queue: [], busy: true }));
    else part.busy = true;
    const flight: Flight = { member, key, pending, live: true };
    member.flights.add(flight);
    result.then(
      () => {
        if (!this.land(flight)) return;
        const p = this.partitions.get(key);
        if (p) p.busy = false;
        this.dispatch(key);
        this.unblock();
      },
      (err: unknown) => {
        if (!this.land(flight)) return;
        this.giveBack(key, pending, err);
        this.unblock();
      },
    );
    return false;
  }

  /** Books a settled flight; false when its member already left (the message went elsewhere). */
  private land(flight: Flight): boolean {
    if (!flight.live || this.closed) return false;
    flight.live = false;
    flight.member.flights.delete(flight);
    flight.member.inFlight--;
    return true;
  }

  /** A delivery failed: again after a back-off, at the head of its partition, or dead-lettered. */
  private giveBack(key: string, pending: Pending, error: unknown): void {
    if (this.closed) return;
    let part = this.partitions.get(key);
    if (pending.attempt >= this.maxDeliveries) {
      this.host.deadLetter({ event: this.event, subject: pending.subject, group: this.group, attempts: pending.attempt, message: pending.message, error });
      if (part) {
        part.busy = false;
        this.dispatch(key);
      }
      return;
    }
    if (part === undefined) this.partitions.set(key, (part = { queue: [], busy: true }));
    part.queue.unshift(pending);
    this.queued++;
    part.busy = true;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = this.partitions.get(key);
      if (p) p.busy = false;
      this.dispatch(key);
    }, this.host.redeliveryDelayMs(pending.attempt + 1));
    this.timers.add(timer);
  }

  /** Runs partitions that waited for room (a delivery settled, a member joined). */
  private unblock(): void {
    if (this.blocked.size === 0) return;
    const keys = [...this.blocked];
    this.blocked.clear();
    for (const key of keys) this.dispatch(key);
  }

  /**
   * The member for a partition: by hash, so a partition stays with one member while membership
   * holds (its caches stay warm); the next with room when that one is full.
   */
  private pick(key: string): Member | undefined {
    const n = this.members.length;
    if (n === 1) {
      const only = this.members[0] as Member;
      return only.inFlight < only.maxInFlight ? only : undefined;
    }
    if (n === 0) return undefined;
    const start = hashKey(key) % n;
    for (let i = 0; i < n; i++) {
      const m = this.members[(start + i) % n] as Member;
      if (m.inFlight < m.maxInFlight) return m;
    }
    return undefined;
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
