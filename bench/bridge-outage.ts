/**
 * Issue 18's "must show" for the MQTT bridge: the remote broker is stopped for 30 s while a
 * device publishes; once it returns, every committed message must be on it, duplicates only as
 * QoS 1 allows. The remote is a Mosquitto of our own on a free port (the machine's shared one on
 * 1883 is not ours to stop). Usage: npx tsx bench/bridge-outage.ts [outageSeconds] [ratePerSecond]
 */
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { startTestPlatform } from '../test/support/platform.js';
import { freePort, startMosquitto } from '../test/adapters/integrations/mosquitto.js';

const outageS = Number(process.argv[2] ?? 30);
const rate = Number(process.argv[3] ?? 50);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
let broker = await startMosquitto(port);
// The remote broker runs on this host: the outbound policy refuses loopback unless allowed.
const p = await startTestPlatform({ config: { outbound: { allow: ['127.0.0.1'] } } });
const device = await p.api.createDevice(`outage-${randomUUID().slice(0, 6)}`);
const prefix = `outage-${randomUUID().slice(0, 8)}`;
const created = await p.api.request<{ id: string }>('POST', '/api/integrations', {
  type: 'mqtt-bridge',
  name: 'outage',
  config: { url: `mqtt://127.0.0.1:${port}`, topic: `${prefix}/{deviceName}`, qos: 1, reconnectMs: 2000 },
  filter: { events: ['telemetry'] },
});
// The subscriber reconnects faster than the bridge and re-subscribes (Mosquitto without
// persistence forgets sessions when it stops), so it is listening before the backlog flows.
const seen = new Map<number, number>();
const sub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 100, clean: true, resubscribe: false });
sub.on('connect', () => void sub.subscribeAsync(`${prefix}/#`, { qos: 1 }));
sub.on('message', (_t, payload) => {
  const n = (JSON.parse(payload.toString()) as { values: { n: number } }).values.n;
  seen.set(n, (seen.get(n) ?? 0) + 1);
});
await sleep(1000);

let committed = 0;
let running = true;
const publisher = (async () => {
  while (running) {
    const res = await fetch(`${p.baseUrl}/api/v1/${device.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: committed }) });
    if (res.status === 200) committed++;
    await sleep(1000 / rate);
  }
})();
const status = async () => (await p.api.request<{ status: { backlog: number; lagMs: number; state: string } }>('GET', `/api/integrations/${created.body.id}`)).body.status;

await sleep(5000);
await broker.stop();
const stoppedAt = Date.now();
console.log(`remote stopped after ${committed} committed`);
let maxBacklog = 0;
while (Date.now() - stoppedAt < outageS * 1000) {
  await sleep(1000);
  maxBacklog = Math.max(maxBacklog, (await status()).backlog);
}
const before = await status();
console.log(`after ${outageS} s away: backlog ${before.backlog}, lag ${(before.lagMs / 1000).toFixed(1)} s, state ${before.state}`);
broker = await startMosquitto(port);
const backAt = Date.now();
await sleep(5000);
running = false;
await publisher;
const deadline = Date.now() + 30_000;
while (Date.now() < deadline && (await status()).backlog > 0) await sleep(200);
await sleep(1000);
const missing = [...Array(committed).keys()].filter((n) => !seen.has(n));
const duplicates = [...seen.values()].filter((c) => c > 1).length;
const after = await status();
console.log(
  JSON.stringify({ outageSeconds: outageS, ratePerSecond: rate, committed, received: seen.size, missing: missing.length, duplicated: duplicates, maxBacklog, backlogAfter: after.backlog, drainSeconds: (Date.now() - backAt) / 1000 }),
);
await sub.endAsync();
await p.stop();
await broker.stop();
process.exit(missing.length === 0 ? 0 : 1);
