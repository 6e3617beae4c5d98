/**
 * How a telemetry value is kept in a SQLite row: a type tag and one column, so numbers,
 * booleans, strings and JSON documents come back exactly as they went in.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { Aggregation, JsonValue, TelemetryValue } from '../../../domain/telemetry.js';
import { tagOf, ValueTag } from '../shared.js';

export type Stored = [tag: number, value: number | string];

/** `json`: the value serialized by the caller already (TelemetryRow.json). */
export function encode(value: TelemetryValue, json?: string): Stored {
  const tag = tagOf(value);
  switch (tag) {
    case ValueTag.Number:
      return [tag, value as number];
    case ValueTag.Boolean:
      return [tag, value ? 1 : 0];
    case ValueTag.String:
      return [tag, value as string];
    default:
      return [tag, json ?? JSON.stringify(value)];
  }
}

export function decode(tag: number, v: unknown): TelemetryValue {
  switch (tag) {
    case ValueTag.Number:
      return v as number;
    case ValueTag.Boolean:
      return v !== 0;
    case ValueTag.String:
      return v as string;
    case ValueTag.Json:
      return JSON.parse(v as string) as JsonValue[] | { [key: string]: JsonValue };
    default:
      throw new PlatformError('INTERNAL', `unknown value tag ${tag}`);
  }
}

/** Aggregate expressions by name: SQL text comes from this table only, never from the caller. */
export const AGG_SQL: Record<Aggregation, string> = {
  avg: 'avg(v)',
  min: 'min(v)',
  max: 'max(v)',
  sum: 'sum(v)',
  count: 'count(*)',
};

/** Log rows that trigger a merge after the commit that reaches them. */
