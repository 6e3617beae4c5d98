/**
 * `continuum tenant …` (sysadmin), `continuum quota …` and `continuum role …` (tenant admin):
 * the CLI side of the Tenants and Roles pages. TENANT is an id or a name.
 */
import type { ApiClient } from '../../protocols/management-api/client.js';
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';

export const TENANT_HELP = `Usage: continuum tenant create NAME [--json]
       continuum tenant list [--json]
       continuum tenant get TENANT [--json]
       continuum tenant suspend TENANT | resume TENANT
       continuum tenant delete TENANT      (everything the tenant owns goes with it)
       continuum tenant user-add TENANT EMAIL --new-password P [--role ROLE]

Tenants (system admin). TENANT is an id or a name. user-add creates a tenant-admin unless --role
says otherwise; the password may also come from env CONTINUUM_NEW_PASSWORD.

${CONNECTION_HELP}`;

export const QUOTA_HELP = `Usage: continuum quota get [TENANT] [--json]
       continuum quota set TENANT [--max-devices N] [--max-messages-per-second N]
                                  [--max-points-per-day N] [--max-rules N] [--json]

Quotas: without TENANT, the caller's own tenant. "set" is for the system admin; N "unlimited"
(or "none") removes a limit; limits not given keep their value.

${CONNECTION_HELP}`;

export const ROLE_HELP = `Usage: continuum role list [--json]
       continuum role create NAME --permissions devices:read,alarms:operate,... [--json]
       continuum role delete ID

Custom roles of the tenant (admin): a user gets one with "continuum user update EMAIL --role custom:ID".
Permissions are RESOURCE:read|operate|write (docs/SECURITY.md lists the resources).

${CONNECTION_HELP}`;

interface Tenant {
  id: string;
  name: string;
  status: string;
  createdAt: number;
}

interface QuotaView {
  tenantId: string;
  limits: Record<string, number | null>;
  custom: boolean;
  usage: Record<string, number | string>;
}

interface CustomRole {
  id: string;
  name: string;
  permissions: string[];
  role: string;
  createdAt: number;
}

const LIMIT_FLAGS = [
  ['max-devices', 'maxDevices', 'devices'],
  ['max-messages-per-second', 'maxMessagesPerSecond', 'messagesPerSecond'],
  ['max-points-per-day', 'maxPointsPerDay', 'pointsToday'],
  ['max-rules', 'maxRules', 'rules'],
] as const;

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`${what} is required`);
  return value;
}

function helpAsked(command: string | undefined, help: string, io: Io): number | undefined {
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout).write(help + '\n');
    return command === undefined ? 1 : 0;
  }
  return undefined;
}

/** An id as given, or the id of the one tenant with that name. */
async function resolveTenant(client: ApiClient, ref: string): Promise<Tenant> {
  const all = await client.request<Tenant[]>('GET', '/api/tenants');
  const hit = all.find((t) => t.id === ref) ?? all.find((t) => t.name === ref);
  if (!hit) throw new CliError(`no tenant "${ref}"`);
  return hit;
}

const tenantPath = (t: Tenant): string => `/api/tenants/${encodeURIComponent(t.id)}`;

