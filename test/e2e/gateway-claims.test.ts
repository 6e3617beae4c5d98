/**
 * What a gateway may speak for: its own children and new ones it creates, within its quota.
 * Real clients (mosquitto_pub for MQTT 3.1.1, MQTT.js for MQTT 5 and Sparkplug B) against the
 * whole platform; the victim is checked through the REST API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { DataType, encodePayload } from '../../src/protocols/sparkplug/payload.js';
import { connectMqtt, eventually, metricsText, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

interface DeviceBody {
  id: string;
  name: string;
  gatewayId: string | null;
}

/** Publishes QoS 1 with MQTT 5 and resolves with the PUBACK reason code. */
function publish5(client: mqtt.MqttClient, topic: string, body: string | Buffer): Promise<number> {
  return client.publishAsync(topic, body, { qos: 1 }).then(
    (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
    (err: { code?: number }) => err.code ?? -1,
  );
}

async function deviceByName(name: string): Promise<DeviceBody | undefined> {
  const res = await tp.api.request<{ items: DeviceBody[] }>('GET', `/api/devices?search=${encodeURIComponent(name)}`);
  return res.body.items.find((d) => d.name === name);
}

/** The victim as the REST API shows it: its gateway, telemetry keys and attributes. */
async function victimState(id: string): Promise<{ gatewayId: string | null; keys: string[]; client: object; shared: object }> {
  const device = await tp.api.request<DeviceBody>('GET', `/api/devices/${id}`);
  const keys = await tp.api.request<string[]>('GET', `/api/devices/${id}/telemetry/keys`);
  const attrs = await tp.api.request<{ client: object; shared: object }>('GET', `/api/devices/${id}/attributes`);
  return { gatewayId: device.body.gatewayId, keys: keys.body, client: attrs.body.client, shared: attrs.body.shared };
}

async function rejects(reason: string): Promise<number> {
  const text = await metricsText(tp.baseUrl);
  const line = text.split('\n').find((l) => l.startsWith('continuum_rejects_total') && l.includes('transport="mqtt"') && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

test("regression: a gateway can claim any standalone device (MQTT 3.1.1: dropped, counted, device unchanged)", async () => {
  const gateway = await tp.api.createDevice('gw-claim-311', { gateway: true });
  const victim = await tp.api.createDevice('standalone-311');
  await tp.api.request('POST', `/api/devices/${victim.id}/attributes/shared`, { setpoint: 21 });
  const before = await rejects('FORBIDDEN');
  const pub = (topic: string, body: unknown): Promise<unknown> =>
    run('mosquitto_pub', ['-V', 'mqttv311', '-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', gateway.accessToken, '-q', '1', '-t', topic, '-m', JSON.stringify(body)]);

  await pub('v1/gateway/telemetry', { 'standalone-311': [{ ts: Date.now(), values: { stolen: 1 } }] });
  await pub('v1/gateway/attributes', { 'standalone-311': { owner: 'gateway' } });
  await pub('v1/gateway/connect', { device: 'standalone-311', type: 'thermostat' });
  await pub('v1/gateway/attributes/request', { id: 1, device: 'standalone-311', client: false, key: 'setpoint' });
  await pub('v1/gateway/rpc', { device: 'standalone-311', id: 1, data: { ok: true } });
  // Five PUBLISHes acknowledged (3.1.1 cannot say no) and each one refused and counted.
  await eventually(async () => ((await rejects('FORBIDDEN')) - before >= 5 ? true : undefined), 5_000, 'five counted rejects');

  const state = await victimState(victim.id);
  assert.equal(state.gatewayId, null);
  assert.deepEqual(state.keys, []);
  assert.deepEqual(state.client, {});
  assert.deepEqual(state.shared && Object.keys(state.shared), ['setpoint']);
  // The gateway still creates and uses children of its own.
  await pub('v1/gateway/telemetry', { 'own-child-311': { t: 1 } });
  assert.equal((await deviceByName('own-child-311'))?.gatewayId, gateway.id);
});

test('regression: a gateway can claim any standalone device (MQTT 5: PUBACK 0x87 on every gateway topic)', async () => {
  const gateway = await tp.api.createDevice('gw-claim-5', { gateway: true });
  const victim = await tp.api.createDevice('standalone-5');
  const other = await tp.api.createDevice('gw-other-5', { gateway: true });
  const client = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
  try {
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'standalone-5': { stolen: 1 } })), 0x87);
    assert.equal(await publish5(client, 'v1/gateway/attributes', JSON.stringify({ 'standalone-5': { owner: 'gateway' } })), 0x87);
    assert.equal(await publish5(client, 'v1/gateway/connect', JSON.stringify({ device: 'standalone-5' })), 0x87);
    assert.equal(await publish5(client, 'v1/gateway/attributes/request', JSON.stringify({ id: 1, device: 'standalone-5', key: 'x' })), 0x87);
    assert.equal(await publish5(client, 'v1/gateway/rpc', JSON.stringify({ device: 'standalone-5', id: 1, data: {} })), 0x87);
    // Another gateway, and the gateway itself, are not children either.
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'gw-other-5': { t: 1 } })), 0x87);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'gw-claim-5': { t: 1 } })), 0x87);

    // A batch naming one refused device is refused whole: its new child is not even created.
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'new-child-5': { t: 1 }, 'standalone-5': { t: 2 } })), 0x87);
    assert.equal(await deviceByName('new-child-5'), undefined);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'new-child-5': { t: 1 } })), 0);
    assert.equal((await deviceByName('new-child-5'))?.gatewayId, gateway.id);
  } finally {
    await client.endAsync();
  }
  const state = await victimState(victim.id);
  assert.equal(state.gatewayId, null);
  assert.deepEqual(state.keys, []);
  assert.deepEqual(state.client, {});
  assert.equal((await tp.api.request<DeviceBody>('GET', `/api/devices/${other.id}`)).body.gatewayId, null);
});

