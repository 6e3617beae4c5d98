/**
 * CoAP observations (RFC 7641) of a device's shared attributes or RPC requests.
 *
 * One observation = one Observe stream of our server (exchange.ts) + one non-persistent
 * DeviceSession. It ends when the client deregisters (GET with Observe: 1, §3.6), re-registers
 * with the same token, answers a notification with RST (§3.6), stops acknowledging
 * Confirmable notifications (given up after MAX_RETRANSMIT, §4.5), or the transport stops.
 *
 * Notifications after the first are sent Confirmable whatever the registration was, so a
 * vanished observer is noticed (RFC 7641 §4.5) and an RPC request is not silently lost.
 */
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Logger } from '../../../ports.js';
import type { DeviceSession } from '../../../ports/device-api.js';
import type { ObserveStream } from './exchange.js';
import { CONTENT_FORMAT, MAX_PAYLOAD_BYTES, encodeUint } from './message.js';

export type ObservedResource = 'attributes' | 'rpc';

/**
 * Notifications go out in one datagram (no Block2 for notifications, RFC 7959 §2.6 would
 * need a representation the client can fetch block by block). A bigger body is dropped (and
 * reported) instead.
 */
export const MAX_NOTIFICATION_BYTES = MAX_PAYLOAD_BYTES;

const JSON_FORMAT = [{ name: 'Content-Format', value: encodeUint(CONTENT_FORMAT.json) }] as const;

/** The first answer to a registration: its code and optional JSON body. */
export interface InitialResponse {
  readonly code: string;
  readonly body?: JsonValue;
}

export class Observation {
  private session: DeviceSession | undefined;
  private ready = false;
  private readonly queued: JsonValue[] = [];
  private closed = false;
  private readonly onClose: (obs: Observation) => void;

  constructor(
    readonly key: string,
    readonly resource: ObservedResource,
    private readonly stream: ObserveStream,
    private readonly logger: Logger,
    onClose: (obs: Observation) => void,
  ) {
    this.onClose = onClose;
    stream.onCancel = (reason) => {
      this.logger.debug({ observation: key, reason }, 'coap observation cancelled by the client');
      this.close();
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  attach(session: DeviceSession): void {
    if (this.closed) session.close();
    else this.session = session;
  }

  /** Answers the registration, then sends anything that arrived in the meantime. */
  start(initial: InitialResponse): void {
    if (this.closed) return;
    if (initial.body === undefined) {
      this.stream.notify({ code: initial.code });
    } else {
      const bytes = Buffer.from(JSON.stringify(initial.body));
      if (bytes.length > MAX_NOTIFICATION_BYTES) {
        // Cannot go in one datagram: refuse the registration rather than leave it unanswered.
        this.logger.warn({ observation: this.key, bytes, limit: MAX_NOTIFICATION_BYTES }, 'coap observe state too large for one datagram');
        this.refuse('5.00');
        return;
      }
      this.stream.notify({ code: initial.code, options: JSON_FORMAT, payload: bytes });
    }
    this.ready = true;
    for (const body of this.queued.splice(0)) this.notify(body);
  }

  /**
   * Sends a 2.05 notification (queued until the registration has been answered). False when
   * it cannot be sent: the observation is closed, or the body is over MAX_NOTIFICATION_BYTES.
   */
  notify(body: JsonValue): boolean {
    if (this.closed) return false;
    if (!this.ready) {
      this.queued.push(body);
      return true;
    }
    const bytes = Buffer.from(JSON.stringify(body));
    if (bytes.length > MAX_NOTIFICATION_BYTES) {
      this.logger.warn({ observation: this.key, bytes, limit: MAX_NOTIFICATION_BYTES }, 'coap notification too large for one datagram; dropped');
      return false;
    }
    this.stream.notify({ code: '2.05', options: JSON_FORMAT, payload: bytes });
    this.session?.touch();
    return true;
  }

  /** Fails the registration (no Observe option, so the client knows it is not registered). */
  refuse(code: string): void {
    if (this.closed) return;
    this.stream.end({ code });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session?.close();
    this.session = undefined;
    this.queued.length = 0;
    // With notifications sent, end() sends nothing (RFC 7641 §3.6: the client learns of it on
    // deregistration or by the absence of notifications); with none sent, it answers 5.03.
    this.stream.end();
    this.onClose(this);
  }
}

export interface ObservationLimits {
  /** Registrations of one device from one client endpoint (address and port). */
  readonly maxPerEndpoint: number;
  readonly maxTotal: number;
}

/**
 * Open observations, bounded per scope (a device behind a client endpoint) and in total: each one
 * holds a device session and a retransmission state, and UDP source addresses cost an attacker
 * nothing. The total is what bounds an attacker rotating source ports.
 */
export class ObservationRegistry {
  private readonly byKey = new Map<string, { readonly obs: Observation; readonly endpoint: string }>();
  private readonly perEndpoint = new Map<string, number>();

  constructor(private readonly limits: ObservationLimits = { maxPerEndpoint: 8, maxTotal: 50_000 }) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Whether a registration with this key may be added (re-registering an existing key always may). */
  admits(key: string, endpoint: string): boolean {
    if (this.byKey.has(key)) return true;
    return this.byKey.size < this.limits.maxTotal && (this.perEndpoint.get(endpoint) ?? 0) < this.limits.maxPerEndpoint;
  }

  /** Registers an observation, replacing (and closing) one with the same key. */
  add(obs: Observation, endpoint: string): void {
    const previous = this.byKey.get(obs.key);
    if (previous) this.remove(obs.key, previous.endpoint);
    this.byKey.set(obs.key, { obs, endpoint });
    this.perEndpoint.set(endpoint, (this.perEndpoint.get(endpoint) ?? 0) + 1);
    if (previous && previous.obs !== obs) previous.obs.close();
  }

  /** Called by an observation when it closes. */
  forget(obs: Observation): void {
    const entry = this.byKey.get(obs.key);
    if (entry?.obs === obs) this.remove(obs.key, entry.endpoint);
  }

  private remove(key: string, endpoint: string): void {
    this.byKey.delete(key);
    const left = (this.perEndpoint.get(endpoint) ?? 1) - 1;
    if (left > 0) this.perEndpoint.set(endpoint, left);
    else this.perEndpoint.delete(endpoint);
  }

  /** Closes the observation with this key; true if there was one. */
  cancel(key: string): boolean {
    const entry = this.byKey.get(key);
    if (!entry) return false;
    entry.obs.close();
    return true;
  }

  closeAll(): void {
    for (const { obs } of [...this.byKey.values()]) obs.close();
    this.byKey.clear();
    this.perEndpoint.clear();
  }
}
