/**
 * The REST part of the isolation matrix (issue 15): every operation of the running platform's
 * /api/openapi.json × every principal × {own, other customer, other tenant}. The route list comes
 * from the OpenAPI document, so a new route joins the matrix without anyone editing this file.
 *
 * Each cell substitutes the target's ids into path parameters (by parameter name and path
 * prefix), id-like query parameters and id-like body fields of a minimal body built from the
 * schema, then classifies the answer (classify()). A cell LEAKS when a foreign id answers 2xx,
 * a write on a foreign entity takes effect (the owner re-reads it), or a 2xx answer carries any
 * id the principal must not know (lists included).
 */
import { ruleOf } from '../../src/api/route-permissions.js';
import { allows, builtinPermissions, type BuiltinRole, type Permission } from '../../src/domain/permissions.js';
import { call, type EntitySet, type Fixtures, type Kind, type Principal } from './isolation-fixtures.js';

type Json = Record<string, unknown>;

export interface Operation {
  readonly method: string;
  /** OpenAPI path, `{param}` style. */
  readonly path: string;
  readonly params: { name: string; in: 'path' | 'query'; required: boolean }[];
  readonly body?: Json;
}

export type TargetName = 'own' | 'other-customer' | 'other-tenant';

export interface CellResult {
  readonly principal: string;
  readonly route: string;
  readonly target: TargetName;
  readonly status: number;
  /** How long the request took (the test names the slowest routes). */
  readonly ms?: number;
  readonly leak?: string;
  /** 5xx answers: not leaks, but reported. */
  readonly error?: string;
}

/** The operations of the OpenAPI document. */
export async function operationsOf(baseUrl: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Json>> };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = ((op.parameters ?? []) as { name: string; in: string; required?: boolean }[])
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => ({ name: p.name, in: p.in as 'path' | 'query', required: p.required === true }));
      const body = (op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content?.['application/json']?.schema;
      ops.push({ method: method.toUpperCase(), path, params, ...(body ? { body } : {}) });
    }
  }
  return ops;
}

/** Path prefix → the kind `{id}` names there (longest prefix first). */
const ID_BY_PREFIX: readonly [string, Kind][] = [
  ['/api/auth/api-keys/', 'apiKey'],
  ['/api/users/', 'user'],
  ['/api/roles/', 'role'],
  ['/api/tenants/', 'tenant'],
  ['/api/devices/', 'device'],
  ['/api/profiles/', 'profile'],
  ['/api/dashboards/', 'dashboard'],
  ['/api/rules/', 'rule'],
  ['/api/alarms/', 'alarm'],
  ['/api/commands/', 'command'],
  ['/api/integrations/', 'integration'],
  ['/api/grants/', 'grant'],
  ['/api/customers/', 'customer'],
  ['/api/groups/', 'group'],
  ['/api/ota/packages/', 'otaPackage'],
  ['/api/ota/deployments/', 'deployment'],
  ['/api/v1/{token}/rpc/', 'command'],
];

/** The kind a path parameter names, from its name and the path around it. */
export function kindOfPathParam(path: string, name: string): Kind | undefined {
  if (name === 'id') return ID_BY_PREFIX.find(([prefix]) => path.startsWith(prefix))?.[1];
  if (name === 'deviceId') return 'device';
  if (name === 'itemId') return path.includes('/dashboards/') ? 'dashboard' : 'device';
  return undefined;
}

/** Body and query fields that carry ids, by name. */
const ID_FIELDS: Readonly<Record<string, Kind>> = {
  deviceId: 'device', deviceIds: 'device', devices: 'device', gatewayId: 'gateway', profileId: 'profile', profiles: 'profile',
  groupId: 'group', customerId: 'customer', dashboardIds: 'dashboard', packageId: 'otaPackage', ruleId: 'rule', targetId: 'device',
};

/** Kinds a customer holds: for a customer user, these ids outside its customer are foreign. */
const CUSTOMER_KINDS: ReadonlySet<Kind> = new Set(['device', 'gateway', 'child', 'alarm', 'command', 'dashboard', 'customer']);

export interface Matrix {
  readonly baseUrl: string;
  readonly fixtures: Fixtures;
  /** Every entity id with the set it belongs to. */
  readonly owners: Map<string, { set: EntitySet; kind: Kind }>;
}

