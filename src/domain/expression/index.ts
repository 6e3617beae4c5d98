/**
 * The rule expression language: a small, safe, non-Turing-complete language parsed by our own
 * Pratt parser and evaluated by walking the tree (no eval, no generated code). docs/RULES.md
 * describes the syntax and why we did not take a library.
 */
import { analyze, type Analysis } from './functions.js';
import { parseExpression, type Node } from './parser.js';

export { ExpressionError, positionAt, type Position } from './errors.js';
export { evaluate, truthy, deepEqual, type Scope } from './evaluate.js';
export { analyze, FUNCTIONS, MAX_WINDOW_COUNT, MAX_WINDOW_MS, type Analysis, type AttributeRef, type DetectorRef, type WindowAgg, type WindowSpec, type WindowUse } from './functions.js';
export { isDetectorFunction, MAX_DETECTOR_WINDOW } from './detector-calls.js';
export { geofenceUse, isGeofenceFunction, LATITUDE_KEY, LONGITUDE_KEY, type GeofenceKind, type GeofenceUse } from './geofence-calls.js';
export { isModelFunction, usesBaseline, MAX_RULE_FORECAST_HOURS, type ModelKind, type ModelRef, type ModelUse } from './model-calls.js';
export { parseExpression, MAX_EXPRESSION_LENGTH, type Node } from './parser.js';
export { isTemplate, mergeAnalyses, parseTemplate, renderTemplate, type Template } from './template.js';

export interface CompiledExpression {
  readonly source: string;
  readonly node: Node;
  readonly analysis: Analysis;
}

/** Parses and checks an expression; throws ExpressionError pointing at the first problem. */
export function compileExpression(source: string): CompiledExpression {
  const node = parseExpression(source);
  return { source, node, analysis: analyze(node) };
}
