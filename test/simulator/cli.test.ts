/**
 * `continuum simulate` as users run it: a child process against a platform in another child
 * process, stopping after --duration with a summary; a real pack installed and played; an
 * unknown scenario refused with the list of packs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ADMIN, apiClient, eventually, spawnServer, tempDir, waitForExit, type ApiClient, type ServerProcess } from '../support/platform.js';

const run = promisify(execFile);
let server: ServerProcess;
let api: ApiClient;
let baseUrl: string;

before(async () => {
  server = await spawnServer(tempDir());
  baseUrl = `http://127.0.0.1:${server.ports.http}`;
  api = await apiClient(baseUrl);
});

after(async () => {
  server?.child.kill('SIGTERM');
  if (server) await waitForExit(server.child);
});

function simulate(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(
    process.execPath,
    ['bin/continuum.mjs', 'simulate', '--url', baseUrl, '--mqtt-url', `mqtt://127.0.0.1:${server.ports.mqtt}`, '--coap-url', `coap://127.0.0.1:${server.ports.coap}`, ...args],
    { env: { ...process.env, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password }, timeout: 60_000 },
  );
}

interface Summary {
  devices: number;
  connected: number;
  sent: number;
  acked: number;
  errors: number;
  stoppedBy: string;
}

test('--duration runs the devices, then exits 0 with a JSON summary', async () => {
  const { stdout, stderr } = await simulate(['--scenario', 'src/simulator/load-pack.ts', '--devices', '25', '--rate', '2', '--duration', '4s', '--json']);
  const summary = JSON.parse(stdout) as Summary;
  assert.equal(summary.devices, 25);
  assert.equal(summary.stoppedBy, 'duration');
  assert.equal(summary.errors, 0, stderr);
  assert.ok(summary.acked > 25, `acked ${summary.acked}`);
  const list = await api.request<{ items: { id: string; name: string }[]; total: number }>('GET', '/api/devices?search=meter-&limit=100');
  assert.equal(list.body.items.filter((d) => /^meter-\d+$/.test(d.name)).length, 25);
  const meter = list.body.items.find((d) => d.name === 'meter-7')!;
  const latest = await api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${meter.id}/telemetry/latest`);
  assert.equal(typeof latest.body.energyKwh?.value, 'number');
  // Progress lines go to stderr (one per 5 s when it is not a terminal; the run is shorter).
  assert.match(stderr, /simulating 25 load-test devices/);
});

test('a second run finds the devices and gives them new tokens', async () => {
  const { stdout, stderr } = await simulate(['--scenario', 'src/simulator/load-pack.ts', '--devices', '25', '--duration', '2s', '--no-install', '--protocol', 'http', '--json']);
  assert.match(stderr, /0 created, 25 existing/);
  const summary = JSON.parse(stdout) as Summary;
  assert.equal(summary.errors, 0, stderr);
  assert.ok(summary.acked > 0);
});

test('--ota: the devices update themselves in a deployment created before they connect', async () => {
  const login = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  const upload = await fetch(`${baseUrl}/api/ota/packages?title=sim-fw&version=9.9`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(40_000) });
  const pkg = (await upload.json()) as { id: string };
  const list = await api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=meter-&limit=100');
  // --devices 3 plays the first three meters of the pack (names sort with their index).
  const meters = list.body.items.filter((d) => /^meter-\d+$/.test(d.name)).sort((a, b) => Number(a.name.slice(6)) - Number(b.name.slice(6)));
  const ids = meters.slice(0, 3).map((d) => d.id);
  const created = await api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: pkg.id, target: { deviceIds: ids } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { stdout, stderr } = await simulate(['--scenario', 'src/simulator/load-pack.ts', '--devices', '3', '--no-install', '--ota', '--ota-fail-rate', '0', '--duration', '5s', '--json']);
  const summary = JSON.parse(stdout) as Summary & { ota: { started: number; updated: number; failedOnPurpose: number } };
  assert.deepEqual(summary.ota, { started: 3, updated: 3, failedOnPurpose: 0 }, stderr);
  const d = await api.request<{ status: string; counts: { updated: number } }>('GET', `/api/ota/deployments/${created.body.id}`);
  assert.equal(d.body.status, 'completed');
  assert.equal(d.body.counts.updated, 3);
  await assert.rejects(simulate(['--scenario', 'src/simulator/load-pack.ts', '--ota', '--ota-fail-rate', '2', '--duration', '1s']), /--ota-fail-rate must be between 0 and 1/);
});

test('a real pack is installed and played over CoAP', async () => {
  const { stdout, stderr } = await simulate(['--scenario', 'smart-farm', '--devices', '3', '--protocol', 'coap', '--duration', '3s']);
  assert.match(stdout, /simulated 3 devices for [\d.]+ s: sent \d+, acked \d+ .*errors 0/, stderr);
  const rules = await api.request<{ items: { name: string }[] }>('GET', '/api/rules');
  assert.ok(rules.body.items.length > 0, 'the pack rules were installed');
});

test('SIGINT disconnects the devices and prints the summary; progress lines go to stderr', async () => {
  const child = spawn(
    process.execPath,
    ['bin/continuum.mjs', 'simulate', '--url', baseUrl, '--mqtt-url', `mqtt://127.0.0.1:${server.ports.mqtt}`, '--scenario', 'src/simulator/load-pack.ts', '--devices', '5', '--no-install', '--progress-every', '0.2', '--json'],
    { env: { ...process.env, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const connected = new Promise<void>((resolve) =>
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/devices 5\/5 connected · \d+ msg\/s · acked [1-9]\d* · errors 0 · commands 0/.test(stderr)) resolve();
    }),
  );
  await connected;
  child.kill('SIGINT');
  assert.equal(await waitForExit(child), 0, stderr);
  const summary = JSON.parse(stdout) as Summary;
  assert.equal(summary.stoppedBy, 'SIGINT');
  assert.equal(summary.connected, 5);
  await eventually(async () => {
    const list = await api.request<{ items: { name: string; online: boolean }[] }>('GET', '/api/devices?search=meter-1&limit=100');
    return list.body.items.find((d) => d.name === 'meter-1')?.online === false ? true : undefined;
  }, 10_000, 'meter-1 offline');
});

test('an unknown scenario is refused with the list of packs', async () => {
  await assert.rejects(simulate(['--scenario', 'no-such-pack', '--duration', '1s']), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr ?? '', /unknown scenario "no-such-pack"; packs: .*smart-farm/);
    return true;
  });
});
