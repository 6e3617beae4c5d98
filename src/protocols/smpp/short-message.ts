/**
 * The short-message PDUs both sides of an SMS link need, on top of the SMPP 3.4 framing
 * (./pdu.ts): submit_sm and deliver_sm share one mandatory layout (§4.4.1,
 * §4.6.1), so one encoder and one decoder serve the edge's ESME and the simulator's SMSC. Also
 * the bind body an SMSC reads (§4.1.1), optional TLVs (§3.2.4, §5.3) and the delivery receipt
 * text of Appendix B.
 */
import { decodeText, DATA_CODING_GSM, DATA_CODING_UCS2 } from './encoding.js';
import { cString, type Address } from './pdu.js';

export { CMD, encodePdu, isResponse, PduReader, readCString, address, bindBody, type Address, type Pdu } from './pdu.js';
export { encodeText } from './encoding.js';

/** TLV tags used here (§5.3.2.12, §5.3.2.35). */
export const TAG = { receipted_message_id: 0x001e, message_state: 0x0427 } as const;

/** esm_class bits 2–5 = 0001: the deliver_sm is an SMSC delivery receipt (§5.2.12). */
export const ESM_RECEIPT = 0x04;
export const ESM_UDHI = 0x40;

export interface ShortMessage {
  readonly serviceType: string;
  readonly source: Address;
  readonly destination: Address;
  readonly esmClass: number;
  /** Bit 0 set: the ESME wants an SMSC delivery receipt (§5.2.17). */
  readonly registeredDelivery: number;
  readonly dataCoding: number;
  readonly shortMessage: Buffer;
  readonly tlvs: ReadonlyMap<number, Buffer>;
}

/** Cursor over a PDU body; reading past the end is a malformed PDU (RangeError). */
class BodyReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  cstr(max: number, field: string): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0 || end - this.at + 1 > max) throw new RangeError(`${field}: not a C-octet string of at most ${max} octets`);
    const value = this.buf.subarray(this.at, end).toString('latin1');
    this.at = end + 1;
    return value;
  }
  u8(field: string): number {
    if (this.at >= this.buf.length) throw new RangeError(`${field}: body too short`);
    return this.buf[this.at++] as number;
  }
  bytes(n: number, field: string): Buffer {
    if (this.at + n > this.buf.length) throw new RangeError(`${field}: body too short`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  get rest(): number {
    return this.buf.length - this.at;
  }
}

export function encodeSm(sm: Omit<ShortMessage, 'serviceType' | 'tlvs'> & { tlvs?: ReadonlyMap<number, Buffer> }): Buffer {
  if (sm.shortMessage.length > 254) throw new RangeError('short_message over 254 octets');
  const tlvs = [...(sm.tlvs ?? new Map<number, Buffer>())].map(([tag, value]) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(tag, 0);
    head.writeUInt16BE(value.length, 2);
    return Buffer.concat([head, value]);
  });
  return Buffer.concat([
    cString('', 6, 'service_type'),
    Buffer.from([sm.source.ton, sm.source.npi]),
    cString(sm.source.addr, 21, 'source_addr'),
    Buffer.from([sm.destination.ton, sm.destination.npi]),
    cString(sm.destination.addr, 21, 'destination_addr'),
    // esm_class, protocol_id, priority_flag
    Buffer.from([sm.esmClass, 0, 0]),
    cString('', 17, 'schedule_delivery_time'),
    cString('', 17, 'validity_period'),
    // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id, sm_length
    Buffer.from([sm.registeredDelivery, 0, sm.dataCoding, 0, sm.shortMessage.length]),
    sm.shortMessage,
    ...tlvs,
  ]);
}

/** Decodes a submit_sm or deliver_sm body; throws RangeError when it is malformed. */
export function decodeSm(body: Buffer): ShortMessage {
  const r = new BodyReader(body);
  const serviceType = r.cstr(6, 'service_type');
  const source = { ton: r.u8('source_addr_ton'), npi: r.u8('source_addr_npi'), addr: r.cstr(21, 'source_addr') };
  const destination = { ton: r.u8('dest_addr_ton'), npi: r.u8('dest_addr_npi'), addr: r.cstr(21, 'destination_addr') };
  const esmClass = r.u8('esm_class');
  r.u8('protocol_id');
  r.u8('priority_flag');
  r.cstr(17, 'schedule_delivery_time');
  r.cstr(17, 'validity_period');
  const registeredDelivery = r.u8('registered_delivery');
  r.u8('replace_if_present_flag');
  const dataCoding = r.u8('data_coding');
  r.u8('sm_default_msg_id');
  const shortMessage = Buffer.from(r.bytes(r.u8('sm_length'), 'short_message'));
  const tlvs = new Map<number, Buffer>();
  while (r.rest >= 4) {
    const head = r.bytes(4, 'TLV');
    tlvs.set(head.readUInt16BE(0), Buffer.from(r.bytes(head.readUInt16BE(2), 'TLV value')));
  }
  return { serviceType, source, destination, esmClass, registeredDelivery, dataCoding, shortMessage, tlvs };
}

