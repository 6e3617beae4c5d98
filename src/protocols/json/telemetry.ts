/**
 * ThingsBoard's JSON telemetry forms, so existing firmware works unchanged:
 *   {"k":v,…}                       one reading stamped with the arrival time
 *   {"ts":MS,"values":{"k":v,…}}    one reading with the device's timestamp
 *   [ either of the above, … ]      several readings in one message
 * Pure parsing of the device API's JSON: the JSON codec (adapters/codec/json) and the gateway
 * service (its envelope nests one such body per child device) both use it.
 */
import { isUtf8 } from 'node:buffer';
import { PlatformError } from '../../domain/errors.js';
import { checkJsonValue, type PayloadLimits } from '../../domain/payload-limits.js';
import type { JsonValue, Point } from '../../domain/telemetry.js';

type JsonObject = { [key: string]: JsonValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every JSON document a device sends goes through here. JSON text is UTF-8 (RFC 8259 §8.1):
 * invalid bytes are refused rather than silently replaced by U+FFFD (isUtf8 is native, ~40 ns
 * for a typical message).
 *
 * The parsed value is not walked here: V8's JSON.parse is iterative, so any depth parses, and
 * what comes out is bounded before it is queued or stored by the one check every codec's output
 * passes — validatePoints for telemetry, AttributeService for attributes (both use
 * domain/payload-limits.ts). Walking it here as well cost ~+40% per message (bench/decode-json.ts).
 * Callers that keep a parsed value for anything else pass `limits` to have it checked here.
 */
export function parseJson(payload: Buffer, limits?: PayloadLimits): JsonValue {
  if (!isUtf8(payload)) throw new PlatformError('INVALID_TEXT', 'payload is not valid UTF-8');
  let body: JsonValue;
  try {
    body = JSON.parse(payload.toString('utf8')) as JsonValue;
  } catch (err) {
    throw new PlatformError('MALFORMED_PAYLOAD', (err as Error).message);
  }
  if (limits) checkJsonValue(body, limits);
  return body;
}

function pushValues(out: Point[], values: JsonObject, ts: number): void {
  for (const key in values) {
    const value = values[key];
    if (value === null || value === undefined) continue;
    out.push({ key, ts, value });
  }
}

function pushEntry(out: Point[], entry: JsonValue, now: number): void {
  if (!isObject(entry)) throw new PlatformError('MALFORMED_PAYLOAD', 'telemetry must be an object or an array of objects');
  const { ts, values } = entry;
  if (ts !== undefined && isObject(values)) {
    if (typeof ts !== 'number') throw new PlatformError('INVALID_TELEMETRY', '"ts" must be a number of milliseconds');
    pushValues(out, values, ts);
  } else {
    pushValues(out, entry, now);
  }
}

/** Decodes one telemetry message in any of the forms above. */
export function decodeJsonTelemetry(payload: Buffer, now: number): Point[] {
  return telemetryFromJson(parseJson(payload), now);
}

/** The same, for a body already parsed (the gateway API nests one per child device). */
export function telemetryFromJson(body: JsonValue, now: number): Point[] {
  const points: Point[] = [];
  if (Array.isArray(body)) for (const entry of body) pushEntry(points, entry, now);
  else pushEntry(points, body, now);
  return points;
}

export function decodeJsonObject(payload: Buffer, what: string): JsonObject {
  const body = parseJson(payload);
  if (!isObject(body)) throw new PlatformError('MALFORMED_PAYLOAD', `${what} must be a JSON object`);
  return body;
}
