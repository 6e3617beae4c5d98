/** `continuum config check FILE` and `continuum config print`: the server's config, checked and explained. */
import { parseArgs } from 'node:util';
import { FLAG_PATHS, loadConfigWithOrigins, type SettingOrigin } from '../config.js';
import { CliError, table, writeJson, type Io } from './common.js';

export const CONFIG_HELP = `Usage: continuum config <command>

Commands:
  check FILE            check a config file as "continuum start --config FILE" would read it
                        (with this environment): unknown settings, wrong types, values out of range
  print [--config FILE] [start flags] [--json] [--show-secrets]
                        the effective config, each setting with where it came from:
                        default, file (FILE:LINE), env (the variable) or flag

Exit codes: 0 valid, 1 invalid (every problem on stderr, with file and line).`;

/** Settings printed as "(set)" unless --show-secrets: passwords, keys and tokens. */
const SECRET_PATHS = new Set(['auth.adminPassword', 'auth.credentialKey', 'notify.smtp.password', 'notify.smpp.password', 'metrics.token']);

function parse(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }>): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...extra }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new CliError((err as Error).message.split('\n')[0] ?? String(err));
  }
}

function check(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, {});
  if (values.help) return io.stdout.write(CONFIG_HELP + '\n'), 0;
  const [file, ...more] = positionals;
  if (!file) throw new CliError('config check needs a FILE (see continuum config --help)');
  if (more.length > 0) throw new CliError(`unexpected argument "${more[0]}"`);
  // A ConfigError (every problem, one per line) reaches main, which prints it and exits 1.
  const { origins } = loadConfigWithOrigins({ file, env: io.env });
  const fromFile = [...origins.values()].filter((o) => o.source === 'file').length;
  io.stdout.write(`${file}: valid (${fromFile} setting${fromFile === 1 ? '' : 's'} from the file)\n`);
  return 0;
}

function leaves(tree: unknown, prefix = ''): [string, unknown][] {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return [[prefix, tree]];
  const entries = Object.entries(tree as Record<string, unknown>);
  if (entries.length === 0) return [];
  return entries.flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function print(argv: string[], io: Io): number {
  const flagOptions = Object.fromEntries(Object.entries(FLAG_PATHS).map(([name, spec]) => [name, { type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  const { values, positionals } = parse(argv, { ...flagOptions, config: { type: 'string' }, json: { type: 'boolean' }, 'show-secrets': { type: 'boolean' } });
  if (values.help) return io.stdout.write(CONFIG_HELP + '\n'), 0;
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}" (config print takes --config FILE)`);
  const flags: Record<string, string | undefined> = {};
  for (const name of Object.keys(FLAG_PATHS)) {
    const value = values[name];
    if (typeof value === 'string') flags[name] = value;
    else if (value === true) flags[name] = 'true';
  }
  const file = typeof values.config === 'string' ? values.config : undefined;
  const { config, origins } = loadConfigWithOrigins({ ...(file !== undefined ? { file } : {}), env: io.env, flags });
  const rows = leaves(config).map(([path, value]) => {
    const origin: SettingOrigin = origins.get(path) ?? { source: 'default' };
    const shown = SECRET_PATHS.has(path) && value !== undefined && values['show-secrets'] !== true ? '(set)' : value;
    return { path, value: shown, source: origin.source, ...(origin.where !== undefined ? { where: origin.where } : {}) };
  });
  if (values.json) return writeJson(io, rows), 0;
  io.stdout.write(
    table([
      ['SETTING', 'VALUE', 'SOURCE'],
      ...rows.map((r) => [r.path, JSON.stringify(r.value), r.where !== undefined ? `${r.source} ${r.where}` : r.source]),
    ]),
  );
  return 0;
}

export function runConfig(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check':
      return check(rest, io);
    case 'print':
    case 'show':
      return print(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (command === undefined ? io.stderr : io.stdout).write(CONFIG_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown config command "${command}" (check, print)`);
  }
}
