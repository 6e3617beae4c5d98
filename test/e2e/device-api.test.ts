/**
 * The core promise end to end: a device created over REST reports over MQTT (mosquitto_pub),
 * CoAP (libcoap's coap-client) and HTTP (curl), and every reading comes back from the REST
 * query; a shared attribute written over REST reaches a mosquitto_sub subscriber.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestPlatform, eventually, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

type Series = Record<string, { ts: number; value: unknown }[]>;

test('readings from mosquitto_pub, coap-client and curl come back from the REST query', async () => {
  const device = await tp.api.createDevice('meter-e2e-1');
  const ts = Date.now() - 60_000;
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1',
    '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ ts, values: { viaMqtt: 1.5 } })]);
  const coapUrl = `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/telemetry`;
  const coap = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', JSON.stringify({ ts: ts + 1, values: { viaCoap: true } }), coapUrl]);
  assert.doesNotMatch(coap.stderr + coap.stdout, /4\.\d\d|5\.\d\d/);
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'content-type: application/json',
    '--data', JSON.stringify({ ts: ts + 2, values: { viaHttp: 'ok' } }), `${tp.baseUrl}/api/v1/${device.accessToken}/telemetry`]);
  assert.equal(curl.stdout, '200');

  const res = await tp.api.request<Series>('GET', `/api/devices/${device.id}/telemetry?keys=viaMqtt,viaCoap,viaHttp&from=${ts - 1}&to=${ts + 10}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.viaMqtt, [{ ts, value: 1.5 }]);
  assert.deepEqual(res.body.viaCoap, [{ ts: ts + 1, value: true }]);
  assert.deepEqual(res.body.viaHttp, [{ ts: ts + 2, value: 'ok' }]);

  const latest = await tp.api.request<Record<string, { ts: number; value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`);
  assert.equal(latest.body.viaMqtt?.value, 1.5);
});

test('regression: a device that reports over HTTP is listed online with transport http', async () => {
  const device = await tp.api.createDevice('http-only-e2e');
  const res = await fetch(`${tp.baseUrl}/api/v1/${device.accessToken}/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"level":3}',
  });
  assert.equal(res.status, 200);
  const listed = await tp.api.request<{ online: boolean; transport?: string }>('GET', `/api/devices/${device.id}`);
  assert.equal(listed.body.transport, 'http');
  assert.equal(listed.body.online, true);
});

test('a shared attribute written over REST reaches a mosquitto_sub subscriber of the device', async () => {
  const device = await tp.api.createDevice('thermostat-e2e-1');
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1',
    '-t', 'v1/devices/me/attributes', '-C', '1', '-W', '20']);
  let received = '';
  sub.stdout.on('data', (d: Buffer) => (received += d.toString()));
  // 'close' (stdout drained), not 'exit': a quick subscriber can exit before its output was read.
  const exited = new Promise<number | null>((resolve) => sub.on('close', resolve));
  // The subscription is in place once the platform lists the device online.
  await eventually(async () => {
    const r = await tp.api.request<{ online: boolean }>('GET', `/api/devices/${device.id}`);
    return r.body.online ? true : undefined;
  }, 10_000, 'mosquitto_sub to connect');
  await new Promise((r) => setTimeout(r, 200));
  const write = await tp.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { targetTemperature: 21.5 });
  assert.equal(write.status, 200);
  assert.equal(await exited, 0);
  assert.deepEqual(JSON.parse(received.trim()), { targetTemperature: 21.5 });
});

test('an unknown token is refused on every transport', async () => {
  const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', 'no-such-token', '-q', '1',
    '-t', 'v1/devices/me/telemetry', '-m', '{"a":1}']).catch((err: { stderr: string; code: number }) => err);
  assert.notEqual((pub as { code?: number }).code ?? 0, 0);
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'content-type: application/json',
    '--data', '{"a":1}', `${tp.baseUrl}/api/v1/no-such-token/telemetry`]);
  assert.equal(curl.stdout, '401');
  const coap = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', '{"a":1}',
    `coap://127.0.0.1:${tp.ports.coap}/api/v1/no-such-token/telemetry`]);
  assert.match(coap.stderr + coap.stdout, /4\.01/);
});
