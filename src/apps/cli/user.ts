/** `continuum user create EMAIL`: users of the tenant (admin only). */
import { CONNECTION_HELP, CliError, connect, parseCommand, str, writeJson, type Io } from './common.js';

export const USER_HELP = `Usage:
  continuum user create EMAIL --new-password P [--role user|admin]

Roles: admin configures the tenant; user is an operator — reads everything, sends commands, sets
shared attributes, acknowledges and clears alarms, changes no configuration.

${CONNECTION_HELP}`;

export async function runUser(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseCommand(rest, { role: { type: 'string' }, 'new-password': { type: 'string' } });
  if (sub === undefined || sub === '--help' || sub === '-h' || parsed.values.help) {
    io.stdout.write(USER_HELP + '\n');
    return sub === undefined ? 1 : 0;
  }
  if (sub !== 'create') throw new CliError(`unknown user command "${sub}" (create)`);
  const email = parsed.positionals[0];
  // --password is the connection flag of the caller; the new user's password is --new-password
  // or, for convenience, the environment variable CONTINUUM_NEW_PASSWORD.
  const password = str(parsed.values['new-password']) ?? io.env.CONTINUUM_NEW_PASSWORD;
  if (!email) throw new CliError('user create needs an e-mail address');
  if (!password) throw new CliError('user create needs --new-password (or CONTINUUM_NEW_PASSWORD)');
  const role = str(parsed.values.role) ?? 'user';
  if (role !== 'user' && role !== 'admin') throw new CliError(`--role must be user or admin, got "${role}"`);
  const client = await connect(parsed, io.env);
  const user = await client.request<{ id: string; email: string; role: string }>('POST', '/api/users', { json: { email, password, role } });
  if (parsed.values.json) writeJson(io, user);
  else io.stdout.write(`created ${user.role} ${user.email} (${user.id})\n`);
  return 0;
}
