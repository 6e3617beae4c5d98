/**
 * The in-process bus of the embedded deployment. Same subject semantics as NATS (`*` matches one
 * token, `>` the rest) and the same consumption model as the JetStream adapter (issue 14):
 * broadcast subscriptions, work-queue groups partitioned by device, acknowledgement by the
 * handler's promise, bounded redelivery, dead letters (consumer.ts; the contract is
 * test/adapters/bus/contract.ts).
 *
 * Not durable: publish resolves as soon as every matching consumer has the message, and a
 * process that dies loses what is queued. What must survive a crash goes through the store's
 * outbox first (services/outbox-relay.ts).
 *
 * Delivery is synchronous when it can be: a handler whose partition is idle is called inside
 * publish(), so the hot path (telemetry after every group commit) allocates one small object
 * per delivery and no promise unless the handler returns one.
 */
import type { Bus, BusEvents, BusHandler, BusSubscribeOptions, DeadLetter, Logger } from '../../../ports.js';
import { Consumer, Member, type AnyHandler, type ConsumerHost } from './consumer.js';
import { copyTelemetry, deepFreeze, deviceToken } from './subjects.js';

export interface MemoryBusOptions {
  /**
   * 'isolate' (default): no subscriber can change what another one (or the publisher) sees:
   * telemetry is copied for each delivery (cheaper than freezing on the hot path, measured),
   * other events are deep-frozen when published. 'none' hands the object over as is
   * (measurements only).
   */
  readonly isolation?: 'isolate' | 'none';
  /** Back-off before redelivery attempt n (n ≥ 2); default 10 ms × 2^(n-2), at most 1 s. */
  readonly redeliveryDelayMs?: (attempt: number) => number;
  /** Messages a consumer holds queued before new ones are dead-lettered; default 100,000. */
  readonly maxQueued?: number;
  /** Told of every dead letter (after it is logged). */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
}

const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_GROUP_IN_FLIGHT = 1000;
const RESOLVED = Promise.resolve();

const whole = (): string => '';

export class MemoryBus implements Bus {
  /** Consumers whose pattern has no wildcard, by subject: found with one map lookup. */
  private readonly exact = new Map<string, readonly Consumer[]>();
  /** Replaced, never changed in place: a handler may (un)subscribe while publish() walks it. */
  private wildcard: readonly Consumer[] = [];
  private readonly groups = new Map<string, Consumer>();
  private readonly host: ConsumerHost;
  private readonly isolate: boolean;
  private closed = false;

  constructor(
    private readonly logger?: Logger,
    private readonly options: MemoryBusOptions = {},
  ) {
    this.isolate = options.isolation !== 'none';
    this.host = {
      maxQueued: options.maxQueued ?? 100_000,
      redeliveryDelayMs: options.redeliveryDelayMs ?? ((n) => Math.min(1000, 10 * 2 ** Math.max(0, n - 2))),
      deadLetter: (letter) => this.deadLetter(letter),
    };
  }

  publish<E extends keyof BusEvents>(event: E, subject: string, message: BusEvents[E]): Promise<void> {
    // After close nothing is delivered; not an error: late fire-and-forget publishes during shutdown are expected.
    if (this.closed) return RESOLVED;
    if (this.isolate && event !== 'telemetry') deepFreeze(message);
    const direct = this.exact.get(subject);
    if (direct !== undefined) {
      for (let i = 0; i < direct.length; i++) (direct[i] as Consumer).offer(subject, message);
    }
    const wildcard = this.wildcard;
    for (let i = 0; i < wildcard.length; i++) {
      const c = wildcard[i] as Consumer;
      if (c.matches(subject)) c.offer(subject, message);
    }
    return RESOLVED;
  }

  subscribe<E extends keyof BusEvents>(event: E, pattern: string, handler: BusHandler<E>, options: BusSubscribeOptions = {}): () => void {
    if (this.closed) throw new Error('bus closed');
    const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!(maxDeliveries >= 1)) throw new RangeError('maxDeliveries must be at least 1');
    const { group } = options;
    const member = new Member(handler as AnyHandler as never, options.maxInFlight ?? (group === undefined ? 1 : DEFAULT_GROUP_IN_FLIGHT));
    let consumer = group === undefined ? undefined : this.groups.get(group);
    if (consumer !== undefined && (consumer.event !== event || consumer.pattern !== pattern)) {
      throw new Error(`bus group ${String(group)} consumes ${consumer.pattern}; a member cannot subscribe to ${pattern}`);
    }
    if (consumer === undefined) {
      const partition = options.partition ?? (group === undefined ? whole : deviceToken);
      const copy = this.isolate && event === 'telemetry' ? copyTelemetry : undefined;
      consumer = new Consumer(event, pattern, group, partition, maxDeliveries, this.host, copy);
      this.add(consumer);
      if (group !== undefined) this.groups.set(group, consumer);
    }
    const c = consumer;
    c.join(member);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      c.leave(member);
      // A broadcast consumer is its subscriber; a group outlives its members (its queue waits for the next).
      if (group === undefined) {
        c.close();
        this.remove(c);
      }
    };
  }

  /** Resolves when no consumer with members has anything queued, in flight or awaiting redelivery (tests). */
  async idle(): Promise<void> {
    const consumers = (): Consumer[] => [...this.wildcard, ...[...this.exact.values()].flat()];
    while (!this.closed && !consumers().every((c) => c.idle())) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  async removeGroup(group: string): Promise<void> {
    const c = this.groups.get(group);
    if (!c) return;
    this.groups.delete(group);
    c.close();
    this.remove(c);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.wildcard, ...[...this.exact.values()].flat()]) c.close();
    this.exact.clear();
    this.wildcard = [];
    this.groups.clear();
  }

  private add(c: Consumer): void {
    if (c.pattern.includes('*') || c.pattern.includes('>')) this.wildcard = [...this.wildcard, c];
    else this.exact.set(c.pattern, [...(this.exact.get(c.pattern) ?? []), c]);
  }

  private remove(c: Consumer): void {
    this.wildcard = this.wildcard.filter((x) => x !== c);
    const list = this.exact.get(c.pattern)?.filter((x) => x !== c);
    if (list === undefined) return;
    if (list.length === 0) this.exact.delete(c.pattern);
    else this.exact.set(c.pattern, list);
  }

  private deadLetter(letter: DeadLetter): void {
    this.logger?.error({ err: letter.error, event: letter.event, subject: letter.subject, group: letter.group, attempts: letter.attempts }, 'bus message dead-lettered');
    this.options.onDeadLetter?.(letter);
  }
}
