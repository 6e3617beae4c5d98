/** How a telemetry value is kept in the (t, n, s) columns of ts_kv and ts_latest, and read back. */
import type { TelemetryValue, TsValue } from '../../../domain/telemetry.js';
import type { TelemetryRow } from '../../../ports.js';
import { checkTs, tagOf, ValueTag } from '../shared.js';

export interface Encoded {
  readonly deviceId: string;
  readonly key: string;
  readonly ts: number;
  readonly t: ValueTag;
  readonly n: number | null;
  readonly s: string | null;
}

/** Validates (INVALID_TELEMETRY, NON_FINITE_NUMBER) and encodes one row. */
export function encodeRow(r: TelemetryRow): Encoded {
  checkTs(r.ts);
  const t = tagOf(r.value);
  const base = { deviceId: r.deviceId, key: r.key, ts: r.ts, t };
  switch (t) {
    case ValueTag.Number:
      return { ...base, n: r.value as number, s: null };
    case ValueTag.Boolean:
      return { ...base, n: r.value ? 1 : 0, s: null };
    case ValueTag.String:
      return { ...base, n: null, s: r.value as string };
    default:
      return { ...base, n: null, s: r.json ?? JSON.stringify(r.value) };
  }
}

export interface ValueColumns {
  t: number;
  n: number | null;
  s: string | null;
}

export function decodeValue(r: ValueColumns): TelemetryValue {
  switch (r.t) {
    case ValueTag.Number:
      return r.n as number;
    case ValueTag.Boolean:
      return r.n !== 0;
    case ValueTag.String:
      return r.s ?? '';
    default:
      return JSON.parse(r.s ?? 'null') as TelemetryValue;
  }
}

export const tsValue = (r: ValueColumns & { ts: number }): TsValue => ({ ts: r.ts, value: decodeValue(r) });

/**
 * The batch as the database will keep it: the last row of each (device, key, ts) wins, sorted by
 * that key so concurrent batches lock rows in the same order (no deadlocks between them).
 */
export function dedupe(rows: readonly Encoded[]): Encoded[] {
  const byKey = new Map<string, Encoded>();
  for (const r of rows) byKey.set(`${r.deviceId}\u0000${r.key}\u0000${r.ts}`, r);
  return [...byKey.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.ts - b.ts));
}

/** Column arrays for `unnest($1::text[], $2::text[], $3::bigint[], $4::smallint[], $5::float8[], $6::text[])`. */
export function columns(rows: readonly Encoded[]): unknown[] {
  return [rows.map((r) => r.deviceId), rows.map((r) => r.key), rows.map((r) => r.ts), rows.map((r) => r.t), rows.map((r) => r.n), rows.map((r) => r.s)];
}
