/**
 * Checking a rule and turning it into what the engine runs: the parsed condition, the templates
 * of every action parameter, the windows to keep per key and the schedule. Every problem is a
 * RuleError naming the field and, for expressions, the position inside it.
 */
import { parseDuration } from '../duration.js';
import type { JsonValue } from '../telemetry.js';
import { compileExpression, ExpressionError, isTemplate, mergeAnalyses, parseTemplate, type Analysis, type Node, type Position, type Template } from '../expression/index.js';
import { CronError, parseCron, type Cron } from './cron.js';
import { RULE_TRIGGERS, type ActionConfig, type Rule } from './model.js';
import type { Retention } from './window.js';

export class RuleError extends Error {
  override name = 'RuleError';
  constructor(
    /** The field at fault: `condition`, `for`, `actions[1].message`, `schedule.cron`, … */
    readonly path: string,
    readonly reason: string,
    readonly position?: Position,
  ) {
    super(position ? `${path}: ${reason} at line ${position.line}, column ${position.column}` : `${path}: ${reason}`);
  }
}

export interface CompiledAction {
  readonly config: ActionConfig;
  /** Raw string → its template, for every string parameter that contains `${`. */
  readonly templates: ReadonlyMap<string, Template>;
}

export interface CompiledRule {
  readonly rule: Rule;
  readonly condition: Node;
  readonly forMs: number;
  readonly actions: readonly CompiledAction[];
  /** clearActions, plus a clearAlarm for each alarm action when autoClear is on. */
  readonly clearActions: readonly CompiledAction[];
  /** Everything the condition and the templates read. */
  readonly analysis: Analysis;
  readonly retention: ReadonlyMap<string, Retention>;
  readonly cron?: Cron;
}

export const MAX_FOR_MS = 7 * 86_400_000;
export const MAX_ACTIONS = 20;

function compileAction(config: ActionConfig, path: string): CompiledAction {
  const templates = new Map<string, Template>();
  const walk = (value: JsonValue, at: string): void => {
    if (typeof value === 'string') {
      if (!isTemplate(value) || templates.has(value)) return;
      try {
        templates.set(value, parseTemplate(value));
      } catch (err) {
        if (err instanceof ExpressionError) throw new RuleError(at, err.reason, err.position);
        throw err;
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`);
  };
  for (const [k, v] of Object.entries(config)) if (k !== 'type') walk(v, `${path}.${k}`);
  return { config, templates };
}

function autoClearActions(actions: readonly ActionConfig[]): ActionConfig[] {
  return actions.filter((a) => a.type === 'alarm' && typeof a.alarmType === 'string').map((a) => ({ type: 'clearAlarm', alarmType: a.alarmType as string }));
}

function retentionOf(analysis: Analysis): Map<string, Retention> {
  const out = new Map<string, Retention>();
  for (const w of analysis.windows) {
    const r = out.get(w.key) ?? { maxMs: 0, maxCount: 0 };
    out.set(w.key, {
      maxMs: w.spec.kind === 'time' ? Math.max(r.maxMs, w.spec.ms) : r.maxMs,
      maxCount: w.spec.kind === 'count' ? Math.max(r.maxCount, w.spec.n) : r.maxCount,
    });
  }
  return out;
}

/** Throws RuleError. Action types and their parameters are checked by the caller (services). */
export function compileRule(rule: Rule): CompiledRule {
  if (!RULE_TRIGGERS.includes(rule.trigger)) throw new RuleError('trigger', `unknown trigger "${String(rule.trigger)}" (${RULE_TRIGGERS.join(', ')})`);
  if (rule.deviceId !== undefined && rule.profileId !== undefined) throw new RuleError('deviceId', 'a rule targets a device or a profile, not both');
  if (rule.deviceId !== undefined && rule.groupId !== undefined) throw new RuleError('groupId', 'a rule targets a device or a group, not both');

  let condition;
  try {
    condition = compileExpression(rule.condition);
  } catch (err) {
    if (err instanceof ExpressionError) throw new RuleError('condition', err.reason, err.position);
    throw err;
  }

  let forMs = 0;
  if (rule.for !== undefined && rule.for !== '') {
    const ms = parseDuration(rule.for);
    if (ms === undefined) throw new RuleError('for', `"${rule.for}" is not a duration (e.g. "30s", "10m", "2h")`);
    if (ms > MAX_FOR_MS) throw new RuleError('for', 'longer than 7 days');
    if (rule.trigger === 'schedule') throw new RuleError('for', 'schedule rules fire at each scheduled time; "for" does not apply');
    forMs = ms;
  }

  let cron: Cron | undefined;
  if (rule.trigger === 'schedule') {
    if (!rule.schedule) throw new RuleError('schedule', 'a schedule rule needs schedule.cron');
    try {
      cron = parseCron(rule.schedule.cron, rule.schedule.timeZone ?? 'UTC');
    } catch (err) {
      if (err instanceof CronError) throw new RuleError(err.message.startsWith('unknown time zone') ? 'schedule.timeZone' : 'schedule.cron', err.message);
      throw err;
    }
  }
  const inactive = rule.connectivity?.inactiveMinutes;
  if (inactive !== undefined && (!Number.isInteger(inactive) || inactive < 1)) {
    throw new RuleError('connectivity.inactiveMinutes', 'must be a whole number of minutes, at least 1');
  }

  if (rule.actions.length > MAX_ACTIONS) throw new RuleError('actions', `at most ${MAX_ACTIONS} actions`);
  if ((rule.clearActions?.length ?? 0) > MAX_ACTIONS) throw new RuleError('clearActions', `at most ${MAX_ACTIONS} actions`);
  const actions = rule.actions.map((a, i) => compileAction(a, `actions[${i}]`));
  const explicitClear = (rule.clearActions ?? []).map((a, i) => compileAction(a, `clearActions[${i}]`));
  const implicitClear = rule.autoClear === false ? [] : autoClearActions(rule.actions).map((a) => compileAction(a, 'actions'));
  const clearActions = [...explicitClear, ...implicitClear];

  const analysis = mergeAnalyses([
    condition.analysis,
    ...[...actions, ...clearActions].flatMap((a) => [...a.templates.values()].map((t) => t.analysis)),
  ]);
  return {
    rule,
    condition: condition.node,
    forMs,
    actions,
    clearActions,
    analysis,
    retention: retentionOf(analysis),
    ...(cron ? { cron } : {}),
  };
}
