/**
 * Tree-walking evaluation of a checked expression over JSON values. Missing data is `null` and
 * flows through quietly (comparisons with null are false, arithmetic with null is null), so a
 * device that has not yet reported a key never makes a rule throw; a real type mistake (text
 * where a number belongs) does throw, with the position of the operator.
 */
import type { AttributeScope } from '../device.js';
import type { JsonValue } from '../telemetry.js';
import { ExpressionError, type Position } from './errors.js';
import type { DetectorUse } from '../detectors/detectors.js';
import { detectorUse, isDetectorFunction } from './detector-calls.js';
import { isModelFunction, modelUse, type ModelUse } from './model-calls.js';
import { geofenceUse, isGeofenceFunction, type GeofenceUse } from './geofence-calls.js';
import { attributeOfIdentifier, isWindowFunction, windowUse, type WindowAgg, type WindowSpec } from './functions.js';
import { areasOf, distanceMetres, insidePolygon } from './geo.js';
import type { Node } from './parser.js';

/** What an expression can read. Every lookup answers undefined for "no such value". */
export interface Scope {
  /** A bare or dotted identifier that is not an attribute reference. */
  ident(name: string): JsonValue | undefined;
  window(agg: WindowAgg, key: string, spec: WindowSpec): number | null;
  attr(name: string, scope?: AttributeScope): JsonValue | undefined;
  latest(key: string): JsonValue | undefined;
  /** The current answer of a detector call (null before its minimum history). */
  detector(use: DetectorUse): JsonValue;
  /** The answer of a model call (expected, deviation, forecastMin/Max): null while the model is not learned (or no models are available, as in a bare scope). */
  model?(use: ModelUse): JsonValue;
  /** The answer of a zone call (entered, left, dwell): null where zones are not available or the zone is unknown. */
  geofence?(use: GeofenceUse): JsonValue;
}

/** null, false, 0, NaN and "" are false; everything else (including [] and {}) is true. */
export function truthy(v: JsonValue): boolean {
  if (v === null || v === false || v === '' || v === 0) return false;
  return !(typeof v === 'number' && Number.isNaN(v));
}

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'object' : typeof v;
}

function fail(message: string, pos: Position): never {
  throw new ExpressionError(message, pos);
}

/** A non-finite result (x / 0) is no value rather than Infinity, which JSON cannot carry. */
const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i] as JsonValue));
  const ka = Object.keys(a);
  const kb = Object.keys(b as Record<string, JsonValue>);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, JsonValue>)[k] as JsonValue, (b as Record<string, JsonValue>)[k] as JsonValue));
}

function compare(op: '<' | '<=' | '>' | '>=', l: JsonValue, r: JsonValue, pos: Position): boolean {
  if (l === null || r === null) return false;
  const bothNumbers = typeof l === 'number' && typeof r === 'number';
  const bothStrings = typeof l === 'string' && typeof r === 'string';
  if (!bothNumbers && !bothStrings) fail(`cannot compare ${typeName(l)} ${op} ${typeName(r)}`, pos);
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
  }
}

function contains(needle: JsonValue, haystack: JsonValue, pos: Position): boolean {
  if (haystack === null) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => deepEqual(item, needle));
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  if (typeof haystack === 'object') return typeof needle === 'string' && Object.hasOwn(haystack, needle);
  return fail(`"in" needs a list, a string or an object on its right, got ${typeName(haystack)}`, pos);
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%', l: JsonValue, r: JsonValue, pos: Position): JsonValue {
  if (l === null || r === null) return null;
  if (op === '+' && (typeof l === 'string' || typeof r === 'string')) {
    const ok = (v: JsonValue): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    if (ok(l) && ok(r)) return String(l) + String(r);
  }
  if (typeof l !== 'number' || typeof r !== 'number') fail(`cannot apply ${op} to ${typeName(l)} and ${typeName(r)}`, pos);
  switch (op) {
    case '+':
      return finite(l + r);
    case '-':
      return finite(l - r);
    case '*':
      return finite(l * r);
    case '/':
      return finite(l / r);
    case '%':
      return finite(l % r);
  }
}

function numberArg(v: JsonValue, fn: string, pos: Position): number | null {
  if (v === null) return null;
  if (typeof v !== 'number') fail(`${fn}() needs a number, got ${typeName(v)}`, pos);
  return v;
}

