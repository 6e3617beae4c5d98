/**
 * Acknowledgements of inbound QoS 1/2 PUBLISHes, kept in arrival order.
 *
 * PUBACKs (QoS 1) and PUBRECs (QoS 2) must leave in the order the PUBLISHes arrived
 * [MQTT-4.6.0-2, MQTT-4.6.0-3], but a PUBLISH to the device API is only acknowledged once the
 * platform has committed it, and those commits resolve in any order. Acks wait here until every
 * earlier one is ready. With nothing pending (the routing case) an ack is written at once.
 */
import { PUBACK, PUBREC, encodeAck } from './packets.js';

interface Entry {
  readonly type: number;
  readonly id: number;
  readonly version: number;
  readonly done: ((code: number) => void) | undefined;
  code: number;
  ready: boolean;
}

/** Reason code for an intercepted publish whose handler failed unexpectedly: Implementation specific error. */
const INTERNAL_ERROR = 0x83;

/** Server unavailable: the platform could not store the message, through no fault of the client. */
const SERVER_UNAVAILABLE = 0x88;

/** Where acks go: the connection, passed as an object so that a queue costs no closures. */
export interface AckOutput {
  write(buf: Buffer): void;
  /** Called after acks were written, with how many are still pending. */
  acksFlushed(pending: number): void;
  /**
   * MQTT 3.1.1 has no negative ack, and a PUBACK for a message that was not stored would lose it:
   * instead the connection is closed unacknowledged, and the client sends the message again
   * when it reconnects [MQTT-4.4.0-1]. Acks after it are not written either (order, MQTT-4.6.0-2).
   */
  unstored(): void;
}

export class InboundAcks {
  private queue: Entry[] = [];
  private waiters: (() => void)[] | undefined;

  constructor(private readonly out: AckOutput) {}

  /** Acks not yet written; they count against our Receive Maximum. */
  get length(): number {
    return this.queue.length;
  }

  /**
   * Queues the ack of one PUBLISH. `result` is the reason code (0 = success), or a promise of it.
   * MQTT 3.1.1 has no reason codes: its acks are positive, except that a message the platform
   * could not store is not acknowledged at all (see AckOutput.unstored).
   */
  push(qos: 1 | 2, id: number, result: number | Promise<number>, version: number, done?: (code: number) => void): void {
    const type = qos === 1 ? PUBACK : PUBREC;
    if (typeof result === 'number' && this.queue.length === 0) {
      if (version !== 5 && result === SERVER_UNAVAILABLE) return this.abandon();
      done?.(result);
      this.out.write(encodeAck(type, id, result, version));
      return;
    }
    const entry: Entry = { type, id, version, done, code: 0, ready: false };
    this.queue.push(entry);
    if (typeof result === 'number') {
      entry.code = result;
      entry.ready = true;
      return;
    }
    result.then(
      (code) => this.settle(entry, code),
      () => this.settle(entry, INTERNAL_ERROR),
    );
  }

  private settle(entry: Entry, code: number): void {
    entry.code = code;
    entry.ready = true;
    this.flush();
  }

  private flush(): void {
    const q = this.queue;
    let n = 0;
    while (n < q.length && (q[n] as Entry).ready) {
      const e = q[n++] as Entry;
      if (e.version !== 5 && e.code === SERVER_UNAVAILABLE) return this.abandon();
      e.done?.(e.code);
      this.out.write(encodeAck(e.type, e.id, e.code, e.version));
    }
    if (n > 0) {
      q.splice(0, n);
      this.out.acksFlushed(q.length);
    }
    if (q.length === 0 && this.waiters) {
      const waiters = this.waiters;
      this.waiters = undefined;
      for (const w of waiters) w();
    }
  }

  private abandon(): void {
    this.queue = [];
    this.out.unstored();
    const waiters = this.waiters ?? [];
    this.waiters = undefined;
    for (const w of waiters) w();
  }

  /** Resolves once every queued ack has been written (or its connection is gone). */
  settled(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }
}
