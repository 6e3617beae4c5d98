/**
 * Our CoAP server (RFC 7252) on node:dgram, with coap-packet for the wire format. It replaced
 * the npm `coap` server, which topped out near 11–26k msg/s and kept ~1 KB of state (a sender
 * with timers, the request and response objects) per exchange for EXCHANGE_LIFETIME (247 s),
 * i.e. hundreds of MB under sustained ingest. Here a request costs one parse, one encode, and
 * one small deduplication entry (dedup.ts); only the Confirmable messages we originate hold a
 * timer (retransmit.ts).
 *
 * Message layer (the request/response layer is exchange.ts):
 * - A datagram that is not CoAP is dropped and reported, never answered (no reflection).
 * - Empty CON (CoAP ping, §4.3) → RST. Empty NON is meaningless (§4.3) and ignored.
 * - Empty ACK / RST from the client settle our CON messages (§4.2); an RST to a notification
 *   cancels the observation (RFC 7641 §3.6).
 * - Requests are deduplicated by endpoint + message id (§4.5, dedup.ts).
 * - A CON request not answered within `piggybackReplyMs` gets an empty ACK and its answer later
 *   as a separate response (§5.2.2). Pending requests are checked by one periodic sweep, not a
 *   timer per request.
 * - Message ids of the messages we originate come from a per-server counter (§4.4).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { generate, parse, type Packet, type ParsedPacket } from 'coap-packet';
import { DedupCache, type DedupOptions } from './dedup.js';
import { CoapExchange, type ExchangeLink } from './exchange.js';
import { messageKey, remoteOf, requestFrom } from './message.js';
import { Retransmitter, type RetransmitTiming } from './retransmit.js';

/** RFC 7252 §4.6: stay under 1152 bytes per message unless the path MTU is known to be larger. */
const MAX_MESSAGE_BYTES = 1152;

export interface CoapServerHooks {
  /** A datagram that does not parse as CoAP. */
  onGarbage(rsinfo: AddressInfo, bytes: number, err: Error): void;
  /** Something failed while handling a parsed message (e.g. an answer that cannot be encoded). */
  onInternalError(rsinfo: AddressInfo, err: unknown): void;
  /** A new request (duplicates never reach this). */
  onRequest(exchange: CoapExchange): void;
}

export interface CoapServerOptions {
  readonly type: 'udp4' | 'udp6';
  /** How long an answer may take and still ride on the ACK (§5.2.1). */
  readonly piggybackReplyMs: number;
  readonly dedup?: DedupOptions;
  /** Retransmission timing of our CON messages (RFC 7252 §4.8 defaults). */
  readonly retransmit?: RetransmitTiming;
}

export class CoapServer implements ExchangeLink {
  readonly outgoing: Retransmitter;
  private readonly dedup: DedupCache;
  /** CON requests not answered or acknowledged yet, in arrival order (Map order). */
  private readonly awaiting = new Set<CoapExchange>();
  private sock: Socket | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private nextMessageId = Math.floor(Math.random() * 0x10000);

  constructor(
    private readonly options: CoapServerOptions,
    private readonly hooks: CoapServerHooks,
  ) {
    this.dedup = new DedupCache(options.dedup);
    this.outgoing = new Retransmitter((bytes, rsinfo) => this.send(bytes, rsinfo), options.retransmit);
  }

  /** Entries in the deduplication cache (for tests and diagnostics). */
  get dedupSize(): number {
    return this.dedup.size;
  }

