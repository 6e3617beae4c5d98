/**
 * `v1/gateway/alarm` (edge alarms, docs/EDGE.md): a gateway syncs alarms of its own existing
 * children only; the same lifecycle sent again is stored once; bad bodies are refused. Real
 * MQTT.js clients (MQTT 5, so each PUBACK carries the refusal's reason code) against the whole
 * platform; the result is read through the REST API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type mqtt from 'mqtt';
import { connectMqtt, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

function publish5(client: mqtt.MqttClient, topic: string, body: unknown): Promise<number> {
  return client.publishAsync(topic, JSON.stringify(body), { qos: 1 }).then(
    (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
    (err: { code?: number }) => err.code ?? -1,
  );
}

interface AlarmBody {
  id: string;
  status: string;
  count: number;
  createdAt: number;
  clearedAt: number | null;
}

async function alarmsOf(deviceId: string): Promise<AlarmBody[]> {
  return (await tp.api.request<{ items: AlarmBody[] }>('GET', `/api/alarms?deviceId=${deviceId}`)).body.items;
}

const lifecycle = (device: string, id: string, extra: Record<string, unknown> = {}) => ({ device, id, type: 'OverTemperature', severity: 'major', details: { t: 85 }, raisedAt: Date.now() - 60_000, ...extra });

test('a gateway syncs alarms of its own children only; a lifecycle sent twice is stored once', async () => {
  const gateway = await tp.api.createDevice('gw-alarm', { gateway: true });
  const other = await tp.api.createDevice('gw-alarm-other', { gateway: true });
  const standalone = await tp.api.createDevice('alarm-standalone');
  const client = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
  const otherClient = await connectMqtt(tp.ports.mqtt, { username: other.accessToken, protocolVersion: 5 });
  try {
    assert.equal(await publish5(client, 'v1/gateway/connect', { device: 'own-plc' }), 0);
    assert.equal(await publish5(otherClient, 'v1/gateway/connect', { device: 'foreign-plc' }), 0);
    const own = (await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=own-plc')).body.items.find((d) => d.name === 'own-plc');
    const foreign = (await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=foreign-plc')).body.items.find((d) => d.name === 'foreign-plc');
    assert.ok(own && foreign);

    // Refused: another gateway's child, a standalone device, the gateway itself, another gateway, an unknown name (never created).
    for (const name of ['foreign-plc', 'alarm-standalone', 'gw-alarm', 'gw-alarm-other', 'no-such-plc']) {
      const code = await publish5(client, 'v1/gateway/alarm', lifecycle(name, `refused-${name}`));
      assert.ok(code >= 0x80, `${name}: refused (reason code ${code})`);
    }
    assert.deepEqual(await alarmsOf(foreign.id), []);
    assert.deepEqual(await alarmsOf(standalone.id), []);
    assert.deepEqual(await alarmsOf(gateway.id), []);
    assert.deepEqual(await alarmsOf(other.id), []);
    const unknown = (await tp.api.request<{ items: { name: string }[] }>('GET', '/api/devices?search=no-such-plc')).body.items;
    assert.deepEqual(unknown, [], 'an alarm never creates a child');

    // Malformed bodies: unknown severity, a future timestamp, cleared before raised, extra fields, bad id.
    const bad = [
      lifecycle('own-plc', 'b1', { severity: 'apocalyptic' }),
      lifecycle('own-plc', 'b2', { raisedAt: Date.now() + 3_600_000 }),
      lifecycle('own-plc', 'b3', { clearedAt: Date.now() - 120_000 }),
      lifecycle('own-plc', 'b4', { tenantId: 'other-tenant' }),
      lifecycle('own-plc', 'bad id with spaces'),
      'not an object',
    ];
    for (const body of bad) assert.ok((await publish5(client, 'v1/gateway/alarm', body)) >= 0x80, `refused: ${JSON.stringify(body)}`);
    assert.deepEqual(await alarmsOf(own.id), []);

    // The gateway's own child: raised and cleared in one message, sent twice → one alarm.
    const raisedAt = Date.now() - 30_000;
    const clearedAt = raisedAt + 10_000;
    const body = lifecycle('own-plc', 'edge-1', { raisedAt, clearedAt });
    assert.equal(await publish5(client, 'v1/gateway/alarm', body), 0);
    assert.equal(await publish5(client, 'v1/gateway/alarm', body), 0);
    const stored = await alarmsOf(own.id);
    assert.equal(stored.length, 1);
    assert.deepEqual([stored[0]?.status, stored[0]?.createdAt, stored[0]?.clearedAt, stored[0]?.count], ['cleared', raisedAt, clearedAt, 1]);

    // Another gateway naming the same edge id for its own child gets its own alarm (ids are per gateway).
    assert.equal(await publish5(otherClient, 'v1/gateway/alarm', lifecycle('foreign-plc', 'edge-1')), 0);
    assert.equal((await alarmsOf(foreign.id)).length, 1);
    assert.equal((await alarmsOf(own.id)).length, 1);

    // A device that is not a gateway cannot use the topic.
    const plain = await connectMqtt(tp.ports.mqtt, { username: standalone.accessToken, protocolVersion: 5 });
    try {
      await publish5(plain, 'v1/gateway/alarm', lifecycle('own-plc', 'edge-plain'));
    } finally {
      await plain.endAsync();
    }
    assert.equal((await alarmsOf(own.id)).length, 1);
  } finally {
    await client.endAsync();
    await otherClient.endAsync();
  }
});
