/**
 * The telemetry retention job (issue 18 item 5) on the memory and SQLite stores: a profile's
 * retentionDays deletes its devices' points before the hour-aligned cut-off in steps (the latest
 * values stay); devices of a profile without retention, and of other tenants' profiles that set
 * none, keep everything; a stop ends a run between steps.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import type { Logger, Store } from '../../src/ports.js';
import { RegistryService } from '../../src/services/registry.js';
import { RetentionJob, retentionCutoff } from '../../src/services/retention.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 7, 12, 30);
const dir = mkdtempSync(join(tmpdir(), 'continuum-retention-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BACKENDS: { name: string; open(): Store }[] = [
  { name: 'memory', open: () => createMemoryStore() },
  { name: 'sqlite', open: () => createSqliteStore({ file: join(dir, `r-${Math.random().toString(36).slice(2)}.db`), synchronous: 'NORMAL' }) },
];

async function fill(store: Store, deviceId: string, days: number): Promise<void> {
  const rows = [];
  for (let t = NOW - days * DAY; t <= NOW; t += HOUR) rows.push({ deviceId, key: 'level', ts: t, value: t / HOUR });
  await store.appendTelemetry(rows);
}

describe('retention cut-off', () => {
  it('is the hour boundary at or before now minus the days', () => {
    assert.equal(retentionCutoff(NOW, 1), Date.UTC(2026, 11, 6, 12));
    assert.equal(retentionCutoff(Date.UTC(2026, 11, 7, 12), 1), Date.UTC(2026, 11, 6, 12));
  });
});

for (const backend of BACKENDS) {
  describe(`retention job (${backend.name})`, () => {
    it("deletes what is older than a profile's retention, in steps, and nothing of other profiles", async () => {
      const store = backend.open();
      const clock = { now: () => NOW };
      const registry = new RegistryService({ store, clock, logger: silent, codecNames: ['json'] });
      await registry.init();
      const short = await registry.createProfile({ tenantId: DEFAULT_TENANT_ID, name: 'short', retentionDays: 7 });
      const { device: kept } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'kept' });
      const { device: pruned } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'pruned', profileId: short.id });
      await fill(store, kept.id, 30);
      await fill(store, pruned.id, 30);
      const deleted: number[] = [];
      const job = new RetentionJob({ store, clock, logger: silent, metrics: { deleted: (n) => deleted.push(n), ran: () => undefined }, config: { everyMinutes: 60, stepPoints: 100 } });
      const run = await job.runOnce();
      const cutoff = retentionCutoff(NOW, 7);
      assert.deepEqual(run, { devices: 1, points: 23 * 24 }, "hourly points from 30 days back up to the cut-off 7 days back");
      assert.ok(deleted.length >= 5 && deleted.every((n) => n <= 100), `steps of at most 100: ${deleted.join(',')}`);
      const left = await store.queryRaw({ deviceId: pruned.id, keys: ['level'], from: 0, to: NOW, limit: 10_000, order: 'asc' });
      assert.equal(left.level?.[0]?.ts, cutoff + HOUR / 2, 'the oldest point left is the first at or after the cut-off');
      const all = await store.queryRaw({ deviceId: kept.id, keys: ['level'], from: 0, to: NOW, limit: 10_000, order: 'asc' });
      assert.equal(all.level?.length, 30 * 24 + 1, 'the default profile keeps everything');
      assert.deepEqual(await job.runOnce(), { devices: 0, points: 0 }, 'a second run finds nothing');
      await store.close();
    });

    it('a stop ends a run between steps', async () => {
      const store = backend.open();
      const clock = { now: () => NOW };
      const registry = new RegistryService({ store, clock, logger: silent, codecNames: ['json'] });
      await registry.init();
      const short = await registry.createProfile({ tenantId: DEFAULT_TENANT_ID, name: 'short', retentionDays: 1 });
      const { device } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'long-history', profileId: short.id });
      await fill(store, device.id, 30);
      let steps = 0;
      const job: RetentionJob = new RetentionJob({ store, clock, logger: silent, metrics: { deleted: () => void (++steps === 2 && job.stop()), ran: () => undefined }, config: { everyMinutes: 60, stepPoints: 100 } });
      const run = await job.runOnce();
      assert.equal(run.points, 200, 'two steps, then the stop');
      await store.close();
    });
  });
}
