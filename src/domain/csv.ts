/**
 * CSV for telemetry exports (RFC 4180 quoting, CRLF line ends), safe to open in a spreadsheet:
 * text that starts with = + - @ tab or CR would be read as a formula (CSV injection), so it is
 * prefixed with a single quote as OWASP suggests. Numbers and booleans are written as they are:
 * they come from the store's types, not from text, so "-3" is the number minus three.
 */
import type { TsValue } from './telemetry.js';

export const CSV_HEADER = 'ts,key,value\r\n';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One text field: neutralised if a spreadsheet would evaluate it, quoted when CSV needs it. */
export function csvText(text: string): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A stored value as a field: numbers and booleans as written, strings and JSON as (safe) text. */
export function csvValue(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return csvText(value);
  return value === null || value === undefined ? '' : csvText(JSON.stringify(value));
}

/** Rows of one key: `ts` as ISO 8601 UTC with milliseconds (lossless, read by spreadsheets). */
export function csvRows(key: string, points: readonly TsValue[]): string {
  const k = csvText(key);
  let out = '';
  for (const p of points) out += `${new Date(p.ts).toISOString()},${k},${csvValue(p.value)}\r\n`;
  return out;
}
