/**
 * The npm `coap` server with the fixes a public device endpoint needs. Everything else (message
 * ids, piggybacked/separate responses, retransmission, response cache for duplicates, Observe
 * streams, Block2) is the package's own behaviour.
 *
 * - Datagrams that are not CoAP are dropped and reported. Upstream answers a parse failure
 *   with a 5.00 sent to the sender's port on *localhost*, which is wrong and a reflector.
 * - Block1 is taken out of the request before the package sees it (see block1.ts); the
 *   adapter reassembles by endpoint + URI. `takeBlock1()` hands the option to the handler.
 * - A Confirmable request that is retransmitted while we are still committing it is dropped:
 *   the package caches responses only once sent, so it would otherwise run the request twice.
 * - An empty Confirmable message (CoAP ping, RFC 7252 §4.3) gets a Reset, as the RFC says.
 * - Observe on anything but GET means nothing (RFC 7641 §2) and is ignored, instead of the
 *   package's 5.00 to the wrong address.
 * - The response cache is slimmed after each answer (slimCachedResponse) and the socket
 *   buffers are enlarged (growBuffers), so sustained ingest neither bloats memory nor drops
 *   bursts in the kernel.
 */
import { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Server, type CoapPacket, type CoapServerOptions, type IncomingMessage, type OutgoingMessage } from 'coap';
import { generate, parse, type ParsedPacket } from 'coap-packet';

export interface CoapServerHooks {
  /** A datagram that does not parse as CoAP. */
  onGarbage(rsinfo: AddressInfo, bytes: number, err: Error): void;
  /** Something inside the package threw while handling a parsed message. */
  onInternalError(rsinfo: AddressInfo, err: unknown): void;
  /** True while the request with this exchange key is being processed. */
  isInFlight(key: string): boolean;
}

/** Identifies one request exchange: the client endpoint and its message id. */
export function exchangeKey(rsinfo: AddressInfo, messageId: number | undefined): string {
  return `${rsinfo.address}:${rsinfo.port}/${messageId ?? '-'}`;
}

const block1Options = new WeakMap<object, Buffer>();

/** The Block1 option the server removed from this request's packet, if it had one. */
export function takeBlock1(packet: object): Buffer | undefined {
  const value = block1Options.get(packet);
  block1Options.delete(packet);
  return value;
}

function isRequestCode(code: string): boolean {
  return code.startsWith('0.') && code !== '0.00';
}

export class ContinuumCoapServer extends Server {
  private readonly hooks: CoapServerHooks;

  constructor(options: CoapServerOptions, hooks: CoapServerHooks) {
    super(options);
    this.hooks = hooks;
  }

  override handleRequest(): (msg: Buffer, rsinfo: AddressInfo) => void {
    return (msg, rsinfo) => {
      let packet: ParsedPacket;
      try {
        packet = parse(msg);
      } catch (err) {
        this.hooks.onGarbage(rsinfo, msg.length, err as Error);
        return;
      }
      try {
        this._handle(packet as CoapPacket, rsinfo);
      } catch (err) {
        this.hooks.onInternalError(rsinfo, err);
      }
    };
  }

  override _handle(packet: CoapPacket, rsinfo: AddressInfo): void {
    const code = packet.code ?? '';
    const plainMessage = packet.ack !== true && packet.reset !== true;
    if (code === '0.00' && plainMessage) {
      // Ping: an empty CON is answered with RST; an empty NON is ignored.
      if (packet.confirmable === true) this.sendRaw({ code: '0.00', messageId: packet.messageId, reset: true }, rsinfo);
      return;
    }
    if (isRequestCode(code) && plainMessage) {
      if (packet.confirmable === true && this.hooks.isInFlight(exchangeKey(rsinfo, packet.messageId))) return;
      const options = packet.options ?? [];
      const kept = options.filter((o) => o.name !== 'Block1' && (code === '0.01' || o.name !== 'Observe'));
      const block1 = options.find((o) => o.name === 'Block1');
      if (block1 && Buffer.isBuffer(block1.value)) block1Options.set(packet, block1.value);
      packet.options = kept;
    }
    super._handle(packet, rsinfo);
  }

  /** Upstream sends these to the right port on the wrong host; answer the actual peer. */
  override _sendError(payload: Buffer, rsinfo: AddressInfo, packet?: CoapPacket, code = '5.00'): void {
    this.sendRaw(
      {
        code,
        payload,
        messageId: packet?.messageId,
        token: packet?.token,
        ack: packet?.confirmable === true,
      },
      rsinfo,
    );
  }

  /**
   * Frees what the package's response cache holds beyond the bytes it needs for duplicate
   * detection. For every response it keeps a sender with a 202 s timer and listeners that
   * retain the request and response objects (~5 KB per request for EXCHANGE_LIFETIME, 247 s).
   * A piggybacked ACK or a NON response is never retransmitted, so its sender can go idle;
   * a separate CON response keeps its sender (it retransmits until acknowledged).
   */
  slimCachedResponse(req: IncomingMessage, res: OutgoingMessage): void {
    const packet = res._packet;
    if (packet.confirmable === true && packet.ack !== true) return;
    const entry = this._lru.peek(this._toKey(req, packet as CoapPacket, true)) as { sender?: { reset(): void; removeAllListeners(): void } } | undefined;
    entry?.sender?.reset();
    entry?.sender?.removeAllListeners();
  }

  /**
   * Best effort: a larger receive buffer rides out bursts (the kernel drops datagrams when it
   * is full; CON clients retransmit, NON data is lost). Capped by net.core.rmem_max.
   */
  growBuffers(receiveBytes: number, sendBytes: number): void {
    if (!(this._sock instanceof Socket)) return;
    try {
      if (this._sock.getRecvBufferSize() < receiveBytes) this._sock.setRecvBufferSize(receiveBytes);
      if (this._sock.getSendBufferSize() < sendBytes) this._sock.setSendBufferSize(sendBytes);
    } catch {
      // Not permitted or not supported: keep the system defaults.
    }
  }

  /** The socket's bound address, once listening. */
  boundAddress(): AddressInfo | undefined {
    return this._sock instanceof Socket ? this._sock.address() : undefined;
  }

  private sendRaw(packet: Parameters<typeof generate>[0], rsinfo: AddressInfo): void {
    const sock = this._sock;
    if (!(sock instanceof Socket)) return;
    try {
      const buf = generate(packet);
      sock.send(buf, 0, buf.length, rsinfo.port, rsinfo.address);
    } catch (err) {
      this.hooks.onInternalError(rsinfo, err);
    }
  }
}