export function matrixOf(baseUrl: string, fixtures: Fixtures): Matrix {
  const owners = new Map<string, { set: EntitySet; kind: Kind }>();
  for (const set of [...Object.values(fixtures.tenants), ...Object.values(fixtures.customers)]) {
    for (const [kind, id] of Object.entries(set)) {
      if (kind === 'label' || kind === 'tenantId' || kind === 'deviceToken' || typeof id !== 'string') continue;
      if (!owners.has(id)) owners.set(id, { set, kind: kind as Kind });
    }
  }
  return { baseUrl, fixtures, owners };
}

/** Whether the principal must not see this id. */
export function isForeign(m: Matrix, principal: Principal, id: string): boolean {
  const owner = m.owners.get(id);
  if (!owner) return false;
  if (owner.kind === 'tenant' && principal.role === 'sysadmin') return false;
  if (owner.set.tenantId !== principal.tenantId) return true;
  if (principal.customer && CUSTOMER_KINDS.has(owner.kind)) return owner.set !== principal.customer && owner.set.customer !== principal.customer.customer;
  return false;
}

/** The three targets of a principal: entity sets whose ids are substituted (customer sets fall back on their tenant's). */
export function targetsOf(m: Matrix, principal: Principal): Record<TargetName, EntitySet> {
  const { tenants, customers } = m.fixtures;
  const withTenant = (c: EntitySet): EntitySet => ({ ...tenants.A, ...c });
  if (principal.role === 'sysadmin') return { own: tenants.D, 'other-customer': withTenant(customers.C1), 'other-tenant': tenants.B };
  if (principal.customer === customers.C1) return { own: withTenant(customers.C1), 'other-customer': withTenant(customers.C2), 'other-tenant': tenants.B };
  if (principal.customer === customers.C2) return { own: withTenant(customers.C2), 'other-customer': withTenant(customers.C1), 'other-tenant': tenants.B };
  return { own: tenants.A, 'other-customer': withTenant(customers.C2), 'other-tenant': tenants.B };
}

let serial = 0;

/** A minimal value of a JSON schema; id-like fields take the target's ids. */
export function minimalValue(schema: Json, target: EntitySet, name = ''): unknown {
  const idKind = ID_FIELDS[name];
  if (idKind && target[idKind]) return schema.type === 'array' ? [target[idKind]] : target[idKind];
  if (Array.isArray(schema.anyOf)) return minimalValue(schema.anyOf[0] as Json, target, name);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('const' in schema) return schema.const;
  switch (schema.type) {
    case 'string': {
      if (name === 'email') return `iso-${++serial}@iso.test`;
      if (name === 'role') return 'viewer';
      if (typeof schema.pattern === 'string' && schema.pattern.includes('read|write|operate')) return 'devices:read';
      const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
      return `iso${++serial}`.padEnd(min, 'x');
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(schema.minimum, typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : schema.minimum) : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 1;
    case 'boolean':
      return false;
    case 'array': {
      const n = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length: n }, () => minimalValue((schema.items ?? {}) as Json, target, name));
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      const required = new Set((schema.required ?? []) as string[]);
      const out: Json = {};
      // Required fields, and every optional id field: a foreign id in a body must be refused too.
      for (const [key, prop] of Object.entries(props)) if (required.has(key) || (ID_FIELDS[key] && target[ID_FIELDS[key]])) out[key] = minimalValue(prop, target, key);
      return out;
    }
    default:
      return {};
  }
}

const QUERY_DEFAULTS: Readonly<Record<string, string>> = { limit: '10', offset: '0', format: 'csv', key: 't', keys: 't', title: 'iso', version: '1.0' };

interface Request {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
  /** Ids this request names, and where. */
  readonly pathIds: string[];
  readonly otherIds: string[];
}

/** The request of one cell (undefined: not applicable to this principal). */
export function requestOf(op: Operation, principal: Principal, target: EntitySet): Request | undefined {
  const deviceApi = op.path.startsWith('/api/v1/');
  // The device API authenticates by the token in its path: only devices and gateways hold one.
  if (deviceApi && principal.kind !== 'device') return undefined;
  const pathIds: string[] = [];
  const otherIds: string[] = [];
  let url = op.path;
  for (const p of op.params.filter((x) => x.in === 'path')) {
    let value: string | undefined;
    if (p.name === 'token') value = principal.deviceToken;
    else if (p.name === 'scope') value = 'shared';
    else {
      const kind = kindOfPathParam(op.path, p.name);
      value = kind ? target[kind] : undefined;
      if (value) pathIds.push(value);
    }
    url = url.replace(`{${p.name}}`, encodeURIComponent(value ?? '00000000-0000-4000-8000-000000000000'));
  }
  const query = new URLSearchParams();
  for (const p of op.params.filter((x) => x.in === 'query')) {
    const kind = ID_FIELDS[p.name];
    if (kind && target[kind]) {
      query.set(p.name, target[kind]);
      otherIds.push(target[kind]);
    } else if (p.required) query.set(p.name, QUERY_DEFAULTS[p.name] ?? 'x');
  }
  // The device API's long polls wait 60 s by default; their `timeout` is not in the document.
  if (deviceApi && op.method === 'GET') query.set('timeout', '200');
  const q = query.toString();
  let body: unknown;
  if (op.body) {
    body = minimalValue(op.body, target);
    for (const [key, kind] of Object.entries(ID_FIELDS)) if (body && typeof body === 'object' && key in body && target[kind]) otherIds.push(target[kind]);
  } else if (op.method !== 'GET' && op.method !== 'DELETE' && op.method !== 'HEAD') body = {};
  return { method: op.method, url: q ? `${url}?${q}` : url, body, pathIds, otherIds };
}

