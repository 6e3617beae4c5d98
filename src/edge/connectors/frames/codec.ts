/**
 * The pure part of the `frames` connector: checksums, hex templates, field decoding and the
 * stream framer that cuts a byte stream into frames. No I/O here.
 */
import type { JsonValue } from '../../../domain/telemetry.js';

export const CHECKSUMS = ['crc16-modbus', 'crc16-ccitt', 'sum8', 'xor8'] as const;
export type ChecksumName = (typeof CHECKSUMS)[number];
export const FIELD_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'f64', 'string', 'bits'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

// ------------------------------------------------------------------ checksums

/** CRC-16/MODBUS: reflected polynomial 0xA001, initial 0xFFFF (Modbus over Serial Line 6.2.2). */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, not reflected (the common "CCITT"). */
export function crc16Ccitt(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function checksum(name: ChecksumName, bytes: Uint8Array): number {
  switch (name) {
    case 'crc16-modbus': return crc16Modbus(bytes);
    case 'crc16-ccitt': return crc16Ccitt(bytes);
    case 'sum8': return bytes.reduce((s, b) => (s + b) & 0xff, 0);
    case 'xor8': return bytes.reduce((s, b) => s ^ b, 0);
  }
}

export function checksumBytes(name: ChecksumName, value: number, endian?: 'big' | 'little'): number[] {
  if (name === 'sum8' || name === 'xor8') return [value & 0xff];
  // Modbus RTU sends the CRC low byte first (Modbus over Serial Line 6.2.2).
  const little = (endian ?? (name === 'crc16-modbus' ? 'little' : 'big')) === 'little';
  return little ? [value & 0xff, value >>> 8] : [value >>> 8, value & 0xff];
}

export interface ChecksumRule {
  readonly type: ChecksumName;
  readonly from: number;
  readonly to: number;
  readonly at?: number;
  readonly endian?: 'big' | 'little';
}

const pos = (i: number, length: number): number => (i < 0 ? length + i : i);

/** True when the frame carries the checksum its bytes compute to. */
export function checksumOk(rule: ChecksumRule, frame: Uint8Array): boolean {
  const from = pos(rule.from, frame.length);
  const to = pos(rule.to, frame.length);
  const at = rule.at === undefined ? to : pos(rule.at, frame.length);
  const expected = checksumBytes(rule.type, checksum(rule.type, frame.subarray(from, to)), rule.endian);
  if (from < 0 || to < from || at < 0 || at + expected.length > frame.length) return false;
  return expected.every((b, i) => frame[at + i] === b);
}

// ------------------------------------------------------------------ hex templates

export type TemplatePart = { kind: 'bytes'; bytes: number[] } | { kind: 'checksum'; name: ChecksumName } | { kind: 'value'; type: FieldType; little: boolean };

/** "01 03 {value:u16} {crc16-modbus}" → parts; throws with the offending token. */
export function parseHexTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  for (const token of template.match(/\{[^}]*\}|[^\s{]+/g) ?? []) {
    if (token.startsWith('{')) {
      const inner = token.slice(1, -1);
      if ((CHECKSUMS as readonly string[]).includes(inner)) parts.push({ kind: 'checksum', name: inner as ChecksumName });
      else {
        const m = /^value:(u8|i8|u16|i16|u32|i32|f32|f64)(le)?$/.exec(inner);
        if (!m) throw new Error(`unknown placeholder ${token} (use {value:u16}, {value:i32le}, {crc16-modbus}, {crc16-ccitt}, {sum8}, {xor8})`);
        parts.push({ kind: 'value', type: m[1] as FieldType, little: m[2] === 'le' });
      }
      continue;
    }
    if (!/^([0-9A-Fa-f]{2})+$/.test(token)) throw new Error(`"${token}" is not hex bytes`);
    const bytes = token.match(/../g)?.map((h) => parseInt(h, 16)) ?? [];
    parts.push({ kind: 'bytes', bytes });
  }
  if (parts.length === 0) throw new Error('empty template');
  return parts;
}

const WRITERS: Record<string, { size: number; write: (v: DataView, x: number, little: boolean) => void }> = {
  u8: { size: 1, write: (v, x) => v.setUint8(0, x) },
  i8: { size: 1, write: (v, x) => v.setInt8(0, x) },
  u16: { size: 2, write: (v, x, le) => v.setUint16(0, x, le) },
  i16: { size: 2, write: (v, x, le) => v.setInt16(0, x, le) },
  u32: { size: 4, write: (v, x, le) => v.setUint32(0, x, le) },
  i32: { size: 4, write: (v, x, le) => v.setInt32(0, x, le) },
  f32: { size: 4, write: (v, x, le) => v.setFloat32(0, x, le) },
  f64: { size: 8, write: (v, x, le) => v.setFloat64(0, x, le) },
};

const RANGES: Record<string, [number, number]> = { u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff] };

/** Renders a template; a checksum covers every byte before it. Throws when the value does not fit. */
export function renderTemplate(parts: readonly TemplatePart[], value?: number): Buffer {
  const out: number[] = [];
  for (const p of parts) {
    if (p.kind === 'bytes') out.push(...p.bytes);
    else if (p.kind === 'checksum') out.push(...checksumBytes(p.name, checksum(p.name, Uint8Array.from(out))));
    else {
      if (value === undefined || !Number.isFinite(value)) throw new Error('this command needs a numeric value');
      const range = RANGES[p.type];
      if (range && (!Number.isInteger(value) || value < range[0] || value > range[1])) throw new Error(`${value} does not fit ${p.type}`);
      const w = WRITERS[p.type] as (typeof WRITERS)[string];
      const view = new DataView(new ArrayBuffer(w.size));
      w.write(view, value, p.little);
      out.push(...new Uint8Array(view.buffer));
    }
  }
  return Buffer.from(out);
}

