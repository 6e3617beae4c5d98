/**
 * The rest of the device API end to end over real clients: provisioning on all three
 * transports, the gateway API, server-side RPC, MQTT basic credentials, and the per-device
 * namespace with its isolation between devices.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { startTestPlatform, connectMqtt, eventually, type TestPlatform } from '../support/platform.js';
import { coapClient } from '../adapters/transport/coap/helpers.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

function connect(options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return connectMqtt(tp.ports.mqtt, options);
}

function nextMessage(client: mqtt.MqttClient, topicPrefix: string): Promise<{ topic: string; body: unknown }> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer): void => {
      if (!topic.startsWith(topicPrefix)) return;
      client.off('message', onMessage);
      resolve({ topic, body: JSON.parse(payload.toString()) });
    };
    client.on('message', onMessage);
  });
}

test('self-provisioning with the profile key and secret over MQTT, CoAP and HTTP', async () => {
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'provisioned', provisionKey: 'pk-1', provisionSecret: 'ps-1' });
  assert.equal(profile.status, 201);
  const request = (name: string, secret = 'ps-1') => JSON.stringify({ deviceName: name, provisionDeviceKey: 'pk-1', provisionDeviceSecret: secret });

  const mqttClient = await connect({ username: 'provision' });
  await mqttClient.subscribeAsync('/provision/response');
  const answer = nextMessage(mqttClient, '/provision/response');
  await mqttClient.publishAsync('/provision/request', request('prov-mqtt'), { qos: 1 });
  const viaMqtt = (await answer).body as { status: string; credentialsValue: string };
  await mqttClient.endAsync();
  assert.equal(viaMqtt.status, 'SUCCESS');

  const coap = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', request('prov-coap'), `coap://127.0.0.1:${tp.ports.coap}/api/v1/provision`]);
  assert.equal((JSON.parse(coap.stdout.trim()) as { status: string }).status, 'SUCCESS');

  const http = await fetch(`${tp.baseUrl}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request('prov-http') });
  assert.equal(((await http.json()) as { status: string }).status, 'SUCCESS');

  const wrong = await fetch(`${tp.baseUrl}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request('prov-bad', 'nope') });
  assert.equal(((await wrong.json()) as { status: string }).status, 'NOT_FOUND');

  // The provisioned token works as a device credential.
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', viaMqtt.credentialsValue, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"provisioned":1}']);
  const list = await tp.api.request<{ items: { name: string; profileId: string }[] }>('GET', '/api/devices?search=prov-');
  assert.deepEqual(list.body.items.map((d) => d.name).sort(), ['prov-coap', 'prov-http', 'prov-mqtt']);
  assert.ok(list.body.items.every((d) => d.profileId === profile.body.id));
});

test('mqtt provisioning validates the request like http and coap', async () => {
  // Regression: over MQTT, a provision request HTTP and CoAP refuse as a bad request (here an
  // unknown credentialsType) created a device with an access token.
  await tp.api.request('POST', '/api/profiles', { name: 'provision-checked', provisionKey: 'pk-2', provisionSecret: 'ps-2' });
  const request = (name: string) => JSON.stringify({ deviceName: name, provisionDeviceKey: 'pk-2', provisionDeviceSecret: 'ps-2', credentialsType: 'BOGUS' });

  const http = await fetch(`${tp.baseUrl}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request('checked-http') });
  assert.equal(http.status, 400);
  const coap = await coapClient(['-m', 'post', '-t', 'application/json', '-e', request('checked-coap'), `coap://127.0.0.1:${tp.ports.coap}/api/v1/provision`]);
  assert.equal(coap.code, '4.00');

  const mqttClient = await connect({ username: 'provision', protocolVersion: 5 });
  await mqttClient.subscribeAsync('/provision/response');
  const answer = nextMessage(mqttClient, '/provision/response');
  const code = await new Promise<number>((resolve) => {
    mqttClient.publish('/provision/request', request('checked-mqtt'), { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code ?? 0));
  });
  assert.equal(code, 0x80, 'PUBACK "bad request", the reason code of HTTP\'s 400');
  assert.equal(((await answer).body as { status: string }).status, 'FAILURE');
  await mqttClient.endAsync();

  const list = await tp.api.request<{ items: { name: string }[] }>('GET', '/api/devices?search=checked-');
  assert.deepEqual(list.body.items, [], 'no transport created a device');
});

test('gateway API: children are created on first sight, linked, and receive RPC through the gateway', async () => {
  const gateway = await tp.api.createDevice('gw-e2e', { gateway: true });
  const ts = Date.now() - 1000;
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', gateway.accessToken, '-q', '1', '-t', 'v1/gateway/telemetry',
    '-m', JSON.stringify({ 'plc-e2e-1': [{ ts, values: { r0: 1000 } }], 'plc-e2e-2': { r0: 7 } })]);
  const children = await tp.api.request<{ items: { id: string; name: string; gatewayId: string }[]; total: number }>('GET', '/api/devices?search=plc-e2e');
  assert.equal(children.body.total, 2);
  const child = children.body.items.find((d) => d.name === 'plc-e2e-1');
  assert.ok(child);
  assert.equal(child.gatewayId, (await tp.api.request<{ id: string }>('GET', `/api/devices/${gateway.id}`)).body.id);
  const series = await tp.api.request<Record<string, { ts: number; value: number }[]>>('GET', `/api/devices/${child.id}/telemetry?keys=r0&from=${ts - 1}&to=${ts + 1}`);
  assert.deepEqual(series.body.r0, [{ ts, value: 1000 }]);

  const gw = await connect({ username: gateway.accessToken });
  await gw.subscribeAsync('v1/gateway/rpc');
  await gw.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'plc-e2e-1' }), { qos: 1 });
  gw.on('message', (topic, payload) => {
    const msg = JSON.parse(payload.toString()) as { device: string; data: { id: number; method: string } };
    if (topic === 'v1/gateway/rpc') void gw.publishAsync('v1/gateway/rpc', JSON.stringify({ device: msg.device, id: msg.data.id, data: { wrote: msg.data.method } }), { qos: 1 });
  });
  const rpc = await tp.api.request<{ response: unknown }>('POST', `/api/devices/${child.id}/rpc`, { method: 'writeCoil', params: { coil: 3 }, timeoutMs: 5000 });
  await gw.endAsync();
  assert.equal(rpc.status, 200);
  assert.deepEqual(rpc.body.response, { wrote: 'writeCoil' });
});

test('server-side RPC reaches a device subscribed over MQTT and returns its answer; offline devices get 409', async () => {
  const device = await tp.api.createDevice('rpc-e2e');
  const offline = await tp.api.request('POST', `/api/devices/${device.id}/rpc`, { method: 'ping', params: {}, timeoutMs: 1000 });
  assert.equal(offline.status, 409);
  const client = await connect({ username: device.accessToken, protocolVersion: 5 });
  await client.subscribeAsync('v1/devices/me/rpc/request/+');
  client.on('message', (topic, payload) => {
    const id = topic.split('/').pop();
    const { params } = JSON.parse(payload.toString()) as { params: { x: number } };
    void client.publishAsync(`v1/devices/me/rpc/response/${id}`, JSON.stringify({ doubled: params.x * 2 }), { qos: 1 });
  });
  const res = await tp.api.request<{ response: unknown }>('POST', `/api/devices/${device.id}/rpc`, { method: 'double', params: { x: 21 }, timeoutMs: 5000 });
  await client.endAsync();
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.response, { doubled: 42 });
});

test('MQTT basic credentials: client id + user name + password; a wrong password is refused', async () => {
  const created = await tp.api.request<{ id: string }>('POST', '/api/devices', { name: 'basic-e2e', credentials: { type: 'MQTT_BASIC', clientId: 'basic-cid', username: 'basic-user', password: 'basic-pass' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-i', 'basic-cid', '-u', 'basic-user', '-P', 'basic-pass', '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"basic":1}']);
  const latest = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${created.body.id}/telemetry/latest`);
  assert.equal(latest.body.basic?.value, 1);
  const wrong = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-i', 'basic-cid', '-u', 'basic-user', '-P', 'wrong', '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"basic":2}'])
    .then(() => 0, (err: { code: number }) => err.code);
  assert.notEqual(wrong, 0);
});

test('a device publishes in its own namespace; another device can neither read nor write it', async () => {
  const a = await tp.api.createDevice('ns-a');
  const b = await tp.api.createDevice('ns-b');
  const clientA = await connect({ username: a.accessToken, protocolVersion: 5 });
  const clientB = await connect({ username: b.accessToken, protocolVersion: 5 });
  const granted = await clientA.subscribeAsync('devices/ns-a/#', { qos: 1 });
  assert.ok(granted[0] && granted[0].qos <= 1, 'own namespace can be subscribed');
  // MQTT.js rejects a SUBACK whose reason code is a failure; the code is on the packet.
  const refused = await clientB.subscribeAsync('devices/ns-a/#', { qos: 1 }).then(
    (granted) => granted[0]?.qos,
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0],
  );
  assert.equal(refused, 0x87, 'foreign namespace refused with 0x87 (not authorized)');
  const got = nextMessage(clientA, 'devices/ns-a/');
  await clientA.publishAsync('devices/ns-a/status', JSON.stringify({ ok: true }), { qos: 1 });
  assert.deepEqual((await got).body, { ok: true });
  const write = await new Promise<number | undefined>((resolve) => {
    clientB.publish('devices/ns-a/status', '{"spoofed":true}', { qos: 1 }, (err, packet) => resolve((err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode));
  });
  assert.equal(write, 0x87);
  await clientA.endAsync();
  await clientB.endAsync();
});

test('HTTP long poll delivers a shared attribute update written over REST', async () => {
  const device = await tp.api.createDevice('longpoll-e2e');
  const poll = fetch(`${tp.baseUrl}/api/v1/${device.accessToken}/attributes/updates?timeout=10000`);
  await eventually(async () => ((await tp.api.request<{ online: boolean }>('GET', `/api/devices/${device.id}`)).body.online ? true : undefined));
  await new Promise((r) => setTimeout(r, 100));
  await tp.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { fanSpeed: 3 });
  const res = await poll;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { fanSpeed: 3 });
});
