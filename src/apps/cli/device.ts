/** `continuum device create | get | list | update | rename | delete | import`. */
import { runImport, IMPORT_HELP } from './import.js';
import { runDeviceFirmware } from './ota.js';
import type { Schemas } from '../../protocols/management-api/typed-client.js';
import { resolveDevice, resolveProfile } from './resolve.js';
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';

export const DEVICE_HELP = `Usage: continuum device <command> [options]

Commands:
  create NAME [--gateway] [--label L] [--profile P] [--token T]
                        create a device; prints its access token
  get DEVICE            one device: profile, gateway, connectivity
  list [--search S] [--limit N] [--offset N]
                        list devices with their connectivity
  update DEVICE [--name N] [--label L] [--profile P]
                        rename, relabel or move a device to another profile
  rename DEVICE NEW_NAME
                        the same as update DEVICE --name NEW_NAME
  delete DEVICE         delete a device with its credentials and data
  import FILE.csv       create devices from CSV (see continuum device import --help)
  firmware DEVICE [--package ID]
                        assign a firmware/software package, or show the device's update status

DEVICE is a device's id or exact name; P a profile's id or name.
Exit codes: 0 done, 1 error, 3 no such device or profile.

${CONNECTION_HELP}`;

const CREATE_HELP = `Usage: continuum device create NAME [--gateway] [--label L] [--profile P] [--token T] [--json]

Creates a device. Without --token an access token is generated and printed.
--profile takes a profile's id or name (default: the tenant's default profile).

${CONNECTION_HELP}`;

const LIST_HELP = `Usage: continuum device list [--search S] [--limit N] [--offset N] [--json]

Lists devices (name order) with online state and last activity. --search matches name or label.

${CONNECTION_HELP}`;

const GET_HELP = `Usage: continuum device get DEVICE [--json]

Shows one device (by id or exact name): profile, gateway, connectivity. Exit code 3 when it
does not exist.

${CONNECTION_HELP}`;

const UPDATE_HELP = `Usage: continuum device update DEVICE [--name N] [--label L] [--profile P] [--json]
       continuum device rename DEVICE NEW_NAME [--json]

Renames, relabels (--label "" removes the label) or moves a device to another profile (id or name).

${CONNECTION_HELP}`;

const DELETE_HELP = `Usage: continuum device delete DEVICE [--json]

Deletes a device (by id or exact name) with its credentials, telemetry and attributes.
Exit code 3 when it does not exist.

${CONNECTION_HELP}`;

/** A device as the API answers it (generated from the OpenAPI document). */
type DeviceJson = Schemas['Device'];

function state(d: DeviceJson): string {
  if (d.online) return 'online';
  return d.offlineReason === 'gateway_offline' || d.offlineReason === 'device_disconnected' ? `offline (${d.offlineReason})` : 'offline';
}

async function create(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    gateway: { type: 'boolean' },
    label: { type: 'string' },
    profile: { type: 'string' },
    token: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(CREATE_HELP + '\n'), 0;
  const [name, ...extra] = parsed.positionals;
  if (!name) throw new CliError('device create needs a NAME (see continuum device create --help)');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}" (quote names with spaces)`);
  const client = await connect(parsed, io.env);
  const device = await client.call('createDevice', {
    body: {
      name,
      ...(v.gateway ? { gateway: true } : {}),
      ...(str(v.label) !== undefined ? { label: str(v.label) } : {}),
      ...(str(v.profile) !== undefined ? { profileId: (await resolveProfile(client, str(v.profile) as string)).id } : {}),
      ...(str(v.token) !== undefined ? { accessToken: str(v.token) } : {}),
    },
  });
  if (v.json) writeJson(io, device);
  else {
    io.stdout.write(`created ${device.gateway ? 'gateway' : 'device'} "${device.name}" id ${device.id}\n`);
    if (device.accessToken) io.stdout.write(`access token: ${device.accessToken}\n`);
  }
  return 0;
}

