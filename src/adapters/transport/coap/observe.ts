/**
 * CoAP observations (RFC 7641) of a device's shared attributes or RPC requests.
 *
 * One observation = one Observe stream from the `coap` package + one non-persistent
 * DeviceSession. It ends when the client deregisters (GET with Observe: 1), re-registers with
 * the same token, answers a notification with RST, stops acknowledging Confirmable
 * notifications (the package gives up after MAX_RETRANSMIT), or the transport stops.
 *
 * Notifications after the first are sent Confirmable whatever the registration was, so a
 * vanished observer is noticed (RFC 7641 §4.5) and an RPC request is not silently lost.
 */
import { parameters, type ObserveWriteStream } from 'coap';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Logger } from '../../../ports.js';
import type { DeviceSession } from '../../../services/device-api.js';

export type ObservedResource = 'attributes' | 'rpc';

/**
 * Notifications go out in one datagram: the package does no Block2 for Observe streams and
 * fails on messages over its maximum size. A bigger body is dropped (and reported) instead.
 */
export const MAX_NOTIFICATION_BYTES = parameters.maxPayloadSize;

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
    private readonly stream: ObserveWriteStream,
    private readonly logger: Logger,
    onClose: (obs: Observation) => void,
  ) {
    this.onClose = onClose;
    // From the second message on, notifications are CON (see the file comment). The package
    // reads `_request.confirmable` after each send to pick the type of the next one.
    stream._request.confirmable = true;
    const end = (): void => this.close();
    stream.on('finish', end);
    stream.on('close', end);
    stream.on('error', (err: Error) => {
      this.logger.warn({ err: err.message, observation: key }, 'coap observe stream error');
      this.close();
    });
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
    this.stream.statusCode = initial.code;
    if (initial.body === undefined) {
      this.stream.write(Buffer.alloc(0));
    } else {
      this.stream.setOption('Content-Format', 'application/json');
      this.stream.write(Buffer.from(JSON.stringify(initial.body)));
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
    this.stream.statusCode = '2.05';
    this.stream.setOption('Content-Format', 'application/json');
    this.stream.write(bytes);
    this.session?.touch();
    return true;
  }

  /** Fails the registration (no Observe option, so the client knows it is not registered). */
  refuse(code: string): void {
    if (this.closed) return;
    this.stream.statusCode = code;
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session?.close();
    this.session = undefined;
    this.queued.length = 0;
    // With notifications sent, end() sends nothing; with none sent, it answers with statusCode.
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
    this.onClose(this);
  }
}

export class ObservationRegistry {
  private readonly byKey = new Map<string, Observation>();

  get size(): number {
    return this.byKey.size;
  }

  /** Registers an observation, replacing (and closing) one with the same key. */
  add(obs: Observation): void {
    const previous = this.byKey.get(obs.key);
    this.byKey.set(obs.key, obs);
    if (previous && previous !== obs) previous.close();
  }

  /** Called by an observation when it closes. */
  forget(obs: Observation): void {
    if (this.byKey.get(obs.key) === obs) this.byKey.delete(obs.key);
  }

  /** Closes the observation with this key; true if there was one. */
  cancel(key: string): boolean {
    const obs = this.byKey.get(key);
    if (!obs) return false;
    obs.close();
    return true;
  }

  closeAll(): void {
    for (const obs of [...this.byKey.values()]) obs.close();
    this.byKey.clear();
  }
}
