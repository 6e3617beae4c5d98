/**
 * Commands, alarms, the device twin and live updates end to end over real clients: MQTT.js as a
 * device subscribed to v1/devices/me/rpc/request/+, curl as an HTTP long-polling device,
 * coap-client observing /rpc, mosquitto_pub, the `ws` WebSocket client, and a server process
 * restarted on its data directory with a command waiting in the outbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import WebSocket from 'ws';
import { apiClient, connectMqtt, eventually, spawnServer, startTestPlatform, tempDir, waitForExit, type ApiClient, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

interface CommandBody {
  id: string;
  status: string;
  response?: unknown;
  error?: string;
}

/** A device over MQTT.js that answers every RPC request with `answer(method, params)`. */
async function answeringDevice(port: number, token: string, answer: (method: string, params: unknown) => unknown): Promise<{ client: mqtt.MqttClient; seen: string[] }> {
  const client = await connectMqtt(port, { username: token, protocolVersion: 5 });
  const seen: string[] = [];
  client.on('message', (topic, payload) => {
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const id = topic.split('/').pop();
    const { method, params } = JSON.parse(payload.toString()) as { method: string; params: unknown };
    seen.push(method);
    void client.publishAsync(`v1/devices/me/rpc/response/${id}`, JSON.stringify(answer(method, params)), { qos: 1 });
  });
  await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  return { client, seen };
}

function commandStatus(api: ApiClient, id: string, want: string): Promise<CommandBody> {
  return eventually(async () => {
    const res = await api.request<CommandBody>('GET', `/api/commands/${id}`);
    return res.body.status === want ? res.body : undefined;
  }, 10_000, `command ${id} ${want}`);
}

test('a persistent command queued for an offline MQTT device is delivered when it connects, and answered', async () => {
  const device = await tp.api.createDevice('cmd-sleeper');
  const queued = await tp.api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'setInterval', params: { seconds: 300 }, persistent: true, timeoutMs: 5000 });
  assert.equal(queued.status, 201);
  assert.equal(queued.body.status, 'QUEUED');
  const { client, seen } = await answeringDevice(tp.ports.mqtt, device.accessToken, (method, params) => ({ applied: method, params }));
  try {
    const done = await commandStatus(tp.api, queued.body.id, 'SUCCESSFUL');
    assert.deepEqual(done.response, { applied: 'setInterval', params: { seconds: 300 } });
    assert.deepEqual(seen, ['setInterval']);
    const list = await tp.api.request<{ items: CommandBody[] }>('GET', `/api/commands?deviceId=${device.id}&status=SUCCESSFUL&limit=10`);
    assert.deepEqual(list.body.items.map((c) => c.id), [queued.body.id]);
  } finally {
    await client.endAsync();
  }
});

test('non-persistent two-way to an online device answers with the reply', async () => {
  const device = await tp.api.createDevice('cmd-online');
  const { client } = await answeringDevice(tp.ports.mqtt, device.accessToken, (_m, params) => ({ doubled: (params as { x: number }).x * 2 }));
  try {
    const res = await tp.api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'double', params: { x: 21 }, timeoutMs: 5000 });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'SUCCESSFUL');
    assert.deepEqual(res.body.response, { doubled: 42 });
  } finally {
    await client.endAsync();
  }
});

test('an expired command ends EXPIRED and is never sent', async () => {
  const device = await tp.api.createDevice('cmd-expiring');
  const queued = await tp.api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'tooLate', persistent: true, expiresInMs: 300 });
  assert.equal(queued.body.status, 'QUEUED');
  await commandStatus(tp.api, queued.body.id, 'EXPIRED');
  const { client, seen } = await answeringDevice(tp.ports.mqtt, device.accessToken, () => ({}));
  await new Promise((r) => setTimeout(r, 500));
  await client.endAsync();
  assert.deepEqual(seen, []);
});

