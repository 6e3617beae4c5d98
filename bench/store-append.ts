/**
 * Telemetry append throughput: the SQLite store against a raw better-sqlite3 loop, same run.
 *
 *   node --import tsx bench/store-append.ts [--rows N] [--synchronous NORMAL|FULL] [--yield] [--batch N] [--shuffle]
 *
 * Smart-meter load: 1,000 devices × 3 keys (voltage, current, energy), one reading per device
 * and key per second, appended in batches of 5,000 rows (--batch; one transaction each) through
 * createSqliteStore().appendTelemetry. The baseline writes the same rows with a prepared
 * INSERT OR REPLACE loop, one transaction per batch, into a plain table
 * (device TEXT, key TEXT, ts INTEGER, value REAL, PRIMARY KEY (device, key, ts)) with the same
 * pragmas as the store (WAL, synchronous, wal_autocheckpoint, cache_size). Rows are generated
 * before timing starts. The last line of output is JSON.
 *
 * Without --yield the store's loop never lets the event loop turn (merges run inline once the
 * log holds 4 × 50,000 rows); --yield waits one setImmediate between commits as the platform's
 * ingest does, so background merge steps run between them. `store` stops the clock before
 * close(); `storeClosed` includes it (the final merge of the log, and with it of ts_latest).
 * --shuffle sends each second's readings in a random device order (independent meters) instead
 * of device by device; with a small --batch (e.g. 60 = 20 messages) that is the platform's
 * group-commit shape at one message per device in flight.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/adapters/store/sqlite/index.js';
import type { TelemetryRow } from '../src/ports.js';

const DEVICES = 1_000;
const KEYS = ['voltage', 'current', 'energy'] as const;

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, synchronous: { type: 'string' }, yield: { type: 'boolean' }, batch: { type: 'string' }, shuffle: { type: 'boolean' } } });
const total = Number(args.rows ?? 1_000_000);
if (!Number.isSafeInteger(total) || total <= 0) throw new Error('--rows must be a positive integer');
const syncArg = (args.synchronous ?? 'NORMAL').toUpperCase();
if (syncArg !== 'NORMAL' && syncArg !== 'FULL') throw new Error('--synchronous must be NORMAL or FULL');
const synchronous: 'NORMAL' | 'FULL' = syncArg;
const yieldBetween = args.yield === true;
const BATCH = Number(args.batch ?? 5_000);
if (!Number.isSafeInteger(BATCH) || BATCH <= 0) throw new Error('--batch must be a positive integer');
const shuffle = args.shuffle === true;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function makeBatches(): TelemetryRow[][] {
  const devices = Array.from({ length: DEVICES }, () => randomUUID());
  const energy = new Float64Array(DEVICES);
  const start = Date.UTC(2025, 0, 1);
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const batches: TelemetryRow[][] = [];
  let batch: TelemetryRow[] = [];
  let made = 0;
  for (let second = 0; made < total; second++) {
    const ts = start + second * 1000;
    const order = Array.from({ length: DEVICES }, (_, d) => d);
    if (shuffle) {
      for (let i = DEVICES - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
    }
    for (const d of order) {
      if (made >= total) break;
      const deviceId = devices[d] as string;
      const current = Math.round(rand() * 3200) / 100;
      energy[d] = (energy[d] as number) + current * 230 / 3_600_000;
      const values = [Math.round((225 + rand() * 10) * 10) / 10, current, Math.round((energy[d] as number) * 1000) / 1000];
      for (let k = 0; k < KEYS.length && made < total; k++) {
        batch.push({ deviceId, key: KEYS[k] as string, ts, value: values[k] as number });
        made++;
        if (batch.length === BATCH) {
          batches.push(batch);
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

interface Result {
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly dbBytes?: number;
}

function result(startedAt: number, seconds = (performance.now() - startedAt) / 1000): Result {
  return { seconds: Math.round(seconds * 1000) / 1000, rowsPerSecond: Math.round(total / seconds) };
}

async function benchStore(file: string, batches: readonly TelemetryRow[][]): Promise<{ store: Result; storeClosed: Result }> {
  const store = createSqliteStore({ file, synchronous });
  const startedAt = performance.now();
  for (const batch of batches) {
    await store.appendTelemetry(batch);
    if (yieldBetween) await turn();
  }
  const appended = performance.now();
  const r = result(startedAt, (appended - startedAt) / 1000);
  const first = (batches[0]?.[0] as TelemetryRow).deviceId;
  const check = await store.queryRaw({ deviceId: first, keys: ['voltage'], from: 0, to: Number.MAX_SAFE_INTEGER, limit: 1, order: 'asc' });
  if (!check.voltage) throw new Error('store lost the data');
  const closeStarted = performance.now();
  await store.close();
  const closed = result(startedAt, (appended - startedAt + performance.now() - closeStarted) / 1000); // the check is not timed
  return { store: r, storeClosed: closed };
}

function benchRaw(file: string, batches: readonly TelemetryRow[][]): Result {
  const db = new Database(file);
  // The store's pragmas (schema.ts), so the comparison is about layout and code, not settings.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -65536');
  db.exec('CREATE TABLE ts (device TEXT NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL, value REAL, PRIMARY KEY (device, key, ts))');
  const insert = db.prepare('INSERT OR REPLACE INTO ts (device, key, ts, value) VALUES (?, ?, ?, ?)');
  const append = db.transaction((rows: readonly TelemetryRow[]) => {
    for (const row of rows) insert.run(row.deviceId, row.key, row.ts, row.value as number);
  });
  const startedAt = performance.now();
  for (const batch of batches) append(batch);
  const r = result(startedAt);
  db.close();
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'continuum-bench-'));
try {
  const batches = makeBatches();
  console.log(`${total} rows, ${DEVICES} devices × ${KEYS.length} keys, batches of ${BATCH}${shuffle ? ' (devices shuffled)' : ''}, synchronous=${synchronous}${yieldBetween ? ', yield between commits' : ''}, dir ${dir}`);
  const { store, storeClosed } = await benchStore(join(dir, 'store.db'), batches);
  console.log(`createSqliteStore.appendTelemetry: ${store.rowsPerSecond.toLocaleString('en')} rows/s (${store.seconds} s)`);
  console.log(`  with close (final merge):        ${storeClosed.rowsPerSecond.toLocaleString('en')} rows/s (${storeClosed.seconds} s)`);
  const raw = benchRaw(join(dir, 'raw.db'), batches);
  console.log(`raw better-sqlite3 loop:          ${raw.rowsPerSecond.toLocaleString('en')} rows/s (${raw.seconds} s)`);
  const ratio = Math.round((store.rowsPerSecond / raw.rowsPerSecond) * 100) / 100;
  const ratioClosed = Math.round((storeClosed.rowsPerSecond / raw.rowsPerSecond) * 100) / 100;
  console.log(`store / raw: ${ratio} (with close: ${ratioClosed})`);
  const versions = { node: process.version, sqlite: (new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string) };
  console.log(JSON.stringify({ rows: total, devices: DEVICES, keys: KEYS.length, batch: BATCH, shuffle, synchronous, yield: yieldBetween, store, storeClosed, raw, ratio, ratioClosed, ...versions }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
