/**
 * The zone calls' side of a rule step: feeding each tracker the message's position (when it
 * carries one) and answering entered/left/dwell from the tracker.
 */
import type { JsonValue } from '../telemetry.js';
import { LATITUDE_KEY, LONGITUDE_KEY, type GeofenceUse } from '../expression/geofence-calls.js';
import { sideOf } from '../zones/geometry.js';
import { dwellSeconds, ENTERED, GEOFENCE_STATE_LENGTH, happenedAt, initialGeofenceState, LEFT, stepGeofence, type GeofenceState } from '../zones/geofence.js';
import type { Zone } from '../zones/zone.js';
import type { RuleState } from './state.js';

function trackerOf(state: RuleState, slot: string): GeofenceState | undefined {
  const g = state.geofences && Object.hasOwn(state.geofences, slot) ? state.geofences[slot] : undefined;
  return g?.length === GEOFENCE_STATE_LENGTH ? g : undefined;
}

/** Steps every zone tracker of the rule with the message's latitude/longitude; zones that do not (or no longer) exist are skipped. */
export function feedGeofences(uses: readonly GeofenceUse[], state: RuleState, message: { readonly ts: number; readonly values: Readonly<Record<string, JsonValue>> }, zoneOf: (ref: string) => Zone | undefined): void {
  const lat = Object.hasOwn(message.values, LATITUDE_KEY) ? message.values[LATITUDE_KEY] : undefined;
  const lon = Object.hasOwn(message.values, LONGITUDE_KEY) ? message.values[LONGITUDE_KEY] : undefined;
  if (typeof lat !== 'number' || typeof lon !== 'number' || Math.abs(lat) > 90 || Math.abs(lon) > 180) return;
  // `uses` holds one call per slot (the analysis merges them).
  for (const use of uses) {
    const zone = zoneOf(use.zone);
    if (!zone) continue;
    let g = trackerOf(state, use.slot);
    if (!g) {
      g = initialGeofenceState();
      state.geofences ??= {};
      Object.defineProperty(state.geofences, use.slot, { value: g, enumerable: true, writable: true, configurable: true });
    }
    stepGeofence(g, message.ts, sideOf(zone, lat, lon), use.delayMs);
  }
}

/** entered/left: whether this message confirmed the change; dwell: seconds inside. Null when the zone is unknown. */
export function geofenceValue(use: GeofenceUse, state: RuleState, ts: number, zoneKnown: boolean): JsonValue {
  if (!zoneKnown) return null;
  const g = trackerOf(state, use.slot);
  switch (use.fn) {
    case 'entered':
      return happenedAt(g, ENTERED, ts);
    case 'left':
      return happenedAt(g, LEFT, ts);
    case 'dwell':
      return dwellSeconds(g, ts);
  }
}
