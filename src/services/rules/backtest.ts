/**
 * Backtest: replays a rule's devices' stored telemetry through the same step the engine runs
 * (domain/rules/runtime.ts), from fresh state, with actions rendered and recorded instead of run.
 * It answers when the rule would have fired and what it would have done, with no side effects.
 *
 * Latest values start as they were just before `from` and advance with the replay; attributes are
 * today's (the store keeps no attribute history). Schedule rules are evaluated at each scheduled
 * minute in the range; attribute and connectivity history is not stored, so those triggers cannot
 * be replayed.
 */
import type { Device } from '../../domain/device.js';
import { PlatformError } from '../../domain/errors.js';
import type { CompiledRule } from '../../domain/rules/compile.js';
import { nextCronTime } from '../../domain/rules/cron.js';
import type { KeyModel } from '../../domain/forecast/key-model.js';
import { hourlySeries, keyModelOf } from '../forecast-models.js';
import { modelNeedsOf } from './models.js';
import { detectorDetails } from '../../domain/rules/explain.js';
import { actionsFor, evaluateRule, feedWindows, readModel, renderActions, type Lookups, type RenderedAction, type RuleMessage } from '../../domain/rules/runtime.js';
import { initialState, type Edge } from '../../domain/rules/state.js';
import type { AttributeScope } from '../../domain/device.js';
import type { JsonValue, TsValue } from '../../domain/telemetry.js';
import type { AttributeStore, TelemetryStore } from '../../ports.js';
import { latestKeysOf } from './device-context.js';
import { targetDevices, type TargetLookup } from './timers.js';

export interface BacktestFiring {
  readonly ts: number;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly edge: Edge;
  readonly actions: RenderedAction[];
}

export interface BacktestResult {
  readonly fired: BacktestFiring[];
  /** Condition evaluations (messages × devices, or scheduled minutes × devices). */
  evaluated: number;
  devices: number;
  /** Messages replayed. */
  messages: number;
  readonly errors: { ts: number; deviceId: string; message: string }[];
  errorCount: number;
  /** More firings happened than `maxFired`; the list holds the first ones. */
  truncated: boolean;
  tookMs: number;
}

export interface BacktestOptions {
  readonly from: number;
  readonly to: number;
  readonly maxDevices?: number;
  readonly maxFired?: number;
  /** Points read in total across keys and devices; a larger replay is refused. */
  readonly maxPoints?: number;
}

export interface BacktestDeps {
  readonly store: Pick<TelemetryStore, 'queryRaw' | 'telemetryKeys' | 'queryAggregated'> & Pick<AttributeStore, 'getAttributes'>;
  readonly registry: TargetLookup;
}

const PAGE = 100_000;
const MAX_ERRORS = 20;
const SCOPES: readonly AttributeScope[] = ['server', 'shared', 'client'];

/** Keys the replay must read: what the rule reads, or every key when it reads none by name. */
async function keysFor(rule: CompiledRule, deviceId: string, store: BacktestDeps['store']): Promise<string[]> {
  const stored = await store.telemetryKeys(deviceId);
  const wanted = new Set([...latestKeysOf(rule), ...rule.retention.keys(), ...rule.analysis.detectors.map((d) => d.key)]);
  return wanted.size === 0 ? stored : stored.filter((k) => wanted.has(k));
}

/** Every stored point of the keys in [from, to], grouped into messages by timestamp (a k-way merge of the sorted series). */
async function readMessages(deps: BacktestDeps, deviceId: string, keys: readonly string[], from: number, to: number, budget: { points: number }): Promise<RuleMessage[]> {
  const series: TsValue[][] = [];
  for (const key of keys) {
    const points: TsValue[] = [];
    let start = from;
    for (;;) {
      const page = (await deps.store.queryRaw({ deviceId, keys: [key], from: start, to, limit: PAGE, order: 'asc' }))[key] ?? [];
      budget.points -= page.length;
      if (budget.points < 0) throw new PlatformError('BAD_REQUEST', 'too much history for one backtest: narrow the time range');
      for (const p of page) points.push(p);
      if (page.length < PAGE) break;
      start = (page[page.length - 1]?.ts ?? to) + 1;
    }
    series.push(points);
  }
  const at = series.map(() => 0);
  const messages: RuleMessage[] = [];
  for (;;) {
    let ts = Infinity;
    for (let k = 0; k < series.length; k++) {
      const p = series[k]?.[at[k] as number];
      if (p && p.ts < ts) ts = p.ts;
    }
    if (ts === Infinity) return messages;
    // Keys are device data: a null-prototype record takes any key, "__proto__" included.
    const values = Object.create(null) as Record<string, JsonValue>;
    for (let k = 0; k < series.length; k++) {
      const p = series[k]?.[at[k] as number];
      if (p?.ts === ts) {
        values[keys[k] as string] = p.value as JsonValue;
        at[k] = (at[k] as number) + 1;
      }
    }
    messages.push({ ts, values });
  }
}

