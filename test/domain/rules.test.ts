import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration } from '../../src/domain/duration.js';
import { compileRule, RuleError } from '../../src/domain/rules/compile.js';
import { cronMatches, nextCronTime, parseCron, CronError } from '../../src/domain/rules/cron.js';
import type { Rule } from '../../src/domain/rules/model.js';
import { evaluateRule, feedWindows, renderActions, actionsFor, type Lookups } from '../../src/domain/rules/runtime.js';
import { deserializeState, initialState, serializeState, stepEdge } from '../../src/domain/rules/state.js';
import { addSample, aggregate, emptySamples, prune } from '../../src/domain/rules/window.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);

function rule(extra: Partial<Rule> = {}): Rule {
  return { id: 'r1', tenantId: 't', name: 'test', enabled: true, trigger: 'telemetry', condition: 'true', actions: [], createdAt: 0, updatedAt: 0, ...extra };
}

describe('durations', () => {
  it('parses and formats', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('10'), undefined);
    assert.equal(parseDuration('m'), undefined);
    assert.equal(parseDuration('5 m'), undefined);
    assert.equal(formatDuration(5_400_000), '1h30m');
  });
});

describe('windows', () => {
  it('aggregates over the last duration and the last N samples, by message time', () => {
    const s = emptySamples();
    for (let i = 0; i < 10; i++) addSample(s, T0 + i * MIN, i);
    const at = T0 + 9 * MIN;
    // (at - 5m, at] holds minutes 5..9
    assert.equal(aggregate(s, 'avg', { kind: 'time', ms: 5 * MIN }, at), 7);
    assert.equal(aggregate(s, 'min', { kind: 'time', ms: 5 * MIN }, at), 5);
    assert.equal(aggregate(s, 'max', { kind: 'count', n: 3 }, at), 9);
    assert.equal(aggregate(s, 'sum', { kind: 'count', n: 3 }, at), 24);
    assert.equal(aggregate(s, 'count', { kind: 'time', ms: 5 * MIN }, at), 5);
    // rate: (9 - 5) over 4 minutes = 1 per minute
    assert.equal(aggregate(s, 'rate', { kind: 'time', ms: 5 * MIN }, at), 1);
    // evaluated at an earlier time, later samples are not seen
    assert.equal(aggregate(s, 'max', { kind: 'count', n: 3 }, T0 + 4 * MIN), 4);
    assert.equal(aggregate(emptySamples(), 'avg', { kind: 'count', n: 3 }, at), null);
    assert.equal(aggregate(emptySamples(), 'count', { kind: 'count', n: 3 }, at), 0);
  });

  it('keeps late samples in order and prunes to what windows can reach', () => {
    const s = emptySamples();
    addSample(s, T0 + 2 * MIN, 2);
    addSample(s, T0, 0);
    addSample(s, T0 + MIN, 1);
    addSample(s, T0 + MIN, 10);
    assert.deepEqual(s, { ts: [T0, T0 + MIN, T0 + 2 * MIN], v: [0, 10, 2] });
    for (let i = 3; i < 100; i++) addSample(s, T0 + i * MIN, i);
    prune(s, { maxMs: 10 * MIN, maxCount: 3 });
    assert.equal(s.ts.length, 10);
    prune(s, { maxMs: 0, maxCount: 3 });
    assert.deepEqual(s.v, [97, 98, 99]);
  });
});

