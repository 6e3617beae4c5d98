/** `continuum device create | list | import`. */
import { runImport, IMPORT_HELP } from './import.js';
import { runDeviceFirmware } from './ota.js';
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';

export const DEVICE_HELP = `Usage: continuum device <command> [options]

Commands:
  create NAME [--gateway] [--label L] [--profile ID] [--token T]
                        create a device; prints its access token
  list [--search S] [--limit N] [--offset N]
                        list devices with their connectivity
  import FILE.csv       create devices from CSV (see continuum device import --help)
  firmware DEVICE [--package ID]
                        assign a firmware/software package, or show the device's update status

${CONNECTION_HELP}`;

const CREATE_HELP = `Usage: continuum device create NAME [--gateway] [--label L] [--profile ID] [--token T] [--json]

Creates a device. Without --token an access token is generated and printed.

${CONNECTION_HELP}`;

const LIST_HELP = `Usage: continuum device list [--search S] [--limit N] [--offset N] [--json]

Lists devices (name order) with online state and last activity. --search matches name or label.

${CONNECTION_HELP}`;

interface DeviceJson {
  id: string;
  name: string;
  label: string | null;
  gateway: boolean;
  online?: boolean;
  /** gateway_offline / device_disconnected are shown: a child's state depends on its gateway. */
  offlineReason?: string | null;
  lastActivity?: number | null;
  accessToken?: string | null;
}

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
  const device = await client.request<DeviceJson>('POST', '/api/devices', {
    json: {
      name,
      ...(v.gateway ? { gateway: true } : {}),
      ...(str(v.label) !== undefined ? { label: str(v.label) } : {}),
      ...(str(v.profile) !== undefined ? { profileId: str(v.profile) } : {}),
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
  const page = await client.request<{ items: DeviceJson[]; total: number }>('GET', '/api/devices', {
    query: { search: str(v.search), limit: intFlag(v.limit, 'limit'), offset: intFlag(v.offset, 'offset') },
  });
  if (v.json) return writeJson(io, page), 0;
  const rows = page.items.map((d) => [d.id, d.name, d.label ?? '', d.gateway ? 'gateway' : '', state(d), isoTime(d.lastActivity)]);
  io.stdout.write(table([['ID', 'NAME', 'LABEL', 'TYPE', 'STATUS', 'LAST ACTIVITY'], ...rows]));
  io.stdout.write(`${page.items.length} of ${page.total} devices\n`);
  return 0;
}

export async function runDevice(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'create':
      return create(rest, io);
    case 'list':
      return list(rest, io);
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
      throw new CliError(`unknown device command "${command}" (create, list, import, firmware)`);
  }
}

export { IMPORT_HELP };
