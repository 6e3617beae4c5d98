/**
 * Message deduplication (RFC 7252 §4.5): a request that arrives again with the same endpoint and
 * message id within EXCHANGE_LIFETIME is a retransmission. It must not be processed twice; a
 * Confirmable one gets the same answer again (the first ACK may have been lost), a
 * Non-confirmable one is silently ignored.
 *
 * Memory is bounded twice over, and the count bound is the one that matters under load:
 *
 * - Time: an entry lives EXCHANGE_LIFETIME (247 s, the RFC 7252 §4.8.2 default).
 * - Count: at most `maxEntries` (default 200,000), the oldest dropped first. At 20,000
 *   requests/s that shortens the window to ~10 s, which still covers a client's first two
 *   retransmissions (after 2–3 s and another 4–6 s: ACK_TIMEOUT × ACK_RANDOM_FACTOR, doubled,
 *   §4.2); at low rates (under ~800 requests/s) the full lifetime applies.
 *
 * Layout, for O(1) work and few bytes per entry: per client endpoint a Map from message id (a
 * small integer key) to the answer, plus a ring of (endpoint, message id, arrival time) in
 * arrival order, so expiry and eviction both take from the ring's head. (A flat Map keyed by
 * "address:port/mid" strings cost ~290 bytes per entry, and deleting from the front of a Map
 * then iterating it is not O(1): V8 leaves holes until it rehashes.) An answer is kept as a
 * latin1 string, not a Buffer: one small heap string instead of a Buffer object with its own
 * backing store; it is turned back into bytes only for the rare duplicate. Measured ~90 bytes
 * per entry (70 in the maps, 18 in the ring), so ~18 MB at the default bound.
 *
 * An entry without an answer is a request still being processed: a retransmission of it is
 * dropped (its answer will come once the handler is done).
 */
import { EXCHANGE_LIFETIME_MS } from './message.js';

export interface DedupOptions {
  readonly maxEntries?: number;
  readonly lifetimeMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_DEDUP_ENTRIES = 200_000;

/** The cached answer, or 'processing' for a request whose answer is not ready yet. */
export type DedupHit = Buffer | 'processing';

/** Map value of a request still being processed (answers are latin1 strings). */
const PROCESSING = 0;

/** The requests of one client endpoint (address:port) that the cache remembers. */
interface Endpoint {
  readonly remote: string;
  readonly answers: Map<number, string | typeof PROCESSING>;
}

export class DedupCache {
  private readonly endpoints = new Map<string, Endpoint>();
  /** The ring: endpoint, message id and arrival time of every entry, oldest at `head`. */
  private readonly ringEndpoints: (Endpoint | undefined)[];
  private readonly ringIds: Uint16Array;
  private readonly ringTimes: Float64Array;
  private head = 0;
  private count = 0;
  private readonly maxEntries: number;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor(options: DedupOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_DEDUP_ENTRIES));
    this.lifetimeMs = options.lifetimeMs ?? EXCHANGE_LIFETIME_MS;
    this.now = options.now ?? Date.now;
    this.ringEndpoints = new Array<Endpoint | undefined>(this.maxEntries);
    this.ringIds = new Uint16Array(this.maxEntries);
    this.ringTimes = new Float64Array(this.maxEntries);
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /**
   * Looks the request up; when it is new, records it as being processed and returns undefined
   * (the caller runs the handler). Otherwise returns what to do with the duplicate.
   */
  check(remote: string, messageId: number): DedupHit | undefined {
    const now = this.now();
    this.prune(now);
    let endpoint = this.endpoints.get(remote);
    const hit = endpoint?.answers.get(messageId);
    if (hit !== undefined) return hit === PROCESSING ? 'processing' : Buffer.from(hit, 'latin1');
    if (this.count === this.maxEntries) this.dropOldest();
    if (!endpoint) {
      endpoint = { remote, answers: new Map() };
      this.endpoints.set(remote, endpoint);
    }
    endpoint.answers.set(messageId, PROCESSING);
    const slot = (this.head + this.count) % this.maxEntries;
    this.ringEndpoints[slot] = endpoint;
    this.ringIds[slot] = messageId;
    this.ringTimes[slot] = now;
    this.count++;
    return undefined;
  }

  /** Stores the answer sent for the request; a retransmission gets these bytes again. */
  settle(remote: string, messageId: number, bytes: Buffer): void {
    const answers = this.endpoints.get(remote)?.answers;
    if (answers?.has(messageId) === true) answers.set(messageId, bytes.toString('latin1'));
  }

  /** Drops entries older than the lifetime; they are at the ring's head (arrival order). */
  prune(now = this.now()): void {
    while (this.count > 0 && now - (this.ringTimes[this.head] ?? 0) >= this.lifetimeMs) this.dropOldest();
  }

  clear(): void {
    this.endpoints.clear();
    this.ringEndpoints.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private dropOldest(): void {
    const endpoint = this.ringEndpoints[this.head];
    if (endpoint) {
      endpoint.answers.delete(this.ringIds[this.head] ?? 0);
      if (endpoint.answers.size === 0) this.endpoints.delete(endpoint.remote);
    }
    this.ringEndpoints[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
  }
}
