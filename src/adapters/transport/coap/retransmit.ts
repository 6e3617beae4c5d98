/**
 * Reliable transmission of the Confirmable messages the server originates (separate responses,
 * notifications), RFC 7252 §4.2: the first timeout is random between ACK_TIMEOUT and
 * ACK_TIMEOUT × ACK_RANDOM_FACTOR, doubles on every retransmission, and after MAX_RETRANSMIT
 * retransmissions without an ACK or RST the peer is given up on.
 *
 * Only these few messages hold a timer; responses piggybacked on an ACK and NON messages are
 * never retransmitted by the server (§5.2.1, §4.3).
 */
import type { AddressInfo } from 'node:net';
import { ACK_RANDOM_FACTOR, ACK_TIMEOUT_MS, MAX_RETRANSMIT } from './message.js';

export interface DeliveryEvents {
  /** The peer acknowledged the message. */
  onAck?(): void;
  /** The peer rejected the message with RST (§4.2): it cannot or will not process it. */
  onReset?(): void;
  /** No ACK after MAX_RETRANSMIT retransmissions. */
  onGiveUp?(): void;
}

interface Pending {
  readonly bytes: Buffer;
  readonly rsinfo: AddressInfo;
  readonly events: DeliveryEvents;
  timeoutMs: number;
  retransmissions: number;
  timer: NodeJS.Timeout;
}

export type SendBytes = (bytes: Buffer, rsinfo: AddressInfo) => void;

export interface RetransmitTiming {
  /** ACK_TIMEOUT (default 2 s); tests shorten it. */
  readonly ackTimeoutMs?: number;
  readonly random?: () => number;
}

export class Retransmitter {
  private readonly pending = new Map<string, Pending>();
  private readonly ackTimeoutMs: number;
  private readonly random: () => number;

  constructor(
    private readonly send: SendBytes,
    timing: RetransmitTiming = {},
  ) {
    this.ackTimeoutMs = timing.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    this.random = timing.random ?? Math.random;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Sends a CON message now and retransmits it until `key` (endpoint + message id) is settled. */
  start(key: string, bytes: Buffer, rsinfo: AddressInfo, events: DeliveryEvents): void {
    this.cancel(key);
    const timeoutMs = this.ackTimeoutMs * (1 + (ACK_RANDOM_FACTOR - 1) * this.random());
    const entry: Pending = { bytes, rsinfo, events, timeoutMs, retransmissions: 0, timer: this.schedule(key, timeoutMs) };
    this.pending.set(key, entry);
    this.send(bytes, rsinfo);
  }

  /** An empty ACK or RST for one of our messages (§4.2); false if it matches none. */
  settle(key: string, kind: 'ack' | 'reset'): boolean {
    const entry = this.pending.get(key);
    if (!entry) return false;
    this.cancel(key);
    if (kind === 'ack') entry.events.onAck?.();
    else entry.events.onReset?.();
    return true;
  }

  /** Stops retransmitting without telling anyone. */
  cancel(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
  }

  clear(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }

  private schedule(key: string, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.expire(key), ms);
    timer.unref();
    return timer;
  }

  private expire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    if (entry.retransmissions >= MAX_RETRANSMIT) {
      this.pending.delete(key);
      entry.events.onGiveUp?.();
      return;
    }
    entry.retransmissions++;
    entry.timeoutMs *= 2;
    entry.timer = this.schedule(key, entry.timeoutMs);
    this.send(entry.bytes, entry.rsinfo);
  }
}
