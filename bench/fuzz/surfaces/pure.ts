/**
 * The surfaces fuzzed as pure functions, in process: the device codecs with the validation that
 * follows them on ingest, the device JSON bodies, the expression language (parse, check,
 * evaluate, templates), and the MQTT framing and PUBLISH fast path against mqtt-packet.
 */
import fc from 'fast-check';
import { parser as mqttParser, type Packet } from 'mqtt-packet';
import { jsonCodec } from '../../../src/adapters/codec/json/index.js';
import { senmlCodec } from '../../../src/adapters/codec/senml/index.js';
import { AliasTable, decodePayload, metricsToTelemetry, SparkplugDecodeError } from '../../../src/protocols/sparkplug/payload.js';
import { parseClientRpc, parseProvisionRequest } from '../../../src/adapters/transport/device-json.js';
import { packetEnd } from '../../../src/adapters/transport/mqtt/frames.js';
import { decodePublish } from '../../../src/adapters/transport/mqtt/publish-decode.js';
import { PlatformError } from '../../../src/domain/errors.js';
import { compileExpression, evaluate, ExpressionError, parseTemplate, renderTemplate, type Scope } from '../../../src/domain/expression/index.js';
import { validatePoints, type JsonValue, type Point } from '../../../src/domain/telemetry.js';
import { anyExpression, anyTemplate, grammarExpression, scopeValue } from '../gen/expressions.js';
import { mutated } from '../gen/mutate.js';
import { mqttPacketBytes } from '../gen/mqtt.js';
import { devicePayload, gatewayText, hostileJson, rpcText, senmlText, sparkplugBytes, tbJsonText } from '../gen/payloads.js';
import { check, syncSurface, type Surface } from '../surface.js';

const NOW = 1_750_000_000_000;
const platformError = (err: unknown): boolean => err instanceof PlatformError;

/** Anything a point may hold reaches the store as JSON text: it must serialise, and say the same. */
function assertStorable(points: readonly Point[]): void {
  for (const p of points) {
    check(typeof p.key === 'string' && p.key.length > 0, () => `point with key ${JSON.stringify(p.key)} accepted`);
    check(Number.isSafeInteger(p.ts), () => `point ts ${p.ts} accepted`);
    if (typeof p.value === 'object') JSON.stringify(p.value);
    else check(typeof p.value !== 'number' || Number.isFinite(p.value), () => `non-finite value ${p.value} accepted`);
  }
}

/** What the pending codec limits add: no non-finite number anywhere in a value. */
function hasNonFinite(v: JsonValue): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasNonFinite);
  return false;
}

/** decode → validatePoints, as ingest runs them; what passes must be storable. */
function ingestAs(decode: (b: Buffer, now: number) => Point[]) {
  return (bytes: Buffer): Point[] => {
    const points = decode(bytes, NOW);
    validatePoints(points, NOW);
    assertStorable(points);
    return points;
  };
}

const jsonIngest = ingestAs(jsonCodec.decodeTelemetry);
const senmlIngest = ingestAs(senmlCodec.decodeTelemetry);

const textBytes = (a: fc.Arbitrary<string>): fc.Arbitrary<Buffer> => a.map((t) => Buffer.from(t));
const maybeMutated = (a: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> => fc.oneof(a, mutated(a).map((m) => m.bytes));

export const codecSurfaces: Surface[] = [
  syncSurface('codec: JSON telemetry', maybeMutated(textBytes(tbJsonText)), (b) => void jsonIngest(b), platformError),
  syncSurface('codec: JSON attributes', maybeMutated(textBytes(tbJsonText)), (b) => void JSON.stringify(jsonCodec.decodeAttributes(b)), platformError),
  syncSurface('codec: SenML', maybeMutated(textBytes(senmlText)), (b) => void senmlIngest(b), platformError),
  syncSurface('codec: SenML attributes', maybeMutated(textBytes(senmlText)), (b) => void JSON.stringify(senmlCodec.decodeAttributes(b)), platformError),
  syncSurface(
    'codec: Sparkplug B',
    fc.tuple(maybeMutated(sparkplugBytes), sparkplugBytes),
    ([data, birth]) => {
      let aliases = new AliasTable();
      try {
        aliases = new AliasTable(decodePayload(birth).metrics);
      } catch (err) {
        if (!(err instanceof SparkplugDecodeError)) throw err;
      }
      const { groups } = metricsToTelemetry(decodePayload(data), aliases, NOW);
      for (const g of groups) {
        const points = Object.entries(g.values).map(([key, value]) => ({ key, ts: g.ts, value: value as Point['value'] }));
        try {
          validatePoints(points, NOW);
        } catch (err) {
          if (!platformError(err)) throw err;
          continue;
        }
        assertStorable(points);
      }
    },
    (err) => err instanceof SparkplugDecodeError,
  ),
  syncSurface('device JSON: client RPC, provisioning', maybeMutated(textBytes(fc.oneof(rpcText, gatewayText))), (b) => {
    for (const parse of [parseClientRpc, parseProvisionRequest]) {
      try {
        parse(b);
      } catch (err) {
        if (!platformError(err)) throw err;
      }
    }
  }, platformError),
  // Regression (issue 12 #5): a 100,000-level payload was accepted and then overflowed
  // JSON.stringify in the group commit; 1e400 nested in an object was stored as null; invalid UTF-8
  // was stored with U+FFFD in its place.
  syncSurface(
    'codec: hostile JSON (depth, size, non-finite, invalid UTF-8)',
    hostileJson,
    (bytes) => {
      for (const decode of [jsonIngest, senmlIngest]) {
        let points: Point[];
        try {
          points = decode(bytes);
        } catch (err) {
          if (err instanceof PlatformError) continue;
          throw err;
        }
        check(Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes), () => 'a payload that is not valid UTF-8 was accepted');
        check(!points.some((p) => hasNonFinite(p.value)), () => 'a non-finite number nested in a value was accepted');
      }
    },
    () => false,
  ),
];

