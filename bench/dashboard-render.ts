/**
 * First render of the device page with a year of history (issue 7's target: under 1 s).
 *
 *   node --import tsx bench/dashboard-render.ts [--runs 7] [--days 365] [--json FILE]
 *
 * One device with 3 keys at 1-minute resolution for `days` days (365: 1,576,800 points) is written
 * with the store's own appendTelemetry into a fresh data dir, beside an empty device (the
 * reference: the same page with nothing to read). Then `continuum start` runs on that dir and
 * headless Chromium (playwright-core, /usr/bin/chromium) opens each device page, signed in:
 *
 * - cold: a new browser context per run (empty cache: HTML, JS, CSS, WebSocket and every REST call),
 *   measured from navigation start;
 * - warm: the app already loaded, measured from the hash change (what clicking a device does).
 *
 * The page marks `continuum:device-latest` when the latest values are shown and
 * `continuum:device-chart` when the chart is drawn (or found empty); the figure is the chart mark,
 * which comes last. Runs alternate between the two devices; medians are printed, then JSON.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createSqliteStore } from '../src/adapters/store/sqlite/index.js';
import { DEFAULT_TENANT_ID } from '../src/domain/device.js';
import type { Logger, TelemetryRow } from '../src/ports.js';
import { RegistryService, TokenHasher } from '../src/services/registry.js';
import { CREDENTIAL_KEY_FILE } from '../src/apps/credential-key.js';
import { CREDENTIAL_KEY_BYTES } from '../src/services/registry-credentials.js';
import { cleanupAll, onCleanup } from './lib/cleanup.js';
import { ADMIN, REPO, startPlatform } from './lib/platform.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string' }, days: { type: 'string' }, json: { type: 'string' } } });
const runs = Number(args.runs ?? 7);
const days = Number(args.days ?? 365);
if (!(runs > 0) || !(days > 0)) throw new Error('--runs and --days must be positive');

const MINUTE = 60_000;
const KEYS = ['temperature', 'humidity', 'energy'] as const;
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

interface Sample {
  readonly latestMs: number;
  readonly chartMs: number;
  /** The chart's REST call as the browser timed it (resource timing). */
  readonly chartApiMs: number;
  readonly chartNote: string;
}

async function fill(file: string): Promise<{ year: string; empty: string; points: number; fillMs: number }> {
  // The data dir's credential key, written before the platform's first start: the registry records
  // a check value of the key it hashed with, and the platform refuses to start on another key.
  const key = randomBytes(CREDENTIAL_KEY_BYTES);
  writeFileSync(join(dirname(file), CREDENTIAL_KEY_FILE), `${key.toString('base64')}\n`, { mode: 0o600 });
  const store = createSqliteStore({ file, synchronous: 'NORMAL' });
  try {
    const registry = new RegistryService({ store, clock: { now: () => Date.now() }, logger: silent, codecNames: ['json', 'senml'], tokens: new TokenHasher(key) });
    await registry.init();
    const year = (await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'bench-year' })).device.id;
    const empty = (await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'bench-empty' })).device.id;
    const to = Math.floor(Date.now() / MINUTE) * MINUTE;
    const t0 = performance.now();
    let rows: TelemetryRow[] = [];
    let points = 0;
    let energy = 0;
    for (let ts = to - days * 1440 * MINUTE + MINUTE; ts <= to; ts += MINUTE) {
      const hour = ts / 3_600_000;
      energy += 0.01;
      rows.push(
        { deviceId: year, key: 'temperature', ts, value: Math.round((20 + 5 * Math.sin((hour / 24) * 2 * Math.PI)) * 100) / 100 },
        { deviceId: year, key: 'humidity', ts, value: 40 + ((ts / MINUTE) % 20) },
        { deviceId: year, key: 'energy', ts, value: Math.round(energy * 1000) / 1000 },
      );
      if (rows.length >= 30_000) {
        await store.appendTelemetry(rows);
        points += rows.length;
        rows = [];
      }
    }
    await store.appendTelemetry(rows);
    points += rows.length;
    return { year, empty, points, fillMs: performance.now() - t0 };
  } finally {
    await store.close();
  }
}

/** Waits for both marks of the device page and reads them (ms since `since`, in page time). */
async function marks(page: Page, since: number): Promise<Sample> {
  try {
    await page.waitForFunction(() => performance.getEntriesByName('continuum:device-chart').length > 0, undefined, { timeout: 60_000, polling: 50 });
  } catch (err) {
    const file = join(tmpdir(), 'continuum-render-timeout.png');
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw new Error(`the device page did not draw its chart in 60 s (screenshot: ${file})`, { cause: err });
  }
  // A string, not a function: tsx would wrap named closures in a helper the page does not have.
  return page.evaluate(`(() => {
    const t0 = ${since};
    const mark = (name) => (performance.getEntriesByName(name).at(-1)?.startTime ?? NaN) - t0;
    const api = performance.getEntriesByType('resource').filter((e) => /\\/telemetry\\?/.test(e.name)).at(-1);
    return {
      latestMs: mark('continuum:device-latest'),
      chartMs: mark('continuum:device-chart'),
      chartApiMs: api ? api.responseEnd - api.startTime : NaN,
      chartNote: document.querySelector('.device .hint[aria-live]')?.textContent ?? '',
    };
  })()`) as Promise<Sample>;
}

