/**
 * ts_latest is written when the telemetry log is merged (src/adapters/store/sqlite/latest.ts).
 * A process killed before, or between the steps of, a merge must leave a file whose latest
 * values come out right on restart. The kills are real: a child process runs this file in the
 * role given by LATEST_CHILD and SIGKILLs itself at the chosen moment.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import { failNextDeviceDeletion } from './sqlite-support.js';
import type { TsValue } from '../../../src/domain/telemetry.js';
import type { TelemetryRow } from '../../../src/ports.js';

// Enough tail points (4 per device) for the merge to take more than one step (~10,000 each).
const DEVICES = 4_000;
const deviceId = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const NEVER = { mergeRows: 1e12, mergeIntervalMs: 1e9 };

/** Older points after newer ones, a same-ts replacement, a direct-path series, a later point for half. */
function batches(): TelemetryRow[][] {
  const all = (f: (deviceId: string, i: number) => TelemetryRow[]): TelemetryRow[] => Array.from({ length: DEVICES }, (_, i) => f(deviceId(i), i)).flat();
  return [
    all((d) => [{ deviceId: d, key: 'a', ts: 100, value: 1 }, { deviceId: d, key: 'b', ts: 100, value: 'x' }]),
    all((d) => [{ deviceId: d, key: 'a', ts: 50, value: 2 }]),
    all((d) => [{ deviceId: d, key: 'b', ts: 100, value: 'y' }]),
    Array.from({ length: 10 }, (_, i) => ({ deviceId: deviceId(0), key: 'c', ts: i + 1, value: i + 1 })),
    all((d, i) => (i % 2 === 0 ? [{ deviceId: d, key: 'a', ts: 200, value: 3 }] : [])),
  ];
}

function expected(i: number): Record<string, TsValue> {
  const out: Record<string, TsValue> = { a: i % 2 === 0 ? { ts: 200, value: 3 } : { ts: 100, value: 1 }, b: { ts: 100, value: 'y' } };
  if (i === 0) out.c = { ts: 10, value: 10 };
  return out;
}

/** Child roles: `append` writes everything and dies with the log unmerged; `merge` dies after the first merge step. */
async function child(role: string, file: string): Promise<void> {
  if (role === 'append') {
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    for (const batch of batches()) await store.appendTelemetry(batch);
  } else {
    // the merge resumes on open (a log is left over); the first step's report ends the process
    createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: { ...NEVER, onMerge: () => process.kill(process.pid, 'SIGKILL') } });
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  process.kill(process.pid, 'SIGKILL');
}

function runChild(role: string, file: string): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, LATEST_CHILD: role, LATEST_FILE: file },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 60_000,
  });
  assert.equal(r.signal, 'SIGKILL', `child ${role}: ${String(r.error ?? r.status)}`);
}

const count = (file: string, sql: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
};

if (process.env.LATEST_CHILD !== undefined) {
  await child(process.env.LATEST_CHILD, process.env.LATEST_FILE as string);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'continuum-latest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('SQLite ts_latest after a device deletion that rolls back', () => {
    it('a device deletion that rolls back after its telemetry part keeps the latest values of its unmerged rows', async () => {
      const file = join(dir, 'rollback.db');
      const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
      const id = deviceId(7);
      try {
        await store.appendTelemetry([{ deviceId: id, key: 'a', ts: 1, value: 1 }]);
        await store.appendTelemetry([{ deviceId: id, key: 'a', ts: 2, value: 2 }, { deviceId: id, key: 'b', ts: 2, value: 'b' }]);
        // a later part of the deletion fails: a trigger on rule_state, set from another connection
        failNextDeviceDeletion(file, id);
        await assert.rejects(store.deleteDevice(id), /held/);
      } finally {
        await store.close(); // merges the log, with the rows the deletion left in place
      }
      const reopened = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
      try {
        assert.equal(count(file, 'SELECT count(*) FROM ts_log'), 0);
        assert.deepEqual(await reopened.latest(id), { a: { ts: 2, value: 2 }, b: { ts: 2, value: 'b' } });
      } finally {
        await reopened.close();
      }
    });
  });

  describe('SQLite ts_latest after a kill', () => {
    it('latest values are right on restart after a kill before the merge and a kill between merge steps', async () => {
      const file = join(dir, 'continuum.db');
      runChild('append', file);
      const logged = count(file, 'SELECT count(*) FROM ts_log');
      assert.equal(count(file, 'SELECT count(*) FROM ts_latest'), 1); // only the direct-path series
      runChild('merge', file);
      const left = count(file, 'SELECT count(*) FROM ts_log');
      assert.ok(left > 0 && left < logged, `one merge step of several ran: ${left} of ${logged} rows left`);

      const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
      try {
        for (const i of [0, 1, 2, DEVICES - 2, DEVICES - 1]) assert.deepEqual(await store.latest(deviceId(i)), expected(i), `device ${i}`);
        assert.deepEqual(await store.latest(deviceId(DEVICES - 1), ['b', 'a']), expected(DEVICES - 1));
        assert.deepEqual(await store.telemetryKeys(deviceId(0)), ['a', 'b', 'c']);
      } finally {
        await store.close(); // merges the rest
      }
      // the table itself is complete once the log is merged
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.prepare('SELECT count(*) FROM ts_log').pluck().get(), 0);
        const rows = db
          .prepare('SELECT d.uuid, k.key, l.ts, l.v FROM ts_latest l JOIN ts_device d ON d.id = l.device JOIN ts_key k ON k.id = l.key')
          .raw()
          .all() as [string, string, number, TsValue['value']][];
        assert.equal(rows.length, DEVICES * 2 + 1);
        const byDevice = new Map<string, Record<string, TsValue>>();
        for (const [uuid, key, ts, v] of rows) byDevice.set(uuid, { ...byDevice.get(uuid), [key]: { ts, value: v } });
        for (let i = 0; i < DEVICES; i++) assert.deepEqual(byDevice.get(deviceId(i)), expected(i), `device ${i}`);
      } finally {
        db.close();
      }
    });
  });
}
