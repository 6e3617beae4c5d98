/**
 * Why small group commits are expensive in the store's layout, and what an append layout would
 * give: the commit pattern of 1,000 devices sending one message at a time (each commit holds
 * `--commit` messages from random devices, 3 keys each), written into
 *   clustered  ts_kv (device, key, ts) WITHOUT ROWID: today's layout; every row of a commit
 *              lands on its own series' leaf page, so a commit rewrites ~3 pages per message
 *   store      clustered plus the store's ts_latest upsert per (device, key) of the commit
 *   log        an append-only rowid table (device, key, ts, t, v): a commit appends to the
 *              last pages; a background job would move rows to the clustered table in bulk
 *   log+merge  log, plus that job: every --merge messages (default 100,000) one transaction
 *              copies the log into the clustered table in (device, key, ts) order, empties it
 *   wide       one row per message (device, ts, 3 values) clustered on (device, ts)
 * Reports rows/s and the bytes SQLite wrote (WAL + checkpoints) per message.
 *   node --import tsx bench/store-layout.ts [--messages N] [--commit N] [--merge N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { writeBytes } from './lib/proc.js';

const { values } = parseArgs({ options: { messages: { type: 'string' }, commit: { type: 'string' }, merge: { type: 'string' } } });
const MESSAGES = Number(values.messages ?? 300_000);
const COMMIT = Number(values.commit ?? 20);
const DEVICES = 1000;
const MERGE_MESSAGES = Number(values.merge ?? 100_000);

const LAYOUTS = {
  clustered: {
    ddl: clustered('t'),
    sql: 'INSERT OR REPLACE INTO t VALUES (?, ?, ?, 0, ?)',
    rowsPerMessage: 3,
  },
  store: {
    ddl: `${clustered('t')}; CREATE TABLE l (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL, PRIMARY KEY (device, key)) STRICT, WITHOUT ROWID`,
    sql: 'INSERT OR REPLACE INTO t VALUES (?, ?, ?, 0, ?)',
    rowsPerMessage: 3,
  },
  log: {
    ddl: 'CREATE TABLE t (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL) STRICT',
    sql: 'INSERT INTO t VALUES (?, ?, ?, 0, ?)',
    rowsPerMessage: 3,
  },
  'log+merge': {
    ddl: `CREATE TABLE t (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL) STRICT; ${clustered('c')}`,
    sql: 'INSERT INTO t VALUES (?, ?, ?, 0, ?)',
    rowsPerMessage: 3,
  },
  wide: {
    ddl: 'CREATE TABLE t (device INTEGER NOT NULL, ts INTEGER NOT NULL, a ANY, b ANY, c ANY, PRIMARY KEY (device, ts)) STRICT, WITHOUT ROWID',
    sql: 'INSERT OR REPLACE INTO t VALUES (?, ?, ?, ?, ?)',
    rowsPerMessage: 1,
  },
} as const;

function clustered(table: string): string {
  return `CREATE TABLE ${table} (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL, PRIMARY KEY (device, key, ts)) STRICT, WITHOUT ROWID`;
}

function run(name: keyof typeof LAYOUTS, dir: string): { msgsPerS: number; kbPerMsg: number } {
  const layout = LAYOUTS[name];
  const db = new Database(join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('cache_size = -65536');
  db.exec(layout.ddl);
  const insert = db.prepare(layout.sql);
  const latest = name === 'store' ? db.prepare('INSERT INTO l VALUES (?, ?, ?, 0, ?) ON CONFLICT (device, key) DO UPDATE SET ts = excluded.ts, v = excluded.v WHERE excluded.ts >= l.ts') : undefined;
  const merge = name === 'log+merge' ? db.transaction(() => db.exec('INSERT OR REPLACE INTO c SELECT * FROM t ORDER BY device, key, ts; DELETE FROM t')) : undefined;
  const seq = new Float64Array(DEVICES);
  const commit = db.transaction((first: number) => {
    for (let m = first; m < first + COMMIT; m++) {
      const device = (m * 7919) % DEVICES; // spread over devices like independent meters
      const ts = 1_700_000_000_000 + ++seq[device]!;
      if (layout.rowsPerMessage === 1) insert.run(device, ts, m, 0, 100);
      else for (let k = 0; k < 3; k++) insert.run(device, k, ts, m);
      if (latest) for (let k = 0; k < 3; k++) latest.run(device, k, ts, m);
    }
  });
  const written0 = writeBytes(process.pid);
  const started = performance.now();
  for (let m = 0; m < MESSAGES; m += COMMIT) {
    commit(m);
    if (merge && (m + COMMIT) % MERGE_MESSAGES < COMMIT) merge();
  }
  merge?.();
  db.close(); // includes the final checkpoint: part of the cost
  const seconds = (performance.now() - started) / 1000;
  return { msgsPerS: Math.round(MESSAGES / seconds), kbPerMsg: Math.round(((writeBytes(process.pid) - written0) / 1024 / MESSAGES) * 100) / 100 };
}

const dir = mkdtempSync(join(tmpdir(), 'continuum-layout-'));
try {
  console.log(`${MESSAGES} messages from ${DEVICES} devices, ${COMMIT} messages per commit`);
  const results: Record<string, unknown> = {};
  for (const name of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) {
    const r = run(name, dir);
    results[name] = r;
    console.log(`${name.padEnd(10)} ${r.msgsPerS.toLocaleString('en').padStart(9)} msgs/s  ${r.kbPerMsg} KB written per message`);
  }
  console.log(JSON.stringify({ messages: MESSAGES, commit: COMMIT, ...results }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
