/**
 * SenML JSON (RFC 8428). Base fields carry over to later records (§4.1); times are seconds,
 * and a time below 2^28 is relative to now (§4.5.3). Names are base name + name (§4.5.1).
 */
import { PlatformError } from '../../../domain/errors.js';
import type { JsonValue, Point, TelemetryValue } from '../../../domain/telemetry.js';
import type { Codec } from '../../../ports.js';
import { parseJson } from '../../../protocols/json/telemetry.js';

const RELATIVE_TIME_LIMIT = 2 ** 28;

interface Base {
  bn: string;
  bt: number;
  bv: number;
}

function num(record: Record<string, JsonValue>, field: string): number | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new PlatformError('MALFORMED_PAYLOAD', `SenML "${field}" must be a number`);
  return value;
}

function str(record: Record<string, JsonValue>, field: string): string | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new PlatformError('MALFORMED_PAYLOAD', `SenML "${field}" must be a string`);
  return value;
}

function recordValue(record: Record<string, JsonValue>, base: Base): TelemetryValue | undefined {
  const v = num(record, 'v');
  if (v !== undefined) return v + base.bv;
  const vs = str(record, 'vs');
  if (vs !== undefined) return vs;
  if (record.vb !== undefined) {
    if (typeof record.vb !== 'boolean') throw new PlatformError('MALFORMED_PAYLOAD', 'SenML "vb" must be a boolean');
    return record.vb;
  }
  const vd = str(record, 'vd');
  if (vd !== undefined) return vd;
  const sum = num(record, 's');
  return sum;
}

export function decodeSenml(payload: Buffer, now: number): Point[] {
  const body = parseJson(payload); // records become points: validatePoints bounds them
  if (!Array.isArray(body)) throw new PlatformError('MALFORMED_PAYLOAD', 'SenML pack must be a JSON array');
  const base: Base = { bn: '', bt: 0, bv: 0 };
  const points: Point[] = [];
  for (const record of body) {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new PlatformError('MALFORMED_PAYLOAD', 'SenML record must be an object');
    }
    base.bn = str(record, 'bn') ?? base.bn;
    base.bt = num(record, 'bt') ?? base.bt;
    base.bv = num(record, 'bv') ?? base.bv;
    const key = base.bn + (str(record, 'n') ?? '');
    const value = recordValue(record, base);
    if (value === undefined) continue;
    const seconds = base.bt + (num(record, 't') ?? 0);
    const ts = seconds === 0 ? now : Math.abs(seconds) < RELATIVE_TIME_LIMIT ? now + seconds * 1000 : seconds * 1000;
    points.push({ key, ts: Math.round(ts), value });
  }
  return points;
}

/**
 * Attributes in SenML: the last value of each name wins. Defined as own properties: a record
 * named "__proto__" must not become the object's prototype (validation then refuses that key).
 */
function decodeSenmlAttributes(payload: Buffer): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const point of decodeSenml(payload, 0)) {
    Object.defineProperty(out, point.key, { value: point.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export const senmlCodec: Codec = {
  name: 'senml',
  contentTypes: ['application/senml+json'],
  decodeTelemetry: decodeSenml,
  decodeAttributes: decodeSenmlAttributes,
};
