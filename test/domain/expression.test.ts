import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluate, ExpressionError, parseTemplate, renderTemplate, type Scope } from '../../src/domain/expression/index.js';
import type { JsonValue } from '../../src/domain/telemetry.js';

function scope(values: Record<string, JsonValue>, extra: Partial<Scope> = {}): Scope {
  return {
    ident: (n) => (Object.hasOwn(values, n) ? values[n] : undefined),
    window: () => null,
    attr: () => undefined,
    latest: () => undefined,
    detector: () => null,
    ...extra,
  };
}

const run = (src: string, values: Record<string, JsonValue> = {}, extra: Partial<Scope> = {}): JsonValue => evaluate(compileExpression(src).node, scope(values, extra));

function errorOf(src: string): ExpressionError {
  try {
    compileExpression(src);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, String(err));
    return err;
  }
  assert.fail(`"${src}" compiled`);
}

describe('expression parser: errors point at the text', () => {
  const cases: [string, number, number, RegExp][] = [
    ['batteryLevel <', 1, 15, /unexpected end/],
    ['batteryLevel = 10', 1, 14, /use ==/],
    ['a < b < c', 1, 7, /cannot be chained/],
    ['(a + 1', 1, 7, /expected "\)"/],
    ['foo(1)', 1, 1, /unknown function "foo"/],
    ['avg(t, "10q") > 1', 1, 8, /not a duration/],
    ['avg(t) > 1', 1, 1, /takes 2 arguments/],
    ['avg(t, 0) > 1', 1, 8, /message count/],
    ['attr("x", "global")', 1, 11, /unknown attribute scope/],
    ['x > 1 &&\n  y < 2 &&\n  bogus(3)', 3, 3, /unknown function "bogus"/],
    ['"open', 1, 1, /unterminated string/],
    ['x & y', 1, 3, /use &&/],
    ['1 2', 1, 3, /after the end/],
    ['', 1, 1, /empty expression/],
    ['a.b(1)', 1, 1, /not a function/],
    ['12abc', 1, 1, /malformed number/],
  ];
  for (const [src, line, column, message] of cases) {
    it(JSON.stringify(src), () => {
      const err = errorOf(src);
      assert.match(err.reason, message);
      assert.deepEqual([err.position.line, err.position.column], [line, column]);
      const lines = src.split('\n');
      const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
      assert.equal(err.position.offset, offset);
    });
  }

  it('bounds nesting and length', () => {
    assert.match(errorOf('('.repeat(100) + '1' + ')'.repeat(100)).reason, /nested deeper/);
    assert.match(errorOf('x'.repeat(5000)).reason, /longer than/);
  });
});

describe('expression evaluation', () => {
  it('follows precedence and associativity', () => {
    assert.equal(run('1 + 2 * 3'), 7);
    assert.equal(run('(1 + 2) * 3'), 9);
    assert.equal(run('10 - 4 - 3'), 3);
    assert.equal(run('2 * 3 % 4'), 2);
    assert.equal(run('-2 * -3'), 6);
    assert.equal(run('!false && true || false'), true);
    assert.equal(run('1 < 2 == true'), true);
  });

  it('compares, tests membership and handles strings', () => {
    assert.equal(run('mode == "eco"', { mode: 'eco' }), true);
    assert.equal(run('mode != "eco"', { mode: 'eco' }), false);
    assert.equal(run('mode in ["eco", "off"]', { mode: 'off' }), true);
    assert.equal(run('"co" in mode', { mode: 'eco' }), true);
    assert.equal(run('"a" < "b"'), true);
    assert.equal(run('"id-" + n', { n: 7 }), 'id-7');
    assert.equal(run('[1, 2] == [1, 2]'), true);
    assert.equal(run("'it\\'s'"), "it's");
  });

  it('treats missing data as null, quietly', () => {
    assert.equal(run('batteryLevel < 10'), false);
    assert.equal(run('batteryLevel > 10'), false);
    assert.equal(run('batteryLevel + 1'), null);
    assert.equal(run('!rainForecast'), true);
    assert.equal(run('x == null'), true);
    assert.equal(run('1 / 0'), null);
    assert.equal(run('n in null'), false);
  });

  it('throws on real type mistakes, with the position of the operator', () => {
    assert.throws(() => run('name * 2', { name: 'pump' }), (e: unknown) => e instanceof ExpressionError && e.position.column === 6 && /cannot apply \*/.test(e.reason));
    assert.throws(() => run('level < "high"', { level: 3 }), /cannot compare number < string/);
    assert.throws(() => run('abs(name)', { name: 'x' }), /abs\(\) needs a number/);
    assert.throws(() => run('1 in 2'), /"in" needs a list/);
  });

  it('short-circuits: the right side is not evaluated when the left decides', () => {
    assert.equal(run('false && (name * 2 > 1)', { name: 'x' }), false);
    assert.equal(run('true || (name * 2 > 1)', { name: 'x' }), true);
  });

  it('calls the whitelisted functions', () => {
    const calls: string[] = [];
    const extra: Partial<Scope> = {
      window: (agg, key, spec) => (calls.push(`${agg}:${key}:${spec.kind === 'time' ? spec.ms : spec.n}`), 4),
      attr: (name, s) => (name === 'rainForecast' && (s ?? 'any') !== 'client' ? true : undefined),
      latest: (key) => (key === 'fw' ? '1.2' : undefined),
    };
    assert.equal(run('avg(t, "10m") + min("t", 5) + rate(t, "5m")', {}, extra), 12);
    assert.deepEqual(calls, ['avg:t:600000', 'min:t:5', 'rate:t:300000']);
    assert.equal(run('attr("rainForecast")', {}, extra), true);
    assert.equal(run('attr("rainForecast", "client")', {}, extra), null);
    assert.equal(run('shared.rainForecast', {}, extra), true);
    assert.equal(run('latest("fw")', {}, extra), '1.2');
    assert.equal(run('round(2.345, 2) + abs(-1)'), 3.35);
  });

  it('reports what an expression reads', () => {
    const { analysis } = compileExpression('soil < 30 && avg(soil, "10m") < 35 && !attr("rainForecast") && server.limit > latest("x") && gps.lat > 0');
    assert.deepEqual(analysis.identifiers, ['soil', 'gps.lat']);
    assert.deepEqual(analysis.windows, [{ agg: 'avg', key: 'soil', spec: { kind: 'time', ms: 600_000 } }]);
    assert.deepEqual(analysis.attributes, [{ name: 'rainForecast' }, { name: 'limit', scope: 'server' }]);
    assert.deepEqual(analysis.latestKeys, ['x']);
  });
});

