/**
 * The CoAP bytes of one telemetry request (RFC 7252), encoded by hand: a Confirmable POST with
 * Uri-Path api/v1/{token}/telemetry, Content-Format 50 (application/json) and a 4-byte token.
 * Everything but the message id, token and payload is fixed per device and built once.
 */
const CON = 0;
const ACK = 2;
const RST = 3;
const POST = 0x02;
const URI_PATH = 11;
const CONTENT_FORMAT = 12;
const JSON_FORMAT = 50;
const TOKEN_LENGTH = 4;

function optionHeader(delta: number, length: number): number[] {
  const nibble = (v: number): [number, number[]] =>
    v < 13 ? [v, []] : v < 269 ? [13, [v - 13]] : [14, [(v - 269) >> 8, (v - 269) & 0xff]];
  const [d, dExt] = nibble(delta);
  const [l, lExt] = nibble(length);
  return [(d << 4) | l, ...dExt, ...lExt];
}

/** The options of a telemetry POST for one device token (everything after the token). */
export function telemetryOptions(deviceToken: string): Buffer {
  const bytes: number[] = [];
  let last = 0;
  for (const segment of ['api', 'v1', deviceToken, 'telemetry']) {
    const value = Buffer.from(segment, 'utf8');
    bytes.push(...optionHeader(URI_PATH - last, value.length), ...value);
    last = URI_PATH;
  }
  bytes.push(...optionHeader(CONTENT_FORMAT - last, 1), JSON_FORMAT);
  return Buffer.from(bytes);
}

export function encodeRequest(options: Buffer, messageId: number, token: number, payload: string): Buffer {
  const buf = Buffer.allocUnsafe(4 + TOKEN_LENGTH + options.length + 1 + payload.length);
  buf[0] = 0x40 | (CON << 4) | TOKEN_LENGTH;
  buf[1] = POST;
  buf.writeUInt16BE(messageId, 2);
  buf.writeUInt32BE(token >>> 0, 4);
  let o = 4 + TOKEN_LENGTH;
  o += options.copy(buf, o);
  buf[o++] = 0xff;
  buf.write(payload, o, 'latin1');
  return buf;
}

/** An empty ACK for a separate (Confirmable) response. */
export function emptyAck(messageId: number): Buffer {
  const buf = Buffer.alloc(4);
  buf[0] = 0x40 | (ACK << 4);
  buf.writeUInt16BE(messageId, 2);
  return buf;
}

export interface CoapReply {
  readonly kind: 'ack' | 'con' | 'non' | 'rst';
  /** 0 for an empty message; otherwise class * 32 + detail (2.04 = 0x44). */
  readonly code: number;
  readonly messageId: number;
  /** The request token, or -1 when the message has none. */
  readonly token: number;
}

export function decodeReply(msg: Buffer): CoapReply | undefined {
  if (msg.length < 4 || msg[0]! >> 6 !== 1) return undefined;
  const type = (msg[0]! >> 4) & 3;
  const tkl = msg[0]! & 0x0f;
  const kind = type === ACK ? 'ack' : type === RST ? 'rst' : type === CON ? 'con' : 'non';
  const token = tkl === TOKEN_LENGTH && msg.length >= 8 ? msg.readUInt32BE(4) : -1;
  return { kind, code: msg[1]!, messageId: msg.readUInt16BE(2), token };
}

export function isSuccess(code: number): boolean {
  return code >> 5 === 2;
}
