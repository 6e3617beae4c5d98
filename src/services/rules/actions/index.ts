/**
 * The action catalogue: one file per action, registered here. `checkAction` validates a rule's
 * action when it is saved; `runAction` executes a rendered one.
 */
import { Value } from '@sinclair/typebox/value';
import { RuleError } from '../../../domain/rules/compile.js';
import type { ActionConfig } from '../../../domain/rules/model.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import { alarmAction } from './alarm.js';
import { clearAlarmAction } from './clear-alarm.js';
import { commandAction } from './command.js';
import { emailAction } from './email.js';
import { mqttPublishAction } from './mqtt-publish.js';
import { setAttributeAction } from './set-attribute.js';
import { smsAction } from './sms.js';
import { telemetryAction } from './telemetry.js';
import type { ActionContext, ActionDefinition, ActionDeps, CheckEnv } from './types.js';
import { webhookAction } from './webhook.js';

export type { ActionContext, ActionDefinition, ActionDeps, CheckEnv, EmailMessage, EmailSender } from './types.js';

const BUILT_IN: readonly ActionDefinition[] = [alarmAction, clearAlarmAction, commandAction, setAttributeAction, telemetryAction, webhookAction, emailAction, smsAction, mqttPublishAction];

export class ActionCatalog {
  private readonly byType = new Map<string, ActionDefinition>();

  /** `env` is what save-time checks consult (the platform's outbound policy). */
  constructor(
    definitions: readonly ActionDefinition[] = BUILT_IN,
    private readonly env: CheckEnv = {},
  ) {
    for (const d of definitions) this.byType.set(d.type, d);
  }

  /** Adds an action type (plugins, tests). */
  register(definition: ActionDefinition): void {
    this.byType.set(definition.type, definition);
  }

  list(): ActionDefinition[] {
    return [...this.byType.values()];
  }

  get(type: string): ActionDefinition | undefined {
    return this.byType.get(type);
  }

  /** Parameters with defaults applied, or the first schema violation as [path, message]. */
  private params(def: ActionDefinition, config: ActionConfig): { params: Record<string, unknown> } | { error: [string, string] } {
    const { type: _type, ...rest } = config;
    const params: Record<string, unknown> = { ...(def.defaults as Record<string, unknown>), ...rest };
    if (Value.Check(def.configSchema, params)) return { params };
    const first = Value.Errors(def.configSchema, params).First();
    const field = first?.path ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
    return { error: [field, first?.message ?? 'invalid parameters'] };
  }

  /** Throws RuleError at `path` (e.g. `actions[1]`) when the type is unknown or a parameter is wrong. */
  check(config: ActionConfig, path: string): void {
    const def = typeof config.type === 'string' ? this.byType.get(config.type) : undefined;
    if (!def) throw new RuleError(`${path}.type`, `unknown action type "${String(config.type)}" (${[...this.byType.keys()].join(', ')})`);
    const result = this.params(def, config);
    if ('error' in result) {
      const [field, message] = result.error;
      throw new RuleError(field ? `${path}.${field}` : path, message);
    }
    try {
      def.check?.(result.params, this.env);
    } catch (err) {
      throw new RuleError(path, err instanceof Error ? err.message : String(err));
    }
  }

  /** Runs an action whose templates are rendered; parameters are checked again (templates may change types). */
  async run(action: ActionConfig, ctx: ActionContext, deps: ActionDeps): Promise<JsonValue | undefined> {
    const def = this.byType.get(action.type);
    if (!def) throw new Error(`unknown action type "${action.type}"`);
    const result = this.params(def, action);
    if ('error' in result) throw new Error(`${action.type}: ${result.error[0] || 'parameters'}: ${result.error[1]} (after templates)`);
    return def.run(result.params, ctx, deps);
  }
}
