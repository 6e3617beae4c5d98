/**
 * The rules feature assembled: service (CRUD, validation, backtest), engine (bus consumer) and
 * timers (schedules, inactivity). The composition root calls `createRules` and start/stop.
 */
import type { DeviceProfile } from '../../domain/device.js';
import type { Rule } from '../../domain/rules/model.js';
import type { Bus, Clock, Logger, Store } from '../../ports.js';
import { ActionCatalog, type ActionDeps } from './actions/index.js';
import { type GroupMembership, RuleEngine, type RuleMetrics } from './engine.js';
import type { RuleClusterDeps } from './partitions.js';
import { RuleService, type RuleServiceDeps } from './service.js';
import { RuleTimers, type RuleTimersDeps, type TargetLookup } from './timers.js';

export { ActionCatalog, type ActionDeps } from './actions/index.js';
export { RuleEngine, noopRuleMetrics, type RuleMetrics } from './engine.js';
export { RuleService, RuleValidationError } from './service.js';
export { RuleTimers } from './timers.js';
export type { BacktestResult } from './backtest.js';
export type { RuleClusterDeps } from './partitions.js';

export interface RulesDeps {
  readonly store: Store;
  readonly registry: TargetLookup & { getProfile(id: string): Promise<DeviceProfile | undefined> };
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly actionDeps: Omit<ActionDeps, 'logger'>;
  readonly catalog?: ActionCatalog;
  readonly metrics?: RuleMetrics;
  /** The tenants' rule quotas (RuleServiceDeps.quota). */
  readonly quota?: RuleServiceDeps['quota'];
  readonly statuses?: RuleTimersDeps['statuses'];
  /** Tests drive schedules and inactivity by hand (runSchedules, checkInactivity). */
  readonly timers?: boolean;
  readonly stateFlushMs?: number;
  /** Device groups as rule targets (issue 15). */
  readonly groups?: GroupMembership & { getGroup(id: string): Promise<{ readonly tenantId: string } | undefined> };
  /** Cluster mode (issue 14): partition ownership, checkpoints, firing keys. */
  readonly cluster?: RuleClusterDeps;
}

export interface Rules {
  readonly service: RuleService;
  readonly engine: RuleEngine;
  readonly timers: RuleTimers;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createRules(deps: RulesDeps): Rules {
  const logger = deps.logger.child({ component: 'rules' });
  // Save-time checks of webhook URLs consult the same outbound policy the sends do.
  const catalog = deps.catalog ?? new ActionCatalog(undefined, deps.actionDeps.outbound ? { outbound: deps.actionDeps.outbound } : {});
  const engine = new RuleEngine({
    store: deps.store,
    registry: deps.registry,
    bus: deps.bus,
    clock: deps.clock,
    logger,
    catalog,
    actionDeps: { ...deps.actionDeps, logger },
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.stateFlushMs !== undefined ? { stateFlushMs: deps.stateFlushMs } : {}),
    ...(deps.groups ? { groups: deps.groups } : {}),
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
  });
  const timers = new RuleTimers({ engine, registry: deps.registry, clock: deps.clock, logger, ...(deps.statuses ? { statuses: deps.statuses } : {}) });
  const listener = {
    ruleChanged(rule: Rule): void {
      engine.ruleChanged(rule);
      const compiled = engine.index.get(rule.id);
      if (compiled) void timers.watch(compiled).catch((err: unknown) => logger.warn({ err, ruleId: rule.id }, 'watching rule targets failed'));
    },
    ruleRemoved: (id: string) => engine.ruleRemoved(id),
  };
  const groups = deps.groups;
  const service = new RuleService({
    store: deps.store,
    registry: deps.registry,
    catalog,
    clock: deps.clock,
    listeners: [listener],
    ...(deps.quota ? { quota: deps.quota } : {}),
    ...(groups ? { getGroup: (id: string) => groups.getGroup(id) } : {}),
  });
  return {
    service,
    engine,
    timers,
    async start() {
      await engine.start();
      if (deps.timers ?? true) await timers.start();
    },
    async stop() {
      timers.stop();
      await engine.stop();
    },
  };
}