/** The permission the route needs (undefined: public or self). */
export function permissionOf(op: Operation): Permission | undefined {
  const rule = ruleOf(op.method, op.path.replace(/\{(\w+)\}/g, ':$1'));
  if (rule === undefined || rule === 'self' || rule === 'public') return undefined;
  return typeof rule === 'function' ? rule({ scope: 'shared' }) : rule;
}

/** Ids the principal must not know, for scanning answers. */
export function foreignIds(m: Matrix, principal: Principal): string[] {
  return [...m.owners.keys()].filter((id) => isForeign(m, principal, id));
}

/** What the owner reads of an entity: compared before and after a suspicious foreign write. */
export async function ownerView(m: Matrix, id: string): Promise<string> {
  const owner = m.owners.get(id);
  if (!owner) return '';
  const { fixtures } = m;
  const tenantKey = (['D', 'A', 'B'] as const).find((k) => fixtures.tenants[k].tenantId === owner.set.tenantId) ?? 'A';
  const bearer = owner.kind === 'tenant' ? fixtures.sysadmin : fixtures.owners[tenantKey];
  const paths: Record<Kind, string[]> = {
    device: [`/api/devices/${id}`, `/api/devices/${id}/credentials`, `/api/devices/${id}/attributes`, `/api/devices/${id}/edge-config`, `/api/devices/${id}/firmware`],
    gateway: [`/api/devices/${id}`, `/api/devices/${id}/credentials`],
    child: [`/api/devices/${id}`],
    profile: [`/api/profiles/${id}`],
    rule: [`/api/rules/${id}`],
    dashboard: [`/api/dashboards/${id}`],
    alarm: [`/api/alarms/${id}`],
    command: [`/api/commands/${id}`],
    group: [`/api/groups/${id}`, `/api/groups/${id}/devices`],
    customer: [`/api/customers/${id}`, `/api/customers/${id}/devices`],
    grant: [`/api/grants/${id}`],
    integration: [`/api/integrations/${id}`],
    otaPackage: [`/api/ota/packages/${id}`],
    deployment: [`/api/ota/deployments/${id}`],
    role: [`/api/roles/${id}`],
    user: ['/api/users'],
    apiKey: ['/api/auth/api-keys'],
    tenant: [`/api/tenants/${id}`, `/api/tenants/${id}/quotas`],
  };
  const parts = await Promise.all(paths[owner.kind].map(async (p) => `${p} ${(await call(m.baseUrl, bearer, 'GET', p)).text}`));
  return parts.join('\n');
}

