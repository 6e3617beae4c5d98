/**
 * Configuration of the `frames` connector: proprietary binary devices described, not programmed.
 * A transport (TCP or serial), a framing rule, an optional checksum, and per device a layout of
 * fields at byte offsets. Checked by the edge config loader (src/edge/config.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { CHECKSUMS, FIELD_TYPES, parseHexTemplate } from './codec.js';

const Endian = Type.Union([Type.Literal('big'), Type.Literal('little')], { default: 'big' });
/** Bytes as hex, spaces allowed: "AA 55", "0d0a". */
const Hex = Type.String({ pattern: '^\\s*([0-9A-Fa-f]{2}\\s*)+$' });
const ChecksumName = Type.Union(CHECKSUMS.map((c) => Type.Literal(c)));

export const FrameFieldSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    /** Byte offset from the first byte of the frame (a start delimiter counts). */
    offset: Type.Integer({ minimum: 0 }),
    type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))),
    endian: Endian,
    /** string: bytes to read (trailing NULs and spaces are dropped). bits: container bytes, 1, 2 or 4. */
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** bits: lowest bit of the field (0 = least significant) and its width; width 1 gives a boolean. */
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 31 })),
    bits: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    /** value = raw × scale + valueOffset (numbers only). */
    scale: Type.Optional(Type.Number()),
    valueOffset: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

export const FramingSchema = Type.Union([
  Type.Object({ type: Type.Literal('fixed'), length: Type.Integer({ minimum: 1, maximum: 65536 }), start: Type.Optional(Hex) }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('delimited'), start: Type.Optional(Hex), end: Hex, maxLength: Type.Integer({ minimum: 1, maximum: 65536, default: 1024 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('length'),
      start: Type.Optional(Hex),
      /** Where the length field sits in the frame, its size in bytes and byte order. */
      offset: Type.Integer({ minimum: 0 }),
      size: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(4)], { default: 1 }),
      endian: Endian,
      /** Whole frame length = field value + adjust (the bytes the field does not count: header, checksum). */
      adjust: Type.Integer({ default: 0 }),
      maxLength: Type.Integer({ minimum: 1, maximum: 65536, default: 1024 }),
    },
    { additionalProperties: false },
  ),
]);

export const ChecksumSchema = Type.Object(
  {
    type: ChecksumName,
    /** Bytes covered: [from, to); negative values count from the end of the frame. */
    from: Type.Integer({ default: 0 }),
    to: Type.Integer({ default: -2 }),
    /** Where the checksum is in the frame; negative counts from the end. Default: right after `to`. */
    at: Type.Optional(Type.Integer()),
    /** Byte order of a 16-bit checksum; default little for crc16-modbus, big for crc16-ccitt. */
    endian: Type.Optional(Type.Union([Type.Literal('big'), Type.Literal('little')])),
  },
  { additionalProperties: false },
);

export const FrameDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Frames whose bytes at `offset` equal `bytes` belong to this device; omitted = every frame. */
    match: Type.Optional(Type.Object({ offset: Type.Integer({ minimum: 0 }), bytes: Hex }, { additionalProperties: false })),
    type: Type.Optional(Type.String()),
    fields: Type.Array(FrameFieldSchema, { minItems: 1 }),
    /** Commands as hex templates: `{value:u16}` (any field type, `le` suffix for little-endian) and `{crc16-modbus}` etc. */
    commands: Type.Array(Type.Object({ method: Type.String({ minLength: 1 }), hex: Type.String({ minLength: 2 }) }, { additionalProperties: false }), { default: [] }),
  },
  { additionalProperties: false },
);

export const FramesTransportSchema = Type.Union([
  Type.Object({ type: Type.Literal('tcp'), host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('serial'),
      path: Type.String({ minLength: 1 }),
      baudRate: Type.Integer({ minimum: 50, default: 9600 }),
      dataBits: Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(7), Type.Literal(8)], { default: 8 }),
      parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { default: 'none' }),
      stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
    },
    { additionalProperties: false },
  ),
]);

export const FramesSchema = Type.Object(
  {
    type: Type.Literal('frames'),
    name: Type.String({ minLength: 1, default: 'frames' }),
    transport: FramesTransportSchema,
    framing: FramingSchema,
    checksum: Type.Optional(ChecksumSchema),
    /** A request frame sent every pollMs (hex template, e.g. "01 03 00 00 00 02 {crc16-modbus}"). */
    request: Type.Optional(Type.Object({ hex: Type.String({ minLength: 2 }), pollMs: Type.Integer({ minimum: 10, default: 1000 }) }, { additionalProperties: false })),
    reconnect: Type.Object(
      { minMs: Type.Integer({ minimum: 10, default: 500 }), maxMs: Type.Integer({ minimum: 10, default: 30_000 }) },
      { default: {}, additionalProperties: false },
    ),
    devices: Type.Array(FrameDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type FramesConfig = Static<typeof FramesSchema>;
export type FrameFieldConfig = Static<typeof FrameFieldSchema>;
export type FramingConfig = Static<typeof FramingSchema>;
export type ChecksumConfig = Static<typeof ChecksumSchema>;
export type FrameDeviceConfig = Static<typeof FrameDeviceSchema>;

const FIXED_SIZE: Record<string, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };

/** What the schema cannot say: field sizes, templates that parse, a fixed frame the fields fit in. */
export function framesProblems(c: FramesConfig, at: string): string[] {
  const problems: string[] = [];
  if (c.reconnect.maxMs < c.reconnect.minMs) problems.push(`${at}.reconnect: maxMs < minMs`);
  const template = (hex: string, where: string): void => {
    try {
      parseHexTemplate(hex);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  };
  if (c.request) template(c.request.hex, `${at}.request.hex`);
  c.devices.forEach((d, di) => {
    const keys = new Set<string>();
    d.fields.forEach((f, fi) => {
      const where = `${at}.devices[${di}].fields[${fi}]`;
      if (keys.has(f.key)) problems.push(`${where}.key: "${f.key}" is defined twice`);
      keys.add(f.key);
      if (f.type === 'string' && f.length === undefined) problems.push(`${where}.length: a string needs length (bytes)`);
      if (f.type === 'bits' && f.length !== undefined && ![1, 2, 4].includes(f.length)) problems.push(`${where}.length: bits are read from 1, 2 or 4 bytes`);
      const size = FIXED_SIZE[f.type] ?? f.length ?? 1;
      if (c.framing.type === 'fixed' && f.offset + size > c.framing.length) problems.push(`${where}.offset: ${f.type} at ${f.offset} ends after the ${c.framing.length}-byte frame`);
    });
    d.commands.forEach((m, mi) => template(m.hex, `${at}.devices[${di}].commands[${mi}].hex`));
  });
  return problems;
}
