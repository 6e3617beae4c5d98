/**
 * The cost of telemetry retention (services/retention.ts) on the SQLite store: points deleted per
 * second by TelemetryStore.pruneTelemetry in its default steps (5,000 points, one transaction
 * each), beside a raw reference in the same run — one `DELETE … WHERE ts < ?` on a plain
 * better-sqlite3 table of the same shape (device, key, ts primary key, WITHOUT ROWID) and size.
 * Also how long one step holds the event loop (the job yields between steps, so this is the
 * longest an ingest commit can wait behind it).
 *
 *   node --import tsx bench/retention.ts [--devices 20] [--days 30] [--rounds 3]
 *
 * Each device has two keys at one point a minute; retention cuts the older half. Rounds alternate
 * the store and the reference on fresh files; the median round is reported. The last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/adapters/store/sqlite/index.js';
import { DEFAULT_TENANT_ID } from '../src/domain/device.js';
import { RegistryService } from '../src/services/registry.js';
import { retentionCutoff } from '../src/services/retention.js';
import type { Logger } from '../src/ports.js';

const { values: args } = parseArgs({ options: { devices: { type: 'string' }, days: { type: 'string' }, rounds: { type: 'string' } } });
const DEVICES = Number(args.devices ?? 20);
const DAYS = Number(args.days ?? 30);
const ROUNDS = Number(args.rounds ?? 3);
const STEP = 5_000;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 11, 7, 12);
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'continuum-bench-retention-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function storeRound(n: number): Promise<{ perSecond: number; deleted: number; maxStepMs: number }> {
  const store = createSqliteStore({ file: join(dir, `store-${n}.db`), synchronous: 'NORMAL', checkpoints: false });
  const registry = new RegistryService({ store, clock: { now: () => NOW }, logger: silent, codecNames: ['json'] });
  await registry.init();
  const ids: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const { device } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: `meter-${d}` });
    ids.push(device.id);
    for (let day = 0; day < DAYS; day++) {
      const rows = [];
      for (let m = 0; m < 1440; m++) {
        const ts = NOW - (DAYS - day) * 1440 * MINUTE + m * MINUTE;
        rows.push({ deviceId: device.id, key: 'power', ts, value: m }, { deviceId: device.id, key: 'energy', ts, value: day * 1440 + m });
      }
      await store.appendTelemetry(rows);
    }
  }
  const cutoff = retentionCutoff(NOW, DAYS / 2);
  let deleted = 0;
  let maxStepMs = 0;
  const started = performance.now();
  for (const id of ids) {
    for (;;) {
      const t = performance.now();
      const n = await store.pruneTelemetry(id, cutoff, STEP);
      maxStepMs = Math.max(maxStepMs, performance.now() - t);
      deleted += n;
      if (n < STEP) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return { perSecond: deleted / seconds, deleted, maxStepMs };
}

function rawRound(n: number, points: number): { perSecond: number; deleted: number } {
  const db = new Database(join(dir, `raw-${n}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE kv (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, v REAL NOT NULL, PRIMARY KEY (device, key, ts)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO kv VALUES (?, ?, ?, ?)');
  const fill = db.transaction((d: number) => {
    for (let i = 0; i < points / DEVICES / 2; i++) for (const k of [1, 2]) insert.run(d, k, NOW - DAYS * 1440 * MINUTE + i * MINUTE, i);
  });
  for (let d = 0; d < DEVICES; d++) fill(d);
  const cutoff = retentionCutoff(NOW, DAYS / 2);
  const started = performance.now();
  const deleted = db.prepare('DELETE FROM kv WHERE ts < ?').run(cutoff).changes;
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { perSecond: deleted / seconds, deleted };
}

async function main(): Promise<void> {
  const store: Awaited<ReturnType<typeof storeRound>>[] = [];
  const raw: ReturnType<typeof rawRound>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    store.push(await storeRound(r));
    raw.push(rawRound(r, DEVICES * DAYS * 1440 * 2));
  }
  const s = median(store.map((x) => x.perSecond));
  const q = median(raw.map((x) => x.perSecond));
  const result = {
    scenario: 'retention',
    devices: DEVICES,
    pointsPerRound: DEVICES * DAYS * 1440 * 2,
    deletedPerRound: store[0]?.deleted,
    storePointsPerSecond: Math.round(s),
    rawDeletePointsPerSecond: Math.round(q),
    ratio: Math.round((s / q) * 100) / 100,
    maxStepMs: Math.round(median(store.map((x) => x.maxStepMs)) * 10) / 10,
    rounds: ROUNDS,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  console.log(`pruneTelemetry ${result.storePointsPerSecond} points/s (steps of ${STEP}, longest step ${result.maxStepMs} ms); raw DELETE ${result.rawDeletePointsPerSecond} points/s; ratio ${result.ratio}`);
  console.log(JSON.stringify(result));
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
