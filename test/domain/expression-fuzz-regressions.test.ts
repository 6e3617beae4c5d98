/**
 * Bugs the fuzzer found in the expression language (bench/fuzz, `npm run bench -- fuzz`); the
 * shrunk counterexamples are kept in test/fixtures/fuzz/expression-non-finite.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileExpression, evaluate, ExpressionError, parseTemplate, renderTemplate, type Scope } from '../../src/domain/expression/index.js';
import type { JsonValue } from '../../src/domain/telemetry.js';

interface Case {
  readonly bug: string;
  readonly expression?: string;
  readonly template?: string;
  readonly scope: JsonValue[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/fuzz/expression-non-finite.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** Every lookup answers the scope's values in turn, as the fuzzer's scope did. */
function scopeOf(values: readonly JsonValue[]): Scope {
  let i = 0;
  const next = (): JsonValue | undefined => (values.length === 0 ? undefined : values[i++ % values.length]);
  return { ident: next, attr: next, latest: next, window: () => null, detector: () => null };
}

/** Finite or no value at all: either way it survives JSON. */
function assertJsonSafe(value: JsonValue, what: string): void {
  assert.ok(typeof value !== 'number' || Number.isFinite(value), `${what} gave ${String(value)}`);
}

test('regression: a number literal past Number.MAX_VALUE (1e400) evaluated to Infinity; it is now a parse error with its position', () => {
  for (const c of fixture.cases.filter((x) => x.expression !== undefined && /literal/.test(x.bug))) {
    assert.throws(
      () => compileExpression(c.expression as string),
      (e: unknown) => e instanceof ExpressionError && /out of range/.test(e.reason) && e.position.column >= 1,
    );
  }
  assert.equal(evaluate(compileExpression('1e308 * 10').node, scopeOf([])), null, 'arithmetic overflow stays "no value"');
});

test('regression: a template holding 1e400 rendered Infinity', () => {
  for (const c of fixture.cases.filter((x) => x.template !== undefined)) {
    assert.throws(() => parseTemplate(c.template as string), ExpressionError);
  }
  assertJsonSafe(renderTemplate(parseTemplate('${a * a}'), scopeOf([1e308])), 'a * a');
});

test('regression: distance() of coordinates far out of range evaluated to NaN instead of no value', () => {
  for (const c of fixture.cases.filter((x) => x.expression?.startsWith('distance'))) {
    const value = evaluate(compileExpression(c.expression as string).node, scopeOf(c.scope));
    assertJsonSafe(value, `${c.expression} over ${JSON.stringify(c.scope)}`);
    assert.equal(value, null);
  }
  const berlinParis = evaluate(compileExpression('distance(52.52, 13.405, 48.8566, 2.3522)').node, scopeOf([])) as number;
  assert.ok(Math.abs(berlinParis - 878_000) < 5_000, `${berlinParis}`);
});
