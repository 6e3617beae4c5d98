/**
 * BACnet names and values with no I/O: the object types and properties a configuration may
 * name (spelled as in the ASN.1 of ASHRAE 135 clause 21, e.g. analog-input, present-value),
 * application-tagged values (clause 20.2) turned into JSON, and JSON turned back into the
 * datatype a property expects for WriteProperty (clause 15.9).
 */
import { AbortReason, ApplicationTag, ErrorClass, ErrorCode, ObjectType, PropertyIdentifier, RejectReason, type BACNetAppData, type BACNetBitString } from '@bacnet-js/client';
import type { JsonValue } from '../../../domain/telemetry.js';

export const OBJECT_TYPES = {
  'analog-input': ObjectType.ANALOG_INPUT,
  'analog-output': ObjectType.ANALOG_OUTPUT,
  'analog-value': ObjectType.ANALOG_VALUE,
  'binary-input': ObjectType.BINARY_INPUT,
  'binary-output': ObjectType.BINARY_OUTPUT,
  'binary-value': ObjectType.BINARY_VALUE,
  'multi-state-input': ObjectType.MULTI_STATE_INPUT,
  'multi-state-output': ObjectType.MULTI_STATE_OUTPUT,
  'multi-state-value': ObjectType.MULTI_STATE_VALUE,
  'integer-value': ObjectType.INTEGER_VALUE,
  'positive-integer-value': ObjectType.POSITIVE_INTEGER_VALUE,
  'large-analog-value': ObjectType.LARGE_ANALOG_VALUE,
  'characterstring-value': ObjectType.CHARACTERSTRING_VALUE,
  accumulator: ObjectType.ACCUMULATOR,
  device: ObjectType.DEVICE,
} as const;
export type ObjectTypeName = keyof typeof OBJECT_TYPES;
export const OBJECT_TYPE_NAMES = Object.keys(OBJECT_TYPES) as ObjectTypeName[];

export const PROPERTIES = {
  'present-value': PropertyIdentifier.PRESENT_VALUE,
  'status-flags': PropertyIdentifier.STATUS_FLAGS,
  'out-of-service': PropertyIdentifier.OUT_OF_SERVICE,
  'event-state': PropertyIdentifier.EVENT_STATE,
  reliability: PropertyIdentifier.RELIABILITY,
  'object-name': PropertyIdentifier.OBJECT_NAME,
  description: PropertyIdentifier.DESCRIPTION,
  units: PropertyIdentifier.UNITS,
  'relinquish-default': PropertyIdentifier.RELINQUISH_DEFAULT,
  'cov-increment': PropertyIdentifier.COV_INCREMENT,
  'vendor-name': PropertyIdentifier.VENDOR_NAME,
  'model-name': PropertyIdentifier.MODEL_NAME,
} as const;
export type PropertyName = keyof typeof PROPERTIES;
export const PROPERTY_NAMES = Object.keys(PROPERTIES) as PropertyName[];

const typeNameByCode = new Map<number, ObjectTypeName>(OBJECT_TYPE_NAMES.map((n) => [OBJECT_TYPES[n], n]));

/** The configuration name of an object type code, or undefined for types we do not map. */
export function objectTypeName(code: number): ObjectTypeName | undefined {
  return typeNameByCode.get(code);
}

/** Objects whose Present_Value is commandable through a priority array (clause 19.2.1). */
export function isCommandable(type: ObjectTypeName): boolean {
  return type.endsWith('-output') || type.endsWith('-value');
}

const isBinary = (type: ObjectTypeName): boolean => type.startsWith('binary-');

/** Status_Flags (clause 12.1.x, BACnetStatusFlags): bit 0 in-alarm, 1 fault, 2 overridden, 3 out-of-service. */
function statusFlags(bits: BACNetBitString): JsonValue {
  const bit = (n: number): boolean => (((bits.value[n >> 3] ?? 0) >> (n & 7)) & 1) === 1;
  return { inAlarm: bit(0), fault: bit(1), overridden: bit(2), outOfService: bit(3) };
}

/** A REAL is an IEEE-754 single (clause 20.2.6): 7 significant digits is all it carries, so 21.3 reads as 21.3. */
const single = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(7)) : v);

function one(data: BACNetAppData, type: ObjectTypeName, property: PropertyName): JsonValue {
  const v = data.value as unknown;
  switch (data.type) {
    case ApplicationTag.NULL:
      return null;
    case ApplicationTag.REAL:
      return single(Number(v));
    case ApplicationTag.BOOLEAN:
      return Boolean(v);
    case ApplicationTag.ENUMERATED:
      // BACnetBinaryPV (clause 21): inactive (0), active (1).
      if (isBinary(type) && (property === 'present-value' || property === 'relinquish-default')) return Number(v) === 1;
      return Number(v);
    case ApplicationTag.UNSIGNED_INTEGER:
    case ApplicationTag.SIGNED_INTEGER:
    case ApplicationTag.DOUBLE:
      return Number(v);
    case ApplicationTag.CHARACTER_STRING:
      return String(v);
    case ApplicationTag.BIT_STRING:
      return property === 'status-flags' ? statusFlags(v as BACNetBitString) : String((v as BACNetBitString).value);
    default:
      return v instanceof Date ? v.toISOString() : typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as JsonValue);
  }
}

