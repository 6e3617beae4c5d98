/**
 * HTTP requests from the platform's own OpenAPI document (GET /api/openapi.json): every route
 * and method, path parameters from known ids or hostile text, query parameters and JSON bodies
 * generated from the route's schemas (near-valid values reach the handlers, not just the
 * validator), expressions in `condition` fields, then junk: wrong methods, wrong content types,
 * bodies that are not JSON, unknown routes. Values that would send traffic off the machine
 * (URLs, hosts) or hold a request for long (timeouts) are pinned to safe ones.
 */
import fc from 'fast-check';
import { anyExpression, anyTemplate } from './expressions.js';
import { devicePayload } from './payloads.js';

export interface Schema {
  readonly type?: string | string[];
  readonly properties?: Record<string, Schema>;
  readonly required?: string[];
  readonly items?: Schema;
  readonly anyOf?: Schema[];
  readonly oneOf?: Schema[];
  readonly enum?: unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
}

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, Schema>;
  readonly body?: Schema;
}

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
}

export function routesOf(spec: OpenApi): Route[] {
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const query: Record<string, Schema> = {};
      for (const p of op.parameters ?? []) if (p.in === 'query') query[p.name] = p.schema;
      const body = op.requestBody?.content?.['application/json']?.schema;
      routes.push({ method: method.toUpperCase(), path, query, ...(body ? { body } : {}) });
    }
  }
  return routes;
}

const SAFE_URL = 'http://127.0.0.1:9/fuzz';
const OFF_MACHINE = /url|host|endpoint|address|server|smtp|to$|phone|number/i;

const hostileText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', '..', '../..', '%00', '%zz', '%2e%2e%2f', '\u0000', '<img src=x onerror=alert(1)>', "' OR 1=1 --", '${x}', '{{x}}', 'null', 'undefined', '__proto__', 'x'.repeat(5000)),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);

const numberish = fc.oneof(fc.integer(), fc.integer({ min: 0, max: 10 }), fc.double(), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 1e21, Number.MAX_SAFE_INTEGER, 0.5));

/** A value for `schema`: usually of the right shape, sometimes of any shape. */
export function fromSchema(schema: Schema | undefined, name: string, depth: number): fc.Arbitrary<unknown> {
  const junk = depth > 2 ? fc.jsonValue({ maxDepth: 1 }) : fc.jsonValue({ maxDepth: 3 });
  return fc.oneof({ weight: 6, arbitrary: shaped(schema, name, depth) }, { weight: 1, arbitrary: junk });
}

function shaped(schema: Schema | undefined, name: string, depth: number): fc.Arbitrary<unknown> {
  if (/timeout/i.test(name)) return fc.integer({ min: 0, max: 1500 });
  if (OFF_MACHINE.test(name)) return fc.constant(SAFE_URL);
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((v) => shaped(v, name, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      const entries = Object.entries(props).map(([k, s]) => [k, fromSchema(s, k, depth + 1)] as const);
      if (entries.length === 0) return fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      return fc.record(Object.fromEntries(entries), { requiredKeys: (schema.required ?? []).filter((k) => Object.hasOwn(props, k)) });
    }
    case 'array':
      return fc.array(fromSchema(schema.items, name, depth + 1), { maxLength: 3 });
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1e9, 1e12) }), numberish);
    case 'number':
      return numberish;
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (/condition|expression/i.test(name)) return anyExpression;
      if (/^(message|text|subject|body|template|title|value)$/i.test(name)) return fc.oneof(anyTemplate, hostileText);
      return hostileText;
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Whatever a generated body holds, nothing in it may name another machine. */
export function pinned(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('://') ? SAFE_URL : value;
  if (Array.isArray(value)) return value.map(pinned);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, OFF_MACHINE.test(k) && typeof v === 'string' ? SAFE_URL : pinned(v)]));
  return value;
}

export type Auth = 'admin' | 'operator' | 'none' | 'garbage';

export interface HttpCase {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly auth: Auth;
  readonly body: Buffer | undefined;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'FUZZ'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/senml+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=latin1', 'application/json;;;', ''];

function pathFor(route: string, ids: readonly string[], tokens: readonly string[]): fc.Arbitrary<string> {
  const params = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const valueFor = (name: string): fc.Arbitrary<string> => {
    if (name === 'token') return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: hostileText.map(encodeURIComponent) });
    if (name === 'scope') return fc.constantFrom('shared', 'server', 'client', 'SHARED_SCOPE', 'x');
    const known = ids.length > 0 ? fc.constantFrom(...ids) : fc.uuid();
    return fc.oneof({ weight: 3, arbitrary: known }, { weight: 1, arbitrary: fc.uuid() }, { weight: 2, arbitrary: hostileText.map(encodeURIComponent) }, { weight: 1, arbitrary: fc.constantFrom('..', '%2F', '%00', '%', '%zz', 'a%2fb') });
  };
  return fc.tuple(...params.map(valueFor)).map((values) => params.reduce((p, name, i) => p.replace(`{${name}}`, values[i] as string), route));
}