/** Runs one cell and classifies its answer. */
export async function runCell(m: Matrix, principal: Principal, op: Operation, targetName: TargetName, target: EntitySet, foreign: readonly string[]): Promise<CellResult | undefined> {
  const req = requestOf(op, principal, target);
  if (!req) return undefined;
  const route = `${op.method} ${op.path}`;
  const foreignPath = req.pathIds.filter((id) => isForeign(m, principal, id));
  const foreignOther = req.otherIds.filter((id) => isForeign(m, principal, id));
  const write = op.method !== 'GET' && op.method !== 'HEAD';
  // The owner's view of each foreign entity a write names: a refused write must leave it as it was.
  const before = new Map<string, string>();
  if (write) for (const id of foreignPath) before.set(id, await ownerView(m, id));
  const started = Date.now();
  const res = await call(m.baseUrl, principal.kind === 'user' || principal.kind === 'apiKey' || !req.url.startsWith('/api/v1/') ? principal.bearer : undefined, req.method, req.url, req.body);
  const base = { principal: principal.name, route, target: targetName, status: res.status, ms: Date.now() - started };
  const ok = res.status >= 200 && res.status < 300;
  if (res.status >= 500) return { ...base, error: res.text.slice(0, 200) };
  if (ok && foreignPath.length > 0) return { ...base, leak: `answered ${res.status} for the foreign id ${foreignPath.join(',')}` };
  if (ok && foreignOther.length > 0 && op.method !== 'GET') return { ...base, leak: `accepted the foreign id ${foreignOther.join(',')} in its request` };
  if (ok) {
    const seen = foreign.filter((id) => res.text.includes(id));
    if (seen.length > 0) return { ...base, leak: `answer carries foreign ids ${seen.map((id) => `${m.owners.get(id)?.set.label}/${m.owners.get(id)?.kind}`).join(',')}` };
  }
  if (write) {
    for (const [id, view] of before) {
      const after = await ownerView(m, id);
      if (after !== view) return { ...base, leak: `changed the foreign ${m.owners.get(id)?.kind} ${id} (answered ${res.status})` };
    }
  }
  // A role without the route's permission must be refused (own targets included).
  const needed = permissionOf(op);
  if (ok && needed && principal.role && !principal.role.startsWith('custom:') && !allows(builtinPermissions(principal.role as BuiltinRole), needed)) {
    return { ...base, leak: `role ${principal.role} lacks ${needed} yet got ${res.status}` };
  }
  if (ok && principal.kind === 'device' && !op.path.startsWith('/api/v1/') && needed) return { ...base, leak: `a device token was accepted on ${route}` };
  return base;
}

/** Own-target requests the matrix does not send, and why (destructive to the principal itself). */
export function skipOwn(op: Operation, principal: Principal): string | undefined {
  const route = `${op.method} ${op.path}`;
  // Signing out revokes the principal's session: every later cell of this principal would be a 401.
  if (route === 'POST /api/auth/logout') return 'revokes the principal itself';
  // Suspending, deleting or capping the principal's own tenant stops every later cell of its tenant.
  if (route === 'PATCH /api/tenants/{id}' || route === 'DELETE /api/tenants/{id}' || route === 'PUT /api/tenants/{id}/quotas') return "the principal's own tenant";
  void principal;
  return undefined;
}

/** Runs `tasks` with at most `limit` at once. */
export async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/** Every REST cell: foreign targets first (all principals), then own targets with deletes last. */
export async function runRestMatrix(m: Matrix, concurrency = 8): Promise<CellResult[]> {
  const baseUrl = m.baseUrl;
  const ops = await operationsOf(baseUrl);
  const anonymous: Principal = { name: 'anonymous', bearer: '', kind: 'user', tenantId: '' };
  const principals = [...m.fixtures.principals];
  const foreignTasks: (() => Promise<CellResult | undefined>)[] = [];
  const ownTasks: (() => Promise<CellResult | undefined>)[] = [];
  const deleteTasks: (() => Promise<CellResult | undefined>)[] = [];
  for (const principal of principals) {
    const targets = targetsOf(m, principal);
    const foreign = foreignIds(m, principal);
    for (const op of ops) {
      for (const name of ['other-customer', 'other-tenant'] as const) foreignTasks.push(() => runCell(m, principal, op, name, targets[name], foreign));
      if (skipOwn(op, principal)) continue;
      (op.method === 'DELETE' ? deleteTasks : ownTasks).push(() => runCell(m, principal, op, 'own', targets.own, foreign));
    }
  }
  // Without a credential every route that is not public answers 401.
  const anonymousCells = ops.map((op) => async (): Promise<CellResult> => {
    const req = requestOf(op, { ...anonymous, kind: 'device', deviceToken: 'no-such-token' }, m.fixtures.tenants.A);
    const res = await call(baseUrl, undefined, op.method, req?.url ?? op.path, req?.body);
    const rule = ruleOf(op.method, op.path.replace(/\{(\w+)\}/g, ':$1'));
    const guarded = op.path.startsWith('/api/') && rule !== 'public' && rule !== undefined;
    const base = { principal: 'anonymous', route: `${op.method} ${op.path}`, target: 'own' as const, status: res.status };
    return guarded && res.status !== 401 ? { ...base, leak: `answered ${res.status} without a credential` } : base;
  });
  const results = [
    ...(await pool(anonymousCells, concurrency)),
    ...(await pool(foreignTasks, concurrency)),
    ...(await pool(ownTasks, concurrency)),
    ...(await pool(deleteTasks, concurrency)),
  ];
  return results.filter((r): r is CellResult => r !== undefined);
}
