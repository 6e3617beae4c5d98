/**
 * Trip segmentation, one position at a time, so it runs after every ingest commit with a small
 * state per device. A trip starts when the device moves (speed at or above `stopSpeedKmh`, engine
 * not off) and ends when it has stood still for `tripEndMs`, when the ignition goes off, or when
 * its reports stop for that long. Inside a trip, standing still for at least `stopMinMs` is a
 * stop (listed with its place and times); shorter standstills (traffic lights, queues) only count
 * as idle time, as the stops do.
 *
 * GPS jitter: a position implying a speed above `maxSpeedKmh` from the last accepted one is a
 * jump and dropped; a position within its accuracy radius (or `minMoveM`) of the last accepted
 * one is the same place (a parked receiver wanders by metres), so it adds no distance. Distance
 * is the sum of great-circle (haversine) hops between accepted positions.
 */
import { distanceMetres } from '../expression/geo.js';

export interface TripPoint {
  readonly ts: number;
  readonly lat: number;
  readonly lon: number;
  /** km/h as reported; absent: derived from the positions. */
  readonly speed?: number;
  readonly ignition?: boolean;
  /** Horizontal accuracy, metres. */
  readonly accuracy?: number;
}

export interface TripOptions {
  readonly stopSpeedKmh: number;
  readonly stopMinMs: number;
  readonly tripEndMs: number;
  readonly maxSpeedKmh: number;
  readonly minMoveM: number;
  /** Track points kept per trip; beyond, every other one is dropped (the ends stay). */
  readonly maxTrackPoints: number;
}

export const DEFAULT_TRIP_OPTIONS: TripOptions = { stopSpeedKmh: 3, stopMinMs: 2 * 60_000, tripEndMs: 5 * 60_000, maxSpeedKmh: 250, minMoveM: 10, maxTrackPoints: 2000 };

export interface TripStop {
  readonly lat: number;
  readonly lon: number;
  readonly fromTs: number;
  readonly toTs: number;
}

export interface Trip {
  /** `<deviceId>:<startTs>`: the same trip found twice (a redelivered message) is the same row. */
  readonly id: string;
  readonly startTs: number;
  readonly endTs: number;
  readonly start: { readonly lat: number; readonly lon: number };
  readonly end: { readonly lat: number; readonly lon: number };
  readonly distanceM: number;
  readonly maxSpeedKmh: number;
  readonly idleMs: number;
  readonly stops: readonly TripStop[];
  /** [ts, lat, lon] of the accepted positions, thinned to maxTrackPoints. */
  readonly track: readonly (readonly [number, number, number])[];
  /** Still under way (the device has not stopped for long enough yet). */
  readonly open: boolean;
}

interface Mutable {
  id: string;
  startTs: number;
  endTs: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  distanceM: number;
  maxSpeedKmh: number;
  idleMs: number;
  stops: TripStop[];
  track: [number, number, number][];
}

/** Per device; plain JSON (persisted between messages by the trip service). */
export interface TripTracker {
  anchor?: { ts: number; lat: number; lon: number };
  lastTs?: number;
  trip?: Mutable;
  still?: { since: number; lat: number; lon: number };
  /** Positions dropped as jumps in a row. */
  rejected?: number;
}

/** After this many jumps in a row the new place is believed (the device was carried, or the old fix was wrong). */
const MAX_REJECTED = 3;

export function newTracker(): TripTracker {
  return {};
}

function freeze(t: Mutable, open: boolean): Trip {
  return { ...t, start: { ...t.start }, end: { ...t.end }, stops: [...t.stops], track: t.track.map((p) => [...p] as [number, number, number]), open };
}

function addTrack(t: Mutable, p: [number, number, number], max: number): void {
  t.track.push(p);
  if (t.track.length > max) t.track = t.track.filter((_, i) => i % 2 === 0 || i === t.track.length - 1);
}

/**
 * Feeds one position; answers the trips it closed (at most two: one ended by a gap in the reports
 * and, rarely, one ended at once by the ignition) and whether the open trip changed.
 */
