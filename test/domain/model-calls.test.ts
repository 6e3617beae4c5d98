import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExpressionError } from '../../src/domain/expression/index.js';

function errorOf(src: string): ExpressionError {
  try {
    compileExpression(src);
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  assert.fail(`${src} compiled`);
}

describe('model calls: expected, deviation, forecastMin, forecastMax', () => {
  it('are collected once per slot with the threshold they are compared with', () => {
    const a = compileExpression('abs(deviation(load)) > 4 || expected("load") < 3 || forecastMin(level, 6) < 5 || deviation(load) < -4').analysis;
    assert.deepEqual(
      a.models.map((m) => [m.slot, m.threshold]),
      [
        ['deviation("load")', 4],
        ['expected("load")', 3],
        ['forecastMin("level",6)', 5],
      ],
    );
    assert.equal(a.detectors.length, 0);
  });

  it('are checked when saved, with the position of the argument at fault', () => {
    assert.match(errorOf('deviation(load, 3) > 1').message, /deviation\(\) takes 1 argument, got 2/);
    assert.match(errorOf('forecastMin(level) < 1').message, /takes 2 arguments/);
    const e = errorOf('forecastMax(level, 200) > 1');
    assert.match(e.message, /hours must be an integer literal from 1 to 168/);
    assert.equal(e.position.column, 20);
    assert.match(errorOf('forecastMin(level, 1.5) < 1').message, /integer literal/);
    assert.match(errorOf('expected(1) > 1').message, /telemetry key/);
  });

  it('answer null in a scope without models (the condition does not hold)', async () => {
    const { evaluate } = await import('../../src/domain/expression/index.js');
    const c = compileExpression('deviation(load) > 1 || !(expected(load) == null)');
    const scope = { ident: () => undefined, window: () => null, attr: () => undefined, latest: () => undefined, detector: () => null };
    assert.equal(evaluate(c.node, scope), false);
  });
});
