/**
 * Small pure building blocks for device models: a seeded PRNG per device, a daily cycle,
 * gaussian noise, random walks, scheduled faults and movement along a route. Everything takes
 * time as epoch milliseconds of the simulated clock and randomness from the caller's `random`,
 * so the same device name replays the same signal in every run.
 */
import { distanceMetres } from '../domain/expression/geo.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** FNV-1a of a string: the seed of a device's PRNG. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a fast 32-bit PRNG, good enough for signals (not for secrets). Returns [0, 1). */
export function seededRandom(seed: number | string): () => number {
  let a = typeof seed === 'string' ? hashSeed(seed) : seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A standard normal sample (Box–Muller) scaled by `sigma`. */
export function gaussian(random: () => number, sigma = 1): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  const v = random();
  return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface DailyCycle {
  /** Mean value over the day. */
  readonly mean: number;
  /** Half the peak-to-peak swing. */
  readonly amplitude: number;
  /** Hour of the day (UTC, fractional) at which the value peaks; 15 = mid-afternoon. */
  readonly peakHour?: number;
}

/** A sinusoid with a period of one day that peaks at `peakHour` (UTC). */
export function daily(simNow: number, cycle: DailyCycle): number {
  const hour = (((simNow % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const phase = ((hour - (cycle.peakHour ?? 15)) / 24) * 2 * Math.PI;
  return cycle.mean + cycle.amplitude * Math.cos(phase);
}

/** Rounds to `digits` decimals, so telemetry reads 21.37 rather than 21.370000000000001. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

export interface WalkOptions {
  /** Standard deviation of the change per simulated hour (scaled by √dt, as Brownian motion). */
  readonly sigmaPerHour: number;
  /** Pull back towards `mean` per hour, 0..1 (Ornstein–Uhlenbeck); 0 = free walk. */
  readonly reversion?: number;
  readonly mean?: number;
  readonly min?: number;
  readonly max?: number;
}

/** One step of a bounded random walk over `dtMs` simulated milliseconds. */
export function walk(value: number, dtMs: number, random: () => number, opts: WalkOptions): number {
  if (dtMs <= 0) return value;
  const hours = dtMs / HOUR_MS;
  let next = value + gaussian(random, opts.sigmaPerHour * Math.sqrt(hours));
  if (opts.reversion !== undefined && opts.mean !== undefined) {
    next += (opts.mean - next) * Math.min(1, opts.reversion * hours);
  }
  return clamp(next, opts.min ?? -Infinity, opts.max ?? Infinity);
}

/** A value that moves linearly by `ratePerHour` (sensor drift, a tank emptying). */
export function drift(value: number, dtMs: number, ratePerHour: number): number {
  return value + (ratePerHour * dtMs) / HOUR_MS;
}

export interface FaultSchedule {
  /** A fault starts once every `everyHours` simulated hours… */
  readonly everyHours: number;
  /** …and lasts this long. */
  readonly durationMinutes: number;
  /** Shifts the schedule, so that not every device of a fleet fails at once (e.g. index × 0.37). */
  readonly offsetHours?: number;
}

/** Whether a scheduled fault is active at `simNow`. Deterministic: no state to keep. */
export function faultActive(simNow: number, schedule: FaultSchedule): boolean {
  const period = schedule.everyHours * HOUR_MS;
  if (period <= 0) return false;
  const t = simNow - (schedule.offsetHours ?? 0) * HOUR_MS;
  const into = ((t % period) + period) % period;
  return into < schedule.durationMinutes * 60_000;
}

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine, the same function rules use in `distance()`). */
export function distanceM(a: LatLon, b: LatLon): number {
  return distanceMetres(a.lat, a.lon, b.lat, b.lon);
}

/** Initial bearing from a to b in degrees, 0 = north, clockwise. */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const y = Math.sin(rad(b.lon - a.lon)) * Math.cos(rad(b.lat));
  const x = Math.cos(rad(a.lat)) * Math.sin(rad(b.lat)) - Math.sin(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.cos(rad(b.lon - a.lon));
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
}

export interface RoutePosition extends LatLon {
  /** Heading in degrees along the current leg. */
  readonly heading: number;
  /** Index of the leg's starting waypoint. */
  readonly leg: number;
}

/**
 * The point `travelledM` metres along a polyline of waypoints. With `loop`, the route closes
 * back to its first waypoint and repeats; without, the position stops at the last waypoint.
 * Legs are short enough for linear interpolation of lat/lon to be within metres of the arc.
 */
export function alongRoute(waypoints: readonly LatLon[], travelledM: number, loop = true): RoutePosition {
  if (waypoints.length === 0) throw new RangeError('a route needs at least one waypoint');
  const points = loop && waypoints.length > 1 ? [...waypoints, waypoints[0]!] : waypoints;
  const legs: number[] = [];
  let total = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const d = distanceM(points[i]!, points[i + 1]!);
    legs.push(d);
    total += d;
  }
  if (total === 0) return { ...points[0]!, heading: 0, leg: 0 };
  let rest = loop ? ((travelledM % total) + total) % total : clamp(travelledM, 0, total);
  for (let i = 0; i < legs.length; i++) {
    const len = legs[i]!;
    if (rest <= len || i === legs.length - 1) {
      const a = points[i]!;
      const b = points[i + 1]!;
      const f = len === 0 ? 0 : Math.min(1, rest / len);
      return { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f, heading: bearingDeg(a, b), leg: i };
    }
    rest -= len;
  }
  return { ...points[points.length - 1]!, heading: 0, leg: legs.length - 1 };
}

/** Total length of a route in metres (closed when `loop`). */
export function routeLengthM(waypoints: readonly LatLon[], loop = true): number {
  let total = 0;
  const points = loop && waypoints.length > 1 ? [...waypoints, waypoints[0]!] : waypoints;
  for (let i = 0; i + 1 < points.length; i++) total += distanceM(points[i]!, points[i + 1]!);
  return total;
}
