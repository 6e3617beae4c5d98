/**
 * Geometry for fleet rules: great-circle distance and point-in-polygon over [lat, lon] pairs, the
 * shape a geofence takes as an attribute (`[[52.51, 13.37], [52.52, 13.41], …]`), or a list of
 * such polygons (a depot and the customers' loading zones).
 */
import type { JsonValue } from '../telemetry.js';

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Haversine distance in metres; accurate to ~0.5 % (spherical Earth), plenty for geofences. */
export function distanceMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The polygon's vertices when `value` is a list of at least three [lat, lon] number pairs. */
export function polygonOf(value: JsonValue): [number, number][] | undefined {
  if (!Array.isArray(value) || value.length < 3) return undefined;
  const points: [number, number][] = [];
  for (const p of value) {
    if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') return undefined;
    points.push([p[0], p[1]]);
  }
  return points;
}

/** One polygon, or several (a list of polygons): the areas `inside()` accepts. */
export function areasOf(value: JsonValue): [number, number][][] | undefined {
  const single = polygonOf(value);
  if (single) return [single];
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const many: [number, number][][] = [];
  for (const item of value) {
    const polygon = polygonOf(item);
    if (!polygon) return undefined;
    many.push(polygon);
  }
  return many;
}

/** Ray casting on the plane of lat/lon degrees: fine for fences far smaller than a hemisphere. */
export function insidePolygon(lat: number, lon: number, polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [yi, xi] = polygon[i] as readonly [number, number];
    const [yj, xj] = polygon[j] as readonly [number, number];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
