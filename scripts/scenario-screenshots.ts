/**
 * Screenshots of every scenario pack's dashboard for docs/SCENARIOS.md: each pack runs as a demo
 * in this process (memory store, free ports) for a while, then headless Chromium signs in and
 * photographs the pack's dashboard. Run: node --import tsx scripts/scenario-screenshots.ts [pack…]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/apps/config.js';
import { startPlatform } from '../src/apps/platform.js';
import { PACKS } from '../src/scenarios/index.js';
import { startDemo } from '../src/scenarios/run.js';

const OUT = join('docs', 'img', 'scenarios');
const ADMIN = { email: 'admin@example.com', password: 'screenshot-password' };
const RUN_MS = Number(process.env.SCREENSHOT_RUN_MS ?? 25_000);
const quiet = { info: () => undefined, warn: () => undefined };

async function shoot(name: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'continuum-shot-'));
  const config = loadConfig({
    env: {},
    overrides: { dataDir, host: '127.0.0.1', http: { port: 0 }, mqtt: { port: 0, tlsPort: 0 }, coap: { port: 0 }, store: { kind: 'memory' }, auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password }, log: { level: 'silent' } },
  });
  const platform = await startPlatform(config);
  const baseUrl = `http://127.0.0.1:${platform.ports.http}`;
  const demo = await startDemo({ pack: name, baseUrl, apiKey: await platform.createAdminApiKey('screenshots'), host: '127.0.0.1', ports: platform.ports, log: quiet });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    await new Promise((r) => setTimeout(r, RUN_MS));
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(baseUrl + '/');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Fleet' }).waitFor();
    await page.goto(`${baseUrl}/#/dashboards/${demo.install.dashboardId ?? ''}`);
    await new Promise((r) => setTimeout(r, 4_000));
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    process.stdout.write(`${name}: ${join(OUT, `${name}.png`)}\n`);
  } finally {
    await browser.close();
    await demo.stop();
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

mkdirSync(OUT, { recursive: true });
const wanted = process.argv.slice(2);
for (const pack of PACKS) if (wanted.length === 0 || wanted.includes(pack.name)) await shoot(pack.name);
