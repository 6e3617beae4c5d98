/** `continuum scenario list | install NAME`: the scenario packs and installing one into a platform. */
import { PACKS } from '../../scenarios/index.js';
import { installPack } from '../../scenarios/install.js';
import { requirePack } from '../../scenarios/run.js';
import { CONNECTION_HELP, CliError, connect, intFlag, parseCommand, table, writeJson, type Io } from './common.js';

export const SCENARIO_HELP = `Usage:
  continuum scenario list               the scenario packs and what they show
  continuum scenario install NAME       create the pack's profiles, devices, rules and dashboard
      --devices N                       devices per group (default: the pack's own counts)

Then run its devices with: continuum simulate --scenario NAME (or start the platform with --demo NAME).

${CONNECTION_HELP}`;

export async function runScenario(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseCommand(rest, { devices: { type: 'string' } });
  if (parsed.values.help || sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(SCENARIO_HELP + '\n');
    return sub === undefined ? 1 : 0;
  }
  if (sub === 'list') {
    if (parsed.values.json) writeJson(io, PACKS.map((p) => ({ name: p.name, title: p.title, summary: p.summary, m2m: p.m2m, devices: p.devices.reduce((n, g) => n + g.count, 0) })));
    else io.stdout.write(table([['NAME', 'DEVICES', 'TITLE'], ...PACKS.map((p) => [p.name, String(p.devices.reduce((n, g) => n + g.count, 0)), p.title])]));
    return 0;
  }
  if (sub !== 'install') throw new CliError(`unknown scenario command "${sub}" (list, install)`);
  const name = parsed.positionals[0];
  if (!name) throw new CliError('scenario install needs a pack name (continuum scenario list)');
  let pack;
  try {
    pack = requirePack(name);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const devicesPerGroup = intFlag(parsed.values.devices, 'devices');
  if (devicesPerGroup !== undefined && devicesPerGroup < 1) throw new CliError('--devices must be at least 1');
  const client = await connect(parsed, io.env);
  const result = await installPack(client, pack, {
    ...(devicesPerGroup !== undefined ? { devicesPerGroup } : {}),
    log: (line) => io.stderr.write(line + '\n'),
  });
  if (parsed.values.json) {
    writeJson(io, { ...result, devices: result.devices.map((d) => ({ name: d.name, id: d.id, token: d.token, profile: d.group.profile })) });
  } else {
    io.stdout.write(table([['DEVICE', 'PROFILE', 'ACCESS TOKEN'], ...result.devices.map((d) => [d.name, d.group.profile, d.token])]));
    io.stdout.write(`${result.rules.filter((r) => r.created).length} rule(s) created, ${result.rules.filter((r) => !r.created).length} kept${result.dashboardId ? `; dashboard ${result.dashboardId}` : ''}\n`);
  }
  return 0;
}
