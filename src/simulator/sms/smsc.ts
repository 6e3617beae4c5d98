/**
 * A simulated mobile network for the M2M twins: an SMSC speaking SMPP 3.4 to ESMEs (the edge's
 * SMS connector, the platform's SMS notifier) and subscribers with phone numbers (handsets, the
 * GSM modem emulator, device models). Routing:
 *  - submit_sm to a subscriber's number is delivered to it; with registered_delivery set, the
 *    ESME gets a delivery receipt (deliver_sm, esm_class 0x04, Appendix B text + TLVs). An
 *    unknown or switched-off number gets an UNDELIV receipt.
 *  - a subscriber texting a number that is not a subscriber reaches a bound receiver or
 *    transceiver ESME as deliver_sm (held until one binds, as a store-and-forward SMSC does).
 * Built on our own PDU code; the `smpp` npm package is only the independent peer in tests.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  address, addressText, CMD, decodeBind, decodeSm, encodePdu, encodeSm, encodeText, ESM_RECEIPT, ESM_UDHI, formatReceipt, isResponse, PduReader, smText, type Address, type Pdu,
} from '../../protocols/smpp/short-message.js';

export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SmscOptions {
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /** When set, binds must use this system_id / password. */
  readonly systemId?: string;
  readonly password?: string;
  /** Delay before a delivery receipt is sent, ms (default 0: as soon as delivered). */
  readonly receiptDelayMs?: number;
  readonly logger?: SimLogger;
}

export interface Subscriber {
  readonly number: string;
  /** Switched off: texts to it fail with an UNDELIV receipt. */
  offline: boolean;
  /** Every text it received, in order. */
  readonly received: { readonly from: string; readonly text: string }[];
  /** Texts `to`; `onReport` hears whether it arrived (true) or not. Returns the SMSC's message id. */
  send(to: string, text: string, onReport?: (delivered: boolean) => void): string;
  close(): void;
}

export interface SmscSimulator {
  readonly host: string;
  readonly port: number;
  /** system_ids of the ESMEs bound now. */
  readonly bound: readonly string[];
  /** Every submit_sm accepted from an ESME: its source, destination and text. */
  readonly submitted: { readonly from: string; readonly to: string; readonly text: string; readonly messageId: string }[];
  /** A handset with `number`; `onText(text, from, handset)` runs for every text it receives. */
  handset(number: string, onText?: (text: string, from: string, handset: Subscriber) => void): Subscriber;
  close(): Promise<void>;
}

interface Session {
  readonly socket: Socket;
  mode?: 'transmitter' | 'receiver' | 'transceiver';
  systemId?: string;
  sequence: number;
}

/** SMPP 3.4 §5.1.3 command_status values this SMSC answers with. */
const STATUS = { RINVMSGLEN: 0x01, RINVCMDID: 0x03, RINVBNDSTS: 0x04, RALYBND: 0x05, RSYSERR: 0x08, RINVDSTADR: 0x0b, RINVPASWD: 0x0e, RINVSYSID: 0x0f } as const;

const BIND_RESP: Record<number, [number, Session['mode']]> = {
  [CMD.bind_transmitter]: [CMD.bind_transmitter_resp, 'transmitter'],
  [CMD.bind_receiver]: [0x80000001, 'receiver'],
  [CMD.bind_transceiver]: [CMD.bind_transceiver_resp, 'transceiver'],
};

const digits = (n: string): string => n.replace(/^\+/, '');

