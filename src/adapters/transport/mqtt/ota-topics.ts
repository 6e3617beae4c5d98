/**
 * ThingsBoard's MQTT OTA topics (device API v2): the device asks for chunk n of its assigned
 * firmware by publishing the chunk size (ASCII decimal; empty = the whole package) to
 * `v2/fw/request/{requestId}/chunk/{n}` and receives the bytes, raw, on
 * `v2/fw/response/{requestId}/chunk/{n}` (it subscribes `v2/fw/response/+/chunk/+`); `sw` for
 * software. A refused request is also answered as text on `v2/fw/error` (`v2/sw/error`).
 *
 * Our gateway extension (ThingsBoard has none): a gateway fetches the package assigned to one
 * of its children over its own session, `v1/gateway/fw/request` with
 * `{"device","requestId","chunk","size","title"?,"version"?}` → the raw bytes on
 * `v1/gateway/fw/response/{requestId}/chunk/{n}`, refusals as JSON on `v1/gateway/fw/error`
 * (`sw` for software). docs/OTA.md "Through the edge".
 */
import { PlatformError } from '../../../domain/errors.js';
import type { OtaType } from '../../../domain/ota.js';
import type { OtaChunkRequest } from '../../../ports/device-api.js';

export const OTA_PREFIX = 'v2/';

const REQUEST = /^v2\/(fw|sw)\/request\/(\d{1,10})\/chunk\/(\d{1,10})$/;
/** Chunk sizes are small numbers; anything longer is not one. */
const SIZE = /^\d{1,10}$/;

export interface OtaTopicRequest {
  readonly request: OtaChunkRequest;
  readonly responseTopic: string;
  readonly errorTopic: string;
}

const typeOf = (p: string): OtaType => (p === 'fw' ? 'firmware' : 'software');

/** The chunk request a PUBLISH carries; undefined when the topic is not a request topic. */
export function parseOtaRequest(topic: string, payload: Buffer): OtaTopicRequest | undefined {
  const m = REQUEST.exec(topic);
  if (!m) return undefined;
  const [, p, requestId, chunk] = m as unknown as [string, 'fw' | 'sw', string, string];
  const text = payload.length > 16 ? '' : payload.toString('latin1').trim();
  if (payload.length > 16 || (text !== '' && !SIZE.test(text))) throw new PlatformError('BAD_REQUEST', 'the payload of an OTA chunk request is the chunk size in bytes');
  return {
    request: { type: typeOf(p), chunkSize: text === '' ? 0 : Number(text), chunk: Number(chunk) },
    responseTopic: `v2/${p}/response/${requestId}/chunk/${chunk}`,
    errorTopic: `v2/${p}/error`,
  };
}

export const GATEWAY_OTA_REQUEST = /^v1\/gateway\/(fw|sw)\/request$/;

export interface GatewayOtaTopicRequest extends OtaTopicRequest {
  /** The child's name, as in every gateway message. */
  readonly device: string;
  readonly requestId: number;
}

const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
const optionalText = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > 255) throw new PlatformError('BAD_REQUEST', `"${what}" must be a string of at most 255 characters`);
  return v;
};

/** A gateway's chunk request for a child; undefined when the topic is not one. */
export function parseGatewayOtaRequest(topic: string, payload: Buffer): GatewayOtaTopicRequest | undefined {
  const m = GATEWAY_OTA_REQUEST.exec(topic);
  if (!m) return undefined;
  const p = m[1] as 'fw' | 'sw';
  // Small by nature: a name, two numbers, a title and a version.
  if (payload.length > 2048) throw new PlatformError('PAYLOAD_TOO_LARGE', 'a gateway OTA chunk request is at most 2048 bytes');
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new PlatformError('MALFORMED_PAYLOAD', 'a gateway OTA chunk request is a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PlatformError('MALFORMED_PAYLOAD', 'a gateway OTA chunk request is a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.device !== 'string' || b.device.length === 0 || b.device.length > 255) throw new PlatformError('BAD_REQUEST', '"device" is required (1..255 characters)');
  if (!isUint(b.requestId, 0xffffffff)) throw new PlatformError('BAD_REQUEST', '"requestId" must be an integer 0..4294967295');
  if (!isUint(b.chunk, 9_999_999_999)) throw new PlatformError('BAD_REQUEST', '"chunk" must be a non-negative integer');
  if (b.size !== undefined && !isUint(b.size, 9_999_999_999)) throw new PlatformError('BAD_REQUEST', '"size" must be a non-negative integer');
  const title = optionalText(b.title, 'title');
  const version = optionalText(b.version, 'version');
  return {
    device: b.device,
    requestId: b.requestId,
    request: { type: typeOf(p), chunkSize: (b.size as number | undefined) ?? 0, chunk: b.chunk, ...(title !== undefined ? { title } : {}), ...(version !== undefined ? { version } : {}) },
    responseTopic: `v1/gateway/${p}/response/${b.requestId}/chunk/${b.chunk}`,
    errorTopic: `v1/gateway/${p}/error`,
  };
}

/** A gateway's subscriptions for its children's chunks and refusals. */
export function gatewayOtaFeedOf(filter: string): 'gwFwResponse' | 'gwSwResponse' | 'gwFwError' | 'gwSwError' | undefined {
  switch (filter) {
    case 'v1/gateway/fw/response/+/chunk/+':
    case 'v1/gateway/fw/response/#':
      return 'gwFwResponse';
    case 'v1/gateway/sw/response/+/chunk/+':
    case 'v1/gateway/sw/response/#':
      return 'gwSwResponse';
    case 'v1/gateway/fw/error':
      return 'gwFwError';
    case 'v1/gateway/sw/error':
      return 'gwSwError';
    default:
      return undefined;
  }
}

/** The subscriptions a device makes for OTA answers: `fw`/`sw` responses and errors. */
export function otaFeedOf(filter: string): 'fwResponse' | 'swResponse' | 'fwError' | 'swError' | undefined {
  switch (filter) {
    case 'v2/fw/response/+/chunk/+':
    case 'v2/fw/response/#':
      return 'fwResponse';
    case 'v2/sw/response/+/chunk/+':
    case 'v2/sw/response/#':
      return 'swResponse';
    case 'v2/fw/error':
      return 'fwError';
    case 'v2/sw/error':
      return 'swError';
    default:
      return undefined;
  }
}
