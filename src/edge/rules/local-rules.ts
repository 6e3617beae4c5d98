/**
 * Local rules (M2M mode): the platform's rule format, evaluated on the edge by the same pure
 * domain code the platform's engine and backtest use (domain/rules: compileRule, feedWindows,
 * evaluateRule, renderActions), so a control loop such as "temperature > 80 → write coil 0"
 * keeps running with the platform unreachable, or with no platform at all (--offline).
 *
 * Triggers (docs/EDGE.md): `telemetry` (each reading), `attributes` (a child's cached shared
 * attribute changed; the message holds the changed keys, deleted ones null), `connectivity` (the
 * connector's view of a field device changed: `event` online/offline, `online`) and `schedule`
 * (cron or `every`, by the edge's clock; acts at each tick the condition holds). Actions:
 * `command`, `telemetry` (a derived reading, not evaluated again), `log`, `alarm`/`clearAlarm`
 * (edge alarms, synced to the platform), `sms` (a text through the edge's SMS connector).
 * `attr()` reads the child's shared attributes cached on the edge; identifiers that are not in
 * the message read the device's latest values seen by the edge. With a RuleStateStore the state
 * of each rule and device (fired or not, `for` timers, windows) is written on every evaluation,
 * before the actions run, and read back at start: a restart during a held condition does not
 * fire it again (at most once, rather than a repeated write after a crash).
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { compileRule, type CompiledRule } from '../../domain/rules/compile.js';
import { detectorDetails } from '../../domain/rules/explain.js';
import type { RuleTrigger } from '../../domain/rules/model.js';
import { actionsFor, evaluateRule, feedWindows, renderActions, type RenderedAction, type RuleMessage } from '../../domain/rules/runtime.js';
import { initialState, type RuleState } from '../../domain/rules/state.js';
import { toDomainRule, type LocalRuleConfig } from '../config.js';
import type { EdgeAlarmSeverity } from '../alarms/alarm-store.js';
import type { EdgeLogger, Reading } from '../ports.js';
import { fingerprint } from './fingerprint.js';
import { startSchedule } from './schedule.js';
import type { RuleStateStore, StoredRule } from './state-store.js';

export interface RuleEffects {
  command(device: string, method: string, params: JsonValue): Promise<JsonValue>;
  /** A derived reading; not evaluated by rules again (no loops). */
  telemetry(reading: Reading): void;
  /** Edge alarms (alarms/alarm-store.ts); absent: alarm actions fail. */
  readonly alarms?: {
    raise(device: string, type: string, severity: EdgeAlarmSeverity, details: JsonValue, ts: number): unknown;
    clear(device: string, type: string, ts: number): unknown;
  };
  /** A text to an SMS connector's device (its number). */
  sms?(device: string, text: string): Promise<JsonValue>;
  /** A child's cached shared attribute (attr()). */
  attr?(device: string, key: string): JsonValue | undefined;
  /** Every device of the edge (schedule rules without `device`). */
  devices?(): readonly string[];
}

interface LoadedRule {
  readonly compiled: CompiledRule;
  readonly trigger: RuleTrigger;
  readonly device?: string;
  readonly stored: StoredRule;
  readonly states: Map<string, RuleState>;
  /** Firings of one rule and device run in order: a clear never overtakes its raise. */
  readonly chains: Map<string, Promise<void>>;
}

const ERROR_LOG_INTERVAL_MS = 10_000;

export class LocalRules {
  private readonly rules: LoadedRule[];
  private readonly latest = new Map<string, Record<string, JsonValue>>();
  private readonly lastErrorLog = new Map<string, number>();
  private counters = { evaluations: 0, firings: 0, errors: 0 };
  /** Devices the connectors reported not answering (connectivity triggers fire on changes only). */
  private readonly offline = new Set<string>();
  private readonly timers: (() => void)[] = [];

