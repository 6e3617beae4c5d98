/**
 * Rules as a use case: validate on save (expression positions, action parameters, targets in the
 * caller's tenant), store, tell the running engine, and backtest over stored history.
 */
import { randomUUID } from 'node:crypto';
import type { Device, DeviceProfile } from '../../domain/device.js';
import { PlatformError } from '../../domain/errors.js';
import type { Position } from '../../domain/expression/index.js';
import { compileRule, RuleError, type CompiledRule } from '../../domain/rules/compile.js';
import type { Rule, RuleInput } from '../../domain/rules/model.js';
import type { Clock, RuleStore } from '../../ports.js';
import type { ActionCatalog } from './actions/index.js';
import { backtestRule, type BacktestDeps, type BacktestOptions, type BacktestResult } from './backtest.js';
import type { TargetLookup } from './timers.js';

/** A rule that does not validate: the field at fault and, in an expression, the position. */
export class RuleValidationError extends PlatformError {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly position?: Position,
  ) {
    super('INVALID_RULE', position ? `${path}: ${reason} (line ${position.line}, column ${position.column})` : `${path}: ${reason}`);
  }
}

/** What the service tells the running engine (absent in tools that only edit rules). */
export interface RuleListener {
  ruleChanged(rule: Rule): void;
  ruleRemoved(ruleId: string): void;
}

export interface RuleServiceDeps {
  readonly store: RuleStore & BacktestDeps['store'];
  readonly registry: TargetLookup & { getProfile(id: string): Promise<DeviceProfile | undefined> };
  readonly catalog: ActionCatalog;
  readonly clock: Clock;
  readonly listeners?: readonly RuleListener[];
  /** The tenant's rule quota (services/quotas.ts): a new rule is saved only if it has room. */
  readonly quota?: { withRule<T>(tenantId: string, create: () => Promise<T>): Promise<T> };
  /** Device groups a rule may target (issue 15); absent: a rule naming a group is refused. */
  readonly getGroup?: (id: string) => Promise<{ readonly tenantId: string } | undefined>;
}

export class RuleService {
  constructor(private readonly deps: RuleServiceDeps) {}

  get catalog(): ActionCatalog {
    return this.deps.catalog;
  }

  /** Checks everything about a rule; throws RuleValidationError or DEVICE/PROFILE_NOT_FOUND. */
  async validate(tenantId: string, input: RuleInput, id = 'validation'): Promise<CompiledRule> {
    const now = this.deps.clock.now();
    const rule = this.normalize(tenantId, id, input, now, now);
    let compiled: CompiledRule;
    try {
      compiled = compileRule(rule);
      rule.actions.forEach((a, i) => this.deps.catalog.check(a, `actions[${i}]`));
      (rule.clearActions ?? []).forEach((a, i) => this.deps.catalog.check(a, `clearActions[${i}]`));
    } catch (err) {
      if (err instanceof RuleError) throw new RuleValidationError(err.path, err.reason, err.position);
      throw err;
    }
    await this.checkTarget(tenantId, rule);
    return compiled;
  }

  async create(tenantId: string, input: RuleInput): Promise<Rule> {
    const compiled = await this.validate(tenantId, input, randomUUID());
    const save = (): Promise<void> => this.deps.store.saveRule(compiled.rule);
    await (this.deps.quota ? this.deps.quota.withRule(tenantId, save) : save());
    for (const l of this.deps.listeners ?? []) l.ruleChanged(compiled.rule);
    return compiled.rule;
  }

  /** Replaces the rule; its per-device state starts over (windows and edges of the old condition no longer apply). */
  async update(tenantId: string, id: string, input: RuleInput): Promise<Rule> {
    const old = await this.get(tenantId, id);
    const compiled = await this.validate(tenantId, input, id);
    const rule: Rule = { ...compiled.rule, createdAt: old.createdAt };
    await this.deps.store.saveRule(rule);
    await this.deps.store.deleteRuleState(id);
    for (const l of this.deps.listeners ?? []) l.ruleChanged(rule);
    return rule;
  }

  async get(tenantId: string, id: string): Promise<Rule> {
    const rule = await this.deps.store.getRule(id);
    if (!rule || rule.tenantId !== tenantId) throw new PlatformError('RULE_NOT_FOUND', id);
    return rule;
  }

  list(tenantId: string): Promise<Rule[]> {
    return this.deps.store.listRules(tenantId);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.deps.store.deleteRule(id);
    for (const l of this.deps.listeners ?? []) l.ruleRemoved(id);
  }

  /** Replays stored history through the rule without side effects (it need not be enabled). */
  async backtest(tenantId: string, id: string, options: BacktestOptions): Promise<BacktestResult> {
    const rule = await this.get(tenantId, id);
    let compiled: CompiledRule;
    try {
      compiled = compileRule(rule);
    } catch (err) {
      if (err instanceof RuleError) throw new RuleValidationError(err.path, err.reason, err.position);
      throw err;
    }
    return backtestRule(compiled, { store: this.deps.store, registry: this.deps.registry }, options);
  }

  private normalize(tenantId: string, id: string, input: RuleInput, createdAt: number, updatedAt: number): Rule {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0) throw new RuleValidationError('name', 'must not be empty');
    const rule: Rule = {
      id,
      tenantId,
      name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      enabled: input.enabled ?? true,
      ...(input.deviceId !== undefined ? { deviceId: input.deviceId } : {}),
      ...(input.profileId !== undefined ? { profileId: input.profileId } : {}),
      ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
      trigger: input.trigger ?? 'telemetry',
      condition: input.condition === undefined || input.condition.trim() === '' ? 'true' : input.condition,
      ...(input.for !== undefined ? { for: input.for } : {}),
      ...(input.schedule !== undefined ? { schedule: input.schedule } : {}),
      ...(input.connectivity !== undefined ? { connectivity: input.connectivity } : {}),
      actions: input.actions ?? [],
      ...(input.clearActions !== undefined ? { clearActions: input.clearActions } : {}),
      ...(input.autoClear !== undefined ? { autoClear: input.autoClear } : {}),
      createdAt,
      updatedAt,
    };
    return rule;
  }

  /** A rule may only target a device or profile of its own tenant (404 otherwise, as for any foreign id). */
  private async checkTarget(tenantId: string, rule: Rule): Promise<void> {
    if (rule.deviceId !== undefined) {
      const device: Device | undefined = await this.deps.registry.getDevice(rule.deviceId);
      if (!device || device.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', rule.deviceId);
    }
    if (rule.profileId !== undefined) {
      const profile = await this.deps.registry.getProfile(rule.profileId);
      if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', rule.profileId);
    }
    if (rule.groupId !== undefined) {
      const group = await this.deps.getGroup?.(rule.groupId);
      if (!group || group.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `group ${rule.groupId}`);
    }
  }
}
