/**
 * Device payloads as a hostile or broken device sends them: ThingsBoard JSON telemetry and
 * attributes, SenML packs (RFC 8428), Sparkplug B protobuf, gateway envelopes, RPC bodies; then
 * the extremes: deep nesting, huge and non-finite numbers, long keys, prototype keys, invalid
 * UTF-8, and plain random bytes.
 */
import fc from 'fast-check';
import { DataType, encodePayload, type MetricInput } from '../../../src/protocols/sparkplug/payload.js';
import { mutated } from './mutate.js';

/** Number literals as text: JSON.parse turns the big ones into Infinity and the tiny ones into 0. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '123456789012345678901234567890', '9007199254740993', '0.1e309', '4.9e-324', '1E+2'),
);

const keyText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('temperature', 'humidity', 'ts', 'values', 'n', 'v', 'bn', 'bt', 'bv', 'vs', 'vb', 'vd', 's', 't', 'method', 'params', 'device', 'type') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).map((n) => 'k'.repeat(n)) },
);

/** Arbitrary JSON text, mostly valid, with number literals JSON.stringify would never write. */
const jsonText: fc.Memo<string> = fc.memo((n) => {
  const leaf = fc.oneof(
    numberText,
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
    fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => JSON.stringify(s)),
    fc.constantFrom('true', 'false', 'null', '"\\ud800"', '"\\u0000"'),
  );
  if (n <= 1) return leaf;
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(jsonText(n - 1), { maxLength: 5 }).map((items) => `[${items.join(',')}]`) },
    { weight: 2, arbitrary: fc.array(fc.tuple(keyText, jsonText(n - 1)), { maxLength: 6 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`) },
  );
});

/** `depth` levels of arrays or objects around a number: what overflowed JSON.stringify in issue 12 #5. */
export function nested(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const array = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    open += array ? '[' : '{"a":';
    close += array ? ']' : '}';
  }
  return `${open}1${close.split('').reverse().join('')}`;
}

/** Nesting depths of a hostile payload: around the usual limits and far past the stack. */
export const deepDepth = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(32, 64, 65, 100, 128, 256, 1000, 5000, 20_000, 100_000));

const entryText = (values: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    values,
    fc.tuple(numberText, values).map(([ts, v]) => `{"ts":${ts},"values":${v}}`),
  );

const telemetryObject = fc.array(fc.tuple(keyText, jsonText(3)), { minLength: 1, maxLength: 6 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** ThingsBoard JSON telemetry or attributes, valid or nearly so (no deep nesting). */
export const tbJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: entryText(telemetryObject) },
  { weight: 2, arbitrary: fc.array(entryText(telemetryObject), { maxLength: 5 }).map((e) => `[${e.join(',')}]`) },
  { weight: 2, arbitrary: jsonText(4) },
);

const senmlRecord = fc
  .array(
    fc.tuple(
      fc.constantFrom('bn', 'bt', 'bv', 'n', 'v', 'vs', 'vb', 'vd', 's', 't', 'u', 'bu', 'bver', 'x'),
      fc.oneof(numberText, fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)), fc.constantFrom('true', 'false', 'null', '[]', '{}')),
    ),
    { maxLength: 6 },
  )
  .map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`);

/** SenML JSON packs (RFC 8428 §4), fields of every type in any combination. */
export const senmlText: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(senmlRecord, { maxLength: 6 }).map((r) => `[${r.join(',')}]`) },
  { weight: 1, arbitrary: jsonText(3) },
);

/** Gateway API envelopes: {"child": [telemetry…]}, connect/disconnect, attributes, RPC replies. */
export const gatewayText: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.tuple(keyText, fc.oneof(tbJsonText, jsonText(2))), { maxLength: 3 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  fc.tuple(keyText, fc.constantFrom('default', '', 'x'.repeat(300))).map(([d, t]) => JSON.stringify({ device: d, type: t })),
  fc.tuple(keyText, fc.integer(), jsonText(2)).map(([d, id, data]) => `{"device":${JSON.stringify(d)},"id":${id},"data":${data}}`),
);

