/**
 * The contract of the demo: `npm start -- --demo smart-farm` on a fresh data dir. Within 30 s
 * of the command, the farm's simulated field controllers are online, telemetry flows, the
 * irrigation rule has sent a pump command that the simulated controller answered, and the
 * dashboard (Debian Chromium, headless) shows the command on the field's page.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, apiClient, eventually, tempDir, type ApiClient } from '../support/platform.js';
import { openBrowser, SHOTS, signIn, type Browser } from './browser-support.js';

let child: ChildProcess;
let output = '';
let dataDir: string;
let browser: Browser;
let startedAt: number;
let baseUrl: string;
let api: ApiClient;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = tempDir();
  startedAt = Date.now();
  // Exactly as a user types it (plus free ports: 1883 is taken on this machine), in its own process group.
  child = spawn('npm', ['start', '--', '--demo', 'smart-farm', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--log-level', 'warn'], {
    env: { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const portsFile = join(dataDir, 'ports.json');
  await eventually(async () => (existsSync(portsFile) ? true : undefined), 30_000, `ports.json (output: ${output})`);
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { http: number };
  baseUrl = `http://127.0.0.1:${ports.http}`;
  api = await apiClient(baseUrl);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('npm start -- --demo smart-farm: within 30 s devices are online, telemetry flows and the irrigation rule commands a pump, shown on the dashboard', async (t) => {
  const deadline = startedAt + 30_000;
  const left = (): number => Math.max(1000, deadline - Date.now());
  const online = await eventually(async () => {
    const res = await api.request<{ items: { name: string; online?: boolean; status?: { online: boolean } }[] }>('GET', '/api/devices?search=field-');
    const up = res.body.items.filter((d) => d.online === true || d.status?.online === true);
    return up.length === 4 ? up : undefined;
  }, left(), 'four field controllers online');
  assert.equal(online.length, 4);

  const field = await eventually(async () => {
    const res = await api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=field-1');
    return res.body.items.find((d) => d.name === 'field-1');
  }, left(), 'field-1');
  await eventually(async () => {
    const telemetry = await api.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${field.id}/telemetry?keys=soilMoisture`);
    return (telemetry.body.soilMoisture ?? []).length > 0 ? true : undefined;
  }, left(), 'soil moisture stored');

  const command = await eventually(async () => {
    const res = await api.request<{ items: { method: string; deviceId: string; status: string; origin: string | null; params: unknown }[] }>('GET', '/api/commands');
    return res.body.items.find((c) => c.method === 'setPump' && c.origin?.startsWith('rule:') && c.status === 'SUCCESSFUL');
  }, left(), 'a pump command from the irrigation rule, answered');
  assert.deepEqual(command.params, { on: true });
  assert.equal(command.deviceId, field.id);

  const page = browser.page;
  await signIn(page, baseUrl);
  await page.getByRole('link', { name: 'field-1', exact: true }).click();
  const row = page.locator('table.commands tbody tr', { hasText: 'setPump' }).first();
  await row.waitFor({ timeout: left() });
  assert.match((await row.textContent()) ?? '', /setPump/);
  await browser.shot('demo-smart-farm-field-1');
  assert.deepEqual(browser.errors, [], 'no console errors');
  const elapsed = Date.now() - startedAt;
  t.diagnostic(`npm start → command on the dashboard: ${elapsed} ms`);
  assert.ok(elapsed <= 30_000 + 5_000, `dashboard showed the command ${elapsed} ms after npm start`);
});