test('an HTTP long-polling device (curl) gets its queued command and answers it', async () => {
  const device = await tp.api.createDevice('cmd-http');
  const queued = await tp.api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'reboot', params: { delay: 5 }, persistent: true });
  assert.equal(queued.body.status, 'QUEUED');
  const poll = await run('curl', ['-s', '--max-time', '15', `${tp.baseUrl}/api/v1/${device.accessToken}/rpc?timeout=10000`]);
  const request = JSON.parse(poll.stdout) as { id: number; method: string; params: unknown };
  assert.equal(request.method, 'reboot');
  assert.deepEqual(request.params, { delay: 5 });
  await commandStatus(tp.api, queued.body.id, 'DELIVERED');
  const answer = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'content-type: application/json',
    '--data', '{"rebooting":true}', `${tp.baseUrl}/api/v1/${device.accessToken}/rpc/${request.id}`]);
  assert.equal(answer.stdout, '200');
  const done = await commandStatus(tp.api, queued.body.id, 'SUCCESSFUL');
  assert.deepEqual(done.response, { rebooting: true });
});

test('a CoAP device observing /rpc (coap-client) gets its queued command and answers it', async () => {
  const device = await tp.api.createDevice('cmd-coap');
  const queued = await tp.api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'setLed', params: { on: true }, persistent: true });
  const observer = spawn('coap-client-notls', ['-B', '8', '-s', '8', '-m', 'get', `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/rpc`]);
  try {
    let out = '';
    observer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const request = await eventually(async () => {
      const match = /\{"id":\d+[^\n]*\}/.exec(out);
      return match ? (JSON.parse(match[0]) as { id: number; method: string }) : undefined;
    }, 10_000, 'coap notification');
    assert.equal(request.method, 'setLed');
    await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', '{"led":"on"}',
      `coap://127.0.0.1:${tp.ports.coap}/api/v1/${device.accessToken}/rpc/${request.id}`]);
    const done = await commandStatus(tp.api, queued.body.id, 'SUCCESSFUL');
    assert.deepEqual(done.response, { led: 'on' });
  } finally {
    observer.kill('SIGTERM');
  }
});

test('alarms are listed, acknowledged and cleared over REST', async () => {
  const device = await tp.api.createDevice('alarm-meter');
  const alarm = await tp.platform.alarms.raise({ tenantId: (await tp.platform.registry.requireDevice(device.id)).tenantId, deviceId: device.id, type: 'LowBattery', severity: 'major', details: { battery: 8 } });
  type AlarmBody = { id: string; type: string; severity: string; status: string; deviceId: string };
  const active = await tp.api.request<{ items: AlarmBody[]; total: number }>('GET', `/api/alarms?deviceId=${device.id}&status=active`);
  assert.equal(active.body.total, 1);
  assert.deepEqual(active.body.items.map((a) => [a.id, a.type, a.severity, a.status, a.deviceId]), [[alarm.id, 'LowBattery', 'major', 'active', device.id]]);
  const acked = await tp.api.request<AlarmBody>('POST', `/api/alarms/${alarm.id}/ack`);
  assert.equal(acked.status, 200);
  assert.equal(acked.body.status, 'acknowledged');
  const cleared = await tp.api.request<AlarmBody>('POST', `/api/alarms/${alarm.id}/clear`);
  assert.equal(cleared.body.status, 'cleared');
  assert.equal((await tp.api.request<{ total: number }>('GET', `/api/alarms?deviceId=${device.id}&status=active`)).body.total, 0);
  assert.equal((await tp.api.request<AlarmBody>('GET', `/api/alarms/${alarm.id}`)).body.status, 'cleared');
});

