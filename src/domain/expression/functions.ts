/**
 * The fixed function whitelist and the static check of a parsed expression. The check runs when
 * a rule is saved: unknown functions and malformed arguments are reported with their position,
 * and the analysis tells the engine what to keep (windows per key) and what to fetch (latest
 * values, attributes) before it evaluates, so evaluation itself is synchronous and cheap.
 */
import { parseDuration } from '../duration.js';
import type { AttributeScope } from '../device.js';
import type { DetectorUse } from '../detectors/detectors.js';
import { DETECTOR_FUNCTIONS, detectorUse, isDetectorFunction } from './detector-calls.js';
import { ExpressionError } from './errors.js';
import { GEOFENCE_FUNCTIONS, geofenceUse, isGeofenceFunction, LATITUDE_KEY, LONGITUDE_KEY, type GeofenceUse } from './geofence-calls.js';
import { MODEL_FUNCTIONS, isModelFunction, modelUse, type ModelRef, type ModelUse } from './model-calls.js';
import type { Node } from './parser.js';

export type WindowAgg = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'rate';
export const WINDOW_AGGS: readonly WindowAgg[] = ['avg', 'min', 'max', 'sum', 'count', 'rate'];

/** Over the last `ms` milliseconds (by message timestamp) or the last `n` messages. */
export type WindowSpec = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'count'; readonly n: number };

export interface WindowUse {
  readonly agg: WindowAgg;
  readonly key: string;
  readonly spec: WindowSpec;
}

export interface AttributeRef {
  readonly name: string;
  /** Absent: looked up in server, then shared, then client scope. */
  readonly scope?: AttributeScope;
}

export interface Analysis {
  /** Bare identifiers (message keys with fallback to latest values), dotted names whole. */
  readonly identifiers: readonly string[];
  readonly windows: readonly WindowUse[];
  readonly attributes: readonly AttributeRef[];
  readonly latestKeys: readonly string[];
  /** Detector calls, one per state slot; `threshold` when the expression compares the call with a number. */
  readonly detectors: readonly DetectorRef[];
  /** Calls reading a model learned from the hourly roll-ups (expected, deviation, forecastMin/Max), one per slot. */
  readonly models: readonly ModelRef[];
  /** Zone calls (entered, left, dwell), one per state slot. */
  readonly geofences: readonly GeofenceUse[];
}

export interface DetectorRef extends DetectorUse {
  readonly threshold?: number;
}

export const MAX_WINDOW_MS = 7 * 86_400_000;
export const MAX_WINDOW_COUNT = 10_000;
export const SCOPES: readonly AttributeScope[] = ['client', 'shared', 'server'];

/** Name → what it does; shown by GET /api/rules/actions' sibling docs and in error messages. */
export const FUNCTIONS: Record<string, string> = {
  avg: 'avg(key, "10m" | N): average over the last duration or the last N messages',
  min: 'min(key, "10m" | N): minimum over the window',
  max: 'max(key, "10m" | N): maximum over the window',
  sum: 'sum(key, "10m" | N): sum over the window',
  count: 'count(key, "10m" | N): number of numeric samples in the window',
  rate: 'rate(key, "5m" | N): change per minute between the first and last sample of the window',
  attr: 'attr("name"[, "client" | "shared" | "server"]): an attribute of the device',
  latest: 'latest("key"): the latest stored value of a telemetry key',
  abs: 'abs(x)',
  round: 'round(x[, digits])',
  distance: 'distance(lat1, lon1, lat2, lon2): great-circle distance in metres',
  inside: 'inside(lat, lon, area): whether the point lies in a polygon of [lat, lon] pairs, or in any of a list of polygons, e.g. attr("geofence")',
  ...DETECTOR_FUNCTIONS,
  ...MODEL_FUNCTIONS,
  ...GEOFENCE_FUNCTIONS,
};

/** Fixed arity (min, max) of the plain functions. */
const ARITY: Record<string, readonly [number, number]> = { abs: [1, 1], round: [1, 2], distance: [4, 4], inside: [3, 3] };

