/** `continuum telemetry get DEVICE --keys a,b [--from --to --limit --interval --agg]` and `telemetry export DEVICE` (CSV). */
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, timeFlag, writeJson, type Io } from './common.js';
import { resolveDevice } from './resolve.js';

export const TELEMETRY_HELP = `Usage: continuum telemetry get DEVICE [--keys a,b] [--from T] [--to T] [--limit N]
                              [--order asc|desc] [--interval MS --agg avg|min|max|sum|count] [--json]
       continuum telemetry export DEVICE [--keys a,b] [--from T] [--to T] > file.csv

Reads stored telemetry of DEVICE (its id or its name). Without --keys: every key.
  --from, --to    epoch milliseconds or ISO dates (default: all time up to now)
  --limit N       points per key for raw reads (default 100)
  --interval MS   aggregate into buckets of MS milliseconds with --agg (default avg)

export writes every raw point of the range as CSV (ts,key,value; ts ISO 8601 UTC) to stdout,
streamed, with no cap on the number of points.

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

async function exportCsv(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { keys: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(TELEMETRY_HELP + '\n'), 0;
  const [ref, ...extra] = parsed.positionals;
  if (!ref) throw new CliError('telemetry export needs a DEVICE id or name (see continuum telemetry --help)');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  const body = await client.download(`/api/devices/${device.id}/telemetry/export`, { format: 'csv', keys: str(v.keys), from: timeFlag(v.from, 'from'), to: timeFlag(v.to, 'to') });
  for await (const chunk of body) {
    // Waits for a slow pipe (| gzip) rather than buffering the export in memory.
    if (!io.stdout.write(chunk)) await new Promise<void>((resolve) => io.stdout.once('drain', resolve));
  }
  return 0;
}

export async function runTelemetry(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'get':
      return get(rest, io);
    case 'export':
      return exportCsv(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      // Without a subcommand this is a usage error: help goes to stderr, stdout stays clean.
      (command === undefined ? io.stderr : io.stdout).write(TELEMETRY_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown telemetry command "${command}" (get, export)`);
  }
}
