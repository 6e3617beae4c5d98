/**
 * Issue 15, device-to-device (many-to-many): grants let a device subscribe to or publish on
 * another device's topics, with policy variables; applications connect with an API key; and no
 * byte crosses a tenant boundary (custom topics, retained messages, `#`, `$share`). Real clients:
 * mosquitto_sub/mosquitto_pub for the light and its switch, MQTT.js where a SUBACK code is read.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { MemoryDeviceGroups } from '../../src/adapters/device-groups/memory/lookup.js';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform } from '../../src/apps/platform.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { AuthService } from '../../src/services/auth.js';
import { ADMIN, METRICS_TOKEN, apiClient, connectMqtt, eventually, tempDir, type ApiClient } from '../support/platform.js';
import type { Platform } from '../../src/apps/platform.js';
import { silentLogger } from '../api/helpers.js';

const run = promisify(execFile);
const TENANT_B = randomUUID();

interface Dev {
  readonly id: string;
  readonly name: string;
  readonly token: string;
}

let platform: Platform;
let api: ApiClient;
let port: number;
const groups = new MemoryDeviceGroups();
const devices: Record<string, Dev> = {};
const clients: mqtt.MqttClient[] = [];

async function deviceIn(tenantId: string, name: string): Promise<Dev> {
  const created = await platform.registry.createDevice({ tenantId, name });
  return { id: created.device.id, name, token: created.accessToken as string };
}

async function connect(options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const c = await connectMqtt(port, { protocolVersion: 4, ...options });
  clients.push(c);
  return c;
}

/** The SUBACK code for one filter. */
async function subscribeCode(c: mqtt.MqttClient, filter: string): Promise<number> {
  try {
    const granted = await c.subscribeAsync(filter, { qos: 1 });
    return granted[0]?.qos as number;
  } catch (err) {
    // MQTT.js rejects a refused filter, with the SUBACK it got.
    const code = (err as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted?.[0];
    if (code === undefined) throw err;
    return typeof code === 'number' ? code : code.qos;
  }
}

/** Collects messages a client receives, in order. */
function inbox(c: mqtt.MqttClient): { topic: string; text: string; retain: boolean }[] {
  const got: { topic: string; text: string; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString(), retain: packet.retain }));
  return got;
}

function pub(token: string, topic: string, message: string, extra: string[] = []): Promise<unknown> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', token, '-q', '1', '-t', topic, '-m', message, ...extra]);
}

/** mosquitto_sub for one message: resolves once its SUBACK was received (from -d output), with the message promise. */
async function mosquittoSub(token: string, topic: string, version: 'mqttv311' | 'mqttv5' = 'mqttv311'): Promise<{ suback: string; message: Promise<string> }> {
  // Line-buffered, so the debug line of the SUBACK arrives while it waits for the message.
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-u', token, '-q', '1', '-t', topic, '-C', '1', '-W', '10', '-d', '-V', version]);
  let out = '';
  const message = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  const suback = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK: ${out}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Subscribed \(mid: \d+\): (\d+)/.exec(out) ?? /All subscription requests were denied/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? 'denied');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  return { suback, message };
}

before(async () => {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: tempDir(),
      host: '127.0.0.1',
      http: { port: 0 },
      mqtt: { port: 0, tlsPort: 0 },
      coap: { port: 0 },
      store: { kind: 'sqlite', synchronous: 'NORMAL' },
      auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600, passwordHashCost: 1024 },
      log: { level: process.env.TEST_LOG_LEVEL ?? 'silent' },
      metrics: { token: METRICS_TOKEN, public: false },
    },
  });
  platform = await startPlatform(config, { deviceGroups: groups });
  port = platform.ports.mqtt;
  api = await apiClient(`http://127.0.0.1:${platform.ports.http}`);
  await platform.store.ensureTenant({ id: TENANT_B, name: 'tenant B' });
  for (const name of ['light-1', 'switch-1', 'switch-2', 'lamp-9']) devices[name] = await deviceIn(DEFAULT_TENANT_ID, name);
  // Tenant B has devices of the same names.
  for (const name of ['light-1', 'switch-1']) devices[`B:${name}`] = await deviceIn(TENANT_B, name);
  groups.set(DEFAULT_TENANT_ID, 'switches', ['switch-1', 'switch-2']);
  groups.set(DEFAULT_TENANT_ID, 'lights', ['lamp-9']);
});

after(async () => {
  for (const c of clients) c.end(true);
  await platform.stop();
});

const dev = (name: string): Dev => devices[name] as Dev;

