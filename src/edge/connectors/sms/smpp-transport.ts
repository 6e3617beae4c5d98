/**
 * SMS over SMPP 3.4: one transceiver session with the operator's SMSC (bind_transceiver, §4.1.5)
 * so one TCP connection carries both directions: submit_sm out (asking for a delivery receipt
 * with registered_delivery = 1, §5.2.17), deliver_sm in (mobile-originated texts, and receipts
 * flagged by esm_class, §5.2.12). enquire_link every enquireLinkMs (§4.11) finds a dead link that
 * TCP has not noticed; any loss reconnects with exponential backoff and jitter.
 */
import { SmppRequests } from '../../../protocols/smpp/requests.js';
import { connect, type Socket } from 'node:net';
import type { EdgeLogger } from '../../ports.js';
import type { SmsSmppConfig } from './config.js';
import {
  address, addressText, bindBody, CMD, decodeSm, encodePdu, encodeSm, encodeText, ESM_RECEIPT, ESM_UDHI, isResponse, parseReceipt, PduReader, readCString, smText, type Address, type Pdu,
} from '../../../protocols/smpp/short-message.js';
import type { SmsTransport, TransportEvents } from './transport.js';
import { statusName } from '../../../protocols/smpp/status.js';

/** ESME_RINVCMDID, ESME_RSYSERR (§5.1.3): our answers to requests we cannot take. */
const RINVCMDID = 0x03;
const RSYSERR = 0x08;

export class SmppTransport implements SmsTransport {
  private socket: Socket | undefined;
  private bound = false;
  private stopped = true;
  private reference = Math.floor(Math.random() * 256);
  private attempt = 0;
  private events: TransportEvents | undefined;
  private readonly requests = new SmppRequests((commandId, ms) => new Error(`SMSC did not answer command 0x${commandId.toString(16)} within ${ms} ms`));
  private keepalive: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private lastError = '';
  private readonly source: Address;

  constructor(
    private readonly config: SmsSmppConfig,
    private readonly logger: EdgeLogger,
    private readonly name: string,
  ) {
    this.source = config.sourceAddr ? address(config.sourceAddr, 'smpp.sourceAddr', true) : { ton: 0, npi: 0, addr: '' };
  }

  get connected(): boolean {
    return this.bound;
  }

