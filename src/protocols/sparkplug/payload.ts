/**
 * Sparkplug B payloads (Sparkplug 3.0 ch. 6 "Payloads"): decode a `spBv1.0/...` PUBLISH body into plain
 * metrics, encode commands and births, resolve metric aliases, and turn metrics into telemetry.
 * Pure functions over bytes: the platform's broker module and the edge connector share them.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { bigToJson, DataType, decodeArray, encodeArray } from './datatypes.js';
import { buildPayloadType } from './schema.js';

export { DataType, dataTypeName, decodeArray, encodeArray } from './datatypes.js';

const PayloadType = buildPayloadType();

export interface DataSet {
  readonly columns: readonly string[];
  readonly types: readonly number[];
  readonly rows: readonly (readonly JsonValue[])[];
}

/** A decoded value: 64-bit integers are numbers when exact, bigints otherwise. */
export type MetricValue = number | bigint | boolean | string | Uint8Array | DataSet | readonly (number | string | boolean)[] | null;

export interface Metric {
  readonly name?: string;
  readonly alias?: number;
  /** Epoch ms. */
  readonly timestamp?: number;
  readonly datatype: number;
  readonly isHistorical?: boolean;
  readonly isTransient?: boolean;
  readonly isNull?: boolean;
  readonly value: MetricValue;
}

export interface Payload {
  readonly timestamp?: number;
  readonly metrics: readonly Metric[];
  readonly seq?: number;
  readonly uuid?: string;
  readonly body?: Uint8Array;
}

export class SparkplugDecodeError extends Error {
  override name = 'SparkplugDecodeError';
}

// ------------------------------------------------------------------ decode

type Raw = Record<string, unknown>;

function big(v: unknown): bigint | undefined {
  return typeof v === 'string' || typeof v === 'number' ? BigInt(v) : undefined;
}

function num(v: unknown): number | undefined {
  const b = big(v);
  return b === undefined ? undefined : Number(b);
}

function bigValue(b: bigint): number | bigint {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** Signed types travel as two's complement in an unsigned field (Sparkplug 3.0 ch. 6 "Payloads"): sign-extend to their width. */
function intValue(datatype: number, v: number): number {
  switch (datatype) {
    case DataType.Int8: return (v << 24) >> 24;
    case DataType.Int16: return (v << 16) >> 16;
    case DataType.Int32: return v | 0;
    default: return v >>> 0;
  }
}

function longValue(datatype: number, v: bigint): number | bigint {
  return bigValue(datatype === DataType.UInt64 ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v));
}

function elementValue(e: Raw): JsonValue {
  if (e.long_value !== undefined) return bigToJson(BigInt.asIntN(64, BigInt(e.long_value as string)));
  for (const k of ['int_value', 'float_value', 'double_value', 'boolean_value', 'string_value']) if (e[k] !== undefined) return e[k] as JsonValue;
  return null;
}

function dataSet(raw: Raw): DataSet {
  const rows = ((raw.rows as Raw[] | undefined) ?? []).map((r) => ((r.elements as Raw[] | undefined) ?? []).map(elementValue));
  return { columns: (raw.columns as string[] | undefined) ?? [], types: (raw.types as number[] | undefined) ?? [], rows };
}

function metricValue(m: Raw, datatype: number): MetricValue {
  if (m.is_null === true) return null;
  switch (m.value) {
    case 'int_value': return intValue(datatype, m.int_value as number);
    case 'long_value': return longValue(datatype, BigInt(m.long_value as string));
    case 'float_value':
    case 'double_value':
    case 'boolean_value':
    case 'string_value':
      return m[m.value] as number | boolean | string;
    case 'bytes_value': {
      const bytes = m.bytes_value as Uint8Array;
      return datatype >= DataType.Int8Array ? (decodeArray(datatype, bytes) ?? bytes) : bytes;
    }
    case 'dataset_value': return dataSet(m.dataset_value as Raw);
    default: return null;
  }
}

function metric(m: Raw): Metric {
  const datatype = (m.datatype as number | undefined) ?? DataType.Unknown;
  return {
    ...(m.name !== undefined ? { name: m.name as string } : {}),
    ...(m.alias !== undefined ? { alias: num(m.alias) } : {}),
    ...(m.timestamp !== undefined ? { timestamp: num(m.timestamp) } : {}),
    datatype,
    ...(m.is_historical === true ? { isHistorical: true } : {}),
    ...(m.is_transient === true ? { isTransient: true } : {}),
    ...(m.is_null === true ? { isNull: true } : {}),
    value: metricValue(m, datatype),
  };
}

