/**
 * OPC UA values ↔ JSON, without the OPC UA library (the numbers below are the built-in type ids
 * of Part 6, 5.1.2, which node-opcua's DataType enum also uses).
 * - From the server: bounded (strings cut, arrays truncated) so one node cannot flood the
 *   platform; 64-bit integers as numbers while exact, otherwise decimal strings.
 * - To the server: the JSON a command carries is coerced to the node's built-in type, with an
 *   error naming what was expected when it does not fit (never a silent wrap-around).
 */
import type { JsonValue } from '../../../domain/telemetry.js';

export const BuiltIn = {
  Null: 0,
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
  Guid: 14,
  ByteString: 15,
  XmlElement: 16,
  NodeId: 17,
  ExpandedNodeId: 18,
  StatusCode: 19,
  QualifiedName: 20,
  LocalizedText: 21,
  ExtensionObject: 22,
  DataValue: 23,
  Variant: 24,
  DiagnosticInfo: 25,
} as const;

const NAMES = Object.fromEntries(Object.entries(BuiltIn).map(([k, v]) => [v, k])) as Record<number, string>;
export const builtInName = (t: number): string => NAMES[t] ?? `type ${t}`;

/** VariantArrayType (Part 6 5.2.2.16 encoding mask): scalar, one-dimensional, matrix. */
export const ArrayKind = { Scalar: 0, Array: 1, Matrix: 2 } as const;

export interface Bounds {
  readonly maxStringLength: number;
  readonly maxArrayLength: number;
}

/** What a Variant looks like to us (node-opcua's Variant has these fields). */
export interface VariantLike {
  readonly dataType: number;
  readonly arrayType?: number;
  readonly value: unknown;
}

export class OpcuaValueError extends Error {
  override name = 'OpcuaValueError';
}

const INT_RANGES: Record<number, readonly [number, number]> = {
  [BuiltIn.SByte]: [-128, 127],
  [BuiltIn.Byte]: [0, 255],
  [BuiltIn.Int16]: [-32768, 32767],
  [BuiltIn.UInt16]: [0, 65535],
  [BuiltIn.Int32]: [-2147483648, 2147483647],
  [BuiltIn.UInt32]: [0, 4294967295],
};
const FLOAT_MAX = 3.4028234663852886e38;

/** Cut a string to the bound; `cut` learns that something was lost. */
function bounded(text: string, b: Bounds, cut: () => void): string {
  if (text.length <= b.maxStringLength) return text;
  cut();
  return text.slice(0, b.maxStringLength);
}

/** node-opcua carries Int64/UInt64 as [high, low] 32-bit halves. */
function int64(value: unknown, signed: boolean): JsonValue {
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  if (!Array.isArray(value) || value.length !== 2) return null;
  const raw = (BigInt((value[0] as number) >>> 0) << 32n) | BigInt((value[1] as number) >>> 0);
  const n = signed ? BigInt.asIntN(64, raw) : raw;
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function scalarToJson(type: number, value: unknown, b: Bounds, cut: () => void): JsonValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case BuiltIn.Boolean:
      return Boolean(value);
    case BuiltIn.SByte:
    case BuiltIn.Byte:
    case BuiltIn.Int16:
    case BuiltIn.UInt16:
    case BuiltIn.Int32:
    case BuiltIn.UInt32:
    case BuiltIn.Double:
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case BuiltIn.Float:
      // A Float widened to double shows its binary noise (21.299999237…); 7 significant digits is what it holds.
      return typeof value === 'number' && Number.isFinite(value) ? Number(value.toPrecision(7)) : null;
    case BuiltIn.Int64:
      return int64(value, true);
    case BuiltIn.UInt64:
      return int64(value, false);
    case BuiltIn.DateTime:
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null;
    case BuiltIn.ByteString:
      return Buffer.isBuffer(value) ? bounded(value.toString('base64'), b, cut) : null;
    case BuiltIn.LocalizedText:
      return bounded(String((value as { text?: unknown }).text ?? ''), b, cut);
    case BuiltIn.QualifiedName:
      return bounded(String((value as { name?: unknown }).name ?? ''), b, cut);
    case BuiltIn.StatusCode:
      return String((value as { name?: unknown }).name ?? value);
    case BuiltIn.ExtensionObject: {
      // A structure as JSON while it fits the bound; otherwise its text, cut.
      const text = JSON.stringify(value) ?? 'null';
      if (text.length <= b.maxStringLength) return JSON.parse(text) as JsonValue;
      return bounded(text, b, cut);
    }
    default:
      // String, XmlElement, Guid, NodeId, ExpandedNodeId and anything else: its text form.
      return bounded(String(value), b, cut);
  }
}

/** A server value as JSON, bounded; `cut` is called when something had to be cut. */
export function toJson(v: VariantLike, b: Bounds, cut: () => void = () => undefined): JsonValue {
  if (v.dataType === BuiltIn.Null) return null;
  if ((v.arrayType ?? ArrayKind.Scalar) === ArrayKind.Scalar) return scalarToJson(v.dataType, v.value, b, cut);
  // Arrays come as Array or typed arrays; a matrix is flattened (its dimensions are not kept).
  const list = v.value && typeof (v.value as ArrayLike<unknown>).length === 'number' ? Array.from(v.value as ArrayLike<unknown>) : [];
  if (list.length > b.maxArrayLength) cut();
  return list.slice(0, b.maxArrayLength).map((x) => scalarToJson(v.dataType, x, b, cut));
}

