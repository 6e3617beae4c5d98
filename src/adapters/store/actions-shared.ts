/**
 * What the memory and SQLite stores share for alarms and commands (kept apart from shared.ts,
 * which is about the registry and telemetry): the canonical shape of each stored object
 * (optional fields absent, never `undefined`), value checks, and the list order both use.
 */
import { PlatformError } from '../../domain/errors.js';
import type { JsonValue } from '../../domain/telemetry.js';
import type { AlarmEvent, StoredCommand } from '../../ports.js';
import { ALARM_SEVERITIES, type Alarm, type AlarmStatus, type CommandStatus } from '../../domain/action-apis.js';
import { checkInt } from './shared.js';

export const ALARM_STATUSES: readonly AlarmStatus[] = ['active', 'acknowledged', 'cleared'];
export const ALARM_ACTIONS: readonly AlarmEvent['action'][] = ['raised', 'repeated', 'acknowledged', 'cleared'];
export const COMMAND_STATUSES: readonly CommandStatus[] = ['QUEUED', 'SENT', 'DELIVERED', 'SUCCESSFUL', 'FAILED', 'TIMEOUT', 'EXPIRED'];
/** States a persistent command leaves only by being sent again, answered, timing out or expiring. */
export const PENDING_COMMAND_STATUSES: readonly CommandStatus[] = ['QUEUED', 'SENT', 'DELIVERED'];

type Nullable<T> = T | null | undefined;

function oneOf<T extends string>(value: T, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value)) throw new PlatformError('BAD_REQUEST', `unknown ${what} ${String(value)}`);
  return value;
}

function optInt<K extends string>(key: K, value: Nullable<number>): Partial<Record<K, number>> {
  return value === null || value === undefined ? {} : ({ [key]: checkInt(value, key) } as Record<K, number>);
}

function opt<K extends string, V>(key: K, value: Nullable<V>): Partial<Record<K, V>> {
  return value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** A compare-and-set version: a positive integer. */
function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1) throw new PlatformError('BAD_REQUEST', `version must be a positive integer, got ${String(version)}`);
  return version;
}

/** The error of a compare-and-set that lost: the caller re-reads and tries again. */
export function staleWrite(what: string, id: string): PlatformError {
  return new PlatformError('CONFLICT', `${what} ${id} was changed by another writer`);
}

/** The arguments of IdStore.reserveIds: a block of at least one id that fits below `max`. */
export function checkBlock(count: number, max: number): void {
  if (!Number.isSafeInteger(count) || count < 1) throw new PlatformError('BAD_REQUEST', `id block size must be a positive integer, got ${String(count)}`);
  if (!Number.isSafeInteger(max) || max < count) throw new PlatformError('BAD_REQUEST', `id maximum ${String(max)} is below the block size ${count}`);
}

/** JSON text of a value the store keeps; undefined is not a value. */
export function jsonText(value: unknown, what: string): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new PlatformError('BAD_REQUEST', `${what} has no JSON value`);
  return json;
}

/** A deep copy through JSON, so a caller never shares an object with the store. */
export function copyJson(value: JsonValue): JsonValue {
  return JSON.parse(jsonText(value, 'value')) as JsonValue;
}

export function makeAlarm(a: {
  id: string;
  tenantId: string;
  deviceId: string;
  type: string;
  severity: string;
  status: string;
  count: number;
  details: JsonValue;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt?: Nullable<number>;
  clearedAt?: Nullable<number>;
  version: number;
}): Alarm {
  if (a.type.length === 0) throw new PlatformError('BAD_REQUEST', 'alarm type is empty');
  return {
    id: a.id,
    tenantId: a.tenantId,
    deviceId: a.deviceId,
    type: a.type,
    severity: oneOf(a.severity as Alarm['severity'], ALARM_SEVERITIES, 'alarm severity'),
    status: oneOf(a.status as AlarmStatus, ALARM_STATUSES, 'alarm status'),
    count: checkInt(a.count, 'count'),
    details: copyJson(a.details),
    createdAt: checkInt(a.createdAt, 'createdAt'),
    updatedAt: checkInt(a.updatedAt, 'updatedAt'),
    ...optInt('acknowledgedAt', a.acknowledgedAt),
    ...optInt('clearedAt', a.clearedAt),
    version: checkVersion(a.version),
  };
}

export function makeAlarmEvent(e: {
  alarmId: string;
  ts: number;
  action: string;
  severity: string;
  by?: Nullable<string>;
  details?: Nullable<JsonValue>;
}): AlarmEvent {
  return {
    alarmId: e.alarmId,
    ts: checkInt(e.ts, 'ts'),
    action: oneOf(e.action as AlarmEvent['action'], ALARM_ACTIONS, 'alarm action'),
    severity: oneOf(e.severity as Alarm['severity'], ALARM_SEVERITIES, 'alarm severity'),
    ...opt('by', e.by),
    ...(e.details === undefined || e.details === null ? {} : { details: copyJson(e.details) }),
  };
}

export function makeCommand(c: {
  id: string;
  tenantId: string;
  deviceId: string;
  method: string;
  params: JsonValue;
  oneway: boolean | number;
  persistent: boolean | number;
  status: string;
  response?: JsonValue | undefined;
  error?: Nullable<string>;
  retries: number;
  maxRetries: number;
  timeoutMs: number;
  origin?: Nullable<string>;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  version: number;
  claimedBy?: Nullable<string>;
  leaseUntil?: Nullable<number>;
}): StoredCommand {
  if (c.method.length === 0) throw new PlatformError('BAD_REQUEST', 'command method is empty');
  return {
    id: c.id,
    tenantId: c.tenantId,
    deviceId: c.deviceId,
    method: c.method,
    params: copyJson(c.params),
    oneway: Boolean(c.oneway),
    persistent: Boolean(c.persistent),
    status: oneOf(c.status as CommandStatus, COMMAND_STATUSES, 'command status'),
    // A JSON null answer is an answer: only undefined means none.
    ...(c.response === undefined ? {} : { response: copyJson(c.response) }),
    ...opt('error', c.error),
    retries: checkInt(c.retries, 'retries'),
    maxRetries: checkInt(c.maxRetries, 'maxRetries'),
    timeoutMs: checkInt(c.timeoutMs, 'timeoutMs'),
    ...opt('origin', c.origin),
    createdAt: checkInt(c.createdAt, 'createdAt'),
    updatedAt: checkInt(c.updatedAt, 'updatedAt'),
    expiresAt: checkInt(c.expiresAt, 'expiresAt'),
    version: checkVersion(c.version),
    ...opt('claimedBy', c.claimedBy),
    ...optInt('leaseUntil', c.leaseUntil),
  };
}

/**
 * Newest first; equal times in reverse insertion order (SQLite: rowid). Sorts `inserted`, a list
 * in insertion order, without changing it.
 */
export function newestFirst<T extends { createdAt: number }>(inserted: readonly T[]): T[] {
  // Array.prototype.sort is stable: reversing first keeps later insertions first among equals.
  return [...inserted].reverse().sort((a, b) => b.createdAt - a.createdAt);
}

/** Oldest first; equal times in insertion order: the order commands leave the outbox. */
export function oldestFirst<T extends { createdAt: number }>(inserted: readonly T[]): T[] {
  return [...inserted].sort((a, b) => a.createdAt - b.createdAt);
}
