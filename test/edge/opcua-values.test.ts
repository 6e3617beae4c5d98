/**
 * OPC UA values ↔ JSON (src/edge/connectors/opcua/values.ts): what the platform sees of each
 * built-in type, the bounds, and the coercion (with its refusals) of command values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayKind, BuiltIn, fromJson, OpcuaValueError, toJson } from '../../src/edge/connectors/opcua/values.js';
import { callInputs, writeValue } from '../../src/edge/connectors/opcua/commands.js';

const b = { maxStringLength: 8, maxArrayLength: 3 };

test('server values become bounded JSON', () => {
  let cuts = 0;
  const cut = () => cuts++;
  assert.equal(toJson({ dataType: BuiltIn.Float, value: Math.fround(21.3) }, b), 21.3);
  assert.equal(toJson({ dataType: BuiltIn.Double, value: 21.299999237 }, b), 21.299999237);
  assert.equal(toJson({ dataType: BuiltIn.Int64, value: [0, 42] }, b), 42);
  assert.equal(toJson({ dataType: BuiltIn.Int64, value: [0xffffffff, 0xffffffff] }, b), -1);
  assert.equal(toJson({ dataType: BuiltIn.UInt64, value: [0xffffffff, 0xffffffff] }, b), '18446744073709551615');
  assert.equal(toJson({ dataType: BuiltIn.DateTime, value: new Date(Date.UTC(2026, 0, 2)) }, b), '2026-01-02T00:00:00.000Z');
  assert.equal(toJson({ dataType: BuiltIn.LocalizedText, value: { text: 'Kessel' } }, b), 'Kessel');
  assert.equal(toJson({ dataType: BuiltIn.ByteString, value: Buffer.from([1, 2, 3]) }, b), 'AQID');
  assert.equal(toJson({ dataType: BuiltIn.Double, value: Number.NaN }, b), null);
  assert.equal(toJson({ dataType: BuiltIn.String, value: 'abcdefghijkl' }, b, cut), 'abcdefgh');
  assert.deepEqual(toJson({ dataType: BuiltIn.Int32, arrayType: ArrayKind.Array, value: Int32Array.from([1, 2, 3, 4, 5]) }, b, cut), [1, 2, 3]);
  assert.deepEqual(toJson({ dataType: BuiltIn.ExtensionObject, value: { a: 1 } }, b), { a: 1 });
  assert.equal(cuts, 2);
});

test('command values are coerced to the node type or refused with the reason', () => {
  assert.deepEqual(fromJson(55.5, BuiltIn.Float, -1, b), { dataType: BuiltIn.Float, arrayType: ArrayKind.Scalar, value: 55.5 });
  assert.equal(fromJson('12', BuiltIn.UInt16, -1, b).value, 12);
  assert.equal(fromJson(1, BuiltIn.Boolean, -1, b).value, true);
  assert.deepEqual(fromJson('-2', BuiltIn.Int64, -1, b).value, [0xffffffff, 0xfffffffe]);
  assert.deepEqual(fromJson([1, 2], BuiltIn.Byte, 1, b), { dataType: BuiltIn.Byte, arrayType: ArrayKind.Array, value: [1, 2] });
  assert.ok(fromJson('2026-01-02T00:00:00Z', BuiltIn.DateTime, -1, b).value instanceof Date);
  const refused: [unknown, number, number, RegExp][] = [
    [256, BuiltIn.Byte, -1, /integer 0\.\.255 \(Byte\)/],
    [1.5, BuiltIn.Int32, -1, /integer/],
    ['warm', BuiltIn.Double, -1, /expected a number/],
    [1e39, BuiltIn.Float, -1, /Float range/],
    ['abcdefghijk', BuiltIn.String, -1, /longer than 8/],
    [[1, 2, 3, 4], BuiltIn.Int32, 1, /longer than 3/],
    [[1, 'x'], BuiltIn.Int32, 1, /\[1\]: expected a number/],
    [[1], BuiltIn.Int32, -1, /not an array/],
    [5, BuiltIn.Int32, 1, /an array of Int32/],
    ['18446744073709551616', BuiltIn.UInt64, -1, /out of range/],
    [{ a: 1 }, BuiltIn.ExtensionObject, -1, /not supported/],
    ['yes', BuiltIn.Boolean, -1, /true or false/],
  ];
  for (const [json, type, rank, message] of refused) assert.throws(() => fromJson(json as never, type, rank, b), (err: Error) => err instanceof OpcuaValueError && message.test(err.message), `${JSON.stringify(json)} as ${type}`);
});

test('command params: value, positional and named method arguments', () => {
  assert.equal(writeValue(undefined, { value: 3 }), 3);
  assert.equal(writeValue(undefined, 7), 7);
  assert.equal(writeValue(45, { value: 3 }), 45);
  assert.throws(() => writeValue(undefined, { v: 1 }), /params\.value is missing/);
  assert.deepEqual(callInputs(['level', 'mode'], { mode: 'x', level: 2 }), [2, 'x']);
  assert.deepEqual(callInputs(['level', 'mode'], [2, 'x']), [2, 'x']);
  assert.deepEqual(callInputs(['level'], 2), [2]);
  assert.throws(() => callInputs(['level', 'mode'], { level: 2 }), /params\.mode is missing/);
  assert.throws(() => callInputs(['level'], [1, 2]), /expected 1 argument/);
});
