import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { senmlCodec } from '../../../src/adapters/codec/senml/index.js';
import { CodecRegistry } from '../../../src/services/codec-registry.js';
import { BUILTIN_CODECS } from '../../../src/adapters/codec/builtin.js';
import { isPlatformError } from '../../../src/domain/errors.js';

const NOW = 1_700_000_000_000;

test('RFC 8428 §5.1.4 example: base name, base time, relative times, value types', () => {
  const pack = readFileSync(new URL('../../fixtures/payloads/senml-rfc8428-multiple.json', import.meta.url));
  const points = senmlCodec.decodeTelemetry(pack, NOW);
  const bn = 'urn:dev:ow:10e2073a01080063:';
  assert.deepEqual(points[0], { key: bn, ts: 1_320_067_464_000, value: 20 });
  assert.deepEqual(points[3], { key: bn, ts: 1_320_067_524_000, value: 20.3 });
  assert.deepEqual(points[5], { key: `${bn}switch`, ts: 1_320_067_464_000, value: true });
  assert.deepEqual(points[6], { key: `${bn}label`, ts: 1_320_067_464_000, value: 'kitchen' });
});

test('times below 2^28 are relative to now (RFC 8428 §4.5.3)', () => {
  const points = senmlCodec.decodeTelemetry(Buffer.from('[{"n":"t","v":1,"t":-10}]'), NOW);
  assert.deepEqual(points, [{ key: 't', ts: NOW - 10_000, value: 1 }]);
});

test('a SenML body that is not an array is rejected', () => {
  assert.throws(() => senmlCodec.decodeTelemetry(Buffer.from('{"n":"a"}'), NOW), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
});

test('the content type picks the codec over the profile; unknown types are 4.15/415', () => {
  const codecs = new CodecRegistry(BUILTIN_CODECS);
  assert.equal(codecs.resolve('json', 'application/senml+json').name, 'senml');
  assert.equal(codecs.resolve('senml', 'application/json; charset=utf-8').name, 'json');
  assert.equal(codecs.resolve('senml').name, 'senml');
  assert.throws(() => codecs.resolve('json', 'application/cbor'), (e: unknown) => isPlatformError(e, 'UNSUPPORTED_CONTENT'));
});
