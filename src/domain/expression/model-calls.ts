/**
 * Calls that read a model learned from the stored hourly roll-ups rather than a state fed by
 * messages: `expected(key)` and `deviation(key)` (the hour-of-week baseline) and
 * `forecastMin(key, hours)` / `forecastMax(key, hours)` (the Holt–Winters forecast). The engine
 * loads each (device, key) model once, when a rule first needs it, and refreshes it hourly; a call
 * answers null until the model has its minimum history, so nothing fires on a new device.
 */
import { ExpressionError } from './errors.js';
import type { Node } from './parser.js';

export type ModelKind = 'expected' | 'deviation' | 'forecastMin' | 'forecastMax';

/** Forecast horizons a rule may ask for, in hours (the engine forecasts this far once an hour). */
export const MAX_RULE_FORECAST_HOURS = 168;

export const MODEL_FUNCTIONS: Record<ModelKind, string> = {
  expected: 'expected(key): the seasonal baseline of the key at this hour of the week, learned from its hourly roll-ups (null before two weeks of history)',
  deviation: 'deviation(key): (value − expected(key)) in robust standard deviations of the residuals of the baseline',
  forecastMin: `forecastMin(key, hours): the lowest Holt–Winters forecast of the key over the next 1–${MAX_RULE_FORECAST_HOURS} hours (null before two days of history)`,
  forecastMax: `forecastMax(key, hours): the highest Holt–Winters forecast of the key over the next 1–${MAX_RULE_FORECAST_HOURS} hours`,
};

export interface ModelUse {
  readonly fn: ModelKind;
  readonly key: string;
  /** Forecast calls: hours ahead. */
  readonly hours?: number;
  readonly slot: string;
}

export interface ModelRef extends ModelUse {
  /** The number the condition compares the call with, reported in alarms. */
  readonly threshold?: number;
}

export function isModelFunction(name: string): name is ModelKind {
  return Object.hasOwn(MODEL_FUNCTIONS, name);
}

/** Whether the call needs the baseline (true) or the forecast (false). */
export function usesBaseline(fn: ModelKind): boolean {
  return fn === 'expected' || fn === 'deviation';
}

type CallNode = Extract<Node, { kind: 'call' }>;
const uses = new WeakMap<CallNode, ModelUse>();

function check(node: CallNode, fn: ModelKind): ModelUse {
  const forecast = !usesBaseline(fn);
  const want = forecast ? 2 : 1;
  if (node.args.length !== want) {
    throw new ExpressionError(`${fn}() takes ${want} argument${want === 1 ? '' : 's'}, got ${node.args.length}: ${MODEL_FUNCTIONS[fn].split(':')[0] as string}`, node.pos);
  }
  const first = node.args[0] as Node;
  let key: string;
  if (first.kind === 'ident') key = first.name;
  else if (first.kind === 'literal' && typeof first.value === 'string' && first.value.length > 0) key = first.value;
  else throw new ExpressionError(`${fn}() needs a telemetry key as its first argument, a name or a string`, first.pos);
  if (!forecast) return { fn, key, slot: `${fn}(${JSON.stringify(key)})` };
  const arg = node.args[1] as Node;
  const hours = arg.kind === 'literal' && typeof arg.value === 'number' ? arg.value : undefined;
  if (hours === undefined || !Number.isInteger(hours) || hours < 1 || hours > MAX_RULE_FORECAST_HOURS) {
    throw new ExpressionError(`${fn}() hours must be an integer literal from 1 to ${MAX_RULE_FORECAST_HOURS}`, arg.pos);
  }
  return { fn, key, hours, slot: `${fn}(${JSON.stringify(key)},${hours})` };
}

/** The checked call (memoized: evaluation asks on every message). Throws ExpressionError. */
export function modelUse(node: CallNode): ModelUse {
  let use = uses.get(node);
  if (!use) {
    if (!isModelFunction(node.name)) throw new ExpressionError(`"${node.name}" is not a model function`, node.pos);
    use = check(node, node.name);
    uses.set(node, use);
  }
  return use;
}
