/**
 * Configuration of the Modbus connectors (TCP and RTU), checked by the edge config loader.
 * Both transports share the device, register and command schemas: only the line differs.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MODBUS_TYPES, registerCount } from '../../../protocols/modbus/registers.js';

const Order = Type.Union([Type.Literal('big'), Type.Literal('little')]);

export const ModbusRegisterSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    /** 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers (Modbus spec 6.1–6.4). */
    fc: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)], { default: 3 }),
    /** PDU address, 0-based (mbpoll -r 1 is address 0). */
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(MODBUS_TYPES.map((t) => Type.Literal(t)), { default: 'uint16' }),
    /** Registers of a string (2 characters each); other types have a fixed size. */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    /** Byte order inside each 16-bit register; Modbus itself is big-endian (spec 4.2). */
    byteOrder: Type.Optional(Order),
    /** Register order of 32/64-bit values: big = most significant register first. */
    wordOrder: Type.Optional(Order),
    /** value = raw × scale + offset (numbers only). */
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    unit: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ModbusCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    /** 5 write single coil, 6 write single register, 16 write multiple registers (spec 6.5, 6.6, 6.12). */
    fc: Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(16)]),
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(MODBUS_TYPES.map((t) => Type.Literal(t)), { default: 'uint16' }),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 123 })),
    byteOrder: Type.Optional(Order),
    wordOrder: Type.Optional(Order),
    /** The engineering value is turned back into raw: raw = (value − offset) / scale. */
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    /** A fixed value to write; otherwise params.value, or params itself when it is a scalar. */
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
  },
  { additionalProperties: false },
);

export const ModbusDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Modbus unit identifier (MBAP header, Modbus/TCP guide 3.1.3; the slave address on a serial line). */
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1 }),
    pollMs: Type.Integer({ minimum: 10, default: 1000 }),
    /** Device type sent with v1/gateway/connect. */
    type: Type.Optional(Type.String()),
    registers: Type.Array(ModbusRegisterSchema, { minItems: 1 }),
    commands: Type.Array(ModbusCommandSchema, { default: [] }),
    /**
     * The device's firmware-receive area (Continuum's block transfer, docs/EDGE.md "Firmware
     * through the edge"): holding registers from `base`, commit coil at `base`. Absent: firmware
     * assigned to this device fails "not supported by device configuration".
     */
    firmware: Type.Optional(Type.Object({ base: Type.Integer({ minimum: 0, maximum: 65535 - 242, default: 60000 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const Reconnect = Type.Object(
  { minMs: Type.Integer({ minimum: 10, default: 500 }), maxMs: Type.Integer({ minimum: 10, default: 30_000 }) },
  { default: {}, additionalProperties: false },
);

export const ModbusTcpSchema = Type.Object(
  {
    type: Type.Literal('modbus-tcp'),
    name: Type.String({ minLength: 1, default: 'modbus' }),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
    timeoutMs: Type.Integer({ minimum: 10, default: 1000 }),
    reconnect: Reconnect,
    devices: Type.Array(ModbusDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const ModbusRtuSchema = Type.Object(
  {
    type: Type.Literal('modbus-rtu'),
    name: Type.String({ minLength: 1, default: 'modbus-rtu' }),
    /** Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/… */
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 300, maximum: 4_000_000, default: 9600 }),
    /** Modbus over serial line V1.02, 2.5.1: even parity is the default; "none" needs 2 stop bits to stay 11 bits per character. */
    parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { default: 'even' }),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
    /** Per request: a slave that has not answered by then is counted as a timeout and the line moves on. */
    timeoutMs: Type.Integer({ minimum: 10, default: 1000 }),
    reconnect: Reconnect,
    devices: Type.Array(ModbusDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type ModbusTcpConfig = Static<typeof ModbusTcpSchema>;
export type ModbusRtuConfig = Static<typeof ModbusRtuSchema>;
export type ModbusDeviceConfig = Static<typeof ModbusDeviceSchema>;
export type ModbusRegisterConfig = Static<typeof ModbusRegisterSchema>;
export type ModbusCommandConfig = Static<typeof ModbusCommandSchema>;

/** Checks the schema cannot express; `at` is the connector's path in the file. */
export function modbusProblems(c: ModbusTcpConfig | ModbusRtuConfig, at: string): string[] {
  const problems: string[] = [];
  if (c.reconnect.maxMs < c.reconnect.minMs) problems.push(`${at}.reconnect: maxMs < minMs`);
  const units = new Set<number>();
  c.devices.forEach((d, di) => {
    const dat = `${at}.devices[${di}]`;
    // On a serial line the address is the only way to tell slaves apart (serial line spec 2.2); 0 is broadcast, never answered.
    if (c.type === 'modbus-rtu') {
      if (units.has(d.unitId)) problems.push(`${dat}.unitId: ${d.unitId} is used twice on ${c.path}`);
      if (d.unitId === 0 || d.unitId > 247) problems.push(`${dat}.unitId: a serial slave address is 1..247`);
      units.add(d.unitId);
    }
    const keys = new Set<string>();
    d.registers.forEach((r, ri) => {
      if (keys.has(r.key)) problems.push(`${dat}.registers[${ri}].key: "${r.key}" is defined twice`);
      keys.add(r.key);
      if ((r.fc === 1 || r.fc === 2) && r.type !== 'bool') problems.push(`${dat}.registers[${ri}].type: function code ${r.fc} reads bits; type must be bool`);
      if (r.type === 'string' && r.count === undefined) problems.push(`${dat}.registers[${ri}].count: a string needs count (registers)`);
    });
    const methods = new Set<string>();
    d.commands.forEach((m, mi) => {
      if (methods.has(m.method)) problems.push(`${dat}.commands[${mi}].method: "${m.method}" is defined twice`);
      methods.add(m.method);
      if (m.fc === 5 && m.type !== 'bool') problems.push(`${dat}.commands[${mi}].type: function code 5 writes a coil; type must be bool`);
      if (m.fc === 6 && registerCount(m.type, m.count) !== 1) problems.push(`${dat}.commands[${mi}].fc: ${m.type} spans several registers; use function code 16`);
      if (m.fc !== 5 && m.type === 'bool') problems.push(`${dat}.commands[${mi}].type: bool is written to a coil (function code 5)`);
    });
  });
  return problems;
}
