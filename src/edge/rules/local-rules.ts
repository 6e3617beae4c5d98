/**
 * Local rules (M2M mode): the platform's rule format, evaluated on the edge by the same pure
 * domain code the platform's engine and backtest use (domain/rules: compileRule, feedWindows,
 * evaluateRule, renderActions), so a control loop such as "temperature > 80 → write coil 0"
 * keeps running with the platform unreachable, or with no platform at all (--offline).
 *
 * Edge differences, all checked when the config loads: only telemetry triggers; actions are
 * `command` (a connector write, on the triggering device or `device`), `telemetry` (a derived
 * reading, buffered and uploaded like any other) and `log`. Attributes are not known on the
 * edge (attr() is null); identifiers that are not in the message read the device's latest
 * values seen by the edge. With a RuleStateStore the state of each rule and device (fired or
 * not, `for` timers, windows) is written on every evaluation, before the actions run, and read
 * back at start: a restart during a held condition does not fire it again (at most once, rather
 * than a repeated write after a crash).
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { compileRule, type CompiledRule } from '../../domain/rules/compile.js';
import { detectorDetails } from '../../domain/rules/explain.js';
import { actionsFor, evaluateRule, feedWindows, renderActions, type RenderedAction } from '../../domain/rules/runtime.js';
import { initialState, type RuleState } from '../../domain/rules/state.js';
import { toDomainRule, type LocalRuleConfig } from '../config.js';
import type { EdgeLogger, Reading } from '../ports.js';
import { fingerprint } from './fingerprint.js';
import type { RuleStateStore, StoredRule } from './state-store.js';

export interface RuleEffects {
  command(device: string, method: string, params: JsonValue): Promise<JsonValue>;
  /** A derived reading; not evaluated by rules again (no loops). */
  telemetry(reading: Reading): void;
}

interface LoadedRule {
  readonly compiled: CompiledRule;
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
  }

  stats(): { rules: number; evaluations: number; firings: number; errors: number } {
    return { rules: this.rules.length, ...this.counters };
  }

  /** Evaluates every rule that targets the reading's device; actions run asynchronously, in order per rule and device. */
  onReading(reading: Reading): void {
    const latest = this.latest.get(reading.device) ?? {};
    for (const rule of this.rules) {
      if (rule.device !== undefined && rule.device !== reading.device) continue;
      let state = rule.states.get(reading.device);
      if (!state) rule.states.set(reading.device, (state = initialState()));
      const message = { ts: reading.ts, values: reading.values };
      this.counters.evaluations++;
      let actions: RenderedAction[] = [];
      try {
        feedWindows(rule.compiled, state, message);
        const result = evaluateRule(rule.compiled, state, { id: reading.device, name: reading.device }, message, {
          latest: (key) => (Object.hasOwn(latest, key) ? latest[key] : undefined),
          attr: () => undefined,
        });
        // Persisted before the actions run: a crash in between loses this firing instead of repeating it.
        this.store?.save(rule.stored, reading.device, state);
        if (!result.edge) continue;
        actions = renderActions(actionsFor(rule.compiled, result.edge), result.scope, result.edge === 'raise' ? detectorDetails(rule.compiled, state) : undefined);
        this.counters.firings++;
        this.logger.info({ rule: rule.compiled.rule.name, device: reading.device, edge: result.edge, ts: reading.ts }, 'local rule fired');
      } catch (err) {
        this.store?.save(rule.stored, reading.device, state);
        this.error(rule, reading.device, 'condition', err);
        continue;
      }
      const key = reading.device;
      const previous = rule.chains.get(key) ?? Promise.resolve();
      const next = previous.then(() => this.run(rule, reading, actions));
      rule.chains.set(key, next);
    }
    for (const [k, v] of Object.entries(reading.values)) Object.defineProperty(latest, k, { value: v, enumerable: true, writable: true, configurable: true });
    this.latest.set(reading.device, latest);
  }

  /** Resolves when every queued action has run (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.rules.flatMap((r) => [...r.chains.values()]));
  }

  private async run(rule: LoadedRule, reading: Reading, actions: readonly RenderedAction[]): Promise<void> {
    // One failing action does not stop the next, as on the platform.
    for (const action of actions) {
      try {
        if (action.type === 'command') {
          const device = typeof action.device === 'string' ? action.device : reading.device;
          if (typeof action.method !== 'string') throw new Error('command action without method');
          const reply = await this.effects.command(device, action.method, action.params ?? {});
          this.logger.info({ rule: rule.compiled.rule.name, device, method: action.method, reply }, 'local rule command done');
        } else if (action.type === 'telemetry') {
          const values: Record<string, JsonValue> = {};
          const given = action.values;
          if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
            for (const [k, v] of Object.entries(given)) if (v !== null) values[k] = v;
          }
          if (Object.keys(values).length > 0) this.effects.telemetry({ device: reading.device, ts: reading.ts, values });
        } else if (action.type === 'log') {
          this.logger.info({ rule: rule.compiled.rule.name, device: reading.device, message: action.message ?? null }, 'local rule log');
        }
      } catch (err) {
        this.error(rule, reading.device, 'action', err);
      }
    }
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

/** The rule's key in the store (its name; `name#2` for a second rule of that name) and its definition's fingerprint. */
function storedRule(c: LocalRuleConfig, seen: Map<string, number>): StoredRule {
  const n = (seen.get(c.name) ?? 0) + 1;
  seen.set(c.name, n);
  return { key: n === 1 ? c.name : `${c.name}#${n}`, def: fingerprint({ device: c.device ?? null, condition: c.condition, for: c.for ?? null, actions: c.actions, clearActions: c.clearActions }) };
}