/** The text of a short message; a message_payload TLV (0x0424, §5.3.2.32) is used when sm_length is 0. */
export function smText(sm: ShortMessage): string {
  const payload = sm.shortMessage.length === 0 ? sm.tlvs.get(0x0424) : undefined;
  const bytes = payload ?? sm.shortMessage;
  const udhi = (sm.esmClass & ESM_UDHI) !== 0;
  // 0 SMSC default alphabet (GSM 03.38 here), 8 UCS2; 1 IA5 and 3 Latin-1 read as Latin-1 (§5.2.19).
  if (sm.dataCoding === DATA_CODING_GSM || sm.dataCoding === DATA_CODING_UCS2) return decodeText(bytes, sm.dataCoding, udhi);
  return (udhi ? bytes.subarray((bytes[0] ?? 0) + 1) : bytes).toString('latin1');
}

/** "+4917…" for an international number (TON 1), the digits as sent otherwise. */
export function addressText(a: Address): string {
  return a.ton === 1 && /^\d+$/.test(a.addr) ? `+${a.addr}` : a.addr;
}

export interface BindRequest {
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
  readonly interfaceVersion: number;
}

export function decodeBind(body: Buffer): BindRequest {
  const r = new BodyReader(body);
  const systemId = r.cstr(16, 'system_id');
  const password = r.cstr(9, 'password');
  const systemType = r.cstr(13, 'system_type');
  return { systemId, password, systemType, interfaceVersion: r.u8('interface_version') };
}

export interface Receipt {
  readonly messageId: string;
  /** DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD (Appendix B). */
  readonly stat: string;
  readonly delivered: boolean;
  readonly err: string;
}

/** message_state values (§5.2.28) for the receipt's TLV, by Appendix B stat name. */
const MESSAGE_STATE: Record<string, number> = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

function smppDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** Receipt text in the Appendix B format, plus the receipted_message_id and message_state TLVs. */
export function formatReceipt(r: { messageId: string; stat: string; err?: string; submitted: number; done: number; text: string }): { text: string; tlvs: Map<number, Buffer> } {
  const delivered = r.stat === 'DELIVRD' ? '001' : '000';
  const text = `id:${r.messageId} sub:001 dlvrd:${delivered} submit date:${smppDate(r.submitted)} done date:${smppDate(r.done)} stat:${r.stat} err:${r.err ?? '000'} text:${r.text.slice(0, 20)}`;
  const tlvs = new Map<number, Buffer>([
    [TAG.receipted_message_id, Buffer.from(`${r.messageId}\u0000`, 'latin1')],
    [TAG.message_state, Buffer.from([MESSAGE_STATE[r.stat] ?? 7])],
  ]);
  return { text, tlvs };
}

/** Reads a delivery receipt: the TLVs when present (SMPP 3.4 §5.3.2.12), the Appendix B text otherwise. */
export function parseReceipt(sm: ShortMessage): Receipt | undefined {
  const text = smText(sm);
  const idTlv = sm.tlvs.get(TAG.receipted_message_id);
  const stateTlv = sm.tlvs.get(TAG.message_state);
  const idText = /\bid:(\S+)/i.exec(text)?.[1];
  const messageId = idTlv ? idTlv.toString('latin1').replace(/\u0000.*$/s, '') : idText;
  if (messageId === undefined) return undefined;
  const stateName = stateTlv ? Object.keys(MESSAGE_STATE).find((k) => MESSAGE_STATE[k] === stateTlv[0]) : undefined;
  const stat = stateName ?? /\bstat:(\w+)/i.exec(text)?.[1]?.toUpperCase() ?? 'UNKNOWN';
  return { messageId, stat, delivered: stat === 'DELIVRD', err: /\berr:(\w+)/i.exec(text)?.[1] ?? '' };
}