describe('edges and durations', () => {
  it('fires once on false→true and clears once on true→false', () => {
    const st = initialState();
    assert.equal(stepEdge(st, false, T0, 0), undefined);
    assert.equal(stepEdge(st, true, T0 + 1, 0), 'raise');
    assert.equal(stepEdge(st, true, T0 + 2, 0), undefined);
    assert.equal(stepEdge(st, false, T0 + 3, 0), 'clear');
    assert.equal(stepEdge(st, false, T0 + 4, 0), undefined);
    assert.equal(stepEdge(st, true, T0 + 5, 0), 'raise');
  });

  it('"for" needs the condition true for at least D by message time; a false resets it', () => {
    const st = initialState();
    const D = 10 * MIN;
    assert.equal(stepEdge(st, true, T0, D), undefined);
    assert.equal(stepEdge(st, true, T0 + 9 * MIN, D), undefined);
    assert.equal(stepEdge(st, false, T0 + 9.5 * MIN, D), undefined);
    assert.equal(stepEdge(st, true, T0 + 10 * MIN, D), undefined);
    assert.equal(stepEdge(st, true, T0 + 19 * MIN, D), undefined);
    assert.equal(stepEdge(st, true, T0 + 20 * MIN, D), 'raise');
    // a late message does not move the edge
    assert.equal(stepEdge(st, false, T0, D), undefined);
    assert.equal(st.active, true);
  });

  it('state survives serialization; unreadable state starts over', () => {
    const st = initialState();
    stepEdge(st, true, T0, MIN);
    st.windows.t = { ts: [T0], v: [3] };
    assert.deepEqual(deserializeState(serializeState(st)), st);
    assert.deepEqual(deserializeState('{"v":99}'), initialState());
    assert.deepEqual(deserializeState('not json'), initialState());
  });
});

describe('cron with time zones', () => {
  it('matches wall time in the zone', () => {
    const cron = parseCron('30 6 * * MON-FRI', 'Europe/Berlin');
    // 2024-06-03 is a Monday; Berlin is UTC+2 in summer
    assert.equal(cronMatches(cron, Date.UTC(2024, 5, 3, 4, 30)), true);
    assert.equal(cronMatches(cron, Date.UTC(2024, 5, 3, 6, 30)), false);
    assert.equal(cronMatches(cron, Date.UTC(2024, 5, 1, 4, 30)), false, 'Saturday');
    // winter: UTC+1
    assert.equal(cronMatches(cron, Date.UTC(2024, 0, 8, 5, 30)), true);
  });

  it('finds the next time, across DST changes', () => {
    const daily = parseCron('0 9 * * *', 'America/New_York');
    // New York springs forward on 2024-03-10: 9:00 is 14:00 UTC before, 13:00 UTC after
    assert.equal(nextCronTime(daily, Date.UTC(2024, 2, 9, 15, 0)), Date.UTC(2024, 2, 10, 13, 0));
    assert.equal(nextCronTime(daily, Date.UTC(2024, 2, 8, 15, 0)), Date.UTC(2024, 2, 9, 14, 0));
    // 02:30 does not exist on the spring-forward night: skipped to the next day
    const night = parseCron('30 2 * * *', 'America/New_York');
    assert.equal(nextCronTime(night, Date.UTC(2024, 2, 10, 0, 0)), Date.UTC(2024, 2, 11, 6, 30));
    // Kathmandu is UTC+05:45
    assert.equal(nextCronTime(parseCron('0 0 * * *', 'Asia/Kathmandu'), Date.UTC(2024, 0, 1, 0, 0)), Date.UTC(2024, 0, 1, 18, 15));
  });

  it('supports steps, lists, names, aliases and the day-of-month OR day-of-week rule', () => {
    const every15 = parseCron('*/15 * * * *');
    assert.deepEqual([...every15.minutes], [0, 15, 30, 45]);
    assert.equal(nextCronTime(every15, Date.UTC(2024, 0, 1, 0, 1)), Date.UTC(2024, 0, 1, 0, 15));
    assert.equal(nextCronTime(parseCron('@yearly'), Date.UTC(2024, 0, 1, 0, 0)), Date.UTC(2025, 0, 1, 0, 0));
    assert.equal(nextCronTime(parseCron('0 0 29 FEB *'), Date.UTC(2024, 2, 1)), Date.UTC(2028, 1, 29));
    // 13th of the month OR a Friday
    const either = parseCron('0 12 13 * FRI');
    assert.equal(cronMatches(either, Date.UTC(2024, 5, 13, 12, 0)), true, 'Thursday the 13th');
    assert.equal(cronMatches(either, Date.UTC(2024, 5, 14, 12, 0)), true, 'Friday the 14th');
    assert.equal(cronMatches(either, Date.UTC(2024, 5, 15, 12, 0)), false);
    assert.equal(cronMatches(parseCron('0 0 * * 7'), Date.UTC(2024, 5, 2)), true, '7 is Sunday');
  });

  it('rejects malformed fields and unknown zones', () => {
    assert.throws(() => parseCron('61 * * * *'), /minute: 61 is outside/);
    assert.throws(() => parseCron('* * *'), /5 fields/);
    assert.throws(() => parseCron('5-1 * * * *'), /backwards/);
    assert.throws(() => parseCron('* * * * *', 'Mars/Olympus'), CronError);
  });
});

