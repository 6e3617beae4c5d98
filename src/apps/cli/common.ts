/** Flags, errors and output helpers shared by every `continuum` client command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, CliError } from '../../protocols/management-api/client.js';

export { CliError };

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export const CONNECTION_HELP = `Connection (every command):
  --url URL             API address (env CONTINUUM_URL, default http://127.0.0.1:8080)
  --api-key KEY         API key (env CONTINUUM_API_KEY)
  --email E --password P  log in instead (env CONTINUUM_EMAIL / CONTINUUM_PASSWORD)
  --json                machine-readable output on stdout
  -h, --help            this help`;

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export interface Parsed<V> {
  readonly values: V & { url?: string; 'api-key'?: string; email?: string; password?: string; json?: boolean; help?: boolean };
  readonly positionals: string[];
}

/** parseArgs with the connection flags added; unknown flags become a CliError. */
export function parseCommand<O extends OptionSpecs>(argv: string[], options: O): Parsed<Record<string, string | boolean | undefined>> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Parsed<Record<string, string | boolean | undefined>>['values'], positionals };
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err));
  }
}

export function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function intFlag(value: string | boolean | undefined, name: string): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`--${name} must be an integer, got "${text}"`);
  return Number(text);
}

/** A time flag: epoch milliseconds or an ISO-8601 date. */
export function timeFlag(value: string | boolean | undefined, name: string): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`--${name} must be epoch milliseconds or an ISO date, got "${text}"`);
  return ms;
}

export async function connect(parsed: Parsed<unknown>, env: NodeJS.ProcessEnv): Promise<ApiClient> {
  const v = parsed.values;
  const url = (v.url ?? env.CONTINUUM_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const apiKey = v['api-key'] ?? env.CONTINUUM_API_KEY;
  if (apiKey) return new ApiClient(url, { 'x-api-key': apiKey });
  const email = v.email ?? env.CONTINUUM_EMAIL;
  const password = v.password ?? env.CONTINUUM_PASSWORD;
  if (!email || !password) {
    throw new CliError('no credentials: pass --api-key (or CONTINUUM_API_KEY), or --email and --password (or CONTINUUM_EMAIL/CONTINUUM_PASSWORD)');
  }
  const anonymous = new ApiClient(url, {});
  const { token } = await anonymous.request<{ token: string }>('POST', '/api/auth/login', { json: { email, password } });
  return new ApiClient(url, { authorization: `Bearer ${token}` });
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Left-aligned columns for humans. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

export function isoTime(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString() : '-';
}
