/**
 * The rule engine. It consumes the bus after commit (telemetry, attributes, status), so ingest
 * never waits for it. It consumes as work-queue groups partitioned by device (RULE_GROUPS): in a
 * cluster each device's rules run on one node at a time, in order. A bus delivery is settled
 * when its evaluation is done (synchronously when everything is in memory, else when the
 * device's queued work reaches it), so a message a node took but never evaluated (it died) is
 * delivered again; a failed load (the store) rejects it for redelivery. Delivery is at least
 * once: a duplicate (redelivery, the outbox replayed after a crash) is harmless, because window
 * samples are keyed on the point's timestamp and edges only fire on a change.
 * Work is serialized per device (windows and edges see a device's messages in order) and runs
 * concurrently across devices. Actions run after the edge is decided, outside the device
 * queue, in order per (rule, device).
 *
 * A rule that throws (a type error in its condition, a failing action) publishes a `ruleError`
 * event, is logged (throttled) and counted; the other rules and ingest go on.
 */
import { LogBudget } from '../event-log.js';
import type { Device } from '../../domain/device.js';
import type { CompiledRule } from '../../domain/rules/compile.js';
import type { Rule } from '../../domain/rules/model.js';
import { detectorDetails } from '../../domain/rules/explain.js';
import { actionsFor, evaluateRule, feedWindows, keepsHistory, readModel, renderActions, type RenderedAction, type RuleMessage } from '../../domain/rules/runtime.js';
import type { Edge, RuleState } from '../../domain/rules/state.js';
import { subjectFor } from '../../domain/subjects.js';
import type { JsonValue, Point } from '../../domain/telemetry.js';
import { messagesOf } from './messages.js';
import { RulePartitions, type RuleClusterDeps } from './partitions.js';
import type { AttributeStore, Bus, BusDelivery, BusEvents, Clock, Firing, FiringKey, Logger, RuleStore, TelemetryStore } from '../../ports.js';
import type { ActionCatalog, ActionDeps } from './actions/index.js';
import type { ActionContext } from './actions/types.js';
import { DeviceContexts, type DeviceLookup } from './device-context.js';
import { ModelCache } from './models.js';
import { RuleIndex } from './rule-index.js';
import { RuleStateCache } from './state-cache.js';
import type { RuleMetrics } from '../../ports/metrics.js';

export type { RuleMetrics };
export { messagesOf };

export const noopRuleMetrics: RuleMetrics = { evaluated: () => undefined, fired: () => undefined, error: () => undefined, dropped: () => undefined };

/** What the engine needs of device groups: membership answered synchronously from memory. */
export interface GroupMembership {
  isMemberNow(groupId: string, deviceId: string): boolean;
  /** Keep this group's members in memory (resolved now, and again after every change). */
  watch(groupId: string): void;
  /** Called after kept memberships changed. */
  onChange(listener: () => void): void;
}

export interface RuleEngineDeps {
  readonly store: Pick<RuleStore, 'listRules' | 'loadRuleState' | 'saveRuleState'> & Pick<TelemetryStore, 'latest'> & Pick<AttributeStore, 'getAttributes'> & Partial<Pick<TelemetryStore, 'queryAggregated'>>;
  readonly registry: DeviceLookup;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly catalog: ActionCatalog;
  readonly actionDeps: ActionDeps;
  readonly metrics?: RuleMetrics;
  /** How often dirty rule state is written (ms); default 1000. */
  readonly stateFlushMs?: number;
  /** Queued evaluations beyond this are dropped and counted; default 100,000. */
  readonly maxPending?: number;
  /** Device groups' kept memberships, for rules with a groupId (issue 15). */
  readonly groups?: GroupMembership;
  /** In a cluster: partition ownership, checkpoints and firing keys (partitions.ts). */
  readonly cluster?: RuleClusterDeps;
}

/** Queued work other than telemetry (attributes, status, timers): run through the device queue. */
class WorkTask {
  constructor(
    readonly deviceId: string,
    readonly work: () => Promise<void>,
  ) {}
}

