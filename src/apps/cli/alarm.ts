/** `continuum alarm list|ack|clear` and `continuum command send|get|list`. */
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import { resolveDevice } from './resolve.js';

export const ALARM_HELP = `Usage: continuum alarm list [--device DEVICE] [--status active,acknowledged,cleared]
                          [--severity critical,major,…] [--type T] [--limit N] [--json]
       continuum alarm ack ID
       continuum alarm clear ID

Lists alarms newest first, acknowledges or clears one. DEVICE is an id or a name.

${CONNECTION_HELP}`;

export const COMMAND_HELP = `Usage: continuum command send DEVICE METHOD [--params JSON] [--persistent] [--oneway]
                                [--timeout MS] [--expires-in MS] [--json]
       continuum command get ID
       continuum command list [--device DEVICE] [--status QUEUED,…] [--limit N] [--json]

send: a two-way command waits for the device's reply (up to --timeout); --persistent queues
it in the outbox until the device is reachable (until --expires-in passes). DEVICE is an id or
a name. The exit code is 0 unless the command ended FAILED, TIMEOUT or EXPIRED.

${CONNECTION_HELP}`;

interface AlarmView {
  id: string;
  type: string;
  severity: string;
  status: string;
  deviceId: string;
  count: number;
  createdAt: number;
}

interface CommandView {
  id: string;
  deviceId: string;
  method: string;
  status: string;
  response?: unknown;
  error?: string;
  createdAt: number;
}

const FAILED = new Set(['FAILED', 'TIMEOUT', 'EXPIRED']);

function one(positionals: string[], what: string): string {
  const [value, ...extra] = positionals;
  if (!value) throw new CliError(`${what} is required`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  return value;
}

function usage(command: string | undefined, help: string, io: Io): number {
  // Without a subcommand this is a usage error: help goes to stderr, stdout stays clean.
  (command === undefined ? io.stderr : io.stdout).write(help + '\n');
  return command === undefined ? 1 : 0;
}

export async function runAlarm(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return usage(command, ALARM_HELP, io);
  const parsed = parseCommand(rest, { device: { type: 'string' }, status: { type: 'string' }, severity: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(ALARM_HELP + '\n'), 0;
  switch (command) {
    case 'list': {
      if (parsed.positionals.length > 0) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`);
      const client = await connect(parsed, io.env);
      const device = str(v.device) !== undefined ? await resolveDevice(client, str(v.device) as string) : undefined;
      const page = await client.request<{ items: AlarmView[]; total: number }>('GET', '/api/alarms', {
        query: { deviceId: device?.id, status: str(v.status), severity: str(v.severity), type: str(v.type), limit: intFlag(v.limit, 'limit') },
      });
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) io.stdout.write('no alarms\n');
      else io.stdout.write(table([['ID', 'TYPE', 'SEVERITY', 'STATUS', 'COUNT', 'DEVICE', 'CREATED'], ...page.items.map((a) => [a.id, a.type, a.severity, a.status, String(a.count), a.deviceId, isoTime(a.createdAt)])]));
      return 0;
    }
    case 'ack':
    case 'clear': {
      const id = one(parsed.positionals, 'alarm ID');
      const client = await connect(parsed, io.env);
      const alarm = await client.request<AlarmView>('POST', `/api/alarms/${encodeURIComponent(id)}/${command}`);
      if (v.json) return writeJson(io, alarm), 0;
      io.stdout.write(`alarm ${alarm.id} (${alarm.type}) is ${alarm.status}\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown alarm command "${command}" (list, ack, clear)`);
  }
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return usage(command, COMMAND_HELP, io);
  const parsed = parseCommand(rest, {
    params: { type: 'string' },
    persistent: { type: 'boolean' },
    oneway: { type: 'boolean' },
    timeout: { type: 'string' },
    'expires-in': { type: 'string' },
    device: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(COMMAND_HELP + '\n'), 0;
  const show = (c: CommandView): number => {
    if (v.json) writeJson(io, c);
    else io.stdout.write(`command ${c.id} ${c.method}: ${c.status}${c.response !== undefined ? ` ${JSON.stringify(c.response)}` : ''}${c.error ? ` (${c.error})` : ''}\n`);
    return FAILED.has(c.status) ? 1 : 0;
  };
  switch (command) {
    case 'send': {
      const [ref, method, ...extra] = parsed.positionals;
      if (!ref || !method) throw new CliError('command send needs DEVICE and METHOD (see continuum command --help)');
      if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
      let params: unknown = {};
      if (str(v.params) !== undefined) {
        try {
          params = JSON.parse(str(v.params) as string);
        } catch {
          throw new CliError('--params must be JSON');
        }
      }
      const client = await connect(parsed, io.env);
      const device = await resolveDevice(client, ref);
      const timeoutMs = intFlag(v.timeout, 'timeout');
      const expiresInMs = intFlag(v['expires-in'], 'expires-in');
      const sent = await client.request<CommandView>('POST', `/api/devices/${device.id}/commands`, {
        json: {
          method,
          params,
          ...(v.persistent ? { persistent: true } : {}),
          ...(v.oneway ? { oneway: true } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(expiresInMs !== undefined ? { expiresInMs } : {}),
        },
      });
      return show(sent);
    }
    case 'get':
      return show(await (await connect(parsed, io.env)).request<CommandView>('GET', `/api/commands/${encodeURIComponent(one(parsed.positionals, 'command ID'))}`));
    case 'list': {
      const client = await connect(parsed, io.env);
      const device = str(v.device) !== undefined ? await resolveDevice(client, str(v.device) as string) : undefined;
      const page = await client.request<{ items: CommandView[] }>('GET', '/api/commands', { query: { deviceId: device?.id, status: str(v.status), limit: intFlag(v.limit, 'limit') } });
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) io.stdout.write('no commands\n');
      else io.stdout.write(table([['ID', 'METHOD', 'STATUS', 'DEVICE', 'CREATED'], ...page.items.map((c) => [c.id, c.method, c.status, c.deviceId, isoTime(c.createdAt)])]));
      return 0;
    }
    default:
      throw new CliError(`unknown command subcommand "${command}" (send, get, list)`);
  }
}
