/**
 * Alarms with their history. At most one open alarm per (device, type) (a partial unique index);
 * updates are compare-and-set on `version`. Writes issued together apply in call order, each in
 * its own transaction with its history event, so one that fails (CONFLICT, ALARM_NOT_FOUND) fails alone.
 */
import type pg from 'pg';
import type { Alarm } from '../../../domain/action-apis.js';
import { PlatformError } from '../../../domain/errors.js';
import type { AlarmEvent, AlarmQuery, AlarmStore, Page } from '../../../ports.js';
import { jsonText, makeAlarm, makeAlarmEvent, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';
import { ALARM_COLUMNS, alarmValues, toAlarm, toAlarmEvent, type AlarmEventRow, type AlarmRow } from '../rows/alarms.js';
import { all, inTx, isUniqueViolation, one } from './db.js';
import { serialQueue } from './serial.js';

export function createPgAlarms(pool: pg.Pool): AlarmStore {
  const serial = serialQueue();

  const addEvent = (c: pg.PoolClient, e: AlarmEvent): Promise<unknown> =>
    c.query('INSERT INTO alarm_events (alarm_id, ts, action, severity, actor, details) VALUES ($1, $2, $3, $4, $5, $6)', [
      e.alarmId,
      e.ts,
      e.action,
      e.severity,
      e.by ?? null,
      e.details === undefined ? null : jsonText(e.details, 'event details'),
    ]);

  function write(alarm: Alarm, event: AlarmEvent, isNew: boolean): Promise<void> {
    const a = makeAlarm(alarm);
    const e = makeAlarmEvent({ ...event, alarmId: a.id });
    const row = alarmValues(a); // validates the details now: bad input fails this call alone
    return serial(() =>
      inTx(pool, async (c) => {
        if (isNew) {
          try {
            await c.query(`INSERT INTO alarms (${ALARM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, row);
          } catch (err) {
            if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `an open ${a.type} alarm exists for device ${a.deviceId}`, { cause: err });
            throw err;
          }
        } else {
          // Compare-and-set (AlarmStore.updateAlarm): only over the version the writer read.
          let changed: number;
          try {
            changed =
              (
                await c.query(
                  `UPDATE alarms SET tenant_id = $2, device_id = $3, type = $4, severity = $5, status = $6, repeat_count = $7, details = $8,
                     created_at = $9, updated_at = $10, acknowledged_at = $11, cleared_at = $12, version = $13
                   WHERE id = $1 AND version = $13 - 1`,
                  row,
                )
              ).rowCount ?? 0;
          } catch (err) {
            if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `an open ${a.type} alarm exists for device ${a.deviceId}`, { cause: err });
            throw err;
          }
          if (changed === 0) {
            throw (await one(c, 'SELECT 1 FROM alarms WHERE id = $1', [a.id])) === undefined ? new PlatformError('ALARM_NOT_FOUND', a.id) : staleWrite('alarm', a.id);
          }
        }
        await addEvent(c, e);
      }),
    );
  }

  return {
    insertAlarm: (alarm, event) => write(alarm, event, true),
    updateAlarm: (alarm, event) => write(alarm, event, false),

    async getAlarm(id: string): Promise<Alarm | undefined> {
      const r = await one<AlarmRow>(pool, `SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1`, [id]);
      return r && toAlarm(r);
    },

    async findOpenAlarm(deviceId: string, type: string): Promise<Alarm | undefined> {
      const r = await one<AlarmRow>(pool, `SELECT ${ALARM_COLUMNS} FROM alarms WHERE device_id = $1 AND type = $2 AND status <> 'cleared'`, [deviceId, type]);
      return r && toAlarm(r);
    },

    async listAlarms(q: AlarmQuery): Promise<Page<Alarm>> {
      // Built from fixed fragments; every value is a bound parameter.
      const params: unknown[] = [q.tenantId];
      const where = ['tenant_id = $1'];
      if (q.deviceId !== undefined) where.push(`device_id = $${params.push(q.deviceId)}`);
      if (q.type !== undefined) where.push(`type = $${params.push(q.type)}`);
      if (q.statuses !== undefined) where.push(`status = ANY($${params.push([...q.statuses])}::text[])`);
      if (q.severities !== undefined) where.push(`severity = ANY($${params.push([...q.severities])}::text[])`);
      if (q.from !== undefined) where.push(`created_at >= $${params.push(q.from)}`);
      if (q.to !== undefined) where.push(`created_at <= $${params.push(q.to)}`);
      const clause = where.join(' AND ');
      const total = (await one<{ n: number }>(pool, `SELECT count(*) AS n FROM alarms WHERE ${clause}`, params))?.n ?? 0;
      const limit = params.push(clampLimit(q.limit));
      const offset = params.push(clampLimit(q.offset));
      const rows = await all<AlarmRow>(pool, `SELECT ${ALARM_COLUMNS} FROM alarms WHERE ${clause} ORDER BY created_at DESC, seq DESC LIMIT $${limit} OFFSET $${offset}`, params);
      return { items: rows.map(toAlarm), total };
    },

    async alarmHistory(alarmId: string): Promise<AlarmEvent[]> {
      return (await all<AlarmEventRow>(pool, 'SELECT alarm_id, ts, action, severity, actor, details FROM alarm_events WHERE alarm_id = $1 ORDER BY seq', [alarmId])).map(toAlarmEvent);
    },
  };
}

/** Inside the store's deleteDevice transaction (history goes by ON DELETE CASCADE). */
export async function deleteDeviceAlarms(c: pg.PoolClient, deviceId: string): Promise<void> {
  await c.query('DELETE FROM alarms WHERE device_id = $1', [deviceId]);
}
