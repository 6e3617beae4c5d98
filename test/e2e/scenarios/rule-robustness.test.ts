/**
 * Rules never get in the way of ingest: a rule that throws at run time raises a ruleError event
 * while every message is still acknowledged and stored and the other rules go on. Malformed rules
 * are refused on save with a position. Rule state (a "for" duration in progress) survives a
 * platform restart on the same SQLite data directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BusEvents } from '../../../src/ports.js';
import { eventually, metricsText, startTestPlatform, tempDir } from '../../support/platform.js';
import { activeAlarmTypes, alarms, createRule, mosquittoPub } from './helpers.js';

test('a rule that throws at run time → ruleError event; ingest and the other rules are unaffected', async () => {
  const tp = await startTestPlatform();
  try {
    const errors: BusEvents['ruleError'][] = [];
    tp.platform.bus.subscribe('ruleError', 'ruleError.>', (e) => void errors.push(e));
    const pump = await tp.api.createDevice('pump-1');
    const broken = await createRule(tp.api, { name: 'broken', deviceId: pump.id, trigger: 'telemetry', condition: 'mode * 2 > 1', actions: [{ type: 'alarm', alarmType: 'Never' }] });
    await createRule(tp.api, { name: 'healthy', deviceId: pump.id, trigger: 'telemetry', condition: 'pressure > 8', actions: [{ type: 'alarm', alarmType: 'Overpressure', severity: 'critical' }] });

    for (let i = 0; i < 20; i++) await mosquittoPub(tp.ports.mqtt, pump.accessToken, { mode: 'eco', pressure: i < 19 ? 5 : 9, seq: i });
    const stored = await tp.api.request<Record<string, { value: unknown }[]>>('GET', `/api/devices/${pump.id}/telemetry?keys=seq&limit=100`);
    assert.equal(stored.body.seq?.length, 20, 'every message was stored');
    await activeAlarmTypes(tp.api, pump.id, ['Overpressure']);
    await eventually(async () => (errors.length === 20 ? true : undefined), 10_000, '20 rule errors');
    assert.deepEqual(
      { ruleId: errors[0]?.ruleId, ruleName: errors[0]?.ruleName, deviceId: errors[0]?.deviceId, stage: errors[0]?.stage },
      { ruleId: broken.id, ruleName: 'broken', deviceId: pump.id, stage: 'condition' },
    );
    assert.match(errors[0]?.message ?? '', /cannot apply \* to string and number at line 1, column 6/);
    const metrics = await metricsText(tp.baseUrl);
    assert.match(metrics, /continuum_rule_errors_total\{stage="condition"\} 20/);

    const malformed = await tp.api.request<{ error: string; position: unknown }>('POST', '/api/rules', { name: 'typo', deviceId: pump.id, trigger: 'telemetry', condition: 'pressure >> 8', actions: [] });
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body.position, { line: 1, column: 11, offset: 10 });
  } finally {
    await tp.stop();
  }
});

test('a "for" duration in progress survives a platform restart (SQLite)', async () => {
  const dataDir = tempDir();
  const MIN = 60_000;
  const start = Date.now() - 60 * MIN;
  let tp = await startTestPlatform({ dataDir });
  const boiler = await tp.api.createDevice('boiler-1');
  await createRule(tp.api, { name: 'Too hot for 10 minutes', deviceId: boiler.id, trigger: 'telemetry', condition: 'temperature > 90', for: '10m', actions: [{ type: 'alarm', alarmType: 'Overheat', severity: 'major' }] });
  const hot = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ ts: start + (from + i) * MIN, values: { temperature: 95 } }));
  await mosquittoPub(tp.ports.mqtt, boiler.accessToken, hot(0, 6)); // minutes 0..5
  await tp.stop();

  tp = await startTestPlatform({ dataDir });
  try {
    await mosquittoPub(tp.ports.mqtt, boiler.accessToken, hot(6, 4)); // minutes 6..9
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await alarms(tp.api, boiler.id), []);
    await mosquittoPub(tp.ports.mqtt, boiler.accessToken, hot(10, 1)); // minute 10: held for 10 minutes across the restart
    await activeAlarmTypes(tp.api, boiler.id, ['Overheat']);
  } finally {
    await tp.stop();
  }
});
