/** Schedule rule timers (rules/schedule.ts) on mocked time: cron minutes in the rule's zone, `every` intervals, stop. */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { parseCron } from '../../src/domain/rules/cron.js';
import { startSchedule } from '../../src/edge/rules/schedule.js';

test('cron: fires at each scheduled minute (in the time zone), with the minute as the tick time; stop ends it', () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.parse('2026-01-05T06:58:30Z') });
  try {
    const ticks: string[] = [];
    // 08:00 and 08:30 in Berlin (UTC+1 in January) on weekdays.
    const stop = startSchedule({ cron: parseCron('0,30 8 * * MON-FRI', 'Europe/Berlin') }, (ts) => ticks.push(new Date(ts).toISOString()));
    mock.timers.tick(90_000);
    assert.deepEqual(ticks, ['2026-01-05T07:00:00.000Z']);
    mock.timers.tick(30 * 60_000);
    assert.deepEqual(ticks, ['2026-01-05T07:00:00.000Z', '2026-01-05T07:30:00.000Z']);
    stop();
    mock.timers.tick(86_400_000);
    assert.equal(ticks.length, 2);
  } finally {
    mock.timers.reset();
  }
});

test('every: fixed interval from the start', () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  try {
    const ticks: number[] = [];
    const stop = startSchedule({ every: '30s' }, (ts) => ticks.push(ts));
    for (let i = 0; i < 3; i++) mock.timers.tick(30_000);
    mock.timers.tick(5_000);
    stop();
    mock.timers.tick(60_000);
    assert.deepEqual(ticks, [30_000, 60_000, 90_000]);
  } finally {
    mock.timers.reset();
  }
});