function call(node: Extract<Node, { kind: 'call' }>, scope: Scope): JsonValue {
  if (isWindowFunction(node.name)) {
    const use = windowUse(node);
    return scope.window(use.agg, use.key, use.spec);
  }
  if (isDetectorFunction(node.name)) return scope.detector(detectorUse(node));
  if (isModelFunction(node.name)) return scope.model?.(modelUse(node)) ?? null;
  if (isGeofenceFunction(node.name)) return scope.geofence?.(geofenceUse(node)) ?? null;
  const literal = (i: number): string => {
    const arg = node.args[i];
    if (arg?.kind === 'literal' && typeof arg.value === 'string') return arg.value;
    if (arg?.kind === 'ident') return arg.name;
    return fail(`${node.name}() argument ${i + 1} must be a literal`, arg?.pos ?? node.pos);
  };
  switch (node.name) {
    case 'attr':
      return scope.attr(literal(0), node.args.length > 1 ? (literal(1) as AttributeScope) : undefined) ?? null;
    case 'latest':
      return scope.latest(literal(0)) ?? null;
    case 'abs': {
      const x = numberArg(evaluate(node.args[0] as Node, scope), 'abs', node.pos);
      return x === null ? null : Math.abs(x);
    }
    case 'round': {
      const x = numberArg(evaluate(node.args[0] as Node, scope), 'round', node.pos);
      const d = node.args.length > 1 ? numberArg(evaluate(node.args[1] as Node, scope), 'round', node.pos) : 0;
      if (x === null || d === null) return null;
      const digits = Math.max(0, Math.min(15, Math.trunc(d)));
      const f = 10 ** digits;
      return finite(Math.round(x * f) / f);
    }
    case 'distance': {
      const [lat1, lon1, lat2, lon2] = node.args.map((a) => numberArg(evaluate(a, scope), 'distance', node.pos));
      if (lat1 == null || lon1 == null || lat2 == null || lon2 == null) return null;
      // Coordinates far outside ±90/±180 overflow the haversine to NaN: no value, as for x / 0.
      return finite(distanceMetres(lat1, lon1, lat2, lon2));
    }
    case 'inside': {
      const lat = numberArg(evaluate(node.args[0] as Node, scope), 'inside', node.pos);
      const lon = numberArg(evaluate(node.args[1] as Node, scope), 'inside', node.pos);
      const area = evaluate(node.args[2] as Node, scope);
      if (lat === null || lon === null || area === null) return null;
      const areas = areasOf(area);
      if (!areas) return fail('inside() needs a polygon (a list of at least three [lat, lon] pairs) or a list of polygons', (node.args[2] as Node).pos);
      return areas.some((polygon) => insidePolygon(lat, lon, polygon));
    }
    default:
      return fail(`unknown function "${node.name}"`, node.pos);
  }
}

/** Evaluates a parsed expression; throws ExpressionError on a type error. */
export function evaluate(node: Node, scope: Scope): JsonValue {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'ident': {
      const attr = attributeOfIdentifier(node.name);
      return (attr ? scope.attr(attr.name, attr.scope) : scope.ident(node.name)) ?? null;
    }
    case 'list':
      return node.items.map((item) => evaluate(item, scope));
    case 'call':
      return call(node, scope);
    case 'unary': {
      const v = evaluate(node.operand, scope);
      if (node.op === '!') return !truthy(v);
      if (v === null) return null;
      if (typeof v !== 'number') fail(`cannot negate ${typeName(v)}`, node.pos);
      return -v;
    }
    case 'binary':
      break;
  }
  const { op, pos } = node;
  // Short-circuit: the right side is not evaluated (nor can it throw) when the left decides.
  if (op === '&&') return truthy(evaluate(node.left, scope)) && truthy(evaluate(node.right, scope));
  if (op === '||') return truthy(evaluate(node.left, scope)) || truthy(evaluate(node.right, scope));
  const l = evaluate(node.left, scope);
  const r = evaluate(node.right, scope);
  switch (op) {
    case '==':
      return deepEqual(l, r);
    case '!=':
      return !deepEqual(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, l, r, pos);
    case 'in':
      return contains(l, r, pos);
    default:
      return arithmetic(op, l, r, pos);
  }
}
