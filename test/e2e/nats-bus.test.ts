/**
 * The whole platform on the NATS JetStream bus (bus.kind 'nats', the machine's nats-server):
 * telemetry from an MQTT device reaches the rule engine through the work-queue group and raises
 * an alarm; a command reaches the device and its answer comes back through broadcast
 * subscriptions. Its own stream prefix, deleted afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';

const PREFIX = `ce${randomBytes(4).toString('hex')}`;
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform({ config: { bus: { kind: 'nats', nats: { url: NATS_URL, prefix: PREFIX, partitions: 4, replicas: 1, ackWaitMs: 5000, maxAgeSeconds: 3600 } } } });
});
after(async () => {
  await tp.stop();
  await deleteStreams(PREFIX);
});

test('MQTT telemetry → rule engine over JetStream → one alarm; a command over JetStream reaches the device and is answered', async () => {
  const device = await tp.api.createDevice('nats-meter');
  const rule = await tp.api.request('POST', '/api/rules', {
    name: 'Low battery',
    deviceId: device.id,
    trigger: 'telemetry',
    condition: 'batteryLevel < 10',
    actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'major' }],
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  try {
    client.on('message', (topic, payload) => {
      if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
      const { params } = JSON.parse(payload.toString()) as { params: { x: number } };
      void client.publishAsync(`v1/devices/me/rpc/response/${topic.split('/').pop()}`, JSON.stringify({ doubled: params.x * 2 }), { qos: 1 });
    });
    await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
    for (const level of [50, 8, 7]) await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ batteryLevel: level }), { qos: 1 });
    const alarms = await eventually(async () => {
      const res = await tp.api.request<{ items: { type: string; status: string }[] }>('GET', `/api/alarms?deviceId=${device.id}`);
      return res.body.items.length > 0 ? res.body.items : undefined;
    }, 10_000, 'the alarm');
    assert.deepEqual(alarms.map((a) => [a.type, a.status]), [['LowBattery', 'active']]);
    const command = await tp.api.request<{ status: string; response?: unknown }>('POST', `/api/devices/${device.id}/commands`, { method: 'double', params: { x: 21 }, timeoutMs: 5000 });
    assert.equal(command.status, 201);
    assert.equal(command.body.status, 'SUCCESSFUL');
    assert.deepEqual(command.body.response, { doubled: 42 });
  } finally {
    await client.endAsync();
  }
});
