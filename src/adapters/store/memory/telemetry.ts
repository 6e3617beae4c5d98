/**
 * In-memory time series: per device and key, parallel arrays of timestamps and values kept
 * sorted by ts. Appends in time order (the usual case) are a push; others a binary-search insert.
 */
import type { Aggregation, TelemetryValue, TsValue } from '../../../domain/telemetry.js';
import type { AggregateQuery, OutboxRecord, OutboxStore, RawQuery, TelemetryRow, TelemetryStore } from '../../../ports.js';
import { bucketIndex, checkAggregateQuery, checkRawQuery, checkTs, clampLimit, compareBinary, NeumaierSum, putOwn, tagOf } from '../shared.js';

interface Series {
  ts: number[];
  values: TelemetryValue[];
}

/** First index whose ts >= ts. */
function lowerBound(a: readonly number[], ts: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Values leave and enter the store as copies, as they would through a database. */
function copy(value: TelemetryValue): TelemetryValue {
  return typeof value === 'object' ? (JSON.parse(JSON.stringify(value)) as TelemetryValue) : value;
}

export interface MemoryTelemetry extends TelemetryStore, OutboxStore {
  deleteDevice(deviceId: string): void;
}

export function createMemoryTelemetry(): MemoryTelemetry {
  const devices = new Map<string, Map<string, Series>>();
  /** Per device and key, the newest point retention deleted (latest values outlive retention). */
  const retired = new Map<string, Map<string, TsValue>>();
  /** The outbox, by id in write order (a Map iterates in insertion order). */
  const outbox = new Map<number, string>();
  let nextOutboxId = 1;

  function series(deviceId: string, key: string): Series | undefined {
    return devices.get(deviceId)?.get(key);
  }

  function put(row: TelemetryRow): void {
    let keys = devices.get(row.deviceId);
    if (!keys) devices.set(row.deviceId, (keys = new Map()));
    let s = keys.get(row.key);
    if (!s) keys.set(row.key, (s = { ts: [], values: [] }));
    const value = row.json === undefined ? copy(row.value) : (JSON.parse(row.json) as TelemetryValue);
    const last = s.ts[s.ts.length - 1];
    if (last === undefined || row.ts > last) {
      s.ts.push(row.ts);
      s.values.push(value);
      return;
    }
    const i = lowerBound(s.ts, row.ts);
    if (s.ts[i] === row.ts) s.values[i] = value;
    else {
      s.ts.splice(i, 0, row.ts);
      s.values.splice(i, 0, value);
    }
  }

  function retire(deviceId: string, key: string, point: TsValue): void {
    let keys = retired.get(deviceId);
    if (!keys) retired.set(deviceId, (keys = new Map()));
    const old = keys.get(key);
    if (old === undefined || point.ts >= old.ts) keys.set(key, point);
  }

  function aggregate(agg: Aggregation, values: readonly number[]): number {
    switch (agg) {
      case 'count':
        return values.length;
      case 'min':
        return values.reduce((a, b) => (b < a ? b : a));
      case 'max':
        return values.reduce((a, b) => (b > a ? b : a));
      default: {
        const sum = new NeumaierSum();
        for (const v of values) sum.add(v);
        return agg === 'sum' ? sum.value() : sum.value() / values.length;
      }
    }
  }

  return {
    async appendTelemetry(rows: readonly TelemetryRow[], events?: string): Promise<number | undefined> {
      // Check everything first: like the SQL transaction, a bad row stores nothing of the batch.
      for (const row of rows) {
        checkTs(row.ts);
        tagOf(row.value);
      }
      for (const row of rows) put(row);
      if (events === undefined) return undefined;
      const id = nextOutboxId++;
      outbox.set(id, events);
      return id;
    },

    async takeOutbox(limit: number): Promise<OutboxRecord[]> {
      const out: OutboxRecord[] = [];
      for (const [id, payload] of outbox) {
        if (out.length >= limit) break;
        out.push({ id, payload });
      }
      return out;
    },

    async ackOutbox(ids: readonly number[]): Promise<void> {
      for (const id of ids) outbox.delete(id);
    },

    async queryRaw(q: RawQuery): Promise<Record<string, TsValue[]>> {
      checkRawQuery(q);
      const limit = clampLimit(q.limit);
      const out: Record<string, TsValue[]> = {};
      for (const key of q.keys) {
        const s = series(q.deviceId, key);
        if (!s || limit === 0) continue;
        const lo = lowerBound(s.ts, q.from);
        const hi = lowerBound(s.ts, q.to + 1);
        const points: TsValue[] = [];
        if (q.order === 'desc') {
          for (let i = hi - 1; i >= lo && points.length < limit; i--) points.push({ ts: s.ts[i] as number, value: copy(s.values[i] as TelemetryValue) });
        } else {
          for (let i = lo; i < hi && points.length < limit; i++) points.push({ ts: s.ts[i] as number, value: copy(s.values[i] as TelemetryValue) });
        }
        if (points.length > 0) putOwn(out, key, points);
      }
      return out;
    },

    async queryAggregated(q: AggregateQuery): Promise<Record<string, TsValue[]>> {
      checkAggregateQuery(q);
      const out: Record<string, TsValue[]> = {};
      for (const key of q.keys) {
        const s = series(q.deviceId, key);
        if (!s) continue;
        const buckets = new Map<number, number[]>();
        const hi = lowerBound(s.ts, q.to + 1);
        for (let i = lowerBound(s.ts, q.from); i < hi; i++) {
          const value = s.values[i];
          if (typeof value !== 'number') continue;
          const b = bucketIndex(s.ts[i] as number, q.from, q.interval);
          let list = buckets.get(b);
          if (!list) buckets.set(b, (list = []));
          list.push(value);
        }
        if (buckets.size === 0) continue;
        const points = [...buckets.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([b, values]) => ({ ts: q.from + b * q.interval, value: aggregate(q.agg, values) }));
        putOwn(out, key, points);
      }
      return out;
    },

    async latest(deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>> {
      const all = devices.get(deviceId);
      const out: Record<string, TsValue> = {};
      if (!all) return out;
      const gone = retired.get(deviceId);
      for (const key of keys ?? [...all.keys()]) {
        const s = all.get(key);
        const n = s ? s.ts.length : 0;
        const old = gone?.get(key);
        if (s && n > 0 && (old === undefined || (s.ts[n - 1] as number) >= old.ts)) putOwn(out, key, { ts: s.ts[n - 1] as number, value: copy(s.values[n - 1] as TelemetryValue) });
        else if (old !== undefined) putOwn(out, key, { ts: old.ts, value: copy(old.value) });
      }
      return out;
    },

    async telemetryKeys(deviceId: string): Promise<string[]> {
      const all = devices.get(deviceId);
      if (!all) return [];
      return [...all.entries()]
        .filter(([key, s]) => s.ts.length > 0 || retired.get(deviceId)?.has(key) === true)
        .map(([key]) => key)
        .sort(compareBinary);
    },

    async pruneTelemetry(deviceId: string, before: number, limit: number): Promise<number> {
      let room = Math.max(1, Math.floor(limit));
      let deleted = 0;
      for (const [key, s] of devices.get(deviceId) ?? []) {
        const n = Math.min(lowerBound(s.ts, before), room);
        if (n === 0) continue;
        if (n === s.ts.length) retire(deviceId, key, { ts: s.ts[n - 1] as number, value: s.values[n - 1] as TelemetryValue });
        s.ts.splice(0, n);
        s.values.splice(0, n);
        deleted += n;
        room -= n;
        if (room === 0) break;
      }
      return deleted;
    },

    deleteDevice(deviceId: string): void {
      devices.delete(deviceId);
      retired.delete(deviceId);
    },
  };
}
