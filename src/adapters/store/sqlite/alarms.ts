/**
 * Alarms and their history. At most one open alarm per (device, type): the alarms_open index.
 *
 * Writes are group-committed like telemetry (docs/ARCHITECTURE.md): insertAlarm/updateAlarm
 * validate at once, queue the write and resolve only after the transaction that carries every
 * write queued in the same turn of the event loop has committed (a rule raising alarms for many
 * devices costs one commit, not one each). Each write runs in its own savepoint inside it, so
 * one that fails (CONFLICT, ALARM_NOT_FOUND) is rolled back and rejected alone; writes apply in
 * call order. A write is visible to reads once its promise resolves, as before.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { AlarmEvent, AlarmQuery, AlarmStore, Page } from '../../../ports.js';
import type { Alarm } from '../../../domain/action-apis.js';
import { jsonText, makeAlarm, makeAlarmEvent, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';
import { ALARM_COLUMNS, alarmValues, toAlarm, toAlarmEvent, type AlarmEventRow, type AlarmRow } from '../rows/alarms.js';
import { isUniqueViolation, type Db } from './sql.js';

export interface SqliteAlarms extends AlarmStore {
  /** Removes the device's alarms and their history (inside the caller's transaction). */
  deleteDevice(deviceId: string): void;
  /** Commits the queued writes now (before a device deletion and before close); outside any transaction. */
  flushAlarms(): void;
}

/** Queued writes that make the commit run at once instead of at the next turn. */
const MAX_QUEUED_WRITES = 1000;

interface QueuedWrite {
  readonly a: Alarm;
  readonly row: unknown[];
  readonly e: AlarmEvent;
  readonly isNew: boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export function createSqliteAlarms(db: Db): SqliteAlarms {
  const s = {
    insert: db.prepare(`INSERT INTO alarms (${ALARM_COLUMNS}) VALUES (${ALARM_COLUMNS.split(',').map(() => '?').join(', ')})`),
    update: db.prepare(
      `UPDATE alarms SET tenant_id = ?, device_id = ?, type = ?, severity = ?, status = ?, repeat_count = ?, details = ?,
         created_at = ?, updated_at = ?, acknowledged_at = ?, cleared_at = ?, version = ? WHERE id = ? AND version = ?`,
    ),
    exists: db.prepare<[string], number>('SELECT 1 FROM alarms WHERE id = ?').pluck(),
    event: db.prepare('INSERT INTO alarm_events (alarm_id, ts, action, severity, actor, details) VALUES (?, ?, ?, ?, ?, ?)'),
    get: db.prepare<[string], AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = ?`),
    open: db.prepare<[string, string], AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE device_id = ? AND type = ? AND status != 'cleared'`),
    history: db.prepare<[string], AlarmEventRow>('SELECT alarm_id, ts, action, severity, actor, details FROM alarm_events WHERE alarm_id = ? ORDER BY seq'),
    removeEvents: db.prepare('DELETE FROM alarm_events WHERE alarm_id IN (SELECT id FROM alarms WHERE device_id = ?)'),
    removeDevice: db.prepare('DELETE FROM alarms WHERE device_id = ?'),
  };

  const addEvent = (e: AlarmEvent): void => {
    s.event.run(e.alarmId, e.ts, e.action, e.severity, e.by ?? null, e.details === undefined ? null : jsonText(e.details, 'event details'));
  };

  // Called inside writeBatch: better-sqlite3 runs a nested transaction as a savepoint.
  const writeOne = db.transaction((w: QueuedWrite) => {
    if (w.isNew) s.insert.run(...w.row);
    else {
      const [id, ...rest] = w.row;
      // Compare-and-set (AlarmStore.updateAlarm): only over the version the writer read.
      if (s.update.run(...rest, id, w.a.version - 1).changes === 0) {
        throw s.exists.get(w.a.id) === undefined ? new PlatformError('ALARM_NOT_FOUND', w.a.id) : staleWrite('alarm', w.a.id);
      }
    }
    addEvent(w.e);
  });

