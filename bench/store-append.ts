/**
 * Telemetry append throughput: the SQLite store against a raw better-sqlite3 loop, same run.
 *
 *   node --import tsx bench/store-append.ts [--rows N] [--synchronous NORMAL|FULL]
 *
 * Smart-meter load: 1,000 devices × 3 keys (voltage, current, energy), one reading per device
 * and key per second, appended in batches of 5,000 rows (one transaction each) through
 * createSqliteStore().appendTelemetry. The baseline writes the same rows with a prepared
 * INSERT OR REPLACE loop, one transaction per batch, into a plain table
 * (device TEXT, key TEXT, ts INTEGER, value REAL, PRIMARY KEY (device, key, ts)) with the same
 * pragmas as the store (WAL, synchronous, wal_autocheckpoint, cache_size). Rows are generated
 * before timing starts. The last line of output is JSON.
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
const BATCH = 5_000;

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, synchronous: { type: 'string' } } });
const total = Number(args.rows ?? 1_000_000);
if (!Number.isSafeInteger(total) || total <= 0) throw new Error('--rows must be a positive integer');
const syncArg = (args.synchronous ?? 'NORMAL').toUpperCase();
if (syncArg !== 'NORMAL' && syncArg !== 'FULL') throw new Error('--synchronous must be NORMAL or FULL');
const synchronous: 'NORMAL' | 'FULL' = syncArg;

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
    for (let d = 0; d < DEVICES && made < total; d++) {
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

function result(startedAt: number): Result {
  const seconds = (performance.now() - startedAt) / 1000;
  return { seconds: Math.round(seconds * 1000) / 1000, rowsPerSecond: Math.round(total / seconds) };
}

async function benchStore(file: string, batches: readonly TelemetryRow[][]): Promise<Result> {
  const store = createSqliteStore({ file, synchronous });
  const startedAt = performance.now();
  for (const batch of batches) await store.appendTelemetry(batch);
  const r = result(startedAt);
  const check = await store.queryRaw({ deviceId: (batches[0]?.[0] as TelemetryRow).deviceId, keys: ['voltage'], from: 0, to: Number.MAX_SAFE_INTEGER, limit: 1, order: 'asc' });
  if (!check.voltage) throw new Error('store lost the data');
  await store.close();
  return r;
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
  console.log(`${total} rows, ${DEVICES} devices × ${KEYS.length} keys, batches of ${BATCH}, synchronous=${synchronous}, dir ${dir}`);
  const store = await benchStore(join(dir, 'store.db'), batches);
  console.log(`createSqliteStore.appendTelemetry: ${store.rowsPerSecond.toLocaleString('en')} rows/s (${store.seconds} s)`);
  const raw = benchRaw(join(dir, 'raw.db'), batches);
  console.log(`raw better-sqlite3 loop:          ${raw.rowsPerSecond.toLocaleString('en')} rows/s (${raw.seconds} s)`);
  const ratio = Math.round((store.rowsPerSecond / raw.rowsPerSecond) * 100) / 100;
  console.log(`store / raw: ${ratio}`);
  const versions = { node: process.version, sqlite: (new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string) };
  console.log(JSON.stringify({ rows: total, devices: DEVICES, keys: KEYS.length, batch: BATCH, synchronous, store, raw, ratio, ...versions }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
