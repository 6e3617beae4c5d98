/**
 * What every rule action is: a small unit with metadata (shown by GET /api/rules/actions), a
 * TypeBox schema of its parameters with defaults, and a `run` that does the work through ports
 * only. Parameters are checked when a rule is saved and again after templates are rendered.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { AttributeScope } from '../../../domain/device.js';
import type { Edge } from '../../../domain/rules/state.js';
import type { JsonValue, Point } from '../../../domain/telemetry.js';
import type { Logger, SmsSender, TopicPublisher } from '../../../ports.js';
import type { AlarmApi, CommandApi } from '../../../domain/action-apis.js';
import type { OutboundHttp } from '../../outbound.js';
import type { EmailMessage, EmailSender } from '../../../ports/notify.js';

export interface ActionContext {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly ruleId: string;
  readonly ruleName: string;
  /** Timestamp of the message that moved the edge. */
  readonly ts: number;
  readonly edge: Edge;
  /**
   * In a cluster: the firing's unique key and the action's index in it. Actions that create
   * something keyed (commands: idempotencyKey) use it, so a firing dispatched again by a
   * partition's next owner creates nothing twice.
   */
  readonly firing?: string;
}

export type { EmailMessage, EmailSender };

/** Ports the actions use; an action whose port is absent fails with a clear message. */
export interface ActionDeps {
  readonly alarms?: AlarmApi;
  readonly commands?: CommandApi;
  /** Finds another device of the tenant by name (commands addressed to a named device). */
  readonly devices?: { idByName(tenantId: string, name: string): Promise<string | undefined> };
  readonly attributes?: { set(tenantId: string, deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>): Promise<void> };
  /** Writes derived telemetry through ingest (validated, group-committed, announced on the bus). */
  readonly telemetry?: { write(tenantId: string, deviceId: string, points: readonly Point[]): Promise<void> };
  readonly topics?: TopicPublisher;
  readonly email?: EmailSender;
  readonly sms?: SmsSender;
  /** Outbound HTTP under the outbound-connection policy (webhooks). */
  readonly outbound?: OutboundHttp;
  readonly logger: Logger;
}

/** What save-time checks may consult (the outbound policy of this platform). */
export interface CheckEnv {
  readonly outbound?: Pick<OutboundHttp, 'checkUrl'>;
}

export interface ActionDefinition<S extends TObject = TObject> {
  readonly type: string;
  readonly title: string;
  readonly description: string;
  /** The parameters besides `type`. */
  readonly configSchema: S;
  readonly defaults: Partial<Static<S>>;
  /** Extra checks at save time on parameters without templates; throws an Error with the reason. */
  check?(params: Static<S>, env: CheckEnv): void;
  /** Resolves with what the action produced (alarm, command, HTTP status) for logs and backtests. */
  run(params: Static<S>, ctx: ActionContext, deps: ActionDeps): Promise<JsonValue | undefined>;
}

/** Declares an action with its schema's static type checked against `run`. */
export function defineAction<S extends TObject>(def: ActionDefinition<S>): ActionDefinition {
  return def as unknown as ActionDefinition;
}

export function missing(what: string): Error {
  return new Error(`${what} is not available on this platform`);
}
