/**
 * Platform commands on an OPC UA session: writes (Part 4 5.10.4 Write) coerced to the node's
 * built-in DataType and ValueRank, and method calls (Part 4 5.11.2 Call) with the arguments
 * coerced to the method's InputArguments. A Bad status comes back as the command's error, named
 * (`setSetpoint: BadNotWritable`).
 */
import type { ClientSession, NodeId } from 'node-opcua';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { OpcuaModule } from './client.js';
import type { OpcuaCallCommandConfig } from './schema.js';
import { builtInName, fromJson, OpcuaValueError, toJson, type Bounds } from './values.js';

interface Shape {
  readonly type: number;
  readonly valueRank: number;
}

interface Argument {
  readonly name: string;
  readonly shape: Shape;
}

/** What the server told us about nodes and methods; cleared with each new session. */
export class ShapeCache {
  readonly nodes = new Map<string, Shape>();
  readonly methods = new Map<string, { readonly inputs: readonly Argument[]; readonly outputs: readonly string[] }>();
  clear(): void {
    this.nodes.clear();
    this.methods.clear();
  }
}

const isObject = (v: JsonValue): v is Record<string, JsonValue> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value a write command carries: its fixed value, params.value, or params itself when not an object. */
export function writeValue(fixed: unknown, params: JsonValue): JsonValue {
  if (fixed !== undefined) return fixed as JsonValue;
  if (isObject(params)) {
    if (!Object.hasOwn(params, 'value')) throw new OpcuaValueError('params.value is missing');
    return params.value as JsonValue;
  }
  return params;
}

/** The built-in type behind a DataType node id: itself for ns=0;i≤25, else found up the type tree (enumerations are Int32). */
async function builtInOf(opcua: OpcuaModule, session: ClientSession, dataType: NodeId): Promise<number> {
  if (dataType.namespace === 0 && typeof dataType.value === 'number' && dataType.value <= 25) return dataType.value;
  return opcua.findBasicDataType(session, dataType);
}

async function nodeShape(opcua: OpcuaModule, session: ClientSession, cache: ShapeCache, nodeId: NodeId): Promise<Shape> {
  const key = nodeId.toString();
  const known = cache.nodes.get(key);
  if (known) return known;
  const [dt, rank] = await session.read([
    { nodeId, attributeId: opcua.AttributeIds.DataType },
    { nodeId, attributeId: opcua.AttributeIds.ValueRank },
  ]);
  if (!dt?.statusCode.isGood()) throw new Error(`${key}: ${dt?.statusCode.name ?? 'no answer'}`);
  const shape = { type: await builtInOf(opcua, session, dt.value.value as NodeId), valueRank: rank?.statusCode.isGood() ? Number(rank.value.value) : -1 };
  cache.nodes.set(key, shape);
  return shape;
}

export async function writeNode(opcua: OpcuaModule, session: ClientSession, cache: ShapeCache, nodeId: NodeId, json: JsonValue, bounds: Bounds): Promise<JsonValue> {
  const shape = await nodeShape(opcua, session, cache, nodeId);
  const variant = fromJson(json, shape.type, shape.valueRank, bounds);
  const status = await session.write({ nodeId, attributeId: opcua.AttributeIds.Value, value: { value: variant } });
  if (!status.isGood()) throw new Error(status.name);
  return toJson(variant, bounds);
}

async function methodArguments(opcua: OpcuaModule, session: ClientSession, cache: ShapeCache, methodId: NodeId): Promise<{ readonly inputs: readonly Argument[]; readonly outputs: readonly string[] }> {
  const key = methodId.toString();
  const known = cache.methods.get(key);
  if (known) return known;
  const definition = await session.getArgumentDefinition(methodId);
  const inputs: Argument[] = [];
  for (const a of definition.inputArguments) inputs.push({ name: a.name ?? `arg${inputs.length}`, shape: { type: await builtInOf(opcua, session, a.dataType), valueRank: a.valueRank } });
  const entry = { inputs, outputs: definition.outputArguments.map((a, i) => a.name ?? `out${i}`) };
  cache.methods.set(key, entry);
  return entry;
}

/** The call's input arguments from params: positional for an array, by name for an object, a scalar as the only one. */
export function callInputs(args: readonly string[], params: JsonValue): JsonValue[] {
  if (Array.isArray(params)) {
    if (params.length !== args.length) throw new OpcuaValueError(`expected ${args.length} argument(s) (${args.join(', ')}), got ${params.length}`);
    return params;
  }
  if (isObject(params)) {
    return args.map((name) => {
      if (!Object.hasOwn(params, name)) throw new OpcuaValueError(`params.${name} is missing`);
      return params[name] as JsonValue;
    });
  }
  if (args.length === 1) return [params];
  if (args.length === 0 && params === null) return [];
  throw new OpcuaValueError(`expected params {${args.join(', ')}}`);
}

export async function callMethod(opcua: OpcuaModule, session: ClientSession, cache: ShapeCache, command: OpcuaCallCommandConfig, params: JsonValue, bounds: Bounds): Promise<JsonValue> {
  const objectId = opcua.resolveNodeId(command.objectId);
  const methodId = opcua.resolveNodeId(command.methodId);
  const { inputs: definition, outputs: outputNames } = await methodArguments(opcua, session, cache, methodId);
  const names = command.args ?? definition.map((a) => a.name);
  if (names.length !== definition.length) throw new OpcuaValueError(`the method takes ${definition.length} argument(s) (${definition.map((a) => a.name).join(', ')}), args names ${names.length}`);
  // A method without arguments ignores the empty params object the platform sends by default.
  const values = definition.length === 0 ? [] : callInputs(names, params);
  const inputArguments = definition.map((a, i) => {
    try {
      return fromJson(values[i] as JsonValue, a.shape.type, a.shape.valueRank, bounds);
    } catch (err) {
      throw new OpcuaValueError(`${names[i] ?? a.name}: ${(err as Error).message} (${builtInName(a.shape.type)})`);
    }
  });
  const result = await session.call({ objectId, methodId, inputArguments });
  if (!result.statusCode.isGood()) {
    const bad = (result.inputArgumentResults ?? []).map((s, i) => (s.isGood() ? undefined : `${names[i] ?? i}: ${s.name}`)).filter((x) => x !== undefined);
    throw new Error([result.statusCode.name, ...bad].join('; '));
  }
  const outputs: Record<string, JsonValue> = {};
  (result.outputArguments ?? []).forEach((v, i) => (outputs[outputNames[i] ?? `out${i}`] = toJson(v, bounds)));
  return outputs;
}