async function grant(body: unknown): Promise<string> {
  const res = await api.request<{ id: string }>('POST', '/api/grants', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

describe('issue 15: device-to-device grants', () => {
  it('issue 15: a light subscribes to its switch topic through a grant and receives its message; refused without it; another tenant receives nothing', async () => {
    // Without a grant: refused (0x80 on 3.1.1, 0x87 on MQTT 5), with mosquitto_sub and MQTT.js.
    const denied = await mosquittoSub(dev('light-1').token, 'devices/switch-1/state');
    assert.equal(denied.suback, '128');
    const v5 = await connect({ protocolVersion: 5, username: dev('light-1').token, clientId: 'light-v5' });
    assert.equal(await subscribeCode(v5, 'devices/switch-1/state'), 0x87);
    const v4 = await connect({ username: dev('light-1').token, clientId: 'light-v4' });
    assert.equal(await subscribeCode(v4, 'devices/switch-1/state'), 0x80);
    v5.end(true);
    v4.end(true);

    await grant({ subject: { deviceId: dev('light-1').id }, actions: ['subscribe'], topic: 'devices/switch-1/#' });
    // The same grant in tenant B, for its own light-1.
    await platform.mqttGrants.create(TENANT_B, { subject: { deviceId: dev('B:light-1').id }, actions: ['subscribe'], topic: 'devices/switch-1/#' });

    const light = await mosquittoSub(dev('light-1').token, 'devices/switch-1/state');
    assert.equal(light.suback, '1');
    const lightB = await mosquittoSub(dev('B:light-1').token, 'devices/switch-1/state');
    assert.equal(lightB.suback, '1');
    await pub(dev('switch-1').token, 'devices/switch-1/state', 'on');
    assert.match(await light.message, /^on$/m);
    // Tenant B's light gets its own switch's message, and never tenant A's (published first).
    await pub(dev('B:switch-1').token, 'devices/switch-1/state', 'b-marker');
    const gotB = await lightB.message;
    assert.match(gotB, /^b-marker$/m);
    assert.doesNotMatch(gotB, /^on$/m);
  });

  it('a grant with a device attribute variable is resolved at connect', async () => {
    await api.request('POST', `/api/devices/${dev('light-1').id}/attributes/server`, { site: 'berlin' });
    await grant({ subject: { all: true }, actions: ['subscribe'], topic: 'sites/${device.attr.site}/#' });
    await grant({ subject: { deviceId: dev('switch-1').id }, actions: ['publish'], topic: 'sites/+/alerts' });
    const light = await connect({ username: dev('light-1').token, clientId: 'light-attr' });
    const got = inbox(light);
    assert.equal(await subscribeCode(light, 'sites/berlin/alerts'), 1);
    assert.equal(await subscribeCode(light, 'sites/paris/alerts'), 0x80);
    // switch-2 has no site attribute: the template gives it nothing.
    const sw2 = await connect({ username: dev('switch-2').token, clientId: 'sw2-attr' });
    assert.equal(await subscribeCode(sw2, 'sites/berlin/alerts'), 0x80);
    await pub(dev('switch-1').token, 'sites/berlin/alerts', 'smoke');
    await eventually(async () => (got.some((m) => m.text === 'smoke') ? true : undefined), 5000, 'the alert');
  });

  it('group subjects and ${group:NAME} expand to the group members', async () => {
    await grant({ subject: { group: 'lights' }, actions: ['subscribe'], topic: 'devices/${group:switches}/state' });
    const lamp = await connect({ username: dev('lamp-9').token, clientId: 'lamp-group' });
    assert.equal(await subscribeCode(lamp, 'devices/switch-1/state'), 1);
    assert.equal(await subscribeCode(lamp, 'devices/switch-2/state'), 1);
    assert.equal(await subscribeCode(lamp, 'devices/light-1/state'), 0x80);
    // switch-2 is not in "lights": the grant is not its.
    const sw2 = await connect({ username: dev('switch-2').token, clientId: 'sw2-group' });
    assert.equal(await subscribeCode(sw2, 'devices/switch-1/state'), 0x80);
  });

  it('deleting a grant takes effect on live connections: their subscriptions go, new ones are refused', async () => {
    const id = await grant({ subject: { deviceId: dev('switch-2').id }, actions: ['subscribe'], topic: 'devices/switch-1/cmd' });
    const sw2 = await connect({ username: dev('switch-2').token, clientId: 'sw2-delete' });
    const got = inbox(sw2);
    assert.equal(await subscribeCode(sw2, 'devices/switch-1/cmd'), 1);
    assert.equal(await subscribeCode(sw2, 'devices/switch-2/ping'), 1);
    await pub(dev('switch-1').token, 'devices/switch-1/cmd', 'before');
    await eventually(async () => (got.some((m) => m.text === 'before') ? true : undefined), 5000, 'the message before deletion');

    assert.equal((await api.request('DELETE', `/api/grants/${id}`)).status, 204);
    assert.equal((await api.request('GET', `/api/grants/${id}`)).status, 404);
    await eventually(async () => ((await subscribeCode(sw2, 'devices/switch-1/cmd')) === 0x80 ? true : undefined), 5000, 'the refusal');
    await pub(dev('switch-1').token, 'devices/switch-1/cmd', 'after');
    await pub(dev('switch-2').token, 'devices/switch-2/ping', 'marker');
    await eventually(async () => (got.some((m) => m.text === 'marker') ? true : undefined), 5000, 'the marker');
    assert.deepEqual(got.map((m) => m.text), ['before', 'marker']);
  });

  it('applications connect with an API key in their tenant only; # and $share never reach another tenant, nor retained messages', async () => {
    const keyA = (await api.request<{ key: string }>('POST', '/api/auth/api-keys', { name: 'app' })).body.key;
    // A user and key of tenant B, made with the platform's store.
    const authB = new AuthService({ store: platform.store, clock: { now: () => Date.now() }, logger: silentLogger, passwords: { cost: 1024 } });
    const userB = await authB.createUser({ email: 'b@test.local', password: 'tenant-b-password-1', role: 'admin', tenantId: TENANT_B });
    const keyB = (await authB.createApiKey(userB.id, 'app-b')).key;

    // Tenant A retains a message before anyone of tenant B subscribes.
    await pub(dev('switch-1').token, 'devices/switch-1/status', 'retained-a', ['-r']);

    const appA = await connect({ username: 'apikey', password: keyA, clientId: 'app-a' });
    const gotA = inbox(appA);
    assert.equal(await subscribeCode(appA, 'devices/+/status'), 1);
    assert.equal(await subscribeCode(appA, '#'), 0x80);
    const appB = await connect({ protocolVersion: 5, username: 'apikey', password: keyB, clientId: 'app-b' });
    const gotB = inbox(appB);
    assert.equal(await subscribeCode(appB, 'devices/#'), 1);
    assert.equal(await subscribeCode(appB, '$share/g/devices/#'), 1);
    assert.equal(await subscribeCode(appB, '#'), 0x87);
    // The same client id in tenant B's grant space: a device with a `#` grant.
    await platform.mqttGrants.create(TENANT_B, { subject: { all: true }, actions: ['subscribe'], topic: '#' });
    const lightB = await connect({ username: dev('B:light-1').token, clientId: 'app-a' });
    const gotLightB = inbox(lightB);
    assert.equal(await subscribeCode(lightB, '#'), 1);
    assert.equal(await subscribeCode(lightB, '$share/g2/#'), 1);

    await eventually(async () => (gotA.some((m) => m.text === 'retained-a' && m.retain) ? true : undefined), 5000, 'the retained message in tenant A');
    // The application publishes into a device namespace (admin key: operating).
    await appA.publishAsync('devices/switch-1/status', 'from-app-a', { qos: 1 });
    await pub(dev('switch-1').token, 'devices/switch-1/status', 'live-a');
    await pub(dev('B:switch-1').token, 'devices/switch-1/status', 'marker-b');
    await eventually(async () => (gotB.filter((m) => m.text === 'marker-b').length >= 2 ? true : undefined), 5000, 'tenant B markers');
    await eventually(async () => (gotLightB.filter((m) => m.text === 'marker-b').length >= 2 ? true : undefined), 5000, 'tenant B markers on the device');
    for (const got of [gotB, gotLightB]) assert.deepEqual([...new Set(got.map((m) => m.text))], ['marker-b']);
    assert.ok(gotA.some((m) => m.text === 'live-a') && gotA.some((m) => m.text === 'from-app-a'));

    // A wrong key, and the key of a disabled owner, are refused at connect.
    await assert.rejects(connectMqtt(port, { username: 'apikey', password: 'ck_wrong', clientId: 'bad' }));
    assert.equal((await api.request('PATCH', `/api/users/${userB.id}`, { disabled: true })).status, 404); // another tenant's user: not visible
    await platform.store.updateUser(userB.id, { disabled: true });
    // Changed behind the platform's back here, so its one-second user cache may answer once more.
    await eventually(
      () => connectMqtt(port, { username: 'apikey', password: keyB, clientId: 'app-b2' }).then((c) => void c.end(true), () => true),
      5000,
      'the refusal of a disabled owner\'s key',
    );
  });
});
