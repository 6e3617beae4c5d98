/**
 * What a device's JSON may hold once decoded (issue 12, item 5): every codec's output passes
 * validatePoints (telemetry) or AttributeService (attributes) before it is queued or stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/adapters/codec/json/index.js';
import { senmlCodec } from '../../src/adapters/codec/senml/index.js';
import { AttributeService } from '../../src/services/attributes.js';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_POINT_LIMITS, validatePoints } from '../../src/domain/telemetry.js';
import { isPlatformError, type ErrorCode } from '../../src/domain/errors.js';

const NOW = 1_700_000_000_000;

/** Decodes and validates as DeviceService + IngestService do; returns the error code or 'ok'. */
function verdict(payload: string | Buffer, codec = jsonCodec): ErrorCode | 'ok' {
  try {
    validatePoints(codec.decodeTelemetry(Buffer.isBuffer(payload) ? payload : Buffer.from(payload), NOW), NOW, DEFAULT_POINT_LIMITS);
    return 'ok';
  } catch (err) {
    assert.ok(isPlatformError(err), `a PlatformError, not ${String(err)}`);
    return err.code;
  }
}

const deep = (levels: number): string => `{"k":${'['.repeat(levels)}${']'.repeat(levels)}}`;

test('regression: a value nested 100,000 levels deep is accepted and overflows JSON.stringify later', () => {
  assert.equal(verdict(deep(100_000)), 'NESTING_TOO_DEEP');
  assert.equal(verdict(deep(30)), 'ok', 'ThingsBoard JSON values may be objects: 31 levels in all are fine');
  assert.equal(verdict(deep(32)), 'NESTING_TOO_DEEP');
});

test('regression: numbers that parse to Infinity inside a JSON value are stored as null', () => {
  assert.equal(verdict('{"k":1e999}'), 'NON_FINITE_NUMBER');
  assert.equal(verdict('{"k":{"nested":[1,-1e999]}}'), 'NON_FINITE_NUMBER');
});

test('regression: invalid UTF-8 bytes are stored as U+FFFD instead of being refused', () => {
  assert.equal(verdict(Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 'INVALID_TEXT');
  assert.equal(verdict(Buffer.from('{"k":"\xed\xa0\x80"}', 'latin1')), 'INVALID_TEXT', 'an encoded surrogate is not UTF-8');
  assert.equal(verdict('{"k":"héllo ✓ 𝄞"}'), 'ok');
});

test('regression: a lone surrogate escape (\\ud800) is stored as U+FFFD', () => {
  assert.equal(verdict('{"k":"\\ud800"}'), 'INVALID_TEXT');
  assert.equal(verdict('{"\\udc00":1}'), 'INVALID_TEXT');
  assert.equal(verdict('{"k":{"a":"x\\ud800"}}'), 'INVALID_TEXT');
  assert.equal(verdict('{"k":"\\ud834\\udd1e"}'), 'ok', 'a surrogate pair is one character');
});

test('string values, keys and values per message have limits', () => {
  assert.equal(verdict(JSON.stringify({ k: 'x'.repeat(64 * 1024) })), 'ok');
  assert.equal(verdict(JSON.stringify({ k: 'x'.repeat(64 * 1024 + 1) })), 'VALUE_TOO_LONG');
  assert.equal(verdict(JSON.stringify({ k: { nested: 'x'.repeat(64 * 1024 + 1) } })), 'VALUE_TOO_LONG');
  assert.equal(verdict(JSON.stringify({ ['k'.repeat(256)]: 1 })), 'KEY_TOO_LONG');
  const many = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]));
  assert.equal(verdict(JSON.stringify(many)), 'TOO_MANY_VALUES');
  assert.equal(verdict(JSON.stringify([{ ts: 1, values: { a: 1 } }, { ts: 2, values: { a: 2 } }])), 'ok');
});

test('regression: a "__proto__" key is accepted and becomes a prototype downstream', () => {
  assert.equal(verdict('{"__proto__":{"polluted":1}}'), 'MALFORMED_PAYLOAD');
  assert.equal(verdict('{"k":{"__proto__":1}}'), 'MALFORMED_PAYLOAD');
  assert.equal(verdict('{"constructor":1,"prototype":2}'), 'ok', 'ordinary names, stored as keys');
  assert.equal(verdict('[{"n":"__proto__","v":1}]', senmlCodec), 'MALFORMED_PAYLOAD');
});

test('SenML garbage gets a clear refusal', () => {
  assert.equal(verdict('{"n":"a"}', senmlCodec), 'MALFORMED_PAYLOAD');
  assert.equal(verdict('[{"n":"a","v":"1"}]', senmlCodec), 'MALFORMED_PAYLOAD');
  assert.equal(verdict('[{"n":"a","v":1e999}]', senmlCodec), 'NON_FINITE_NUMBER');
  assert.equal(verdict('[{"n":"a","vs":"\\ud800"}]', senmlCodec), 'INVALID_TEXT');
  assert.equal(verdict(`[{"n":"a","vd":${'['.repeat(1000)}${']'.repeat(1000)}}]`, senmlCodec), 'MALFORMED_PAYLOAD');
});

test('regression: client attributes nested 100,000 levels deep reach the store', async () => {
  const store = createMemoryStore();
  const attributes = new AttributeService({ store, bus: new MemoryBus(), clock: { now: () => NOW } });
  const write = (text: string) => attributes.set('t', 'd', 'client', jsonCodec.decodeAttributes(Buffer.from(text)));
  await assert.rejects(write(deep(100_000)), (e: unknown) => isPlatformError(e, 'NESTING_TOO_DEEP'));
  await assert.rejects(write('{"k":"\\ud800"}'), (e: unknown) => isPlatformError(e, 'INVALID_TEXT'));
  await assert.rejects(write('{"k":[1e999]}'), (e: unknown) => isPlatformError(e, 'NON_FINITE_NUMBER'));
  await assert.rejects(write('{"__proto__":1}'), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
  await write('{"fw":"1.2","cfg":{"a":[1,2]}}');
  assert.deepEqual((await attributes.values('d', 'client', undefined)).cfg, { a: [1, 2] });
  // SenML names become own keys (not the object's prototype), which the service then refuses.
  const senml = senmlCodec.decodeAttributes(Buffer.from('[{"n":"__proto__","v":1}]'));
  assert.deepEqual(Object.keys(senml), ['__proto__']);
  await assert.rejects(attributes.set('t', 'd', 'client', senml), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
  await store.close();
});
