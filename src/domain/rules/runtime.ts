/**
 * One step of a rule for one device, with no I/O: feed the windows, evaluate the condition in a
 * scope built from the message, the latest values and the attributes, move the edge, and render
 * the actions to run. The live engine and the backtest both go through here, so a backtest
 * answers exactly what the engine would have done.
 */
import type { AttributeScope } from '../device.js';
import type { JsonValue } from '../telemetry.js';
import { detectorValue, initialDetectorState, stepDetector, type DetectorUse } from '../detectors/detectors.js';
import { evaluate, renderTemplate, truthy, type ModelUse, type Scope, type WindowAgg, type WindowSpec } from '../expression/index.js';
import type { Zone } from '../zones/zone.js';
import { feedGeofences, geofenceValue } from './geofences.js';
import type { GeofenceUse } from '../expression/geofence-calls.js';
import { modelReading, modelValue, type KeyModel, type ModelReading } from '../forecast/key-model.js';
import type { CompiledAction, CompiledRule } from './compile.js';
import type { ActionConfig } from './model.js';
import { mergeDetails } from './explain.js';
import { detectorState, stepEdge, type Edge, type RuleState } from './state.js';
import { addSample, aggregate, emptySamples, prune } from './window.js';

export interface DeviceRef {
  readonly id: string;
  readonly name: string;
}

/** Values the engine (or the backtest) prepared before the step; lookups are synchronous. */
export interface Lookups {
  latest(key: string): JsonValue | undefined;
  attr(name: string, scope?: AttributeScope): JsonValue | undefined;
  /** The roll-up model of a key (baseline, forecast), loaded before the step; absent = none. */
  model?(key: string): KeyModel | undefined;
  /** A zone the device sees, by id or name (domain/zones/zone.ts resolveZone); absent = no zones. */
  zone?(ref: string): Zone | undefined;
}

export interface RuleMessage {
  /** Message timestamp: windows and durations advance with it. */
  readonly ts: number;
  /** Telemetry points at ts, changed attributes, or the connectivity event. */
  readonly values: Readonly<Record<string, JsonValue>>;
}

export interface Evaluation {
  readonly matched: boolean;
  readonly edge?: Edge;
  readonly scope: Scope;
}

/** An action with its templates rendered: what would be (or is) executed. */
export type RenderedAction = ActionConfig;

/** Whether telemetry must be fed to the rule's state (windows or detectors) even when it is not evaluated. */
export function keepsHistory(compiled: CompiledRule): boolean {
  return compiled.retention.size > 0 || compiled.analysis.detectors.length > 0 || compiled.analysis.geofences.length > 0;
}

function feedDetectors(compiled: CompiledRule, state: RuleState, message: RuleMessage): void {
  for (const use of compiled.analysis.detectors) {
    if (!Object.hasOwn(message.values, use.key)) continue;
    const value = message.values[use.key];
    if (typeof value !== 'number') continue;
    let d = detectorState(state, use);
    if (!d) {
      d = initialDetectorState(use.fn);
      state.detectors ??= {};
      Object.defineProperty(state.detectors, use.slot, { value: d, enumerable: true, writable: true, configurable: true });
    }
    stepDetector(use, d, message.ts, value);
  }
}

/**
 * Adds a telemetry message's numeric values to the windows the rule keeps (then trims them), to
 * its detectors and, given the zones (`lookups`), its zone trackers.
 */
export function feedWindows(compiled: CompiledRule, state: RuleState, message: RuleMessage, lookups?: Pick<Lookups, 'zone'>): void {
  if (compiled.analysis.detectors.length > 0) feedDetectors(compiled, state, message);
  if (compiled.analysis.geofences.length > 0 && lookups?.zone) feedGeofences(compiled.analysis.geofences, state, message, lookups.zone.bind(lookups));
  for (const [key, keep] of compiled.retention) {
    if (!Object.hasOwn(message.values, key)) continue;
    const value = message.values[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    let samples = Object.hasOwn(state.windows, key) ? state.windows[key] : undefined;
    if (!samples) {
      samples = emptySamples();
      Object.defineProperty(state.windows, key, { value: samples, enumerable: true, writable: true, configurable: true });
    }
    addSample(samples, message.ts, value);
    prune(samples, keep);
  }
}

function walkPath(value: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let v = value;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = v[part];
  }
  return v;
}

/**
 * The scope of one evaluation. A class rather than closures: the engine builds one per rule and
 * message, so it should cost one small object and nothing else.
 */
