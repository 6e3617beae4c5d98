/** `continuum user list | create | update | delete | reset-password`: users of the tenant (permission users:*). */
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io, type Parsed } from './common.js';
import type { ApiClient } from '../../protocols/management-api/client.js';
import { BUILTIN_ROLES, normalizeRole } from '../../domain/permissions.js';
import { RESET_HELP, runResetPassword } from './user-reset.js';

export const USER_HELP = `Usage: continuum user <command> [options]

Commands:
  list                  the tenant's users with role and state
  create EMAIL --new-password P [--role ROLE]
                        add a user (role operator by default)
  update EMAIL|ID [--role ROLE] [--disable | --enable] [--new-password P]
                        change a user; any change ends the user's earlier sessions
  delete EMAIL|ID       delete a user and its API keys (its tokens stop working at once)
  reset-password EMAIL --data-dir DIR [--password P]
                        recovery with the server stopped: works on the data directory itself

New passwords: at least 12 characters, not one repeated character, not the e-mail address;
--new-password or env CONTINUUM_NEW_PASSWORD (--password is the caller's own sign-in).
The tenant's last enabled admin cannot be deleted, demoted or disabled.

Roles: tenant-admin configures the tenant; operator reads, sends commands, sets shared attributes,
acknowledges and clears alarms, changes no configuration; viewer only reads; customer-user reads
and operates what is assigned to its customer; sysadmin also manages tenants; custom:<roleId> is a
tenant's own role (GET /api/roles). Legacy names: admin = tenant-admin, user = operator.

${CONNECTION_HELP}

${RESET_HELP}`;

interface UserJson {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  createdAt: number;
}

/** Built-in roles, `custom:<roleId>`, and the legacy admin/user (the server maps them). */
function roleFlag(value: string | boolean | undefined): string | undefined {
  const role = str(value);
  if (role === undefined) return undefined;
  if (normalizeRole(role) === undefined) throw new CliError(`--role must be one of ${BUILTIN_ROLES.join(', ')} or custom:<roleId> (legacy: admin, user), got "${role}"`);
  return role;
}

/** The user named by an e-mail address or an id. */
async function findUser(client: ApiClient, ref: string): Promise<UserJson> {
  const users = await client.request<UserJson[]>('GET', '/api/users');
  const wanted = ref.trim().toLowerCase();
  const found = users.find((u) => u.id === ref || u.email === wanted);
  if (!found) throw new CliError(`no user "${ref}"`);
  return found;
}

function print(io: Io, parsed: Parsed<unknown>, user: UserJson, verb: string): void {
  if (parsed.values.json) writeJson(io, user);
  else io.stdout.write(`${verb} ${user.role} ${user.email} (${user.id})${user.disabled ? ' — disabled' : ''}\n`);
}

async function list(parsed: Parsed<unknown>, io: Io): Promise<number> {
  const users = await (await connect(parsed, io.env)).request<UserJson[]>('GET', '/api/users');
  if (parsed.values.json) return writeJson(io, users), 0;
  const rows = users.map((u) => [u.email, u.role, u.disabled ? 'disabled' : 'enabled', isoTime(u.createdAt), u.id]);
  io.stdout.write(table([['EMAIL', 'ROLE', 'STATE', 'CREATED', 'ID'], ...rows]));
  return 0;
}

async function create(parsed: Parsed<Record<string, string | boolean | undefined>>, io: Io): Promise<number> {
  const email = parsed.positionals[0];
  const password = str(parsed.values['new-password']) ?? io.env.CONTINUUM_NEW_PASSWORD;
  if (!email) throw new CliError('user create needs an e-mail address');
  if (!password) throw new CliError('user create needs --new-password (or CONTINUUM_NEW_PASSWORD)');
  const role = roleFlag(parsed.values.role) ?? 'operator';
  const client = await connect(parsed, io.env);
  print(io, parsed, await client.request<UserJson>('POST', '/api/users', { json: { email, password, role } }), 'created');
  return 0;
}

async function update(parsed: Parsed<Record<string, string | boolean | undefined>>, io: Io): Promise<number> {
  const ref = parsed.positionals[0];
  if (!ref) throw new CliError('user update needs an e-mail address or id');
  const v = parsed.values;
  if (v.disable && v.enable) throw new CliError('--disable and --enable exclude each other');
  const role = roleFlag(v.role);
  const password = str(v['new-password']);
  const change = {
    ...(role ? { role } : {}),
    ...(v.disable ? { disabled: true } : v.enable ? { disabled: false } : {}),
    ...(password ? { password } : {}),
  };
  if (Object.keys(change).length === 0) throw new CliError('user update needs --role, --disable, --enable or --new-password');
  const client = await connect(parsed, io.env);
  const user = await findUser(client, ref);
  print(io, parsed, await client.request<UserJson>('PATCH', `/api/users/${encodeURIComponent(user.id)}`, { json: change }), 'updated');
  return 0;
}

async function remove(parsed: Parsed<unknown>, io: Io): Promise<number> {
  const ref = parsed.positionals[0];
  if (!ref) throw new CliError('user delete needs an e-mail address or id');
  const client = await connect(parsed, io.env);
  const user = await findUser(client, ref);
  await client.request('DELETE', `/api/users/${encodeURIComponent(user.id)}`);
  if (parsed.values.json) writeJson(io, { deleted: user.id });
  else io.stdout.write(`deleted ${user.email} (${user.id})\n`);
  return 0;
}

export async function runUser(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'reset-password') return runResetPassword(rest, io);
  const parsed = parseCommand(rest, {
    role: { type: 'string' },
    'new-password': { type: 'string' },
    disable: { type: 'boolean' },
    enable: { type: 'boolean' },
  });
  if (sub === undefined || sub === '--help' || sub === '-h' || parsed.values.help) {
    io.stdout.write(USER_HELP + '\n');
    return sub === undefined ? 1 : 0;
  }
  switch (sub) {
    case 'list':
      return list(parsed, io);
    case 'create':
      return create(parsed, io);
    case 'update':
      return update(parsed, io);
    case 'delete':
      return remove(parsed, io);
    default:
      throw new CliError(`unknown user command "${sub}" (list, create, update, delete, reset-password)`);
  }
}