  /** Binds the socket; rejects with the socket error (e.g. EADDRINUSE). */
  listen(port: number, host: string): Promise<void> {
    if (this.sock) return Promise.reject(new Error('already listening'));
    // No SO_REUSEADDR: a port already taken must fail loudly.
    const sock = createSocket({ type: this.options.type, reuseAddr: false });
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        sock.close();
        reject(err);
      };
      sock.once('error', onError);
      sock.bind(port, host, () => {
        sock.off('error', onError);
        sock.on('message', (msg, rsinfo) => this.onDatagram(msg, rsinfo));
        this.sock = sock;
        const tick = Math.min(100, Math.max(5, Math.floor(this.options.piggybackReplyMs / 4)));
        this.sweeper = setInterval(() => this.sweep(), tick);
        this.sweeper.unref();
        resolve();
      });
    });
  }

  /** Socket errors after listen() (the socket stays open). */
  onError(listener: (err: Error) => void): void {
    this.sock?.on('error', listener);
  }

  close(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    clearInterval(this.sweeper);
    this.outgoing.clear();
    this.awaiting.clear();
    this.dedup.clear();
    if (!sock) return Promise.resolve();
    return new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  /**
   * Best effort: a larger receive buffer rides out bursts (the kernel drops datagrams when it
   * is full; CON clients retransmit, NON data is lost). Capped by net.core.rmem_max.
   */
  growBuffers(receiveBytes: number, sendBytes: number): void {
    const sock = this.sock;
    if (!sock) return;
    try {
      if (sock.getRecvBufferSize() < receiveBytes) sock.setRecvBufferSize(receiveBytes);
      if (sock.getSendBufferSize() < sendBytes) sock.setSendBufferSize(sendBytes);
    } catch {
      // Not permitted or not supported: keep the system defaults.
    }
  }

  /** The socket's bound address, once listening. */
  boundAddress(): AddressInfo | undefined {
    return this.sock?.address();
  }

  newMessageId(): number {
    this.nextMessageId = (this.nextMessageId + 1) & 0xffff;
    return this.nextMessageId;
  }

  encode(packet: Packet, rsinfo: AddressInfo): Buffer | undefined {
    try {
      return generate(packet, MAX_MESSAGE_BYTES);
    } catch (err) {
      this.hooks.onInternalError(rsinfo, err);
      return undefined;
    }
  }

  send(bytes: Buffer, rsinfo: AddressInfo): void {
    this.sock?.send(bytes, rsinfo.port, rsinfo.address);
  }

  settled(exchange: CoapExchange, bytes: Buffer): void {
    this.awaiting.delete(exchange);
    this.dedup.settle(exchange.request.remote, exchange.request.messageId, bytes);
  }

  private onDatagram(msg: Buffer, rsinfo: AddressInfo): void {
    let packet: ParsedPacket;
    try {
      packet = parse(msg);
    } catch (err) {
      this.hooks.onGarbage(rsinfo, msg.length, err as Error);
      return;
    }
    try {
      this.dispatch(packet, rsinfo);
    } catch (err) {
      this.hooks.onInternalError(rsinfo, err);
    }
  }

  private dispatch(packet: ParsedPacket, rsinfo: AddressInfo): void {
    const { code } = packet;
    if (code === '0.00') return this.onEmpty(packet, rsinfo);
    // Only requests (class 0) from a CON or NON message are served. Responses to us make no
    // sense (we send no requests) and reserved classes are ignored, as the npm server did.
    if (code.charCodeAt(0) !== 0x30 || packet.ack || packet.reset) return;
    const remote = remoteOf(rsinfo);
    const hit = this.dedup.check(remote, packet.messageId);
    if (hit !== undefined) {
      // §4.5: a duplicate CON gets the same ACK again; one still being processed waits for its
      // answer; a duplicate NON is ignored.
      if (packet.confirmable && hit !== 'processing' && hit.length > 0) this.send(hit, rsinfo);
      return;
    }
    const exchange = new CoapExchange(requestFrom(packet, rsinfo, remote), Date.now(), this);
    if (packet.confirmable) this.awaiting.add(exchange);
    this.hooks.onRequest(exchange);
  }

  private onEmpty(packet: ParsedPacket, rsinfo: AddressInfo): void {
    const key = messageKey(remoteOf(rsinfo), packet.messageId);
    if (packet.ack) {
      this.outgoing.settle(key, 'ack');
    } else if (packet.reset) {
      this.outgoing.settle(key, 'reset');
    } else if (packet.confirmable) {
      // CoAP ping (§4.3): an empty CON is answered with RST.
      const rst = this.encode({ code: '0.00', messageId: packet.messageId, reset: true }, rsinfo);
      if (rst) this.send(rst, rsinfo);
    }
  }

  /** Empty-ACKs the CON requests whose answer missed the piggyback window (§5.2.2). */
  private sweep(): void {
    const due = Date.now() - this.options.piggybackReplyMs;
    for (const exchange of this.awaiting) {
      if (exchange.arrived > due) break;
      exchange.acknowledge();
      this.awaiting.delete(exchange);
    }
    this.dedup.prune();
  }
}
