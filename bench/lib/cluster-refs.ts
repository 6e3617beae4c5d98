/**
 * The references of the cluster-ingest bench (bench/cluster-ingest.ts), measured in the same run
 * on the same servers as the cluster: what PostgreSQL and JetStream do with nothing of the
 * platform in between.
 * - PostgreSQL upsert: `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` into a table of the
 *   ts_kv shape (range-partitioned by ts, primary key device_id, key, ts), batches of 5,000 rows
 *   distinct within the batch, one after another on one connection.
 * - PostgreSQL COPY: the server's `COPY … FROM 'file'` (CSV) into the same shape: the bulk-load
 *   ceiling without the client-side transfer.
 * - JetStream publish: `js.publish` of one meter message's bus event size, 1,000 outstanding, R1
 *   file storage on the machine's nats-server.
 * Each uses a database or stream of its own, removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, StorageType } from 'nats';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.CONTINUUM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_BENCH_URL = process.env.CONTINUUM_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface Rate {
  readonly per_s: number;
  readonly n: number;
  readonly seconds: number;
}

const rate = (n: number, ms: number): Rate => ({ per_s: Math.round(n / (ms / 1000)), n, seconds: Math.round(ms) / 1000 });

/** A database of its own on the machine's PostgreSQL; `drop` removes it. */
export async function benchDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `continuum_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

const TS0 = Date.UTC(2026, 0, 1);
const KEYS = ['pulseCounter', 'leakage', 'batteryLevel'];

/** Row `r` of the meter stream: 1,000 devices × 3 keys, one reading per second. */
function row(r: number): [string, string, number, number] {
  const message = Math.floor(r / KEYS.length);
  return [`dev-${message % 1000}`, KEYS[r % KEYS.length]!, TS0 + Math.floor(message / 1000) * 1000, message];
}

async function createTsKv(client: pg.Client, table: string): Promise<void> {
  await client.query(`CREATE TABLE ${table} (device_id text NOT NULL, key text NOT NULL, ts bigint NOT NULL, t smallint NOT NULL, n double precision, s text, PRIMARY KEY (device_id, key, ts)) PARTITION BY RANGE (ts)`);
  await client.query(`CREATE TABLE ${table}_p PARTITION OF ${table} FOR VALUES FROM (${TS0}) TO (${TS0 + 366 * 86_400_000})`);
}

/** unnest upserts for `seconds` (writing time only), then COPY of as many rows from a CSV file. */
export async function postgresReferences(seconds: number, batch = 5000): Promise<{ upsert: Rate; copy: Rate; batch_rows: number }> {
  const db = await benchDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const dir = mkdtempSync(join(tmpdir(), 'continuum-copy-'));
  try {
    await createTsKv(client, 'upsert_kv');
    let rows = 0;
    let spent = 0;
    for (let b = 0; spent < seconds * 1000; b++) {
      const cols: [string[], string[], number[], number[]] = [[], [], [], []];
      for (let r = b * batch; r < (b + 1) * batch; r++) {
        const v = row(r);
        for (let c = 0; c < 4; c++) (cols[c] as unknown[]).push(v[c]);
      }
      const t0 = performance.now();
      await client.query(
        'INSERT INTO upsert_kv (device_id, key, ts, t, n) SELECT d, k, ts, 0, n FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS u(d, k, ts, n) ON CONFLICT DO NOTHING',
        cols,
      );
      spent += performance.now() - t0;
      rows += batch;
    }
    const upsert = rate(rows, spent);

    await createTsKv(client, 'copy_kv');
    // The server process reads the file: a directory and file it may read.
    chmodSync(dir, 0o755);
    const file = join(dir, 'rows.csv');
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      const v = row(r);
      lines.push(`${v[0]},${v[1]},${v[2]},0,${v[3]}`);
    }
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o644 });
    const t0 = performance.now();
    await client.query(`COPY copy_kv (device_id, key, ts, t, n) FROM '${file}' WITH (FORMAT csv)`);
    const copy = rate(rows, performance.now() - t0);
    return { upsert, copy, batch_rows: batch };
  } finally {
    await client.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** js.publish of `messages` bus-event-sized payloads with `window` outstanding, to a stream of its own. */
export async function jetstreamReference(messages: number, window = 1000): Promise<Rate & { bytes: number }> {
  const nc = await connect({ servers: NATS_BENCH_URL });
  const name = `benchraw${randomBytes(4).toString('hex')}`;
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.File, num_replicas: 1 });
    const js = nc.jetstream();
    // The size of one meter message's telemetry event on the bus (3 points, ids and timestamps).
    const payload = new TextEncoder().encode(JSON.stringify({ tenantId: 't'.repeat(36), deviceId: 'd'.repeat(36), points: KEYS.map((key, i) => ({ key, ts: TS0, value: i })) }));
    let next = 0;
    const t0 = performance.now();
    const lane = async (): Promise<void> => {
      while (next < messages) {
        const i = next++;
        await js.publish(`${name}.${i % 64}`, payload, { msgID: `${name}-${i}` });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, messages) }, lane));
    return { ...rate(messages, performance.now() - t0), bytes: payload.length };
  } finally {
    await (await nc.jetstreamManager()).streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}
