/**
 * The OpenAPI document → TypeScript text for the typed client: the shared schemas as types, and
 * per operationId its method, path template, input (path params, query, JSON body) and the type
 * of its success answer (200, else 201; 204 → undefined; a non-JSON body such as CSV → string).
 * Which file each piece goes to is client-files.ts's concern. Deterministic: operations and
 * schemas sorted by name, so a diff shows what changed.
 */
import { docComment, propertyName, SchemaPrinter, type JsonSchema } from './schema-to-ts.js';

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: JsonSchema;
}

interface Content {
  readonly [mediaType: string]: { readonly schema?: JsonSchema } | undefined;
}

interface Operation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Content };
  readonly responses?: Readonly<Record<string, { readonly content?: Content } | undefined>>;
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const COMPONENT = '#/components/schemas/';

const printer = new SchemaPrinter((ref) => (ref.startsWith(COMPONENT) ? `Schemas[${JSON.stringify(ref.slice(COMPONENT.length))}]` : 'unknown'));

/** `{ a: T; b?: U }` of parameters, one per line (`indent` is the brace's own indentation). */
function parameterObject(params: readonly Parameter[], indent: string): string {
  const inner = `${indent}  `;
  const lines = params.map((p) => {
    // A parameter with a default is required in the document (the server fills it in) but not for a caller.
    const optional = p.required !== true || p.schema?.default !== undefined;
    return `${docComment(p.description, inner)}${inner}${propertyName(p.name)}${optional ? '?' : ''}: ${printer.print(p.schema, inner)};`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function jsonSchemaOf(content: Content | undefined): { json: JsonSchema | undefined } | 'other' | undefined {
  if (content === undefined || Object.keys(content).length === 0) return undefined;
  const json = content['application/json'];
  return json === undefined ? 'other' : { json: json.schema };
}

function responseType(op: Operation, indent: string): string {
  const responses = op.responses ?? {};
  for (const status of ['200', '201', '202']) {
    if (!(status in responses)) continue;
    const body = jsonSchemaOf(responses[status]?.content);
    if (body === undefined) return 'undefined';
    return body === 'other' ? 'string' : printer.print(body.json, indent);
  }
  return '204' in responses ? 'undefined' : 'unknown';
}

function inputType(op: Operation, indent: string): string {
  const inner = `${indent}  `;
  const params = op.parameters ?? [];
  const path = params.filter((p) => p.in === 'path');
  const query = params.filter((p) => p.in === 'query');
  const members: string[] = [];
  if (path.length > 0) members.push(`${inner}params: ${parameterObject(path, inner)};`);
  if (query.length > 0) {
    const required = query.some((p) => p.required === true && p.schema?.default === undefined);
    members.push(`${inner}query${required ? '' : '?'}: ${parameterObject(query, inner)};`);
  }
  const body = op.requestBody ? jsonSchemaOf(op.requestBody.content) : undefined;
  if (body !== undefined) {
    const type = body === 'other' ? 'unknown' : printer.print(body.json, inner);
    members.push(`${inner}body${op.requestBody?.required === true ? '' : '?'}: ${type};`);
  }
  return members.length === 0 ? 'Record<string, never>' : `{\n${members.join('\n')}\n${indent}}`;
}

/** One operation of the document, with what places it: its first tag and its path. */
export interface Found {
  readonly id: string;
  readonly tag: string;
  readonly method: string;
  readonly path: string;
  readonly op: Operation;
}

export function operationsOf(doc: OpenApiDocument): Found[] {
  const found: Found[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as (Operation & { readonly tags?: readonly string[] }) | undefined;
      if (op === undefined) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      // Every route declares a tag (house rule); one without lands in "untagged" rather than failing here.
      found.push({ id: op.operationId, tag: op.tags?.[0] ?? 'untagged', method: method.toUpperCase(), path, op });
    }
  }
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The shared schemas (components.schemas) as the members of one interface, sorted by name. */
export function printSchemaMembers(doc: OpenApiDocument): string[] {
  const schemas = Object.entries(doc.components?.schemas ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return schemas.map(([name, schema]) => `${docComment(schema.description, '  ')}  ${propertyName(name)}: ${printer.print(schema, '  ')};`);
}

/** One operation as an interface member: method, path template, input, and the answer on success. */
export function printOperationMember({ id, method, path, op }: Found): string[] {
  return [
    docComment(`${op.summary ?? id} (${method} ${path})`, '  ').trimEnd(),
    `  ${id}: {`,
    `    method: ${JSON.stringify(method)};`,
    `    path: ${JSON.stringify(path)};`,
    `    input: ${inputType(op, '    ')};`,
    `    response: ${responseType(op, '    ')};`,
    '  };',
  ];
}