export async function startSmscSimulator(options: SmscOptions = {}): Promise<SmscSimulator> {
  const log = options.logger ?? { info() {}, warn() {} };
  const sessions = new Set<Session>();
  const subscribers = new Map<string, Subscriber & { deliver(from: string, text: string): void }>();
  /** Mobile-originated texts waiting for a receiver ESME. */
  const held: { from: string; to: string; text: string }[] = [];
  /** Concatenated parts per (source, reference) until complete (3GPP TS 23.040 §9.2.3.24.1). */
  const partial = new Map<string, string[]>();
  const submitted: SmscSimulator['submitted'][number][] = [];
  let nextId = 1;
  let reference = 0;

  const write = (s: Session, commandId: number, body?: Buffer, status = 0, sequence?: number): void => {
    if (sequence === undefined) s.sequence = s.sequence >= 0x7fffffff ? 1 : s.sequence + 1;
    if (!s.socket.destroyed) s.socket.write(encodePdu(commandId, sequence ?? s.sequence, body, status));
  };
  const receivers = (): Session[] => [...sessions].filter((s) => s.mode === 'receiver' || s.mode === 'transceiver');

  /** deliver_sm of `text` (split into parts when long) to one ESME. */
  const deliverTo = (s: Session, from: string, to: string, text: string, esmClass = 0, tlvs?: Map<number, Buffer>): void => {
    reference = (reference + 1) & 0xff;
    const encoded = encodeText(text, reference);
    const src: Address = /^\+?\d{1,20}$/.test(from) ? address(from, 'source', false) : { ton: 5, npi: 0, addr: from.slice(0, 11) };
    const dst: Address = /^\+?\d{1,20}$/.test(to) ? address(to, 'destination', false) : { ton: 0, npi: 0, addr: to.slice(0, 20) };
    for (const part of encoded.parts) {
      const esm = esmClass | (encoded.parts.length > 1 ? ESM_UDHI : 0);
      write(s, CMD.deliver_sm, encodeSm({ source: src, destination: dst, esmClass: esm, registeredDelivery: 0, dataCoding: encoded.dataCoding, shortMessage: part, ...(tlvs ? { tlvs } : {}) }));
    }
  };

  const flushHeld = (): void => {
    const esme = receivers()[0];
    if (!esme) return;
    for (const m of held.splice(0)) deliverTo(esme, m.from, m.to, m.text);
  };

  /** A subscriber's text to a non-subscriber number goes to the ESMEs. */
  const mobileOriginated = (from: string, to: string, text: string): boolean => {
    const target = subscribers.get(digits(to));
    if (target) {
      if (target.offline) return false;
      target.deliver(from, text);
      return true;
    }
    const esme = receivers()[0];
    if (esme) deliverTo(esme, from, to, text);
    else held.push({ from, to, text });
    log.info({ from, to, text, esme: esme?.systemId ?? '(held)' }, 'SMSC: mobile-originated SMS');
    return true;
  };

  const submit = (s: Session, pdu: Pdu): void => {
    let sm;
    try {
      sm = decodeSm(pdu.body);
    } catch (err) {
      log.warn({ systemId: s.systemId, err: (err as Error).message }, 'SMSC: malformed submit_sm');
      return write(s, CMD.submit_sm_resp, Buffer.from([0]), STATUS.RINVMSGLEN, pdu.sequence);
    }
    const to = addressText(sm.destination);
    if (!/^\+?\d{1,20}$/.test(to)) return write(s, CMD.submit_sm_resp, Buffer.from([0]), STATUS.RINVDSTADR, pdu.sequence);
    const from = addressText(sm.source) || 'SMSC';
    const messageId = (nextId++).toString(16).padStart(8, '0');
    write(s, CMD.submit_sm_resp, Buffer.from(`${messageId}\u0000`, 'latin1'), 0, pdu.sequence);
    const text = smText(sm);
    submitted.push({ from, to, text, messageId });
    // Reassemble UDH-concatenated parts before a handset sees them.
    let whole: string | undefined = text;
    const udh = (sm.esmClass & ESM_UDHI) !== 0 ? sm.shortMessage : undefined;
    if (udh && udh[1] === 0x00 && udh[2] === 0x03) {
      const key = `${from}/${udh[3]}`;
      const parts = partial.get(key) ?? new Array<string>(udh[4] ?? 1).fill('');
      parts[(udh[5] ?? 1) - 1] = text;
      partial.set(key, parts);
      whole = parts.every((p) => p !== '') ? parts.join('') : undefined;
      if (whole !== undefined) partial.delete(key);
    }
    const target = subscribers.get(digits(to));
    const delivered = target !== undefined && !target.offline;
    if (whole !== undefined && delivered) target.deliver(from, whole);
    log.info({ systemId: s.systemId, from, to, text, messageId, delivered }, 'SMSC: submit_sm');
    if ((sm.registeredDelivery & 0x03) === 0) return;
    // Receipt to the submitting ESME (source and destination swapped), Appendix B text and TLVs.
    const submittedAt = Date.now();
    const send = (): void => {
      const esme = s.mode && !s.socket.destroyed ? s : [...sessions].find((x) => x.systemId === s.systemId && x.mode !== 'transmitter');
      if (!esme) return;
      const receipt = formatReceipt({ messageId, stat: delivered ? 'DELIVRD' : 'UNDELIV', err: delivered ? '000' : '001', submitted: submittedAt, done: Date.now(), text });
      deliverTo(esme, to, from, receipt.text, ESM_RECEIPT, receipt.tlvs);
    };
    if (options.receiptDelayMs) setTimeout(send, options.receiptDelayMs).unref();
    else setImmediate(send);
  };

  const bind = (s: Session, pdu: Pdu): void => {
    const [respId, mode] = BIND_RESP[pdu.commandId] as [number, Session['mode']];
    let status = 0;
    let systemId = '';
    try {
      const req = decodeBind(pdu.body);
      systemId = req.systemId;
      if (s.mode) status = STATUS.RALYBND;
      else if (options.systemId !== undefined && req.systemId !== options.systemId) status = STATUS.RINVSYSID;
      else if (options.password !== undefined && req.password !== options.password) status = STATUS.RINVPASWD;
    } catch {
      status = STATUS.RSYSERR;
    }
    write(s, respId, Buffer.from('CONTINUUM-SIM\u0000', 'latin1'), status, pdu.sequence);
    log.info({ systemId, mode, ok: status === 0 }, 'SMSC: bind');
    if (status !== 0) return;
    s.mode = mode;
    s.systemId = systemId;
    flushHeld();
  };

  const handle = (s: Session, pdu: Pdu): void => {
    if (isResponse(pdu.commandId)) return; // deliver_sm_resp, enquire_link_resp: nothing waits on them
    if (BIND_RESP[pdu.commandId]) return bind(s, pdu);
    switch (pdu.commandId) {
      case CMD.enquire_link:
        return write(s, CMD.enquire_link_resp, undefined, 0, pdu.sequence);
      case CMD.unbind:
        s.mode = undefined;
        write(s, CMD.unbind_resp, undefined, 0, pdu.sequence);
        s.socket.end();
        return;
      case CMD.submit_sm:
        if (s.mode !== 'transmitter' && s.mode !== 'transceiver') return write(s, CMD.submit_sm_resp, Buffer.from([0]), STATUS.RINVBNDSTS, pdu.sequence);
        return submit(s, pdu);
      default:
        write(s, CMD.generic_nack, undefined, STATUS.RINVCMDID, pdu.sequence);
    }
  };

  const server: Server = createServer((socket) => {
    const s: Session = { socket, sequence: 0 };
    sessions.add(s);
    const reader = new PduReader();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const pdu of reader.push(chunk)) handle(s, pdu);
      } catch (err) {
        log.warn({ systemId: s.systemId, err: (err as Error).message }, 'SMSC: unframeable input, closing the session');
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const where = server.address() as { address: string; port: number };

  return {
    host: where.address,
    port: where.port,
    get bound() {
      return [...sessions].filter((s) => s.mode).map((s) => s.systemId ?? '');
    },
    submitted,
    handset(number, onText) {
      const key = digits(number);
      if (subscribers.has(key)) throw new Error(`number ${number} is already in use`);
      const sub: Subscriber & { deliver(from: string, text: string): void } = {
        number,
        offline: false,
        received: [],
        deliver(from, text) {
          sub.received.push({ from, text });
          try {
            onText?.(text, from, sub);
          } catch (err) {
            log.warn({ number, from, err: (err as Error).message }, 'SMSC: handset failed on a text');
          }
        },
        send(to, text, onReport) {
          const id = (nextId++).toString(16).padStart(8, '0');
          const ok = mobileOriginated(number, to, text);
          if (onReport) setImmediate(() => onReport(ok));
          return id;
        },
        close() {
          subscribers.delete(key);
        },
      };
      subscribers.set(key, sub);
      return sub;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