/** A scope-qualified identifier (`shared.rainForecast`) names an attribute, not a telemetry key. */
export function attributeOfIdentifier(name: string): AttributeRef | undefined {
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const scope = name.slice(0, dot) as AttributeScope;
  return SCOPES.includes(scope) ? { name: name.slice(dot + 1), scope } : undefined;
}

function keyArg(node: Node, fn: string): string {
  if (node.kind === 'ident') return node.name;
  if (node.kind === 'literal' && typeof node.value === 'string' && node.value.length > 0) return node.value;
  throw new ExpressionError(`${fn}() needs a telemetry key as its first argument, a name or a string`, node.pos);
}

function windowArg(node: Node | undefined, fn: string, callPos: Node['pos']): WindowSpec {
  if (node?.kind === 'literal' && typeof node.value === 'string') {
    const ms = parseDuration(node.value);
    if (ms === undefined || ms <= 0) throw new ExpressionError(`"${node.value}" is not a duration (e.g. "30s", "10m", "2h")`, node.pos);
    if (ms > MAX_WINDOW_MS) throw new ExpressionError(`window longer than 7 days`, node.pos);
    return { kind: 'time', ms };
  }
  if (node?.kind === 'literal' && typeof node.value === 'number') {
    if (!Number.isInteger(node.value) || node.value < 1 || node.value > MAX_WINDOW_COUNT) {
      throw new ExpressionError(`a message count must be an integer from 1 to ${MAX_WINDOW_COUNT}`, node.pos);
    }
    return { kind: 'count', n: node.value };
  }
  throw new ExpressionError(`${fn}() needs a window as its second argument: a duration such as "10m" or a message count`, node?.pos ?? callPos);
}

function stringArg(node: Node | undefined, fn: string, what: string, callPos: Node['pos']): string {
  if (node?.kind === 'literal' && typeof node.value === 'string' && node.value.length > 0) return node.value;
  throw new ExpressionError(`${fn}() needs ${what} as a string literal`, node?.pos ?? callPos);
}

function arity(node: CallNode, min: number, max: number): void {
  const n = node.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new ExpressionError(`${node.name}() takes ${want} argument${max === 1 ? '' : 's'}, got ${n}`, node.pos);
  }
}

export type CallNode = Extract<Node, { kind: 'call' }>;

const windowUses = new WeakMap<CallNode, WindowUse>();

/** The window a call to avg/min/max/sum/count/rate reads (memoized: evaluation asks per message). */
export function windowUse(node: CallNode): WindowUse {
  let use = windowUses.get(node);
  if (use) return use;
  arity(node, 2, 2);
  use = { agg: node.name as WindowAgg, key: keyArg(node.args[0] as Node, node.name), spec: windowArg(node.args[1], node.name, node.pos) };
  windowUses.set(node, use);
  return use;
}

export function isWindowFunction(name: string): boolean {
  return (WINDOW_AGGS as readonly string[]).includes(name);
}