/** Throws SparkplugDecodeError when the bytes are not a Payload message. */
export function decodePayload(bytes: Uint8Array): Payload {
  let raw: Raw;
  try {
    raw = PayloadType.toObject(PayloadType.decode(bytes), { longs: String, oneofs: true }) as Raw;
  } catch (err) {
    throw new SparkplugDecodeError(`not a Sparkplug B payload: ${(err as Error).message}`);
  }
  return {
    ...(raw.timestamp !== undefined ? { timestamp: num(raw.timestamp) } : {}),
    metrics: ((raw.metrics as Raw[] | undefined) ?? []).map(metric),
    ...(raw.seq !== undefined ? { seq: num(raw.seq) } : {}),
    ...(raw.uuid !== undefined ? { uuid: raw.uuid as string } : {}),
    ...(raw.body !== undefined ? { body: raw.body as Uint8Array } : {}),
  };
}

// ------------------------------------------------------------------ encode

export interface MetricInput {
  readonly name?: string;
  readonly alias?: number;
  readonly timestamp?: number;
  readonly datatype: number;
  readonly isHistorical?: boolean;
  readonly isTransient?: boolean;
  readonly value: MetricValue | undefined;
}

export interface PayloadInput {
  readonly timestamp?: number;
  readonly metrics: readonly MetricInput[];
  readonly seq?: number;
  readonly uuid?: string;
  readonly body?: Uint8Array;
}

function longString(v: number | bigint | string, unsigned: boolean): string {
  const b = typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? Math.trunc(v) : v);
  return (unsigned ? BigInt.asUintN(64, b) : BigInt.asUintN(64, BigInt.asIntN(64, b))).toString();
}

function scalar(v: MetricValue | undefined): number | bigint | string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new RangeError('expected a number');
}

/** The oneof member a data type travels in (Sparkplug 3.0 ch. 6 "Payloads"), with the value converted for it. */
function valueField(datatype: number, v: MetricValue | undefined): Raw {
  if (v === null || v === undefined) return { is_null: true };
  switch (datatype) {
    case DataType.Int8: case DataType.Int16: case DataType.Int32:
    case DataType.UInt8: case DataType.UInt16: case DataType.UInt32:
      return { int_value: Number(scalar(v)) >>> 0 };
    case DataType.Int64: case DataType.DateTime:
      return { long_value: longString(scalar(v), false) };
    case DataType.UInt64:
      return { long_value: longString(scalar(v), true) };
    case DataType.Float: return { float_value: Number(scalar(v)) };
    case DataType.Double: return { double_value: Number(scalar(v)) };
    case DataType.Boolean: return { boolean_value: typeof v === 'string' ? v === 'true' : Boolean(v) };
    case DataType.String: case DataType.Text: case DataType.UUID:
      return { string_value: typeof v === 'string' ? v : JSON.stringify(typeof v === 'bigint' ? v.toString() : v) };
    case DataType.Bytes: case DataType.File:
      if (v instanceof Uint8Array) return { bytes_value: v };
      throw new RangeError('expected bytes');
    default:
      if (datatype >= DataType.Int8Array && datatype <= DataType.DateTimeArray && Array.isArray(v)) return { bytes_value: encodeArray(datatype, v as (number | string | boolean)[]) };
      throw new RangeError(`data type ${datatype} cannot be encoded from this value`);
  }
}

function metricRaw(m: MetricInput): Raw {
  return {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.alias !== undefined ? { alias: String(m.alias) } : {}),
    ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
    datatype: m.datatype,
    ...(m.isHistorical ? { is_historical: true } : {}),
    ...(m.isTransient ? { is_transient: true } : {}),
    ...valueField(m.datatype, m.value),
  };
}

/** Throws RangeError when a value does not fit its declared data type. */
export function encodePayload(p: PayloadInput): Buffer {
  const raw = {
    ...(p.timestamp !== undefined ? { timestamp: String(p.timestamp) } : {}),
    metrics: p.metrics.map(metricRaw),
    ...(p.seq !== undefined ? { seq: String(p.seq) } : {}),
    ...(p.uuid !== undefined ? { uuid: p.uuid } : {}),
    ...(p.body !== undefined ? { body: p.body } : {}),
  };
  return Buffer.from(PayloadType.encode(PayloadType.fromObject(raw)).finish());
}

/** The data type a JSON command value gets when the birth certificate did not declare the metric. */
export function inferDataType(v: JsonValue): number {
  if (typeof v === 'boolean') return DataType.Boolean;
  if (typeof v === 'number') return Number.isInteger(v) ? DataType.Int64 : DataType.Double;
  return DataType.String;
}

