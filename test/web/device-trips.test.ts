/**
 * The device page's Trips card in Chromium: after the fleet pack's van-1 drove (its model played
 * over MQTT), the card lists its trips and draws the chosen one — the track as a polyline and its
 * stops as markers — on the offline base map.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn, type Browser } from './browser-support.js';
import { fleetTrack } from '../fixtures/fleet-track.js';

let tp: TestPlatform;
let b: Browser;
let van: { id: string; accessToken: string };

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  van = await tp.api.createDevice('van-1');
  const track = fleetTrack(1900, Date.now() - 3 * 3600_000);
  for (let i = 0; i < track.length; i += 100) {
    const chunk = track.slice(i, i + 100).map((p) => ({ ts: p.ts, values: { latitude: p.latitude, longitude: p.longitude, speed: p.speed, ignition: p.ignition } }));
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', van.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(chunk)]);
  }
  await eventually(async () => ((await tp.api.request<{ items: unknown[] }>('GET', `/api/devices/${van.id}/trips`)).body.items?.length === 3 ? true : undefined), 30_000, 'three trips');
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('the device page lists the trips and draws the chosen one with its stops', async () => {
  const page = b.page;
  await signIn(page, tp.baseUrl);
  await page.goto(`${tp.baseUrl}/#/devices/${van.id}`);
  const card = page.locator('section.trips');
  await card.waitFor({ state: 'visible' });
  assert.equal(await card.locator('.trip-list li').count(), 3);
  assert.match((await card.locator('.trip-list li').first().textContent()) ?? '', /under way/);
  // The newest (under way) trip is drawn first: a track, no stops yet.
  await card.locator('path.trip-track').first().waitFor();
  // The second trip (the one with the two customer stops).
  await card.locator('.trip-list li button').nth(1).click();
  await page.waitForFunction(() => document.querySelectorAll('section.trips path.trip-stop').length === 2);
  assert.equal(await card.locator('path.trip-track').count(), 1);
  const d = await card.locator('path.trip-track').getAttribute('d');
  // Leaflet simplifies the line on screen: the loop's straight legs leave a handful of vertices.
  assert.ok((d?.match(/L/g) ?? []).length >= 4, `a polyline through the track: ${d}`);
});
