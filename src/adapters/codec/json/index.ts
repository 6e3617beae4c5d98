/**
 * ThingsBoard's JSON telemetry forms, so existing firmware works unchanged:
 *   {"k":v,…}                       one reading stamped with the arrival time
 *   {"ts":MS,"values":{"k":v,…}}    one reading with the device's timestamp
 *   [ either of the above, … ]      several readings in one message
 */
import { PlatformError } from '../../../domain/errors.js';
import type { JsonValue, Point } from '../../../domain/telemetry.js';
import type { Codec } from '../../../ports.js';

type JsonObject = { [key: string]: JsonValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(payload: Buffer): JsonValue {
  try {
    return JSON.parse(payload.toString('utf8')) as JsonValue;
  } catch (err) {
    throw new PlatformError('MALFORMED_PAYLOAD', (err as Error).message);
  }
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

export const jsonCodec: Codec = {
  name: 'json',
  contentTypes: ['application/json', 'text/plain'],
  decodeTelemetry: decodeJsonTelemetry,
  decodeAttributes: (payload) => decodeJsonObject(payload, 'attributes'),
};
