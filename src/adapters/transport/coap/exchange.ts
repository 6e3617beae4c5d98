/**
 * One request/response exchange on our CoAP server, and the Observe stream (RFC 7641) that a
 * GET with Observe: 0 turns it into.
 *
 * How the answer travels (RFC 7252 §5.2):
 * - CON request, answered in time: piggybacked on the ACK, same message id and token (§5.2.1).
 * - CON request, answer late: the server has already sent an empty ACK (server.ts, after
 *   piggybackReplyMs); the answer goes as a separate CON with a new message id and the same
 *   token, retransmitted until acknowledged (§5.2.2, §4.2).
 * - NON request: a NON response with a new message id and the same token (§5.2.3).
 */
import type { Packet } from 'coap-packet';
import { blockwise } from './block2.js';
import { encodeUint, messageKey, uintOf, type CoapOption, type CoapReply, type CoapRequest } from './message.js';
import type { DeliveryEvents, Retransmitter } from './retransmit.js';

/** What an exchange needs from the server that owns the socket. */
export interface ExchangeLink {
  readonly outgoing: Retransmitter;
  newMessageId(): number;
  /** Encodes a message; undefined (and reported) if it cannot be encoded. */
  encode(packet: Packet, rsinfo: CoapRequest['rsinfo']): Buffer | undefined;
  send(bytes: Buffer, rsinfo: CoapRequest['rsinfo']): void;
  /** The exchange has its answer (or its empty ACK): `bytes` answer a duplicate request. */
  settled(exchange: CoapExchange, bytes: Buffer): void;
}

type State = 'open' | 'acked' | 'answered';

/** Marks a NON request as done in the dedup cache: its duplicates are ignored, not answered. */
const NON_DONE = Buffer.alloc(0);

export class CoapExchange {
  private state: State = 'open';
  private stream: ObserveStream | undefined;

  constructor(
    readonly request: CoapRequest,
    /** Date.now() at arrival (for the piggyback window). */
    readonly arrived: number,
    private readonly link: ExchangeLink,
  ) {}

  get answered(): boolean {
    return this.state === 'answered';
  }

  /** True once an Observe stream took the exchange over. */
  get observing(): boolean {
    return this.stream !== undefined;
  }

  /**
   * The Observe option of the request: 0 registers, 1 deregisters (RFC 7641 §2). It means
   * nothing outside GET, so it is ignored there.
   */
  get observe(): number | undefined {
    return this.request.code === '0.01' ? uintOf(this.request.options, 'Observe') : undefined;
  }

  /** Answers the request; a second answer is ignored. Big bodies go block-wise (block2.ts). */
  reply(reply: CoapReply): void {
    if (this.state === 'answered') return;
    this.transmit(blockwise(this.request, reply));
  }

  /** Takes the exchange over for an observation: its first notify() answers the request. */
  startObserving(): ObserveStream {
    this.stream ??= new ObserveStream(this, this.link);
    return this.stream;
  }

  /** Sends the empty ACK of §5.2.2 while the answer is still being computed. */
  acknowledge(): void {
    if (this.state !== 'open' || !this.request.confirmable) return;
    this.state = 'acked';
    const bytes = this.link.encode({ code: '0.00', messageId: this.request.messageId, ack: true }, this.request.rsinfo);
    if (!bytes) return;
    this.link.send(bytes, this.request.rsinfo);
    this.link.settled(this, bytes);
  }

  /**
   * Sends the answer as the request's state dictates (see the file comment). `events` follow
   * a separate CON answer (keyed by endpoint + its message id) until it is acknowledged.
   */
  transmit(reply: CoapReply, events?: (key: string) => DeliveryEvents): void {
    const req = this.request;
    const piggyback = req.confirmable && this.state === 'open';
    const separateCon = req.confirmable && this.state === 'acked';
    const messageId = piggyback ? req.messageId : this.link.newMessageId();
    const packet: Packet = {
      code: reply.code,
      messageId,
      token: req.token,
      ack: piggyback,
      confirmable: separateCon,
      options: reply.options ? [...reply.options] : [],
      payload: reply.payload,
    };
    const previous = this.state;
    this.state = 'answered';
    const bytes = this.link.encode(packet, req.rsinfo);
    if (!bytes) {
      // Nothing that can be sent: answer with a bare 5.00 rather than leave the client waiting.
      if (reply.code !== '5.00') {
        this.state = previous;
        this.transmit({ code: '5.00' }, events);
      }
      return;
    }
    if (separateCon) {
      const key = messageKey(req.remote, messageId);
      this.link.outgoing.start(key, bytes, req.rsinfo, events?.(key) ?? {});
    } else {
      this.link.send(bytes, req.rsinfo);
    }
    if (previous === 'open') this.link.settled(this, req.confirmable ? bytes : NON_DONE);
  }
}

/** Why an observation ended on the client's side. */
export type ObserveCancel = 'reset' | 'unacknowledged';

/**
 * Notifications of one observation. The first one answers the registration request; later
 * ones are sent Confirmable with a new message id each (RFC 7641 §4.5: CON lets us notice an
 * observer that went away), carrying the registration's token (§3.2) and an Observe sequence
 * number that increases by one per notification and wraps at 2^24 (§3.4, §4.4).
 */
export class ObserveStream {
  private seq = 0;
  private closed = false;
  private readonly unacked = new Set<string>();
  /** Called once when the client cancels: RST to a notification, or no ACK after retries. */
  onCancel: ((reason: ObserveCancel) => void) | undefined;

  constructor(
    private readonly exchange: CoapExchange,
    private readonly link: ExchangeLink,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a notification (the first one answers the registration). */
  notify(reply: CoapReply): void {
    if (this.closed) return;
    this.seq = this.seq >= 0xffffff ? 1 : this.seq + 1;
    const options: CoapOption[] = [...(reply.options ?? []), { name: 'Observe', value: encodeUint(this.seq) }];
    if (!this.exchange.answered) {
      // The registration's answer; if it goes as a separate CON, it is followed like the rest.
      this.exchange.transmit({ ...reply, options }, (key) => this.follow(key));
      return;
    }
    const req = this.exchange.request;
    const messageId = this.link.newMessageId();
    const packet: Packet = { code: reply.code, messageId, token: req.token, confirmable: true, options, payload: reply.payload };
    const bytes = this.link.encode(packet, req.rsinfo);
    if (!bytes) return;
    const key = messageKey(req.remote, messageId);
    this.link.outgoing.start(key, bytes, req.rsinfo, this.follow(key));
  }

  /** Tracks one CON notification until the client acknowledges or rejects it. */
  private follow(key: string): DeliveryEvents {
    this.unacked.add(key);
    return {
      onAck: () => this.unacked.delete(key),
      // RFC 7641 §3.6: an RST to a notification cancels the observation.
      onReset: () => this.cancelled(key, 'reset'),
      // RFC 7641 §4.5: an observer that does not acknowledge a CON notification is removed.
      onGiveUp: () => this.cancelled(key, 'unacknowledged'),
    };
  }

  /**
   * Ends the observation on our side. If nothing has been sent yet, `refusal` answers the
   * registration without an Observe option, so the client knows it is not registered (§4.1).
   */
  end(refusal?: CoapReply): void {
    if (this.closed) return;
    this.closed = true;
    for (const key of this.unacked) this.link.outgoing.cancel(key);
    this.unacked.clear();
    if (!this.exchange.answered) this.exchange.reply(refusal ?? { code: '5.03' });
  }

  private cancelled(key: string, reason: ObserveCancel): void {
    this.unacked.delete(key);
    if (this.closed) return;
    this.end();
    this.onCancel?.(reason);
  }
}
