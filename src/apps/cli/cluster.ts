/** `continuum cluster status`: the cluster's nodes and partition owners (GET /api/cluster, admins). */
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, table, writeJson, type Io } from './common.js';

export const CLUSTER_HELP = `Usage: continuum cluster status [--partitions] [--json]

Shows the nodes of the cluster the API node belongs to (id, ready, last heartbeat, addresses)
and who owns the rule engine's partitions: per owner the number of partitions and their summed
lag (events not yet processed; "-" when unknown). --partitions lists every partition. A single
node (SQLite) shows itself owning all of them. Admins only.

${CONNECTION_HELP}`;

export async function runCluster(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { partitions: { type: 'boolean' } });
  const v = parsed.values;
  const [sub, ...extra] = parsed.positionals;
  if (v.help || sub === 'help') return io.stdout.write(CLUSTER_HELP + '\n'), 0;
  if (sub === undefined) return io.stderr.write(CLUSTER_HELP + '\n'), 1;
  if (sub !== 'status') throw new CliError(`unknown cluster command "${sub}" (continuum cluster --help)`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const client = await connect(parsed, io.env);
  const status = await client.call('getClusterStatus');
  if (v.json) return writeJson(io, status), 0;
  io.stdout.write(`cluster ${status.name} (${status.clustered ? 'cluster mode' : 'single node'}), answered by ${status.nodeId}\n\n`);
  io.stdout.write(
    table([
      ['NODE', 'READY', 'LAST SEEN', 'ADDRESSES'],
      ...status.nodes.map((n) => [n.id + (n.self ? ' *' : ''), n.ready ? 'yes' : 'NO', isoTime(n.lastSeen), n.addresses.map((a) => a.url).join(' ')]),
    ]),
  );
  const owners = new Map<string, { partitions: number; lag: number | null }>();
  for (const p of status.partitions) {
    const key = p.owner ?? '(none)';
    const o = owners.get(key) ?? { partitions: 0, lag: 0 };
    o.partitions += 1;
    o.lag = o.lag === null || p.lag === null ? null : o.lag + p.lag;
    owners.set(key, o);
  }
  io.stdout.write(`\n${status.partitions.length} partitions\n`);
  io.stdout.write(table([['OWNER', 'PARTITIONS', 'LAG'], ...[...owners].map(([owner, o]) => [owner, String(o.partitions), o.lag === null ? '-' : String(o.lag)])]));
  if (v.partitions) {
    io.stdout.write('\n');
    io.stdout.write(
      table([
        ['PARTITION', 'OWNER', 'EPOCH', 'LAG'],
        ...status.partitions.map((p) => [String(p.partition), p.owner ?? '(none)', p.epoch === null ? '-' : String(p.epoch), p.lag === null ? '-' : String(p.lag)]),
      ]),
    );
  }
  return 0;
}
