/** `continuum ota key add | list | delete` and reading a signature file for `ota upload` (docs/OTA.md "Signed packages"). */
import { readFileSync } from 'node:fs';
import { CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';

export const OTA_KEY_HELP = `  key add NAME --public-key FILE
                        register an Ed25519 public key (PEM, or base64 of the raw 32 bytes) signatures are checked with
  key list              the tenant's signing keys
  key delete ID         delete a signing key (new uploads are no longer verified with it)`;

interface KeyJson {
  id: string;
  name: string;
  publicKey: string;
  createdAt: number;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`cannot read ${what} ${file}`);
  }
}

/**
 * A signature file: the 64 raw bytes `openssl pkeyutl -sign -rawin` writes, or their base64 as
 * text. Returned as base64 for the upload's `signature`.
 */
export function readSignatureFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new CliError(`cannot read signature ${file}`);
  }
  if (bytes.length === 64) return bytes.toString('base64');
  return bytes.toString('utf8').trim();
}

export async function runOtaKey(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const parsed = parseCommand(rest, { 'public-key': { type: 'string' } });
  const v = parsed.values;
  if (v.help || command === undefined) return (command === undefined ? io.stderr : io.stdout).write(OTA_KEY_HELP + '\n'), command === undefined ? 1 : 0;
  const [arg, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  switch (command) {
    case 'add': {
      const file = str(v['public-key']);
      if (!arg || !file) throw new CliError('ota key add needs NAME and --public-key FILE');
      const client = await connect(parsed, io.env);
      const key = await client.request<KeyJson>('POST', '/api/ota/keys', { json: { name: arg, publicKey: readText(file, 'public key') } });
      if (v.json) return writeJson(io, key), 0;
      io.stdout.write(`added signing key "${key.name}": id ${key.id}\n`);
      return 0;
    }
    case 'list': {
      const client = await connect(parsed, io.env);
      const keys = await client.request<KeyJson[]>('GET', '/api/ota/keys');
      if (v.json) return writeJson(io, keys), 0;
      io.stdout.write(table([['ID', 'NAME', 'PUBLIC KEY', 'ADDED'], ...keys.map((k) => [k.id, k.name, k.publicKey, isoTime(k.createdAt)])]));
      io.stdout.write(`${keys.length} keys\n`);
      return 0;
    }
    case 'delete': {
      if (!arg) throw new CliError('ota key delete needs a key ID');
      const client = await connect(parsed, io.env);
      await client.request('DELETE', `/api/ota/keys/${encodeURIComponent(arg)}`);
      io.stdout.write(`deleted signing key ${arg}\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown ota key command "${command}" (add, list, delete)`);
  }
}
