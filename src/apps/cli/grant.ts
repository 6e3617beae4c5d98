/** `continuum grant add|list|delete` (issue 15: device-to-device MQTT grants). */
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import { resolveDevice } from './resolve.js';

export const GRANT_HELP = `Usage: continuum grant list [--json]
       continuum grant add (--device DEVICE | --group NAME | --all) --actions publish,subscribe --topic TEMPLATE [--json]
       continuum grant delete ID

Device-to-device MQTT grants (docs/MQTT.md): let a device, the devices of a group, or every device
of the tenant publish and/or subscribe on a topic filter beyond their own namespace. The topic is a
template; variables: \${device.name}, \${device.id}, \${device.attr.KEY} (the connecting device's
attribute), \${group:NAME} (one filter per member). Admins only. Connected devices get the change at once.

Example (quote the template so the shell leaves \${…} alone):
  continuum grant add --device light-1 --actions subscribe --topic 'devices/switch-1/#'
  continuum grant add --group lights --actions subscribe --topic 'devices/\${group:switches}/state'

${CONNECTION_HELP}`;

interface View {
  id: string;
  subject: { deviceId?: string; group?: string; all?: true };
  actions: string[];
  topic: string;
  createdAt: number;
}

function subjectText(s: View['subject']): string {
  if (s.deviceId) return `device ${s.deviceId}`;
  if (s.group) return `group ${s.group}`;
  return 'all devices';
}

export async function runGrant(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout).write(GRANT_HELP + '\n');
    return command === undefined ? 1 : 0;
  }
  const parsed = parseCommand(rest, {
    device: { type: 'string' },
    group: { type: 'string' },
    all: { type: 'boolean' },
    actions: { type: 'string' },
    topic: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(GRANT_HELP + '\n'), 0;
  switch (command) {
    case 'list': {
      const client = await connect(parsed, io.env);
      const page = await client.request<{ items: View[] }>('GET', '/api/grants');
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) io.stdout.write('no grants\n');
      else io.stdout.write(table([['ID', 'SUBJECT', 'ACTIONS', 'TOPIC', 'CREATED'], ...page.items.map((g) => [g.id, subjectText(g.subject), g.actions.join(','), g.topic, isoTime(g.createdAt)])]));
      return 0;
    }
    case 'add':
    case 'create': {
      const device = str(v.device);
      const group = str(v.group);
      if ([device !== undefined, group !== undefined, v.all === true].filter(Boolean).length !== 1) throw new CliError('give exactly one of --device, --group, --all');
      const topic = str(v.topic);
      const actions = str(v.actions)?.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
      if (!topic || !actions?.length) throw new CliError('--topic and --actions (publish, subscribe or both) are required');
      const client = await connect(parsed, io.env);
      const subject = device !== undefined ? { deviceId: (await resolveDevice(client, device)).id } : group !== undefined ? { group } : { all: true };
      const created = await client.request<View>('POST', '/api/grants', { json: { subject, actions, topic } });
      if (v.json) return writeJson(io, created), 0;
      io.stdout.write(`created grant ${created.id}\n`);
      return 0;
    }
    case 'delete': {
      const [id, ...extra] = parsed.positionals;
      if (!id) throw new CliError('ID is required');
      if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
      const client = await connect(parsed, io.env);
      await client.request('DELETE', `/api/grants/${encodeURIComponent(id)}`);
      io.stdout.write(`deleted grant ${id}\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown grant command "${command}" (list, add, delete)`);
  }
}
