/**
 * The device chart's overlays in Chromium at 1280 px, against a whole platform with three weeks of
 * a daily+weekly `load` pattern in its roll-ups: the forecast (from the forecast API) with its
 * interval band, the hour-of-week baseline band (GET /api/devices/{id}/baseline) and an anomaly
 * mark for the alarm a detector rule on `load` raised, its score in the tooltip. A second device
 * whose forecast job wrote `forecast.load` series gets its forecast from them instead. Screenshot:
 * test-output/screenshots/71-device-overlays.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, signIn } from './browser-support.js';

const HOUR = 3_600_000;
let tp: TestPlatform;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
});

after(async () => {
  await tp?.stop();
});

const pattern = (t: number): number => {
  const h = Math.floor(t / HOUR);
  const weekend = Math.floor(((h + 72) % 168) / 24) >= 5;
  return 200 + 80 * Math.sin((2 * Math.PI * (h % 24)) / 24) - (weekend ? 60 : 0);
};

async function seed(name: string): Promise<{ id: string; tenantId: string }> {
  const device = await tp.api.createDevice(name);
  const now = Date.now();
  const rows = [];
  let seed = 3;
  for (let t = Math.floor((now - 21 * 24 * HOUR) / HOUR) * HOUR; t < now; t += 30 * 60_000) {
    seed = (seed * 16807) % 2147483647;
    rows.push({ deviceId: device.id, key: 'load', ts: t, value: pattern(t) + (seed / 2147483647 - 0.5) * 8 });
  }
  await tp.platform.store.appendTelemetry(rows);
  const stored = await tp.platform.store.getDevice(device.id);
  assert.ok(stored);
  return { id: device.id, tenantId: stored.tenantId };
}

async function legend(page: import('playwright-core').Page): Promise<string[]> {
  return page.locator('.chart .u-legend .u-series th').allInnerTexts();
}

test('the device chart overlays the forecast band, the baseline band and the anomaly marks of the key', async () => {
  const { id, tenantId } = await seed('overlay-meter');
  await tp.platform.alarms.raise({
    tenantId,
    deviceId: id,
    type: 'LoadAnomaly',
    severity: 'major',
    details: { rule: 'Load spike', detector: 'zscore(load, 50)', score: 7.31, baseline: 201.5, threshold: 6, ts: Date.now() },
  });
  // A detector alarm on another key is not a mark on this chart.
  await tp.platform.alarms.raise({ tenantId, deviceId: id, type: 'TempAnomaly', severity: 'minor', details: { detector: 'zscore(temperature, 50)', score: 9 } });
  const b = await openBrowser({ width: 1280, height: 900 });
  try {
    await signIn(b.page, tp.baseUrl);
    await b.page.goto(`${tp.baseUrl}/#/devices/${id}`);
    const page = b.page;
    await page.locator('.page.device[data-overlays="baseline forecast marks"]').waitFor();
    const names = await legend(page);
    for (const want of ['load', 'forecast', 'forecast (low)', 'forecast (high)', 'expected ± 2σ', 'anomalies (1)']) assert.ok(names.some((n) => n.trim() === want), `${want} in ${JSON.stringify(names)}`);
    const marks = page.locator('.chart .anomaly-mark');
    assert.equal(await marks.count(), 1);
    const title = (await marks.first().getAttribute('title')) ?? '';
    assert.match(title, /LoadAnomaly: zscore\(load, 50\) score 7\.31 · rule Load spike/);
    assert.equal(await marks.first().getAttribute('aria-label'), title);
    // The mark sits inside the plot area, and the view reaches past now to the forecast's end.
    const box = await marks.first().boundingBox();
    const over = await page.locator('.chart .u-over').boundingBox();
    assert.ok(box && over && box.x >= over.x - 6 && box.x <= over.x + over.width && box.y >= over.y - 6 && box.y <= over.y + over.height, JSON.stringify({ box, over }));
    assert.ok(box && over && box.x < over.x + over.width - 5, 'now is not the right edge: the forecast is drawn after it');
    await b.shot('71-device-overlays');
    assert.deepEqual(b.errors, [], 'no console errors');
  } finally {
    await b.close();
  }
});

test("the forecast job's forecast.<key> series are the forecast overlay when the device has them", async () => {
  const { id } = await seed('overlay-job');
  const now = Date.now();
  const first = Math.floor(now / HOUR) * HOUR;
  const rows = [];
  for (let i = 0; i < 24; i++) {
    const ts = first + i * HOUR;
    rows.push({ deviceId: id, key: 'forecast.load', ts, value: 150 }, { deviceId: id, key: 'forecast.load.lower', ts, value: 140 }, { deviceId: id, key: 'forecast.load.upper', ts, value: 160 });
  }
  await tp.platform.store.appendTelemetry(rows);
  const b = await openBrowser({ width: 1280, height: 900 });
  try {
    await signIn(b.page, tp.baseUrl);
    // Read from the series, not the API: the page never asks the forecast API for this key.
    const asked: string[] = [];
    b.page.on('request', (r) => {
      if (r.url().includes('/forecast?')) asked.push(r.url());
    });
    await b.page.goto(`${tp.baseUrl}/#/devices/${id}`);
    await b.page.locator('.page.device[data-overlays="baseline forecast"]').waitFor();
    assert.equal(await b.page.getByLabel('Key', { exact: true }).inputValue(), 'load', 'the page opens on the key, not on its forecast');
    assert.ok((await legend(b.page)).some((n) => n.trim() === 'forecast'));
    assert.deepEqual(asked, []);
    assert.deepEqual(b.errors, [], 'no console errors');
  } finally {
    await b.close();
  }
});
