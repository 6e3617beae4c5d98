/** `continuum integration list|create|delete|status` (issue 18: bridges and streams). */
import { readFileSync } from 'node:fs';
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';

export const INTEGRATION_HELP = `Usage: continuum integration list [--json]
       continuum integration create --type TYPE --name NAME (--config JSON | --config-file FILE)
                                    [--filter JSON] [--disabled] [--json]
       continuum integration status ID [--json]
       continuum integration delete ID

Bridges and streams out (docs/INTEGRATIONS.md). TYPE is mqtt-bridge, nats, amqp or fhir. Creating and
deleting need the admin role; operators may list and read status. Secrets (passwords, private
keys) are never shown back: "secrets set" lists them.

Example:
  continuum integration create --type mqtt-bridge --name plant \\
    --config '{"url":"mqtt://broker:1883","direction":"out","topic":"plant/{deviceName}/telemetry"}'

${CONNECTION_HELP}`;

interface View {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  config: Record<string, unknown>;
  secretsSet: string[];
  filter: Record<string, unknown>;
  createdAt: number;
  status: { state: string; backlog: number; lagMs: number; sent: number; dropped: number; received: number; rejected: number; lastError?: string; lastErrorAt?: number };
}

function jsonFlag(value: string | undefined, what: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new CliError(`--${what} is not valid JSON`);
  }
}

function one(positionals: string[], what: string): string {
  const [value, ...extra] = positionals;
  if (!value) throw new CliError(`${what} is required`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  return value;
}

function describe(v: View): string {
  const s = v.status;
  return [
    `id:          ${v.id}`,
    `name:        ${v.name} (${v.type}${v.enabled ? '' : ', disabled'})`,
    `state:       ${s.state}`,
    `backlog:     ${s.backlog} (lag ${(s.lagMs / 1000).toFixed(1)} s)`,
    `sent:        ${s.sent}, dropped ${s.dropped}, received ${s.received}, rejected ${s.rejected}`,
    ...(s.lastError ? [`last error:  ${s.lastError}${s.lastErrorAt ? ` at ${isoTime(s.lastErrorAt)}` : ''}`] : []),
    `config:      ${JSON.stringify(v.config)}`,
    `secrets set: ${v.secretsSet.join(', ') || 'none'}`,
    `filter:      ${JSON.stringify(v.filter)}`,
  ].join('\n') + '\n';
}

export async function runIntegration(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout).write(INTEGRATION_HELP + '\n');
    return command === undefined ? 1 : 0;
  }
  const parsed = parseCommand(rest, {
    type: { type: 'string' },
    name: { type: 'string' },
    config: { type: 'string' },
    'config-file': { type: 'string' },
    filter: { type: 'string' },
    disabled: { type: 'boolean' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(INTEGRATION_HELP + '\n'), 0;
  switch (command) {
    case 'list': {
      const client = await connect(parsed, io.env);
      const page = await client.request<{ items: View[] }>('GET', '/api/integrations');
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) io.stdout.write('no integrations\n');
      else io.stdout.write(table([['ID', 'NAME', 'TYPE', 'STATE', 'BACKLOG', 'LAG S', 'SENT'], ...page.items.map((i) => [i.id, i.name, i.type, i.status.state, String(i.status.backlog), (i.status.lagMs / 1000).toFixed(1), String(i.status.sent)])]));
      return 0;
    }
    case 'create': {
      const type = str(v.type);
      const name = str(v.name);
      if (!type || !name) throw new CliError('--type and --name are required');
      const configText = str(v['config-file']) !== undefined ? readFileSync(str(v['config-file']) as string, 'utf8') : str(v.config);
      if (configText === undefined) throw new CliError('--config or --config-file is required');
      const filter = jsonFlag(str(v.filter), 'filter');
      const client = await connect(parsed, io.env);
      const created = await client.request<View>('POST', '/api/integrations', {
        json: { type, name, config: jsonFlag(configText, 'config'), ...(filter !== undefined ? { filter } : {}), ...(v.disabled ? { enabled: false } : {}) },
      });
      if (v.json) return writeJson(io, created), 0;
      io.stdout.write(`created integration ${created.id}\n`);
      return 0;
    }
    case 'status':
    case 'get': {
      const id = one(parsed.positionals, 'ID');
      const client = await connect(parsed, io.env);
      const view = await client.request<View>('GET', `/api/integrations/${encodeURIComponent(id)}`);
      if (v.json) return writeJson(io, view), 0;
      io.stdout.write(describe(view));
      return 0;
    }
    case 'delete': {
      const id = one(parsed.positionals, 'ID');
      const client = await connect(parsed, io.env);
      await client.request('DELETE', `/api/integrations/${encodeURIComponent(id)}`);
      io.stdout.write(`deleted integration ${id}\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown integration command "${command}" (list, create, status, delete)`);
  }
}
