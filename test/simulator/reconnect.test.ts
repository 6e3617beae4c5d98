/**
 * MQTT devices survive a network cut: a TCP relay between the simulator and a real platform
 * drops every connection; devices reconnect with backoff, publish again, and the messages that
 * were in flight when the link dropped are counted as errors, not as acknowledged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { ApiClient } from '../../src/protocols/management-api/client.js';
import { startSimulation, type Simulation } from '../../src/simulator/engine.js';
import { provisionDevices } from '../../src/simulator/provision.js';
import { ADMIN, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { memoryLog, thermostat } from './support.js';

let tp: TestPlatform;
let relay: Server;
let sim: Simulation;
const pairs = new Set<Socket>();
const links: { client: Socket; upstream: Socket }[] = [];
const mem = memoryLog();
const N = 30;

before(async () => {
  tp = await startTestPlatform();
  relay = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: tp.ports.mqtt });
    client.pipe(upstream).pipe(client);
    links.push({ client, upstream });
    for (const s of [client, upstream]) {
      pairs.add(s);
      s.on('close', () => pairs.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const api = new ApiClient(tp.baseUrl, { authorization: `Bearer ${((await login.json()) as { token: string }).token}` });
  const { devices } = await provisionDevices(api, [{ prefix: 'cut', count: N }]);
  sim = startSimulation({
    devices: devices.map((d) => ({ name: d.name, token: d.token, model: thermostat, protocol: 'mqtt' as const, intervalS: 0.2 })),
    endpoints: { mqtt: { host: '127.0.0.1', port: (relay.address() as AddressInfo).port } },
    log: mem.log,
  });
});

after(async () => {
  await sim?.stop();
  for (const s of pairs) s.destroy();
  await new Promise((r) => relay?.close(r));
  await tp?.stop();
});

test('devices reconnect after every connection is cut and keep publishing', async () => {
  await eventually(async () => (sim.stats().connected === N && sim.stats().acked > N ? true : undefined), 15_000, 'all connected');
  for (const s of pairs) s.destroy();
  await eventually(async () => (sim.stats().connected < N ? true : undefined), 5_000, 'connections seen lost');
  const ackedAtCut = sim.stats().acked;
  await eventually(async () => (sim.stats().connected === N ? true : undefined), 20_000, 'all reconnected');
  await eventually(async () => (sim.stats().acked > ackedAtCut + 2 * N ? true : undefined), 10_000, 'publishing again');
  const s = sim.stats();
  assert.ok(s.sent >= s.acked + s.errors, 'every message is acked, lost or still in flight');
  assert.ok(mem.lines.length < 5 * N, 'reconnects do not flood the log');
});

test('regression: a platform that stops acknowledging is not buried — each device keeps at most 10 messages in flight', async () => {
  await eventually(async () => (sim.stats().connected === N ? true : undefined), 20_000, 'all connected');
  const live = links.filter((l) => !l.upstream.destroyed);
  // The relay stops passing the platform's bytes back: PUBACKs no longer reach the devices.
  for (const l of live) l.upstream.unpipe(l.client);
  const skippedBefore = sim.stats().skipped;
  await eventually(async () => (sim.stats().skipped > skippedBefore + N ? true : undefined), 15_000, 'readings skipped');
  const stalled = sim.stats();
  assert.ok(stalled.sent - stalled.acked - stalled.errors <= 10 * N, `in flight ${stalled.sent - stalled.acked - stalled.errors}`);
  for (const l of live) l.upstream.pipe(l.client);
  await eventually(async () => {
    const s = sim.stats();
    return s.acked > stalled.acked && s.sent - s.acked - s.errors < 2 * N ? true : undefined;
  }, 15_000, 'backlog acknowledged after the platform answers again');
});
