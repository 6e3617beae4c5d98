/** `continuum rule list | get | create | update | delete | validate | backtest`. */
import { readFileSync } from 'node:fs';
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, timeFlag, writeJson, type Io, type Parsed } from './common.js';
import { resolveDevice } from './resolve.js';

export const RULE_HELP = `Usage: continuum rule <command> [options]

Commands:
  list                  the tenant's rules
  get ID                one rule as JSON
  create --file RULE.json [--device DEVICE]
                        create a rule from a JSON file (the body of POST /api/rules);
                        --device sets deviceId from a device id or name
  update ID --file RULE.json [--device DEVICE]
                        replace a rule (its state starts over)
  delete ID             delete a rule
  validate --file RULE.json
                        check a rule without saving it; errors show line and column
  backtest ID --from T [--to T]
                        replay stored telemetry through the rule, without side effects:
                        when it would have fired and what it would have done
                        (T: epoch ms or ISO date; --to defaults to now)

${CONNECTION_HELP}`;

interface RuleJson {
  id: string;
  name: string;
  enabled: boolean;
  trigger: string;
  condition: string;
  deviceId?: string;
  profileId?: string;
  for?: string;
}

interface BacktestJson {
  fired: { ts: number; deviceName: string; edge: string; actions: { type: string }[] }[];
  evaluated: number;
  devices: number;
  messages: number;
  errorCount: number;
  errors: { ts: number; message: string }[];
  truncated: boolean;
  tookMs: number;
}

const OPTIONS = { file: { type: 'string' }, device: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } as const;

async function ruleBody(parsed: Parsed<Record<string, string | boolean | undefined>>, client: Awaited<ReturnType<typeof connect>>): Promise<Record<string, unknown>> {
  const file = str(parsed.values.file);
  if (!file) throw new CliError('--file RULE.json is required');
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CliError(`${file} must hold one JSON object`);
  const device = str(parsed.values.device);
  return device === undefined ? (body as Record<string, unknown>) : { ...body, deviceId: (await resolveDevice(client, device)).id };
}

const target = (r: RuleJson): string => (r.deviceId ? `device ${r.deviceId}` : r.profileId ? `profile ${r.profileId}` : 'tenant');

function oneArg(parsed: Parsed<unknown>, what: string): string {
  const [id, ...extra] = parsed.positionals;
  if (!id) throw new CliError(`${what} needs a rule ID (see continuum rule --help)`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  return id;
}

export async function runRule(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    // Without a subcommand this is a usage error: help goes to stderr, stdout stays clean.
    (command === undefined ? io.stderr : io.stdout).write(RULE_HELP + '\n');
    return command === undefined ? 1 : 0;
  }
  const parsed = parseCommand(rest, OPTIONS);
  if (parsed.values.help) return io.stdout.write(RULE_HELP + '\n'), 0;
  const v = parsed.values;
  const client = await connect(parsed, io.env);
  switch (command) {
    case 'list': {
      const { items } = await client.request<{ items: RuleJson[] }>('GET', '/api/rules');
      if (v.json) return writeJson(io, items), 0;
      if (items.length === 0) return io.stdout.write('no rules\n'), 0;
      io.stdout.write(table([['ID', 'NAME', 'TRIGGER', 'TARGET', 'ENABLED', 'CONDITION'], ...items.map((r) => [r.id, r.name, r.trigger, target(r), r.enabled ? 'yes' : 'no', r.for ? `${r.condition} for ${r.for}` : r.condition])]));
      return 0;
    }
    case 'get':
      return writeJson(io, await client.request<RuleJson>('GET', `/api/rules/${encodeURIComponent(oneArg(parsed, 'rule get'))}`)), 0;
    case 'create':
    case 'update': {
      const id = command === 'update' ? oneArg(parsed, 'rule update') : undefined;
      const body = await ruleBody(parsed, client);
      const rule = id
        ? await client.request<RuleJson>('PUT', `/api/rules/${encodeURIComponent(id)}`, { json: body })
        : await client.request<RuleJson>('POST', '/api/rules', { json: body });
      if (v.json) return writeJson(io, rule), 0;
      io.stdout.write(`rule ${rule.id} (${rule.name}) ${id ? 'updated' : 'created'}\n`);
      return 0;
    }
    case 'delete': {
      const id = oneArg(parsed, 'rule delete');
      await client.request<unknown>('DELETE', `/api/rules/${encodeURIComponent(id)}`);
      io.stdout.write(`rule ${id} deleted\n`);
      return 0;
    }
    case 'validate': {
      const result = await client.request<{ valid: boolean; reads: unknown }>('POST', '/api/rules/validate', { json: await ruleBody(parsed, client) });
      if (v.json) return writeJson(io, result), 0;
      io.stdout.write('rule is valid\n');
      return 0;
    }
    case 'backtest': {
      const id = oneArg(parsed, 'rule backtest');
      const from = timeFlag(v.from, 'from');
      if (from === undefined) throw new CliError('rule backtest needs --from (epoch ms or ISO date)');
      const to = timeFlag(v.to, 'to') ?? Date.now();
      const r = await client.request<BacktestJson>('POST', `/api/rules/${encodeURIComponent(id)}/backtest`, { json: { from, to } });
      if (v.json) return writeJson(io, r), 0;
      if (r.fired.length > 0) io.stdout.write(table([['TS', 'DEVICE', 'EDGE', 'ACTIONS'], ...r.fired.map((x) => [isoTime(x.ts), x.deviceName, x.edge, x.actions.map((a) => a.type).join(', ') || '-'])]));
      io.stdout.write(
        `${r.fired.length}${r.truncated ? '+' : ''} firing(s); ${r.evaluated} evaluation(s) of ${r.messages} message(s) on ${r.devices} device(s) in ${r.tookMs} ms` +
          (r.errorCount > 0 ? `; ${r.errorCount} error(s), first: ${r.errors[0]?.message ?? ''}` : '') +
          '\n',
      );
      return 0;
    }
    default:
      throw new CliError(`unknown rule command "${command}" (list, get, create, update, delete, validate, backtest)`);
  }
}
