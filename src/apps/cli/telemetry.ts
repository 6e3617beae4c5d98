/** `continuum telemetry get DEVICE --keys a,b [--from --to --limit --interval --agg]`. */
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, timeFlag, writeJson, type Io } from './common.js';
import { resolveDevice } from './resolve.js';

export const TELEMETRY_HELP = `Usage: continuum telemetry get DEVICE [--keys a,b] [--from T] [--to T] [--limit N]
                              [--order asc|desc] [--interval MS --agg avg|min|max|sum|count] [--json]

Reads stored telemetry of DEVICE (its id or its name). Without --keys: every key.
  --from, --to    epoch milliseconds or ISO dates (default: all time up to now)
  --limit N       points per key for raw reads (default 100)
  --interval MS   aggregate into buckets of MS milliseconds with --agg (default avg)

${CONNECTION_HELP}`;

async function get(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    keys: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    order: { type: 'string' },
    interval: { type: 'string' },
    agg: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(TELEMETRY_HELP + '\n'), 0;
  const [ref, ...extra] = parsed.positionals;
  if (!ref) throw new CliError('telemetry get needs a DEVICE id or name (see continuum telemetry --help)');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  if (str(v.agg) !== undefined && str(v.interval) === undefined) throw new CliError('--agg needs --interval');
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  const data = await client.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${device.id}/telemetry`, {
    query: {
      keys: str(v.keys),
      from: timeFlag(v.from, 'from'),
      to: timeFlag(v.to, 'to'),
      limit: intFlag(v.limit, 'limit'),
      order: str(v.order),
      interval: intFlag(v.interval, 'interval'),
      agg: str(v.agg),
    },
  });
  if (v.json) return writeJson(io, data), 0;
  const rows: string[][] = [];
  for (const [key, points] of Object.entries(data).sort(([a], [b]) => a.localeCompare(b))) {
    for (const p of points) rows.push([key, isoTime(p.ts), typeof p.value === 'string' ? p.value : JSON.stringify(p.value)]);
  }
  if (rows.length === 0) io.stdout.write(`no telemetry for "${device.name}" in that range\n`);
  else io.stdout.write(table([['KEY', 'TS', 'VALUE'], ...rows]));
  return 0;
}

export async function runTelemetry(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'get':
      return get(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      // Without a subcommand this is a usage error: help goes to stderr, stdout stays clean.
      (command === undefined ? io.stderr : io.stdout).write(TELEMETRY_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown telemetry command "${command}" (get)`);
  }
}
