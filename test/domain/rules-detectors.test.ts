import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, RuleError } from '../../src/domain/rules/compile.js';
import { detectorDetails } from '../../src/domain/rules/explain.js';
import type { Rule } from '../../src/domain/rules/model.js';
import { actionsFor, evaluateRule, feedWindows, renderActions, type Lookups } from '../../src/domain/rules/runtime.js';
import { deserializeState, initialState, serializeState, type RuleState } from '../../src/domain/rules/state.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 5, 1);
const none: Lookups = { latest: () => undefined, attr: () => undefined };
const device = { id: 'd1', name: 'pump-1' };

function rule(condition: string, extra: Partial<Rule> = {}): Rule {
  return {
    id: 'r1',
    tenantId: 't',
    name: 'bearing drift',
    enabled: true,
    trigger: 'telemetry',
    condition,
    actions: [{ type: 'alarm', alarmType: 'BearingWear', severity: 'major' }],
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
}

/** Vibration around 1.0 with a small deterministic wobble, then a step up from sample `stepAt`. */
const vibration = (i: number, stepAt = Infinity): number => 1 + 0.05 * Math.sin(i * 1.7) + (i >= stepAt ? 1 : 0);

describe('rules with detectors', () => {
  it('raises once after the minimum history, with score, baseline and threshold in the alarm details', () => {
    const compiled = compileRule(rule('zscore(vibration, 30) > 4'));
    const state = initialState();
    const edges: { i: number; edge: string; actions: unknown }[] = [];
    for (let i = 0; i < 60; i++) {
      const message = { ts: T0 + i * MIN, values: { vibration: vibration(i, 50) } };
      feedWindows(compiled, state, message);
      const ev = evaluateRule(compiled, state, device, message, none);
      if (ev.edge) edges.push({ i, edge: ev.edge, actions: renderActions(actionsFor(compiled, ev.edge), ev.scope, ev.edge === 'raise' ? detectorDetails(compiled, state) : undefined) });
    }
    assert.equal(edges[0]?.i, 50);
    assert.equal(edges[0]?.edge, 'raise');
    const [alarm] = edges[0]?.actions as { type: string; details: Record<string, unknown> }[];
    assert.equal(alarm?.type, 'alarm');
    const details = alarm?.details ?? {};
    assert.equal(details.detector, 'zscore(vibration, 30)');
    assert.equal(details.threshold, 4);
    assert.equal(details.rule, 'bearing drift');
    assert.equal(details.ts, T0 + 50 * MIN);
    assert.ok((details.score as number) > 4);
    assert.ok(Math.abs((details.baseline as number) - 1) < 0.05);
  });

  it('keeps the details a user wrote, adding the explanation beside them', () => {
    const compiled = compileRule(rule('cusum(vibration, 0.5, 5)', { actions: [{ type: 'alarm', alarmType: 'Drift', details: { note: '${deviceName}', score: 'mine' } }] }));
    const state = initialState();
    let rendered: unknown;
    for (let i = 0; i < 80 && rendered === undefined; i++) {
      const message = { ts: T0 + i * MIN, values: { vibration: vibration(i, 40) } };
      feedWindows(compiled, state, message);
      const ev = evaluateRule(compiled, state, device, message, none);
      if (ev.edge === 'raise') rendered = renderActions(compiled.actions, ev.scope, detectorDetails(compiled, state));
    }
    const details = (rendered as { details: Record<string, unknown> }[])[0]?.details ?? {};
    assert.equal(details.note, 'pump-1');
    assert.equal(details.score, 'mine');
    assert.equal(details.threshold, 5);
    assert.equal(details.detector, 'cusum(vibration, 0.5, 5)');
  });

  it('persists detector state: a restart in the middle continues exactly as without one', () => {
    const compiled = compileRule(rule('rzscore(vibration, 20) > 3 || slope(vibration, 10) > 1'));
    const straight = initialState();
    let restarted: RuleState = initialState();
    const outA: unknown[] = [];
    const outB: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      const message = { ts: T0 + i * MIN, values: { vibration: vibration(i, 70) } };
      feedWindows(compiled, straight, message);
      outA.push(evaluateRule(compiled, straight, device, message, none).matched);
      if (i === 45) restarted = deserializeState(serializeState(restarted));
      feedWindows(compiled, restarted, message);
      outB.push(evaluateRule(compiled, restarted, device, message, none).matched);
    }
    assert.deepEqual(outB, outA);
    assert.deepEqual(JSON.parse(serializeState(restarted)), JSON.parse(serializeState(straight)));
    assert.equal(Object.keys(straight.detectors ?? {}).length, 2);
  });

  it('a corrupt stored detector state starts over instead of failing the rule', () => {
    const compiled = compileRule(rule('zscore(vibration) > 3'));
    const state = deserializeState(JSON.stringify({ v: 1, active: false, windows: {}, detectors: { 'zscore("vibration",100)': [1, 2] } }));
    const message = { ts: T0, values: { vibration: 1 } };
    feedWindows(compiled, state, message);
    assert.equal(evaluateRule(compiled, state, device, message, none).matched, false);
    assert.equal(state.detectors?.['zscore("vibration",100)']?.length, 7);
  });

  it('a wrong detector call fails the rule on save with the field and the position', () => {
    assert.throws(
      () => compileRule(rule('vibration > 2 &&\n  zscore(vibration, 0.5) > 3')),
      (err: unknown) => err instanceof RuleError && err.path === 'condition' && err.position?.line === 2 && err.position.column === 21 && /window must be an integer/.test(err.reason),
    );
    assert.throws(
      () => compileRule(rule('true', { actions: [{ type: 'alarm', alarmType: 'X', details: { s: '${ewma(v)}' } }] })),
      (err: unknown) => err instanceof RuleError && err.path === 'actions[0].details.s' && /ewma\(\) takes 2 arguments/.test(err.reason),
    );
  });
});