const LOG_THROTTLE_MS = 10_000;

/** What a stopping engine answers a delivery with: never settled, so leaving the group gives it back. */
const HELD: Promise<void> = new Promise<void>(() => undefined);

/** The engine's work-queue groups (NATS durable consumer names: no dots). */
export const RULE_GROUPS = { telemetry: 'rules-telemetry', attributes: 'rules-attributes', status: 'rules-status' } as const;

export class RuleEngine {
  readonly index: RuleIndex;
  readonly contexts: DeviceContexts;
  private readonly states: RuleStateCache;
  /** Cluster mode: the partitions this node works on, checkpointed with fencing (partitions.ts). */
  private readonly partitions: RulePartitions | undefined;
  private readonly metrics: RuleMetrics;
  /** Info lines for rules firing and clearing, bounded per window. */
  private readonly logBudget: LogBudget;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly actionChains = new Map<string, Promise<void>>();
  private pending = 0;
  /** Work handed over by submit() in this turn of the event loop, in arrival order; drained in one microtask. */
  private inbox: WorkTask[] = [];
  private drainScheduled = false;
  private countScheduled = false;
  /** Evaluations not yet added to the metrics: counted once per drain, not per message. */
  private uncounted = 0;
  private readonly lastLog = new Map<string, number>();
  private unsubscribe: (() => void)[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Told of every message and status change of a device: the inactivity tracker (timers.ts) sets it. */
  onActivity: ((device: Device, rules: readonly CompiledRule[], online?: boolean) => void) | undefined;

  constructor(private readonly deps: RuleEngineDeps) {
    const groups = deps.groups;
    this.index = new RuleIndex(groups ? (g, d) => groups.isMemberNow(g, d) : undefined);
    groups?.onChange(() => this.index.membershipChanged());
    const rollups = deps.store.queryAggregated ? { queryAggregated: deps.store.queryAggregated.bind(deps.store) } : undefined;
    const models = rollups ? new ModelCache({ store: rollups, clock: deps.clock, logger: deps.logger }) : undefined;
    this.contexts = new DeviceContexts({ store: deps.store, registry: deps.registry, clock: deps.clock }, models);
    this.states = new RuleStateCache(deps.store, deps.clock, deps.logger);
    this.partitions = deps.cluster ? new RulePartitions(deps.cluster, this.states, deps.clock, deps.logger, (f) => this.redispatch(f)) : undefined;
    this.metrics = deps.metrics ?? noopRuleMetrics;
    this.logBudget = new LogBudget(deps.clock, deps.logger);
  }

  async start(): Promise<void> {
    for (const rule of await this.deps.store.listRules()) {
      try {
        if (rule.groupId !== undefined) this.deps.groups?.watch(rule.groupId);
        this.index.upsert(rule);
      } catch (err) {
        // A rule saved by an older build that no longer compiles stays stored but inactive.
        this.deps.logger.warn({ err, ruleId: rule.id }, 'rule does not compile; skipped');
      }
    }
    const { bus } = this.deps;
    await this.partitions?.start();
    // In a cluster the groups consume only the partitions this node owns (one owner per partition).
    const owned = this.partitions ? { ownership: this.partitions } : {};
    const c = (event: string, deviceId: string, delivery: BusDelivery, run: () => Promise<void> | undefined) => this.clustered(event, deviceId, delivery, run);
    this.unsubscribe = [
      bus.subscribe('telemetry', 'telemetry.>', (msg, _s, d) => c('telemetry', msg.deviceId, d, () => this.telemetryEvent(msg)), { group: RULE_GROUPS.telemetry, ...owned }),
      // Broadcast: every node keeps its cached attributes current, whichever node evaluates the device.
      bus.subscribe('attributes', 'attributes.>', (msg) => this.contexts.applyAttributes(msg)),
      bus.subscribe('attributes', 'attributes.>', (msg, _s, d) => c('attributes', msg.deviceId, d, () => this.tracked(msg.tenantId, msg.deviceId, () => this.onAttributes(msg))), { group: RULE_GROUPS.attributes, ...owned }),
      bus.subscribe('status', 'status.>', (msg, _s, d) => c('status', msg.deviceId, d, () => this.tracked(msg.tenantId, msg.deviceId, () => this.onStatus(msg))), { group: RULE_GROUPS.status, ...owned }),
    ];
    this.flushTimer = setInterval(() => void this.flushState(), this.deps.stateFlushMs ?? 1000);
    this.flushTimer.unref();
    this.deps.logger.info({ rules: this.index.size }, 'rule engine started');
  }

  /**
   * Stops consuming, lets queued work and running actions finish (bounded), writes all state.
   * Deliveries that arrive meanwhile are held unsettled and go back to the group when the
   * engine leaves it (to another node, or to this one's next start); so does work the grace
   * period did not see finish.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await this.flushState();
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.partitions?.stop();
  }

  /**
   * A work-queue delivery in a cluster: skipped when the partition's checkpoint covers it, held
   * when the partition is not (or no longer) this node's, else settled once evaluated and
   * checkpointed. Without a cluster: as it is.
   */
  private clustered(event: string, deviceId: string, delivery: BusDelivery, run: () => Promise<void> | undefined): Promise<void> | undefined {
    if (!this.partitions || this.stopped) return run();
    const admission = this.partitions.admit(deviceId, event, delivery.position);
    if (admission.kind === 'skip') return undefined;
    if (admission.kind === 'hold') return HELD;
    return this.partitions.settle(admission.partition, event, delivery.position, run());
  }

  /** Resolves when every queued evaluation and every started action has settled (tests, stop). */
  async idle(): Promise<void> {
    while (this.inbox.length > 0 || this.queues.size > 0 || this.actionChains.size > 0) {
      if (this.inbox.length > 0) {
        this.drain();
        continue;
      }
      await Promise.all([...this.queues.values(), ...this.actionChains.values()]);
    }
  }

  flushState(): Promise<void> {
    return this.partitions ? this.partitions.flush() : this.states.flush();
  }

  /** After a rule was created or changed: recompile; a changed rule starts from fresh state. */
  ruleChanged(rule: Rule): void {
    this.states.forgetRule(rule.id);
    if (rule.groupId !== undefined) this.deps.groups?.watch(rule.groupId);
    this.index.upsert(rule);
  }

  ruleRemoved(ruleId: string): void {
    this.states.forgetRule(ruleId);
    this.index.remove(ruleId);
  }

  /** Queues work for one device behind its earlier work; never blocks the caller. */
  submit(tenantId: string, deviceId: string, work: () => Promise<void>): void {
    // In a cluster every node runs the timers; only the device's partition owner acts on them.
    if (this.partitions && !this.partitions.owns(deviceId)) return;
    if (this.admit(tenantId)) this.push(new WorkTask(deviceId, work));
  }

  /** A bus delivery's work, queued behind the device's earlier work; settles when it ran (rejects if it failed). */
  private tracked(tenantId: string, deviceId: string, work: () => Promise<void>): Promise<void> | undefined {
    if (this.stopped) return HELD;
    if (!this.admit(tenantId)) return undefined;
    if (this.inbox.length > 0) this.drain(); // work submitted earlier for this device goes first
    return this.enqueue(deviceId, work);
  }

  /**
   * A telemetry delivery. A device with nothing queued and everything in memory (device, latest
   * values, attributes, rule states) is evaluated right here, without a promise; anything else
   * goes behind the device's queued work, so each device's messages are still handled in order.
   */
  private telemetryEvent(msg: BusEvents['telemetry']): Promise<void> | undefined {
    if (this.stopped) return HELD;
    if (!this.admit(msg.tenantId)) return undefined;
    if (this.inbox.length > 0) this.drain();
    if (!this.queues.has(msg.deviceId)) {
      try {
        if (this.telemetryNow(msg)) {
          this.countSoon();
          return undefined;
        }
      } catch (err) {
        // A bug, not a transient failure: another delivery would fail the same way.
        this.deps.logger.error({ err, deviceId: msg.deviceId }, 'rule engine task failed');
        return undefined;
      }
    }
    return this.enqueue(msg.deviceId, () => this.onTelemetry(msg));
  }

  /** Whether new work of this tenant is taken: not stopped, the tenant has rules, not overloaded. */
  private admit(tenantId: string): boolean {
    if (this.stopped || !this.index.hasTenant(tenantId)) return false;
    if (this.pending >= (this.deps.maxPending ?? 100_000)) {
      this.metrics.dropped();
      this.logThrottled('dropped', { pending: this.pending }, 'rule engine overloaded; evaluations dropped');
      return false;
    }
    return true;
  }

  private push(task: WorkTask): void {
    this.pending++;
    this.inbox.push(task);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(this.drainSoon);
    }
  }

