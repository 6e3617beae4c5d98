/**
 * Smart farm: soil moisture below 30 % for 10 minutes and no rain forecast (a server attribute a
 * weather integration sets over REST) → pump ON command and a warning alarm; when the moisture
 * recovers the alarm clears and the pump is turned OFF. Ten minutes of readings are sent at once
 * with their own timestamps (ThingsBoard's [{ts, values}] form): the engine times the duration by
 * message timestamps, not by the wall clock. The field controller is an MQTT.js client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mqtt from 'mqtt';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { activeAlarmTypes, alarms, createRule, mosquittoPub } from './helpers.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

const MIN = 60_000;

/** The controller: records every command and acknowledges it. */
async function controller(token: string): Promise<{ client: mqtt.MqttClient; commands: { method: string; params: unknown }[] }> {
  const client = await connectMqtt(tp.ports.mqtt, { username: token, protocolVersion: 5 });
  const commands: { method: string; params: unknown }[] = [];
  client.on('message', (topic, payload) => {
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const body = JSON.parse(payload.toString()) as { method: string; params: unknown };
    commands.push(body);
    void client.publishAsync(`v1/devices/me/rpc/response/${topic.split('/').pop()}`, JSON.stringify({ ok: true }), { qos: 1 });
  });
  await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  return { client, commands };
}

/** `minutes` readings a minute apart starting at `start`, in one message. */
const readings = (start: number, minutes: number, moisture: number): { ts: number; values: { soilMoisture: number } }[] =>
  Array.from({ length: minutes }, (_, i) => ({ ts: start + i * MIN, values: { soilMoisture: moisture } }));

test('dry for 10 minutes without rain forecast → pump ON and a warning alarm; cleared and pump OFF when moisture recovers', async () => {
  const field = await tp.api.createDevice('field-7');
  const setForecast = (rain: boolean) => tp.api.request('POST', `/api/devices/${field.id}/attributes/server`, { rainForecast: rain });
  assert.equal((await setForecast(true)).status, 200);
  await createRule(tp.api, {
    name: 'Irrigate when dry',
    deviceId: field.id,
    trigger: 'telemetry',
    condition: 'soilMoisture < 30 && !attr("rainForecast")',
    for: '10m',
    actions: [
      { type: 'command', method: 'setPump', params: { on: true, reason: '${deviceName}: moisture ${soilMoisture}%' } },
      { type: 'alarm', alarmType: 'DrySoil', severity: 'warning', details: { moisture: '${soilMoisture}', avg10m: '${round(avg(soilMoisture, "10m"), 1)}' } },
    ],
    clearActions: [{ type: 'command', method: 'setPump', params: { on: false } }],
  });
  const { client, commands } = await controller(field.accessToken);
  try {
    const start = Date.now() - 60 * MIN;
    // Rain is forecast: 15 dry minutes do nothing.
    await mosquittoPub(tp.ports.mqtt, field.accessToken, readings(start, 15, 22));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(commands, []);
    assert.deepEqual(await alarms(tp.api, field.id), []);

    // The forecast changes; the duration starts with the next reading and needs 10 minutes of data.
    await setForecast(false);
    await mosquittoPub(tp.ports.mqtt, field.accessToken, readings(start + 15 * MIN, 10, 24)); // minutes 15..24: 9 minutes held
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(commands, [], 'nine minutes are not ten');
    await mosquittoPub(tp.ports.mqtt, field.accessToken, readings(start + 25 * MIN, 1, 23)); // minute 25: 10 minutes

    await eventually(async () => (commands.length === 1 ? true : undefined), 10_000, 'pump ON');
    assert.deepEqual(commands[0], { method: 'setPump', params: { on: true, reason: 'field-7: moisture 23%' } });
    const [alarm] = await activeAlarmTypes(tp.api, field.id, ['DrySoil']);
    assert.equal(alarm?.severity, 'warning');

    // Irrigation works: moisture recovers.
    await mosquittoPub(tp.ports.mqtt, field.accessToken, readings(start + 26 * MIN, 1, 41));
    await activeAlarmTypes(tp.api, field.id, []);
    await eventually(async () => (commands.length === 2 ? true : undefined), 10_000, 'pump OFF');
    assert.deepEqual(commands[1], { method: 'setPump', params: { on: false } });
    const cleared = await alarms(tp.api, field.id, 'cleared');
    assert.equal(cleared.length, 1);
  } finally {
    await client.endAsync();
  }
});
