/** `continuum customer …` and `continuum group …` (issue 15): customers, assignments, device groups. */
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import { resolveDevice } from './resolve.js';

export const CUSTOMER_HELP = `Usage: continuum customer create NAME [--parent ID] [--json]
       continuum customer list [--json]
       continuum customer get ID [--json]
       continuum customer delete ID
       continuum customer assign ID DEVICE...

Customers of the tenant (admin): a tree up to 5 deep. DEVICE is an id or a name. A customer's
users (role customer-user) see only what is assigned to it or its sub-customers (docs/SECURITY.md).

${CONNECTION_HELP}`;

export const GROUP_HELP = `Usage: continuum group create NAME [--filter JSON] [--json]
       continuum group list [--json]
       continuum group add ID DEVICE...
       continuum group members ID [--json]
       continuum group command ID METHOD [--params JSON] [--persistent] [--json]

Device groups: static members and/or a filter such as
  --filter '{"all":[{"scope":"server","key":"site","equals":"north"}]}'
"command" sends one command to every member and prints each device's command id.

${CONNECTION_HELP}`;

interface Customer {
  id: string;
  name: string;
  parentId?: string;
  createdAt: number;
}

function json(value: string | undefined, what: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new CliError(`--${what} is not valid JSON`);
  }
}

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

export async function runCustomer(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const asked = helpAsked(command, CUSTOMER_HELP, io);
  if (asked !== undefined) return asked;
  const parsed = parseCommand(rest, { parent: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(CUSTOMER_HELP + '\n'), 0;
  const [first, ...others] = parsed.positionals;
  const client = await connect(parsed, io.env);
  switch (command) {
    case 'create': {
      const parent = str(v.parent);
      const c = await client.request<Customer>('POST', '/api/customers', { json: { name: need(first, 'NAME'), ...(parent ? { parentId: parent } : {}) } });
      if (v.json) return writeJson(io, c), 0;
      return io.stdout.write(`created customer ${c.name} (${c.id})\n`), 0;
    }
    case 'list': {
      const page = await client.request<{ items: Customer[] }>('GET', '/api/customers');
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) return io.stdout.write('no customers\n'), 0;
      return io.stdout.write(table([['ID', 'NAME', 'PARENT', 'CREATED'], ...page.items.map((c) => [c.id, c.name, c.parentId ?? '-', isoTime(c.createdAt)])])), 0;
    }
    case 'get': {
      const id = need(first, 'ID');
      const c = await client.request<Customer>('GET', `/api/customers/${encodeURIComponent(id)}`);
      const devices = await client.request<{ items: { id: string; name: string }[] }>('GET', `/api/customers/${encodeURIComponent(id)}/devices`);
      if (v.json) return writeJson(io, { ...c, devices: devices.items }), 0;
      io.stdout.write(`id:      ${c.id}\nname:    ${c.name}\nparent:  ${c.parentId ?? '-'}\ndevices: ${devices.items.map((d) => d.name).join(', ') || 'none'}\n`);
      return 0;
    }
    case 'delete':
      await client.request('DELETE', `/api/customers/${encodeURIComponent(need(first, 'ID'))}`);
      return io.stdout.write('deleted\n'), 0;
    case 'assign': {
      if (others.length === 0) throw new CliError('at least one DEVICE is required');
      const ids = [];
      for (const ref of others) ids.push((await resolveDevice(client, ref)).id);
      await client.request('POST', `/api/customers/${encodeURIComponent(need(first, 'ID'))}/devices`, { json: { deviceIds: ids } });
      return io.stdout.write(`assigned ${ids.length} device(s)\n`), 0;
    }
    default:
      throw new CliError(`unknown customer command "${command}" (see continuum customer --help)`);
  }
}

export async function runGroup(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const asked = helpAsked(command, GROUP_HELP, io);
  if (asked !== undefined) return asked;
  const parsed = parseCommand(rest, { filter: { type: 'string' }, params: { type: 'string' }, persistent: { type: 'boolean' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(GROUP_HELP + '\n'), 0;
  const [first, ...others] = parsed.positionals;
  const client = await connect(parsed, io.env);
  switch (command) {
    case 'create': {
      const filter = json(str(v.filter), 'filter');
      const g = await client.request<{ id: string; name: string }>('POST', '/api/groups', { json: { name: need(first, 'NAME'), ...(filter !== undefined ? { filter } : {}) } });
      if (v.json) return writeJson(io, g), 0;
      return io.stdout.write(`created group ${g.name} (${g.id})\n`), 0;
    }
    case 'list': {
      const page = await client.request<{ items: { id: string; name: string; filter?: unknown }[] }>('GET', '/api/groups');
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) return io.stdout.write('no groups\n'), 0;
      return io.stdout.write(table([['ID', 'NAME', 'FILTER'], ...page.items.map((g) => [g.id, g.name, g.filter ? JSON.stringify(g.filter) : '-'])])), 0;
    }
    case 'add': {
      if (others.length === 0) throw new CliError('at least one DEVICE is required');
      const ids = [];
      for (const ref of others) ids.push((await resolveDevice(client, ref)).id);
      await client.request('POST', `/api/groups/${encodeURIComponent(need(first, 'ID'))}/devices`, { json: { deviceIds: ids } });
      return io.stdout.write(`added ${ids.length} device(s)\n`), 0;
    }
    case 'members': {
      const page = await client.request<{ items: { id: string; name: string }[] }>('GET', `/api/groups/${encodeURIComponent(need(first, 'ID'))}/devices`);
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) return io.stdout.write('no members\n'), 0;
      return io.stdout.write(table([['ID', 'NAME'], ...page.items.map((d) => [d.id, d.name])])), 0;
    }
    case 'command': {
      const params = json(str(v.params), 'params');
      const res = await client.request<{ items: { deviceId: string; commandId?: string; status?: string; error?: string }[] }>(
        'POST',
        `/api/groups/${encodeURIComponent(need(first, 'ID'))}/commands`,
        { json: { method: need(others[0], 'METHOD'), ...(params !== undefined ? { params } : {}), ...(v.persistent ? { persistent: true } : {}) } },
      );
      if (v.json) return writeJson(io, res), 0;
      io.stdout.write(table([['DEVICE', 'COMMAND', 'STATUS'], ...res.items.map((i) => [i.deviceId, i.commandId ?? '-', i.status ?? `error: ${i.error ?? '?'}`])]));
      return res.items.some((i) => i.error) ? 1 : 0;
    }
    default:
      throw new CliError(`unknown group command "${command}" (see continuum group --help)`);
  }
}
