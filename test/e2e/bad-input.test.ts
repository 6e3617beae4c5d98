/**
 * Bad input gets a protocol-correct answer, is counted and logged, and never takes the process
 * down or disturbs other devices.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { startTestPlatform, connectMqtt, eventually, metricsText, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

async function rejectCount(transport: string, reason: string): Promise<number> {
  const text = await metricsText(tp.baseUrl);
  const line = text.split('\n').find((l) => l.startsWith('continuum_rejects_total{') && l.includes(`transport="${transport}"`) && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function connect(token: string, protocolVersion: 4 | 5): Promise<mqtt.MqttClient> {
  return connectMqtt(tp.ports.mqtt, { username: token, protocolVersion });
}

test('MQTT 5: malformed JSON gets PUBACK 0x99 (payload format invalid) and is counted', async () => {
  const device = await tp.api.createDevice('bad-json-v5');
  const client = await connect(device.accessToken, 5);
  const before = await rejectCount('mqtt', 'MALFORMED_PAYLOAD');
  const reasonCode = await new Promise<number | undefined>((resolve) => {
    client.publish('v1/devices/me/telemetry', '{"temperature":', { qos: 1 }, (err, packet) => {
      resolve((err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode);
    });
  });
  assert.equal(reasonCode, 0x99);
  assert.equal(await rejectCount('mqtt', 'MALFORMED_PAYLOAD'), before + 1);
  // The connection survives and good data still flows.
  await client.publishAsync('v1/devices/me/telemetry', '{"temperature":20}', { qos: 1 });
  await client.endAsync();
});

test('MQTT 3.1.1: malformed JSON is acknowledged, dropped and counted; nothing is stored', async () => {
  const device = await tp.api.createDevice('bad-json-v4');
  const client = await connect(device.accessToken, 4);
  const before = await rejectCount('mqtt', 'MALFORMED_PAYLOAD');
  await client.publishAsync('v1/devices/me/telemetry', 'not json', { qos: 1 });
  assert.equal(await rejectCount('mqtt', 'MALFORMED_PAYLOAD'), before + 1);
  await client.endAsync();
  const keys = await tp.api.request<string[]>('GET', `/api/devices/${device.id}/telemetry/keys`);
  assert.deepEqual(keys.body, []);
});

test('HTTP and CoAP reject each kind of invalid telemetry with the reason', async () => {
  const device = await tp.api.createDevice('bad-values');
  const future = Date.now() + 3 * 86_400_000;
  const countedBefore = { http: await rejectCount('http', 'MALFORMED_PAYLOAD'), coap: await rejectCount('coap', 'MALFORMED_PAYLOAD') };
  const cases: [string, number, string][] = [
    ['{"a":', 400, '4.00'],
    ['{"a":1e999}', 400, '4.00'],
    [JSON.stringify({ ['k'.repeat(256)]: 1 }), 400, '4.00'],
    [JSON.stringify({ ts: future, values: { a: 1 } }), 400, '4.00'],
    [JSON.stringify({ big: 'x'.repeat(300 * 1024) }), 413, '4.13'],
  ];
  for (const [body, httpStatus] of cases) {
    const res = await fetch(`${tp.baseUrl}/api/v1/${device.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, httpStatus, body.slice(0, 40));
    const answer = (await res.json()) as { error: string; message: string };
    assert.ok(answer.error && answer.message, 'error body names the code and the reason');
  }
  for (const [body, , coapCode] of cases.slice(0, 4)) {
    const out = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', body,
      `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/telemetry`]);
    assert.match(out.stderr + out.stdout, new RegExp(coapCode.replace('.', '\\.')), body.slice(0, 40));
  }
  const keys = await tp.api.request<string[]>('GET', `/api/devices/${device.id}/telemetry/keys`);
  assert.deepEqual(keys.body, []);
  assert.equal(await rejectCount('http', 'MALFORMED_PAYLOAD'), countedBefore.http + 1, 'each reject is counted once');
  assert.equal(await rejectCount('coap', 'MALFORMED_PAYLOAD'), countedBefore.coap + 1, 'each reject is counted once');
});

test('random bytes on the MQTT and CoAP ports affect only that connection', async () => {
  const device = await tp.api.createDevice('bystander');
  const bystander = await connect(device.accessToken, 4);
  await new Promise<void>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: tp.ports.mqtt }, () => {
      socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff\xfe garbage'));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.send(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x42]), tp.ports.coap, '127.0.0.1', () => resolve()));
  udp.close();
  await bystander.publishAsync('v1/devices/me/telemetry', '{"still":1}', { qos: 1 });
  await bystander.endAsync();
  const out = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', '{"coapStill":1}',
    `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/telemetry`]);
  assert.doesNotMatch(out.stderr + out.stdout, /[45]\.\d\d/);
  const latest = await eventually(async () => {
    const r = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`);
    return r.body.still && r.body.coapStill ? r.body : undefined;
  });
  assert.equal(latest.still?.value, 1);
  assert.equal((await fetch(`${tp.baseUrl}/healthz`)).status, 200);
});
