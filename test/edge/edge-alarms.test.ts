/**
 * Alarms at the edge, with the `continuum edge` process, the pymodbus PLC and the platform on
 * port 0 (SQLite): an alarm raised and cleared by a local rule while the platform is down
 * appears on the platform afterwards once, with the edge's two timestamps; one raised while the
 * platform is up and cleared during an outage is the same alarm on the platform, cleared at the
 * edge's time; restarting the edge sends nothing twice.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestPlatform, eventually, tempDir, waitForExit, type TestPlatform } from '../support/platform.js';
import { startPlc, writeFloat, type Plc } from './support.js';

let plc: Plc;
let tp: TestPlatform;
let mqttPort: number;
let token: string;

before(async () => {
  plc = await startPlc(300);
  tp = await startTestPlatform();
  mqttPort = tp.ports.mqtt;
  token = (await tp.api.createDevice('edge-alarm-gw', { gateway: true })).accessToken;
});
after(async () => {
  await tp?.stop();
  await plc?.stop();
});

const CONFIG = `
platform: { url: "mqtt://127.0.0.1:\${MQTT_PORT}", token: "\${TOKEN}", reconnectMs: 200, reconnectMaxMs: 500 }
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: \${MODBUS_PORT}
    devices:
      - name: plc-alarm
        pollMs: 100
        registers:
          - { key: temperature, address: 10, type: float32 }
rules:
  - name: over-temperature
    device: plc-alarm
    condition: temperature > 80
    actions:
      - { type: alarm, alarmType: OverTemperature, severity: major, details: { temperature: "\${temperature}" } }
`;

interface PlatformAlarm {
  id: string;
  type: string;
  status: string;
  severity: string;
  createdAt: number;
  clearedAt: number | null;
  details: unknown;
}
interface EdgeRow {
  id: string;
  raised_at: number;
  cleared_at: number | null;
  version: number;
  synced: number;
}

function spawnEdge(configFile: string, dataDir: string) {
  const child = spawn(process.execPath, ['bin/continuum.mjs', 'edge', '--config', configFile, '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, MQTT_PORT: String(mqttPort), TOKEN: token, MODBUS_PORT: String(plc.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

function edgeAlarms(dataDir: string): EdgeRow[] {
  const db = new Database(join(dataDir, 'edge-alarms.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, raised_at, cleared_at, version, synced FROM alarms ORDER BY raised_at').all() as EdgeRow[];
  } finally {
    db.close();
  }
}

async function platformAlarms(deviceId: string): Promise<PlatformAlarm[]> {
  const res = await tp.api.request<{ items: PlatformAlarm[] }>('GET', `/api/alarms?deviceId=${deviceId}`);
  return res.body.items ?? [];
}

async function restartPlatform(): Promise<void> {
  tp = await startTestPlatform({ dataDir: tp.dataDir, config: { mqtt: { port: mqttPort, tlsPort: 0 } } });
}

test('an edge alarm raised and cleared while the platform is down appears on the platform afterwards, once, with both timestamps', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(configFile, CONFIG);
  await writeFloat(plc.port, 10, 21.5);
  let edge = spawnEdge(configFile, dataDir);
  try {
    const deviceId = await eventually(async () => {
      const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=plc-alarm');
      return list.body.items.find((d) => d.name === 'plc-alarm')?.id;
    }, 15_000, `child on the platform: ${edge.output()}`);

    // 1. Raised and cleared entirely while the platform is down.
    await tp.stop();
    await writeFloat(plc.port, 10, 85);
    await eventually(async () => (edgeAlarms(dataDir).length === 1 ? true : undefined), 10_000, 'raised on the edge');
    await writeFloat(plc.port, 10, 21.5);
    const [local] = await eventually(async () => {
      const rows = edgeAlarms(dataDir);
      return rows.length === 1 && rows[0]?.cleared_at !== null ? rows : undefined;
    }, 10_000, 'cleared on the edge');
    assert.ok(local);
    assert.equal(local.synced, 0, 'nothing synced while the platform is down');
    assert.ok(local.cleared_at !== null && local.cleared_at > local.raised_at);

    const up = Date.now();
    await restartPlatform();
    const synced = await eventually(async () => {
      const list = await platformAlarms(deviceId);
      return list.length > 0 && list.every((a) => a.status === 'cleared') ? list : undefined;
    }, 15_000, `the edge alarm on the platform: ${edge.output()}`);
    const syncMs = Date.now() - up;
    assert.equal(synced.length, 1, 'once');
    const [alarm] = synced;
    assert.ok(alarm);
    assert.equal(alarm.type, 'OverTemperature');
    assert.equal(alarm.severity, 'major');
    assert.equal(alarm.createdAt, local.raised_at, 'raised at the edge time');
    assert.equal(alarm.clearedAt, local.cleared_at, 'cleared at the edge time');
    assert.deepEqual(alarm.details, { temperature: 85 }, 'details rendered on the edge');
    const history = await tp.api.request<{ action: string; ts: number }[] | { items: { action: string; ts: number }[] }>('GET', `/api/alarms/${alarm.id}/history`);
    const events = Array.isArray(history.body) ? history.body : history.body.items;
    assert.deepEqual(events.map((e) => [e.action, e.ts]), [['raised', local.raised_at], ['cleared', local.cleared_at]]);
    await eventually(async () => (edgeAlarms(dataDir).every((r) => r.synced === r.version) ? true : undefined), 5000, 'acknowledged on the edge');

    // 2. Raised while the platform is up (the same alarm on both), cleared during an outage.
    await writeFloat(plc.port, 10, 90);
    const open = await eventually(async () => (await platformAlarms(deviceId)).find((a) => a.status === 'active'), 10_000, 'open alarm on the platform');
    const rowsUp = edgeAlarms(dataDir);
    const second = rowsUp.find((r) => r.cleared_at === null);
    assert.ok(second);
    assert.equal(open.createdAt, second.raised_at);
    await tp.stop();
    await writeFloat(plc.port, 10, 20);
    await eventually(async () => (edgeAlarms(dataDir).every((r) => r.cleared_at !== null) ? true : undefined), 10_000, 'second cleared on the edge');
    const clearedAt = edgeAlarms(dataDir).find((r) => r.id === second.id)?.cleared_at;
    await restartPlatform();
    await eventually(async () => ((await platformAlarms(deviceId)).every((a) => a.status === 'cleared') ? true : undefined), 15_000, 'second cleared on the platform');

    // 3. The edge restarted: nothing is sent twice.
    edge.child.kill('SIGTERM');
    assert.equal(await waitForExit(edge.child), 0, edge.output());
    edge = spawnEdge(configFile, dataDir);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await platformAlarms(deviceId);
    assert.equal(after.length, 2, `two alarms, each once: ${JSON.stringify(after)}`);
    const same = after.find((a) => a.id === open.id);
    assert.equal(same?.clearedAt, clearedAt, 'the open alarm cleared at the edge time');
    console.log(`edge alarm raised and cleared ${local.cleared_at - local.raised_at} ms apart during the outage: on the platform once with both timestamps ${syncMs} ms after the restart call (platform start + edge reconnect included)`);
  } finally {
    edge.child.kill('SIGTERM');
    await waitForExit(edge.child);
  }
});