async function cold(browser: Browser, baseUrl: string, session: string, deviceId: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript((s) => sessionStorage.setItem('continuum.session', s), session);
    const page = await context.newPage();
    await page.goto(`${baseUrl}/#/devices/${deviceId}`);
    return await marks(page, 0);
  } finally {
    await context.close();
  }
}

async function warm(page: Page, deviceId: string): Promise<Sample> {
  await page.evaluate(() => (location.hash = '#/devices'));
  await page.locator('.counts').waitFor();
  const t0 = await page.evaluate((id) => {
    performance.clearMarks();
    performance.clearResourceTimings();
    const now = performance.now();
    location.hash = `#/devices/${id}`;
    return now;
  }, deviceId);
  return marks(page, t0);
}

/** Warm page already on the year device: switch the chart to 1 year (automatic: daily averages). */
async function yearRange(page: Page, deviceId: string): Promise<Sample> {
  await warm(page, deviceId);
  const t0 = await page.evaluate(() => {
    performance.clearMarks();
    performance.clearResourceTimings();
    const range = document.querySelector<HTMLSelectElement>('.device select[id^="range-"]');
    if (!range) throw new Error('no range select on the device page');
    const now = performance.now();
    range.value = '1y';
    range.dispatchEvent(new Event('change'));
    return now;
  });
  return marks(page, t0);
}

const median = (all: number[]): number => {
  const s = all.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return Math.round((s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2) * 10) / 10;
};

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(REPO, 'web', 'build.mjs')], { stdio: 'inherit' });
  const dataDir = mkdtempSync(join(tmpdir(), 'continuum-render-'));
  onCleanup('temp dir', () => rmSync(dataDir, { recursive: true, force: true }));
  const filled = await fill(join(dataDir, 'continuum.db'));
  console.log(`filled ${filled.points.toLocaleString('en')} points (${KEYS.length} keys × ${days} days at 1 min) in ${(filled.fillMs / 1000).toFixed(1)} s`);
  const platform = await startPlatform({ dataDir });
  onCleanup('platform', async () => void (await platform.stop()));
  const login = (await (await fetch(`${platform.api.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()) as { token: string; expiresAt: number };
  const session = JSON.stringify({ token: login.token, expiresAt: login.expiresAt, email: ADMIN.email });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  onCleanup('browser', () => browser.close());

  const samples: Record<string, Sample[]> = { 'year cold': [], 'empty cold': [], 'year warm': [], 'empty warm': [], 'year warm, range → 1 y': [] };
  // One unmeasured pass of each: the platform's first requests compile routes and warm SQLite's cache.
  await cold(browser, platform.api.baseUrl, session, filled.year);
  await cold(browser, platform.api.baseUrl, session, filled.empty);
  for (let i = 0; i < runs; i++) {
    samples['year cold']?.push(await cold(browser, platform.api.baseUrl, session, filled.year));
    samples['empty cold']?.push(await cold(browser, platform.api.baseUrl, session, filled.empty));
    process.stderr.write('.');
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((s) => sessionStorage.setItem('continuum.session', s), session);
  const page = await context.newPage();
  await page.goto(`${platform.api.baseUrl}/#/devices`);
  for (let i = 0; i < runs; i++) {
    samples['year warm']?.push(await warm(page, filled.year));
    samples['empty warm']?.push(await warm(page, filled.empty));
    samples['year warm, range → 1 y']?.push(await yearRange(page, filled.year));
  }
  await context.close();

  const result: Record<string, unknown> = { points: filled.points, days, runs, fillS: Math.round(filled.fillMs / 100) / 10, targetMs: 1000 };
  console.log('\n| page | latest values shown (median) | chart drawn (median) | max | chart REST call (median) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, list] of Object.entries(samples)) {
    const row = {
      latestMs: median(list.map((s) => s.latestMs)),
      chartMs: median(list.map((s) => s.chartMs)),
      maxChartMs: Math.round(Math.max(...list.map((s) => s.chartMs))),
      chartApiMs: median(list.map((s) => s.chartApiMs)),
    };
    result[name] = row;
    const ms = (x: number): string => (Number.isNaN(x) ? '—' : `${x} ms`);
    console.log(`| ${name} | ${ms(row.latestMs)} | ${ms(row.chartMs)} | ${ms(row.maxChartMs)} | ${ms(row.chartApiMs)} |`);
  }
  console.log(`default chart: ${samples['year cold']?.[0]?.chartNote ?? ''}; 1 y: ${samples['year warm, range → 1 y']?.[0]?.chartNote ?? ''}`);
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
}

try {
  await main();
} finally {
  await cleanupAll();
}
