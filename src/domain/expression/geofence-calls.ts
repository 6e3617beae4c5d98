/**
 * The static check of the zone calls entered(zone[, delay]), left(zone[, delay]) and
 * dwell(zone[, delay]): the zone is a name or an id (a bare name or a string), the delay a
 * duration string ("30s") or a number of seconds. The state they share lives in
 * domain/zones/geofence.ts; calls on the same zone with the same delay share one state.
 */
import { parseDuration } from '../duration.js';
import { ExpressionError } from './errors.js';
import type { Node } from './parser.js';

export type GeofenceKind = 'entered' | 'left' | 'dwell';
const KINDS: readonly string[] = ['entered', 'left', 'dwell'];

/** The telemetry keys a position is read from (ThingsBoard's and the fleet pack's names). */
export const LATITUDE_KEY = 'latitude';
export const LONGITUDE_KEY = 'longitude';

export const MAX_GEOFENCE_DELAY_MS = 86_400_000;

export interface GeofenceUse {
  readonly fn: GeofenceKind;
  /** The zone's id or name, resolved against the zones the device sees at evaluation time. */
  readonly zone: string;
  readonly delayMs: number;
  /** Identity of the state: `zone("depot",30000)`. */
  readonly slot: string;
}

export const GEOFENCE_FUNCTIONS: Record<GeofenceKind, string> = {
  entered: 'entered(zone[, delay]): true on the message that confirms the device entered the zone (by name or id), after `delay` inside (e.g. "30s"; default 0)',
  left: 'left(zone[, delay]): true on the message that confirms the device left the zone (beyond its margin for `delay`)',
  dwell: 'dwell(zone[, delay]): seconds the device has been inside the zone (0 outside, null before its first position)',
};

export function isGeofenceFunction(name: string): name is GeofenceKind {
  return KINDS.includes(name);
}

type CallNode = Extract<Node, { kind: 'call' }>;

function delayOf(node: Node | undefined, fn: string): number {
  if (node === undefined) return 0;
  let ms: number | undefined;
  if (node.kind === 'literal' && typeof node.value === 'string') ms = parseDuration(node.value);
  else if (node.kind === 'literal' && typeof node.value === 'number') ms = node.value * 1000;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) throw new ExpressionError(`${fn}() needs the delay as a duration such as "30s" or a number of seconds`, node.pos);
  if (ms > MAX_GEOFENCE_DELAY_MS) throw new ExpressionError(`${fn}() delay longer than 1 day`, node.pos);
  return Math.round(ms);
}

const uses = new WeakMap<CallNode, GeofenceUse>();

/** The checked zone call (memoized: evaluation asks on every message). Throws ExpressionError. */
export function geofenceUse(node: CallNode): GeofenceUse {
  let use = uses.get(node);
  if (use) return use;
  if (!isGeofenceFunction(node.name)) throw new ExpressionError(`"${node.name}" is not a zone function`, node.pos);
  const fn = node.name;
  if (node.args.length < 1 || node.args.length > 2) throw new ExpressionError(`${fn}() takes 1 to 2 arguments, got ${node.args.length}: ${fn}(zone[, delay])`, node.pos);
  const first = node.args[0] as Node;
  let zone: string;
  if (first.kind === 'ident') zone = first.name;
  else if (first.kind === 'literal' && typeof first.value === 'string' && first.value.length > 0) zone = first.value;
  else throw new ExpressionError(`${fn}() needs a zone name or id as its first argument`, first.pos);
  const delayMs = delayOf(node.args[1], fn);
  use = { fn, zone, delayMs, slot: `zone(${JSON.stringify(zone)},${delayMs})` };
  uses.set(node, use);
  return use;
}