  const conflict = (a: Alarm, err: unknown): unknown =>
    isUniqueViolation(err) ? new PlatformError('CONFLICT', `an open ${a.type} alarm exists for device ${a.deviceId}`, { cause: err }) : err;

  /** One transaction; per write, undefined or the error it is rejected with. */
  const writeBatch = db.transaction((writes: readonly QueuedWrite[]): unknown[] =>
    writes.map((w) => {
      try {
        writeOne(w);
        return undefined;
      } catch (err) {
        return conflict(w.a, err) ?? new PlatformError('INTERNAL', 'alarm write failed');
      }
    }),
  );

  let queued: QueuedWrite[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    if (queued.length === 0) return;
    const writes = queued;
    queued = [];
    let errors: unknown[];
    try {
      errors = writeBatch(writes);
    } catch (err) {
      for (const w of writes) w.reject(err); // the commit itself failed: nothing was written
      return;
    }
    writes.forEach((w, i) => (errors[i] === undefined ? w.resolve() : w.reject(errors[i])));
  }

  function enqueue(alarm: Alarm, event: AlarmEvent, isNew: boolean): Promise<void> {
    const a = makeAlarm(alarm);
    const e = makeAlarmEvent({ ...event, alarmId: a.id });
    const row = alarmValues(a); // validates the details now: bad input fails this call alone
    return new Promise<void>((resolve, reject) => {
      queued.push({ a, row, e, isNew, resolve, reject });
      if (queued.length >= MAX_QUEUED_WRITES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  }

  return {
    async insertAlarm(alarm: Alarm, event: AlarmEvent): Promise<void> {
      return enqueue(alarm, event, true);
    },

    async updateAlarm(alarm: Alarm, event: AlarmEvent): Promise<void> {
      return enqueue(alarm, event, false);
    },

    flushAlarms: flush,

    async getAlarm(id: string): Promise<Alarm | undefined> {
      const r = s.get.get(id);
      return r && toAlarm(r);
    },

    async findOpenAlarm(deviceId: string, type: string): Promise<Alarm | undefined> {
      const r = s.open.get(deviceId, type);
      return r && toAlarm(r);
    },

    async listAlarms(q: AlarmQuery): Promise<Page<Alarm>> {
      // Built from fixed fragments; every value is a bound parameter.
      const where = ['tenant_id = ?'];
      const params: unknown[] = [q.tenantId];
      if (q.deviceId !== undefined) {
        where.push('device_id = ?');
        params.push(q.deviceId);
      }
      if (q.deviceIds !== undefined) {
        where.push('device_id IN (SELECT value FROM json_each(?))');
        params.push(JSON.stringify(q.deviceIds));
      }
      if (q.type !== undefined) {
        where.push('type = ?');
        params.push(q.type);
      }
      if (q.statuses !== undefined) {
        where.push(`status IN (${q.statuses.map(() => '?').join(', ') || 'NULL'})`);
        params.push(...q.statuses);
      }
      if (q.severities !== undefined) {
        where.push(`severity IN (${q.severities.map(() => '?').join(', ') || 'NULL'})`);
        params.push(...q.severities);
      }
      if (q.from !== undefined) {
        where.push('created_at >= ?');
        params.push(q.from);
      }
      if (q.to !== undefined) {
        where.push('created_at <= ?');
        params.push(q.to);
      }
      const clause = where.join(' AND ');
      const total = db.prepare(`SELECT count(*) FROM alarms WHERE ${clause}`).pluck().get(...params) as number;
      const rows = db
        .prepare<unknown[], AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE ${clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
        .all(...params, clampLimit(q.limit), clampLimit(q.offset));
      return { items: rows.map(toAlarm), total };
    },

    async alarmHistory(alarmId: string): Promise<AlarmEvent[]> {
      return s.history.all(alarmId).map(toAlarmEvent);
    },

    deleteDevice(deviceId: string): void {
      s.removeEvents.run(deviceId);
      s.removeDevice.run(deviceId);
    },
  };
}
