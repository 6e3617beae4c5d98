/**
 * The static check of detector calls (ewma, zscore, rzscore, cusum, pagehinkley, slope, timeTo):
 * the key must be a name or string, every parameter a number literal in its range, so a rule
 * that saves is a rule whose detectors can run; problems point at the argument at fault.
 */
import { DEFAULT_WINDOW, isDetectorKind, minHistoryOf, type DetectorKind, type DetectorUse } from '../detectors/detectors.js';
import { ExpressionError } from './errors.js';
import type { Node } from './parser.js';

type CallNode = Extract<Node, { kind: 'call' }>;

export const MAX_DETECTOR_WINDOW = 10_000;

/** Name → signature and meaning, merged into FUNCTIONS (error messages, docs). */
export const DETECTOR_FUNCTIONS: Record<DetectorKind, string> = {
  ewma: 'ewma(key, alpha): exponentially weighted moving average, 0 < alpha ≤ 1',
  zscore: 'zscore(key[, window]): (value − EW mean) / EW standard deviation over about `window` samples (default 100)',
  rzscore: 'rzscore(key[, window]): robust z-score against a streaming median/MAD-like location and scale (outliers clipped)',
  surprise: 'surprise(key[, window]): how unusual the recent z-scores are against their own long-run distribution (in its standard deviations; default window 300)',
  cusum: 'cusum(key, k, h): two-sided CUSUM drift detector, k and h in standard deviations of the first 30 samples: true when drift is detected',
  pagehinkley: 'pagehinkley(key, delta, lambda): two-sided Page–Hinkley drift test in the key\'s units: true when drift is detected',
  slope: 'slope(key[, window]): trend of the key per minute, EW least squares over about `window` samples (default 100)',
  timeTo: 'timeTo(key, threshold[, window]): minutes until the trend reaches threshold (null when moving away)',
};

interface ParamSpec {
  readonly name: string;
  readonly check: (x: number) => boolean;
  readonly range: string;
  readonly default?: number;
}

const window: ParamSpec = { name: 'window', check: (x) => Number.isInteger(x) && x >= 2 && x <= MAX_DETECTOR_WINDOW, range: `an integer from 2 to ${MAX_DETECTOR_WINDOW}`, default: DEFAULT_WINDOW };
const positive = (name: string): ParamSpec => ({ name, check: (x) => x > 0, range: 'a number greater than 0' });
const nonNegative = (name: string): ParamSpec => ({ name, check: (x) => x >= 0, range: 'a number 0 or greater' });

const PARAMS: Record<DetectorKind, readonly ParamSpec[]> = {
  ewma: [{ name: 'alpha', check: (x) => x > 0 && x <= 1, range: 'a number in (0, 1]' }],
  zscore: [window],
  rzscore: [window],
  surprise: [{ ...window, default: 300 }],
  cusum: [nonNegative('k'), positive('h')],
  pagehinkley: [nonNegative('delta'), positive('lambda')],
  slope: [window],
  timeTo: [{ name: 'threshold', check: Number.isFinite, range: 'a number' }, window],
};

export function isDetectorFunction(name: string): name is DetectorKind {
  return isDetectorKind(name);
}

/** A number literal, or a negated one (`timeTo(level, -5)`). */
function numberLiteral(node: Node): number | undefined {
  if (node.kind === 'literal' && typeof node.value === 'number') return node.value;
  if (node.kind === 'unary' && node.op === '-' && node.operand.kind === 'literal' && typeof node.operand.value === 'number') return -node.operand.value;
  return undefined;
}

function checkUse(node: CallNode, fn: DetectorKind): DetectorUse {
  const specs = PARAMS[fn];
  const least = 1 + specs.filter((p) => p.default === undefined).length;
  const most = 1 + specs.length;
  const n = node.args.length;
  if (n < least || n > most) {
    const want = least === most ? `${least}` : `${least} to ${most}`;
    const signature = DETECTOR_FUNCTIONS[fn].split(':')[0] as string;
    throw new ExpressionError(`${fn}() takes ${want} arguments, got ${n}: ${signature}`, node.pos);
  }
  const first = node.args[0] as Node;
  let key: string;
  if (first.kind === 'ident') key = first.name;
  else if (first.kind === 'literal' && typeof first.value === 'string' && first.value.length > 0) key = first.value;
  else throw new ExpressionError(`${fn}() needs a telemetry key as its first argument, a name or a string`, first.pos);
  const params = specs.map((spec, i) => {
    const arg = node.args[i + 1];
    if (arg === undefined) return spec.default as number;
    const value = numberLiteral(arg);
    if (value === undefined) throw new ExpressionError(`${fn}() needs ${spec.name} as a number literal`, arg.pos);
    if (!spec.check(value)) throw new ExpressionError(`${fn}() ${spec.name} must be ${spec.range}, got ${value}`, arg.pos);
    return value;
  });
  return { fn, key, params, slot: `${fn}(${JSON.stringify(key)},${params.join(',')})`, minHistory: minHistoryOf(fn, params) };
}

const uses = new WeakMap<CallNode, DetectorUse>();

/** The checked detector call (memoized: evaluation asks on every message). Throws ExpressionError. */
export function detectorUse(node: CallNode): DetectorUse {
  let use = uses.get(node);
  if (!use) {
    if (!isDetectorFunction(node.name)) throw new ExpressionError(`"${node.name}" is not a detector`, node.pos);
    use = checkUse(node, node.name);
    uses.set(node, use);
  }
  return use;
}
