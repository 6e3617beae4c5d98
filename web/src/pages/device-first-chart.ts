/**
 * The device page's first chart, in one round trip instead of two. The page opens on the shortest
 * range that holds the key's whole history (chart.ts fitRange), which needs the key's oldest
 * point; when that history is longer than 30 days the range is a year, read as daily averages
 * (from the store's hourly roll-ups: 366 buckets, whatever the history holds). So that year read
 * is made beside the oldest-point read, not after it: a device with a long history (issue 20's
 * year of 1-minute data) has its chart data when its range is known. A shorter history pays one
 * extra small read (a year of averages over a few days of points) and reads its range as before.
 */
import { get, query, type TsValue } from '../api.js';
import { autoInterval, fitRange, RANGES } from '../chart.js';

const YEAR = RANGES[RANGES.length - 1] as (typeof RANGES)[number];

export interface FirstChart {
  /** The range to open on (a RANGES value). */
  readonly range: (typeof RANGES)[number][0];
  /** The year of automatic averages, read already; only when `range` is the year. */
  readonly year?: { readonly key: string; readonly from: number; readonly to: number; readonly interval: number; readonly body: Record<string, TsValue[]>; readonly started: number };
}

/** `id`: the device id, URI-encoded. A failed year read only costs the shortcut. */
export async function firstChart(id: string, key: string): Promise<FirstChart> {
  const started = performance.now();
  const to = Date.now();
  const interval = autoInterval(YEAR[2]) ?? 86_400_000;
  // Whole days (UTC), as loadChart buckets them: hour-aligned reads use the hourly roll-ups.
  const from = Math.floor((to - YEAR[2]) / interval) * interval;
  const [oldest, body] = await Promise.all([
    get<Record<string, TsValue[] | undefined>>(`/api/devices/${id}/telemetry${query({ keys: key, order: 'asc', limit: 1 })}`).catch(() => ({}) as Record<string, TsValue[] | undefined>),
    get<Record<string, TsValue[]>>(`/api/devices/${id}/telemetry${query({ keys: key, from, to, interval, agg: 'avg' })}`).catch(() => undefined),
  ]);
  const range = fitRange(oldest[key]?.[0]?.ts, to)[0];
  return range === YEAR[0] && body ? { range, year: { key, from, to, interval, body, started } } : { range };
}
