/**
 * SMPP 3.4 ESME client for rule SMS notifications (config notify.smpp), on node:net.
 *
 * One long-lived session: it binds as transmitter (or transceiver) right away, keeps the link
 * alive with enquire_link, and reconnects with exponential backoff (with jitter, capped) whenever
 * the SMSC drops it, refuses the bind or stops answering. `send` waits for a bind up to the
 * response timeout, then submits one submit_sm per part (see ./encoding.ts: GSM 7-bit or UCS2,
 * long texts as UDH-concatenated parts) and maps a refusal to a PlatformError (./status.ts).
 */
import { SmppRequests } from '../../../protocols/smpp/requests.js';
import { connect, type Socket } from 'node:net';
import { PlatformError } from '../../../domain/errors.js';
import type { Logger, SmsMessage, SmsSender } from '../../../ports.js';
import { encodeText } from '../../../protocols/smpp/encoding.js';
import { address, bindBody, CMD, encodePdu, isResponse, PduReader, readCString, submitBody, type Address, type Pdu } from '../../../protocols/smpp/pdu.js';
import { smppError, statusName } from '../../../protocols/smpp/status.js';

export interface SmppOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly systemType?: string;
  /** Default sender: a number or an alphanumeric name of up to 11 characters. Empty: the SMSC's default. */
  readonly sourceAddr?: string;
  readonly bindMode?: 'transmitter' | 'transceiver';
  /** Interval of enquire_link keepalives (default 30 s). */
  readonly enquireLinkMs?: number;
  /** How long to wait for a response, a TCP connect or a bind before giving up (default 10 s). */
  readonly responseTimeoutMs?: number;
  /** Reconnect backoff: first delay, doubled per failed attempt up to maxMs (default 500 ms → 30 s). */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly logger: Logger;
}

export interface SmppSender extends SmsSender {
  /** True while bound; for health output and tests. */
  readonly bound: boolean;
  /** Unbinds politely and stops reconnecting. */
  close(): Promise<void>;
}

/** Enough of a number to tell messages apart in logs without logging whole phone numbers. */
function mask(to: string): string {
  return to.length <= 6 ? '***' : `${to.slice(0, 4)}…${to.slice(-2)}`;
}

class SmppClient implements SmppSender {
  private socket: Socket | undefined;
  private state: 'connecting' | 'bound' | 'waiting' | 'closed' = 'waiting';
  private reference = Math.floor(Math.random() * 256);
  private attempts = 0;
  private lastError: Error | undefined;
  private readonly requests = new SmppRequests((commandId, ms) => new PlatformError('UNAVAILABLE', `SMSC did not answer command 0x${commandId.toString(16)} within ${ms} ms`));
  private waiters: { resolve(): void; reject(err: Error): void }[] = [];
  private keepalive: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly defaultSource: Address;

  constructor(private readonly opts: SmppOptions) {
    this.log = opts.logger.child({ component: 'smpp', smsc: `${opts.host}:${opts.port}`, systemId: opts.systemId });
    this.timeoutMs = opts.responseTimeoutMs ?? 10_000;
    // Checked once here so a bad setting fails at startup, not at the first SMS.
    this.defaultSource = opts.sourceAddr ? address(opts.sourceAddr, 'notify.smpp.sourceAddr', true) : { ton: 0, npi: 0, addr: '' };
    bindBody({ systemId: opts.systemId, password: opts.password, systemType: opts.systemType ?? '' });
    this.connect();
  }

  get bound(): boolean {
    return this.state === 'bound';
  }

