/**
 * Smart meter (the ThingsBoard benchmark's alarm rule): battery below 10 % raises a LowBattery
 * alarm. The rule is created over REST with the contract body; readings come from mosquitto_pub;
 * the rule's command reaches the meter, which is a mosquitto_sub process on its RPC topic.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { activeAlarmTypes, alarms, createRule, mosquittoPub, mosquittoSub, waitOnline } from './helpers.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

test('battery < 10 over mosquitto_pub → LowBattery alarm, and the rule\'s command reaches a mosquitto_sub device', async () => {
  const meter = await tp.api.createDevice('meter-001');
  const rule = await createRule(tp.api, {
    name: 'Low battery',
    deviceId: meter.id,
    trigger: 'telemetry',
    condition: 'batteryLevel < 10',
    actions: [
      { type: 'alarm', alarmType: 'LowBattery', severity: 'major' },
      { type: 'command', method: 'setSaving', params: { on: true } },
    ],
  });
  assert.ok(rule.id);
  const sub = mosquittoSub(tp.ports.mqtt, meter.accessToken, 1);
  try {
    await waitOnline(tp.api, meter.id);
    await mosquittoPub(tp.ports.mqtt, meter.accessToken, { batteryLevel: 55, energy: 1200.5 });
    assert.deepEqual(await alarms(tp.api, meter.id, 'active'), []);
    await mosquittoPub(tp.ports.mqtt, meter.accessToken, { batteryLevel: 8, energy: 1201.0 });

    const [alarm] = await activeAlarmTypes(tp.api, meter.id, ['LowBattery']);
    assert.deepEqual({ type: alarm?.type, severity: alarm?.severity, status: alarm?.status, deviceId: alarm?.deviceId }, { type: 'LowBattery', severity: 'major', status: 'active', deviceId: meter.id });
    const [command] = await sub.messages;
    assert.match(command?.topic ?? '', /^v1\/devices\/me\/rpc\/request\/\d+$/);
    assert.deepEqual(command?.body, { method: 'setSaving', params: { on: true } });
  } finally {
    sub.kill();
  }

  // Still low: no second alarm, no repeat (the rule fires on the edge only).
  await mosquittoPub(tp.ports.mqtt, meter.accessToken, { batteryLevel: 7 });
  // Recharged: the alarm clears by itself.
  await mosquittoPub(tp.ports.mqtt, meter.accessToken, { batteryLevel: 95 });
  await activeAlarmTypes(tp.api, meter.id, []);
  const all = await alarms(tp.api, meter.id);
  assert.deepEqual(all.map((a) => [a.type, a.status, a.count]), [['LowBattery', 'cleared', 1]]);
});

test('a profile-wide rule covers every meter of the profile', async () => {
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'meters' });
  const a = await tp.api.createDevice('meter-p1', { profileId: profile.body.id });
  const b = await tp.api.createDevice('meter-p2', { profileId: profile.body.id });
  const outside = await tp.api.createDevice('meter-outside');
  await createRule(tp.api, { name: 'Low battery (profile)', profileId: profile.body.id, trigger: 'telemetry', condition: 'batteryLevel < 10', actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'major' }] });
  for (const d of [a, b, outside]) await mosquittoPub(tp.ports.mqtt, d.accessToken, { batteryLevel: 3 });
  await activeAlarmTypes(tp.api, a.id, ['LowBattery']);
  await activeAlarmTypes(tp.api, b.id, ['LowBattery']);
  assert.deepEqual(await alarms(tp.api, outside.id), []);
});