  private readonly drainSoon = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  /** Moves what submit() handed over into the device queues, in order. */
  private drain(): void {
    const tasks = this.inbox;
    this.inbox = [];
    for (const task of tasks) {
      this.pending--;
      void this.enqueue(task.deviceId, task.work); // failures are logged by enqueue; nobody redelivers a timer
    }
  }

  /** Evaluations are counted once per turn of the event loop, not per message. */
  private countSoon(): void {
    if (this.countScheduled || this.uncounted === 0) return;
    this.countScheduled = true;
    queueMicrotask(() => {
      this.countScheduled = false;
      this.countEvaluations();
    });
  }

  private countEvaluations(): void {
    if (this.uncounted === 0) return;
    const n = this.uncounted;
    this.uncounted = 0;
    this.metrics.evaluated(n);
  }

  /** Queues work behind the device's; the result settles as the work does (the queue itself goes on either way). */
  private enqueue(deviceId: string, work: () => Promise<void>): Promise<void> {
    this.pending++;
    const prev = this.queues.get(deviceId) ?? Promise.resolve();
    const run = prev.then(work);
    const next = run
      .catch((err: unknown) => this.deps.logger.error({ err, deviceId }, 'rule engine task failed'))
      .finally(() => {
        this.pending--;
        if (this.queues.get(deviceId) === next) this.queues.delete(deviceId);
      });
    this.queues.set(deviceId, next);
    return run;
  }

