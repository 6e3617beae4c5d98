/** `continuum profile list | get | create | update | delete`: device profiles (codec, telemetry keys, controls). */
import { readFileSync } from 'node:fs';
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import type { Operations, Schemas } from '../../protocols/management-api/typed-client.js';
import { resolveProfile } from './resolve.js';

export const PROFILE_HELP = `Usage: continuum profile <command> [options]

Commands:
  list                  the tenant's device profiles
  get PROFILE           one profile: codec, telemetry keys with units, controls
  create NAME [--codec json|senml|…] [--key KEY:TYPE[:UNIT]]… [--retention-days N] [--file BODY.json]
                        create a profile
  update PROFILE [--name N] [--key KEY:TYPE[:UNIT]]… [--retention-days N|never] [--file BODY.json]
                        rename it, replace its telemetry keys (or controls, from --file) or
                        change how long its devices' telemetry is kept
  delete PROFILE        delete a profile no device uses (not the default one)

PROFILE is a profile's id or exact name. TYPE is number, boolean, string or json.
--file reads the request body as JSON (fields as in POST/PUT /api/profiles, e.g. controls);
flags given on the command line override its fields.
Exit codes: 0 done, 1 error, 3 no such profile.

${CONNECTION_HELP}`;

/** A profile as the API answers it (generated from the OpenAPI document). */
type ProfileJson = Schemas['Profile'];

const KEY_TYPES = ['number', 'boolean', 'string', 'json'] as const;
type KeySpec = NonNullable<Operations['createProfile']['input']['body']['telemetryKeys']>[number];

function isKeyType(type: string): type is KeySpec['type'] {
  return (KEY_TYPES as readonly string[]).includes(type);
}

/** `temp:number:°C` → a key spec; the unit may itself contain colons. */
export function parseKeySpec(text: string): KeySpec {
  const [key, type, ...unit] = text.split(':');
  if (!key || !type) throw new CliError(`--key "${text}": expected KEY:TYPE[:UNIT], e.g. temperature:number:°C`);
  if (!isKeyType(type)) throw new CliError(`--key "${text}": type "${type}" is not one of ${KEY_TYPES.join(', ')}`);
  return unit.length > 0 ? { key, type, unit: unit.join(':') } : { key, type };
}

function readBody(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('expected a JSON object');
    return body as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
}

function keysFlag(value: unknown): { keys?: KeySpec[] } {
  return Array.isArray(value) && value.length > 0 ? { keys: (value as string[]).map(parseKeySpec) } : {};
}

const BODY_OPTIONS = { key: { type: 'string', multiple: true }, file: { type: 'string' } } as const;

function describe(p: ProfileJson): string {
  const keys = p.telemetryKeys.length > 0 ? p.telemetryKeys.map((k) => `${k.key} (${k.type}${k.unit ? `, ${k.unit}` : ''})`).join(', ') : '-';
  return table([
    ['id', p.id],
    ['name', p.name],
    ['codec', p.codec],
    ['telemetry keys', keys],
    ['controls', p.controls.length > 0 ? p.controls.map((c) => c.label).join(', ') : '-'],
    ['telemetry kept', p.retentionDays === null ? 'for ever' : `${p.retentionDays} days`],
    ['provisioning', p.provisionKey ? `key ${p.provisionKey}` : 'off'],
    ['created', isoTime(p.createdAt)],
  ]);
}

/** --retention-days N: whole days. */
function retentionDays(text: string | undefined): { retentionDays?: number } {
  if (text === undefined) return {};
  const days = Number(text);
  if (!Number.isInteger(days) || days < 0) throw new CliError(`--retention-days "${text}": expected a whole number of days (or 'never' with update)`);
  return { retentionDays: days };
}

/** On update, --retention-days never keeps telemetry for ever again. */
const retentionChange = (text: string | undefined): { retentionDays?: number | null } => (text === 'never' ? { retentionDays: null } : retentionDays(text));

