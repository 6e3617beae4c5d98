/**
 * The few SMPP 3.4 PDUs an ESME transmitter needs (SMPP 3.4 §4): bind, submit_sm, enquire_link,
 * unbind, generic_nack and their responses, plus deliver_sm_resp for transceiver binds. Written
 * here rather than taken from the `smpp` package so the client is tested against two SMSC
 * implementations we did not write (that package's server and Perl's Net::SMPP).
 */

export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
} as const;

export const HEADER_LENGTH = 16;
/** Larger PDUs are a broken or hostile peer; ours are < 400 octets, an SMSC's rarely over 1 KiB. */
export const MAX_PDU_LENGTH = 64 * 1024;

export interface Pdu {
  readonly commandId: number;
  readonly status: number;
  readonly sequence: number;
  readonly body: Buffer;
}

export function isResponse(commandId: number): boolean {
  return (commandId & 0x80000000) !== 0;
}

export function encodePdu(commandId: number, sequence: number, body: Buffer = Buffer.alloc(0), status = 0): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(HEADER_LENGTH + body.length, 0);
  header.writeUInt32BE(commandId >>> 0, 4);
  header.writeUInt32BE(status >>> 0, 8);
  header.writeUInt32BE(sequence >>> 0, 12);
  return Buffer.concat([header, body]);
}

/** A NUL-terminated ASCII field of at most `max` octets including the NUL (SMPP 3.4 §3.1). */
export function cString(value: string, max: number, field: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError(`${field} must be printable ASCII`);
  if (value.length + 1 > max) throw new RangeError(`${field} is longer than ${max - 1} characters`);
  return Buffer.from(`${value}\u0000`, 'latin1');
}

/** Reads a C-octet string at the start of `buf` (a missing NUL ends at the buffer's end). */
export function readCString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
}

export interface BindParams {
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
}

/** bind_transmitter / bind_transceiver body (§4.1.1): interface_version 0x34, no address_range. */
export function bindBody(p: BindParams): Buffer {
  return Buffer.concat([
    cString(p.systemId, 16, 'systemId'),
    cString(p.password, 9, 'password'),
    cString(p.systemType, 13, 'systemType'),
    Buffer.from([0x34, 0, 0]),
    cString('', 41, 'address_range'),
  ]);
}

export interface Address {
  readonly ton: number;
  readonly npi: number;
  readonly addr: string;
}

/**
 * TON/NPI for an address (§5.2.5, §5.2.6): "+E.164" → international/ISDN, digits → unknown/ISDN,
 * anything else (a sender name like "Continuum") → alphanumeric.
 */
export function address(value: string, field: string, allowAlphanumeric: boolean): Address {
  const v = value.trim();
  if (/^\+\d{1,20}$/.test(v)) return { ton: 1, npi: 1, addr: v.slice(1) };
  if (/^\d{1,20}$/.test(v)) return { ton: 0, npi: 1, addr: v };
  if (allowAlphanumeric && /^[\x20-\x7e]{1,11}$/.test(v)) return { ton: 5, npi: 0, addr: v };
  throw new RangeError(`${field} "${value}" is not a phone number${allowAlphanumeric ? ' or a sender name of up to 11 characters' : ''}`);
}

export interface SubmitParams {
  readonly source: Address;
  readonly destination: Address;
  readonly dataCoding: number;
  /** One part's short_message (≤ 254 octets), UDH included when `udhi`. */
  readonly shortMessage: Buffer;
  readonly udhi: boolean;
}

/** submit_sm body (§4.4.1): immediate delivery, default validity, no delivery receipt. */
export function submitBody(p: SubmitParams): Buffer {
  if (p.shortMessage.length > 254) throw new RangeError('short_message over 254 octets');
  return Buffer.concat([
    cString('', 6, 'service_type'),
    Buffer.from([p.source.ton, p.source.npi]),
    cString(p.source.addr, 21, 'source_addr'),
    Buffer.from([p.destination.ton, p.destination.npi]),
    cString(p.destination.addr, 21, 'destination_addr'),
    // esm_class, protocol_id, priority_flag
    Buffer.from([p.udhi ? 0x40 : 0x00, 0, 0]),
    cString('', 17, 'schedule_delivery_time'),
    cString('', 17, 'validity_period'),
    // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id, sm_length
    Buffer.from([0, 0, p.dataCoding, 0, p.shortMessage.length]),
    p.shortMessage,
  ]);
}

/**
 * Splits a byte stream into PDUs. Keeps the partial tail between calls; throws on a length
 * outside [16, MAX_PDU_LENGTH] since the stream can no longer be framed after that.
 */
export class PduReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Pdu[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Pdu[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length < HEADER_LENGTH || length > MAX_PDU_LENGTH) throw new RangeError(`SMPP command_length ${length} out of range`);
      if (this.buffer.length < length) break;
      out.push({
        commandId: this.buffer.readUInt32BE(4),
        status: this.buffer.readUInt32BE(8),
        sequence: this.buffer.readUInt32BE(12),
        body: Buffer.from(this.buffer.subarray(HEADER_LENGTH, length)),
      });
      this.buffer = this.buffer.subarray(length);
    }
    return out;
  }
}
