/** `continuum audit`: the tenant's audit log, newest first (admins only; GET /api/audit). */
import { CONNECTION_HELP, CliError, connect, intFlag, isoTime, parseCommand, str, table, timeFlag, writeJson, type Io } from './common.js';

export const AUDIT_HELP = `Usage: continuum audit [--action A] [--actor USER_ID] [--target ID] [--outcome success|failure|denied]
                      [--from TIME] [--to TIME] [--limit N] [--offset N] [--json]

Lists audit entries newest first: sign-ins (with the client's address), credential reads, user
and role changes, every change made through the API, edge configuration pushes. --action is an
exact action or a prefix ending in "." or " " (auth., "POST "). Admins only.

${CONNECTION_HELP}`;

interface AuditView {
  ts: number;
  actor: string;
  actorName: string | null;
  action: string;
  outcome: string;
  targetId: string | null;
  address: string | null;
}

export async function runAudit(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    action: { type: 'string' },
    actor: { type: 'string' },
    target: { type: 'string' },
    outcome: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help || parsed.positionals[0] === 'help') return io.stdout.write(AUDIT_HELP + '\n'), 0;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`);
  const client = await connect(parsed, io.env);
  const page = await client.request<{ items: AuditView[]; total: number }>('GET', '/api/audit', {
    query: {
      action: str(v.action),
      actor: str(v.actor),
      targetId: str(v.target),
      outcome: str(v.outcome),
      from: timeFlag(v.from, 'from'),
      to: timeFlag(v.to, 'to'),
      limit: intFlag(v.limit, 'limit'),
      offset: intFlag(v.offset, 'offset'),
    },
  });
  if (v.json) return writeJson(io, page), 0;
  if (page.items.length === 0) return io.stdout.write('no audit entries\n'), 0;
  const rows = page.items.map((e) => [isoTime(e.ts), e.actorName ?? e.actor, e.action, e.outcome, e.targetId ?? '', e.address ?? '']);
  io.stdout.write(table([['TIME', 'WHO', 'ACTION', 'OUTCOME', 'TARGET', 'FROM'], ...rows]));
  if (page.total > page.items.length) io.stdout.write(`${page.items.length} of ${page.total} entries (--limit, --offset for more)\n`);
  return 0;
}
