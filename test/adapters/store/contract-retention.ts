/**
 * Store contract, retention (issue 18 item 5): pruneTelemetry deletes a device's points before a
 * cut-off in steps of at most `limit`, with the roll-up hours that end by then; newer points,
 * other devices, the latest values and the device's keys stay; a profile keeps its retention.
 * Called from storeContract() with the store of the current test (seeded with T1 and P1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../../src/ports.js';
import { device, P1 } from './contract.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR); // an hour boundary

export function retentionContract(current: () => Store): void {
  describe('retention', () => {
    it('a profile keeps its retention in days, and loses it again', async () => {
      const store = current();
      await store.saveProfile({ ...P1, retentionDays: 30 });
      assert.equal((await store.getProfile(P1.id))?.retentionDays, 30);
      await store.saveProfile(P1);
      assert.equal((await store.getProfile(P1.id))?.retentionDays, undefined);
    });

    it('prunes points and roll-up hours before the cut-off in steps, keeping newer points, latest values and other devices', async () => {
      const store = current();
      const old = device('old-data');
      const other = device('other');
      for (const d of [old, other]) await store.insertDevice(d, []);
      // Four hours of one point per 10 minutes for two keys; the cut-off is the start of hour 3.
      const rows = [];
      for (let m = 0; m < 240; m += 10) {
        for (const key of ['a', 'b']) rows.push({ deviceId: old.id, key, ts: T0 + m * 60_000, value: m });
        rows.push({ deviceId: other.id, key: 'a', ts: T0 + m * 60_000, value: m });
      }
      await store.appendTelemetry(rows);
      const cut = T0 + 3 * HOUR;
      const steps: number[] = [];
      for (let n = -1; n !== 0; ) steps.push((n = await store.pruneTelemetry(old.id, cut, 7)));
      assert.equal(steps.slice(0, -1).reduce((a, b) => a + b, 0), 36, 'two keys × 18 points before hour 3');
      assert.ok(steps.every((n) => n <= 7), `each step at most the limit: ${steps.join(',')}`);
      const raw = await store.queryRaw({ deviceId: old.id, keys: ['a', 'b'], from: 0, to: T0 + 5 * HOUR, limit: 1000, order: 'asc' });
      assert.deepEqual(raw.a?.map((p) => p.ts), [0, 1, 2, 3, 4, 5].map((i) => cut + i * 600_000));
      assert.equal(raw.b?.length, 6);
      const hourly = await store.queryAggregated({ deviceId: old.id, keys: ['a'], from: T0, to: T0 + 4 * HOUR - 1, interval: HOUR, agg: 'count' });
      assert.deepEqual(hourly.a, [{ ts: cut, value: 6 }], 'only hour 3 is left');
      assert.equal((await store.queryRaw({ deviceId: other.id, keys: ['a'], from: 0, to: T0 + 5 * HOUR, limit: 1000, order: 'asc' })).a?.length, 24, 'another device untouched');
      assert.deepEqual(await store.latest(old.id, ['a']), { a: { ts: T0 + 230 * 60_000, value: 230 } });
      assert.deepEqual(await store.telemetryKeys(old.id), ['a', 'b']);
    });

    it('everything older than the cut-off gone: the latest values and keys outlive it', async () => {
      const store = current();
      const d = device('all-old');
      await store.insertDevice(d, []);
      await store.appendTelemetry([{ deviceId: d.id, key: 'level', ts: T0, value: 4 }, { deviceId: d.id, key: 'level', ts: T0 + 1000, value: 5 }]);
      assert.equal(await store.pruneTelemetry(d.id, T0 + HOUR, 100), 2);
      assert.equal(await store.pruneTelemetry(d.id, T0 + HOUR, 100), 0);
      assert.deepEqual(await store.queryRaw({ deviceId: d.id, keys: ['level'], from: 0, to: T0 + HOUR, limit: 10, order: 'asc' }), {});
      assert.deepEqual(await store.latest(d.id), { level: { ts: T0 + 1000, value: 5 } });
      assert.deepEqual(await store.telemetryKeys(d.id), ['level']);
      assert.equal(await store.pruneTelemetry('no-such-device', T0, 10), 0);
    });
  });
}