/** Latest values as they stood just before `from`. */
async function latestBefore(deps: BacktestDeps, deviceId: string, keys: readonly string[], from: number): Promise<Map<string, JsonValue>> {
  const out = new Map<string, JsonValue>();
  if (from <= 0 || keys.length === 0) return out;
  const last = await deps.store.queryRaw({ deviceId, keys, from: 0, to: from - 1, limit: 1, order: 'desc' });
  for (const key of keys) {
    const p = Object.hasOwn(last, key) ? last[key]?.[0] : undefined;
    if (p) out.set(key, p.value as JsonValue);
  }
  return out;
}

async function attributesOf(deps: BacktestDeps, deviceId: string): Promise<Map<AttributeScope, Map<string, JsonValue>>> {
  const out = new Map<AttributeScope, Map<string, JsonValue>>();
  for (const scope of SCOPES) out.set(scope, new Map((await deps.store.getAttributes(deviceId, scope)).map((e) => [e.key, e.value])));
  return out;
}

function scheduledMinutes(rule: CompiledRule, from: number, to: number, max: number): number[] {
  const out: number[] = [];
  if (!rule.cron) return out;
  for (let t = nextCronTime(rule.cron, from - 1); t !== undefined && t <= to && out.length < max; t = nextCronTime(rule.cron, t)) out.push(t);
  return out;
}

export async function backtestRule(rule: CompiledRule, deps: BacktestDeps, options: BacktestOptions): Promise<BacktestResult> {
  const started = performance.now();
  const { trigger } = rule.rule;
  if (trigger === 'attributes' || trigger === 'connectivity') {
    throw new PlatformError('BAD_REQUEST', `a ${trigger} rule cannot be backtested: only telemetry is stored with its history`);
  }
  if (options.to < options.from) throw new PlatformError('BAD_REQUEST', '"to" is before "from"');
  const maxFired = options.maxFired ?? 1000;
  const result: BacktestResult = { fired: [], evaluated: 0, devices: 0, messages: 0, errors: [], errorCount: 0, truncated: false, tookMs: 0 };
  const budget = { points: options.maxPoints ?? 5_000_000 };
  const devices: Device[] = await targetDevices(deps.registry, rule.rule, options.maxDevices ?? 1000);
  const ticks = trigger === 'schedule' ? scheduledMinutes(rule, options.from, options.to, 100_000) : [];

  for (const device of devices) {
    result.devices++;
    const keys = await keysFor(rule, device.id, deps.store);
    const latest = await latestBefore(deps, device.id, keys, options.from);
    const attrs = rule.analysis.attributes.length > 0 ? await attributesOf(deps, device.id) : new Map<AttributeScope, Map<string, JsonValue>>();
    // Roll-up models as they could have been learned at `from` (no look-ahead into the replayed range).
    const models = new Map<string, KeyModel>();
    for (const [key, need] of modelNeedsOf(rule)) models.set(key, keyModelOf(await hourlySeries(deps.store, device.id, key, options.from), need));
    const lookups: Lookups = {
      latest: (key) => latest.get(key),
      model: (key) => models.get(key),
      attr: (name, scope) => {
        for (const s of scope ? [scope] : SCOPES) {
          const v = attrs.get(s)?.get(name);
          if (v !== undefined) return v;
        }
        return undefined;
      },
    };
    const messages = await readMessages(deps, device.id, keys, options.from, options.to, budget);
    result.messages += messages.length;
    const state = initialState();
    const ref = { id: device.id, name: device.name };
    const step = (message: RuleMessage, evaluate: boolean, edges: boolean): void => {
      feedWindows(rule, state, message);
      for (const [k, v] of Object.entries(message.values)) latest.set(k, v);
      if (!evaluate) return;
      result.evaluated++;
      try {
        const ev = evaluateRule(rule, state, ref, message, lookups, edges);
        const edge: Edge | undefined = edges ? ev.edge : ev.matched ? 'raise' : undefined;
        if (!edge) return;
        if (result.fired.length >= maxFired) {
          result.truncated = true;
          return;
        }
        result.fired.push({ ts: message.ts, deviceId: device.id, deviceName: device.name, edge, actions: renderActions(actionsFor(rule, edge), ev.scope, edge === 'raise' ? detectorDetails(rule, state, (m) => readModel(ev.scope, m)) : undefined) });
      } catch (err) {
        result.errorCount++;
        if (result.errors.length < MAX_ERRORS) result.errors.push({ ts: message.ts, deviceId: device.id, message: err instanceof Error ? err.message : String(err) });
      }
    };
    if (trigger === 'telemetry') {
      for (const message of messages) step(message, true, true);
      continue;
    }
    // Schedule: telemetry only advances latest values and windows; each scheduled minute evaluates.
    let i = 0;
    for (const minute of ticks) {
      while (i < messages.length && (messages[i] as RuleMessage).ts <= minute) step(messages[i++] as RuleMessage, false, false);
      step({ ts: minute, values: {} }, true, false);
    }
  }
  result.fired.sort((a, b) => a.ts - b.ts);
  result.tookMs = Math.round(performance.now() - started);
  return result;
}
