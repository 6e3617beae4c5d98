/**
 * Register values ↔ engineering values, with no I/O. The Modbus application protocol defines
 * only 16-bit registers and single bits and sends every register big-endian (Modbus Application
 * Protocol Specification V1.1b3, 4.2 "Data Encoding"); how a 32- or 64-bit value or a string
 * spreads over several registers is vendor convention, hence byteOrder and wordOrder.
 */

export const MODBUS_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bool', 'string'] as const;
export type ModbusType = (typeof MODBUS_TYPES)[number];
export type ByteOrder = 'big' | 'little';

export interface ValueLayout {
  readonly type: ModbusType;
  /** Registers of a string. */
  readonly count?: number;
  readonly byteOrder?: ByteOrder;
  readonly wordOrder?: ByteOrder;
  readonly scale?: number;
  readonly offset?: number;
}

/** Registers (or bits, for bool on function codes 1/2) one value occupies. */
export function registerCount(type: ModbusType, count?: number): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    case 'string':
      return count ?? 1;
    default:
      return 1;
  }
}

/** Registers as received → a big-endian byte string in the value's natural order. */
function toBigEndianBytes(registers: readonly number[], layout: ValueLayout): Buffer {
  const words = layout.wordOrder === 'little' ? [...registers].reverse() : registers;
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => {
    if (layout.byteOrder === 'little') buf.writeUInt16LE(w & 0xffff, i * 2);
    else buf.writeUInt16BE(w & 0xffff, i * 2);
  });
  return buf;
}

function fromBigEndianBytes(buf: Buffer, layout: ValueLayout): number[] {
  const words: number[] = [];
  for (let i = 0; i < buf.length; i += 2) words.push(layout.byteOrder === 'little' ? buf.readUInt16LE(i) : buf.readUInt16BE(i));
  return layout.wordOrder === 'little' ? words.reverse() : words;
}

function scaled(raw: number, layout: ValueLayout): number {
  const v = raw * (layout.scale ?? 1) + (layout.offset ?? 0);
  // Scaling in binary floating point turns 1005 × 0.1 into 100.50000000000001; 12 significant digits is beyond any sensor.
  return layout.scale === undefined && layout.offset === undefined ? v : Number(v.toPrecision(12));
}

/** Decodes one value from exactly registerCount() registers. */
export function decodeRegisters(registers: readonly number[], layout: ValueLayout): number | boolean | string {
  const buf = toBigEndianBytes(registers, layout);
  switch (layout.type) {
    case 'int16':
      return scaled(buf.readInt16BE(0), layout);
    case 'uint16':
      return scaled(buf.readUInt16BE(0), layout);
    case 'int32':
      return scaled(buf.readInt32BE(0), layout);
    case 'uint32':
      return scaled(buf.readUInt32BE(0), layout);
    case 'float32':
      return scaled(buf.readFloatBE(0), layout);
    case 'float64':
      return scaled(buf.readDoubleBE(0), layout);
    case 'bool':
      return buf.readUInt16BE(0) !== 0;
    case 'string': {
      // Two ASCII characters per register, first character in the high byte; NUL pads the end.
      const end = buf.indexOf(0);
      return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1').trimEnd();
    }
  }
}

export class EncodeError extends Error {
  override name = 'EncodeError';
}

/** An engineering value → the registers to write (raw = (value − offset) / scale). Throws EncodeError. */
export function encodeRegisters(value: unknown, layout: ValueLayout): number[] {
  const n = registerCount(layout.type, layout.count);
  const buf = Buffer.alloc(n * 2);
  if (layout.type === 'string') {
    if (typeof value !== 'string') throw new EncodeError('expected a string');
    if (value.length > n * 2) throw new EncodeError(`string longer than ${n * 2} characters`);
    buf.write(value, 'latin1');
    return fromBigEndianBytes(buf, layout);
  }
  if (layout.type === 'bool') {
    if (typeof value !== 'boolean' && typeof value !== 'number') throw new EncodeError('expected a boolean');
    return [value ? 1 : 0];
  }
  const num = typeof value === 'boolean' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof num !== 'number' || !Number.isFinite(num)) throw new EncodeError('expected a number');
  const raw = (num - (layout.offset ?? 0)) / (layout.scale ?? 1);
  const int = Math.round(raw);
  const range = (lo: number, hi: number): number => {
    if (int < lo || int > hi) throw new EncodeError(`${num} is out of range for ${layout.type}`);
    return int;
  };
  switch (layout.type) {
    case 'int16':
      buf.writeInt16BE(range(-0x8000, 0x7fff), 0);
      break;
    case 'uint16':
      buf.writeUInt16BE(range(0, 0xffff), 0);
      break;
    case 'int32':
      buf.writeInt32BE(range(-0x80000000, 0x7fffffff), 0);
      break;
    case 'uint32':
      buf.writeUInt32BE(range(0, 0xffffffff), 0);
      break;
    case 'float32':
      buf.writeFloatBE(raw, 0);
      break;
    case 'float64':
      buf.writeDoubleBE(raw, 0);
      break;
  }
  return fromBigEndianBytes(buf, layout);
}

export interface ReadBlock<T> {
  readonly fc: 1 | 2 | 3 | 4;
  readonly address: number;
  readonly quantity: number;
  readonly items: readonly T[];
}

/**
 * Groups the configured values into as few read requests as possible. Quantity limits per
 * request: 2000 bits for function codes 1/2 (spec 6.1, 6.2) and 125 registers for 3/4
 * (spec 6.3, 6.4). Gaps up to `maxGap` are read and ignored rather than costing a round trip.
 */
export function planReads<T extends { fc: 1 | 2 | 3 | 4; address: number; type: ModbusType; count?: number }>(items: readonly T[], maxGap = 8): ReadBlock<T>[] {
  const blocks: ReadBlock<T>[] = [];
  for (const fc of [1, 2, 3, 4] as const) {
    const limit = fc <= 2 ? 2000 : 125;
    const sorted = items.filter((i) => i.fc === fc).sort((a, b) => a.address - b.address);
    let current: { address: number; end: number; items: T[] } | undefined;
    for (const item of sorted) {
      const size = fc <= 2 ? 1 : registerCount(item.type, item.count);
      const end = item.address + size;
      if (current && item.address <= current.end + maxGap && Math.max(current.end, end) - current.address <= limit) {
        current.end = Math.max(current.end, end);
        current.items.push(item);
      } else {
        if (current) blocks.push({ fc, address: current.address, quantity: current.end - current.address, items: current.items });
        current = { address: item.address, end, items: [item] };
      }
    }
    if (current) blocks.push({ fc, address: current.address, quantity: current.end - current.address, items: current.items });
  }
  return blocks;
}
