/**
 * A compact JSON Schema → TypeScript type printer, for the schemas the platform's OpenAPI document
 * holds (TypeBox through @fastify/swagger, OpenAPI 3.0 dialect): objects, arrays, enums, unions
 * (anyOf/oneOf), intersections (allOf), `nullable`, additionalProperties, local $refs to
 * components. Anything else prints as `unknown`: a client type must never claim more than the
 * server promises.
 */

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly $ref?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly nullable?: boolean;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly items?: JsonSchema | readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>;
  readonly description?: string;
  readonly default?: unknown;
}

/** How a `$ref` prints: e.g. `#/components/schemas/Device` → `Schemas['Device']`. */
export type RefNamer = (ref: string) => string;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Deeper than this, a schema prints as `unknown` (a guard against pathological documents). */
const MAX_DEPTH = 24;

export function propertyName(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** A description as a one-line JSDoc comment (never closing the comment early). */
export function docComment(text: string | undefined, indent: string): string {
  if (!text) return '';
  const line = text.replace(/\s+/g, ' ').replace(/\*\//g, '*\\/').trim();
  return `${indent}/** ${line} */\n`;
}

/** Union members, deduplicated; `unknown` absorbs the rest. */
function union(parts: readonly string[]): string[] {
  const unique = [...new Set(parts)];
  return unique.includes('unknown') ? ['unknown'] : unique;
}

/** Parenthesised where an array suffix or an intersection would otherwise bind wrongly. */
function atom(members: readonly string[]): string {
  const type = members.join(' | ');
  return members.length === 1 && /^[\w$.'"[\]<>, ]+$/.test(type) ? type : `(${type})`;
}

function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return 'unknown';
}

export class SchemaPrinter {
  constructor(private readonly refName: RefNamer) {}

  /** The type of `schema`, laid out for a line that starts at `indent`. */
  print(schema: JsonSchema | boolean | undefined, indent = '', depth = 0): string {
    return this.members(schema, indent, depth).join(' | ');
  }

  /** The members of the union `schema` is (one member when it is no union). */
  private members(schema: JsonSchema | boolean | undefined, indent: string, depth: number): string[] {
    if (schema === undefined || schema === true) return ['unknown'];
    if (schema === false) return ['never'];
    if (depth > MAX_DEPTH) return ['unknown'];
    const base = this.bare(schema, indent, depth);
    return schema.nullable === true ? union([...base, 'null']) : base;
  }

  private bare(schema: JsonSchema, indent: string, depth: number): string[] {
    if (schema.$ref !== undefined) return [this.refName(schema.$ref)];
    if (schema.enum !== undefined) return union(schema.enum.map(literal));
    if (schema.const !== undefined) return [literal(schema.const)];
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives !== undefined) return union(alternatives.flatMap((s) => this.members(s, indent, depth + 1)));
    if (schema.allOf !== undefined) {
      const parts = schema.allOf.map((s) => this.members(s, indent, depth + 1));
      return parts.some((p) => p.includes('unknown')) ? ['unknown'] : [parts.map(atom).join(' & ')];
    }
    if (Array.isArray(schema.type)) return union((schema.type as readonly string[]).flatMap((type) => this.bare({ ...schema, type }, indent, depth)));
    switch (schema.type) {
      case 'string':
        return ['string'];
      case 'integer':
      case 'number':
        return ['number'];
      case 'boolean':
        return ['boolean'];
      case 'null':
        return ['null'];
      case 'array':
        return [this.array(schema, indent, depth)];
      case 'object':
        return [this.object(schema, indent, depth)];
      default:
        // No type: an object if it lists properties, otherwise anything.
        return schema.properties !== undefined ? [this.object(schema, indent, depth)] : ['unknown'];
    }
  }

  private array(schema: JsonSchema, indent: string, depth: number): string {
    if (Array.isArray(schema.items)) return `[${(schema.items as readonly JsonSchema[]).map((s) => this.print(s, indent, depth + 1)).join(', ')}]`;
    return `${atom(this.members(schema.items as JsonSchema | undefined, indent, depth + 1))}[]`;
  }

  private object(schema: JsonSchema, indent: string, depth: number): string {
    const props = Object.entries(schema.properties ?? {});
    const extra = schema.additionalProperties;
    const pattern = Object.values(schema.patternProperties ?? {});
    // Values of properties nobody listed: a schema, anything (true or unsaid), or none (false).
    let rest: string | undefined;
    if (pattern.length > 0) rest = union(pattern.flatMap((s) => this.members(s, indent, depth + 1))).join(' | ');
    else if (typeof extra === 'object') rest = this.print(extra, indent, depth + 1);
    else if (extra === true || (extra === undefined && props.length === 0)) rest = 'unknown';
    if (props.length === 0) return rest === undefined ? 'Record<string, never>' : `Record<string, ${rest}>`;
    const required = new Set(schema.required ?? []);
    const inner = `${indent}  `;
    const lines = props.map(([name, prop]) => `${docComment(prop.description, inner)}${inner}${propertyName(name)}${required.has(name) ? '' : '?'}: ${this.print(prop, inner, depth + 1)};`);
    const body = `{\n${lines.join('\n')}\n${indent}}`;
    // Listed properties beside open ones: TypeScript wants every listed type inside an index
    // signature, so the open part is a second member of an intersection.
    return rest === undefined ? body : `${body} & Record<string, ${rest}>`;
  }
}
