/**
 * Alarms at the edge (docs/EDGE.md "Alarms at the edge"): raised and cleared by local rules with
 * the platform's semantics — one open alarm per (device, type), raising it again updates its
 * severity and details and counts a repeat, clearing closes it — and kept on disk
 * (`DIR/edge-alarms.db`) until the platform has acknowledged their latest state.
 *
 * Every change bumps the row's `version`; `synced` is the highest version the platform
 * acknowledged (PUBACK of `v1/gateway/alarm`). A row with synced < version is pending: its whole
 * lifecycle (raisedAt, clearedAt) goes out again, so an alarm raised and cleared during an
 * outage reaches the platform as one message with both timestamps. Cleared rows that are synced
 * are kept (the last KEEP_CLEARED) as the edge's local history. `file` '' keeps them in memory.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { JsonValue } from '../../domain/telemetry.js';

export type EdgeAlarmSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'indeterminate';

export interface EdgeAlarm {
  readonly id: string;
  readonly device: string;
  readonly type: string;
  readonly severity: EdgeAlarmSeverity;
  readonly details: JsonValue;
  readonly raisedAt: number;
  readonly clearedAt?: number;
  readonly count: number;
  readonly version: number;
  readonly synced: number;
}

interface Row {
  id: string;
  device: string;
  type: string;
  severity: EdgeAlarmSeverity;
  details: string;
  raised_at: number;
  cleared_at: number | null;
  count: number;
  version: number;
  synced: number;
}

const KEEP_CLEARED = 1000;

const toAlarm = (r: Row): EdgeAlarm => ({
  id: r.id,
  device: r.device,
  type: r.type,
  severity: r.severity,
  details: JSON.parse(r.details) as JsonValue,
  raisedAt: r.raised_at,
  ...(r.cleared_at !== null ? { clearedAt: r.cleared_at } : {}),
  count: r.count,
  version: r.version,
  synced: r.synced,
});

export class EdgeAlarmStore {
  private readonly db: Database.Database;
  private readonly listeners: (() => void)[] = [];

  constructor(file: string) {
    this.db = new Database(file === '' ? ':memory:' : file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS alarms (
        id TEXT PRIMARY KEY, device TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
        details TEXT NOT NULL, raised_at INTEGER NOT NULL, cleared_at INTEGER,
        count INTEGER NOT NULL, version INTEGER NOT NULL, synced INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX IF NOT EXISTS alarms_open ON alarms (device, type) WHERE cleared_at IS NULL;
      CREATE INDEX IF NOT EXISTS alarms_pending ON alarms (synced, version);
    `);
  }

  /** Called after every change (the sync sends it when the platform is reachable). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Opens the (device, type) alarm, or updates the open one (a repeat). */
  raise(device: string, type: string, severity: EdgeAlarmSeverity, details: JsonValue, ts: number): EdgeAlarm {
    const open = this.open(device, type);
    if (open) {
      this.db.prepare('UPDATE alarms SET severity = ?, details = ?, count = count + 1, version = version + 1 WHERE id = ?').run(severity, JSON.stringify(details), open.id);
    } else {
      this.db.prepare('INSERT INTO alarms (id, device, type, severity, details, raised_at, count, version) VALUES (?, ?, ?, ?, ?, ?, 1, 1)').run(randomUUID(), device, type, severity, JSON.stringify(details), ts);
    }
    this.changed();
    return this.open(device, type) as EdgeAlarm;
  }

  /** Clears the open (device, type) alarm at `ts`; undefined when none is open. */
  clear(device: string, type: string, ts: number): EdgeAlarm | undefined {
    const open = this.open(device, type);
    if (!open) return undefined;
    this.db.prepare('UPDATE alarms SET cleared_at = ?, version = version + 1 WHERE id = ?').run(Math.max(ts, open.raisedAt), open.id);
    this.changed();
    return this.get(open.id);
  }

  open(device: string, type: string): EdgeAlarm | undefined {
    const r = this.db.prepare('SELECT * FROM alarms WHERE device = ? AND type = ? AND cleared_at IS NULL').get(device, type) as Row | undefined;
    return r ? toAlarm(r) : undefined;
  }

  get(id: string): EdgeAlarm | undefined {
    const r = this.db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) as Row | undefined;
    return r ? toAlarm(r) : undefined;
  }

  /** Newest first. */
  list(limit = 100): EdgeAlarm[] {
    return (this.db.prepare('SELECT * FROM alarms ORDER BY raised_at DESC LIMIT ?').all(limit) as Row[]).map(toAlarm);
  }

  /** Alarms whose latest state the platform has not acknowledged, oldest change first. */
  pending(limit: number): EdgeAlarm[] {
    return (this.db.prepare('SELECT * FROM alarms WHERE synced < version ORDER BY raised_at LIMIT ?').all(limit) as Row[]).map(toAlarm);
  }

  /** The platform acknowledged `version` of the alarm; synced cleared rows beyond KEEP_CLEARED are dropped. */
  markSynced(id: string, version: number): void {
    this.db.prepare('UPDATE alarms SET synced = MAX(synced, ?) WHERE id = ?').run(version, id);
    this.db
      .prepare('DELETE FROM alarms WHERE id IN (SELECT id FROM alarms WHERE cleared_at IS NOT NULL AND synced = version ORDER BY cleared_at DESC LIMIT -1 OFFSET ?)')
      .run(KEEP_CLEARED);
  }

  stats(): { open: number; pending: number } {
    const open = (this.db.prepare('SELECT COUNT(*) AS n FROM alarms WHERE cleared_at IS NULL').get() as { n: number }).n;
    const pending = (this.db.prepare('SELECT COUNT(*) AS n FROM alarms WHERE synced < version').get() as { n: number }).n;
    return { open, pending };
  }

  close(): void {
    this.db.close();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
