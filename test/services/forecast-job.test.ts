import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import type { Logger } from '../../src/ports.js';
import { RegistryService } from '../../src/services/registry.js';
import { ForecastJob } from '../../src/services/forecast-job.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

describe('forecast job', () => {
  it('writes forecast.<key> with its interval for the configured keys only, at future hours, replacing the previous run', async () => {
    const store = createMemoryStore();
    let now = START + 14 * 24 * HOUR + 60_000;
    const clock = { now: () => now };
    const registry = new RegistryService({ store, clock, logger: silent, codecNames: ['json'] });
    await registry.init();
    const { device } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'meter' });
    const rows = [];
    for (let t = START; t < START + 14 * 24 * HOUR; t += 30 * 60_000) {
      rows.push({ deviceId: device.id, key: 'energy', ts: t, value: 10 + 5 * Math.sin((2 * Math.PI * (t / HOUR)) / 24) });
      rows.push({ deviceId: device.id, key: 'other', ts: t, value: 1 });
    }
    await store.appendTelemetry(rows);
    const job = new ForecastJob({ store, clock, logger: silent, tenantIds: () => [DEFAULT_TENANT_ID], config: { keys: ['energy', 'absent'], horizonHours: 12, everyMinutes: 60 } });
    assert.equal(await job.runOnce(), 36);
    const got = await store.queryRaw({ deviceId: device.id, keys: ['forecast.energy', 'forecast.energy.lower', 'forecast.energy.upper', 'forecast.other'], from: 0, to: now + 48 * HOUR, limit: 100, order: 'asc' });
    assert.equal(got['forecast.energy']?.length, 12);
    assert.equal(got['forecast.other'], undefined);
    assert.equal(got['forecast.energy']?.[0]?.ts, START + 14 * 24 * HOUR);
    got['forecast.energy']?.forEach((p, i) => {
      const expected = 10 + 5 * Math.sin((2 * Math.PI * (p.ts / HOUR + 0.25)) / 24);
      assert.ok(Math.abs((p.value as number) - expected) < 0.5, `${i}: ${String(p.value)} vs ${expected}`);
      assert.ok((got['forecast.energy.lower']?.[i]?.value as number) <= (p.value as number));
      assert.ok((got['forecast.energy.upper']?.[i]?.value as number) >= (p.value as number));
    });
    // An hour later the next run overlaps eleven hours of the first: replaced, not doubled.
    now += HOUR;
    await job.runOnce();
    const again = await store.queryRaw({ deviceId: device.id, keys: ['forecast.energy'], from: 0, to: now + 48 * HOUR, limit: 100, order: 'asc' });
    assert.equal(again['forecast.energy']?.length, 13);
  });

  it('does nothing without keys', async () => {
    const store = createMemoryStore();
    const job = new ForecastJob({ store, clock: { now: () => START }, logger: silent, tenantIds: () => [DEFAULT_TENANT_ID], config: { keys: [], horizonHours: 24, everyMinutes: 60 } });
    assert.equal(await job.runOnce(), 0);
    job.start();
    await job.stop();
  });
});