/** A scope answering every lookup from one generated table, the way the rule engine's does. */
function scopeOf(values: readonly JsonValue[]): Scope {
  let i = 0;
  const nextValue = (): JsonValue | undefined => (values.length === 0 ? undefined : values[i++ % values.length]);
  return {
    ident: () => nextValue(),
    attr: () => nextValue(),
    latest: () => nextValue(),
    detector: () => nextValue() ?? null,
    window: () => {
      const v = nextValue();
      return typeof v === 'number' ? v : null;
    },
  };
}

const expressionError = (err: unknown): boolean => err instanceof ExpressionError;

function evaluated(source: string, values: readonly JsonValue[]): void {
  let compiled;
  try {
    compiled = compileExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) {
      check(err.position.offset >= 0 && err.position.offset <= source.length, () => `error position ${err.position.offset} outside the text`);
      return;
    }
    throw err;
  }
  const result = evaluate(compiled.node, scopeOf(values));
  // Results go into JSON (action parameters, rule output): they must survive it unchanged.
  check(!hasNonFinite(result), () => `evaluates to a non-finite number: ${String(result)}`);
  JSON.stringify(result);
}

export const expressionSurfaces: Surface[] = [
  syncSurface('expression: parse + check + evaluate', fc.tuple(anyExpression, fc.array(scopeValue, { maxLength: 6 })), ([src, values]) => evaluated(src, values), expressionError),
  syncSurface(
    'expression: grammar output always parses',
    grammarExpression,
    (src) => {
      try {
        compileExpression(src);
      } catch (err) {
        // The check may refuse a call (unknown function, arity, window); the syntax must pass.
        if (err instanceof ExpressionError && /function|argument|window|duration|count|scope|needs|longer|takes|chained|out of range/.test(err.reason)) return;
        throw err;
      }
    },
    () => false,
  ),
  syncSurface(
    'expression: templates',
    fc.tuple(anyTemplate, fc.array(scopeValue, { maxLength: 4 })),
    ([text, values]) => {
      let template;
      try {
        template = parseTemplate(text);
      } catch (err) {
        if (err instanceof ExpressionError) return;
        throw err;
      }
      const out = renderTemplate(template, scopeOf(values));
      check(!hasNonFinite(out), () => `renders a non-finite number: ${String(out)}`);
    },
    expressionError,
  ),
];

/** mqtt-packet's own decoding of one frame: the reference the fast path must agree with. */
function referenceDecode(frame: Buffer, protocolVersion: number): Packet | Error | undefined {
  const p = mqttParser({ protocolVersion });
  let out: Packet | Error | undefined;
  p.on('packet', (packet) => (out ??= packet));
  p.on('error', (err) => (out ??= err));
  p.parse(frame);
  return out;
}

export const mqttPureSurfaces: Surface[] = [
  syncSurface(
    'MQTT: framing and PUBLISH fast path vs mqtt-packet',
    fc.tuple(mutated(mqttPacketBytes(devicePayload({ hostile: false }))), fc.constantFrom(3, 4, 5)),
    ([{ bytes }, version]) => {
      const end = packetEnd(bytes, 0);
      if (end <= 0 || end > bytes.length) return;
      const frame = bytes.subarray(0, end);
      const fast = decodePublish(frame, version);
      if (fast === undefined) return;
      const ref = referenceDecode(frame, version);
      check(ref !== undefined && !(ref instanceof Error), () => `fast path decoded a PUBLISH that mqtt-packet refuses: ${ref instanceof Error ? ref.message : 'incomplete'}`);
      const r = ref as Packet & { topic: string; payload: Buffer; qos: number; messageId?: number; retain: boolean; dup: boolean };
      check(r.topic === fast.topic, () => `topic ${JSON.stringify(fast.topic)} vs ${JSON.stringify(r.topic)}`);
      check(Buffer.compare(Buffer.from(r.payload), Buffer.from(fast.payload)) === 0, () => 'payload differs');
      check(r.qos === fast.qos && r.messageId === fast.messageId && r.retain === fast.retain && r.dup === fast.dup, () => 'header fields differ');
    },
    () => false,
  ),
];

export const pureSurfaces: Surface[] = [...codecSurfaces, ...expressionSurfaces, ...mqttPureSurfaces];
