/**
 * expected/deviation/forecastMin in live rules: the engine learns the model from the stored hourly
 * roll-ups once per (device, key), answers null before the minimum history, refreshes after the
 * hour, and explains the alarm with score, baseline and threshold.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Device } from '../../../src/domain/device.js';
import type { RaiseAlarm } from '../../../src/domain/action-apis.js';
import type { Store } from '../../../src/ports.js';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { fixture, TENANT, type Fixture } from './fixture.js';

const HOUR = 3_600_000;
const MONDAY = Date.UTC(2024, 5, 3); // a Monday, 00:00 UTC
const daily = (t: number): number => 100 + 50 * Math.sin((2 * Math.PI * (Math.floor(t / HOUR) % 24)) / 24);

let f: Fixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

/** `hours` of history, one reading every 20 minutes, following the pattern with up to ±2 of (seeded) noise. */
async function history(store: Store, device: Device, key: string, start: number, hours: number, level: (t: number) => number = daily): Promise<void> {
  let seed = 42;
  const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 4;
  const rows = [];
  for (let t = start; t < start + hours * HOUR; t += 20 * 60_000) rows.push({ deviceId: device.id, key, ts: t, value: level(t) + noise() });
  await store.appendTelemetry(rows);
}

/** A memory store counting its aggregate reads (wrapped before the engine takes the method). */
function countingStore(): { store: Store; reads: () => number } {
  let reads = 0;
  const store = createMemoryStore();
  const orig = store.queryAggregated.bind(store);
  store.queryAggregated = async (q) => {
    reads++;
    return orig(q);
  };
  return { store, reads: () => reads };
}

function captureAlarms(f: Fixture): RaiseAlarm[] {
  const raised: RaiseAlarm[] = [];
  const orig = f.alarms.raise.bind(f.alarms);
  f.alarms.raise = async (input) => {
    raised.push(input);
    return orig(input);
  };
  return raised;
}

describe('rules on roll-up models', () => {
  it('deviation() raises an explained alarm on an off-season value, stays quiet on seasonal ones, and reads the store once per hour', async () => {
    const reads = countingStore();
    f = await fixture({ store: reads.store });
    const now = MONDAY + 3 * 168 * HOUR + 10 * 60_000; // three weeks of history, 10 minutes into the next hour
    f.clock.set(now);
    const meter = await f.device('meter-1');
    await history(f.store, meter, 'load', MONDAY, 3 * 168);
    const raised = captureAlarms(f);
    await f.rule({ deviceId: meter.id, condition: 'abs(deviation(load)) > 6', actions: [{ type: 'alarm', alarmType: 'OffSeason', severity: 'major' }] });
    // A seasonal value at this hour (Monday 00:xx: 100) does not fire; many messages, one store read.
    for (let i = 0; i < 5; i++) await f.telemetry(meter, { load: 100.5 }, now + i * 1000);
    assert.equal(reads.reads(), 1);
    assert.deepEqual(f.alarms.log, []);
    // 100 at 06:00, where the pattern says 150: far off the season.
    await f.telemetry(meter, { load: 100 }, now + 6 * HOUR);
    assert.deepEqual(f.alarms.log, [`raise OffSeason major ${meter.id}`]);
    const details = raised[0]?.details as Record<string, unknown>;
    assert.equal(details.detector, 'deviation(load)');
    assert.equal(details.threshold, 6);
    assert.ok(Math.abs((details.baseline as number) - 150) < 1.5, `baseline ${String(details.baseline)}`);
    assert.ok((details.score as number) < -6, `score ${String(details.score)}`);
    // The hour is over: the next evaluation starts one background refresh.
    f.clock.set(now + HOUR);
    await f.telemetry(meter, { load: 150 }, now + 6 * HOUR + 1000);
    await f.rules.engine.idle();
    assert.equal(reads.reads(), 2);
  });

  it('expected() and deviation() answer null before two weeks of roll-ups', async () => {
    f = await fixture();
    const now = MONDAY + 168 * HOUR + 60_000;
    f.clock.set(now);
    const meter = await f.device('meter-2');
    await history(f.store, meter, 'load', MONDAY, 168);
    await f.rule({ deviceId: meter.id, condition: 'deviation(load) > 3 || deviation(load) < -3 || expected(load) != null', actions: [{ type: 'alarm', alarmType: 'X', severity: 'major' }] });
    await f.telemetry(meter, { load: 1e6 }, now);
    assert.deepEqual(f.alarms.log, []);
  });

  it('forecastMin() acts on the forecast: a tank draining 2 a day is empty within the horizon', async () => {
    f = await fixture();
    const now = MONDAY + 14 * 24 * HOUR + 60_000;
    f.clock.set(now);
    const tank = await f.device('tank-1');
    // 100 → 72 over two weeks, with a daily usage wiggle.
    await history(f.store, tank, 'level', MONDAY, 14 * 24, (t) => 100 - (2 * (t - MONDAY)) / (24 * HOUR) + 3 * Math.sin((2 * Math.PI * (t / HOUR)) / 24));
    const raised = captureAlarms(f);
    await f.rule({ deviceId: tank.id, condition: 'forecastMin(level, 24) < 71', actions: [{ type: 'alarm', alarmType: 'TankLow', severity: 'warning' }] });
    await f.rule({ deviceId: tank.id, condition: 'forecastMin(level, 24) < 60', actions: [{ type: 'alarm', alarmType: 'TankEmpty', severity: 'critical' }] });
    await f.telemetry(tank, { level: 72 }, now);
    assert.deepEqual(f.alarms.log, [`raise TankLow warning ${tank.id}`]);
    const d = raised[0]?.details as Record<string, unknown>;
    assert.equal(d.detector, 'forecastMin(level, 24)');
    assert.ok((d.score as number) < 71 && (d.score as number) > 65, `score ${String(d.score)}`);
    assert.ok((d.lower as number) <= (d.score as number) && (d.score as number) <= (d.upper as number));
    assert.equal(typeof d.forecastTs, 'number');
    assert.equal((await f.rules.service.list(TENANT)).length, 2);
  });
});
