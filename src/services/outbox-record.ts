/**
 * The format of one outbox record: a JSON array with one item per event of the commit.
 *
 * - Telemetry is a reference per device, `[tenantId, deviceId, fromTs, toTs]`: the range of point
 *   timestamps the commit wrote for that device (all its messages in the batch together), not a
 *   copy of its points: the points are in the same transaction's rows. Copying them made the
 *   record 3× the size of the rows it announces, and one reference per message (with its
 *   distinct timestamps) still cost ~5% of the ingest rate at 60k msg/s (bench/ab.ts); one per
 *   device and batch costs a Map lookup per message. Read back, the event carries the device's
 *   stored points in that range: the same data, possibly with points other commits wrote in the
 *   range (at least once: the rule engine keys its windows on the timestamp).
 * - Any other event is its versioned envelope `{s: subject, e: event, v, d}` (domain/bus-events.ts),
 *   checked against its schema when read back.
 */
import { BUS_EVENT_VERSIONS, BusSchemaError, decodeBusEnvelope } from '../domain/bus-events.js';
import { subjectFor } from '../domain/subjects.js';
import type { Point, TsValue } from '../domain/telemetry.js';
import type { BusEvents, TelemetryStore } from '../ports.js';

/** One event as the relay publishes it. */
export type OutboxEvent = { [E in keyof BusEvents]: { readonly event: E; readonly subject: string; readonly message: BusEvents[E] } }[keyof BusEvents];

/** What reading a telemetry reference back needs. */
export type TelemetryReader = Pick<TelemetryStore, 'telemetryKeys' | 'queryRaw'>;

export function encodeRecord(events: readonly OutboxEvent[]): string {
  let out = '[';
  let refs: Map<string, TelemetryRange> | undefined;
  for (const e of events) {
    if (e.event === 'telemetry') {
      refs = addRange(refs ?? new Map(), e.message);
      continue;
    }
    if (out.length > 1) out += ',';
    out += JSON.stringify({ s: e.subject, e: e.event, v: BUS_EVENT_VERSIONS[e.event], d: e.message });
  }
  if (refs) {
    for (const r of refs.values()) {
      if (out.length > 1) out += ',';
      out += `[${JSON.stringify(r.tenantId)},${JSON.stringify(r.deviceId)},${r.from},${r.to}]`;
    }
  }
  return `${out}]`;
}

interface TelemetryRange {
  readonly tenantId: string;
  readonly deviceId: string;
  from: number;
  to: number;
}

function addRange(refs: Map<string, TelemetryRange>, m: BusEvents['telemetry']): Map<string, TelemetryRange> {
  const points = m.points;
  if (points.length === 0) return refs;
  let range = refs.get(m.deviceId);
  if (!range) {
    const ts = (points[0] as Point).ts;
    range = { tenantId: m.tenantId, deviceId: m.deviceId, from: ts, to: ts };
    refs.set(m.deviceId, range);
  }
  for (const p of points) {
    if (p.ts < range.from) range.from = p.ts;
    else if (p.ts > range.to) range.to = p.ts;
  }
  return refs;
}

/** The events of one record, telemetry read back from the store; throws BusSchemaError for what this build cannot read. */
export async function decodeRecord(payload: string, store: TelemetryReader): Promise<OutboxEvent[]> {
  const parsed: unknown = JSON.parse(payload);
  if (!Array.isArray(parsed)) throw new BusSchemaError('outbox record is not a list of events');
  const events: OutboxEvent[] = [];
  for (const item of parsed as unknown[]) {
    if (Array.isArray(item)) {
      const event = await readTelemetry(item, store);
      if (event) events.push(event);
      continue;
    }
    const subject = (item as { s?: unknown } | null)?.s;
    if (typeof subject !== 'string') throw new BusSchemaError('outbox event without a subject');
    const { event, message } = decodeBusEnvelope(item);
    events.push({ event, subject, message } as OutboxEvent);
  }
  return events;
}

/** The device's stored points in the referenced range; undefined when none are left (the device was deleted). */
async function readTelemetry(ref: unknown[], store: TelemetryReader): Promise<OutboxEvent | undefined> {
  const [tenantId, deviceId, from, to] = ref;
  if (ref.length !== 4 || typeof tenantId !== 'string' || typeof deviceId !== 'string' || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) > (to as number)) {
    throw new BusSchemaError('malformed telemetry reference in the outbox');
  }
  const keys = await store.telemetryKeys(deviceId);
  if (keys.length === 0) return undefined;
  const found = await store.queryRaw({ deviceId, keys, from: from as number, to: to as number, limit: 10_000, order: 'asc' });
  const points: Point[] = [];
  for (const key of keys) {
    for (const p of (found[key] ?? []) as TsValue[]) points.push({ key, ts: p.ts, value: p.value });
  }
  if (points.length === 0) return undefined;
  points.sort((a, b) => a.ts - b.ts);
  return { event: 'telemetry', subject: subjectFor('telemetry', tenantId, deviceId), message: { tenantId, deviceId, points } };
}
