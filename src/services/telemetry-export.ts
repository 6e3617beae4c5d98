/**
 * Pages of a device's raw telemetry for exports (no cap on the total): key by key, oldest first,
 * each page read from where the previous one ended (keyset pagination on (key, ts): the store's
 * index, never an offset), so memory holds one page whatever the range. Pulled by the consumer:
 * a slow client reads the store no faster than it takes the rows.
 */
import type { TsValue } from '../domain/telemetry.js';
import type { TelemetryStore } from '../ports.js';

export const EXPORT_PAGE = 5000;

export interface ExportPage {
  readonly key: string;
  readonly points: readonly TsValue[];
}

export async function* exportPages(
  store: Pick<TelemetryStore, 'queryRaw'>,
  query: { deviceId: string; keys: readonly string[]; from: number; to: number },
  pageSize = EXPORT_PAGE,
): AsyncGenerator<ExportPage> {
  for (const key of query.keys) {
    let from = query.from;
    while (from <= query.to) {
      const points = (await store.queryRaw({ deviceId: query.deviceId, keys: [key], from, to: query.to, limit: pageSize, order: 'asc' }))[key] ?? [];
      const last = points[points.length - 1];
      if (!last) break;
      yield { key, points };
      // A key holds one point per ts: the next page starts right after this one's last.
      if (points.length < pageSize) break;
      from = last.ts + 1;
    }
  }
}
