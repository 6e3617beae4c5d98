/**
 * CSV export at scale: writes N points of one key to a SQLite platform with the store (batches of
 * 50,000), then exports them over HTTP (GET /api/devices/{id}/telemetry/export) and reports the
 * export time, rows/s and the peak RSS of the process while exporting (the platform serves in
 * this process; the client only counts the bytes). Flat memory is the point: the peak should not
 * grow with N.
 *
 *   npx tsx bench/export-csv.ts               # N = 100,000
 *   npx tsx bench/export-csv.ts --n 10000000  # the 10 million
 */
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../test/support/platform.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' } } });
const n = Number(values.n);
if (!Number.isSafeInteger(n) || n < 1) throw new Error('--n must be a positive integer');

const p = await startTestPlatform();
try {
  const device = await p.api.createDevice(`export-${Date.now()}`);
  const T0 = Date.UTC(2020, 0, 1);
  const writeStart = performance.now();
  for (let start = 0; start < n; start += 50_000) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 50_000); i++) rows.push({ deviceId: device.id, key: 'power', ts: T0 + i * 1000, value: Math.round(Math.sin(i / 100) * 1e4) / 100 });
    await p.platform.store.appendTelemetry(rows);
  }
  const writeMs = performance.now() - writeStart;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const login = await fetch(`${p.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@test.local', password: 'test-password-1' }) });
  const { token } = (await login.json()) as { token: string };
  const start = performance.now();
  const res = await fetch(`${p.baseUrl}/api/devices/${device.id}/telemetry/export?format=csv`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
  }
  const ms = performance.now() - start;
  clearInterval(sampler);
  if (lines !== n + 1) throw new Error(`expected ${n + 1} lines, got ${lines}`);
  const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
  console.log(JSON.stringify({ points: n, writeSeconds: +(writeMs / 1000).toFixed(1), exportSeconds: +(ms / 1000).toFixed(2), rowsPerSecond: Math.round(n / (ms / 1000)), csvMiB: +(bytes / 1024 / 1024).toFixed(1), rssBeforeMiB: +mib(rssBefore), peakRssMiB: +mib(peak) }));
} finally {
  await p.stop();
}
