/**
 * Where a position lies relative to a zone: in, out, or in the hysteresis band just outside the
 * boundary. Distances use a local equirectangular projection around the position (error well
 * under 1 % for zones up to tens of kilometres across), edges as straight lines in that plane.
 */
import { distanceMetres, insidePolygon } from '../expression/geo.js';
import type { Zone, ZoneGeometry } from './zone.js';

export type ZoneSide = 'in' | 'band' | 'out';

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Distance in metres from (lat, lon) to the segment a–b, both [lon, lat]. */
function segmentDistance(lat: number, lon: number, a: readonly [number, number], b: readonly [number, number]): number {
  const kx = Math.cos(lat * RAD) * RAD * EARTH_RADIUS_M;
  const ky = RAD * EARTH_RADIUS_M;
  const ax = (a[0] - lon) * kx;
  const ay = (a[1] - lat) * ky;
  const bx = (b[0] - lon) * kx;
  const by = (b[1] - lat) * ky;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** Distance in metres from the position to the nearest edge of any ring. */
export function distanceToBoundary(lat: number, lon: number, rings: readonly (readonly (readonly [number, number])[])[]): number {
  let best = Infinity;
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) best = Math.min(best, segmentDistance(lat, lon, ring[i - 1] as readonly [number, number], ring[i] as readonly [number, number]));
  }
  return best;
}

/** The rings as [lat, lon] for the ray-casting test geo.ts shares with inside(). */
const latLonRings = new WeakMap<ZoneGeometry, [number, number][][]>();
function ringsLatLon(g: Extract<ZoneGeometry, { type: 'Polygon' }>): [number, number][][] {
  let rings = latLonRings.get(g);
  if (!rings) {
    rings = g.coordinates.map((ring) => ring.map(([x, y]) => [y, x] as [number, number]));
    latLonRings.set(g, rings);
  }
  return rings;
}

/** Inside the outer ring and in no hole (RFC 7946 §3.1.6). */
export function containsPoint(g: ZoneGeometry, lat: number, lon: number): boolean {
  if (g.type === 'Point') return distanceMetres(lat, lon, g.coordinates[1], g.coordinates[0]) <= g.radius;
  const [outer, ...holes] = ringsLatLon(g);
  if (!outer || !insidePolygon(lat, lon, outer)) return false;
  return !holes.some((h) => insidePolygon(lat, lon, h));
}

/** In the zone, beyond its margin outside it, or in between (where a tracker keeps its last state). */
export function sideOf(zone: Pick<Zone, 'geometry' | 'marginM'>, lat: number, lon: number): ZoneSide {
  const g = zone.geometry;
  if (g.type === 'Point') {
    const d = distanceMetres(lat, lon, g.coordinates[1], g.coordinates[0]);
    return d <= g.radius ? 'in' : d <= g.radius + zone.marginM ? 'band' : 'out';
  }
  if (containsPoint(g, lat, lon)) return 'in';
  if (zone.marginM === 0) return 'out';
  return distanceToBoundary(lat, lon, g.coordinates) <= zone.marginM ? 'band' : 'out';
}
