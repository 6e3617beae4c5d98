/**
 * Rule expressions from the grammar of src/domain/expression (parser.ts): every level of
 * precedence, literals, dotted names, lists, whitelisted and unknown calls, windows; then token
 * soup (the language's tokens in random order) and plain random text, and the long inputs its
 * caps exist for (4,096 characters, 64 levels).
 */
import fc from 'fast-check';
import type { JsonValue } from '../../../src/domain/telemetry.js';

const space = fc.constantFrom('', ' ', '  ', '\n', '\t');
const join = (parts: readonly string[], sep: string): string => parts.join(sep);

export const numberLiteral = fc.oneof(
  fc.nat().map(String),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => String(n)),
  fc.constantFrom('0', '.5', '1e3', '1E-3', '1e400', '0.0000001', '9007199254740993', '1e308', '2e308'),
);

export const stringLiteral = fc.oneof(
  fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"10m"', '"30s"', '"2h"', '"client"', '"shared"', '"server"', "'a\\'b'", '"\\u0041"', '"\\$"', '"7d"', '"8d"', '"0s"'),
);

export const identifier = fc.oneof(
  fc.constantFrom('temperature', 'humidity', 'moisture', 'deviceName', 'gps.lat', 'gps.lon', 'shared.geofence', 'client.fw', 'server.limit', 'shared.rainForecast', 'a.b.c', '_x', 'x1'),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
);

const FUNCTIONS = ['avg', 'min', 'max', 'sum', 'count', 'rate', 'attr', 'latest', 'abs', 'round', 'distance', 'inside', 'nosuch', 'eval'];

interface Levels {
  or: fc.Arbitrary<string>;
  cmp: fc.Arbitrary<string>;
  add: fc.Arbitrary<string>;
  unary: fc.Arbitrary<string>;
  primary: fc.Arbitrary<string>;
}

/** Source text by precedence level, so that every generated expression is syntactically valid. */
function grammar(depth: number): Levels {
  if (depth <= 0) {
    const atom = fc.oneof(numberLiteral, stringLiteral, identifier, fc.constantFrom('true', 'false', 'null'));
    return { or: atom, cmp: atom, add: atom, unary: atom, primary: atom };
  }
  const inner = grammar(depth - 1);
  const call = fc.tuple(fc.constantFrom(...FUNCTIONS), fc.array(fc.oneof(inner.or, identifier, stringLiteral), { maxLength: 4, size: 'xsmall' })).map(([f, args]) => `${f}(${join(args, ', ')})`);
  const windowCall = fc.tuple(fc.constantFrom('avg', 'min', 'max', 'sum', 'count', 'rate'), identifier, fc.oneof(stringLiteral, fc.integer({ min: -2, max: 10_001 }).map(String))).map(([f, k, w]) => `${f}(${k}, ${w})`);
  const primary = fc.oneof(
    { weight: 4, arbitrary: inner.primary },
    { weight: 1, arbitrary: inner.or.map((e) => `(${e})`) },
    { weight: 1, arbitrary: fc.array(inner.or, { maxLength: 4, size: 'xsmall' }).map((items) => `[${join(items, ', ')}]`) },
    { weight: 1, arbitrary: call },
    { weight: 1, arbitrary: windowCall },
  );
  const unary = fc.oneof({ weight: 3, arbitrary: primary }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('!', '-', '--', '!!', '-!'), primary).map(([op, p]) => op + p) });
  // Each level either passes the tighter one through or applies its operator once: the text
  // grows with the depth, not with its power.
  const binary = (operand: fc.Arbitrary<string>, ops: readonly string[]): fc.Arbitrary<string> =>
    fc.oneof({ weight: 2, arbitrary: operand }, { weight: 1, arbitrary: fc.tuple(operand, fc.constantFrom(...ops), operand, space).map(([l, op, r, s]) => `${l}${s}${op} ${r}`) });
  const mul = binary(unary, ['*', '/', '%']);
  const add = binary(mul, ['+', '-']);
  const cmp = binary(add, ['<', '<=', '>', '>=', ' in']);
  const eq = binary(cmp, ['==', '!=']);
  const and = binary(eq, ['&&']);
  const or = binary(and, ['||']);
  return { or, cmp, add, unary, primary };
}

/** Syntactically valid expressions (they may still fail the check: unknown functions, arity). */
const GRAMMARS = [0, 1, 2, 3, 4].map((d) => grammar(d).or);
export const grammarExpression: fc.Arbitrary<string> = fc.oneof(...GRAMMARS);

const token = fc.oneof(
  fc.constantFrom('&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', 'in', '=', '&', '|', '.', '"', "'", '\\', '${', '}', '$'),
  identifier,
  numberLiteral,
  stringLiteral,
);

/** The language's tokens in random order: most are parse errors, which must point at a position. */
export const tokenSoup: fc.Arbitrary<string> = fc.array(fc.tuple(token, space), { maxLength: 20 }).map((ts) => ts.map(([t, s]) => t + s).join(''));

/** Inputs at and past the parser's caps (4,096 characters, 64 levels). */
export const longExpression: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 60, max: 5000 }).map((n) => '('.repeat(n) + '1' + ')'.repeat(n)),
  fc.integer({ min: 60, max: 5000 }).map((n) => '-'.repeat(n) + '1'),
  fc.integer({ min: 60, max: 5000 }).map((n) => '!'.repeat(n) + 'x'),
  fc.integer({ min: 60, max: 2100 }).map((n) => '1+'.repeat(n) + '1'),
  fc.integer({ min: 60, max: 1400 }).map((n) => 'x&&'.repeat(n) + 'x'),
  fc.integer({ min: 60, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 60, max: 1000 }).map((n) => 'abs('.repeat(n) + '1' + ')'.repeat(n)),
  fc.integer({ min: 4000, max: 5000 }).map((n) => `"${'a'.repeat(n)}"`),
  fc.integer({ min: 100, max: 4000 }).map((n) => `[${Array.from({ length: n }, () => '1').join(',')}]`.slice(0, 4096)),
);

/** The evaluator's functions over scope values (the grammar rarely gives each argument a number). */
const functionCall: fc.Arbitrary<string> = fc.oneof(
  fc.constant('distance(a, b, c, d)'),
  fc.constant('inside(a, b, c)'),
  fc.constant('round(a, b)'),
  fc.constant('abs(a) + -b * c / d % e'),
  fc.constant('[a, b] == [c, d] || a in b'),
);

/** Any expression text the API may receive. */
export const anyExpression: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: grammarExpression },
  { weight: 1, arbitrary: functionCall },
  { weight: 3, arbitrary: tokenSoup },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: longExpression },
);

/** Template strings: text with `${…}` holes, `$${` escapes and unbalanced braces. */
export const anyTemplate: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.string({ maxLength: 6 }), anyExpression.map((e) => '${' + e + '}'), fc.constantFrom('$${', '${', '}', '$', '"')), { maxLength: 5 })
  .map((parts) => parts.join(''));

/** JSON values a scope may hand the evaluator: what devices report and attributes hold. */
export const scopeValue: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true })), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue> },
);
