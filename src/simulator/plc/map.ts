/**
 * The register map of a simulated PLC, read from YAML: which holding registers, input
 * registers, coils and discrete inputs hold which value, and how each value moves over time.
 * Validated with a TypeBox schema compiled once; errors name the path of the bad entry.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parse } from 'yaml';
import { MODBUS_TYPES } from '../../protocols/modbus/registers.js';

const Address = Type.Integer({ minimum: 0, maximum: 65535 });

const Signal = Type.Union([
  Type.Object({ kind: Type.Literal('constant'), value: Type.Union([Type.Number(), Type.Boolean(), Type.String()]) }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('daily'), mean: Type.Number(), amplitude: Type.Number(), peakHour: Type.Optional(Type.Number({ minimum: 0, maximum: 24 })), noise: Type.Optional(Type.Number({ minimum: 0 })) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('noise'), mean: Type.Number(), sigma: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('ramp'), min: Type.Number(), max: Type.Number(), periodS: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('walk'), start: Type.Number(), sigmaPerHour: Type.Number({ minimum: 0 }), min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('square'), periodS: Type.Number({ exclusiveMinimum: 0 }), duty: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) }, { additionalProperties: false }),
]);
export type Signal = Static<typeof Signal>;

const RegisterEntry = Type.Object(
  {
    address: Address,
    name: Type.Optional(Type.String()),
    type: Type.Optional(Type.Union(MODBUS_TYPES.filter((t) => t !== 'bool').map((t) => Type.Literal(t)))),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    byteOrder: Type.Optional(Type.Union([Type.Literal('big'), Type.Literal('little')])),
    wordOrder: Type.Optional(Type.Union([Type.Literal('big'), Type.Literal('little')])),
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    signal: Signal,
  },
  { additionalProperties: false },
);
export type RegisterEntry = Static<typeof RegisterEntry>;

const BitEntry = Type.Object({ address: Address, name: Type.Optional(Type.String()), signal: Signal }, { additionalProperties: false });
export type BitEntry = Static<typeof BitEntry>;

const PlcMap = Type.Object(
  {
    unit: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    holdingRegisters: Type.Optional(Type.Array(RegisterEntry)),
    inputRegisters: Type.Optional(Type.Array(RegisterEntry)),
    coils: Type.Optional(Type.Array(BitEntry)),
    discreteInputs: Type.Optional(Type.Array(BitEntry)),
    /**
     * A firmware-receive area (protocols/modbus/firmware-transfer.ts): holding registers from
     * `base` (60000 in the examples), the commit coil at `base`; `version` is what the PLC runs before any update.
     */
    firmware: Type.Optional(
      Type.Object({ base: Type.Integer({ minimum: 0, maximum: 65535 - 242 }), version: Type.String({ maxLength: 32 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type PlcMap = Static<typeof PlcMap>;

const check = TypeCompiler.Compile(PlcMap);

export class PlcMapError extends Error {
  override name = 'PlcMapError';
}

export function parsePlcMap(text: string, source = 'map'): PlcMap {
  let tree: unknown;
  try {
    tree = parse(text);
  } catch (err) {
    throw new PlcMapError(`${source}: not YAML: ${(err as Error).message}`);
  }
  if (!check.Check(tree)) {
    const problems = [...check.Errors(tree)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new PlcMapError(`${source}: ${problems.join('; ')}`);
  }
  return tree;
}

export function loadPlcMap(file: string): PlcMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PlcMapError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePlcMap(text, file);
}
