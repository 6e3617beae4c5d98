import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, RuleError } from '../../../src/domain/rules/compile.js';
import type { Rule } from '../../../src/domain/rules/model.js';
import { evaluateRule, feedWindows, type Lookups } from '../../../src/domain/rules/runtime.js';
import { deserializeState, initialState, serializeState, type RuleState } from '../../../src/domain/rules/state.js';
import type { Zone } from '../../../src/domain/zones/zone.js';

const S = 1000;
const T0 = Date.UTC(2026, 0, 5, 8);
const device = { id: 'van-1', name: 'van-1' };
/** A circle of 100 m radius, 20 m margin, around (52.52, 13.40). */
const depot: Zone = { id: 'z-depot', tenantId: 't', name: 'depot', ownerType: 'tenant', geometry: { type: 'Point', coordinates: [13.4, 52.52], radius: 100 }, marginM: 20, createdAt: 0, updatedAt: 0 };
const lookups: Lookups = { latest: () => undefined, attr: () => undefined, zone: (ref) => (ref === 'depot' || ref === 'z-depot' ? depot : undefined) };
/** Latitude `metres` north of the depot's centre. */
const north = (metres: number): number => 52.52 + metres / 111_195;

function rule(condition: string): Rule {
  return { id: 'r1', tenantId: 't', name: 'depot', enabled: true, trigger: 'telemetry', condition, actions: [{ type: 'log', message: 'x' }], createdAt: 0, updatedAt: 0 };
}

/** Drives the rule over positions (metres north of the centre, one a second) and answers the raise edges' indices and each evaluation's value. */
function drive(condition: string, metres: readonly number[], state: RuleState = initialState(), start = T0): { raises: number[]; state: RuleState } {
  const compiled = compileRule(rule(condition));
  const raises: number[] = [];
  metres.forEach((m, i) => {
    const message = { ts: start + i * S, values: { latitude: north(m), longitude: 13.4 } };
    feedWindows(compiled, state, message, lookups);
    if (evaluateRule(compiled, state, device, message, lookups).edge === 'raise') raises.push(i);
  });
  return { raises, state };
}

describe('entered / left / dwell', () => {
  it('fires entered once on entering, left once on leaving', () => {
    const path = [300, 200, 150, 90, 50, 0, 50, 90, 150, 300];
    assert.deepEqual(drive('entered(depot)', path).raises, [3]);
    assert.deepEqual(drive('left(depot)', path).raises, [8]);
  });

  it('ignores GPS jitter across the boundary inside the margin', () => {
    // Parked on the boundary: positions wander between 95 m (in) and 118 m (band, margin 20 m).
    const jitter = [300, 95, 110, 97, 118, 99, 112, 96, 115, 300];
    assert.deepEqual(drive('entered(depot)', jitter).raises, [1], 'one entry');
    assert.deepEqual(drive('left(depot)', jitter).raises, [9], 'one exit, beyond the margin');
  });

  it('with a delay, fires only after the device stayed inside that long', () => {
    // In for 20 s and out again: no entry; then in for 40 s: an entry 30 s after it came in.
    const path = [300, ...Array(20).fill(50), 300, 300, ...Array(40).fill(50)];
    const { raises } = drive('entered(depot, "30s")', path);
    assert.deepEqual(raises, [23 + 30], "inside from index 23");
    assert.deepEqual(drive('entered(depot, 30)', path).raises, [53], 'a number is seconds');
  });

  it('does not report the first position as an entry', () => {
    assert.deepEqual(drive('entered(depot)', [0, 0, 300, 0]).raises, [3]);
  });

  it('dwell counts seconds inside from the entry, 0 outside', () => {
    const compiled = compileRule(rule('dwell(depot) >= 10'));
    const state = initialState();
    const values: unknown[] = [];
    [300, 50, 50, 50, 300].forEach((m, i) => {
      const message = { ts: T0 + i * 5 * S, values: { latitude: north(m), longitude: 13.4 } };
      feedWindows(compiled, state, message, lookups);
      values.push(evaluateRule(compiled, state, device, message, lookups).matched);
    });
    assert.deepEqual(values, [false, false, false, true, false]);
    const again = drive('dwell(depot) >= 15', [300, 50, 50, 50, 50]);
    assert.deepEqual(again.raises, [], '3 s later: 3 s inside');
  });

  it('keeps constant-size state that survives serialization mid-drive', () => {
    const first = drive('entered(depot, "5s")', [300, 50, 50, 50]);
    const json = serializeState(first.state);
    assert.ok(json.length < 200, json);
    const restored = deserializeState(json);
    assert.deepEqual(restored.geofences, first.state.geofences);
    const rest = drive('entered(depot, "5s")', [50, 50, 50], restored, T0 + 4 * S);
    assert.deepEqual(rest.raises, [2], 'entered 5 s after the first inside position (1 s), at 6 s');
  });

  it('answers null for an unknown zone, and checks the arguments when the rule is saved', () => {
    assert.deepEqual(drive('entered(nowhere) == null', [0, 300]).raises, [0]);
    assert.throws(() => compileRule(rule('entered()')), RuleError);
    assert.throws(() => compileRule(rule('entered(depot, "soon")')), /delay/);
    assert.throws(() => compileRule(rule('dwell(depot, "2d")')), /1 day/);
    assert.throws(() => compileRule(rule('left(1)')), /zone name/);
  });
});