function onePositional(positionals: readonly string[], what: string): string {
  const [ref, ...extra] = positionals;
  if (!ref) throw new CliError(`${what} (see continuum profile --help)`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}" (quote names with spaces)`);
  return ref;
}

async function list(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(PROFILE_HELP + '\n'), 0;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`);
  const client = await connect(parsed, io.env);
  const { items } = await client.call('listProfiles');
  if (parsed.values.json) return writeJson(io, { items }), 0;
  const rows = items.map((p) => [p.id, p.name, p.codec, String(p.telemetryKeys.length), String(p.controls.length)]);
  io.stdout.write(table([['ID', 'NAME', 'CODEC', 'KEYS', 'CONTROLS'], ...rows]));
  io.stdout.write(`${items.length} profiles\n`);
  return 0;
}

async function get(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(PROFILE_HELP + '\n'), 0;
  const ref = onePositional(parsed.positionals, 'profile get needs a PROFILE id or name');
  const client = await connect(parsed, io.env);
  const profile = await resolveProfile(client, ref);
  if (parsed.values.json) return writeJson(io, profile), 0;
  io.stdout.write(describe(profile));
  return 0;
}

async function create(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { ...BODY_OPTIONS, codec: { type: 'string' }, 'retention-days': { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(PROFILE_HELP + '\n'), 0;
  const name = onePositional(parsed.positionals, 'profile create needs a NAME');
  const body = readBody(str(v.file));
  const { keys } = keysFlag((v as Record<string, unknown>).key);
  const client = await connect(parsed, io.env);
  const profile = await client.call('createProfile', {
    body: { ...body, name, ...(str(v.codec) !== undefined ? { codec: str(v.codec) } : {}), ...(keys ? { telemetryKeys: keys } : {}), ...retentionDays(str(v['retention-days'])) },
  });
  if (v.json) return writeJson(io, profile), 0;
  io.stdout.write(`created profile "${profile.name}" id ${profile.id}\n`);
  return 0;
}

async function update(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { ...BODY_OPTIONS, name: { type: 'string' }, 'retention-days': { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(PROFILE_HELP + '\n'), 0;
  const ref = onePositional(parsed.positionals, 'profile update needs a PROFILE id or name');
  const body = readBody(str(v.file));
  const { keys } = keysFlag((v as Record<string, unknown>).key);
  const json = { ...body, ...(str(v.name) !== undefined ? { name: str(v.name) } : {}), ...(keys ? { telemetryKeys: keys } : {}), ...retentionChange(str(v['retention-days'])) };
  if (Object.keys(json).length === 0) throw new CliError('profile update needs --name, --key, --retention-days or --file');
  const client = await connect(parsed, io.env);
  const current = await resolveProfile(client, ref);
  const profile = await client.call('replaceProfile', { params: { id: current.id }, body: json });
  if (v.json) return writeJson(io, profile), 0;
  io.stdout.write(`updated profile "${profile.name}" id ${profile.id}\n`);
  return 0;
}

async function remove(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(PROFILE_HELP + '\n'), 0;
  const ref = onePositional(parsed.positionals, 'profile delete needs a PROFILE id or name');
  const client = await connect(parsed, io.env);
  const profile = await resolveProfile(client, ref);
  await client.call('deleteProfile', { params: { id: profile.id } });
  if (parsed.values.json) writeJson(io, { deleted: true, id: profile.id, name: profile.name });
  else io.stdout.write(`deleted profile "${profile.name}" (id ${profile.id})\n`);
  return 0;
}

export async function runProfile(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'list':
      return list(rest, io);
    case 'get':
    case 'show':
      return get(rest, io);
    case 'create':
      return create(rest, io);
    case 'update':
      return update(rest, io);
    case 'delete':
    case 'rm':
      return remove(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (command === undefined ? io.stderr : io.stdout).write(PROFILE_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown profile command "${command}" (list, get, create, update, delete)`);
  }
}
