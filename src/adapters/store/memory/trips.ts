/** Trips in memory (`--store memory`; lost with the process). */
import type { Trip } from '../../../domain/trips/segment.js';
import type { TripStore } from '../../../ports.js';

export function createMemoryTrips(): TripStore {
  /** deviceId → tripId → trip */
  const trips = new Map<string, Map<string, Trip>>();
  const trackers = new Map<string, string>();
  return {
    async saveTrips(_tenantId, deviceId, list, tracker) {
      let own = trips.get(deviceId);
      if (!own) trips.set(deviceId, (own = new Map()));
      for (const t of list) own.set(t.id, structuredClone(t));
      trackers.set(deviceId, tracker);
    },
    async loadTripTracker(deviceId) {
      return trackers.get(deviceId);
    },
    async listTrips(deviceId, from, to, limit) {
      return [...(trips.get(deviceId)?.values() ?? [])]
        .filter((t) => t.startTs >= from && t.startTs < to)
        .sort((a, b) => b.startTs - a.startTs)
        .slice(0, limit)
        .map(({ track: _track, ...summary }) => structuredClone(summary));
    },
    async getTrip(deviceId, tripId) {
      const t = trips.get(deviceId)?.get(tripId);
      return t ? structuredClone(t) : undefined;
    },
  };
}
