/**
 * The map works offline: with every request that is not to the platform refused, the map page
 * (1280 and 390 px) and a dashboard map widget draw land and country outlines from the shipped
 * world-atlas data under the markers — a device in Paris sits on land, one in the mid-Atlantic on
 * sea — and nothing is requested from anywhere else. Screenshots: 71-basemap-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let paris: { id: string; accessToken: string };
let buoy: { id: string; accessToken: string };

async function publish(token: string, payload: unknown): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(payload)]);
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  paris = await tp.api.createDevice('paris-office');
  buoy = await tp.api.createDevice('atlantic-buoy');
  await publish(paris.accessToken, { latitude: 48.8566, longitude: 2.3522 });
  await publish(buoy.accessToken, { latitude: 40, longitude: -35 });
});

after(async () => {
  await tp?.stop();
});

/** A browser for which only the platform exists: every other request is refused and recorded. */
async function offlineBrowser(viewport: { width: number; height: number }): Promise<{ b: Browser; outside: string[] }> {
  const b = await openBrowser(viewport);
  const outside: string[] = [];
  await b.context.route(
    (url) => url.origin !== tp.baseUrl,
    (route) => {
      outside.push(route.request().url());
      return route.abort('internetdisconnected');
    },
  );
  return { b, outside };
}

/** True when the centre of the device's marker lies inside a drawn land polygon. */
function onLand(b: Browser, root: string, deviceId: string | undefined): Promise<boolean> {
  return b.page.evaluate(
    ([rootSel, id]) => {
      const scope = document.querySelector(rootSel as string) as HTMLElement;
      const marker = (id ? scope.querySelector(`path[data-device-id="${id}"]`) : scope.querySelector('path.leaflet-interactive')) as SVGPathElement;
      const r = marker.getBoundingClientRect();
      return [...scope.querySelectorAll<SVGPathElement>('path.base-land')].some((p) => {
        const ctm = p.getScreenCTM();
        if (!ctm) return false;
        const pt = new DOMPoint(r.left + r.width / 2, r.top + r.height / 2).matrixTransform(ctm.inverse());
        return p.isPointInFill(pt);
      });
    },
    [root, deviceId ?? ''],
  );
}

for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
  test(`${viewport.width} px: with no network the map page draws land outlines and borders under the markers`, async () => {
    const { b, outside } = await offlineBrowser(viewport);
    try {
      await signIn(b.page, tp.baseUrl);
      await b.page.getByRole('link', { name: 'Map', exact: true }).click();
      await b.page.locator('.map-page[data-loaded="true"]').waitFor();
      await b.page.locator('.map-canvas[data-basemap="ready"]').waitFor({ timeout: 15_000 });
      assert.ok((await b.page.locator('.map-canvas path.base-land').count()) > 0, 'land polygons drawn');
      assert.ok((await b.page.locator('.map-canvas path.base-border').count()) > 0, 'country borders drawn');
      assert.equal(await b.page.locator('img.leaflet-tile').count(), 0, 'no tiles');
      assert.equal(await onLand(b, '.map-canvas', paris.id), true, 'Paris is on land');
      assert.equal(await onLand(b, '.map-canvas', buoy.id), false, 'the buoy is at sea');
      // Under the markers: the base pane is below the overlay pane.
      const z = await b.page.evaluate(() => [getComputedStyle(document.querySelector('.leaflet-basemap-pane') as Element).zIndex, getComputedStyle(document.querySelector('.leaflet-overlay-pane') as Element).zIndex]);
      assert.ok(Number(z[0]) < Number(z[1]), `base pane ${z[0]} under overlays ${z[1]}`);
      await b.shot(`71-basemap-${viewport.width}-world`);
      // Zoomed to a device, the outlines are still there (Natural Earth 1:50m).
      await b.page.getByRole('button', { name: 'Show paris-office' }).click();
      await b.page.waitForTimeout(300);
      assert.equal(await onLand(b, '.map-canvas', paris.id), true);
      await b.shot(`71-basemap-${viewport.width}-paris`);
      assert.deepEqual(outside, [], 'no request left the platform');
      assert.deepEqual(b.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), []);
    } finally {
      await b.close();
    }
  });
}

test('a dashboard map widget uses the same offline base map', async () => {
  const dash = await tp.api.request<{ id: string }>('POST', '/api/dashboards', { name: 'Where', widgets: [{ type: 'map', title: 'Paris', deviceId: paris.id, x: 0, y: 0, w: 6, h: 4 }] });
  assert.equal(dash.status, 201, JSON.stringify(dash.body));
  const { b, outside } = await offlineBrowser({ width: 1280, height: 900 });
  try {
    await signIn(b.page, tp.baseUrl);
    await b.page.goto(`${tp.baseUrl}/#/dashboards/${dash.body.id}`);
    await b.page.locator('.widget-map[data-basemap="ready"]').waitFor({ timeout: 15_000 });
    await b.page.locator('.widget-map path.leaflet-interactive').waitFor();
    assert.equal(await onLand(b, '.widget-map', undefined), true, 'the widget marker is on land');
    await b.shot('71-basemap-widget');
    assert.deepEqual(outside, []);
  } finally {
    await b.close();
  }
});
