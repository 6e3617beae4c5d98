/**
 * The format of one outbox record: a JSON array with one item per event of the commit.
 *
 * - A telemetry event is a reference, `[tenantId, deviceId, ts, ts…]` (its distinct point
 *   timestamps), not a copy of its points: the points are in the same transaction's rows, and
 *   copying them made the record 3× the size of the rows it announces (the commit's cost grew
 *   by the JSON and the SQLite overflow pages; measured in the ingest bench). Read back, the
 *   event carries the device's stored points at those timestamps: the same data, possibly with
 *   points another message wrote at the same timestamp (at least once, and the rule engine keys
 *   windows on the timestamp).
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
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as OutboxEvent;
    if (i > 0) out += ',';
    out += e.event === 'telemetry' ? telemetryRef(e.message) : JSON.stringify({ s: e.subject, e: e.event, v: BUS_EVENT_VERSIONS[e.event], d: e.message });
  }
  return `${out}]`;
}

function telemetryRef(m: BusEvents['telemetry']): string {
  const points = m.points;
  let out = `[${JSON.stringify(m.tenantId)},${JSON.stringify(m.deviceId)}`;
  const first = (points[0] as Point | undefined)?.ts;
  if (first !== undefined) out += `,${first}`;
  let seen: Set<number> | undefined;
  for (let i = 1; i < points.length; i++) {
    const ts = (points[i] as Point).ts;
    if (ts === first || seen?.has(ts)) continue;
    (seen ??= new Set()).add(ts);
    out += `,${ts}`;
  }
  return `${out}]`;
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

/** The device's stored points at the referenced timestamps; undefined when none are left (the device was deleted). */
async function readTelemetry(ref: unknown[], store: TelemetryReader): Promise<OutboxEvent | undefined> {
  const [tenantId, deviceId, ...stamps] = ref;
  if (typeof tenantId !== 'string' || typeof deviceId !== 'string' || !stamps.every((t) => typeof t === 'number' && Number.isSafeInteger(t))) {
    throw new BusSchemaError('malformed telemetry reference in the outbox');
  }
  const wanted = new Set(stamps as number[]);
  if (wanted.size === 0) return undefined;
  const keys = await store.telemetryKeys(deviceId);
  if (keys.length === 0) return undefined;
  const from = Math.min(...wanted);
  const to = Math.max(...wanted);
  const found = await store.queryRaw({ deviceId, keys, from, to, limit: 10_000, order: 'asc' });
  const points: Point[] = [];
  for (const key of keys) {
    for (const p of (found[key] ?? []) as TsValue[]) if (wanted.has(p.ts)) points.push({ key, ts: p.ts, value: p.value });
  }
  if (points.length === 0) return undefined;
  points.sort((a, b) => a.ts - b.ts);
  return { event: 'telemetry', subject: subjectFor('telemetry', tenantId, deviceId), message: { tenantId, deviceId, points } };
}
