/** Trip rows as both SQL stores hold them: the summary and the track as JSON text. */
import type { Trip } from '../../../domain/trips/segment.js';
import type { TripSummary } from '../../../ports.js';

export interface TripRow {
  id: string;
  start_ts: number | string;
  end_ts: number | string;
  open: number | boolean;
  summary: string;
  track?: string;
}

type SummaryJson = Pick<Trip, 'start' | 'end' | 'distanceM' | 'maxSpeedKmh' | 'idleMs' | 'stops'>;

export function tripValues(t: Trip): { summary: string; track: string } {
  const summary: SummaryJson = { start: t.start, end: t.end, distanceM: t.distanceM, maxSpeedKmh: t.maxSpeedKmh, idleMs: t.idleMs, stops: t.stops };
  return { summary: JSON.stringify(summary), track: JSON.stringify(t.track) };
}

export function toTripSummary(r: TripRow): TripSummary {
  const s = JSON.parse(r.summary) as SummaryJson;
  return { id: r.id, startTs: Number(r.start_ts), endTs: Number(r.end_ts), open: r.open === true || r.open === 1, ...s };
}

export function toTrip(r: TripRow & { track: string }): Trip {
  return { ...toTripSummary(r), track: JSON.parse(r.track) as Trip['track'] };
}
