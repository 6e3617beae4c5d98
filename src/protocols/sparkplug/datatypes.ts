/**
 * Sparkplug B data types and how each travels in the Metric value oneof (Sparkplug 3.0 ch. 6
 * "Payloads"): 8/16/32-bit integers in `int_value` (uint32, negative values as two's complement),
 * 64-bit ones and DateTime in `long_value`, arrays packed little-endian into `bytes_value`.
 */
export const DataType = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;

export type DataTypeName = keyof typeof DataType;

const NAMES = new Map<number, DataTypeName>(Object.entries(DataType).map(([k, v]) => [v, k as DataTypeName]));

export function dataTypeName(code: number): DataTypeName | undefined {
  return NAMES.get(code);
}

/** Width in bytes of one element of a numeric array type, with its DataView reader. */
const ARRAY_ELEMENTS: Record<number, { size: number; read: (v: DataView, at: number) => number | bigint }> = {
  [DataType.Int8Array]: { size: 1, read: (v, at) => v.getInt8(at) },
  [DataType.Int16Array]: { size: 2, read: (v, at) => v.getInt16(at, true) },
  [DataType.Int32Array]: { size: 4, read: (v, at) => v.getInt32(at, true) },
  [DataType.Int64Array]: { size: 8, read: (v, at) => v.getBigInt64(at, true) },
  [DataType.UInt8Array]: { size: 1, read: (v, at) => v.getUint8(at) },
  [DataType.UInt16Array]: { size: 2, read: (v, at) => v.getUint16(at, true) },
  [DataType.UInt32Array]: { size: 4, read: (v, at) => v.getUint32(at, true) },
  [DataType.UInt64Array]: { size: 8, read: (v, at) => v.getBigUint64(at, true) },
  [DataType.FloatArray]: { size: 4, read: (v, at) => v.getFloat32(at, true) },
  [DataType.DoubleArray]: { size: 8, read: (v, at) => v.getFloat64(at, true) },
  [DataType.DateTimeArray]: { size: 8, read: (v, at) => v.getBigInt64(at, true) },
};

/** A bigint as a number when exact, else as its decimal string (JSON has no 64-bit integers). */
export function bigToJson(b: bigint): number | string {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString();
}

/** Unpacks an array data type (Sparkplug 3.0 ch. 6, array types); undefined when the bytes do not fit the type. */
export function decodeArray(datatype: number, bytes: Uint8Array): (number | string | boolean)[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const el = ARRAY_ELEMENTS[datatype];
  if (el) {
    if (bytes.length % el.size !== 0) return undefined;
    const out: (number | string)[] = [];
    for (let at = 0; at < bytes.length; at += el.size) {
      const v = el.read(view, at);
      out.push(typeof v === 'bigint' ? bigToJson(v) : v);
    }
    return out;
  }
  if (datatype === DataType.BooleanArray) {
    // A 4-byte little-endian count of booleans, then the bits, most significant bit first.
    if (bytes.length < 4) return undefined;
    const count = view.getUint32(0, true);
    if (bytes.length < 4 + Math.ceil(count / 8)) return undefined;
    const out: boolean[] = [];
    for (let i = 0; i < count; i++) out.push(((bytes[4 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
    return out;
  }
  if (datatype === DataType.StringArray) {
    // Null-terminated UTF-8 strings, one after the other.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const parts = text.split('\u0000');
    if (parts.at(-1) === '') parts.pop();
    return parts;
  }
  return undefined;
}

/** Packs an array data type; the inverse of decodeArray. */
export function encodeArray(datatype: number, values: readonly (number | string | boolean | bigint)[]): Uint8Array {
  const el = ARRAY_ELEMENTS[datatype];
  if (el) {
    const view = new DataView(new ArrayBuffer(values.length * el.size));
    values.forEach((raw, i) => {
      const at = i * el.size;
      switch (datatype) {
        case DataType.Int8Array: return view.setInt8(at, Number(raw));
        case DataType.Int16Array: return view.setInt16(at, Number(raw), true);
        case DataType.Int32Array: return view.setInt32(at, Number(raw), true);
        case DataType.UInt8Array: return view.setUint8(at, Number(raw));
        case DataType.UInt16Array: return view.setUint16(at, Number(raw), true);
        case DataType.UInt32Array: return view.setUint32(at, Number(raw), true);
        case DataType.FloatArray: return view.setFloat32(at, Number(raw), true);
        case DataType.DoubleArray: return view.setFloat64(at, Number(raw), true);
        case DataType.UInt64Array: return view.setBigUint64(at, BigInt(raw), true);
        default: return view.setBigInt64(at, BigInt(raw), true);
      }
    });
    return new Uint8Array(view.buffer);
  }
  if (datatype === DataType.BooleanArray) {
    const out = new Uint8Array(4 + Math.ceil(values.length / 8));
    new DataView(out.buffer).setUint32(0, values.length, true);
    values.forEach((v, i) => {
      if (v === true) out[4 + (i >> 3)]! |= 0x80 >> (i & 7);
    });
    return out;
  }
  if (datatype === DataType.StringArray) return Buffer.from(values.map((v) => `${String(v)}\u0000`).join(''), 'utf8');
  throw new RangeError(`data type ${datatype} is not an array type`);
}