  /**
   * Handles a telemetry message synchronously when nothing has to be loaded; false (having changed
   * nothing) when something must be read from the store first.
   */
  private telemetryNow(msg: BusEvents['telemetry']): boolean {
    const device = this.contexts.cachedDevice(msg.deviceId);
    if (!device) return false;
    if (device.tenantId !== msg.tenantId) return true;
    const rules = this.index.forDevice(device);
    if (rules.length > 0) {
      if (!this.contexts.isPrepared(device.id, rules)) return false;
      for (const rule of rules) if (!this.states.peek(rule.rule.id, device.id, rule.rule.updatedAt)) return false;
    }
    this.noteActivity(device, rules);
    if (rules.length > 0) this.runTelemetry(device, rules, msg.points);
    return true;
  }

  private async onTelemetry(msg: BusEvents['telemetry']): Promise<void> {
    const device = await this.contexts.device(msg.deviceId);
    if (!device || device.tenantId !== msg.tenantId) return;
    const rules = this.index.forDevice(device);
    this.noteActivity(device, rules);
    if (rules.length === 0) return;
    await this.contexts.prepare(device.id, rules);
    const states: RuleState[] = [];
    for (const rule of rules) states.push(await this.states.get(rule.rule.id, device.id, rule.rule.updatedAt));
    this.runTelemetry(device, rules, msg.points, states);
    this.countEvaluations();
  }

