/**
 * GET /api/devices/{id}/forecast over a SQLite store whose hourly roll-ups (ts_hourly) hold three
 * weeks of a daily+weekly pattern: the forecast follows the pattern, its intervals widen, the
 * query is checked, another tenant's device is not found and a request without a token is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { startTestApi, type TestApi } from './helpers.js';

const HOUR = 3_600_000;
// Three weeks before the test API's clock (2024-01-01, a Monday), so the admin's token stays valid.
const MONDAY = Date.UTC(2023, 11, 11);
const OTHER_TENANT = '00000000-0000-4000-8000-0000000000ff';
const pattern = (t: number): number => {
  const h = Math.floor(t / HOUR);
  const weekend = Math.floor(((h + 72) % 168) / 24) >= 5;
  return 200 + 80 * Math.sin((2 * Math.PI * (h % 24)) / 24) - (weekend ? 60 : 0);
};

describe('forecast API', () => {
  let api: TestApi;
  let dir: string;
  let meterId: string;
  let foreignId: string;
  let otherToken: string;
  let operatorToken: string;
  const now = MONDAY + 3 * 168 * HOUR + 5 * 60_000;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forecast-api-'));
    api = await startTestApi({ store: createSqliteStore({ file: join(dir, 'c.db'), synchronous: 'NORMAL' }) });
    api.clock.set(now);
    meterId = (await api.call('POST', '/api/devices', { name: 'meter' })).body.id;
    let seed = 9;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 6;
    const rows = [];
    for (let t = MONDAY; t < MONDAY + 3 * 168 * HOUR; t += 15 * 60_000) rows.push({ deviceId: meterId, key: 'power', ts: t, value: pattern(t) + noise() });
    rows.push({ deviceId: meterId, key: 'young', ts: now - HOUR, value: 1 });
    await api.store.appendTelemetry(rows);
    await api.store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
    foreignId = (await api.registry.createDevice({ tenantId: OTHER_TENANT, name: 'theirs' })).device.id;
    await api.store.appendTelemetry(rows.slice(0, 2000).map((r) => ({ ...r, deviceId: foreignId })));
    await api.auth.createUser({ email: 'other@example.com', password: 'another long password', tenantId: OTHER_TENANT, role: 'admin' });
    otherToken = (await api.auth.login('other@example.com', 'another long password')).token;
    await api.call('POST', '/api/users', { email: 'op@example.com', password: 'operator-password-1', role: 'user' });
    operatorToken = (await api.auth.login('op@example.com', 'operator-password-1')).token;
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forecasts 24 hourly points from the roll-ups, close to the pattern, with intervals that contain them and widen', async () => {
    const res = await api.call('GET', `/api/devices/${meterId}/forecast?key=power&horizon=24h`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { key, points, model } = res.body as { key: string; points: { ts: number; value: number; lower: number; upper: number }[]; model: { name: string; holtWinters: { weekly: boolean }; historyHours: number; backtest: { origins: number; candidates: { name: string }[] } } };
    assert.equal(key, 'power');
    assert.equal(points.length, 24);
    assert.equal(points[0]?.ts, MONDAY + 3 * 168 * HOUR, 'the first point is the current hour');
    assert.equal(model.holtWinters.weekly, true);
    // Three weeks of history: a day-ahead forecast at each day with eight days before it (13), every candidate scored.
    assert.equal(model.backtest.origins, 13);
    assert.ok(model.backtest.candidates.some((c) => c.name === 'seasonal-naive-week'));
    assert.ok(model.backtest.candidates.some((c) => c.name === model.name), model.name);
    assert.equal(model.historyHours, 3 * 168);
    let width = 0;
    for (const p of points) {
      assert.ok(Math.abs(p.value - pattern(p.ts)) < 10, `${new Date(p.ts).toISOString()}: ${p.value} vs ${pattern(p.ts)}`);
      assert.ok(p.lower <= p.value && p.value <= p.upper);
      assert.ok(p.upper - p.lower >= width - 1e-9);
      width = p.upper - p.lower;
    }
  });

  it('reads the default horizon (24h) and a week; an operator may read it too', async () => {
    const week = await api.call('GET', `/api/devices/${meterId}/forecast?key=power&horizon=7d`, undefined, { authorization: `Bearer ${operatorToken}` });
    assert.equal(week.status, 200);
    assert.equal(week.body.points.length, 168);
    assert.equal((await api.call('GET', `/api/devices/${meterId}/forecast?key=power`)).body.points.length, 24);
  });

  it('answers no points (model null) for a key without two days of history, and for an unknown key', async () => {
    for (const key of ['young', 'nothing']) {
      const res = await api.call('GET', `/api/devices/${meterId}/forecast?key=${key}&horizon=6h`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { key, points: [], model: null });
    }
  });

  it('checks the query: key required, horizon a duration from 1h to 14d', async () => {
    for (const q of ['horizon=24h', 'key=power&horizon=soon', 'key=power&horizon=15d', 'key=power&horizon=0h', `key=${'k'.repeat(300)}`]) {
      const res = await api.call('GET', `/api/devices/${meterId}/forecast?${q}`);
      assert.equal(res.status, 400, q);
    }
  });

  it('serves the hour-of-week baseline: 168 slots, the pattern in each, a small σ; none for an unknown key', async () => {
    const res = await api.call('GET', `/api/devices/${meterId}/baseline?key=power`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const b = res.body as { key: string; expected: (number | null)[]; sigma: number; samples: number; historyHours: number };
    assert.equal(b.expected.length, 168);
    assert.equal(b.samples, 3 * 168);
    assert.ok(b.sigma > 0 && b.sigma < 5, String(b.sigma));
    // Slot 0 is Monday 00:00 UTC, and MONDAY is one.
    for (let slot = 0; slot < 168; slot++) assert.ok(Math.abs((b.expected[slot] as number) - pattern(MONDAY + slot * HOUR)) < 5, `slot ${slot}`);
    const none = await api.call('GET', `/api/devices/${meterId}/baseline?key=nothing`);
    assert.equal(none.status, 200);
    assert.equal(none.body.samples, 0);
    assert.ok((none.body.expected as unknown[]).every((v) => v === null));
    assert.equal((await api.call('GET', `/api/devices/${meterId}/baseline`)).status, 400);
    assert.equal((await api.call('GET', `/api/devices/${foreignId}/baseline?key=power`)).status, 404);
  });

  it("keeps tenants apart: another tenant's device is not found, either way round; no token is 401", async () => {
    const mine = await api.call('GET', `/api/devices/${foreignId}/forecast?key=power`);
    assert.equal(mine.status, 404);
    assert.equal(mine.body.error, 'DEVICE_NOT_FOUND');
    const theirs = await api.call('GET', `/api/devices/${meterId}/forecast?key=power`, undefined, { authorization: `Bearer ${otherToken}` });
    assert.equal(theirs.status, 404);
    const ownForeign = await api.call('GET', `/api/devices/${foreignId}/forecast?key=power`, undefined, { authorization: `Bearer ${otherToken}` });
    assert.equal(ownForeign.status, 200);
    const anonymous = await fetch(`${api.url}/api/devices/${meterId}/forecast?key=power`);
    assert.equal(anonymous.status, 401);
  });
});