// --- JSON → server -------------------------------------------------------------------------

function number(json: JsonValue): number {
  if (typeof json === 'number') return json;
  if (typeof json === 'string' && json.trim() !== '' && Number.isFinite(Number(json))) return Number(json);
  throw new OpcuaValueError('expected a number');
}

function scalarFromJson(type: number, json: JsonValue, b: Bounds): unknown {
  const name = builtInName(type);
  switch (type) {
    case BuiltIn.Boolean:
      if (typeof json === 'boolean') return json;
      if (json === 1 || json === 0) return json === 1;
      if (json === 'true' || json === 'false') return json === 'true';
      throw new OpcuaValueError('expected true or false');
    case BuiltIn.SByte:
    case BuiltIn.Byte:
    case BuiltIn.Int16:
    case BuiltIn.UInt16:
    case BuiltIn.Int32:
    case BuiltIn.UInt32: {
      const n = number(json);
      const [min, max] = INT_RANGES[type] as readonly [number, number];
      if (!Number.isInteger(n) || n < min || n > max) throw new OpcuaValueError(`expected an integer ${min}..${max} (${name})`);
      return n;
    }
    case BuiltIn.Int64:
    case BuiltIn.UInt64: {
      const text = typeof json === 'number' && Number.isSafeInteger(json) ? String(json) : typeof json === 'string' && /^-?\d{1,20}$/.test(json.trim()) ? json.trim() : undefined;
      if (text === undefined) throw new OpcuaValueError(`expected an integer (${name}; beyond 2^53 as a decimal string)`);
      const n = BigInt(text);
      const ok = type === BuiltIn.Int64 ? n === BigInt.asIntN(64, n) : n >= 0n && n === BigInt.asUintN(64, n);
      if (!ok) throw new OpcuaValueError(`out of range for ${name}`);
      const raw = BigInt.asUintN(64, n);
      return [Number(raw >> 32n), Number(raw & 0xffffffffn)];
    }
    case BuiltIn.Float: {
      const n = number(json);
      if (!Number.isFinite(n) || Math.abs(n) > FLOAT_MAX) throw new OpcuaValueError('expected a number within Float range');
      return n;
    }
    case BuiltIn.Double: {
      const n = number(json);
      if (!Number.isFinite(n)) throw new OpcuaValueError('expected a finite number');
      return n;
    }
    case BuiltIn.String:
    case BuiltIn.XmlElement:
    case BuiltIn.LocalizedText: {
      const text = typeof json === 'string' ? json : typeof json === 'number' || typeof json === 'boolean' ? String(json) : undefined;
      if (text === undefined) throw new OpcuaValueError('expected a string');
      if (text.length > b.maxStringLength) throw new OpcuaValueError(`string longer than ${b.maxStringLength} characters`);
      return type === BuiltIn.LocalizedText ? { text } : text;
    }
    case BuiltIn.DateTime: {
      const d = typeof json === 'number' ? new Date(json) : typeof json === 'string' ? new Date(json) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw new OpcuaValueError('expected a date (ISO 8601 text or epoch ms)');
      return d;
    }
    case BuiltIn.ByteString: {
      if (typeof json !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(json)) throw new OpcuaValueError('expected base64 text');
      if (json.length > b.maxStringLength) throw new OpcuaValueError(`base64 longer than ${b.maxStringLength} characters`);
      return Buffer.from(json, 'base64');
    }
    default:
      throw new OpcuaValueError(`writing ${name} values is not supported`);
  }
}

/**
 * A command's JSON as a Variant of the node's built-in type. `valueRank` (Part 3 5.6.2): ≥ 1 is
 * an array, -1 a scalar, 0/-2/-3 either (an array when the JSON is one).
 */
export function fromJson(json: JsonValue, type: number, valueRank: number, b: Bounds): { dataType: number; arrayType: number; value: unknown } {
  const array = valueRank >= 1 || (valueRank !== -1 && Array.isArray(json));
  if (!array) {
    if (Array.isArray(json)) throw new OpcuaValueError(`expected one ${builtInName(type)} value, not an array`);
    return { dataType: type, arrayType: ArrayKind.Scalar, value: scalarFromJson(type, json, b) };
  }
  if (!Array.isArray(json)) throw new OpcuaValueError(`expected an array of ${builtInName(type)}`);
  if (json.length > b.maxArrayLength) throw new OpcuaValueError(`array longer than ${b.maxArrayLength} elements`);
  const value = json.map((x, i) => {
    try {
      return scalarFromJson(type, x, b);
    } catch (err) {
      throw new OpcuaValueError(`[${i}]: ${(err as Error).message}`);
    }
  });
  return { dataType: type, arrayType: ArrayKind.Array, value };
}
