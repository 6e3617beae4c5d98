/**
 * LoRaWAN integrations (chirpstack, tts) against the machine's Mosquitto (127.0.0.1:1883), which
 * stands in for the network server's broker: the test publishes the server's events (fixtures
 * in test/fixtures/lorawan/, written from the documented shapes) and listens where the server
 * would take downlinks. A unique application id per test keeps runs apart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { apiClient, eventually, type ApiClient, type TestPlatform, startTestPlatform } from '../../support/platform.js';

const BROKER = 'mqtt://127.0.0.1:1883';
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'lorawan');

/** Temperature in tenths (2 bytes), humidity (1 byte); the downlink carries params.level on port 5. */
const DECODER = `
function decodeUplink(input) {
  if (input.bytes.length < 3) return { errors: ['short frame'] };
  return { data: { temperature: ((input.bytes[0] << 8) | input.bytes[1]) / 10, humidity: input.bytes[2], port: input.fPort } };
}
function encodeDownlink(input) { return { bytes: [input.data.params.level], fPort: 5 }; }
`;

function fixture(name: string, replace: Record<string, string>): Record<string, unknown> {
  let text = readFileSync(join(FIXTURES, name), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  return JSON.parse(text) as Record<string, unknown>;
}

function devEui(): string {
  return randomBytes(8).toString('hex');
}

async function brokerClient(): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(BROKER, { reconnectPeriod: 0, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

interface Status {
  state: string;
  received: number;
  rejected: number;
  lastError?: string;
}

async function status(api: ApiClient, id: string): Promise<Status> {
  return (await api.request<{ status: Status }>('GET', `/api/integrations/${id}`)).body.status;
}

async function createIntegration(api: ApiClient, body: Record<string, unknown>): Promise<string> {
  const res = await api.request<{ id: string }>('POST', '/api/integrations', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.id;
  if ((body.config as { url?: string }).url !== undefined) await eventually(async () => ((await status(api, id)).state === 'connected' ? true : undefined), 10_000, 'connected');
  return id;
}

async function series(api: ApiClient, deviceId: string, keys: string): Promise<Record<string, { ts: number; value: unknown }[]>> {
  return (await api.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${deviceId}/telemetry?keys=${keys}&from=0&to=${Date.now() + 86_400_000}`)).body;
}

async function latest(api: ApiClient, deviceId: string, keys: string[]): Promise<Record<string, unknown>> {
  const s = await series(api, deviceId, keys.join(','));
  const out: Record<string, unknown> = {};
  for (const k of keys) if (s[k]?.length) out[k] = s[k][0]?.value;
  return out;
}

async function clientAttributes(api: ApiClient, deviceId: string): Promise<Record<string, unknown>> {
  const res = await api.request<{ client?: Record<string, { value: unknown }> }>('GET', `/api/devices/${deviceId}/attributes?scope=client`);
  return Object.fromEntries(Object.entries(res.body.client ?? {}).map(([k, e]) => [k, e.value]));
}

describe('LoRaWAN integrations', () => {
  let p: TestPlatform;
  let profileId: string;
  before(async () => {
    // The broker runs on this host: the outbound policy refuses loopback unless allowed.
    p = await startTestPlatform({ config: { outbound: { allow: ['127.0.0.1:1883'] } } });
    const profile = await p.api.request<{ id: string }>('POST', '/api/profiles', { name: `lorawan-th-${randomUUID().slice(0, 6)}`, decoder: DECODER });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    profileId = profile.body.id;
  });
  after(async () => {
    await p.stop();
  });

  it('chirpstack: an uplink is decoded by the profile decoder into telemetry with rssi/snr/fCnt; join and status become attributes', async () => {
    const app = randomUUID();
    const eui = devEui();
    const device = await p.api.createDevice(eui, { profileId });
    const id = await createIntegration(p.api, { type: 'chirpstack', name: `cs ${app}`, config: { url: BROKER, applicationId: app } });
    const ns = await brokerClient();
    try {
      const base = `application/${app}/device/${eui}/event`;
      await ns.publishAsync(`${base}/up`, JSON.stringify(fixture('chirpstack-up.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      const values = await eventually(async () => {
        const v = await latest(p.api, device.id, ['temperature', 'humidity', 'port', 'rssi', 'snr', 'fCnt', 'fPort']);
        return Object.keys(v).length === 7 ? v : undefined;
      }, 10_000, 'uplink stored');
      // The best gateway's radio values (of the two that heard it).
      assert.deepEqual(values, { temperature: 21.5, humidity: 65, port: 2, rssi: -97, snr: 6.5, fCnt: 42, fPort: 2 });
      const ts = (await series(p.api, device.id, 'temperature')).temperature?.[0]?.ts;
      assert.equal(ts, Date.parse('2026-12-07T10:00:00.000Z'));

      await ns.publishAsync(`${base}/join`, JSON.stringify(fixture('chirpstack-join.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      await ns.publishAsync(`${base}/status`, JSON.stringify(fixture('chirpstack-status.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      const attrs = await eventually(async () => {
        const a = await clientAttributes(p.api, device.id);
        return a.batteryLevel !== undefined && a.devAddr !== undefined ? a : undefined;
      }, 10_000, 'join and status attributes');
      assert.equal(attrs.devAddr, '01f2a3b4');
      assert.equal(attrs.devEui, eui);
      assert.equal(attrs.margin, 9);
      assert.equal(attrs.batteryLevel, 87.4);
      assert.equal(attrs.externalPowerSource, false);
      const s = await status(p.api, id);
      assert.equal(s.received, 3);
      assert.equal(s.rejected, 0);
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });

  it('chirpstack: a command queued before the device is heard becomes command/down {id, devEui, confirmed, fPort, data} after its uplink; the txack answers it', async () => {
    const app = randomUUID();
    const eui = devEui();
    const device = await p.api.createDevice(eui, { profileId });
    const id = await createIntegration(p.api, { type: 'chirpstack', name: `cs-down ${app}`, config: { url: BROKER, applicationId: app } });
    const ns = await brokerClient();
    try {
      const downlinks: { topic: string; body: Record<string, unknown> }[] = [];
      ns.on('message', (topic, payload) => downlinks.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
      await ns.subscribeAsync(`application/${app}/device/+/command/down`, { qos: 1 });
      // Not heard yet since the integration started: the command waits in the outbox.
      const sent = await p.api.request<{ id: string; status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'setLevel', params: { level: 7 }, persistent: true, timeoutMs: 60_000 });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'QUEUED');
      // Its uplink (class A: the server sends downlinks after one) opens the way.
      await ns.publishAsync(`application/${app}/device/${eui}/event/up`, JSON.stringify(fixture('chirpstack-up.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      const down = await eventually(async () => downlinks[0], 10_000, 'downlink published');
      assert.equal(down.topic, `application/${app}/device/${eui}/command/down`);
      assert.deepEqual(Object.keys(down.body).sort(), ['confirmed', 'data', 'devEui', 'fPort', 'id']);
      assert.equal(down.body.devEui, eui);
      assert.equal(down.body.confirmed, false);
      assert.equal(down.body.fPort, 5);
      assert.equal(down.body.data, Buffer.from([7]).toString('base64'));
      assert.match(String(down.body.id), /^[0-9a-f-]{36}$/);
      await ns.publishAsync(`application/${app}/device/${eui}/event/txack`, JSON.stringify(fixture('chirpstack-txack.json', { APPLICATION_ID: app, DEV_EUI: eui, QUEUE_ITEM_ID: String(down.body.id) })), { qos: 1 });
      const done = await eventually(async () => {
        const c = await p.api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
        return c.body.status === 'SUCCESSFUL' ? c.body : undefined;
      }, 10_000, 'command SUCCESSFUL');
      assert.deepEqual(done.response, { status: 'sent' });
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });

  it('chirpstack, confirmed downlinks: the gateway txack does not answer the command, the device ack does', async () => {
    const app = randomUUID();
    const eui = devEui();
    const device = await p.api.createDevice(eui, { profileId });
    const id = await createIntegration(p.api, { type: 'chirpstack', name: `cs-conf ${app}`, config: { url: BROKER, applicationId: app, confirmed: true } });
    const ns = await brokerClient();
    try {
      const downlinks: Record<string, unknown>[] = [];
      ns.on('message', (_topic, payload) => downlinks.push(JSON.parse(payload.toString()) as Record<string, unknown>));
      await ns.subscribeAsync(`application/${app}/device/+/command/down`, { qos: 1 });
      const base = `application/${app}/device/${eui}/event`;
      await ns.publishAsync(`${base}/up`, JSON.stringify(fixture('chirpstack-up.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      await eventually(async () => ((await status(p.api, id)).received === 1 ? true : undefined), 10_000, 'uplink handled');
      const sent = await p.api.request<{ id: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'setLevel', params: { level: 1 }, persistent: true, timeoutMs: 60_000 });
      const down = await eventually(async () => downlinks[0], 10_000, 'downlink published');
      assert.equal(down.confirmed, true);
      const item = { APPLICATION_ID: app, DEV_EUI: eui, QUEUE_ITEM_ID: String(down.id) };
      await ns.publishAsync(`${base}/txack`, JSON.stringify(fixture('chirpstack-txack.json', item)), { qos: 1 });
      await eventually(async () => ((await status(p.api, id)).received === 2 ? true : undefined), 10_000, 'txack handled');
      assert.notEqual((await p.api.request<{ status: string }>('GET', `/api/commands/${sent.body.id}`)).body.status, 'SUCCESSFUL');
      await ns.publishAsync(`${base}/ack`, JSON.stringify(fixture('chirpstack-ack.json', item)), { qos: 1 });
      const done = await eventually(async () => {
        const c = await p.api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
        return c.body.status === 'SUCCESSFUL' ? c.body : undefined;
      }, 10_000, 'command SUCCESSFUL on the ack');
      assert.deepEqual(done.response, { status: 'acknowledged' });
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });

  it('chirpstack: malformed events and unknown devices are counted and logged; the integration keeps running; bindBy deviceName with auto-provisioning', async () => {
    const app = randomUUID();
    const eui = devEui();
    const id = await createIntegration(p.api, { type: 'chirpstack', name: `cs-bad ${app}`, config: { url: BROKER, applicationId: app, bindBy: 'deviceName', provisionProfileId: profileId } });
    const ns = await brokerClient();
    try {
      const base = `application/${app}/device/${eui}/event`;
      const good = fixture('chirpstack-up.json', { APPLICATION_ID: app, DEV_EUI: eui, 'freezer-7': `freezer-${app.slice(0, 8)}` });
      await ns.publishAsync(`${base}/up`, 'not json {', { qos: 1 });
      await ns.publishAsync(`${base}/up`, JSON.stringify({ ...good, data: 'not base64!' }), { qos: 1 });
      await ns.publishAsync(`${base}/up`, JSON.stringify({ ...good, deviceInfo: { ...(good.deviceInfo as object), devEui: '0000000000000001' } }), { qos: 1 });
      await ns.publishAsync(`application/${app}/device/not-an-eui/event/up`, JSON.stringify(good), { qos: 1 });
      // A frame the decoder reports errors for (too short).
      await ns.publishAsync(`${base}/up`, JSON.stringify({ ...good, data: Buffer.from([1]).toString('base64') }), { qos: 1 });
      await ns.publishAsync(`${base}/up`, JSON.stringify(good), { qos: 1 });
      const s = await eventually(async () => {
        const st = await status(p.api, id);
        return st.received === 1 && st.rejected === 5 ? st : undefined;
      }, 10_000, '1 stored, 5 rejected');
      assert.equal(s.state, 'connected');
      const created = await p.api.request<{ items: { id: string; name: string; profileId: string }[] }>('GET', `/api/devices?search=freezer-${app.slice(0, 8)}`);
      const device = created.body.items.find((d) => d.name === `freezer-${app.slice(0, 8)}`);
      assert.ok(device, 'provisioned under the ChirpStack device name');
      assert.equal(device.profileId, profileId);
      assert.equal((await latest(p.api, device.id, ['temperature'])).temperature, 21.5);
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });

  it('tts over MQTT: v3/{app}@{tenant}/devices/{id}/up decoded into telemetry; a command is published to down/push; down/sent answers it', async () => {
    const app = `ct-${randomBytes(4).toString('hex')}`;
    const eui = devEui();
    const ttsDevice = `eui-${eui}`;
    const device = await p.api.createDevice(eui.toUpperCase(), { profileId });
    const id = await createIntegration(p.api, { type: 'tts', name: `tts ${app}`, config: { url: BROKER, applicationId: app, tenantId: 'ttn', password: 'NNSXS.test-api-key' } });
    const ns = await brokerClient();
    try {
      const prefix = `v3/${app}@ttn/devices/${ttsDevice}`;
      const pushes: Record<string, unknown>[] = [];
      ns.on('message', (topic, payload) => {
        if (topic === `${prefix}/down/push`) pushes.push(JSON.parse(payload.toString()) as Record<string, unknown>);
      });
      await ns.subscribeAsync(`${prefix}/down/push`, { qos: 0 });
      await ns.publishAsync(`${prefix}/up`, JSON.stringify(fixture('tts-up.json', { APPLICATION_ID: app, DEV_EUI: eui.toUpperCase(), DEVICE_ID: ttsDevice })), { qos: 0 });
      const values = await eventually(async () => {
        const v = await latest(p.api, device.id, ['temperature', 'humidity', 'rssi', 'snr', 'fCnt']);
        return Object.keys(v).length === 5 ? v : undefined;
      }, 10_000, 'uplink stored (DevEUI bound case-insensitively)');
      assert.deepEqual(values, { temperature: 26, humidity: 55, rssi: -88, snr: 9.5, fCnt: 317 });
      await ns.publishAsync(`${prefix}/join`, JSON.stringify(fixture('tts-join.json', { APPLICATION_ID: app, DEV_EUI: eui, DEVICE_ID: ttsDevice })), { qos: 0 });
      await eventually(async () => ((await clientAttributes(p.api, device.id)).devAddr === '260b1a2c' ? true : undefined), 10_000, 'join attribute');

      const sent = await p.api.request<{ id: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'setLevel', params: { level: 3 }, persistent: true, timeoutMs: 60_000 });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const push = await eventually(async () => pushes[0], 10_000, 'down/push published');
      const downlinks = push.downlinks as { f_port: number; frm_payload: string; priority: string; confirmed: boolean; correlation_ids: string[] }[];
      assert.equal(downlinks.length, 1);
      assert.equal(downlinks[0]?.f_port, 5);
      assert.equal(downlinks[0]?.frm_payload, Buffer.from([3]).toString('base64'));
      assert.equal(downlinks[0]?.priority, 'NORMAL');
      const correlation = downlinks[0]?.correlation_ids.find((c) => c.startsWith('continuum:'));
      assert.ok(correlation);
      await ns.publishAsync(`${prefix}/down/sent`, JSON.stringify(fixture('tts-down-sent.json', { APPLICATION_ID: app, DEV_EUI: eui, DEVICE_ID: ttsDevice, CORRELATION_ID: correlation })), { qos: 0 });
      await eventually(async () => ((await p.api.request<{ status: string }>('GET', `/api/commands/${sent.body.id}`)).body.status === 'SUCCESSFUL' ? true : undefined), 10_000, 'command SUCCESSFUL');
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });

  it('tts webhook: the secret header authenticates; uplinks become telemetry; a bad body is 400 and counted; the secret is never answered', async () => {
    const app = `wh-${randomBytes(4).toString('hex')}`;
    const eui = devEui();
    const secret = randomBytes(24).toString('hex');
    const device = await p.api.createDevice(eui, { profileId });
    const id = await createIntegration(p.api, { type: 'tts', name: `tts-wh ${app}`, config: { applicationId: app, webhookSecret: secret } });
    const view = await p.api.request<{ config: Record<string, unknown>; secretsSet: string[] }>('GET', `/api/integrations/${id}`);
    assert.equal(view.body.config.webhookSecret, undefined);
    assert.deepEqual(view.body.secretsSet, ['webhookSecret']);
    const url = `${p.baseUrl}/api/integrations/${id}/tts/uplink`;
    const post = (body: unknown, headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const up = fixture('tts-up.json', { APPLICATION_ID: app, DEV_EUI: eui, DEVICE_ID: 'sensor-1' });
    for (const headers of [{}, { 'x-continuum-secret': 'wrong-secret-0123456789' }] as Record<string, string>[]) {
      const res = await post(up, headers);
      assert.equal(res.status, 401);
      await res.text();
    }
    // An unknown integration id answers the same 401: nothing tells which ids exist.
    const unknown = await fetch(`${p.baseUrl}/api/integrations/${randomUUID()}/tts/uplink`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-continuum-secret': secret }, body: '{}' });
    assert.equal(unknown.status, 401);
    await unknown.text();
    const ok = await post(up, { 'x-continuum-secret': secret });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { stored: 1, rejected: [] });
    assert.deepEqual(await latest(p.api, device.id, ['temperature', 'humidity']), { temperature: 26, humidity: 55 });
    const bad = await post({ end_device_ids: { device_id: 'sensor-1', application_ids: { application_id: 'another-app' } }, uplink_message: {} }, { 'x-continuum-secret': secret });
    assert.equal(bad.status, 400);
    await bad.text();
    const stranger = await post(fixture('tts-up.json', { APPLICATION_ID: app, DEV_EUI: devEui(), DEVICE_ID: 'sensor-2' }), { 'x-continuum-secret': secret });
    const body = (await stranger.json()) as { stored: number; rejected: { code: string }[] };
    assert.equal(stranger.status, 200);
    assert.deepEqual([body.stored, body.rejected[0]?.code], [0, 'DEVICE_NOT_FOUND']);
    const s = await status(p.api, id);
    assert.deepEqual([s.received, s.rejected], [1, 2]);
    await p.api.request('DELETE', `/api/integrations/${id}`);
  });

  it("tenant isolation: tenant A's integration never feeds, finds or provisions into tenant B's devices", async () => {
    const tenant = await p.api.request<{ id: string }>('POST', '/api/tenants', { name: `Tenant LoRa ${randomUUID().slice(0, 6)}` });
    assert.equal(tenant.status, 201);
    const credentials = { email: `lora-${randomUUID().slice(0, 6)}@tenant-b.test`, password: 'tenant-b-password-9' };
    assert.equal((await p.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...credentials, role: 'tenant-admin' })).status, 201);
    const b = await apiClient(p.baseUrl, credentials);
    const eui = devEui();
    const bDevice = await b.createDevice(eui);
    const bProfile = await b.request<{ id: string }>('POST', '/api/profiles', { name: 'b-lora' });
    assert.equal(bProfile.status, 201);
    // A's integration cannot name B's profile for provisioning.
    const refused = await p.api.request<{ message: string }>('POST', '/api/integrations', { type: 'chirpstack', name: 'cross', config: { url: BROKER, applicationId: randomUUID(), provisionProfileId: bProfile.body.id } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /not a profile of this tenant/);
    // B cannot read A's integration, nor does A's integration id accept B's webhook secret.
    const app = randomUUID();
    const id = await createIntegration(p.api, { type: 'chirpstack', name: `cs-iso ${app}`, config: { url: BROKER, applicationId: app } });
    assert.equal((await b.request('GET', `/api/integrations/${id}`)).status, 404);
    const ns = await brokerClient();
    try {
      // B's device has this DevEUI as its name; A has none: refused, nothing lands in B.
      await ns.publishAsync(`application/${app}/device/${eui}/event/up`, JSON.stringify(fixture('chirpstack-up.json', { APPLICATION_ID: app, DEV_EUI: eui })), { qos: 1 });
      await eventually(async () => ((await status(p.api, id)).rejected === 1 ? true : undefined), 10_000, 'refused in A');
      assert.deepEqual(await latest(b, bDevice.id, ['temperature', 'rssi']), {});
      const s = await status(p.api, id);
      assert.equal(s.received, 0);
      assert.match(s.lastError ?? '', /no device named/);
    } finally {
      await ns.endAsync();
      await p.api.request('DELETE', `/api/integrations/${id}`);
    }
  });
});
