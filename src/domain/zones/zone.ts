/**
 * Zones (geofences): a circle or a polygon owned by a tenant, a device profile or a device.
 * Geometry is GeoJSON (RFC 7946): a Polygon is a list of linear rings of [lon, lat] positions,
 * the first the outer boundary and any others holes (§3.1.6: a ring is closed — its first and
 * last positions are equal — and has at least four positions). GeoJSON has no circle, so a
 * circle is a Point with a `radius` in metres, the common extension of that format.
 */
import { PlatformError } from '../errors.js';

export type ZoneOwnerType = 'tenant' | 'profile' | 'device';
export const ZONE_OWNER_TYPES: readonly ZoneOwnerType[] = ['tenant', 'profile', 'device'];

export interface PolygonGeometry {
  readonly type: 'Polygon';
  /** Rings of [lon, lat] positions (GeoJSON order), each closed. */
  readonly coordinates: readonly (readonly (readonly [number, number])[])[];
}

export interface CircleGeometry {
  readonly type: 'Point';
  /** [lon, lat] of the centre. */
  readonly coordinates: readonly [number, number];
  /** Metres. */
  readonly radius: number;
}

export type ZoneGeometry = PolygonGeometry | CircleGeometry;

export interface Zone {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly ownerType: ZoneOwnerType;
  /** The profile's or the device's id; absent for a tenant zone. */
  readonly ownerId?: string;
  readonly geometry: ZoneGeometry;
  /**
   * Hysteresis band in metres outside the boundary: a position inside the zone counts as in, one
   * beyond the band as out, one within the band changes nothing — so GPS jitter along the
   * boundary does not make a vehicle enter and leave again and again.
   */
  readonly marginM: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ZoneInput {
  readonly name: string;
  readonly ownerType: ZoneOwnerType;
  readonly ownerId?: string;
  readonly geometry: unknown;
  readonly marginM?: number;
}

/** All rings of a polygon together; a city district drawn by hand has a few hundred. */
export const MAX_ZONE_VERTICES = 2000;
export const MAX_ZONE_RINGS = 20;
export const MAX_RADIUS_M = 1_000_000;
export const MAX_MARGIN_M = 10_000;
export const DEFAULT_MARGIN_M = 20;
export const MAX_ZONE_NAME = 100;

const invalid = (detail: string): PlatformError => new PlatformError('INVALID_ZONE', detail);

function position(value: unknown, at: string): [number, number] {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) throw invalid(`${at}: a position is [lon, lat]`);
  const [lon, lat] = value as unknown[];
  if (typeof lon !== 'number' || !Number.isFinite(lon) || lon < -180 || lon > 180) throw invalid(`${at}: longitude must be a number from -180 to 180`);
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) throw invalid(`${at}: latitude must be a number from -90 to 90`);
  return [lon, lat];
}

function polygon(coordinates: unknown): PolygonGeometry {
  if (!Array.isArray(coordinates) || coordinates.length === 0) throw invalid('geometry.coordinates: a Polygon is a non-empty list of rings');
  if (coordinates.length > MAX_ZONE_RINGS) throw invalid(`geometry.coordinates: at most ${MAX_ZONE_RINGS} rings`);
  let vertices = 0;
  const rings = coordinates.map((ring: unknown, r) => {
    if (!Array.isArray(ring) || ring.length < 4) throw invalid(`geometry.coordinates[${r}]: a ring has at least four positions (RFC 7946 §3.1.6)`);
    vertices += ring.length;
    if (vertices > MAX_ZONE_VERTICES) throw invalid(`geometry: at most ${MAX_ZONE_VERTICES} positions in all`);
    const points = ring.map((p: unknown, i) => position(p, `geometry.coordinates[${r}][${i}]`));
    const first = points[0] as [number, number];
    const last = points[points.length - 1] as [number, number];
    if (first[0] !== last[0] || first[1] !== last[1]) throw invalid(`geometry.coordinates[${r}]: a ring must be closed (its last position equal to its first)`);
    return points;
  });
  return { type: 'Polygon', coordinates: rings };
}

/** Checks a geometry as a client sent it; throws INVALID_ZONE naming the field at fault. */
export function parseGeometry(value: unknown): ZoneGeometry {
  if (value === null || typeof value !== 'object') throw invalid('geometry: a GeoJSON Polygon or a Point with a radius');
  const g = value as { type?: unknown; coordinates?: unknown; radius?: unknown };
  if (g.type === 'Polygon') return polygon(g.coordinates);
  if (g.type === 'Point') {
    const centre = position(g.coordinates, 'geometry.coordinates');
    if (typeof g.radius !== 'number' || !Number.isFinite(g.radius) || g.radius <= 0 || g.radius > MAX_RADIUS_M) throw invalid(`geometry.radius: metres, more than 0 and at most ${MAX_RADIUS_M}`);
    return { type: 'Point', coordinates: centre, radius: g.radius };
  }
  throw invalid('geometry.type: "Polygon", or "Point" with a radius');
}

/** Checks everything but the owner's existence (the service's job); throws INVALID_ZONE. */
export function checkZoneInput(input: ZoneInput): { name: string; ownerType: ZoneOwnerType; ownerId?: string; geometry: ZoneGeometry; marginM: number } {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > MAX_ZONE_NAME) throw invalid(`name: 1 to ${MAX_ZONE_NAME} characters`);
  if (!ZONE_OWNER_TYPES.includes(input.ownerType)) throw invalid(`ownerType: one of ${ZONE_OWNER_TYPES.join(', ')}`);
  if (input.ownerType === 'tenant' && input.ownerId !== undefined) throw invalid('ownerId: a tenant zone has no owner id');
  if (input.ownerType !== 'tenant' && (typeof input.ownerId !== 'string' || input.ownerId.length === 0)) throw invalid(`ownerId: the ${input.ownerType}'s id`);
  const marginM = input.marginM ?? DEFAULT_MARGIN_M;
  if (!Number.isFinite(marginM) || marginM < 0 || marginM > MAX_MARGIN_M) throw invalid(`marginM: metres from 0 to ${MAX_MARGIN_M}`);
  const geometry = parseGeometry(input.geometry);
  return { name, ownerType: input.ownerType, ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}), geometry, marginM };
}

/**
 * The zone a rule means by `ref` (an id, else a name) among those a device sees: its own, its
 * profile's and its tenant's. On a name shared by several, the most specific owner wins.
 */
export function resolveZone(zones: readonly Zone[], ref: string, device: { readonly id: string; readonly profileId?: string }): Zone | undefined {
  let best: Zone | undefined;
  let bestRank = -1;
  for (const z of zones) {
    const rank = z.ownerType === 'device' ? (z.ownerId === device.id ? 2 : -1) : z.ownerType === 'profile' ? (z.ownerId === device.profileId ? 1 : -1) : 0;
    if (rank < 0) continue;
    if (z.id === ref) return z;
    if (z.name === ref && rank > bestRank) {
      best = z;
      bestRank = rank;
    }
  }
  return best;
}
