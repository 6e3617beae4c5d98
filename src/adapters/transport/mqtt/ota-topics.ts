/**
 * ThingsBoard's MQTT OTA topics (device API v2): the device asks for chunk n of its assigned
 * firmware by publishing the chunk size (ASCII decimal; empty = the whole package) to
 * `v2/fw/request/{requestId}/chunk/{n}` and receives the bytes, raw, on
 * `v2/fw/response/{requestId}/chunk/{n}` (it subscribes `v2/fw/response/+/chunk/+`); `sw` for
 * software. A refused request is also answered as text on `v2/fw/error` (`v2/sw/error`).
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
