import { PlatformError } from './errors.js';
import { checkJsonValue, checkText, DEFAULT_PAYLOAD_LIMITS, FORBIDDEN_KEY, type PayloadLimits } from './payload-limits.js';

/** A JSON value as devices send it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What one time-series point may hold: number, boolean, string or a JSON document. */
export type TelemetryValue = number | boolean | string | JsonValue[] | { [key: string]: JsonValue };

/** One reading: the canonical unit every transport and codec produces. */
export interface Point {
  readonly key: string;
  readonly ts: number;
  readonly value: TelemetryValue;
}

/** A stored point as queries return it. */
export interface TsValue {
  readonly ts: number;
  readonly value: TelemetryValue;
}

export type Aggregation = 'avg' | 'min' | 'max' | 'sum' | 'count';
export const AGGREGATIONS: readonly Aggregation[] = ['avg', 'min', 'max', 'sum', 'count'];

export const MAX_KEY_LENGTH = 255;
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;

/** Limits that validation applies to every incoming point, whatever the transport and codec. */
export interface PointLimits extends PayloadLimits {
  readonly maxKeyLength: number;
  readonly maxFutureSkewMs: number;
}

export const DEFAULT_POINT_LIMITS: PointLimits = {
  ...DEFAULT_PAYLOAD_LIMITS,
  maxKeyLength: MAX_KEY_LENGTH,
  maxFutureSkewMs: MAX_FUTURE_SKEW_MS,
};

/**
 * Rejects a whole message if any point in it is invalid: a device gets one clear answer,
 * and a half-stored message never happens.
 */
export function validatePoints(points: readonly Point[], now: number, limits: PointLimits = DEFAULT_POINT_LIMITS): void {
  if (points.length > limits.maxValuesPerMessage) {
    throw new PlatformError('TOO_MANY_VALUES', `${points.length} points > ${limits.maxValuesPerMessage}`);
  }
  for (const p of points) {
    if (p.key.length === 0) throw new PlatformError('INVALID_TELEMETRY', 'empty key');
    if (p.key.length > limits.maxKeyLength) {
      throw new PlatformError('KEY_TOO_LONG', `key "${p.key.slice(0, 32)}…" has ${p.key.length} characters`);
    }
    if (p.key === FORBIDDEN_KEY) throw new PlatformError('MALFORMED_PAYLOAD', `key "${FORBIDDEN_KEY}" is not allowed`);
    if (!p.key.isWellFormed()) throw new PlatformError('INVALID_TEXT', 'key holds a lone surrogate');
    if (!Number.isSafeInteger(p.ts) || p.ts < 0) {
      throw new PlatformError('INVALID_TELEMETRY', `timestamp ${String(p.ts)} of "${p.key}" is not a millisecond epoch`);
    }
    if (p.ts > now + limits.maxFutureSkewMs) {
      throw new PlatformError('TIMESTAMP_IN_FUTURE', `ts ${p.ts} of "${p.key}"`);
    }
    checkValue(p, limits);
  }
}

/** Every codec's values, not only JSON's: Sparkplug strings and rule-derived points come here too. */
function checkValue(p: Point, limits: PointLimits): void {
  const value = p.value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PlatformError('NON_FINITE_NUMBER', `"${p.key}" is ${String(value)}`);
  } else if (typeof value === 'string') {
    checkText(value, limits, `"${p.key}"`);
  } else if (typeof value === 'object' && value !== null) {
    // A point's value sits one level below the message object it came from.
    checkJsonValue(value, limits, 2);
  }
}

/** Turns a JSON value from a device into a telemetry value; null is not a reading. */
export function toTelemetryValue(value: JsonValue): TelemetryValue | undefined {
  if (value === null) return undefined;
  return value;
}