  /** Feeds and evaluates; `states[i]` belongs to `rules[i]` (default: the states in memory, which the caller checked). */
  private runTelemetry(device: Device, rules: readonly CompiledRule[], points: readonly Point[], states?: readonly RuleState[]): void {
    for (const message of messagesOf(points)) {
      this.contexts.applyTelemetry(device.id, message.ts, message.values);
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as CompiledRule;
        const state = states ? (states[i] as RuleState) : (this.states.peek(rule.rule.id, device.id, rule.rule.updatedAt) as RuleState);
        if (keepsHistory(rule)) {
          feedWindows(rule, state, message);
          this.states.markDirty(rule.rule.id, device.id);
        }
        if (rule.rule.trigger !== 'telemetry') continue;
        this.uncounted++;
        this.evaluate(rule, state, device, message, true);
      }
    }
  }

  private async onAttributes(msg: BusEvents['attributes']): Promise<void> {
    const device = await this.contexts.device(msg.deviceId);
    if (!device || device.tenantId !== msg.tenantId) return;
    const rules = this.index.forDevice(device).filter((r) => r.rule.trigger === 'attributes');
    if (rules.length === 0) return;
    await this.contexts.prepare(device.id, rules);
    const values: Record<string, JsonValue> = { ...msg.values };
    for (const key of msg.deleted ?? []) values[key] = null;
    await this.evaluateAll(rules, device, { ts: this.deps.clock.now(), values }, true);
  }

  private async onStatus(msg: BusEvents['status']): Promise<void> {
    const device = await this.contexts.device(msg.deviceId);
    if (!device || device.tenantId !== msg.tenantId) return;
    const all = this.index.forDevice(device);
    this.noteActivity(device, all, msg.online);
    const rules = all.filter((r) => r.rule.trigger === 'connectivity');
    const event = msg.online ? 'online' : 'offline';
    await this.connectivity(device, rules, { event, online: msg.online });
  }

  /** Evaluates connectivity rules with an `event` message at the platform clock's time. */
  async connectivity(device: Device, rules: readonly CompiledRule[], values: Record<string, JsonValue>): Promise<void> {
    if (rules.length === 0) return;
    await this.contexts.prepare(device.id, rules);
    await this.evaluateAll(rules, device, { ts: this.deps.clock.now(), values }, true);
  }

  /** Schedule rules: evaluate once for the scheduled minute; act whenever the condition holds. */
  async scheduled(device: Device, rules: readonly CompiledRule[], minute: number): Promise<void> {
    await this.contexts.prepare(device.id, rules);
    await this.evaluateAll(rules, device, { ts: minute, values: {} }, false);
  }

  private async evaluateAll(rules: readonly CompiledRule[], device: Device, message: RuleMessage, edges: boolean): Promise<void> {
    for (const rule of rules) this.evaluate(rule, await this.states.get(rule.rule.id, device.id, rule.rule.updatedAt), device, message, edges);
    this.metrics.evaluated(rules.length);
  }

  private noteActivity(device: Device, rules: readonly CompiledRule[], online?: boolean): void {
    this.onActivity?.(device, rules, online);
  }

  private evaluate(rule: CompiledRule, state: RuleState, device: Device, message: RuleMessage, edges: boolean): void {
    let edge: Edge | undefined;
    let rendered;
    try {
      const ev = evaluateRule(rule, state, device, message, this.contexts.lookups(device.id), edges);
      if (edges) this.states.markDirty(rule.rule.id, device.id);
      edge = edges ? ev.edge : ev.matched ? 'raise' : undefined;
      if (!edge) return;
      rendered = renderActions(actionsFor(rule, edge), ev.scope, edge === 'raise' ? detectorDetails(rule, state, (m) => readModel(ev.scope, m)) : undefined);
    } catch (err) {
      this.ruleError(rule, device.id, edge ? 'action' : 'condition', err);
      return;
    }
    this.metrics.fired(edge);
    // Info for people reading the log (bounded per window: a rule matching every message must not flood it).
    if (this.logBudget.take(edge === 'clear' ? 'rule cleared' : 'rule fired')) {
      this.deps.logger.info({ ruleId: rule.rule.id, rule: rule.rule.name, deviceId: device.id, device: device.name, ts: message.ts }, edge === 'clear' ? 'rule cleared' : 'rule fired');
    } else this.deps.logger.debug({ ruleId: rule.rule.id, deviceId: device.id, edge, ts: message.ts }, 'rule fired');
    this.dispatch(rule, device, edge, message.ts, rendered);
  }

  private dispatch(rule: CompiledRule, device: Device, edge: Edge, ts: number, actions: readonly RenderedAction[]): void {
    if (actions.length === 0) return;
    const ctx = { tenantId: device.tenantId, deviceId: device.id, deviceName: device.name, ruleId: rule.rule.id, ruleName: rule.rule.name, ts, edge };
    const key = `${rule.rule.id}\u0000${device.id}`;
    // In a cluster the firing is recorded under a unique key first (now, before the checkpoint that covers its edge).
    const firing = { ruleId: rule.rule.id, deviceId: device.id, edge, ts };
    const fresh = this.partitions?.record(firing, JSON.stringify({ ctx, actions }));
    const prev = this.actionChains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (fresh !== undefined && !(await fresh)) return;
      for (const [i, action] of actions.entries()) {
        try {
          await this.deps.catalog.run(action, fresh !== undefined ? { ...ctx, firing: firingId(firing, i) } : ctx, this.deps.actionDeps);
        } catch (err) {
          this.ruleError(rule, device.id, 'action', err, action.type);
        }
      }
      if (fresh !== undefined) this.partitions?.markDispatched(firing);
    });
    const tracked = next.finally(() => {
      if (this.actionChains.get(key) === tracked) this.actionChains.delete(key);
    });
    this.actionChains.set(key, tracked);
  }

  /** A firing recorded by an owner that died before running its actions: run them now (at least once; commands are keyed). */
  private async redispatch(firing: Firing): Promise<void> {
    const { ctx, actions } = JSON.parse(firing.payload) as { ctx: ActionContext; actions: RenderedAction[] };
    for (const [i, action] of actions.entries()) {
      try {
        await this.deps.catalog.run(action, { ...ctx, firing: firingId(firing.key, i) }, this.deps.actionDeps);
      } catch (err) {
        this.logThrottled(`rule:${ctx.ruleId}`, { ruleId: ctx.ruleId, deviceId: ctx.deviceId, stage: 'action', action: action.type, err }, 'rule failed');
      }
    }
    this.partitions?.markDispatched(firing.key);
  }

  ruleError(rule: CompiledRule, deviceId: string | undefined, stage: BusEvents['ruleError']['stage'], err: unknown, action?: string): void {
    const message = err instanceof Error ? err.message : String(err);
    const { id: ruleId, name: ruleName, tenantId } = rule.rule;
    this.metrics.error(stage);
    this.logThrottled(`rule:${ruleId}`, { ruleId, deviceId, stage, action, reason: message }, 'rule failed');
    // Fire and forget: the error is logged and counted already; the event feeds live views.
    void this.deps.bus.publish('ruleError', subjectFor('ruleError', tenantId, deviceId ?? '-'), {
      tenantId,
      ruleId,
      ruleName,
      ...(deviceId !== undefined ? { deviceId } : {}),
      stage,
      ...(action !== undefined ? { action } : {}),
      message,
      ts: this.deps.clock.now(),
    }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing a rule error failed'));
  }

  /** A rule failing on every message must not flood the log: one line per rule per 10 s. */
  private logThrottled(key: string, obj: object, msg: string): void {
    const now = Date.now();
    if (now - (this.lastLog.get(key) ?? 0) < LOG_THROTTLE_MS) return;
    this.lastLog.set(key, now);
    this.deps.logger.warn(obj, msg);
  }
}

/** The idempotency key of a firing's i-th action (commands it creates are unique by it). */
function firingId(k: FiringKey, i: number): string {
  return `rule-firing:${k.ruleId}:${k.deviceId}:${k.edge}:${k.ts}:${i}`;
}