  private connect(): void {
    this.state = 'connecting';
    const socket = connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    const reader = new PduReader();
    socket.setNoDelay(true);
    // Covers a TCP connect that hangs; cleared once bound (enquire_link watches the link then).
    socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`no bind within ${this.timeoutMs} ms`)));
    socket.on('connect', () => void this.bind(socket));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const pdu of reader.push(chunk)) this.handle(socket, pdu);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => (this.lastError = err));
    socket.on('close', () => this.onClose(socket));
  }

  private async bind(socket: Socket): Promise<void> {
    const transceiver = this.opts.bindMode === 'transceiver';
    const body = bindBody({ systemId: this.opts.systemId, password: this.opts.password, systemType: this.opts.systemType ?? '' });
    try {
      const resp = await this.request(socket, transceiver ? CMD.bind_transceiver : CMD.bind_transmitter, body);
      if (resp.status !== 0) throw smppError(resp.status, transceiver ? 'bind_transceiver' : 'bind_transmitter');
      if (socket !== this.socket || this.state === 'closed') return;
      socket.setTimeout(0);
      this.state = 'bound';
      this.attempts = 0;
      this.lastError = undefined;
      this.log.info({ smscSystemId: readCString(resp.body), mode: transceiver ? 'transceiver' : 'transmitter' }, 'SMPP bound');
      this.startKeepalive(socket);
      for (const w of this.waiters.splice(0)) w.resolve();
    } catch (err) {
      this.log.error({ err }, 'SMPP bind failed');
      socket.destroy(err as Error);
    }
  }

  private startKeepalive(socket: Socket): void {
    const every = this.opts.enquireLinkMs ?? 30_000;
    this.keepalive = setInterval(() => {
      // A link that does not answer enquire_link is dead even if TCP has not noticed yet.
      this.request(socket, CMD.enquire_link).then(
        (resp) => this.log.debug({ status: resp.status }, 'enquire_link answered'),
        (err: unknown) => {
          this.log.warn({ err }, 'enquire_link unanswered, dropping the connection');
          socket.destroy(err as Error);
        },
      );
    }, every);
    this.keepalive.unref();
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    clearInterval(this.keepalive);
    this.socket = undefined;
    const lost = new PlatformError('UNAVAILABLE', `SMPP connection to ${this.opts.host}:${this.opts.port} closed${this.lastError ? `: ${this.lastError.message}` : ''}`);
    this.requests.failAll(lost);
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound';
    this.state = 'waiting';
    const initial = this.opts.reconnect?.initialMs ?? 500;
    const max = this.opts.reconnect?.maxMs ?? 30_000;
    // Full jitter on the upper half, so many platforms behind one SMSC do not reconnect in step.
    const base = Math.min(max, initial * 2 ** this.attempts++);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    // Loud for a lost session and the first failed attempt; quiet while an SMSC stays away.
    const level = wasBound || this.attempts === 1 ? 'warn' : 'debug';
    this.log[level]({ err: this.lastError, attempt: this.attempts, delayMs: delay }, 'SMPP connection lost, reconnecting');
    this.retry = setTimeout(() => this.connect(), delay);
    this.retry.unref();
  }

  private request(socket: Socket, commandId: number, body?: Buffer): Promise<Pdu> {
    return this.requests.send(socket, commandId, this.timeoutMs, body);
  }

  /** Responses settle their request; the SMSC's own requests are answered here. */
  private handle(socket: Socket, pdu: Pdu): void {
    if (isResponse(pdu.commandId)) {
      if (!this.requests.settle(pdu)) this.log.debug({ commandId: pdu.commandId, sequence: pdu.sequence }, 'SMPP response without request');
      return;
    }
    switch (pdu.commandId) {
      case CMD.enquire_link:
        socket.write(encodePdu(CMD.enquire_link_resp, pdu.sequence));
        break;
      case CMD.unbind:
        this.log.warn({}, 'SMSC unbound the session');
        socket.end(encodePdu(CMD.unbind_resp, pdu.sequence));
        break;
      case CMD.deliver_sm:
        // Transceiver binds receive MO messages and receipts; they are acknowledged, not used yet.
        socket.write(encodePdu(CMD.deliver_sm_resp, pdu.sequence, Buffer.from([0])));
        break;
      default:
        socket.write(encodePdu(CMD.generic_nack, pdu.sequence, undefined, 0x03));
    }
  }

  private whenBound(): Promise<void> {
    if (this.state === 'bound') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new PlatformError('UNAVAILABLE', 'SMPP sender is closed'));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject,
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new PlatformError('UNAVAILABLE', `not bound to SMSC ${this.opts.host}:${this.opts.port}${this.lastError ? ` (${this.lastError.message})` : ''}`));
      }, this.timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async send(message: SmsMessage): Promise<{ messageId: string; parts: number }> {
    let destination: Address;
    let source = this.defaultSource;
    let encoded: ReturnType<typeof encodeText>;
    try {
      destination = address(message.to, 'SMS recipient', false);
      if (message.from) source = address(message.from, 'SMS sender', true);
      if (message.text.length === 0) throw new RangeError('SMS text is empty');
      this.reference = (this.reference + 1) & 0xff;
      encoded = encodeText(message.text, this.reference);
    } catch (err) {
      throw new PlatformError('BAD_REQUEST', (err as Error).message);
    }
    await this.whenBound();
    const ids: string[] = [];
    for (const part of encoded.parts) {
      const socket = this.socket;
      if (!socket || this.state !== 'bound') throw new PlatformError('UNAVAILABLE', `SMPP connection lost after ${ids.length} of ${encoded.parts.length} parts`);
      const body = submitBody({ source, destination, dataCoding: encoded.dataCoding, shortMessage: part, udhi: encoded.parts.length > 1 });
      const resp = await this.request(socket, CMD.submit_sm, body);
      if (resp.status !== 0) {
        this.log.warn({ to: mask(message.to), status: statusName(resp.status), part: ids.length + 1 }, 'SMS refused by the SMSC');
        throw smppError(resp.status, 'submit_sm');
      }
      ids.push(readCString(resp.body));
    }
    const messageId = ids[0] ?? '';
    this.log.info({ to: mask(message.to), parts: ids.length, messageId, dataCoding: encoded.dataCoding }, 'SMS submitted');
    return { messageId, parts: ids.length };
  }

  async close(): Promise<void> {
    const socket = this.socket;
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    clearTimeout(this.retry);
    clearInterval(this.keepalive);
    for (const w of this.waiters.splice(0)) w.reject(new PlatformError('UNAVAILABLE', 'SMPP sender is closed'));
    if (!socket) return;
    if (wasBound) {
      // A polite unbind lets the SMSC release the session at once; do not wait long for it.
      await Promise.race([this.request(socket, CMD.unbind).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}

/** Starts the session (bind, keepalive, reconnects) and returns the sender. */
export function createSmppSender(opts: SmppOptions): SmppSender {
  return new SmppClient(opts);
}