class MessageScope implements Scope {
  constructor(
    private readonly compiled: CompiledRule,
    private readonly state: RuleState,
    private readonly device: DeviceRef,
    private readonly message: RuleMessage,
    private readonly lookups: Lookups,
  ) {}

  private special(name: string): JsonValue | undefined {
    switch (name) {
      case 'deviceName':
        return this.device.name;
      case 'deviceId':
        return this.device.id;
      case 'ruleName':
        return this.compiled.rule.name;
      case 'ruleId':
        return this.compiled.rule.id;
      case 'ts':
        return this.message.ts;
      default:
        return undefined;
    }
  }

  private plain(name: string): JsonValue | undefined {
    const values = this.message.values;
    if (Object.hasOwn(values, name)) return values[name];
    const special = this.special(name);
    if (special !== undefined) return special;
    return this.lookups.latest(name);
  }

  ident(name: string): JsonValue | undefined {
    const direct = this.plain(name);
    if (direct !== undefined || !name.includes('.')) return direct;
    // `gps.lat`: a key holding a JSON object, then a path into it.
    const [root, ...path] = name.split('.');
    return walkPath(this.plain(root as string), path);
  }

  window(agg: WindowAgg, key: string, spec: WindowSpec): number | null {
    const windows = this.state.windows;
    const samples = Object.hasOwn(windows, key) ? windows[key] : undefined;
    return samples ? aggregate(samples, agg, spec, this.message.ts) : agg === 'count' ? 0 : null;
  }

  attr(name: string, scope?: AttributeScope): JsonValue | undefined {
    return this.lookups.attr(name, scope);
  }

  latest(key: string): JsonValue | undefined {
    return this.lookups.latest(key);
  }

  detector(use: DetectorUse): JsonValue {
    return detectorValue(use, detectorState(this.state, use));
  }

  geofence(use: GeofenceUse): JsonValue {
    return geofenceValue(use, this.state, this.message.ts, this.lookups.zone?.(use.zone) !== undefined);
  }

  private numberOf(key: string): number | undefined {
    const v = this.plain(key);
    return typeof v === 'number' ? v : undefined;
  }

  model(use: ModelUse): JsonValue {
    return modelValue(use, this.lookups.model?.(use.key), this.message.ts, this.numberOf(use.key));
  }

  /** For the alarm explanation: what the call read. */
  modelReading(use: ModelUse): ModelReading | null {
    return modelReading(use, this.lookups.model?.(use.key), this.message.ts, this.numberOf(use.key));
  }
}

/** What a model call read in this scope (null for a scope not built here, or before the model has history). */
export function readModel(scope: Scope, use: ModelUse): ModelReading | null {
  return scope instanceof MessageScope ? scope.modelReading(use) : null;
}

export function makeScope(compiled: CompiledRule, state: RuleState, device: DeviceRef, message: RuleMessage, lookups: Lookups): Scope {
  return new MessageScope(compiled, state, device, message, lookups);
}

/**
 * Evaluates the condition and, when `edges` is set, moves the edge. Schedule rules pass
 * `edges: false`: they act at every scheduled time the condition holds. Throws ExpressionError.
 */
export function evaluateRule(compiled: CompiledRule, state: RuleState, device: DeviceRef, message: RuleMessage, lookups: Lookups, edges = true): Evaluation {
  const scope = makeScope(compiled, state, device, message, lookups);
  const matched = truthy(evaluate(compiled.condition, scope));
  if (!edges) return { matched, scope };
  const edge = stepEdge(state, matched, message.ts, compiled.forMs);
  return edge ? { matched, edge, scope } : { matched, scope };
}

function render(value: JsonValue, action: CompiledAction, scope: Scope): JsonValue {
  if (typeof value === 'string') {
    const t = action.templates.get(value);
    return t ? renderTemplate(t, scope) : value;
  }
  if (Array.isArray(value)) return value.map((v) => render(v, action, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: render(v, action, scope), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * The actions of an edge with every template filled in; `explain` (detectorDetails) is merged
 * into the details of alarm actions so an operator sees why. Throws ExpressionError.
 */
export function renderActions(actions: readonly CompiledAction[], scope: Scope, explain?: Readonly<Record<string, JsonValue>>): RenderedAction[] {
  return actions.map((a) => {
    const rendered = render(a.config, a, scope) as RenderedAction;
    return explain && rendered.type === 'alarm' ? mergeDetails(rendered, explain) : rendered;
  });
}

/** Which actions an edge runs. */
export function actionsFor(compiled: CompiledRule, edge: Edge): readonly CompiledAction[] {
  return edge === 'raise' ? compiled.actions : compiled.clearActions;
}