describe('compiling rules', () => {
  it('names the field and position of a problem', () => {
    const fail = (r: Partial<Rule>): RuleError => {
      try {
        compileRule(rule(r));
      } catch (err) {
        assert.ok(err instanceof RuleError);
        return err;
      }
      assert.fail('compiled');
    };
    const cond = fail({ condition: 'batteryLevel <' });
    assert.equal(cond.path, 'condition');
    assert.deepEqual(cond.position, { offset: 14, line: 1, column: 15 });
    const tmpl = fail({ actions: [{ type: 'alarm', alarmType: 'X', details: { text: 'level ${x +}' } }] });
    assert.equal(tmpl.path, 'actions[0].details.text');
    assert.equal(tmpl.position?.column, 12);
    assert.equal(fail({ for: 'ten minutes' }).path, 'for');
    assert.equal(fail({ trigger: 'schedule' }).path, 'schedule');
    assert.equal(fail({ trigger: 'schedule', schedule: { cron: '* * *' } }).path, 'schedule.cron');
    assert.equal(fail({ trigger: 'schedule', schedule: { cron: '* * * * *', timeZone: 'Nowhere/City' } }).path, 'schedule.timeZone');
    assert.equal(fail({ deviceId: 'd', profileId: 'p' }).path, 'deviceId');
  });

  it('adds a clearAlarm for every alarm unless autoClear is off, and merges windows per key', () => {
    const c = compileRule(rule({ condition: 'avg(t, "10m") > 1 && max(t, 5) > 2 && min(t, "1h") > 0', actions: [{ type: 'alarm', alarmType: 'Hot' }] }));
    assert.deepEqual(c.clearActions.map((a) => a.config), [{ type: 'clearAlarm', alarmType: 'Hot' }]);
    assert.deepEqual(c.retention.get('t'), { maxMs: 3_600_000, maxCount: 5 });
    assert.equal(compileRule(rule({ actions: [{ type: 'alarm', alarmType: 'Hot' }], autoClear: false })).clearActions.length, 0);
  });

  it('runs a step: windows, condition with fallback to latest values, edge and rendered actions', () => {
    const c = compileRule(
      rule({
        condition: 'soil < 30 && avg(soil, 3) < 30 && !attr("rainForecast")',
        actions: [{ type: 'command', method: 'pump', params: { on: true, note: '${deviceName}: ${round(avg(soil, 3))}%' } }],
      }),
    );
    const st = initialState();
    const lookups: Lookups = { latest: (k) => (k === 'soil' ? 50 : undefined), attr: () => false };
    const dev = { id: 'd1', name: 'field-7' };
    const step = (ts: number, values: Record<string, number>) => {
      const msg = { ts, values };
      feedWindows(c, st, msg);
      return evaluateRule(c, st, dev, msg, lookups);
    };
    assert.equal(step(T0, { other: 1 }).matched, false, 'falls back to latest soil = 50');
    assert.equal(step(T0 + 1, { soil: 20 }).edge, 'raise');
    const ev = step(T0 + 2, { soil: 22 });
    assert.equal(ev.edge, undefined);
    assert.deepEqual(renderActions(actionsFor(c, 'raise'), ev.scope), [{ type: 'command', method: 'pump', params: { on: true, note: 'field-7: 21%' } }]);
    assert.equal(step(T0 + 3, { soil: 40 }).edge, 'clear');
  });
});
