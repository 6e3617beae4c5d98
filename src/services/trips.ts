/**
 * Trips, computed after commit: a member of the bus work-queue group "trips" (partitioned by
 * device, so a device's positions arrive in order, one message at a time) feeds each telemetry
 * message carrying latitude and longitude to the device's tracker (domain/trips/segment.ts) and
 * writes the trips it closed, the one under way and the tracker in one store transaction. Ingest
 * never waits for it; a failed write rejects the delivery, which the bus redelivers (trips are
 * upserted by id and the tracker ignores positions it has seen, so a duplicate changes nothing).
 * Trackers are kept in memory per device after the first read from the store.
 */
import { PlatformError } from '../domain/errors.js';
import { DEFAULT_TRIP_OPTIONS, newTracker, openTrip, stepTrip, type Trip, type TripOptions, type TripPoint, type TripTracker } from '../domain/trips/segment.js';
import type { JsonValue, Point } from '../domain/telemetry.js';
import type { Bus, BusEvents, Logger, RegistryStore, TripStore, TripSummary } from '../ports.js';

export const TRIPS_GROUP = 'trips';
/** Trackers kept in memory; the oldest used is dropped beyond this (it is read again from the store). */
const MAX_CACHED = 100_000;

export interface TripServiceDeps {
  readonly store: TripStore & Pick<RegistryStore, 'getDevice'>;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly options?: Partial<TripOptions>;
}

/** The positions of a telemetry message, one per timestamp that has both latitude and longitude. */
export function positionsOf(points: readonly Point[]): TripPoint[] {
  const byTs = new Map<number, Record<string, JsonValue>>();
  for (const p of points) {
    if (p.key !== 'latitude' && p.key !== 'longitude' && p.key !== 'speed' && p.key !== 'ignition' && p.key !== 'accuracy') continue;
    let v = byTs.get(p.ts);
    if (!v) byTs.set(p.ts, (v = {}));
    v[p.key] = p.value as JsonValue;
  }
  const out: TripPoint[] = [];
  for (const [ts, v] of [...byTs].sort(([a], [b]) => a - b)) {
    if (typeof v.latitude !== 'number' || typeof v.longitude !== 'number') continue;
    out.push({
      ts,
      lat: v.latitude,
      lon: v.longitude,
      ...(typeof v.speed === 'number' ? { speed: v.speed } : {}),
      ...(typeof v.ignition === 'boolean' ? { ignition: v.ignition } : {}),
      ...(typeof v.accuracy === 'number' ? { accuracy: v.accuracy } : {}),
    });
  }
  return out;
}

export class TripService {
  private readonly trackers = new Map<string, TripTracker>();
  private readonly options: TripOptions;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: TripServiceDeps) {
    this.options = { ...DEFAULT_TRIP_OPTIONS, ...deps.options };
  }

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe('telemetry', 'telemetry.>', (msg) => this.onTelemetry(msg), { group: TRIPS_GROUP });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async tracker(deviceId: string): Promise<TripTracker> {
    let tr = this.trackers.get(deviceId);
    if (tr) {
      // Most recently used last: the Map's order is the eviction order.
      this.trackers.delete(deviceId);
    } else {
      const stored = await this.deps.store.loadTripTracker(deviceId);
      tr = stored ? (JSON.parse(stored) as TripTracker) : newTracker();
    }
    this.trackers.set(deviceId, tr);
    if (this.trackers.size > MAX_CACHED) this.trackers.delete(this.trackers.keys().next().value as string);
    return tr;
  }

  /** Returns a promise only when there is something to do: most telemetry carries no position. */
  onTelemetry(msg: BusEvents['telemetry']): Promise<void> | undefined {
    const positions = positionsOf(msg.points);
    if (positions.length === 0) return undefined;
    return this.feed(msg.tenantId, msg.deviceId, positions);
  }

  private async feed(tenantId: string, deviceId: string, positions: readonly TripPoint[]): Promise<void> {
    const tr = await this.tracker(deviceId);
    // Work on a copy: a failed write leaves the cached tracker as it was, and the redelivery redoes it.
    const work = structuredClone(tr);
    const trips: Trip[] = [];
    let changed = false;
    for (const p of positions) {
      const r = stepTrip(work, deviceId, p, this.options);
      trips.push(...r.closed);
      changed ||= r.changed || r.closed.length > 0;
    }
    if (!changed) return;
    const open = openTrip(work);
    if (open) trips.push(open);
    await this.deps.store.saveTrips(tenantId, deviceId, trips, JSON.stringify(work));
    this.trackers.set(deviceId, work);
  }

  private async device(tenantId: string, deviceId: string): Promise<void> {
    const d = await this.deps.store.getDevice(deviceId);
    if (!d || d.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
  }

  async list(tenantId: string, deviceId: string, from: number, to: number, limit: number): Promise<TripSummary[]> {
    await this.device(tenantId, deviceId);
    return this.deps.store.listTrips(deviceId, from, to, limit);
  }

  async get(tenantId: string, deviceId: string, tripId: string): Promise<Trip> {
    await this.device(tenantId, deviceId);
    const t = await this.deps.store.getTrip(deviceId, tripId);
    if (!t) throw new PlatformError('TRIP_NOT_FOUND', tripId);
    return t;
  }
}