export function stepTrip(tr: TripTracker, deviceId: string, p: TripPoint, o: TripOptions = DEFAULT_TRIP_OPTIONS): { closed: Trip[]; changed: boolean } {
  const closed: Trip[] = [];
  if (tr.lastTs !== undefined && p.ts <= tr.lastTs) return { closed, changed: false };
  if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon) || Math.abs(p.lat) > 90 || Math.abs(p.lon) > 180) return { closed, changed: false };
  const close = (): void => {
    if (!tr.trip) return;
    const t = tr.trip;
    if (tr.still) {
      t.endTs = tr.still.since;
      t.end = { lat: tr.still.lat, lon: tr.still.lon };
    }
    closed.push(freeze(t, false));
    tr.trip = undefined;
    tr.still = undefined;
  };
  // Silent for longer than a trip may pause: the trip ended where the reports stopped.
  if (tr.trip && tr.lastTs !== undefined && p.ts - tr.lastTs >= o.tripEndMs) close();

  let a = tr.anchor;
  let d = a ? distanceMetres(a.lat, a.lon, p.lat, p.lon) : 0;
  // A jump: the speed it implies since the previous report (not since the anchor, which may be
  // minutes old after a stop). Several in a row are believed: the device really is elsewhere.
  const sinceLast = p.ts - (tr.lastTs ?? p.ts);
  if (a && sinceLast > 0 && (d / sinceLast) * 3600 > o.maxSpeedKmh && (tr.rejected ?? 0) < MAX_REJECTED) {
    tr.rejected = (tr.rejected ?? 0) + 1;
    return { closed, changed: false };
  }
  if ((tr.rejected ?? 0) >= MAX_REJECTED && a && (d / Math.max(1, sinceLast)) * 3600 > o.maxSpeedKmh) {
    close();
    tr.anchor = a = undefined;
    d = 0;
  }
  tr.rejected = 0;
  const dt = a ? p.ts - a.ts : 0;
  tr.lastTs = p.ts;
  const speed = p.speed ?? (a && dt > 0 ? (d / dt) * 3600 : 0);
  const moved = !a || d > Math.max(p.accuracy ?? 0, o.minMoveM);
  const from = a;
  if (moved) tr.anchor = { ts: p.ts, lat: p.lat, lon: p.lon };
  const here = tr.anchor as { ts: number; lat: number; lon: number };
  const stationary = speed < o.stopSpeedKmh || p.ignition === false;

  if (!tr.trip) {
    if (stationary) return { closed, changed: false };
    const origin = from ?? here;
    tr.trip = {
      id: `${deviceId}:${p.ts}`,
      startTs: p.ts,
      endTs: p.ts,
      start: { lat: origin.lat, lon: origin.lon },
      end: { lat: here.lat, lon: here.lon },
      distanceM: moved && from ? d : 0,
      maxSpeedKmh: speed,
      idleMs: 0,
      stops: [],
      track: from && moved ? [[from.ts, from.lat, from.lon], [p.ts, p.lat, p.lon]] : [[p.ts, here.lat, here.lon]],
    };
    return { closed, changed: true };
  }
  const t = tr.trip;
  if (moved && from) {
    t.distanceM += d;
    addTrack(t, [p.ts, p.lat, p.lon], o.maxTrackPoints);
  }
  t.maxSpeedKmh = Math.max(t.maxSpeedKmh, speed);
  t.endTs = p.ts;
  t.end = { lat: here.lat, lon: here.lon };
  if (stationary) {
    tr.still ??= { since: p.ts, lat: here.lat, lon: here.lon };
    if (p.ignition === false || p.ts - tr.still.since >= o.tripEndMs) close();
  } else if (tr.still) {
    const run = p.ts - tr.still.since;
    t.idleMs += run;
    if (run >= o.stopMinMs) t.stops.push({ lat: tr.still.lat, lon: tr.still.lon, fromTs: tr.still.since, toTs: p.ts });
    tr.still = undefined;
  }
  return { closed, changed: true };
}

/** The trip under way, as it stands (for listing before it ends). */
export function openTrip(tr: TripTracker): Trip | undefined {
  return tr.trip ? freeze(tr.trip, true) : undefined;
}
