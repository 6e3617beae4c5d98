/**
 * Typed calls of the management API by operationId, over the generated operation table
 * (operations/, from the OpenAPI document): `client.call('getDevice', { params: { id } })`
 * checks the path params, query and body against the route's schemas at compile time and types
 * the answer. This file turns a call into a request; ApiClient.call sends it (auth header, and
 * the error catalogue's `{error, message}` body mapped to ApiError with its code).
 */
import { OPERATIONS, type Operations, type Schemas } from './operations/index.js';

export type { Operations, Schemas };
export type OperationId = keyof Operations;
export type OperationInput<K extends OperationId> = Operations[K]['input'];
export type OperationOutput<K extends OperationId> = Operations[K]['response'];

/** The input argument: optional when the operation needs nothing (no path params, no required query or body). */
export type CallArgs<K extends OperationId> = Record<never, never> extends OperationInput<K> ? [input?: OperationInput<K>] : [input: OperationInput<K>];

type QueryValue = string | number | boolean | null | undefined;

interface LooseInput {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
}

export interface OperationRequest {
  readonly method: string;
  /** The path with its parameters filled in, each URI-encoded. */
  readonly path: string;
  readonly query: Record<string, string | number | undefined>;
  readonly body?: unknown;
}

/** The request an operation call makes; a path parameter the template names but the input lacks is a programming error. */
export function operationRequest<K extends OperationId>(id: K, input: OperationInput<K> | undefined): OperationRequest {
  const [method, template] = OPERATIONS[id] as readonly [string, string];
  const given = (input ?? {}) as LooseInput;
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = given.params?.[name];
    if (value === undefined || value === '') throw new TypeError(`${id}: path parameter "${name}" is missing`);
    return encodeURIComponent(String(value));
  });
  const query: Record<string, string | number | undefined> = {};
  for (const [key, value] of Object.entries(given.query ?? {})) {
    if (value !== undefined && value !== null) query[key] = typeof value === 'boolean' ? String(value) : value;
  }
  return { method, path, query, ...(given.body !== undefined ? { body: given.body } : {}) };
}