test('an admin attaches an existing device to a gateway explicitly (PATCH gatewayId); operators may not', async () => {
  const gateway = await tp.api.createDevice('gw-attach', { gateway: true });
  const device = await tp.api.createDevice('attach-me');
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'op-gw@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  const { apiClient } = await import('../support/platform.js');
  const operator = await apiClient(tp.baseUrl, { email: 'op-gw@test.local', password: 'operator-password-1' });
  assert.equal((await operator.request('PATCH', `/api/devices/${device.id}`, { gatewayId: gateway.id })).status, 403);
  assert.equal((await tp.api.request('PATCH', `/api/devices/${device.id}`, { gatewayId: device.id })).status, 400);

  const client = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
  try {
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'attach-me': { t: 1 } })), 0x87);
    const patched = await tp.api.request<DeviceBody>('PATCH', `/api/devices/${device.id}`, { gatewayId: gateway.id });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.gatewayId, gateway.id);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'attach-me': { t: 2 } })), 0);
    assert.deepEqual((await tp.api.request<string[]>('GET', `/api/devices/${device.id}/telemetry/keys`)).body, ['t']);
    // Detached again: the gateway loses it at once (its cached child is dropped).
    assert.equal((await tp.api.request<DeviceBody>('PATCH', `/api/devices/${device.id}`, { gatewayId: null })).body.gatewayId, null);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ 'attach-me': { t: 3 } })), 0x87);
  } finally {
    await client.endAsync();
  }
});

test('regression: a gateway can claim any standalone device (Sparkplug B DBIRTH named like it)', async () => {
  const gateway = await tp.api.createDevice('gw-claim-spb', { gateway: true });
  const victim = await tp.api.createDevice('standalone-spb');
  const client = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5, clientId: 'claim-spb' });
  try {
    let seq = 0;
    const send = (type: string, device?: string): Promise<number> =>
      publish5(client, `spBv1.0/plant/${type}/node-1${device ? `/${device}` : ''}`, encodePayload({ timestamp: Date.now(), seq: seq++, metrics: [{ name: type === 'NBIRTH' ? 'bdSeq' : 'temp', datatype: type === 'NBIRTH' ? DataType.UInt64 : DataType.Double, value: 1 }] }));
    assert.equal(await send('NBIRTH'), 0);
    assert.equal(await send('DBIRTH', 'standalone-spb'), 0x87);
    assert.equal(await send('DDATA', 'standalone-spb'), 0x87);
    assert.equal(await send('DBIRTH', 'spb-own-child'), 0);
    assert.equal((await deviceByName('spb-own-child'))?.gatewayId, gateway.id);
  } finally {
    await client.endAsync();
  }
  const state = await victimState(victim.id);
  assert.equal(state.gatewayId, null);
  assert.deepEqual(state.keys, []);
});

test('a gateway creates at most gateway.maxChildren children and gateway.maxProfiles device types (0x97), counted again after a restart', async () => {
  const dataDir = tempDir();
  const limited = { gateway: { maxChildren: 3, maxProfiles: 1 } };
  let capped = await startTestPlatform({ dataDir, config: limited });
  try {
    const gateway = await capped.api.createDevice('gw-capped', { gateway: true });
    const client = await connectMqtt(capped.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
    assert.equal(await publish5(client, 'v1/gateway/connect', JSON.stringify({ device: 'c1', type: 'meter' })), 0);
    assert.equal(await publish5(client, 'v1/gateway/connect', JSON.stringify({ device: 'c2', type: 'valve' })), 0x97);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ c2: { t: 1 }, c3: { t: 1 } })), 0);
    // Over the cap the whole message is refused; known children still report.
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ c1: { t: 1 }, c4: { t: 1 } })), 0x97);
    assert.equal(await publish5(client, 'v1/gateway/telemetry', JSON.stringify({ c1: { t: 2 } })), 0);
    await client.endAsync();
    const names = (await capped.api.request<{ items: DeviceBody[] }>('GET', `/api/devices?gatewayId=${gateway.id}`)).body.items.map((d) => d.name).sort();
    assert.deepEqual(names, ['c1', 'c2', 'c3']);

    await capped.stop();
    capped = await startTestPlatform({ dataDir, config: limited });
    const again = await connectMqtt(capped.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
    assert.equal(await publish5(again, 'v1/gateway/connect', JSON.stringify({ device: 'c5' })), 0x97);
    assert.equal(await publish5(again, 'v1/gateway/connect', JSON.stringify({ device: 'c3' })), 0);
    await again.endAsync();
  } finally {
    await capped.stop();
  }
});