/** Checks every call against the whitelist and collects what evaluation will need. */
export function analyze(root: Node): Analysis {
  const identifiers = new Set<string>();
  const windows: WindowUse[] = [];
  const attributes: AttributeRef[] = [];
  const latestKeys = new Set<string>();
  const detectors = new Map<string, DetectorRef>();
  const models = new Map<string, ModelRef>();
  const geofences = new Map<string, GeofenceUse>();

  const visit = (node: Node): void => {
    switch (node.kind) {
      case 'literal':
        return;
      case 'ident': {
        const attr = attributeOfIdentifier(node.name);
        if (attr) attributes.push(attr);
        else identifiers.add(node.name);
        return;
      }
      case 'unary':
        return visit(node.operand);
      case 'binary':
        visit(node.left);
        visit(node.right);
        noteModelThreshold(node, models);
        return noteThreshold(node, detectors);
      case 'list':
        return node.items.forEach(visit);
      case 'call':
        break;
    }
    const fn = node.name;
    if (!Object.hasOwn(FUNCTIONS, fn)) {
      throw new ExpressionError(`unknown function "${fn}" (known: ${Object.keys(FUNCTIONS).join(', ')})`, node.pos);
    }
    if ((WINDOW_AGGS as readonly string[]).includes(fn)) return void windows.push(windowUse(node));
    if (isDetectorFunction(fn)) {
      const use = detectorUse(node);
      if (!detectors.has(use.slot)) detectors.set(use.slot, use);
      return;
    }
    if (isModelFunction(fn)) {
      const use = modelUse(node);
      if (!models.has(use.slot)) models.set(use.slot, use);
      return;
    }
    if (isGeofenceFunction(fn)) {
      const use = geofenceUse(node);
      if (!geofences.has(use.slot)) geofences.set(use.slot, use);
      // The position the calls read: latest values when the message carries none.
      identifiers.add(LATITUDE_KEY);
      identifiers.add(LONGITUDE_KEY);
      return;
    }
    if (fn === 'attr') {
      arity(node, 1, 2);
      const name = stringArg(node.args[0], fn, 'the attribute name', node.pos);
      if (node.args.length === 1) return void attributes.push({ name });
      const scope = stringArg(node.args[1], fn, 'the scope', node.pos) as AttributeScope;
      if (!SCOPES.includes(scope)) throw new ExpressionError(`unknown attribute scope "${scope}" (client, shared, server)`, (node.args[1] as Node).pos);
      return void attributes.push({ name, scope });
    }
    if (fn === 'latest') {
      arity(node, 1, 1);
      latestKeys.add(keyArg(node.args[0] as Node, fn));
      return;
    }
    const [least, most] = ARITY[fn] ?? [1, 1];
    arity(node, least, most);
    node.args.forEach(visit);
  };
  visit(root);
  return { identifiers: [...identifiers], windows, attributes, latestKeys: [...latestKeys], detectors: [...detectors.values()], models: [...models.values()], geofences: [...geofences.values()] };
}

const COMPARISONS = new Set(['<', '<=', '>', '>=']);

/** The detector call under `abs()` or a minus, if that is what a comparison side is. */
function detectorSide(node: Node): DetectorUse | undefined {
  if (node.kind === 'unary' && node.op === '-') return detectorSide(node.operand);
  if (node.kind !== 'call') return undefined;
  if (node.name === 'abs' && node.args.length === 1) return detectorSide(node.args[0] as Node);
  return isDetectorFunction(node.name) ? detectorUse(node) : undefined;
}

function numberSide(node: Node): number | undefined {
  if (node.kind === 'literal' && typeof node.value === 'number') return node.value;
  if (node.kind === 'unary' && node.op === '-' && node.operand.kind === 'literal' && typeof node.operand.value === 'number') return -node.operand.value;
  return undefined;
}

/** `zscore(v) > 3`: 3 is the threshold an alarm from this rule reports beside the score. */
function noteThreshold(node: Extract<Node, { kind: 'binary' }>, detectors: Map<string, DetectorRef>): void {
  if (!COMPARISONS.has(node.op)) return;
  const pairs: [Node, Node][] = [
    [node.left, node.right],
    [node.right, node.left],
  ];
  for (const [a, b] of pairs) {
    const use = detectorSide(a);
    const threshold = numberSide(b);
    const ref = use ? detectors.get(use.slot) : undefined;
    if (ref && threshold !== undefined && ref.threshold === undefined) detectors.set(ref.slot, { ...ref, threshold });
  }
}

function modelSide(node: Node): ModelUse | undefined {
  if (node.kind === 'unary' && node.op === '-') return modelSide(node.operand);
  if (node.kind !== 'call') return undefined;
  if (node.name === 'abs' && node.args.length === 1) return modelSide(node.args[0] as Node);
  return isModelFunction(node.name) ? modelUse(node) : undefined;
}

/** `deviation(load) > 4`, `forecastMin(level, 6) < 5`: the number an alarm reports as the threshold. */
function noteModelThreshold(node: Extract<Node, { kind: 'binary' }>, models: Map<string, ModelRef>): void {
  if (!COMPARISONS.has(node.op)) return;
  for (const [a, b] of [
    [node.left, node.right],
    [node.right, node.left],
  ] as const) {
    const use = modelSide(a);
    const threshold = numberSide(b);
    const ref = use ? models.get(use.slot) : undefined;
    if (ref && threshold !== undefined && ref.threshold === undefined) models.set(ref.slot, { ...ref, threshold });
  }
}