async function list(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { search: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(LIST_HELP + '\n'), 0;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`);
  const client = await connect(parsed, io.env);
  const page = await client.call('listDevices', {
    query: { search: str(v.search), limit: intFlag(v.limit, 'limit'), offset: intFlag(v.offset, 'offset') },
  });
  if (v.json) return writeJson(io, page), 0;
  const rows = page.items.map((d) => [d.id, d.name, d.label ?? '', d.gateway ? 'gateway' : '', state(d), isoTime(d.lastActivity)]);
  io.stdout.write(table([['ID', 'NAME', 'LABEL', 'TYPE', 'STATUS', 'LAST ACTIVITY'], ...rows]));
  io.stdout.write(`${page.items.length} of ${page.total} devices\n`);
  return 0;
}

/** The one device named by the single positional, or a usage error. */
function oneDevice(positionals: readonly string[], command: string): string {
  const [ref, ...extra] = positionals;
  if (!ref) throw new CliError(`device ${command} needs a DEVICE id or name (see continuum device ${command} --help)`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}" (quote names with spaces)`);
  return ref;
}

async function get(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(GET_HELP + '\n'), 0;
  const ref = oneDevice(parsed.positionals, 'get');
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  if (parsed.values.json) return writeJson(io, device), 0;
  const profiles = await client.call('listProfiles');
  const profile = profiles.items.find((p) => p.id === device.profileId);
  io.stdout.write(
    table([
      ['id', device.id],
      ['name', device.name],
      ['label', device.label ?? '-'],
      ['profile', profile ? `${profile.name} (${profile.id})` : (device.profileId ?? '-')],
      ['type', device.gateway ? 'gateway' : 'device'],
      ['gateway', device.gatewayId ?? '-'],
      ['status', device.online ? `online${device.transport ? ` (${device.transport})` : ''}` : 'offline'],
      ['last activity', isoTime(device.lastActivity)],
      ['created', isoTime(device.createdAt)],
    ]),
  );
  return 0;
}

async function update(argv: string[], io: Io, rename: boolean): Promise<number> {
  const parsed = parseCommand(argv, rename ? {} : { name: { type: 'string' }, label: { type: 'string' }, profile: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(UPDATE_HELP + '\n'), 0;
  let ref: string;
  let name = str(v.name);
  if (rename) {
    const [from, to, ...extra] = parsed.positionals;
    if (!from || to === undefined) throw new CliError('device rename needs DEVICE and NEW_NAME (see continuum device rename --help)');
    if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}" (quote names with spaces)`);
    ref = from;
    name = to;
  } else {
    ref = oneDevice(parsed.positionals, 'update');
    if (name === undefined && v.label === undefined && v.profile === undefined) throw new CliError('device update needs --name, --label or --profile');
  }
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  const profileRef = str(v.profile);
  const label = str(v.label);
  const updated = await client.call('updateDevice', {
    params: { id: device.id },
    body: {
      ...(name !== undefined ? { name } : {}),
      ...(label !== undefined ? { label: label === '' ? null : label } : {}),
      ...(profileRef !== undefined ? { profileId: (await resolveProfile(client, profileRef)).id } : {}),
    },
  });
  if (v.json) return writeJson(io, updated), 0;
  io.stdout.write(
    updated.name !== device.name ? `renamed device "${device.name}" to "${updated.name}" (id ${updated.id})\n` : `updated device "${updated.name}" (id ${updated.id})\n`,
  );
  return 0;
}

async function remove(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(DELETE_HELP + '\n'), 0;
  const ref = oneDevice(parsed.positionals, 'delete');
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  await client.call('deleteDevice', { params: { id: device.id } });
  if (parsed.values.json) writeJson(io, { deleted: true, id: device.id, name: device.name });
  else io.stdout.write(`deleted device "${device.name}" (id ${device.id})\n`);
  return 0;
}

export async function runDevice(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'create':
      return create(rest, io);
    case 'list':
      return list(rest, io);
    case 'get':
    case 'show':
      return get(rest, io);
    case 'update':
      return update(rest, io, false);
    case 'rename':
      return update(rest, io, true);
    case 'delete':
    case 'rm':
      return remove(rest, io);
    case 'import':
      return runImport(rest, io);
    case 'firmware':
      return runDeviceFirmware(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      // Without a subcommand this is a usage error: help goes to stderr, stdout stays clean.
      (command === undefined ? io.stderr : io.stdout).write(DEVICE_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown device command "${command}" (create, get, list, update, rename, delete, import, firmware)`);
  }
}

export { IMPORT_HELP };