  constructor(
    configs: readonly LocalRuleConfig[],
    private readonly effects: RuleEffects,
    private readonly logger: EdgeLogger,
    private readonly store?: RuleStateStore,
  ) {
    const seen = new Map<string, number>();
    this.rules = configs
      .map((c, i) => ({ c, i, stored: storedRule(c, seen) }))
      .filter(({ c }) => c.enabled)
      .map(({ c, i, stored }) => ({
        compiled: compileRule(toDomainRule(c, i)),
        trigger: c.trigger,
        ...(c.device !== undefined ? { device: c.device } : {}),
        stored,
        states: store?.load(stored) ?? new Map<string, RuleState>(),
        chains: new Map(),
      }));
    if (store) {
      const removed = store.retain(this.rules.map((r) => r.stored));
      const restored = this.rules.reduce((n, r) => n + r.states.size, 0);
      logger.info({ restored, removed }, 'local rule state loaded');
    }
    configs.filter((c) => c.enabled).forEach((c, i) => {
      const rule = this.rules[i];
      if (c.trigger !== 'schedule' || !rule) return;
      this.timers.push(startSchedule({ every: c.schedule?.every, cron: c.schedule?.cron !== undefined ? rule.compiled.cron : undefined }, (ts) => this.tick(rule, ts)));
    });
  }

  /** A rule set replacing `previous` (a push) keeps its view of which devices are not answering, so a connectivity rule sees changes only. */
  inheritConnectivity(previous: LocalRules): void {
    for (const d of previous.offline) this.offline.add(d);
  }

  /** Stops the schedule timers (a replaced rule set, shutdown); queued actions still run (idle()). */
  stop(): void {
    for (const stop of this.timers.splice(0)) stop();
  }

  stats(): { rules: number; evaluations: number; firings: number; errors: number } {
    return { rules: this.rules.length, ...this.counters };
  }

  /** Feeds every rule's windows; evaluates the telemetry rules that target the reading's device. */
  onReading(reading: Reading): void {
    const latest = this.latest.get(reading.device) ?? {};
    const message = { ts: reading.ts, values: reading.values };
    for (const rule of this.rules) {
      if (rule.device !== undefined && rule.device !== reading.device) continue;
      if (rule.trigger !== 'telemetry') {
        feedWindows(rule.compiled, this.state(rule, reading.device), message);
        continue;
      }
      this.step(rule, reading.device, message, true, true);
    }
    for (const [k, v] of Object.entries(reading.values)) Object.defineProperty(latest, k, { value: v, enumerable: true, writable: true, configurable: true });
    this.latest.set(reading.device, latest);
  }

  /** A child's cached shared attributes changed: `changed` holds the new values, null for deleted keys. */
  onAttributes(device: string, changed: Readonly<Record<string, JsonValue>>): void {
    if (Object.keys(changed).length === 0) return;
    this.trigger('attributes', device, { ts: Date.now(), values: changed });
  }

  /** The connector's view of a field device: evaluated on changes only (a device starts online). */
  onConnectivity(device: string, online: boolean): void {
    if (online !== this.offline.has(device)) return;
    if (online) this.offline.delete(device);
    else this.offline.add(device);
    this.trigger('connectivity', device, { ts: Date.now(), values: { event: online ? 'online' : 'offline', online } });
  }

  private trigger(trigger: RuleTrigger, device: string, message: RuleMessage): void {
    for (const rule of this.rules) {
      if (rule.trigger !== trigger || (rule.device !== undefined && rule.device !== device)) continue;
      this.step(rule, device, message, true, false);
    }
  }

  /** A schedule tick: every target device is evaluated; the actions run wherever the condition holds. */
  private tick(rule: LoadedRule, ts: number): void {
    const devices = rule.device !== undefined ? [rule.device] : (this.effects.devices?.() ?? [...this.latest.keys()]);
    for (const device of devices) this.step(rule, device, { ts, values: {} }, false, false);
  }

  private state(rule: LoadedRule, device: string): RuleState {
    let state = rule.states.get(device);
    if (!state) rule.states.set(device, (state = initialState()));
    return state;
  }

  /** One evaluation; `edges` false (schedule): act whenever the condition holds. */
  private step(rule: LoadedRule, device: string, message: RuleMessage, edges: boolean, feed: boolean): void {
    const state = this.state(rule, device);
    const latest = this.latest.get(device) ?? {};
    this.counters.evaluations++;
    let actions: RenderedAction[] = [];
    try {
      if (feed) feedWindows(rule.compiled, state, message);
      const result = evaluateRule(rule.compiled, state, { id: device, name: device }, message, {
        latest: (key) => (Object.hasOwn(latest, key) ? latest[key] : undefined),
        // Only shared attributes reach the edge; other scopes stay null, as for a key never set.
        attr: (name, scope) => (scope === undefined || scope === 'shared' ? this.effects.attr?.(device, name) : undefined),
      }, edges);
      // Persisted before the actions run: a crash in between loses this firing instead of repeating it.
      this.store?.save(rule.stored, device, state);
      const edge = edges ? result.edge : result.matched ? 'raise' : undefined;
      if (!edge) return;
      actions = renderActions(actionsFor(rule.compiled, edge), result.scope, edge === 'raise' ? detectorDetails(rule.compiled, state) : undefined);
      this.counters.firings++;
      this.logger.info({ rule: rule.compiled.rule.name, device, edge, ts: message.ts }, 'local rule fired');
    } catch (err) {
      this.store?.save(rule.stored, device, state);
      this.error(rule, device, 'condition', err);
      return;
    }
    const previous = rule.chains.get(device) ?? Promise.resolve();
    const next = previous.then(() => this.run(rule, device, message.ts, actions));
    rule.chains.set(device, next);
  }