describe('templates', () => {
  it('interpolates, keeps the type of a lone expression, and escapes', () => {
    const s = scope({ deviceName: 'farm-1', soilMoisture: 21.5, on: true });
    assert.equal(renderTemplate(parseTemplate('${deviceName}: moisture ${soilMoisture}'), s), 'farm-1: moisture 21.5');
    assert.equal(renderTemplate(parseTemplate('${soilMoisture < 30}'), s), true);
    assert.equal(renderTemplate(parseTemplate('$${literal} ${"}"}'), s), '${literal} }');
    assert.equal(renderTemplate(parseTemplate('missing: ${nothing}.'), s), 'missing: .');
  });

  it('points at errors inside the string', () => {
    assert.throws(() => parseTemplate('level ${x +}'), (e: unknown) => e instanceof ExpressionError && e.position.column === 12);
    assert.throws(() => parseTemplate('open ${x'), (e: unknown) => e instanceof ExpressionError && e.position.column === 6);
  });
});

describe('geofences: distance() and inside()', () => {
  const depot = [
    [52.519, 13.4035],
    [52.519, 13.4065],
    [52.521, 13.4065],
    [52.521, 13.4035],
  ];
  const fence = { attr: (n: string) => (n === 'depot' ? depot : n === 'broken' ? [[1, 2]] : undefined) };

  it('measures great-circle distance in metres', () => {
    // Brandenburg Gate → Alexanderplatz is about 2.25 km.
    const d = run('distance(52.5163, 13.3777, 52.5219, 13.4132)') as number;
    assert.ok(d > 2_200 && d < 2_500, String(d));
    assert.equal(run('distance(lat, 13.4, 52.5, 13.4)', { lat: null }), null);
  });

  it('tests a point against a polygon from an attribute or a literal list', () => {
    assert.equal(run('inside(52.520, 13.405, attr("depot"))', {}, fence), true);
    assert.equal(run('inside(52.525, 13.405, attr("depot"))', {}, fence), false);
    assert.equal(run('inside(0.5, 0.5, [[0, 0], [0, 1], [1, 1], [1, 0]])'), true);
    const two = '[[[0, 0], [0, 1], [1, 1], [1, 0]], [[5, 5], [5, 6], [6, 6], [6, 5]]]';
    assert.equal(run(`inside(5.5, 5.5, ${two})`), true, 'in the second of two polygons');
    assert.equal(run(`inside(3, 3, ${two})`), false);
    assert.equal(run('inside(52.52, 13.40, attr("missing"))', {}, fence), null, 'no fence yet: no value, no error');
  });

  it('rejects a malformed polygon at evaluation and wrong arity at compile time', () => {
    assert.throws(() => run('inside(1, 2, attr("broken"))', {}, fence), /polygon/);
    assert.match(errorOf('inside(1, 2)').message, /takes 3 arguments/);
    assert.match(errorOf('distance(1, 2, 3)').message, /takes 4 arguments/);
  });
});