/** The JSON value of a property as read (clause 15.5 ReadProperty-ACK): one value, or an array when the property is a list. */
export function decodeValue(values: readonly BACNetAppData[], type: ObjectTypeName, property: PropertyName): JsonValue {
  if (values.length === 1) return one(values[0] as BACNetAppData, type, property);
  return values.map((v) => one(v, type, property));
}

export class BacnetValueError extends Error {
  override name = 'BacnetValueError';
}

/** The application datatype WriteProperty must carry for this object's property (clause 12 object definitions). */
export function encodeValue(value: unknown, type: ObjectTypeName, property: PropertyName): BACNetAppData {
  // Writing NULL at a priority relinquishes that slot of the priority array (clause 19.2.1.2).
  if (value === null) return { type: ApplicationTag.NULL, value: null };
  if (property === 'out-of-service') {
    if (typeof value !== 'boolean') throw new BacnetValueError('expected true or false');
    return { type: ApplicationTag.BOOLEAN, value };
  }
  if (property === 'object-name' || property === 'description' || type === 'characterstring-value') {
    if (typeof value !== 'string') throw new BacnetValueError('expected a string');
    return { type: ApplicationTag.CHARACTER_STRING, value };
  }
  if (property !== 'present-value' && property !== 'relinquish-default' && property !== 'cov-increment') throw new BacnetValueError(`${property} is not writable through a command`);
  if (isBinary(type)) {
    const active = value === true || value === 1 || value === 'active' ? 1 : value === false || value === 0 || value === 'inactive' ? 0 : undefined;
    if (active === undefined) throw new BacnetValueError('expected true/false, 1/0 or "active"/"inactive"');
    return { type: ApplicationTag.ENUMERATED, value: active };
  }
  const num = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof num !== 'number' || !Number.isFinite(num)) throw new BacnetValueError('expected a number');
  if (property === 'cov-increment') return { type: ApplicationTag.REAL, value: num };
  switch (type) {
    case 'multi-state-input':
    case 'multi-state-output':
    case 'multi-state-value':
      // States are numbered from 1 (clause 12.18.4 and siblings); 0 is never a state.
      if (!Number.isInteger(num) || num < 1) throw new BacnetValueError('expected a state number ≥ 1');
      return { type: ApplicationTag.UNSIGNED_INTEGER, value: num };
    case 'positive-integer-value':
      if (!Number.isInteger(num) || num < 0) throw new BacnetValueError('expected an unsigned integer');
      return { type: ApplicationTag.UNSIGNED_INTEGER, value: num };
    case 'integer-value':
      if (!Number.isInteger(num)) throw new BacnetValueError('expected an integer');
      return { type: ApplicationTag.SIGNED_INTEGER, value: num };
    case 'large-analog-value':
      return { type: ApplicationTag.DOUBLE, value: num };
    default:
      return { type: ApplicationTag.REAL, value: num };
  }
}

const enumName = (table: Record<number, string>, code: number): string => (table[code] ?? String(code)).toLowerCase().replace(/_/g, '-');

/**
 * An operator-readable reason from the errors @bacnet-js/client rejects with: Error-PDU
 * (class/code, clause 18), Reject-PDU and Abort-PDU (reasons, clauses 18.8 and 18.9), timeout.
 */
export function describeError(err: unknown, timeoutMs: number): string {
  const text = err instanceof Error ? err.message : String(err);
  const error = /BacnetError - Class:(\d+) - Code:(\d+)/.exec(text);
  if (error) return `${enumName(ErrorClass as unknown as Record<number, string>, Number(error[1]))}: ${enumName(ErrorCode as unknown as Record<number, string>, Number(error[2]))}`;
  const abort = /BacnetAbort - Reason:(\d+)/.exec(text);
  if (abort) return `abort/reject: ${enumName(AbortReason as unknown as Record<number, string>, Number(abort[1]))} (reject reason ${enumName(RejectReason as unknown as Record<number, string>, Number(abort[1]))})`;
  if (text === 'ERR_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  return text;
}

/** True when the device does not implement the service (it answered, the service is simply absent). */
export function isUnsupportedService(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  const error = /BacnetError - Class:(\d+) - Code:(\d+)/.exec(text);
  if (error) {
    const code = Number(error[2]);
    return Number(error[1]) === ErrorClass.SERVICES && (code === ErrorCode.REJECT_UNRECOGNIZED_SERVICE || code === ErrorCode.SERVICE_REQUEST_DENIED || code === ErrorCode.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED);
  }
  // Reject-PDU and Abort-PDU arrive as the same error; a device that rejects a whole service does so every time.
  return /BacnetAbort - Reason:/.test(text);
}
