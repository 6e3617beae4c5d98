/**
 * Telemetry write rate on PostgreSQL: the store's batched appendTelemetry against a raw `unnest`
 * insert loop, same run, same server, same rows.
 *
 *   node --import tsx bench/pg-ingest.ts [--seconds S] [--batch N] [--pool N]
 *
 * Smart-meter load: 1,000 devices × 3 keys, one reading per device and key per second, in
 * batches of 3,000 rows (--batch). Each side runs for S seconds (default 2.5: a 5-second smoke)
 * on a database of its own (continuum_bench_<random> on CONTINUUM_BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
 *
 * `store` goes through createPostgresStore().appendTelemetry: one transaction per batch that
 * deduplicates, upserts ts_kv (monthly partitions), moves ts_latest, keeps the hourly roll-ups and
 * writes an outbox record, as the platform's ingest does. `raw` is the floor: one
 * `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch into a plain table with the
 * same primary key, nothing else. Both write one batch at a time (the platform's group commit is
 * serial per store). The last line of output is JSON.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPostgresStore } from '../src/adapters/store/postgres/index.js';
import type { TelemetryRow } from '../src/ports.js';

const DEVICES = 1_000;
const KEYS = ['voltage', 'current', 'energy'] as const;

const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, batch: { type: 'string' }, pool: { type: 'string' } } });
const seconds = Number(args.seconds ?? 2.5);
const BATCH = Number(args.batch ?? 3_000);
const poolSize = Number(args.pool ?? 4);
if (!(seconds > 0)) throw new Error('--seconds must be positive');
if (!Number.isSafeInteger(BATCH) || BATCH <= 0) throw new Error('--batch must be a positive integer');

/** Batch number `i` of the endless meter stream (second by second, device by device). */
function makeBatch(i: number): TelemetryRow[] {
  const rows: TelemetryRow[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let n = i * BATCH; rows.length < BATCH; n++) {
    const second = Math.floor(n / (DEVICES * KEYS.length));
    const within = n % (DEVICES * KEYS.length);
    const device = Math.floor(within / KEYS.length);
    rows.push({ deviceId: `meter-${device}`, key: KEYS[within % KEYS.length]!, ts: start + second * 1000, value: 230 + ((n * 7919) % 1000) / 100 });
  }
  return rows;
}

/** Writes batches one after another until `seconds` of writing; only the writes are timed, not making the rows. */
async function timed(label: string, write: (rows: TelemetryRow[]) => Promise<void>): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  let rows = 0;
  let spent = 0;
  for (let i = 0; spent < seconds * 1000; i++) {
    const batch = makeBatch(i);
    const t0 = performance.now();
    await write(batch);
    spent += performance.now() - t0;
    rows += batch.length;
  }
  const elapsed = spent / 1000;
  const result = { rows, seconds: Number(elapsed.toFixed(2)), rowsPerSecond: Math.round(rows / elapsed) };
  console.log(`${label}: ${result.rowsPerSecond.toLocaleString('en')} rows/s (${rows.toLocaleString('en')} rows in ${result.seconds} s)`);
  return result;
}

async function main(): Promise<void> {
  const adminUrl = process.env.CONTINUUM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `continuum_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    console.log(`${DEVICES} devices × ${KEYS.length} keys, batches of ${BATCH}, ${seconds} s per side, database ${name}`);
    const store = await createPostgresStore({ url: url.toString(), poolSize, statementTimeoutMs: 60_000, schema: 'bench' });
    let outboxId = 0;
    const storeResult = await timed('createPostgresStore.appendTelemetry', async (rows) => {
      await store.appendTelemetry(rows, JSON.stringify({ batch: ++outboxId }));
    });
    await store.close();

    const raw = new pg.Client({ connectionString: url.toString() });
    await raw.connect();
    await raw.query('CREATE TABLE raw_kv (device_id text NOT NULL, key text NOT NULL, ts bigint NOT NULL, n double precision, PRIMARY KEY (device_id, key, ts))');
    const rawResult = await timed('raw unnest insert loop', async (rows) => {
      await raw.query(
        'INSERT INTO raw_kv SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) ON CONFLICT DO NOTHING',
        [rows.map((r) => r.deviceId), rows.map((r) => r.key), rows.map((r) => r.ts), rows.map((r) => r.value as number)],
      );
    });
    await raw.end();
    console.log(JSON.stringify({ bench: 'pg-ingest', batch: BATCH, store: storeResult, raw: rawResult, storeVsRaw: Number((storeResult.rowsPerSecond / rawResult.rowsPerSecond).toFixed(2)) }));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
