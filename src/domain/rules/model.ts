/**
 * Rules: "when <trigger> and <condition> (for at least <duration>), do <actions>; when it stops
 * holding, do <clearActions>". A rule belongs to a tenant and targets one device, every device of
 * a profile, or (neither set) every device of the tenant.
 */
import type { JsonValue } from '../telemetry.js';

export type RuleTrigger = 'telemetry' | 'attributes' | 'connectivity' | 'schedule';
export const RULE_TRIGGERS: readonly RuleTrigger[] = ['telemetry', 'attributes', 'connectivity', 'schedule'];

/** One step a rule takes: `type` names the action; the other fields are its parameters. */
export interface ActionConfig {
  readonly type: string;
  readonly [param: string]: JsonValue;
}

export interface ScheduleSpec {
  /** Five fields: minute hour day-of-month month day-of-week. */
  readonly cron: string;
  /** IANA time zone the cron fields are read in; default UTC. */
  readonly timeZone?: string;
}

export interface ConnectivitySpec {
  /** Also report `inactive` when a device has been silent this long (by the platform clock). */
  readonly inactiveMinutes?: number;
}

/** What a user sends to create or replace a rule. */
export interface RuleInput {
  readonly name: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly deviceId?: string;
  readonly profileId?: string;
  /** Only devices of this device group (issue 15); with profileId: members of the profile. */
  readonly groupId?: string;
  readonly trigger: RuleTrigger;
  /** Expression; default "true". */
  readonly condition?: string;
  /** The condition must hold this long (by message timestamps) before the actions run: "10m". */
  readonly for?: string;
  readonly schedule?: ScheduleSpec;
  readonly connectivity?: ConnectivitySpec;
  readonly actions: readonly ActionConfig[];
  /** Run when the condition stops holding after the rule fired. */
  readonly clearActions?: readonly ActionConfig[];
  /** Clear the alarms this rule raised when the condition stops holding (default true). */
  readonly autoClear?: boolean;
}

export interface Rule extends RuleInput {
  readonly id: string;
  readonly tenantId: string;
  readonly enabled: boolean;
  readonly condition: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type RuleTarget = { readonly kind: 'device'; readonly id: string } | { readonly kind: 'profile'; readonly id: string } | { readonly kind: 'tenant' };

export function targetOf(rule: Pick<Rule, 'deviceId' | 'profileId'>): RuleTarget {
  if (rule.deviceId !== undefined) return { kind: 'device', id: rule.deviceId };
  if (rule.profileId !== undefined) return { kind: 'profile', id: rule.profileId };
  return { kind: 'tenant' };
}

/** Connectivity messages a rule's condition sees as `event` (and `online`). */
export type ConnectivityEvent = 'online' | 'offline' | 'inactive';