// ------------------------------------------------------------------ topics

export const NAMESPACE = 'spBv1.0';
export type MessageType = 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH' | 'NDATA' | 'DDATA' | 'NCMD' | 'DCMD';
const MESSAGE_TYPES = new Set<string>(['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD']);

export interface SparkplugTopic {
  readonly group: string;
  readonly type: MessageType;
  readonly node: string;
  readonly device?: string;
}

/**
 * `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]` (Sparkplug 3.0 ch. 4 "Topics and Messages"); device message types
 * need the device id, node ones must not have it. undefined for anything else (including STATE).
 */
export function parseTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, group, type, node, device] = parts as [string, string, string, string, string | undefined];
  if (!MESSAGE_TYPES.has(type) || group === '' || node === '') return undefined;
  const forDevice = type.startsWith('D');
  if (forDevice !== (device !== undefined) || device === '') return undefined;
  return { group, type: type as MessageType, node, ...(device !== undefined ? { device } : {}) };
}

export function topicFor(t: SparkplugTopic): string {
  return `${NAMESPACE}/${t.group}/${t.type}/${t.node}${t.device !== undefined ? `/${t.device}` : ''}`;
}

// ------------------------------------------------------------------ aliases and telemetry

export interface MetricInfo {
  readonly name: string;
  readonly datatype: number;
}

/**
 * The metrics a birth certificate declared for one edge node or device (Sparkplug 3.0 ch. 5 "Operational Behavior", aliases):
 * later DATA messages may name a metric by alias only. A new birth replaces the table.
 */
export class AliasTable {
  private readonly byAlias = new Map<number, MetricInfo>();
  private readonly byName = new Map<string, MetricInfo & { alias?: number }>();

  constructor(birth: readonly Metric[] = []) {
    for (const m of birth) {
      if (m.name === undefined) continue;
      const info = { name: m.name, datatype: m.datatype };
      this.byName.set(m.name, m.alias !== undefined ? { ...info, alias: m.alias } : info);
      if (m.alias !== undefined) this.byAlias.set(m.alias, info);
    }
  }

  /** Name and data type of a metric in a DATA message; undefined for an alias the birth never declared. */
  resolve(m: Metric): MetricInfo | undefined {
    if (m.name !== undefined) return { name: m.name, datatype: m.datatype !== DataType.Unknown ? m.datatype : (this.byName.get(m.name)?.datatype ?? m.datatype) };
    return m.alias !== undefined ? this.byAlias.get(m.alias) : undefined;
  }

  declared(name: string): (MetricInfo & { alias?: number }) | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }
}

/** Metrics that are Sparkplug's own session machinery, not measurements (Sparkplug 3.0 ch. 5 and 6). */
export function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/');
}

/** A metric value as a telemetry value; undefined for values telemetry has no form for (data sets, NaN). */
export function toJsonValue(v: MetricValue): JsonValue | undefined {
  // NaN and infinities are "no reading" in practice; telemetry refuses them, so they are skipped.
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return undefined;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return [...(v as JsonValue[])];
  if (typeof v === 'object') return undefined;
  return v as JsonValue;
}

export interface TelemetryGroup {
  readonly ts: number;
  readonly values: Record<string, JsonValue>;
}

export interface TelemetryResult {
  readonly groups: TelemetryGroup[];
  /** Aliases no birth declared: the host should ask for a rebirth (Sparkplug 3.0 ch. 5 "Operational Behavior"). */
  readonly unknownAliases: number[];
}

/** Metrics → readings grouped by timestamp (a metric's own, else the payload's, else `now`). */
export function metricsToTelemetry(payload: Payload, aliases: AliasTable, now: number): TelemetryResult {
  const byTs = new Map<number, Record<string, JsonValue>>();
  const unknownAliases: number[] = [];
  for (const m of payload.metrics) {
    const info = aliases.resolve(m);
    if (!info) {
      if (m.alias !== undefined) unknownAliases.push(m.alias);
      continue;
    }
    if (isControlMetric(info.name)) continue;
    const value = toJsonValue(m.value);
    if (value === undefined) continue;
    const ts = m.timestamp ?? payload.timestamp ?? now;
    let values = byTs.get(ts);
    if (!values) byTs.set(ts, (values = {}));
    values[info.name] = value;
  }
  return { groups: [...byTs].map(([ts, values]) => ({ ts, values })), unknownAliases };
}