test('device twin: delta over REST, and a reconnecting MQTT device gets the desired state it missed', async () => {
  const device = await tp.api.createDevice('twin-thermostat');
  await tp.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { target: 21, mode: 'eco' });
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-t', 'v1/devices/me/attributes', '-m', '{"target":19,"mode":"eco","rssi":-70}']);
  const twin = await tp.api.request<{ desired: Record<string, { value: unknown }>; reported: Record<string, { value: unknown }>; delta: unknown }>('GET', `/api/devices/${device.id}/twin`);
  assert.equal(twin.status, 200);
  assert.equal(twin.body.desired.target?.value, 21);
  assert.equal(twin.body.reported.rssi?.value, -70);
  assert.deepEqual(twin.body.delta, { target: { desired: 21, reported: 19 } });

  // Connected once, then away while the target changes.
  const first = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  await first.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
  await first.endAsync();
  await eventually(async () => ((await tp.api.request<{ online: boolean }>('GET', `/api/devices/${device.id}`)).body.online ? undefined : true), 5000, 'offline');
  await tp.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { target: 23 });
  const again = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  try {
    const update = new Promise<unknown>((resolve) => again.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()))));
    await again.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
    assert.deepEqual(await update, { target: 23 });
  } finally {
    await again.endAsync();
  }
});

test('a WebSocket client sees telemetry sent with mosquitto_pub and command state changes', async () => {
  const device = await tp.api.createDevice('ws-meter');
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@test.local', password: 'test-password-1' }) });
  const { token } = (await login.json()) as { token: string };
  const ws = new WebSocket(`ws://127.0.0.1:${tp.ports.http}/api/ws`, ['continuum.v1', `bearer.${token}`]);
  const messages: { id?: number; type?: string; data?: Record<string, unknown>; result?: unknown }[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  try {
    ws.send(JSON.stringify({ id: 1, subscribe: { type: 'telemetry', deviceId: device.id } }));
    ws.send(JSON.stringify({ id: 2, subscribe: { type: 'commands', deviceId: device.id } }));
    await eventually(async () => (messages.filter((m) => m.result).length >= 3 ? true : undefined), 5000, 'subscriptions');
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"power":42.5}']);
    const telemetry = await eventually(async () => messages.find((m) => m.type === 'telemetry'), 5000, 'telemetry push');
    assert.deepEqual((telemetry.data?.power as { value: number }[])[0]?.value, 42.5);
    await tp.api.request('POST', `/api/devices/${device.id}/commands`, { method: 'later', persistent: true });
    const state = await eventually(async () => messages.find((m) => m.type === 'commands'), 5000, 'command push');
    assert.equal(state.data?.status, 'QUEUED');
    assert.equal(state.data?.method, 'later');
  } finally {
    ws.close();
  }
});

test('a queued command survives a restart of the server and is delivered afterwards', async () => {
  const dataDir = tempDir('continuum-outbox-');
  const first = await spawnServer(dataDir);
  let second: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    const api = await apiClient(`http://127.0.0.1:${first.ports.http}`);
    const device = await api.createDevice('restart-sleeper');
    const queued = await api.request<CommandBody>('POST', `/api/devices/${device.id}/commands`, { method: 'afterRestart', params: { n: 1 }, persistent: true });
    assert.equal(queued.body.status, 'QUEUED');
    first.child.kill('SIGTERM');
    assert.equal(await waitForExit(first.child), 0);

    // The first run's ports.json would be mistaken for the second's.
    rmSync(join(dataDir, 'ports.json'), { force: true });
    second = await spawnServer(dataDir);
    const api2 = await apiClient(`http://127.0.0.1:${second.ports.http}`);
    assert.equal((await api2.request<CommandBody>('GET', `/api/commands/${queued.body.id}`)).body.status, 'QUEUED');
    const { client, seen } = await answeringDevice(second.ports.mqtt, device.accessToken, () => ({ ok: true }));
    try {
      const done = await commandStatus(api2, queued.body.id, 'SUCCESSFUL');
      assert.deepEqual(done.response, { ok: true });
      assert.deepEqual(seen, ['afterRestart']);
    } finally {
      await client.endAsync();
    }
  } finally {
    for (const server of [first, second]) {
      if (server && server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGTERM');
        await waitForExit(server.child);
      }
    }
  }
});