  /** Resolves when every queued action has run (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.rules.flatMap((r) => [...r.chains.values()]));
  }

  private async run(rule: LoadedRule, source: string, ts: number, actions: readonly RenderedAction[]): Promise<void> {
    // One failing action does not stop the next, as on the platform.
    for (const action of actions) {
      try {
        if (action.type === 'command') {
          const device = typeof action.device === 'string' ? action.device : source;
          if (typeof action.method !== 'string') throw new Error('command action without method');
          const reply = await this.effects.command(device, action.method, action.params ?? {});
          this.logger.info({ rule: rule.compiled.rule.name, device, method: action.method, reply }, 'local rule command done');
        } else if (action.type === 'telemetry') {
          const values: Record<string, JsonValue> = {};
          const given = action.values;
          if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
            for (const [k, v] of Object.entries(given)) if (v !== null) values[k] = v;
          }
          if (Object.keys(values).length > 0) this.effects.telemetry({ device: source, ts, values });
        } else if (action.type === 'log') {
          this.logger.info({ rule: rule.compiled.rule.name, device: source, message: action.message ?? null }, 'local rule log');
        } else if (action.type === 'alarm' || action.type === 'clearAlarm') {
          this.alarm(rule, source, ts, action);
        } else if (action.type === 'sms') {
          if (!this.effects.sms) throw new Error('no SMS connector on this edge');
          const reply = await this.effects.sms(String(action.device), String(action.text));
          this.logger.info({ rule: rule.compiled.rule.name, device: action.device, reply }, 'local rule SMS sent');
        }
      } catch (err) {
        this.error(rule, source, 'action', err);
      }
    }
  }

  /** Raises or clears the (device, type) edge alarm at the message's timestamp, as the platform's alarm actions do. */
  private alarm(rule: LoadedRule, device: string, ts: number, action: RenderedAction): void {
    const alarms = this.effects.alarms;
    if (!alarms) throw new Error('edge alarms are not available');
    const type = String(action.alarmType);
    if (action.type === 'clearAlarm') {
      alarms.clear(device, type, ts);
      return;
    }
    const severity = (typeof action.severity === 'string' ? action.severity : 'warning') as EdgeAlarmSeverity;
    alarms.raise(device, type, severity, action.details ?? { rule: rule.compiled.rule.name, ts }, ts);
    this.logger.info({ rule: rule.compiled.rule.name, device, type, severity }, 'edge alarm raised');
  }

  private error(rule: LoadedRule, device: string, stage: string, err: unknown): void {
    this.counters.errors++;
    const key = `${rule.compiled.rule.id}:${stage}`;
    const now = Date.now();
    if (now - (this.lastErrorLog.get(key) ?? 0) < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog.set(key, now);
    this.logger.warn({ rule: rule.compiled.rule.name, device, stage, err: err instanceof Error ? err.message : String(err) }, 'local rule error');
  }
}

/** The rule's key in the store (its name; `name#2` for a second rule of that name) and its definition's fingerprint (the fields added later only when not at their default, so older states stay valid). */
function storedRule(c: LocalRuleConfig, seen: Map<string, number>): StoredRule {
  const n = (seen.get(c.name) ?? 0) + 1;
  seen.set(c.name, n);
  return { key: n === 1 ? c.name : `${c.name}#${n}`, def: fingerprint({ device: c.device ?? null, ...(c.trigger !== 'telemetry' ? { trigger: c.trigger, schedule: c.schedule ?? null } : {}), ...(!c.autoClear ? { autoClear: false } : {}), condition: c.condition, for: c.for ?? null, actions: c.actions, clearActions: c.clearActions }) };
}
