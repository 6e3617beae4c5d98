/**
 * Children follow their gateway, with the real edge process (`continuum edge`) as the gateway
 * and the pymodbus PLC as the field device: the edge killed (SIGKILL) takes its child offline
 * within a second (`gateway_offline`); a persistent command sent meanwhile waits QUEUED and,
 * once the edge is started again on the same data dir, is carried out on the PLC (the coil read
 * back with mbpoll) and ends SUCCESSFUL with no retry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPlatform, eventually, tempDir, waitForExit, type TestPlatform } from '../support/platform.js';
import { readCoil, startPlc, type Plc } from './support.js';

let tp: TestPlatform;
let plc: Plc;
let token: string;
const running: ChildProcess[] = [];

before(async () => {
  tp = await startTestPlatform();
  plc = await startPlc();
  token = (await tp.api.createDevice('edge-kill', { gateway: true })).accessToken;
});

after(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await plc?.stop();
  await tp?.stop();
});

function spawnEdge(configFile: string, dataDir: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['bin/continuum.mjs', 'edge', '--config', configFile, '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

interface DeviceBody {
  id: string;
  name: string;
  online: boolean;
  offlineReason: string | null;
}

async function child(name: string): Promise<DeviceBody | undefined> {
  const res = await tp.api.request<{ items: DeviceBody[] }>('GET', `/api/devices?search=${encodeURIComponent(name)}`);
  return res.body.items.find((d) => d.name === name);
}

test('the edge process killed: its child offline within a second; a persistent command queued meanwhile reaches the PLC when the edge is back, SUCCESSFUL', async () => {
  const dir = tempDir();
  const configFile = join(dir, 'edge.json');
  const dataDir = join(dir, 'data');
  writeFileSync(
    configFile,
    JSON.stringify({
      platform: { url: `mqtt://127.0.0.1:${tp.ports.mqtt}`, token, reconnectMs: 100, reconnectMaxMs: 300 },
      connectors: [{ type: 'modbus-tcp', name: 'plc', host: '127.0.0.1', port: plc.port, devices: [{ name: 'kill-plc', pollMs: 200, registers: [{ key: 'r0', address: 0 }], commands: [{ method: 'setCoil5', fc: 5, address: 5, type: 'bool' }] }] }],
    }),
  );
  const first = spawnEdge(configFile, dataDir);
  const up = await eventually(async () => {
    const d = await child('kill-plc');
    return d?.online ? d : undefined;
  }, 20_000, 'child online through the edge');

  const killed = Date.now();
  first.child.kill('SIGKILL');
  await waitForExit(first.child);
  let offline: DeviceBody | undefined;
  while (Date.now() - killed < 10_000) {
    offline = await child('kill-plc');
    if (offline && !offline.online) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const offlineMs = Date.now() - killed;
  assert.equal(offline?.online, false);
  assert.equal(offline?.offlineReason, 'gateway_offline');
  assert.ok(offlineMs < 1000, `child offline ${offlineMs} ms after the edge was killed`);

  assert.equal(await readCoil(plc.port, 5), 0);
  const sent = await tp.api.request<{ id: string; status: string }>('POST', `/api/devices/${up.id}/commands`, { method: 'setCoil5', params: { value: true }, persistent: true, timeoutMs: 3000 });
  assert.equal(sent.body.status, 'QUEUED');
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal((await tp.api.request<{ status: string }>('GET', `/api/commands/${sent.body.id}`)).body.status, 'QUEUED', 'still waiting after its timeout');

  const second = spawnEdge(configFile, dataDir);
  const restarted = Date.now();
  const done = await eventually(async () => {
    const c = await tp.api.request<{ status: string; retries: number; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
    return ['SUCCESSFUL', 'FAILED', 'TIMEOUT', 'EXPIRED'].includes(c.body.status) ? c.body : undefined;
  }, 20_000, `command settled: ${second.output()}`);
  console.log(`edge SIGKILL: child offline after ${offlineMs} ms; queued command ${done.status} ${Date.now() - restarted} ms after the edge restarted`);
  assert.deepEqual({ status: done.status, retries: done.retries }, { status: 'SUCCESSFUL', retries: 0 });
  assert.equal(await readCoil(plc.port, 5), 1, 'the coil was written on the PLC');
  second.child.kill('SIGTERM');
  assert.equal(await waitForExit(second.child), 0, second.output());
});
