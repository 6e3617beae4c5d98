/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { Alarm } from '../../../domain/action-apis.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { AlarmEvent } from '../../../ports.js';
import { jsonText, makeAlarm, makeAlarmEvent } from '../actions-shared.js';

export interface AlarmRow {
  id: string;
  tenant_id: string;
  device_id: string;
  type: string;
  severity: string;
  status: string;
  repeat_count: number;
  details: string;
  created_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  cleared_at: number | null;
  version: number;
}

export interface AlarmEventRow {
  alarm_id: string;
  ts: number;
  action: string;
  severity: string;
  actor: string | null;
  details: string | null;
}

export const ALARM_COLUMNS = 'id, tenant_id, device_id, type, severity, status, repeat_count, details, created_at, updated_at, acknowledged_at, cleared_at, version';

export const toAlarm = (r: AlarmRow): Alarm =>
  makeAlarm({
    id: r.id,
    tenantId: r.tenant_id,
    deviceId: r.device_id,
    type: r.type,
    severity: r.severity,
    status: r.status,
    count: r.repeat_count,
    details: JSON.parse(r.details) as JsonValue,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    acknowledgedAt: r.acknowledged_at,
    clearedAt: r.cleared_at,
    version: r.version,
  });

export const toAlarmEvent = (r: AlarmEventRow): AlarmEvent =>
  makeAlarmEvent({
    alarmId: r.alarm_id,
    ts: r.ts,
    action: r.action,
    severity: r.severity,
    by: r.actor,
    details: r.details === null ? null : (JSON.parse(r.details) as JsonValue),
  });

/** The row values of an alarm, in ALARM_COLUMNS order (throws for details that are not JSON). */
export const alarmValues = (a: Alarm): unknown[] => [
  a.id,
  a.tenantId,
  a.deviceId,
  a.type,
  a.severity,
  a.status,
  a.count,
  jsonText(a.details, 'alarm details'),
  a.createdAt,
  a.updatedAt,
  a.acknowledgedAt ?? null,
  a.clearedAt ?? null,
  a.version,
];
