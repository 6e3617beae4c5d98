/**
 * Route optimisation for a set of stops on the Earth: the order to visit them in and the length
 * of that route by great circle (haversine), from an optional start, as a round trip (back to
 * the start, or to the first stop) or an open path. An open path or a fixed start is solved as a
 * closed tour with one extra node: a start is fixed by a node 0 away from the start and "far"
 * (a constant) from every other stop, so the tour must pass start → that node → some last stop,
 * which makes the rest a path from the start ending anywhere; without a start, a node 0 away from
 * everything cuts the tour into a path with free ends.
 */
import { distanceMetres } from '../expression/geo.js';
import { PlatformError } from '../errors.js';
import { matrixOf, shortTour } from './tour.js';

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

export interface RouteRequest {
  readonly stops: readonly LatLon[];
  readonly start?: LatLon;
  /** Back to where the route began (default true). */
  readonly roundTrip?: boolean;
}

export interface RoutePlan {
  /** Indices into `stops`, in visiting order. */
  readonly order: number[];
  /** Metres, including the legs from and back to `start` where they apply. */
  readonly distanceM: number;
}

export const MAX_ROUTE_STOPS = 500;

function check(p: LatLon, at: string): void {
  if (!Number.isFinite(p.lat) || p.lat < -90 || p.lat > 90) throw new PlatformError('BAD_REQUEST', `${at}.lat: a latitude from -90 to 90`);
  if (!Number.isFinite(p.lon) || p.lon < -180 || p.lon > 180) throw new PlatformError('BAD_REQUEST', `${at}.lon: a longitude from -180 to 180`);
}

export function planRoute(req: RouteRequest): RoutePlan {
  const { stops } = req;
  if (stops.length === 0) throw new PlatformError('BAD_REQUEST', 'stops: at least one stop');
  if (stops.length > MAX_ROUTE_STOPS) throw new PlatformError('BAD_REQUEST', `stops: at most ${MAX_ROUTE_STOPS}`);
  stops.forEach((s, i) => check(s, `stops[${i}]`));
  if (req.start) check(req.start, 'start');
  const roundTrip = req.roundTrip ?? true;
  // Nodes: the stops, then the start (if any), then the helper node (for an open path).
  const points: LatLon[] = [...stops, ...(req.start ? [req.start] : [])];
  const startNode = req.start ? stops.length : -1;
  const helper = roundTrip ? -1 : points.length;
  const n = points.length + (helper >= 0 ? 1 : 0);
  // Larger than any real route (half the Earth's circumference, per stop).
  const far = 20_100_000 * (points.length + 1);
  const dist = (i: number, j: number): number => {
    if (i === helper || j === helper) {
      if (startNode < 0) return 0;
      const other = i === helper ? j : i;
      return other === startNode ? 0 : far;
    }
    const a = points[i] as LatLon;
    const b = points[j] as LatLon;
    return distanceMetres(a.lat, a.lon, b.lat, b.lon);
  };
  const m = matrixOf(n, dist);
  const tour = shortTour(m);
  // Rotate so the route begins at the start, or just after the helper node (an open path), and
  // walk the direction that does not pass through the helper first.
  let seq = tour;
  if (helper >= 0) {
    const h = tour.indexOf(helper);
    seq = [...tour.slice(h + 1), ...tour.slice(0, h)];
    if (startNode >= 0 && seq[0] !== startNode) seq.reverse();
  } else if (startNode >= 0) {
    const s = tour.indexOf(startNode);
    seq = [...tour.slice(s), ...tour.slice(0, s)];
  }
  let distanceM = 0;
  for (let i = 0; i + 1 < seq.length; i++) distanceM += m.d[(seq[i] as number) * n + (seq[i + 1] as number)] as number;
  if (roundTrip && seq.length > 1) distanceM += m.d[(seq[seq.length - 1] as number) * n + (seq[0] as number)] as number;
  return { order: seq.filter((i) => i < stops.length), distanceM };
}