  start(events: TransportEvents): Promise<void> {
    this.events = events;
    this.stopped = false;
    return new Promise((resolve) => this.open(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.keepalive);
    const socket = this.socket;
    if (!socket) return;
    if (this.bound) await Promise.race([this.request(socket, CMD.unbind).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.bound = false;
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  async send(to: string, text: string, wantReport: boolean): Promise<{ messageId: string }> {
    const destination = address(to, 'SMS recipient', false);
    this.reference = (this.reference + 1) & 0xff;
    const encoded = encodeText(text, this.reference);
    const ids: string[] = [];
    for (const part of encoded.parts) {
      const socket = this.socket;
      if (!socket || !this.bound) throw new Error(`not bound to SMSC ${this.config.host}:${this.config.port}${this.lastError ? ` (${this.lastError})` : ''}`);
      const body = encodeSm({ source: this.source, destination, esmClass: encoded.parts.length > 1 ? ESM_UDHI : 0, registeredDelivery: wantReport ? 1 : 0, dataCoding: encoded.dataCoding, shortMessage: part });
      const resp = await this.request(socket, CMD.submit_sm, body);
      if (resp.status !== 0) throw new Error(`SMSC refused submit_sm: ${statusName(resp.status)}`);
      ids.push(readCString(resp.body));
    }
    // A receipt comes per part; the last part's id is the one that tells the whole text arrived.
    return { messageId: ids[ids.length - 1] ?? '' };
  }

  private open(started?: () => void): void {
    if (this.stopped) return started?.();
    const socket = connect({ host: this.config.host, port: this.config.port });
    this.socket = socket;
    const reader = new PduReader();
    socket.setNoDelay(true);
    socket.setTimeout(this.config.responseTimeoutMs, () => socket.destroy(new Error(`no bind within ${this.config.responseTimeoutMs} ms`)));
    socket.on('connect', () => void this.bind(socket).finally(() => started?.()));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const pdu of reader.push(chunk)) this.handle(socket, pdu);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => (this.lastError = err.message));
    socket.on('close', () => {
      this.closed(socket);
      started?.();
    });
  }

  private async bind(socket: Socket): Promise<void> {
    try {
      const body = bindBody({ systemId: this.config.systemId, password: this.config.password, systemType: this.config.systemType });
      const resp = await this.request(socket, CMD.bind_transceiver, body);
      if (resp.status !== 0) throw new Error(`bind_transceiver refused: ${statusName(resp.status)}`);
      if (socket !== this.socket || this.stopped) return;
      socket.setTimeout(0);
      this.bound = true;
      this.attempt = 0;
      this.lastError = '';
      this.logger.info({ connector: this.name, smsc: `${this.config.host}:${this.config.port}`, smscSystemId: readCString(resp.body) }, 'SMPP transceiver bound');
      this.keepalive = setInterval(() => {
        this.request(socket, CMD.enquire_link).catch((err: unknown) => socket.destroy(err as Error));
      }, this.config.enquireLinkMs);
      this.keepalive.unref();
      this.events?.link(true);
    } catch (err) {
      this.lastError = (err as Error).message;
      socket.destroy();
    }
  }

  private closed(socket: Socket): void {
    if (socket !== this.socket) return;
    clearInterval(this.keepalive);
    this.socket = undefined;
    const wasBound = this.bound;
    this.bound = false;
    this.requests.failAll(new Error(`SMPP connection closed${this.lastError ? `: ${this.lastError}` : ''}`));
    if (this.stopped) return;
    const base = Math.min(this.config.reconnect.maxMs, this.config.reconnect.minMs * 2 ** this.attempt++);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    if (wasBound || this.attempt === 1) this.logger.warn({ connector: this.name, smsc: `${this.config.host}:${this.config.port}`, reason: this.lastError || 'closed', retryInMs: delay }, 'SMPP link lost');
    this.events?.link(false, this.lastError || 'connection closed');
    this.retry = setTimeout(() => this.open(), delay);
  }

  private request(socket: Socket, commandId: number, body?: Buffer): Promise<Pdu> {
    return this.requests.send(socket, commandId, this.config.responseTimeoutMs, body);
  }

  private handle(socket: Socket, pdu: Pdu): void {
    if (isResponse(pdu.commandId)) {
      this.requests.settle(pdu);
      return;
    }
    switch (pdu.commandId) {
      case CMD.enquire_link:
        socket.write(encodePdu(CMD.enquire_link_resp, pdu.sequence));
        return;
      case CMD.unbind:
        this.logger.warn({ connector: this.name }, 'SMSC unbound the session');
        socket.end(encodePdu(CMD.unbind_resp, pdu.sequence));
        return;
      case CMD.deliver_sm:
        socket.write(encodePdu(CMD.deliver_sm_resp, pdu.sequence, Buffer.from([0]), this.deliver(pdu) ? 0 : RSYSERR));
        return;
      default:
        socket.write(encodePdu(CMD.generic_nack, pdu.sequence, undefined, RINVCMDID));
    }
  }

  /** One deliver_sm: a receipt or a mobile-originated text. False when it cannot be read. */
  private deliver(pdu: Pdu): boolean {
    try {
      const sm = decodeSm(pdu.body);
      if ((sm.esmClass & 0x3c) === ESM_RECEIPT) {
        const receipt = parseReceipt(sm);
        if (!receipt) throw new RangeError('delivery receipt without a message id');
        this.events?.report({ messageId: receipt.messageId, delivered: receipt.delivered, state: receipt.stat });
      } else {
        this.events?.sms({ from: addressText(sm.source), to: addressText(sm.destination), text: smText(sm) });
      }
      return true;
    } catch (err) {
      this.logger.warn({ connector: this.name, err: (err as Error).message, body: pdu.body.toString('hex').slice(0, 200) }, 'malformed deliver_sm');
      return false;
    }
  }
}
