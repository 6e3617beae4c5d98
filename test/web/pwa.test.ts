/**
 * The dashboard as an installable app: the manifest (served as application/manifest+json) with
 * its icons, Chromium's own installability check, and the service worker that keeps the app
 * shell (never the API) so the dashboard opens with the platform unreachable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;
let stopped = false;

interface Manifest {
  name: string;
  short_name: string;
  start_url: string;
  display: string;
  theme_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  if (!stopped) await tp?.stop();
});

test('the manifest names the app, its icons exist with their declared sizes, and index.html links it', async () => {
  const res = await fetch(`${tp.baseUrl}/manifest.webmanifest`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/manifest\+json/);
  const manifest = (await res.json()) as Manifest;
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.short_name, 'Continuum');
  assert.match(manifest.start_url, /^\//);
  assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);
  for (const icon of manifest.icons) {
    const img = await fetch(`${tp.baseUrl}${icon.src}`);
    assert.equal(img.status, 200, icon.src);
    assert.equal(img.headers.get('content-type'), icon.type, icon.src);
    const bytes = Buffer.from(await img.arrayBuffer());
    if (icon.type === 'image/png') {
      // PNG IHDR: width and height at bytes 16 and 20.
      assert.equal(`${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`, icon.sizes, icon.src);
    }
  }
  assert.ok(manifest.icons.some((i) => i.sizes === '512x512' && i.purpose === 'maskable'));
  const html = await (await fetch(`${tp.baseUrl}/`)).text();
  assert.match(html, /<link rel="manifest" href="\/manifest.webmanifest"/);
  assert.match(html, /<meta name="theme-color" content="#0b57d0"/);
  const sw = await fetch(`${tp.baseUrl}/sw.js`);
  assert.equal(sw.status, 200);
  assert.match(sw.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.equal(sw.headers.get('cache-control'), 'no-cache', 'a new service worker is picked up at once');
});

test('Chromium finds the app installable and the service worker caches the shell but never the API', async () => {
  await signIn(b.page, tp.baseUrl);
  await b.page.evaluate(async () => void (await navigator.serviceWorker.ready));
  const cdp = await b.context.newCDPSession(b.page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
  assert.deepEqual(installabilityErrors, []);
  // Visit pages that call the API (REST and the WebSocket), then list what the caches hold.
  for (const hash of ['#/alarms', '#/rules', '#/map', '#/devices']) {
    await b.page.goto(`${tp.baseUrl}/${hash}`);
    await b.page.locator('main h1').first().waitFor();
  }
  const cached = await b.page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    return urls;
  });
  assert.ok(cached.includes('/'), `shell cached: ${cached.join(' ')}`);
  assert.ok(cached.some((u) => /^\/assets\/index-.+\.js$/.test(u)), 'the app bundle is cached');
  assert.ok(cached.some((u) => /^\/assets\/leaflet-src-.+\.js$/.test(u)), 'the lazily loaded map chunk is cached too');
  // Each page is a chunk loaded on its first visit (web/src/routes.ts): kept for offline use whether visited or not.
  for (const page of ['users', 'tenants', 'dashboard', 'uPlot.esm']) assert.ok(cached.some((u) => new RegExp(`^/assets/${page}-[\\w-]+\\.js$`).test(u)), `the ${page} chunk is cached, never visited`);
  assert.deepEqual(cached.filter((u) => u.startsWith('/api')), [], 'no API answer is cached');
  assert.deepEqual(b.errors, []);
});

test('with the platform stopped, the cached shell still opens the dashboard', async () => {
  await tp.stop();
  stopped = true;
  await b.page.evaluate(() => sessionStorage.clear());
  await b.page.reload();
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
  await b.page.getByLabel('Email').fill(ADMIN.email);
  await b.shot('40-pwa-offline-shell');
});

test('a new build replaces the cached shell and drops the assets of the old one', async () => {
  // Pretend an older build left a bundle behind, then let a navigation bring index.html again.
  await b.page.evaluate(async () => (await caches.open('continuum-shell-v1')).put('/assets/index-OldBuild1.js', new Response('old')));
  assert.ok(await b.page.evaluate(async () => Boolean(await (await caches.open('continuum-shell-v1')).match('/assets/index-OldBuild1.js'))));
  // The same origin again (caches are per origin): the platform comes back on its old port.
  const origin = tp.baseUrl;
  tp = await startTestPlatform({ config: { http: { port: tp.ports.http } } });
  stopped = false;
  assert.equal(tp.baseUrl, origin);
  await b.page.goto(`${tp.baseUrl}/`);
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
  await b.page.waitForFunction(async () => !(await (await caches.open('continuum-shell-v1')).match('/assets/index-OldBuild1.js')));
});