// ------------------------------------------------------------------ fields

export interface FieldSpec {
  readonly key: string;
  readonly offset: number;
  readonly type: FieldType;
  readonly endian: 'big' | 'little';
  readonly length?: number;
  readonly bit?: number;
  readonly bits?: number;
  readonly scale?: number;
  readonly valueOffset?: number;
}

function readUnsigned(view: DataView, at: number, size: number, little: boolean): number {
  if (size === 1) return view.getUint8(at);
  if (size === 2) return view.getUint16(at, little);
  return view.getUint32(at, little);
}

/** One field's value; undefined when the frame is too short for it. */
export function decodeField(f: FieldSpec, frame: Uint8Array): JsonValue | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const little = f.endian === 'little';
  const size = f.type === 'string' || f.type === 'bits' ? (f.length ?? 1) : Number(/\d+/.exec(f.type)?.[0]) / 8;
  if (f.offset + size > frame.length) return undefined;
  let raw: number;
  switch (f.type) {
    case 'u8': raw = view.getUint8(f.offset); break;
    case 'i8': raw = view.getInt8(f.offset); break;
    case 'u16': raw = view.getUint16(f.offset, little); break;
    case 'i16': raw = view.getInt16(f.offset, little); break;
    case 'u32': raw = view.getUint32(f.offset, little); break;
    case 'i32': raw = view.getInt32(f.offset, little); break;
    case 'f32': raw = view.getFloat32(f.offset, little); break;
    case 'f64': raw = view.getFloat64(f.offset, little); break;
    case 'string':
      return Buffer.from(frame.subarray(f.offset, f.offset + size)).toString('latin1').replace(/[\u0000 ]+$/, '');
    case 'bits': {
      const width = f.bits ?? 1;
      const word = readUnsigned(view, f.offset, size, little);
      const field = Math.floor(word / 2 ** (f.bit ?? 0)) % 2 ** width;
      if (width === 1) return field === 1;
      raw = field;
      break;
    }
  }
  if (!Number.isFinite(raw)) return undefined;
  return f.scale === undefined && f.valueOffset === undefined ? raw : raw * (f.scale ?? 1) + (f.valueOffset ?? 0);
}

// ------------------------------------------------------------------ framing

export type Framing =
  | { readonly type: 'fixed'; readonly length: number; readonly start?: string }
  | { readonly type: 'delimited'; readonly start?: string; readonly end: string; readonly maxLength: number }
  | { readonly type: 'length'; readonly start?: string; readonly offset: number; readonly size: 1 | 2 | 4; readonly endian: 'big' | 'little'; readonly adjust: number; readonly maxLength: number };

export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/**
 * Cuts a byte stream into frames. With a start delimiter, bytes before it are skipped (counted as
 * noise) so the framer resynchronises after garbage; a frame that cannot be valid (too long,
 * impossible length field) is dropped and counted.
 */
export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly start: Buffer | undefined;
  private readonly end: Buffer | undefined;
  /** Bytes skipped while hunting for a start delimiter or dropped as oversized. */
  discarded = 0;

  constructor(private readonly rule: Framing) {
    this.start = rule.start ? hexBytes(rule.start) : undefined;
    this.end = rule.type === 'delimited' ? hexBytes(rule.end) : undefined;
  }

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (!this.sync()) break;
      const length = this.frameLength();
      if (length === undefined) break;
      if (length === 'bad') {
        this.drop(1);
        continue;
      }
      frames.push(Buffer.from(this.buf.subarray(0, length)));
      this.buf = this.buf.subarray(length);
    }
    return frames;
  }

  /** Drops bytes before the start delimiter; false when more bytes are needed. */
  private sync(): boolean {
    if (this.buf.length === 0) return false;
    if (!this.start) return true;
    const i = this.buf.indexOf(this.start);
    if (i < 0) {
      // Keep a possible partial delimiter at the end.
      this.drop(Math.max(0, this.buf.length - this.start.length + 1));
      return false;
    }
    this.drop(i);
    return true;
  }

  /** The length of the frame at the head of the buffer, undefined = need more, 'bad' = resync. */
  private frameLength(): number | 'bad' | undefined {
    const r = this.rule;
    if (r.type === 'fixed') return this.buf.length >= r.length ? r.length : undefined;
    if (r.type === 'delimited') {
      const end = this.end as Buffer;
      const i = this.buf.indexOf(end, this.start?.length ?? 0);
      if (i < 0) return this.buf.length > r.maxLength ? 'bad' : undefined;
      const length = i + end.length;
      return length > r.maxLength ? 'bad' : length;
    }
    if (this.buf.length < r.offset + r.size) return undefined;
    const little = r.endian === 'little';
    const field = r.size === 1 ? this.buf.readUInt8(r.offset) : r.size === 2 ? (little ? this.buf.readUInt16LE(r.offset) : this.buf.readUInt16BE(r.offset)) : little ? this.buf.readUInt32LE(r.offset) : this.buf.readUInt32BE(r.offset);
    const length = field + r.adjust;
    if (length < r.offset + r.size || length > r.maxLength) return 'bad';
    return this.buf.length >= length ? length : undefined;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    // Without a start delimiter there is nothing to resynchronise on: the whole buffer goes.
    const count = this.start ? n : this.buf.length;
    this.discarded += count;
    this.buf = this.buf.subarray(count);
  }
}