/** RPC requests and replies, provisioning and attribute requests. */
export const rpcText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.oneof(fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)), numberText, fc.constant('null')), jsonText(2)).map(([m, p]) => `{"method":${m},"params":${p}}`),
  fc.tuple(jsonText(1), jsonText(1), jsonText(1)).map(([a, b, c]) => `{"deviceName":${a},"provisionDeviceKey":${b},"provisionDeviceSecret":${c}}`),
  fc.tuple(jsonText(1), jsonText(1)).map(([a, b]) => `{"clientKeys":${a},"sharedKeys":${b}}`),
  jsonText(3),
);

const metricValue = (datatype: number): fc.Arbitrary<MetricInput['value']> => {
  if (datatype >= DataType.Int8Array && datatype <= DataType.DateTimeArray) return fc.array(fc.oneof(fc.integer({ min: -128, max: 127 }), fc.boolean(), fc.string({ maxLength: 4 })), { maxLength: 5 });
  if (datatype === DataType.Bytes || datatype === DataType.File) return fc.uint8Array({ maxLength: 16 });
  return fc.oneof(fc.double(), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.boolean(), fc.string({ maxLength: 8 }), fc.constant(null));
};

const metricInput: fc.Arbitrary<MetricInput> = fc.integer({ min: 0, max: 40 }).chain((datatype) =>
  fc.record(
    {
      name: fc.oneof(fc.constantFrom('temperature', 'bdSeq', 'Node Control/Rebirth', 'Properties/x', ''), fc.string({ maxLength: 10 })),
      alias: fc.integer({ min: 0, max: 2 ** 31 }),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 52 }), fc.constant(Date.now())),
      datatype: fc.constant(datatype),
      isHistorical: fc.boolean(),
      value: metricValue(datatype),
    },
    { requiredKeys: ['datatype', 'value'] },
  ),
);

/** Sparkplug B payloads: encoded from random metrics where the encoder accepts them, else random bytes. */
export const sparkplugBytes: fc.Arbitrary<Buffer> = fc
  .record({ timestamp: fc.integer({ min: 0, max: 2 ** 52 }), seq: fc.integer({ min: 0, max: 300 }), metrics: fc.array(metricInput, { maxLength: 6 }) }, { requiredKeys: ['metrics'] })
  .map((p) => {
    try {
      return encodePayload(p);
    } catch {
      return Buffer.from(JSON.stringify({ metrics: p.metrics.length }));
    }
  });

/** Bytes that are not valid UTF-8: lone continuation bytes, overlong forms, encoded surrogates, 0xff. */
export const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
);

/** Inserts invalid UTF-8 inside a string literal of JSON text (or at the start when it has none). */
export function withInvalidUtf8(text: string, bad: Buffer): Buffer {
  const quote = text.indexOf('"');
  const at = quote < 0 ? 0 : quote + 1;
  const bytes = Buffer.from(text, 'utf8');
  const byteAt = Buffer.byteLength(text.slice(0, at), 'utf8');
  return Buffer.concat([bytes.subarray(0, byteAt), bad, bytes.subarray(byteAt)]);
}

/** The extremes the codec limits are being added for (issue 12 #5): kept apart so CI can hold them as pending. */
export const hostileJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(deepDepth, fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>).map(([d, s]) => Buffer.from(`{"deep":${nested(d, s)}}`)),
  fc.tuple(tbJsonText, invalidUtf8).map(([t, b]) => withInvalidUtf8(t, b)),
  fc.constantFrom('{"a":{"b":1e400}}', '{"a":[1,-1e999]}', '[{"ts":1e400,"values":{"a":1}}]', '{"x":1e400}').map((s) => Buffer.from(s)),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => Buffer.from(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`)),
  fc.integer({ min: 100_000, max: 300_000 }).map((n) => Buffer.from(JSON.stringify({ long: 'x'.repeat(n) }))),
);

/** Any device payload, well-formed or mutated; the hostile extremes only when asked for. */
export function devicePayload(options: { hostile: boolean }): fc.Arbitrary<Buffer> {
  const text = fc.oneof(tbJsonText, senmlText, gatewayText, rpcText).map((t) => Buffer.from(t));
  const arbs: fc.WeightedArbitrary<Buffer>[] = [
    { weight: 6, arbitrary: text },
    { weight: 2, arbitrary: mutated(text).map((m) => m.bytes) },
    { weight: 1, arbitrary: sparkplugBytes },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  ];
  if (options.hostile) arbs.push({ weight: 2, arbitrary: hostileJson });
  return fc.oneof(...arbs);
}
