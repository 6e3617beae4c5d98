/** In-memory alarms and their history; the same answers and errors as the SQLite part. */
import { PlatformError } from '../../../domain/errors.js';
import type { AlarmEvent, AlarmQuery, AlarmStore, Page } from '../../../ports.js';
import type { Alarm } from '../../../domain/action-apis.js';
import { makeAlarm, makeAlarmEvent, newestFirst, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';

export interface MemoryAlarms extends AlarmStore {
  deleteDevice(deviceId: string): void;
}

export function createMemoryAlarms(): MemoryAlarms {
  const alarms = new Map<string, Alarm>();
  const history = new Map<string, AlarmEvent[]>();

  /** The partial unique index alarms_open: no other open alarm of the same (device, type). */
  function checkOpen(a: Alarm): void {
    if (a.status === 'cleared') return;
    for (const other of alarms.values()) {
      if (other.id !== a.id && other.status !== 'cleared' && other.deviceId === a.deviceId && other.type === a.type) {
        throw new PlatformError('CONFLICT', `an open ${a.type} alarm exists for device ${a.deviceId}`);
      }
    }
  }

  function addEvent(e: AlarmEvent): void {
    const list = history.get(e.alarmId) ?? [];
    list.push(e);
    history.set(e.alarmId, list);
  }

  return {
    async insertAlarm(alarm: Alarm, event: AlarmEvent): Promise<void> {
      const a = makeAlarm(alarm);
      const e = makeAlarmEvent({ ...event, alarmId: a.id });
      if (alarms.has(a.id)) throw new PlatformError('CONFLICT', `alarm ${a.id}`);
      checkOpen(a);
      alarms.set(a.id, a);
      addEvent(e);
    },

    async updateAlarm(alarm: Alarm, event: AlarmEvent): Promise<void> {
      const a = makeAlarm(alarm);
      const e = makeAlarmEvent({ ...event, alarmId: a.id });
      const stored = alarms.get(a.id);
      if (!stored) throw new PlatformError('ALARM_NOT_FOUND', a.id);
      if (stored.version !== a.version - 1) throw staleWrite('alarm', a.id);
      checkOpen(a);
      alarms.set(a.id, a);
      addEvent(e);
    },

    async getAlarm(id: string): Promise<Alarm | undefined> {
      const a = alarms.get(id);
      return a && makeAlarm(a);
    },

    async findOpenAlarm(deviceId: string, type: string): Promise<Alarm | undefined> {
      for (const a of alarms.values()) if (a.deviceId === deviceId && a.type === type && a.status !== 'cleared') return makeAlarm(a);
      return undefined;
    },

    async listAlarms(q: AlarmQuery): Promise<Page<Alarm>> {
      const matches = newestFirst([...alarms.values()]).filter(
          (a) =>
            a.tenantId === q.tenantId &&
            (q.deviceId === undefined || a.deviceId === q.deviceId) &&
            (q.deviceIds === undefined || q.deviceIds.includes(a.deviceId)) &&
            (q.type === undefined || a.type === q.type) &&
            (q.statuses === undefined || q.statuses.includes(a.status)) &&
            (q.severities === undefined || q.severities.includes(a.severity)) &&
            (q.from === undefined || a.createdAt >= q.from) &&
            (q.to === undefined || a.createdAt <= q.to),
      );
      const offset = clampLimit(q.offset);
      return { items: matches.slice(offset, offset + clampLimit(q.limit)).map(makeAlarm), total: matches.length };
    },

    async alarmHistory(alarmId: string): Promise<AlarmEvent[]> {
      return (history.get(alarmId) ?? []).map(makeAlarmEvent);
    },

    deleteDevice(deviceId: string): void {
      for (const [id, a] of alarms) {
        if (a.deviceId !== deviceId) continue;
        alarms.delete(id);
        history.delete(id);
      }
    },
  };
}
