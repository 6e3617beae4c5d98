/**
 * Profile payload decoders end to end: raw bytes over MQTT, HTTP and CoAP become telemetry; a
 * decoder that loops, allocates without bound or reaches for the host is refused with each
 * protocol's error, counted and never stored, and the next good message is stored.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { startTestPlatform, connectMqtt, eventually, metricsText, apiClient, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

// First byte picks the behaviour: 1 loops forever, 2 allocates without bound, 3 reaches for the
// host (process, require), 4 reports an error; anything else is a temperature (int16, 0.1 °C) and
// a battery percentage.
const DECODER = `
function decodeUplink(input) {
  var b = input.bytes;
  if (b[0] === 1) { for (;;) {} }
  if (b[0] === 2) { var a = []; for (;;) { a.push({ n: a.length, s: 'k' + a.length }); } }
  if (b[0] === 3) { return { data: { pid: process.pid, fs: typeof require('fs') } }; }
  if (b[0] === 4) { return { data: {}, errors: ['unknown frame type 4'] }; }
  var t = (b[1] << 8) | b[2];
  if (t & 0x8000) t = t - 0x10000;
  return { data: { temperature: t / 10, battery: b[3] }, warnings: b[3] < 10 ? ['battery low'] : [] };
}
function encodeDownlink(input) { return { bytes: [input.data.level & 255], fPort: 2 }; }
`;

async function decoderFailures(transport: string): Promise<number> {
  const text = await metricsText(tp.baseUrl);
  const line = text.split('\n').find((l) => l.startsWith('continuum_decoder_failures_total{') && l.includes(`transport="${transport}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function rawDevice(name: string): Promise<{ id: string; accessToken: string; profileId: string }> {
  const profile = await tp.api.request<{ id: string; decoder: string | null }>('POST', '/api/profiles', { name: `${name}-profile`, decoder: DECODER });
  assert.equal(profile.status, 201, JSON.stringify(profile.body));
  assert.equal(profile.body.decoder, DECODER);
  const device = await tp.api.createDevice(name, { profileId: profile.body.id });
  return { ...device, profileId: profile.body.id };
}

function pubackCode(client: mqtt.MqttClient, payload: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    client.publish('v1/devices/me/telemetry', payload, { qos: 1 }, (err, packet) => {
      resolve((err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

async function latest(deviceId: string): Promise<Record<string, { value: unknown }>> {
  return (await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${deviceId}/telemetry/latest`)).body;
}

const good = (tenths: number, battery: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt8(0x10, 0);
  b.writeInt16BE(tenths, 1);
  b.writeUInt8(battery, 3);
  return b;
};
const BAD: [string, Buffer][] = [
  ['loops forever', Buffer.from([1, 0, 0, 0])],
  ['allocates without bound', Buffer.from([2, 0, 0, 0])],
  ['reaches for process/require', Buffer.from([3, 0, 0, 0])],
  ['reports an error', Buffer.from([4, 0, 0, 0])],
];

test('a decoder that does not compile, or defines no decodeUplink, is refused at save with the error', async () => {
  const syntax = await tp.api.request<{ message: string }>('POST', '/api/profiles', { name: 'broken-decoder', decoder: 'function decodeUplink(input) { return {' });
  assert.equal(syntax.status, 400);
  assert.match(syntax.body.message, /SyntaxError/);
  const missing = await tp.api.request<{ message: string }>('POST', '/api/profiles', { name: 'no-entry', decoder: 'function decode(b) { return {}; }' });
  assert.equal(missing.status, 400);
  assert.match(missing.body.message, /decodeUplink/);
  const loading = await tp.api.request<{ message: string }>('POST', '/api/profiles', { name: 'loops-at-load', decoder: 'for (;;) {} function decodeUplink() {}' });
  assert.equal(loading.status, 400);
  assert.match(loading.body.message, /time limit/);
  // Updates are checked the same way, and the stored decoder stays.
  const ok = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'update-checked', decoder: DECODER });
  const bad = await tp.api.request('PUT', `/api/profiles/${ok.body.id}`, { decoder: 'nonsense(' });
  assert.equal(bad.status, 400);
  assert.equal((await tp.api.request<{ decoder: string }>('GET', `/api/profiles/${ok.body.id}`)).body.decoder, DECODER);
  const removed = await tp.api.request<{ decoder: string | null }>('PUT', `/api/profiles/${ok.body.id}`, { decoder: null });
  assert.equal(removed.body.decoder, null);
});

test('MQTT 5: raw bytes are decoded and stored; a failing decoder gets PUBACK 0x99, is counted, never stored; the next good message is stored', async () => {
  const device = await rawDevice('raw-mqtt5');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  try {
    assert.equal(await pubackCode(client, good(215, 80)), 0);
    assert.equal((await latest(device.id)).temperature?.value, 21.5);
    for (const [what, payload] of BAD) {
      const failures = await decoderFailures('mqtt');
      assert.equal(await pubackCode(client, payload), 0x99, what);
      assert.equal(await decoderFailures('mqtt'), failures + 1, `${what}: counted`);
      // The next good message is stored: the sandbox survived the failure.
      const tenths = -40 - BAD.findIndex(([w]) => w === what);
      assert.equal(await pubackCode(client, good(tenths, 50)), 0, `${what}: next good message`);
      assert.equal((await latest(device.id)).temperature?.value, tenths / 10, `${what}: next good message stored`);
    }
    const keys = await tp.api.request<string[]>('GET', `/api/devices/${device.id}/telemetry/keys`);
    assert.deepEqual([...keys.body].sort(), ['battery', 'temperature'], 'nothing from the refused messages (pid, fs) was stored');
    // JSON still goes to the profile's codec.
    assert.equal(await pubackCode(client, Buffer.from('{"humidity":40}')), 0);
    assert.equal((await latest(device.id)).humidity?.value, 40);
  } finally {
    await client.endAsync();
  }
});

test('MQTT 3.1.1: a failing decoder drops the message (the existing bad-payload behaviour); good bytes are stored', async () => {
  const device = await rawDevice('raw-mqtt4');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 4 });
  try {
    const failures = await decoderFailures('mqtt');
    await client.publishAsync('v1/devices/me/telemetry', Buffer.from([1, 0, 0, 0]), { qos: 1 });
    assert.equal(await decoderFailures('mqtt'), failures + 1);
    await client.publishAsync('v1/devices/me/telemetry', good(99, 9), { qos: 1 });
    const stored = await eventually(async () => {
      const l = await latest(device.id);
      return l.temperature ? l : undefined;
    });
    assert.equal(stored.temperature?.value, 9.9);
    assert.equal(stored.battery?.value, 9);
  } finally {
    await client.endAsync();
  }
});

test('HTTP (application/octet-stream) and CoAP (content-format 42): decoded, or 400 / 4.00 when the decoder fails', async () => {
  const device = await rawDevice('raw-http-coap');
  const url = `${tp.baseUrl}/api/v1/${device.accessToken}/telemetry`;
  const post = (body: Buffer): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  assert.equal((await post(good(123, 70))).status, 200);
  assert.equal((await latest(device.id)).temperature?.value, 12.3);
  for (const [what, payload] of BAD) {
    const res = await post(payload);
    assert.equal(res.status, 400, what);
    assert.equal(((await res.json()) as { error: string }).error, 'MALFORMED_PAYLOAD');
  }
  assert.equal((await post(good(124, 70))).status, 200);
  assert.equal((await latest(device.id)).temperature?.value, 12.4);

  const coapUrl = `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/telemetry`;
  const coap = async (payload: Buffer): Promise<string> => {
    const file = join(tp.dataDir, `coap-${payload[0]}.bin`);
    writeFileSync(file, payload);
    const out = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', '42', '-f', file, coapUrl]);
    return out.stdout + out.stderr;
  };
  for (const [what, payload] of BAD.slice(0, 3)) assert.match(await coap(payload), /4\.00/, what);
  assert.doesNotMatch(await coap(good(-55, 60)), /[45]\.\d\d/);
  assert.equal((await latest(device.id)).temperature?.value, -5.5);
  // A device whose profile has no decoder: raw bytes are an unsupported content type.
  const plain = await tp.api.createDevice('no-decoder');
  const refused = await fetch(`${tp.baseUrl}/api/v1/${plain.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(good(1, 1)) });
  assert.equal(refused.status, 415);
});

test('POST /api/profiles/:id/decoder/test runs the decoder on hex or base64 and reports failures; writers only', async () => {
  const device = await rawDevice('decoder-test-route');
  const path = `/api/profiles/${device.profileId}/decoder/test`;
  type Result = { data: Record<string, unknown> | null; warnings: string[]; errors: string[]; durationMs: number };
  const hex = await tp.api.request<Result>('POST', path, { bytes: good(250, 5).toString('hex') });
  assert.equal(hex.status, 200);
  assert.deepEqual(hex.body.data, { temperature: 25, battery: 5 });
  assert.deepEqual(hex.body.warnings, ['battery low']);
  assert.equal(typeof hex.body.durationMs, 'number');
  const b64 = await tp.api.request<Result>('POST', path, { bytes: Buffer.from([0x10, 0xff, 0xf6, 90]).toString('base64'), fPort: 2 });
  assert.deepEqual(b64.body.data, { temperature: -1, battery: 90 });
  const loops = await tp.api.request<Result>('POST', path, { bytes: '01000000' });
  assert.equal(loops.status, 200);
  assert.equal(loops.body.data, null);
  assert.match(loops.body.errors[0] ?? '', /time limit/);
  const host = await tp.api.request<Result>('POST', path, { bytes: '03000000' });
  assert.match(host.body.errors[0] ?? '', /process|require/);
  assert.equal((await tp.api.request('POST', path, { bytes: 'not bytes!' })).status, 400);
  assert.equal((await tp.api.request('POST', '/api/profiles/00000000-0000-0000-0000-000000000000/decoder/test', { bytes: '00' })).status, 404);

  await tp.api.request('POST', '/api/users', { email: 'decoder-viewer@test.local', password: 'viewer-password-1', role: 'viewer' });
  const viewer = await apiClient(tp.baseUrl, { email: 'decoder-viewer@test.local', password: 'viewer-password-1' });
  assert.equal((await viewer.request('POST', path, { bytes: '10000000' })).status, 403);
  assert.equal((await viewer.request('POST', '/api/profiles', { name: 'viewer-decoder', decoder: DECODER })).status, 403);
  const anonymous = await fetch(`${tp.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bytes":"00"}' });
  assert.equal(anonymous.status, 401);
});
