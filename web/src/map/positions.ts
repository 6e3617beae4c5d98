/**
 * Where a device is, from the values the platform keeps: latest telemetry `latitude`/`longitude`
 * (or `lat`/`lon`), else server or shared attributes of those names. Geofences are a device
 * attribute `geofence` = [[lat, lon], …], the same one rules read with inside(lat, lon, attr("geofence")).
 */
import type { TsValue } from '../api.js';

export const POSITION_KEYS = ['latitude', 'longitude', 'lat', 'lon'] as const;
const PAIRS = [
  ['latitude', 'longitude'],
  ['lat', 'lon'],
] as const;

export interface Position {
  readonly lat: number;
  readonly lon: number;
  /** When the position was reported (ms), if known. */
  readonly ts: number | null;
}

type Scopes = Partial<Record<'client' | 'shared' | 'server', Record<string, { value: unknown; lastUpdateTs: number }>>>;

function num(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** WGS 84 range check: anything else would draw somewhere meaningless. */
export function validLatLon(lat: number | null, lon: number | null): lat is number {
  return lat !== null && lon !== null && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
}

/** From a map of key → value (+ts): the first pair of names both present and valid. */
export function positionOf(values: Readonly<Record<string, { value: unknown; ts: number | null } | undefined>>): Position | undefined {
  for (const [latKey, lonKey] of PAIRS) {
    const a = values[latKey];
    const b = values[lonKey];
    if (!a || !b) continue;
    const lat = num(a.value);
    const lon = num(b.value);
    if (validLatLon(lat, lon)) return { lat, lon: lon as number, ts: a.ts !== null && b.ts !== null ? Math.max(a.ts, b.ts) : (a.ts ?? b.ts) };
  }
  return undefined;
}

export function positionFromLatest(latest: Readonly<Record<string, TsValue>>): Position | undefined {
  return positionOf(Object.fromEntries(Object.entries(latest).map(([k, p]) => [k, { value: p.value, ts: p.ts }])));
}

export function positionFromAttributes(scopes: Scopes): Position | undefined {
  for (const scope of ['server', 'shared'] as const) {
    const entries = scopes[scope] ?? {};
    const found = positionOf(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, { value: e.value, ts: e.lastUpdateTs }])));
    if (found) return found;
  }
  return undefined;
}

/** A polygon of at least three valid [lat, lon] pairs (a JSON string is accepted too), else undefined. */
export function geofenceOf(value: unknown): [number, number][] | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(v) || v.length < 3) return undefined;
  const out: [number, number][] = [];
  for (const p of v) {
    if (!Array.isArray(p) || p.length !== 2) return undefined;
    const lat = num(p[0]);
    const lon = num(p[1]);
    if (!validLatLon(lat, lon)) return undefined;
    out.push([lat, lon as number]);
  }
  return out;
}

export function geofenceFromAttributes(scopes: Scopes): [number, number][] | undefined {
  return geofenceOf(scopes.server?.geofence?.value) ?? geofenceOf(scopes.shared?.geofence?.value);
}

/**
 * A track from history: latitude and longitude are separate series, so points are paired by
 * timestamp (a device reports both in one message, so they share it). Oldest first.
 */
export function trackOf(history: Readonly<Record<string, readonly TsValue[]>>): Position[] {
  for (const [latKey, lonKey] of PAIRS) {
    const lats = history[latKey] ?? [];
    const lons = new Map((history[lonKey] ?? []).map((p) => [p.ts, num(p.value)]));
    const track: Position[] = [];
    for (const p of lats) {
      const lat = num(p.value);
      const lon = lons.get(p.ts) ?? null;
      if (validLatLon(lat, lon)) track.push({ lat, lon: lon as number, ts: p.ts });
    }
    if (track.length > 0) return track.sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  }
  return [];
}
