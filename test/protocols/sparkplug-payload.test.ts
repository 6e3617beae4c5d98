/**
 * The Sparkplug B payload codec: bytes written by hand from the protobuf encoding rules (so the
 * field numbers are checked independently of our schema), round trips of every scalar and array
 * data type, aliases, topics, and garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AliasTable,
  DataType,
  SparkplugDecodeError,
  decodePayload,
  encodePayload,
  metricsToTelemetry,
  parseTopic,
  topicFor,
  type MetricInput,
} from '../../src/protocols/sparkplug/payload.js';

test('decodes a payload written byte by byte (Sparkplug 3.0 ch. 6 "Payloads" field numbers, protobuf wire format)', () => {
  const metric = [0x0a, 0x01, 0x61, 0x10, 0x05, 0x20, 0x03, 0x50, 0xff, 0xff, 0xff, 0xff, 0x0f];
  const bytes = Buffer.from([0x08, 0x01, 0x12, metric.length, ...metric, 0x18, 0x02]);
  const p = decodePayload(bytes);
  assert.equal(p.timestamp, 1);
  assert.equal(p.seq, 2);
  assert.deepEqual(p.metrics, [{ name: 'a', alias: 5, datatype: DataType.Int32, value: -1 }]);
  // And we write the same bytes for the same message.
  assert.deepEqual(encodePayload({ timestamp: 1, seq: 2, metrics: [{ name: 'a', alias: 5, datatype: DataType.Int32, value: -1 }] }), bytes);
});

test('every scalar data type survives a round trip, including the edges of its range', () => {
  const cases: [number, unknown][] = [
    [DataType.Int8, -128], [DataType.Int8, 127], [DataType.Int16, -32768], [DataType.Int32, -2147483648],
    [DataType.UInt8, 255], [DataType.UInt16, 65535], [DataType.UInt32, 4294967295],
    [DataType.Int64, -9007199254740991], [DataType.Int64, -(2n ** 63n)], [DataType.UInt64, 2n ** 64n - 1n],
    [DataType.Float, 1.5], [DataType.Double, Math.PI], [DataType.Boolean, true], [DataType.Boolean, false],
    [DataType.String, 'grüße'], [DataType.Text, ''], [DataType.UUID, '8d5a5f0e-3c55-4c3a-9e4b-2f9f1f6b0c11'],
    [DataType.DateTime, 1_795_000_000_000], [DataType.Bytes, new Uint8Array([0, 1, 255])],
  ];
  const metrics: MetricInput[] = cases.map(([datatype, value], i) => ({ name: `m${i}`, datatype, value: value as MetricInput['value'] }));
  const back = decodePayload(encodePayload({ metrics })).metrics;
  cases.forEach(([datatype, value], i) => {
    const got = back[i]?.value;
    assert.equal(back[i]?.datatype, datatype);
    if (value instanceof Uint8Array) assert.deepEqual([...(got as Uint8Array)], [...value]);
    else assert.equal(got, value, `data type ${datatype}`);
  });
});

test('array data types are packed little-endian into bytes_value and come back as arrays', () => {
  const cases: [number, (number | string | boolean)[]][] = [
    [DataType.Int8Array, [-1, 0, 127]], [DataType.Int16Array, [-300, 300]], [DataType.Int32Array, [-70000, 1]],
    [DataType.UInt16Array, [65535]], [DataType.UInt32Array, [4294967295, 0]], [DataType.Int64Array, [-5, 5]],
    [DataType.FloatArray, [0.5, -2]], [DataType.DoubleArray, [Math.E]], [DataType.BooleanArray, [true, false, false, true, true, false, true, false, true]],
    [DataType.StringArray, ['ab', '', 'c']], [DataType.DateTimeArray, [1_795_000_000_000]],
  ];
  const back = decodePayload(encodePayload({ metrics: cases.map(([datatype, value]) => ({ datatype, value })) })).metrics;
  cases.forEach(([, value], i) => assert.deepEqual(back[i]?.value, value));
  // Little-endian, two bytes each: -23 is e9 ff, 123 is 7b 00.
  const raw = encodePayload({ metrics: [{ datatype: DataType.Int16Array, value: [-23, 123] }] });
  assert.ok(raw.includes(Buffer.from([0xe9, 0xff, 0x7b, 0x00])));
});

test('null metrics, signed values encoded as unsigned by other implementations, data sets', () => {
  const p = decodePayload(encodePayload({ metrics: [{ name: 'n', datatype: DataType.Double, value: null }] }));
  assert.deepEqual(p.metrics[0], { name: 'n', datatype: DataType.Double, isNull: true, value: null });
  // Int8 -1 written as its unsigned byte (255) decodes to -1 as well.
  assert.equal(decodePayload(Buffer.from([0x12, 0x05, 0x20, 0x01, 0x50, 0xff, 0x01])).metrics[0]?.value, -1);
  // DataSet (Sparkplug 3.0 ch. 6 "Payloads"): 2 columns, 1 row.
  const element = (field: number, v: number) => [0x0a, 0x02, (field << 3) | 0, v];
  const row = [0x22, 8, ...element(1, 7), ...element(5, 1)];
  const ds = [0x08, 0x02, 0x12, 0x01, 0x78, 0x12, 0x01, 0x79, 0x1a, 0x02, 0x03, 0x0b, ...row];
  const metric = [0x20, 0x10, 0x8a, 0x01, ds.length, ...ds];
  const decoded = decodePayload(Buffer.from([0x12, metric.length, ...metric]));
  assert.deepEqual(decoded.metrics[0]?.value, { columns: ['x', 'y'], types: [DataType.Int32, DataType.Boolean], rows: [[7, true]] });
});

test('garbage is a SparkplugDecodeError; values that do not fit their type are a RangeError', () => {
  assert.throws(() => decodePayload(Buffer.from([0xff, 0xff, 0xff])), SparkplugDecodeError);
  assert.throws(() => decodePayload(Buffer.from([0x12, 0x10, 0x01])), SparkplugDecodeError);
  assert.deepEqual(decodePayload(Buffer.alloc(0)).metrics, []);
  assert.throws(() => encodePayload({ metrics: [{ datatype: DataType.Int32, value: { columns: [], types: [], rows: [] } }] }), RangeError);
  assert.throws(() => encodePayload({ metrics: [{ datatype: DataType.Template, value: 1 }] }), RangeError);
});

test('aliases from a birth resolve DATA metrics; unknown aliases are reported, control metrics skipped', () => {
  const birth = decodePayload(encodePayload({ metrics: [
    { name: 'bdSeq', datatype: DataType.UInt64, value: 3 },
    { name: 'temp', alias: 1, datatype: DataType.Float, value: 20 },
    { name: 'Node Control/Rebirth', alias: 2, datatype: DataType.Boolean, value: false },
  ] }));
  const aliases = new AliasTable(birth.metrics);
  assert.deepEqual(aliases.declared('temp'), { name: 'temp', datatype: DataType.Float, alias: 1 });
  const data = decodePayload(encodePayload({ timestamp: 1000, metrics: [
    { alias: 1, datatype: DataType.Float, value: 21 },
    { alias: 1, datatype: DataType.Float, value: 22, timestamp: 900 },
    { alias: 9, datatype: DataType.Float, value: 1 },
    { alias: 2, datatype: DataType.Boolean, value: true },
    { name: 'flow', datatype: DataType.Double, value: Number.NaN },
  ] }));
  const t = metricsToTelemetry(data, aliases, 5000);
  assert.deepEqual(t.groups, [{ ts: 1000, values: { temp: 21 } }, { ts: 900, values: { temp: 22 } }]);
  assert.deepEqual(t.unknownAliases, [9]);
  assert.deepEqual(metricsToTelemetry(birth, aliases, 5000).groups, [{ ts: 5000, values: { temp: 20 } }]);
});

test('topics: spBv1.0/<group>/<type>/<node>[/<device>] (Sparkplug 3.0 ch. 4 "Topics and Messages")', () => {
  assert.deepEqual(parseTopic('spBv1.0/g1/DDATA/n1/d1'), { group: 'g1', type: 'DDATA', node: 'n1', device: 'd1' });
  assert.deepEqual(parseTopic('spBv1.0/g1/NBIRTH/n1'), { group: 'g1', type: 'NBIRTH', node: 'n1' });
  for (const bad of ['spBv1.0/g1/NBIRTH/n1/d1', 'spBv1.0/g1/DDATA/n1', 'spBv1.0/STATE/host', 'spBv1.0/g1/XDATA/n1', 'spAv1.0/g1/NDATA/n1', 'spBv1.0//NDATA/n1']) {
    assert.equal(parseTopic(bad), undefined, bad);
  }
  assert.equal(topicFor({ group: 'g', type: 'DCMD', node: 'n', device: 'd' }), 'spBv1.0/g/DCMD/n/d');
});
