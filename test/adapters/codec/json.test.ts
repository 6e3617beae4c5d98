import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../../src/adapters/codec/json/index.js';
import { isPlatformError } from '../../../src/domain/errors.js';

const NOW = 1_700_000_000_000;
const decode = (text: string) => jsonCodec.decodeTelemetry(Buffer.from(text), NOW);

test('a flat object is one reading stamped with the arrival time', () => {
  assert.deepEqual(decode('{"temperature":21.5,"on":true,"mode":"eco","cfg":{"a":[1,2]}}'), [
    { key: 'temperature', ts: NOW, value: 21.5 },
    { key: 'on', ts: NOW, value: true },
    { key: 'mode', ts: NOW, value: 'eco' },
    { key: 'cfg', ts: NOW, value: { a: [1, 2] } },
  ]);
});

test('{ts, values} carries the device timestamp; arrays mix both forms', () => {
  assert.deepEqual(decode('[{"ts":1000,"values":{"a":1}},{"b":2}]'), [
    { key: 'a', ts: 1000, value: 1 },
    { key: 'b', ts: NOW, value: 2 },
  ]);
});

test('null values are skipped, not stored', () => {
  assert.deepEqual(decode('{"a":null,"b":1}'), [{ key: 'b', ts: NOW, value: 1 }]);
});

test('malformed JSON and non-object bodies are MALFORMED_PAYLOAD', () => {
  assert.throws(() => decode('{"a":'), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
  assert.throws(() => decode('42'), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
  assert.throws(() => jsonCodec.decodeAttributes(Buffer.from('[1]')), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
});

test('a non-numeric ts is rejected with a reason', () => {
  assert.throws(() => decode('{"ts":"yesterday","values":{"a":1}}'), (e: unknown) => isPlatformError(e, 'INVALID_TELEMETRY'));
});
