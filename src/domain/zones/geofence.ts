/**
 * The state behind entered(zone), left(zone) and dwell(zone) for one (rule, device, call): a
 * fixed array of seven numbers, plain JSON, persisted with the rule state like the detectors'.
 *
 * A position inside the zone is "in", one beyond the zone's margin "out", one in the band between
 * changes nothing (spatial hysteresis against GPS jitter). A change of side is confirmed only once
 * the new side has held for the call's delay (temporal hysteresis: `entered(depot, "30s")` fires
 * after 30 s inside; a van that brushes the corner does not). The first position a tracker sees
 * only sets where the device is: a rule created while a van stands in the depot does not report
 * it entering.
 *
 * Times are message timestamps; a message older than the last one seen is ignored (late data
 * does not rewrite the past), a duplicate of the last is harmless.
 */
import type { ZoneSide } from './geometry.js';

/** Layout: [confirmed (-1 unknown, 0 out, 1 in), candidateSince (-1 none), insideSince (-1), lastTs, eventTs, event (0 none, 1 entered, 2 left), candidateSide (0/1)]. */
export type GeofenceState = number[];

const CONFIRMED = 0;
const CAND_SINCE = 1;
const INSIDE_SINCE = 2;
const LAST_TS = 3;
const EVENT_TS = 4;
const EVENT = 5;
const CAND_SIDE = 6;
export const GEOFENCE_STATE_LENGTH = 7;

export const ENTERED = 1;
export const LEFT = 2;

export function initialGeofenceState(): GeofenceState {
  return [-1, -1, -1, -1, -1, 0, 0];
}

export function isGeofenceState(value: unknown): value is GeofenceState {
  return Array.isArray(value) && value.length === GEOFENCE_STATE_LENGTH && value.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Moves the state with one position's side; `delayMs` is how long a new side must hold. */
export function stepGeofence(s: GeofenceState, ts: number, side: ZoneSide, delayMs: number): void {
  const last = s[LAST_TS] as number;
  if (last >= 0 && ts <= last) return;
  s[LAST_TS] = ts;
  const confirmed = s[CONFIRMED] as number;
  if (side === 'band') {
    // Neither side: a pending change neither grows nor is cancelled by a position on the boundary.
    return;
  }
  const observed = side === 'in' ? 1 : 0;
  if (confirmed === -1) {
    s[CONFIRMED] = observed;
    s[INSIDE_SINCE] = observed === 1 ? ts : -1;
    s[CAND_SINCE] = -1;
    return;
  }
  if (observed === confirmed) {
    s[CAND_SINCE] = -1;
    return;
  }
  if ((s[CAND_SINCE] as number) < 0 || s[CAND_SIDE] !== observed) {
    s[CAND_SINCE] = ts;
    s[CAND_SIDE] = observed;
  }
  const since = s[CAND_SINCE] as number;
  if (ts - since < delayMs) return;
  s[CONFIRMED] = observed;
  s[CAND_SINCE] = -1;
  s[INSIDE_SINCE] = observed === 1 ? since : -1;
  s[EVENT] = observed === 1 ? ENTERED : LEFT;
  s[EVENT_TS] = ts;
}

/** Whether the message at `ts` confirmed an entry (ENTERED) or an exit (LEFT). */
export function happenedAt(s: GeofenceState | undefined, event: typeof ENTERED | typeof LEFT, ts: number): boolean {
  return s !== undefined && s[EVENT] === event && s[EVENT_TS] === ts;
}

/** Seconds inside since the confirmed entry began (0 outside); null before the first position. */
export function dwellSeconds(s: GeofenceState | undefined, ts: number): number | null {
  if (!s || s[CONFIRMED] === -1) return null;
  if (s[CONFIRMED] !== 1) return 0;
  return Math.max(0, (ts - (s[INSIDE_SINCE] as number)) / 1000);
}
