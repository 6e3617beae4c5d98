/**
 * A read-only view of a SQLite data dir's tables for `continuum migrate --from-sqlite` (the
 * PostgreSQL side is ../postgres/import.ts). Rows come out in batches, as column arrays keyed by
 * the column names both schemas share (adapters/store/rows/); the telemetry tables, which SQLite
 * keys by surrogate integers (ts_device, ts_key) and keeps as (tag, value), come out as the
 * PostgreSQL store keeps them: device id and key as text, the value in the (t, n, s) columns.
 *
 * Open it on a closed store's file (the store merges its telemetry log into ts_kv on close);
 * `pendingLogRows` says whether anything is still unmerged.
 */
import Database from 'better-sqlite3';
import { ValueTag } from '../shared.js';

export type Row = Record<string, unknown>;

/** The telemetry tables and the columns they come out with (the PostgreSQL store's names). */
const TELEMETRY_SELECT: Readonly<Record<string, string>> = {
  ts_kv: 'SELECT d.uuid AS device_id, k.key AS key, x.ts AS ts, x.t AS t, x.v AS v FROM ts_kv x JOIN ts_device d ON d.id = x.device JOIN ts_key k ON k.id = x.key',
  ts_latest: 'SELECT d.uuid AS device_id, k.key AS key, x.ts AS ts, x.t AS t, x.v AS v FROM ts_latest x JOIN ts_device d ON d.id = x.device JOIN ts_key k ON k.id = x.key',
  ts_hourly:
    'SELECT d.uuid AS device_id, k.key AS key, x.hour AS hour, x.cnt AS cnt, x.sum AS sum, x.min AS min, x.max AS max FROM ts_hourly x JOIN ts_device d ON d.id = x.device JOIN ts_key k ON k.id = x.key',
};

/** Tables that only exist to serve others (surrogate keys, the unmerged log). */
const INTERNAL = new Set(['ts_device', 'ts_key', 'ts_log']);

export interface SqliteExport {
  /** Every table of the database, the internal telemetry ones excepted. */
  tables(): string[];
  columns(table: string): string[];
  count(table: string): number;
  /** Rows not yet merged from the telemetry log (0 after a clean close). */
  pendingLogRows(): number;
  /** The table's rows in batches, in insertion order where the table has one. */
  batches(table: string, batchSize: number): Generator<Row[]>;
  /** The ids of a table keyed by `id`, in insertion order (for tables copied through the Store ports). */
  ids(table: string): string[];
  close(): void;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQLite (tag, value) as the PostgreSQL store's (t, n, s): numbers and booleans in n, text and JSON in s. */
function telemetryValue(row: Row): Row {
  const { v, ...rest } = row;
  const numeric = row.t === ValueTag.Number || row.t === ValueTag.Boolean;
  return { ...rest, n: numeric ? v : null, s: numeric ? null : v };
}

export function openSqliteExport(file: string): SqliteExport {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  const known = new Set(names);
  const check = (table: string): void => {
    if (!known.has(table)) throw new Error(`no table ${table} in ${file}`);
  };
  const hasRowid = (table: string): boolean => {
    try {
      db.prepare(`SELECT rowid FROM ${quote(table)} LIMIT 0`).all();
      return true;
    } catch {
      return false; // WITHOUT ROWID: its primary key order is the only order
    }
  };
  return {
    tables: () => names.filter((n) => !INTERNAL.has(n)),
    columns(table) {
      check(table);
      if (table in TELEMETRY_SELECT) return (db.prepare(`${TELEMETRY_SELECT[table] ?? ''} LIMIT 0`).columns().map((c) => c.name).map((c) => (c === 'v' ? ['n', 's'] : [c])).flat());
      return (db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[]).map((c) => c.name);
    },
    count(table) {
      check(table);
      return (db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n;
    },
    pendingLogRows: () => (known.has('ts_log') ? (db.prepare('SELECT count(*) AS n FROM ts_log').get() as { n: number }).n : 0),
    *batches(table, batchSize) {
      check(table);
      const telemetry = TELEMETRY_SELECT[table];
      const sql = telemetry ?? `SELECT * FROM ${quote(table)}${hasRowid(table) ? ' ORDER BY rowid' : ''}`;
      // Telemetry values keep their exact type (64-bit integers as bound): safeIntegers off, as the store reads them.
      let batch: Row[] = [];
      for (const row of db.prepare(sql).iterate() as IterableIterator<Row>) {
        batch.push(table === 'ts_kv' || table === 'ts_latest' ? telemetryValue(row) : row);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    ids(table) {
      check(table);
      return (db.prepare(`SELECT id FROM ${quote(table)} ORDER BY rowid`).all() as { id: string }[]).map((r) => r.id);
    },
    close: () => db.close(),
  };
}
