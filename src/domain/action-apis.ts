/**
 * What rule actions (and the REST API) may ask of alarms and commands. Defined apart from the
 * services that implement them so the rule engine depends on these small contracts only.
 */
import type { JsonValue } from './telemetry.js';

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'indeterminate';
export const ALARM_SEVERITIES: readonly AlarmSeverity[] = ['critical', 'major', 'minor', 'warning', 'indeterminate'];

/** active → acknowledged → cleared; an alarm may also be cleared without being acknowledged. */
export type AlarmStatus = 'active' | 'acknowledged' | 'cleared';

export interface Alarm {
  readonly id: string;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly type: string;
  readonly severity: AlarmSeverity;
  readonly status: AlarmStatus;
  /** How many times the condition was raised again while this alarm stayed open. */
  readonly count: number;
  readonly details: JsonValue;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly acknowledgedAt?: number;
  readonly clearedAt?: number;
  /** Bumped by every change; the store's compare-and-set checks it (AlarmStore.updateAlarm). */
  readonly version: number;
}

export interface RaiseAlarm {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly type: string;
  readonly severity: AlarmSeverity;
  readonly details?: JsonValue;
}

/**
 * An alarm's lifecycle as an edge gateway recorded it, possibly while the platform was away:
 * `id` is the edge's own identifier (the platform derives its alarm id from it and the gateway,
 * so the same lifecycle sent twice is stored once), with the edge's timestamps.
 */
export interface SyncedAlarm {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly id: string;
  readonly type: string;
  readonly severity: AlarmSeverity;
  readonly details?: JsonValue;
  readonly raisedAt: number;
  readonly clearedAt?: number;
}

export interface AlarmApi {
  /** Creates the open alarm of (device, type), or counts a repeat on it (severity/details updated). */
  raise(input: RaiseAlarm): Promise<Alarm>;
  /** Clears the open alarm of (device, type); undefined when none is open. */
  clear(input: { tenantId: string; deviceId: string; type: string; details?: JsonValue }): Promise<Alarm | undefined>;
}

export type CommandStatus = 'QUEUED' | 'SENT' | 'DELIVERED' | 'SUCCESSFUL' | 'FAILED' | 'TIMEOUT' | 'EXPIRED';

export interface Command {
  readonly id: string;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly method: string;
  readonly params: JsonValue;
  readonly oneway: boolean;
  readonly persistent: boolean;
  readonly status: CommandStatus;
  readonly response?: JsonValue;
  readonly error?: string;
  readonly retries: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
}

export interface SendCommand {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly method: string;
  readonly params?: JsonValue;
  readonly oneway?: boolean;
  /** Persistent commands wait in the durable outbox until the device is reachable. */
  readonly persistent?: boolean;
  readonly timeoutMs?: number;
  readonly expiresInMs?: number;
  /** Who asked: 'api', 'rule:<id>', … (shown in the command history). */
  readonly origin?: string;
  /**
   * Makes the send idempotent: the command id is derived from (tenant, key), so a second send
   * with the key creates nothing and resolves with the first command (a rule firing replayed
   * by a partition's next owner, issue 14).
   */
  readonly idempotencyKey?: string;
}

export interface CommandApi {
  /** Non-persistent two-way commands resolve once answered (or TIMEOUT); others once queued/sent. */
  send(input: SendCommand): Promise<Command>;
}
