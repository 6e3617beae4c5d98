/**
 * Edge rule triggers and attr(), with the `continuum edge` process, the pymodbus PLC (read and
 * written back with mbpoll) and the platform on port 0:
 * - attr() reads the child's shared attribute cached on the edge: with the platform down and the
 *   edge restarted meanwhile, `temperature > attr("maxTemp")` still switches a coil;
 * - an `attributes` rule writes a register when a shared attribute changes;
 * - a `schedule` rule (`every: 1s`) produces telemetry on the edge's clock;
 * - a `connectivity` rule raises an edge alarm when the PLC behind a cut link stops answering,
 *   cleared (autoClear) when it answers again; both show on the platform.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestPlatform, eventually, tempDir, waitForExit, type TestPlatform } from '../support/platform.js';
import { readCoil, readHolding, relay, startPlc, writeFloat, type Link, type Plc } from './support.js';

let plc: Plc;
let link: Link;
let tp: TestPlatform;
let mqttPort: number;
let token: string;
let dataDir: string;
let configFile: string;
let edge: ReturnType<typeof spawnEdge> | undefined;

const CONFIG = `
platform: { url: "mqtt://127.0.0.1:\${MQTT_PORT}", token: "\${TOKEN}", reconnectMs: 200, reconnectMaxMs: 500 }
connectors:
  - type: modbus-tcp
    name: direct
    host: 127.0.0.1
    port: \${MODBUS_PORT}
    devices:
      - name: plc-t
        pollMs: 100
        registers:
          - { key: temperature, address: 10, type: float32 }
        commands:
          - { method: setCoil1, fc: 5, address: 1, type: bool }
          - { method: setR2, fc: 6, address: 2 }
  - type: modbus-tcp
    name: behind-relay
    host: 127.0.0.1
    port: \${RELAY_PORT}
    timeoutMs: 1000
    reconnect: { minMs: 100, maxMs: 300 }
    devices:
      - name: plc-c
        pollMs: 100
        registers:
          - { key: r0, address: 0 }
rules:
  - name: attr-threshold
    device: plc-t
    condition: temperature > attr("maxTemp")
    actions: [{ type: command, method: setCoil1, params: { value: true } }]
    clearActions: [{ type: command, method: setCoil1, params: { value: false } }]
  - name: setpoint
    device: plc-t
    trigger: attributes
    condition: setpoint != null
    actions: [{ type: command, method: setR2, params: { value: "\${setpoint}" } }]
  - name: heartbeat
    device: plc-t
    trigger: schedule
    schedule: { every: 1s }
    actions: [{ type: telemetry, values: { scheduled: 1 } }]
  - name: plc-lost
    device: plc-c
    trigger: connectivity
    condition: event == "offline"
    actions: [{ type: alarm, alarmType: PlcLost, severity: critical }]
`;

const environment = () => ({ MQTT_PORT: String(mqttPort), TOKEN: token, MODBUS_PORT: String(plc.port), RELAY_PORT: String(link.port) });

function spawnEdge() {
  const child = spawn(process.execPath, ['bin/continuum.mjs', 'edge', '--config', configFile, '--data-dir', dataDir, '--log-level', process.env.EDGE_LOG ?? 'warn'], {
    env: { ...process.env, ...environment() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

async function stopEdge(): Promise<void> {
  if (!edge) return;
  edge.child.kill('SIGTERM');
  assert.equal(await waitForExit(edge.child), 0, edge.output());
  edge = undefined;
}

async function childId(name: string): Promise<string> {
  return eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${name}`);
    return list.body.items.find((d) => d.name === name)?.id;
  }, 15_000, `${name} on the platform: ${edge?.output() ?? ''}`);
}

function cachedAttribute(device: string, key: string): unknown {
  const db = new Database(join(dataDir, 'edge-attributes.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT value FROM shared WHERE device = ? AND key = ?').get(device, key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  } finally {
    db.close();
  }
}

function edgeAlarmRows(): unknown[] {
  const db = new Database(join(dataDir, 'edge-alarms.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM alarms').all();
  } finally {
    db.close();
  }
}

before(async () => {
  plc = await startPlc(300);
  link = await relay(plc.port);
  tp = await startTestPlatform();
  mqttPort = tp.ports.mqtt;
  token = (await tp.api.createDevice('edge-trigger-gw', { gateway: true })).accessToken;
  const dir = tempDir();
  dataDir = join(dir, 'data');
  configFile = join(dir, 'edge.yaml');
  writeFileSync(configFile, CONFIG);
  await writeFloat(plc.port, 10, 21.5);
  edge = spawnEdge();
});
after(async () => {
  await stopEdge().catch(() => undefined);
  await tp?.stop();
  await link?.cut();
  await plc?.stop();
});

test('attr() offline: the shared attribute cached on the edge drives a local rule with the platform down, across an edge restart', async () => {
  const id = await childId('plc-t');
  assert.equal((await tp.api.request('POST', `/api/devices/${id}/attributes/shared`, { maxTemp: 50 })).status, 200);
  await eventually(async () => (cachedAttribute('plc-t', 'maxTemp') === 50 ? true : undefined), 10_000, 'maxTemp cached on the edge');

  await tp.stop();
  await stopEdge();
  edge = spawnEdge();
  // 60 > attr("maxTemp") = 50 only if the edge still knows maxTemp: no platform to ask.
  assert.equal(await readCoil(plc.port, 1), 0);
  await writeFloat(plc.port, 10, 60);
  await eventually(async () => ((await readCoil(plc.port, 1)) === 1 ? true : undefined), 10_000, `coil 1 on by attr() offline: ${edge.output()}`);
  await writeFloat(plc.port, 10, 40);
  await eventually(async () => ((await readCoil(plc.port, 1)) === 0 ? true : undefined), 10_000, 'coil 1 off again');
  tp = await startTestPlatform({ dataDir: tp.dataDir, config: { mqtt: { port: mqttPort, tlsPort: 0 } } });
});

test('an attributes rule writes a register when a shared attribute of the child changes', async () => {
  const id = await childId('plc-t');
  // The restarted platform answers the edge's request on reconnect; the update arrives as a push.
  assert.equal((await tp.api.request('POST', `/api/devices/${id}/attributes/shared`, { setpoint: 4321 })).status, 200);
  await eventually(async () => ((await readHolding(plc.port, 2)) === 4321 ? true : undefined), 10_000, `register 2 written from the setpoint: ${edge?.output() ?? ''}`);
  assert.equal(cachedAttribute('plc-t', 'setpoint'), 4321);
});

test('a schedule rule (every 1s) produces telemetry on the edge clock', async () => {
  const id = await childId('plc-t');
  const points = await eventually(async () => {
    const res = await tp.api.request<Record<string, { ts: number }[]>>('GET', `/api/devices/${id}/telemetry?keys=scheduled&from=${Date.now() - 60_000}&limit=1000&order=asc`);
    const list = res.body.scheduled ?? [];
    return list.length >= 4 ? list.map((p) => p.ts) : undefined;
  }, 15_000, 'scheduled telemetry');
  const gaps = points.slice(-3).map((ts, i, a) => (i === 0 ? 0 : ts - (a[i - 1] as number))).slice(1);
  assert.ok(gaps.every((g) => g >= 900 && g <= 1300), `ticks about 1 s apart: ${gaps.join(', ')}`);
});

test('a connectivity rule raises an edge alarm when the PLC stops answering and clears it when it answers again', async () => {
  const id = await childId('plc-c');
  const alarms = async () => (await tp.api.request<{ items: { id: string; status: string; type: string; severity: string; createdAt: number; clearedAt: number | null }[] }>('GET', `/api/alarms?deviceId=${id}`)).body.items;
  await eventually(async () => ((await tp.api.request<{ online: boolean }>('GET', `/api/devices/${id}`)).body.online ? true : undefined), 10_000, 'plc-c online');
  const cut = Date.now();
  await link.cut();
  const raised = await eventually(async () => (await alarms()).find((a) => a.status === 'active' && a.createdAt >= cut), 10_000, `PlcLost on the platform: ${edge?.output() ?? ''}`);
  assert.deepEqual([raised.type, raised.severity], ['PlcLost', 'critical']);
  const raisedMs = Date.now() - cut;
  await link.restore();
  const cleared = await eventually(async () => {
    const list = await alarms();
    const same = list.find((a) => a.id === raised.id);
    // One open alarm per (device, type): nothing else is open, and this one is cleared.
    return same?.status === 'cleared' && list.every((a) => a.status === 'cleared') ? same : undefined;
  }, 10_000, `PlcLost cleared: ${JSON.stringify(await alarms())} ${JSON.stringify(edgeAlarmRows())} ${edge?.output() ?? ''}`);
  assert.ok(cleared.clearedAt !== null && cleared.clearedAt > cleared.createdAt);
  console.log(`connectivity rule: alarm on the platform ${raisedMs} ms after the link was cut; cleared ${cleared.clearedAt - cleared.createdAt} ms after it was raised`);
});
