/** Trips in the Store: the trip service's output (closed and under-way trips) and its per-device tracker state. */
import type { Trip } from '../domain/trips/segment.js';

export type TripSummary = Omit<Trip, 'track'>;

export interface TripStore {
  /**
   * Writes trips (upsert by id: an under-way trip is rewritten as it grows, then closed) and the
   * device's tracker state, in one transaction.
   */
  saveTrips(tenantId: string, deviceId: string, trips: readonly Trip[], tracker: string): Promise<void>;
  loadTripTracker(deviceId: string): Promise<string | undefined>;
  /** The device's trips that started in [from, to), newest first, without their tracks. */
  listTrips(deviceId: string, from: number, to: number, limit: number): Promise<TripSummary[]>;
  getTrip(deviceId: string, tripId: string): Promise<Trip | undefined>;
}
