/**
 * Issue 17 item 1 on a whole platform: a device publishing over MQTT (mosquitto_pub) whose
 * vibration drifts raises a drift alarm whose details say why (detector, score, baseline,
 * threshold), and nothing fires while the detectors are still learning their baseline, not even
 * on a spike that an unguarded z-score would flag. A malformed detector call is refused on save
 * with its position.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestPlatform } from '../support/platform.js';
import { alarms, createRule, mosquittoPub, type AlarmBody } from './scenarios/helpers.js';

const MIN = 60_000;

/** Vibration around 1.0 mm/s with a deterministic wobble (σ ≈ 0.035). */
const normal = (i: number): number => 1 + 0.05 * Math.sin(i * 1.7);

test('a drifting vibration raises an explained drift alarm, and nothing fires during the minimum history', async () => {
  const tp = await startTestPlatform({ store: 'memory' });
  try {
    const device = await tp.api.createDevice('pump-7');
    await createRule(tp.api, { name: 'vibration spike', deviceId: device.id, trigger: 'telemetry', condition: 'zscore(vibration, 20) > 6', actions: [{ type: 'alarm', alarmType: 'VibrationSpike', severity: 'major' }] });
    await createRule(tp.api, { name: 'vibration drift', deviceId: device.id, trigger: 'telemetry', condition: 'cusum(vibration, 0.5, 5)', autoClear: false, actions: [{ type: 'alarm', alarmType: 'VibrationDrift', severity: 'warning' }] });

    const t0 = Date.now() - 120 * MIN;
    const sample = (i: number, value: number): { ts: number; values: { vibration: number } } => ({ ts: t0 + i * MIN, values: { vibration: value } });
    // The first 20 samples (zscore's minimum history, within cusum's 30-sample warm-up) hold a spike of 8σ·30.
    const learning = Array.from({ length: 20 }, (_, i) => sample(i, i === 4 ? 9 : normal(i)));
    await mosquittoPub(tp.ports.mqtt, device.accessToken, learning);
    // Then steady vibration, then a slow rise of 0.01 mm/s a minute from sample 60.
    const rest = Array.from({ length: 60 }, (_, j) => {
      const i = 20 + j;
      return sample(i, normal(i) + (i >= 60 ? 0.01 * (i - 59) : 0));
    });
    await mosquittoPub(tp.ports.mqtt, device.accessToken, rest);

    const drift = await eventually(async () => (await alarms(tp.api, device.id)).find((a) => a.type === 'VibrationDrift'), 15_000, 'a VibrationDrift alarm');
    const full = (await tp.api.request<AlarmBody & { details: Record<string, unknown> }>('GET', `/api/alarms/${drift.id}`)).body;
    const details = full.details;
    assert.equal(details.detector, 'cusum(vibration, 0.5, 5)');
    assert.equal(details.rule, 'vibration drift');
    assert.equal(details.threshold, 5);
    assert.ok(typeof details.score === 'number' && details.score > 5, `score ${String(details.score)}`);
    assert.ok(typeof details.baseline === 'number' && Math.abs(details.baseline - 1) < 0.3, `baseline ${String(details.baseline)}`);
    // Raised on the drift (from sample 60), within a few samples of it.
    const at = (details.ts as number - t0) / MIN;
    assert.ok(at >= 60 && at <= 75, `drift detected at sample ${at}`);

    // The spike at sample 4 fell inside the minimum history: no alarm from it (nor any other before sample 20).
    for (const a of await alarms(tp.api, device.id)) {
      const d = (await tp.api.request<{ details: Record<string, unknown> }>('GET', `/api/alarms/${a.id}`)).body.details;
      assert.ok((d.ts as number) >= t0 + 20 * MIN, `${a.type} raised at sample ${((d.ts as number) - t0) / MIN}`);
    }

    const bad = await tp.api.request<{ error: string; path: string; position: { line: number; column: number }; message: string }>('POST', '/api/rules', {
      name: 'bad',
      deviceId: device.id,
      trigger: 'telemetry',
      condition: 'zscore(vibration, 1) > 3',
      actions: [],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'INVALID_RULE');
    assert.equal(bad.body.path, 'condition');
    assert.equal(bad.body.position.column, 19);
    assert.match(bad.body.message, /window must be an integer from 2/);
  } finally {
    await tp.stop();
  }
});