function queryFor(query: Record<string, Schema>): fc.Arbitrary<string> {
  const entries = Object.entries(query).map(([k, s]) => [k, fromSchema(s, k, 1)] as const);
  const known = entries.length > 0 ? fc.record(Object.fromEntries(entries), { requiredKeys: [] }) : fc.constant({});
  return fc
    .tuple(known, fc.dictionary(fc.constantFrom('limit', 'page', 'pageSize', 'timeout', 'keys', 'x', 'from', 'to', 'interval', 'agg', 'order', '__proto__'), fc.oneof(hostileText, numberish.map(String)), { maxKeys: 2 }))
    .map(([a, b]) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...b, ...a })) q.append(k, typeof v === 'string' ? v : JSON.stringify(v));
      // Long polls and RPC waits must end inside one case.
      if (q.has('timeout')) q.set('timeout', String(Math.min(Number(q.get('timeout')) || 1, 1500)));
      const s = q.toString();
      return s ? `?${s}` : '';
    });
}

export function httpCase(routes: readonly Route[], ids: readonly string[], tokens: readonly string[], hostile: boolean): fc.Arbitrary<HttpCase> {
  const routeCase = fc.constantFrom(...routes).chain((r) =>
    fc.record({
      method: fc.oneof({ weight: 8, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      path: fc.tuple(pathFor(r.path, ids, tokens), queryFor(r.query), fc.constantFrom('', '', '', '/', '//', '/x', '%00', '#x', ';x')).map(([p, q, tail]) => p + tail + q),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
      body: fc.oneof(
        { weight: 6, arbitrary: fromSchema(r.body, 'body', 0).map((v) => Buffer.from(JSON.stringify(pinned(v)) ?? 'null')) },
        { weight: 2, arbitrary: devicePayload({ hostile }) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      auth: fc.constantFrom<Auth>('admin', 'admin', 'operator', 'operator', 'none', 'garbage'),
      extra: fc.dictionary(fc.constantFrom('accept', 'content-encoding', 'x-forwarded-for', 'origin', 'accept-encoding', 'if-none-match', 'x-request-id'), fc.constantFrom('gzip', 'deflate', 'br', '*/*', 'text/html', '127.0.0.1', 'null', 'x'.repeat(200)), { maxKeys: 2 }),
    }),
  );
  const unknownRoute = fc.record({
    method: fc.constantFrom(...METHODS),
    path: fc.oneof(hostileText.map((t) => `/api/${encodeURIComponent(t)}`), fc.constantFrom('/', '/index.html', '/api', '/api/', '/..%2f..%2fetc/passwd', '/api/ws', '/mqtt', '/metrics', '/api/docs', '/api/docs/json', '/assets/../../package.json', '//api/devices', '/api/devices/../users')),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body: fc.option(devicePayload({ hostile }), { nil: undefined }),
    auth: fc.constantFrom<Auth>('admin', 'operator', 'none', 'garbage'),
    extra: fc.constant({} as Record<string, string>),
  });
  return fc.oneof({ weight: 9, arbitrary: routeCase }, { weight: 1, arbitrary: unknownRoute }).map((c) => {
    const sendsBody = c.body !== undefined && c.method !== 'GET' && c.method !== 'HEAD';
    // A long poll without a timeout waits its default (tens of seconds): give it a short one,
    // before any fragment (which the server never sees).
    const [beforeFragment = '', fragment] = c.path.split('#', 2);
    const longPoll = /\/(rpc|attributes\/updates)\/?(\?|$)/.test(beforeFragment) && !/[?&]timeout=/.test(beforeFragment);
    const path = longPoll ? `${beforeFragment}${beforeFragment.includes('?') ? '&' : '?'}timeout=${(c.path.length % 50) + 1}${fragment !== undefined ? `#${fragment}` : ''}` : c.path;
    const headers: Record<string, string> = { ...c.extra };
    if (sendsBody && c.contentType !== '') headers['content-type'] = c.contentType;
    return { method: c.method, path, headers, auth: c.auth, body: sendsBody ? c.body : undefined };
  });
}