export async function runTenant(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const asked = helpAsked(command, TENANT_HELP, io);
  if (asked !== undefined) return asked;
  const parsed = parseCommand(rest, { 'new-password': { type: 'string' }, role: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(TENANT_HELP + '\n'), 0;
  const [first, second] = parsed.positionals;
  const client = await connect(parsed, io.env);
  const show = (t: Tenant, verb: string): number => (v.json ? writeJson(io, t) : io.stdout.write(`${verb} tenant ${t.name} (${t.id}), ${t.status}\n`), 0);
  switch (command) {
    case 'create':
      return show(await client.request<Tenant>('POST', '/api/tenants', { json: { name: need(first, 'NAME') } }), 'created');
    case 'list': {
      const all = await client.request<Tenant[]>('GET', '/api/tenants');
      if (v.json) return writeJson(io, all), 0;
      return io.stdout.write(table([['ID', 'NAME', 'STATUS', 'CREATED'], ...all.map((t) => [t.id, t.name, t.status, isoTime(t.createdAt)])])), 0;
    }
    case 'get':
      return show(await resolveTenant(client, need(first, 'TENANT')), 'found');
    case 'suspend':
    case 'resume': {
      const t = await resolveTenant(client, need(first, 'TENANT'));
      return show(await client.request<Tenant>('PATCH', tenantPath(t), { json: { status: command === 'suspend' ? 'suspended' : 'active' } }), command === 'suspend' ? 'suspended' : 'resumed');
    }
    case 'delete': {
      const t = await resolveTenant(client, need(first, 'TENANT'));
      await client.request('DELETE', tenantPath(t));
      return io.stdout.write(`deleted tenant ${t.name}\n`), 0;
    }
    case 'user-add': {
      const t = await resolveTenant(client, need(first, 'TENANT'));
      const password = str(v['new-password']) ?? io.env.CONTINUUM_NEW_PASSWORD;
      if (!password) throw new CliError('tenant user-add needs --new-password (or CONTINUUM_NEW_PASSWORD)');
      const role = str(v.role);
      const user = await client.request<{ id: string; email: string; role: string }>('POST', `${tenantPath(t)}/users`, { json: { email: need(second, 'EMAIL'), password, ...(role ? { role } : {}) } });
      if (v.json) return writeJson(io, user), 0;
      return io.stdout.write(`created ${user.email} (${user.role}) in tenant ${t.name}\n`), 0;
    }
    default:
      throw new CliError(`unknown tenant command "${command}" (see continuum tenant --help)`);
  }
}

function limitValue(value: string | boolean | undefined, name: string): number | null | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (text === 'unlimited' || text === 'none') return null;
  const n = intFlag(text, name);
  if (n === undefined || n < 0) throw new CliError(`--${name} must be a whole number ≥ 0 or "unlimited"`);
  return n;
}

export async function runQuota(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const asked = helpAsked(command, QUOTA_HELP, io);
  if (asked !== undefined) return asked;
  const parsed = parseCommand(rest, Object.fromEntries(LIMIT_FLAGS.map(([flag]) => [flag, { type: 'string' as const }])));
  const v = parsed.values;
  if (v.help) return io.stdout.write(QUOTA_HELP + '\n'), 0;
  const [first] = parsed.positionals;
  const client = await connect(parsed, io.env);
  let q: QuotaView;
  if (command === 'get') {
    q = await client.request<QuotaView>('GET', first ? `${tenantPath(await resolveTenant(client, first))}/quotas` : '/api/quotas');
  } else if (command === 'set') {
    const body: Record<string, number | null> = {};
    for (const [flag, key] of LIMIT_FLAGS) {
      const value = limitValue(v[flag], flag);
      if (value !== undefined) body[key] = value;
    }
    if (Object.keys(body).length === 0) throw new CliError('give at least one limit (--max-devices, --max-messages-per-second, --max-points-per-day, --max-rules)');
    q = await client.request<QuotaView>('PUT', `${tenantPath(await resolveTenant(client, need(first, 'TENANT')))}/quotas`, { json: body });
  } else {
    throw new CliError(`unknown quota command "${command}" (see continuum quota --help)`);
  }
  if (v.json) return writeJson(io, q), 0;
  const rows = LIMIT_FLAGS.map(([flag, key, usage]) => [flag, q.limits[key] === null || q.limits[key] === undefined ? 'unlimited' : String(q.limits[key]), String(q.usage[usage] ?? '')]);
  io.stdout.write(`tenant ${q.tenantId}${q.custom ? '' : ' (configured defaults)'}\n`);
  return io.stdout.write(table([['LIMIT', 'VALUE', 'IN USE'], ...rows])), 0;
}

export async function runRole(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const asked = helpAsked(command, ROLE_HELP, io);
  if (asked !== undefined) return asked;
  const parsed = parseCommand(rest, { permissions: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(ROLE_HELP + '\n'), 0;
  const [first] = parsed.positionals;
  const client = await connect(parsed, io.env);
  switch (command) {
    case 'list': {
      const roles = await client.request<CustomRole[]>('GET', '/api/roles');
      if (v.json) return writeJson(io, roles), 0;
      if (roles.length === 0) return io.stdout.write('no custom roles\n'), 0;
      return io.stdout.write(table([['ROLE', 'NAME', 'PERMISSIONS'], ...roles.map((r) => [r.role, r.name, r.permissions.join(',') || '-'])])), 0;
    }
    case 'create': {
      const permissions = (str(v.permissions) ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      const r = await client.request<CustomRole>('POST', '/api/roles', { json: { name: need(first, 'NAME'), permissions } });
      if (v.json) return writeJson(io, r), 0;
      return io.stdout.write(`created role ${r.name}: give it as --role ${r.role}\n`), 0;
    }
    case 'delete':
      await client.request('DELETE', `/api/roles/${encodeURIComponent(need(first, 'ID').replace(/^custom:/, ''))}`);
      return io.stdout.write('deleted\n'), 0;
    default:
      throw new CliError(`unknown role command "${command}" (see continuum role --help)`);
  }
}
