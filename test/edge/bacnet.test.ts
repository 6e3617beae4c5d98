/**
 * The BACnet/IP connector against a device simulated with @bacnet-js/client on loopback
 * (test/fixtures/bacnet/device.ts): who-is binding, ReadPropertyMultiple polling, COV, writes
 * with priority through platform commands, and the fallbacks for a device without RPM or COV.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType } from '@bacnet-js/client';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig, parseEdgeConfig, type BacnetConfig } from '../../src/edge/config.js';
import type { Reading } from '../../src/edge/ports.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { enumerated, freeUdpPort, real, SimDevice, unsigned } from '../fixtures/bacnet/device.js';

let tp: TestPlatform;
let ahu: SimDevice;
let vav: SimDevice;
let edge: Edge;
let ahuId: string;
const readings: Reading[] = [];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type Latest = Record<string, { value: unknown }>;
const latest = async (id: string): Promise<Latest> => (await tp.api.request<Latest>('GET', `/api/devices/${id}/telemetry/latest`)).body;
const command = (id: string, method: string, params: unknown) =>
  tp.api.request<{ status: string; error?: string; response?: unknown }>('POST', `/api/devices/${id}/commands`, { method, params, timeoutMs: 5000 });

before(async () => {
  tp = await startTestPlatform();
  ahu = await SimDevice.start({
    deviceId: 1001,
    name: 'AHU 1',
    objects: [
      { type: ObjectType.ANALOG_INPUT, instance: 0, name: 'Zone Temp', value: real(21.5), units: 62 },
      { type: ObjectType.ANALOG_VALUE, instance: 1, name: 'Setpoint', value: real(20), commandable: true },
      { type: ObjectType.BINARY_OUTPUT, instance: 2, name: 'Fan', value: enumerated(0), commandable: true },
      { type: ObjectType.MULTI_STATE_VALUE, instance: 3, name: 'Mode', value: unsigned(1), commandable: true, cov: false },
      { type: ObjectType.ANALOG_INPUT, instance: 4, name: 'Outdoor Temp', value: real(5.25) },
    ],
  });
  // A small controller: ReadProperty only, no COV (a B-ASC device).
  vav = await SimDevice.start({
    deviceId: 2002,
    readMultiple: false,
    objects: [
      { type: ObjectType.ANALOG_INPUT, instance: 7, name: 'Airflow', value: real(310.7), cov: false },
      { type: ObjectType.BINARY_VALUE, instance: 8, name: 'Occupied', value: enumerated(1), commandable: true, cov: false },
    ],
  });
  const gateway = await tp.api.createDevice('edge-bacnet', { gateway: true });
  const config = loadEdgeConfig('examples/edge/bacnet.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    CONTINUUM_GATEWAY_TOKEN: gateway.accessToken,
    BACNET_PORT: '0',
    BACNET_DEVICE_ADDRESS: ahu.address,
  });
  const connector = config.connectors[0] as BacnetConfig;
  connector.interface = '127.0.0.1';
  connector.apduTimeoutMs = 1000;
  connector.rediscoverMs = 200;
  connector.rediscoverMaxMs = 400;
  const first = connector.devices[0];
  assert.ok(first);
  // A long poll interval: after the first poll, anything new on COV objects came by notification.
  first.pollMs = 600_000;
  // Present_Value of an input is not writable while in service (clause 12.2.4): the device refuses.
  first.commands.push({ method: 'forceTemp', object: 'analog-input', instance: 0, property: 'present-value' });
  connector.devices.push(
    { name: 'vav-2', deviceId: 2002, address: vav.address, pollMs: 200, covLifetimeS: 300, objects: [{ key: 'airflow', type: 'analog-input', instance: 7, property: 'present-value', cov: true }, { key: 'occupied', type: 'binary-value', instance: 8, property: 'present-value', cov: false }], commands: [] },
    { name: 'ghost', deviceId: 77, address: `127.0.0.1:${await freeUdpPort()}`, pollMs: 1000, covLifetimeS: 300, objects: [{ key: 'x', type: 'analog-value', instance: 1, property: 'present-value', cov: false }], commands: [] },
  );
  edge = await startEdge({ config, dataDir: tempDir(), logger: quiet, onReading: (r) => readings.push(r) });
});

after(async () => {
  await edge?.stop();
  ahu?.stop();
  vav?.stop();
  await tp?.stop();
});

test('who-is binds ahu-1; polled and COV objects arrive as its telemetry', async () => {
  const child = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=ahu-1');
    return list.body.items.find((d) => d.name === 'ahu-1');
  }, 10_000, 'child device ahu-1');
  ahuId = child.id;
  const values = await eventually(async () => {
    const l = await latest(ahuId);
    return ['zone_temp', 'setpoint', 'fan', 'mode', 'outdoor_temp'].every((k) => l[k]) ? l : undefined;
  }, 10_000, 'telemetry of ahu-1');
  assert.equal(values.zone_temp?.value, 21.5);
  assert.equal(values.setpoint?.value, 20);
  assert.equal(values.fan?.value, false);
  assert.equal(values.mode?.value, 1);
  assert.equal(values.outdoor_temp?.value, 5.25);
  assert.ok((ahu.requests.whoIs ?? 0) >= 1, 'who-is was sent to the configured address');
  assert.ok((ahu.requests.readPropertyMultiple ?? 0) >= 1, 'polled with ReadPropertyMultiple');
  assert.deepEqual(ahu.subscriptions.map((s) => `${s.objectId.type}:${s.objectId.instance}`).sort(), ['0:0', '2:1'], 'COV on zone_temp and setpoint');
});

test('a COV notification becomes a reading with no poll in between', async () => {
  assert.ok(ahuId);
  const polls = edge.status().connectors[0]?.polls ?? 0;
  const ahuPolls = ahu.requests.readPropertyMultiple ?? 0;
  ahu.set(ObjectType.ANALOG_INPUT, 0, real(23.25));
  const reading = await eventually(async () => readings.find((r) => r.device === 'ahu-1' && r.values.zone_temp === 23.25), 5000, 'COV reading');
  assert.deepEqual(Object.keys(reading.values).sort(), ['zone_temp'], 'only the notified object');
  assert.equal(ahu.requests.readPropertyMultiple ?? 0, ahuPolls, 'ahu-1 was not polled for it');
  assert.ok((edge.status().connectors[0]?.polls ?? 0) >= polls);
  await eventually(async () => ((await latest(ahuId)).zone_temp?.value === 23.25 ? true : undefined), 5000, 'zone_temp 23.25 on the platform');
});

test('platform commands write with priority; NULL relinquishes; refused writes fail with the BACnet reason', async () => {
  assert.ok(ahuId);
  const set = await command(ahuId, 'setSetpoint', { value: 22.5 });
  assert.equal(set.body.status, 'SUCCESSFUL', JSON.stringify(set.body));
  assert.equal(ahu.get(ObjectType.ANALOG_VALUE, 1)?.value.value, 22.5);
  assert.deepEqual(ahu.writes.at(-1), { key: '2:1', value: 22.5, priority: 8 });
  // setpoint is on COV: the write comes back as telemetry without a poll (pollMs is 10 minutes).
  await eventually(async () => ((await latest(ahuId)).setpoint?.value === 22.5 ? true : undefined), 5000, 'setpoint 22.5 on the platform');

  const fan = await command(ahuId, 'fanOn', {});
  assert.equal(fan.body.status, 'SUCCESSFUL', JSON.stringify(fan.body));
  assert.equal(ahu.get(ObjectType.BINARY_OUTPUT, 2)?.value.value, 1);
  const mode = await command(ahuId, 'setMode', 3);
  assert.equal(mode.body.status, 'SUCCESSFUL', JSON.stringify(mode.body));
  assert.equal(ahu.get(ObjectType.MULTI_STATE_VALUE, 3)?.value.value, 3);

  const release = await command(ahuId, 'releaseSetpoint', {});
  assert.equal(release.body.status, 'SUCCESSFUL', JSON.stringify(release.body));
  assert.equal(ahu.get(ObjectType.ANALOG_VALUE, 1)?.value.value, 20, 'back to Relinquish_Default');

  const denied = await command(ahuId, 'forceTemp', { value: 99 });
  assert.equal(denied.body.status, 'FAILED');
  assert.match(denied.body.error ?? '', /property: write-access-denied/);
  const bad = await command(ahuId, 'setSetpoint', { value: 'warm' });
  assert.equal(bad.body.status, 'FAILED');
  assert.match(bad.body.error ?? '', /expected a number/);
  const badState = await command(ahuId, 'setMode', 0);
  assert.equal(badState.body.status, 'FAILED');
  assert.match(badState.body.error ?? '', /state number/);
});

test('a device without ReadPropertyMultiple or COV is polled with ReadProperty', async () => {
  const reading = await eventually(async () => readings.find((r) => r.device === 'vav-2' && r.values.airflow !== undefined && r.values.occupied !== undefined), 10_000, 'vav-2 reading');
  assert.equal(reading.values.airflow, 310.7);
  assert.equal(reading.values.occupied, true);
  assert.ok((vav.requests.readProperty ?? 0) >= 2, 'read with ReadProperty');
  assert.equal(vav.subscriptions.length, 0, 'its COV refusal left no subscription');
  vav.set(ObjectType.ANALOG_INPUT, 7, real(280));
  await eventually(async () => (readings.some((r) => r.device === 'vav-2' && r.values.airflow === 280) ? true : undefined), 10_000, 'new airflow polled');
});

test('a device that never answers who-is stays offline without holding up the others', async () => {
  const status = edge.status().connectors[0];
  assert.equal(status?.connected, false, 'ghost is not bound');
  assert.ok(!readings.some((r) => r.device === 'ghost'));
  assert.ok(readings.some((r) => r.device === 'ahu-1') && readings.some((r) => r.device === 'vav-2'));
  // On the platform: the bound devices online, the ghost offline, reported so by the edge.
  const devices = await tp.api.request<{ items: { name: string; online: boolean; offlineReason: string | null }[] }>('GET', '/api/devices?limit=100');
  const view = (name: string) => devices.body.items.find((d) => d.name === name);
  await eventually(async () => {
    const list = (await tp.api.request<{ items: { name: string; online: boolean; offlineReason: string | null }[] }>('GET', '/api/devices?limit=100')).body.items;
    const ghost = list.find((d) => d.name === 'ghost');
    return ghost && !ghost.online && ghost.offlineReason === 'device_disconnected' ? true : undefined;
  }, 10_000, 'ghost offline on the platform');
  assert.equal(view('ahu-1')?.online, true);
  assert.equal(view('vav-2')?.online, true);
});

test('bad BACnet sections are reported with their paths', () => {
  const text = `
connectors:
  - type: bacnet
    devices:
      - name: a
        deviceId: 5
        address: "not an:address:here"
        objects: [{ key: t, type: analog-input, instance: 0 }, { key: t, type: analog-input, instance: 1 }]
        commands: [{ method: m, object: analog-value, instance: 1, priority: 6 }, { method: n, object: analog-input, instance: 1, property: units, priority: 8 }]
      - { name: b, deviceId: 5, objects: [{ key: x, type: wind-turbine, instance: 0 }] }
`;
  assert.throws(() => parseEdgeConfig(text, {}, { offline: true }), (err: Error) => {
    assert.match(err.message, /connectors\[0\]\.devices\[1\]\.objects\[0\]\.type/);
    return true;
  });
  assert.throws(() => parseEdgeConfig(text.replace('wind-turbine', 'analog-value'), {}, { offline: true }), (err: Error) => {
    for (const part of ['devices[0].address: expected "ip" or "ip:port"', '"t" is defined twice', 'priority: 6 is reserved', 'only the present-value of an output or value object is commandable', 'devices[1].deviceId: 5 is used twice']) assert.ok(err.message.includes(part), `${part} in ${err.message}`);
    return true;
  });
});
