/**
 * Downlinks through the profile's encodeDownlink, end to end: a command for a device whose
 * profile encodes downlinks reaches a real mosquitto_sub device as the encoder's raw bytes on
 * v1/devices/me/rpc/request/{id}; a device of a profile without an encoder still gets JSON; an
 * encoder that throws, reports errors or blocks in a native call fails the command with the
 * reason (nothing sent) and the platform keeps serving. Also (issue 18 item 4 regression): a
 * decoder stuck in a native call over MQTT is refused (MQTT 5 PUBACK 0x99; 3.1.1 acknowledged and
 * dropped) while ingest of other messages continues.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestPlatform, connectMqtt, eventually, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

const CODEC = `
function decodeUplink(input) {
  var b = input.bytes;
  if (b[0] === 0xee) { var s = 'x'; for (;;) s += 'x'.repeat(1 << 20); }
  return { data: { level: b[1] } };
}
function encodeDownlink(input) {
  var m = input.data.method, p = input.data.params;
  if (m === 'explode') throw new Error('no such valve');
  if (m === 'refuse') return { bytes: [], errors: ['level out of range'] };
  if (m === 'hang') { var s = 'x'; for (;;) s += 'x'.repeat(1 << 20); }
  return { bytes: [m === 'setLevel' ? 1 : 2, p.level & 255, 0xab], fPort: 5 };
}
`;

interface CommandBody {
  id: string;
  status: string;
  error?: string;
  response?: unknown;
}

async function deviceWithCodec(name: string): Promise<{ id: string; accessToken: string }> {
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: `${name}-profile`, decoder: CODEC });
  assert.equal(profile.status, 201, JSON.stringify(profile.body));
  return tp.api.createDevice(name, { profileId: profile.body.id });
}

async function waitOnline(deviceId: string): Promise<void> {
  await eventually(async () => ((await tp.api.request<{ online: boolean }>('GET', `/api/devices/${deviceId}`)).body.online ? true : undefined), 10_000, 'device online');
}

function command(deviceId: string, body: Record<string, unknown>): Promise<{ status: number; body: CommandBody }> {
  return tp.api.request<CommandBody>('POST', `/api/devices/${deviceId}/commands`, body);
}

test('a command to a device whose profile has encodeDownlink reaches mosquitto_sub as the encoded bytes', async () => {
  const device = await deviceWithCodec('valve-raw');
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1',
    '-t', 'v1/devices/me/rpc/request/+', '-C', '1', '-W', '30', '-F', '%t %x']);
  let received = '';
  sub.stdout.on('data', (d: Buffer) => (received += d.toString()));
  const exited = new Promise<number | null>((resolve) => sub.on('close', resolve));
  await waitOnline(device.id);
  // The device is online once connected; its subscription follows in the same flight.
  await new Promise((r) => setTimeout(r, 200));
  const sent = await command(device.id, { method: 'setLevel', params: { level: 7 }, oneway: true });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  assert.equal(await exited, 0);
  const [topic, hex] = received.trim().split(' ');
  assert.match(topic ?? '', /^v1\/devices\/me\/rpc\/request\/\d+$/);
  assert.equal(hex, '0107ab');
  const done = await eventually(async () => {
    const c = (await tp.api.request<CommandBody>('GET', `/api/commands/${sent.body.id}`)).body;
    return c.status === 'DELIVERED' ? c : undefined;
  });
  assert.equal(done.status, 'DELIVERED');
});

test('two-way: the device gets the bytes and its JSON reply settles the command; encoder failures fail the command with the reason', async () => {
  const device = await deviceWithCodec('valve-two-way');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  const seen: Buffer[] = [];
  client.on('message', (topic, payload) => {
    seen.push(payload);
    const id = topic.split('/').pop();
    // Answers with what it understood of the bytes.
    void client.publishAsync(`v1/devices/me/rpc/response/${id}`, JSON.stringify({ op: payload[0], level: payload[1] }), { qos: 1 });
  });
  try {
    await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
    await waitOnline(device.id);
    const ok = await command(device.id, { method: 'setLevel', params: { level: 42 }, timeoutMs: 10_000 });
    assert.equal(ok.body.status, 'SUCCESSFUL', JSON.stringify(ok.body));
    assert.deepEqual(ok.body.response, { op: 1, level: 42 });
    assert.deepEqual([...(seen[0] ?? [])], [1, 42, 0xab]);

    for (const [method, reason] of [
      ['explode', /encodeDownlink: Error: no such valve/],
      ['refuse', /encodeDownlink: level out of range/],
      ['hang', /encodeDownlink: .*(time limit|memory limit)/],
    ] as const) {
      const failed = await command(device.id, { method, params: { level: 1 }, timeoutMs: 10_000 });
      assert.equal(failed.status, 201);
      assert.equal(failed.body.status, 'FAILED', `${method}: ${JSON.stringify(failed.body)}`);
      assert.match(failed.body.error ?? '', reason);
    }
    // Nothing of the failed commands reached the device: the next message it sees is the next good command.
    const again = await command(device.id, { method: 'open', params: { level: 3 }, timeoutMs: 10_000 });
    assert.equal(again.body.status, 'SUCCESSFUL', JSON.stringify(again.body));
    assert.equal(seen.length, 2);
    assert.deepEqual([...(seen[1] ?? [])], [2, 3, 0xab]);
  } finally {
    await client.endAsync();
  }
});

test('a device whose profile has no encoder still gets the JSON request', async () => {
  const device = await tp.api.createDevice('plain-json-rpc');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 4 });
  const got = new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())));
  try {
    await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
    await waitOnline(device.id);
    await command(device.id, { method: 'setLevel', params: { level: 7 }, oneway: true });
    assert.deepEqual(JSON.parse(await got), { method: 'setLevel', params: { level: 7 } });
  } finally {
    await client.endAsync();
  }
});

test('a decoder stuck in a native call over MQTT: mosquitto_pub raw bytes are refused (5: PUBACK 0x99, 3.1.1: dropped) and ingest continues', async () => {
  const device = await deviceWithCodec('raw-native-hang');
  const file = (name: string, bytes: number[]): string => {
    const path = join(tp.dataDir, name);
    writeFileSync(path, Buffer.from(bytes));
    return path;
  };
  const pub = (version: string, path: string): Promise<{ code: number; out: string }> =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-V', version, '-t', 'v1/devices/me/telemetry', '-f', path]).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
    );
  const level = async (): Promise<unknown> => (await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`)).body.level?.value;
  const hang = file('hang.bin', [0xee, 0]);

  const v5 = await pub('mqttv5', hang);
  assert.match(v5.out, /payload format invalid|0x99|153/i, `mosquitto_pub said: ${v5.out}`);
  assert.equal((await pub('mqttv5', file('good-1.bin', [1, 11]))).code, 0);
  assert.equal(await level(), 11);

  // 3.1.1 has no negative PUBACK: acknowledged and dropped, as any bad payload.
  assert.equal((await pub('mqttv311', hang)).code, 0);
  assert.equal((await pub('mqttv311', file('good-2.bin', [1, 12]))).code, 0);
  assert.equal(await eventually(async () => ((await level()) === 12 ? 12 : undefined)), 12);
  const keys = await tp.api.request<string[]>('GET', `/api/devices/${device.id}/telemetry/keys`);
  assert.deepEqual(keys.body, ['level']);
});

test('HTTP long poll: an encoded command arrives as application/octet-stream with its id in x-rpc-request-id; the reply settles it', async () => {
  const device = await deviceWithCodec('valve-http');
  const base = `${tp.baseUrl}/api/v1/${device.accessToken}/rpc`;
  const polled = fetch(`${base}?timeout=20000`);
  // The poll holds a session: the device counts as online while it waits.
  await waitOnline(device.id);
  const sent = command(device.id, { method: 'setLevel', params: { level: 9 }, timeoutMs: 15_000 });
  const res = await polled;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const id = res.headers.get('x-rpc-request-id');
  assert.match(id ?? '', /^\d+$/);
  assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [1, 9, 0xab]);
  const replied = await fetch(`${base}/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  assert.equal(replied.status, 200);
  const done = await sent;
  assert.equal(done.body.status, 'SUCCESSFUL', JSON.stringify(done.body));
  assert.deepEqual(done.body.response, { ok: true });
});
