/**
 * The small request/response vocabulary between our CoAP server (server.ts) and the device API
 * handlers: a parsed request with the options the handlers read, and a reply to encode.
 * Encoding and decoding of the wire format is coap-packet's (RFC 7252 §3).
 */
import type { AddressInfo } from 'node:net';
import type { ParsedPacket } from 'coap-packet';

export interface CoapOption {
  readonly name: string | number;
  readonly value: Buffer;
}

/** Transmission parameters of RFC 7252 §4.8 (defaults) and the derived times of §4.8.2. */
export const ACK_TIMEOUT_MS = 2000;
export const ACK_RANDOM_FACTOR = 1.5;
export const MAX_RETRANSMIT = 4;
/** RFC 7252 §4.8.2: MAX_TRANSMIT_SPAN (45 s) + MAX_RTT (202 s). */
export const EXCHANGE_LIFETIME_MS = 247_000;

/**
 * Largest payload we put in one datagram (RFC 7252 §4.6: keep messages under the path MTU; 1024
 * is the largest Block2 size, RFC 7959 §2.2). Bigger responses go block-wise (block2.ts).
 */
export const MAX_PAYLOAD_BYTES = 1024;

/** Content-Format numbers (RFC 7252 §12.3) the device API speaks. */
export const CONTENT_FORMAT = { json: 50, senmlJson: 110, octetStream: 42 } as const;
const MEDIA_TYPES: ReadonlyMap<number, string> = new Map([
  // Raw bytes for a profile's payload decoder (docs/DEVICE-API.md).
  [CONTENT_FORMAT.octetStream, 'application/octet-stream'],
  [CONTENT_FORMAT.json, 'application/json'],
  [CONTENT_FORMAT.senmlJson, 'application/senml+json'],
]);

const METHODS: Readonly<Record<string, string>> = {
  '0.01': 'GET',
  '0.02': 'POST',
  '0.03': 'PUT',
  '0.04': 'DELETE',
  '0.05': 'FETCH',
  '0.06': 'PATCH',
  '0.07': 'iPATCH',
};

export interface CoapRequest {
  readonly rsinfo: AddressInfo;
  /** `address:port` of the client endpoint. */
  readonly remote: string;
  readonly messageId: number;
  readonly token: Buffer;
  readonly confirmable: boolean;
  /** e.g. '0.02' */
  readonly code: string;
  /** 'GET', 'POST', … or undefined for a request code we have no name for. */
  readonly method: string | undefined;
  /** '/' + the Uri-Path segments joined by '/' (RFC 7252 §6.5). */
  readonly path: string;
  /** The Uri-Query options joined by '&'. */
  readonly query: string;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

/** What a handler answers: a response code, options and an optional payload. */
export interface CoapReply {
  readonly code: string;
  readonly payload?: Buffer;
  readonly options?: readonly CoapOption[];
}

/** A client endpoint as one string: the dedup cache's, the retransmitter's and the logs' key. */
export function remoteOf(rsinfo: AddressInfo): string {
  return `${rsinfo.address}:${rsinfo.port}`;
}

/**
 * One message of an endpoint (message ids are per endpoint, RFC 7252 §4.4): the key that matches
 * an empty ACK or RST to the Confirmable message it settles.
 */
export function messageKey(remote: string, messageId: number): string {
  return `${remote}/${messageId}`;
}

export function requestFrom(packet: ParsedPacket, rsinfo: AddressInfo, remote = remoteOf(rsinfo)): CoapRequest {
  const paths: string[] = [];
  const queries: string[] = [];
  for (const o of packet.options) {
    if (o.name === 'Uri-Path') paths.push(o.value.toString());
    else if (o.name === 'Uri-Query') queries.push(o.value.toString());
  }
  return {
    rsinfo,
    remote,
    messageId: packet.messageId,
    token: packet.token,
    confirmable: packet.confirmable,
    code: packet.code,
    method: METHODS[packet.code],
    path: `/${paths.join('/')}`,
    query: queries.join('&'),
    options: packet.options,
    payload: packet.payload,
  };
}

/** The path and query as one string, e.g. for keys. */
export function urlOf(req: CoapRequest): string {
  return req.query === '' ? req.path : `${req.path}?${req.query}`;
}

export function optionOf(options: readonly CoapOption[], name: string | number): Buffer | undefined {
  for (const o of options) if (o.name === name) return o.value;
  return undefined;
}

/** An unsigned integer option (RFC 7252 §3.2 uint: big-endian, leading zeros dropped). */
export function uintOf(options: readonly CoapOption[], name: string | number): number | undefined {
  const value = optionOf(options, name);
  if (value === undefined || value.length > 4) return undefined;
  let n = 0;
  for (const byte of value) n = n * 256 + byte;
  return n;
}

export function encodeUint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

/** The media type of a Content-Format number, or undefined if the device API does not speak it. */
export function mediaTypeOf(format: number): string | undefined {
  return MEDIA_TYPES.get(format);
}
