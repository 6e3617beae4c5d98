/**
 * Simulator at scale: `continuum simulate` with 10,000 MQTT devices at 1 msg/s each against the
 * platform, both as child processes the way users run them (platform on free ports with a temp
 * data dir). Reports the connect time, the acknowledged rate over a measured window that starts
 * once every device is connected, errors, and CPU and RSS of both processes.
 *
 *   node --import tsx bench/simulator-10k.ts [--devices 10000] [--rate 1] [--seconds 60] [--json FILE] [--cpu-prof DIR]
 *
 * --cpu-prof writes V8 CPU profiles of both processes (read them with bench/profile-top.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupAll, onCleanup } from './lib/cleanup.js';
import { ADMIN, REPO, commitStats, scrapeMetrics, startPlatform } from './lib/platform.js';
import { exited, spawnTracked, UsageMeter, type Usage } from './lib/proc.js';

const PROGRESS = /devices (\d+)\/(\d+) connected · (\d+) msg\/s · acked (\d+) · errors (\d+) · commands (\d+)(?: · skipped (\d+))?/;
const CONNECT_LIMIT_MS = 300_000;

interface Progress {
  readonly t: number;
  readonly connected: number;
  readonly devices: number;
  readonly msgPerS: number;
  readonly acked: number;
  readonly errors: number;
  readonly skipped: number;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function usageJson(u: Usage): Record<string, number> {
  return { cpuPct: round1(u.cpuPct), rssMb: round1(u.rssMb), peakRssMb: round1(u.peakRssMb) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'string' }, 'cpu-prof': { type: 'string' } } });
  const profDir = values['cpu-prof'];
  const devices = Number(values.devices ?? 10_000);
  const rate = Number(values.rate ?? 1);
  const seconds = Number(values.seconds ?? 60);
  const dataDir = mkdtempSync(join(tmpdir(), 'continuum-bench-sim-'));
  onCleanup('data dir', () => rmSync(dataDir, { recursive: true, force: true }));
  const platform = await startPlatform({ dataDir, ...(profDir ? { cpuProfDir: profDir } : {}) });
  const t0 = performance.now();
  const sim = spawnTracked(
    'simulator',
    process.execPath,
    [...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), '--import', 'tsx', 'src/apps/cli.ts', 'simulate', '--scenario', 'src/simulator/load-pack.ts', '--devices', String(devices), '--rate', String(rate), '--url', platform.api.baseUrl,
      '--mqtt-url', `mqtt://127.0.0.1:${platform.ports.mqtt}`, '--progress-every', '1', '--json'],
    { cwd: REPO, env: { ...process.env, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password } },
  );
  let installedAt = 0;
  let latest: Progress | undefined;
  let stdout = '';
  let pending = '';
  sim.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  sim.child.stderr?.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('simulating ')) installedAt = performance.now();
      const m = PROGRESS.exec(line);
      if (m) latest = { t: performance.now(), connected: +m[1]!, devices: +m[2]!, msgPerS: +m[3]!, acked: +m[4]!, errors: +m[5]!, skipped: +(m[7] ?? 0) };
    }
  });
  const wait = async (ok: () => boolean, limitMs: number, what: string): Promise<void> => {
    const deadline = performance.now() + limitMs;
    while (!ok()) {
      if (sim.child.exitCode !== null) throw new Error(`simulator exited ${sim.child.exitCode}: ${sim.output().slice(-2000)}`);
      if (performance.now() > deadline) throw new Error(`${what} not reached in ${limitMs / 1000} s: ${sim.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await wait(() => installedAt > 0, CONNECT_LIMIT_MS, 'install');
  const installS = (installedAt - t0) / 1000;
  await wait(() => latest !== undefined && latest.connected === devices, CONNECT_LIMIT_MS, 'all devices connected');
  const connectS = (latest!.t - installedAt) / 1000;
  // A few seconds for the start-up burst (attributes, subscriptions) to pass before measuring.
  await new Promise((r) => setTimeout(r, 5000));
  const simMeter = new UsageMeter(sim.pid);
  const platMeter = new UsageMeter(platform.proc.pid);
  const before = latest!;
  const metricsBefore = await scrapeMetrics(platform.api.baseUrl);
  simMeter.start();
  platMeter.start();
  let minConnected = devices;
  const watch = setInterval(() => (minConnected = Math.min(minConnected, latest?.connected ?? 0)), 500);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(watch);
  const after = latest!;
  const simUsage = simMeter.stop();
  const platUsage = platMeter.stop();
  const metricsAfter = await scrapeMetrics(platform.api.baseUrl);
  const windowS = (after.t - before.t) / 1000;
  // SIGINT as a user's Ctrl-C: the simulator disconnects its devices and prints its summary.
  sim.child.kill('SIGINT');
  await Promise.race([exited(sim.child), new Promise((r) => setTimeout(r, 60_000))]);
  await sim.stop(5000);
  await platform.stop();
  let summary: unknown = null;
  try {
    summary = JSON.parse(stdout);
  } catch {
    console.error(`no summary from the simulator: ${sim.output().slice(-500)}`);
  }
  const result = {
    scenario: 'simulator-10k',
    machine: { cpus: availableParallelism(), cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg().map(round1), date: new Date().toISOString() },
    devices,
    targetMsgPerS: devices * rate,
    installS: round1(installS),
    connectS: round1(connectS),
    windowS: round1(windowS),
    sustainedMsgPerS: Math.round((after.acked - before.acked) / windowS),
    ackedInWindow: after.acked - before.acked,
    errorsInWindow: after.errors - before.errors,
    skippedInWindow: after.skipped - before.skipped,
    minConnectedInWindow: minConnected,
    simulator: usageJson(simUsage),
    platform: { ...usageJson(platUsage), writtenMb: round1(platUsage.writtenMb), ...commitStats(metricsBefore, metricsAfter, windowS) },
    final: summary,
  };
  console.log(JSON.stringify(result, null, 2));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
}

process.once('SIGINT', () => void cleanupAll().then(() => process.exit(130)));
try {
  await main();
} finally {
  await cleanupAll();
}
