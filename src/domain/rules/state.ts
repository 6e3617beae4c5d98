/**
 * What a rule remembers per device between messages: whether it has fired (the edge), since when
 * its condition has held (for "true for at least D"), and its sample windows. Times are message
 * timestamps, never the wall clock, so replayed or back-dated data behaves as it did live.
 */
import { detectorStateLength, isDetectorKind, isDetectorState, type DetectorState, type DetectorUse } from '../detectors/detectors.js';
import type { Samples } from './window.js';
import { isGeofenceState, type GeofenceState } from '../zones/geofence.js';

export interface RuleState {
  /** The rule fired and has not cleared since. */
  active: boolean;
  /** Timestamp of the first message of the current run of true evaluations. */
  trueSince?: number;
  /** Newest message timestamp that moved the edge; older (late) messages only feed windows. */
  lastTs?: number;
  windows: Record<string, Samples>;
  /** Detector states by slot (`zscore("vibration",100)`): fixed-size number arrays. */
  detectors?: Record<string, DetectorState>;
  /** Zone trackers by slot (`zone("depot",30000)`): fixed-size number arrays (domain/zones/geofence.ts). */
  geofences?: Record<string, GeofenceState>;
  /** The rule version (its updatedAt) this state belongs to. */
  rev?: number;
}

export type Edge = 'raise' | 'clear';

/** The state of a detector call; a missing or mis-shaped one (another build's) reads as none and starts over. */
export function detectorState(state: RuleState, use: DetectorUse): DetectorState | undefined {
  const d = state.detectors && Object.hasOwn(state.detectors, use.slot) ? state.detectors[use.slot] : undefined;
  // Contents were checked when the state was read (deserializeState); per message only the length.
  return d?.length === detectorStateLength(use.fn) ? d : undefined;
}

export function initialState(): RuleState {
  return { active: false, windows: {} };
}

/**
 * One evaluation's effect on the edge. Raise once when the condition has held for `forMs`
 * (0: at once); clear once when it stops holding after a raise.
 */
export function stepEdge(state: RuleState, matched: boolean, ts: number, forMs: number): Edge | undefined {
  if (state.lastTs !== undefined && ts < state.lastTs) return undefined;
  state.lastTs = ts;
  if (!matched) {
    state.trueSince = undefined;
    if (!state.active) return undefined;
    state.active = false;
    return 'clear';
  }
  state.trueSince ??= ts;
  if (state.active || ts - state.trueSince < forMs) return undefined;
  state.active = true;
  return 'raise';
}

export const STATE_VERSION = 1;

export function serializeState(state: RuleState): string {
  return JSON.stringify({ v: STATE_VERSION, ...state });
}

/** A stored state; anything unreadable (older format, corruption) starts over rather than failing the rule. */
export function deserializeState(json: string): RuleState {
  try {
    const raw = JSON.parse(json) as Partial<RuleState> & { v?: number };
    if (raw.v !== STATE_VERSION || typeof raw.active !== 'boolean') return initialState();
    const windows: Record<string, Samples> = {};
    for (const [key, s] of Object.entries(raw.windows ?? {})) {
      if (Array.isArray(s?.ts) && Array.isArray(s.v) && s.ts.length === s.v.length) Object.defineProperty(windows, key, { value: { ts: s.ts, v: s.v }, enumerable: true, writable: true, configurable: true });
    }
    let detectors: Record<string, DetectorState> | undefined;
    for (const [slot, d] of Object.entries(raw.detectors ?? {})) {
      // The slot names its detector: `zscore("vibration",100)`.
      const fn = slot.slice(0, slot.indexOf('('));
      if (!isDetectorKind(fn) || !isDetectorState(fn, d)) continue;
      detectors ??= {};
      Object.defineProperty(detectors, slot, { value: d, enumerable: true, writable: true, configurable: true });
    }
    let geofences: Record<string, GeofenceState> | undefined;
    for (const [slot, g] of Object.entries(raw.geofences ?? {})) {
      if (!slot.startsWith('zone(') || !isGeofenceState(g)) continue;
      geofences ??= {};
      Object.defineProperty(geofences, slot, { value: g, enumerable: true, writable: true, configurable: true });
    }
    return {
      active: raw.active,
      ...(detectors ? { detectors } : {}),
      ...(geofences ? { geofences } : {}),
      ...(typeof raw.trueSince === 'number' ? { trueSince: raw.trueSince } : {}),
      ...(typeof raw.lastTs === 'number' ? { lastTs: raw.lastTs } : {}),
      ...(typeof raw.rev === 'number' ? { rev: raw.rev } : {}),
      windows,
    };
  } catch {
    return initialState();
  }
}
