/** `continuum ota deploy | deployments | deployment` (rollouts; docs/OTA.md). */
import { CliError, connect, intFlag, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import { resolveDevice, resolveProfile } from './resolve.js';

export const OTA_DEPLOY_HELP = `  deploy --package ID (--profile P | --devices a,b,…) [--waves 10,50,100 | --rate BASE,FACTOR]
         [--canaries N] [--abort-percent 20 --abort-after 20] [--retries N] [--jitter-ms MS]
         [--notified-timeout-ms MS] [--progress-timeout-ms MS] [--window START-END (UTC hours)]
                        start a rollout: canaries first, then waves; aborts itself past the failure threshold
  deployments           the deployments, newest first, with their counts
  deployment ID [--pause | --resume | --cancel] [--devices]
                        one deployment's status and counts per wave (or its devices); pause, resume, cancel`;

interface Counts {
  queued: number;
  inProgress: number;
  updated: number;
  failed: number;
  canceled: number;
  total: number;
}

interface DeploymentJson {
  id: string;
  status: string;
  version: string;
  wave: number;
  waves: number;
  reason?: string;
  counts: Counts;
  perWave: Counts[];
  failures: Record<string, number>;
  createdAt: number;
}

function numbers(value: string | boolean | undefined, name: string): number[] | undefined {
  const s = str(value);
  if (s === undefined) return undefined;
  const list = s.split(',').map((x) => Number(x.trim()));
  if (list.some((n) => !Number.isFinite(n))) throw new CliError(`${name} takes comma-separated numbers, got "${s}"`);
  return list;
}

async function deploy(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    package: { type: 'string' },
    profile: { type: 'string' },
    devices: { type: 'string' },
    waves: { type: 'string' },
    rate: { type: 'string' },
    canaries: { type: 'string' },
    'abort-percent': { type: 'string' },
    'abort-after': { type: 'string' },
    retries: { type: 'string' },
    'jitter-ms': { type: 'string' },
    'notified-timeout-ms': { type: 'string' },
    'progress-timeout-ms': { type: 'string' },
    window: { type: 'string' },
  });
  const v = parsed.values;
  const packageId = str(v.package);
  if (!packageId) throw new CliError('ota deploy needs --package ID');
  if ((v.profile === undefined) === (v.devices === undefined)) throw new CliError('ota deploy needs --profile or --devices (one of them)');
  const abortPercent = intFlag(v['abort-percent'], '--abort-percent');
  const abortAfter = intFlag(v['abort-after'], '--abort-after');
  if ((abortPercent === undefined) !== (abortAfter === undefined)) throw new CliError('--abort-percent and --abort-after go together');
  const rate = numbers(v.rate, '--rate');
  if (rate && rate.length !== 2) throw new CliError('--rate is BASE,FACTOR');
  const windowText = str(v.window);
  const window = windowText ? /^(\d{1,2})-(\d{1,2})$/.exec(windowText) : undefined;
  if (windowText && !window) throw new CliError('--window is START-END in UTC hours, e.g. 22-4');
  const client = await connect(parsed, io.env);
  const target =
    v.profile !== undefined
      ? { profileId: (await resolveProfile(client, str(v.profile) ?? '')).id }
      : { deviceIds: await Promise.all((str(v.devices) ?? '').split(',').filter(Boolean).map(async (ref) => (await resolveDevice(client, ref.trim())).id)) };
  const notifiedMs = intFlag(v['notified-timeout-ms'], '--notified-timeout-ms');
  const progressMs = intFlag(v['progress-timeout-ms'], '--progress-timeout-ms');
  const body = {
    packageId,
    target,
    ...(v.waves !== undefined ? { waves: numbers(v.waves, '--waves') } : {}),
    ...(rate ? { rate: { base: rate[0], factor: rate[1] } } : {}),
    ...(v.canaries !== undefined ? { canaries: intFlag(v.canaries, '--canaries') } : {}),
    ...(abortPercent !== undefined ? { abort: { percent: abortPercent, after: abortAfter } } : {}),
    ...(v.retries !== undefined ? { retries: intFlag(v.retries, '--retries') } : {}),
    ...(v['jitter-ms'] !== undefined ? { jitterMs: intFlag(v['jitter-ms'], '--jitter-ms') } : {}),
    ...(notifiedMs !== undefined || progressMs !== undefined ? { timeouts: { ...(notifiedMs !== undefined ? { notifiedMs } : {}), ...(progressMs !== undefined ? { progressMs } : {}) } } : {}),
    ...(window ? { window: { startHour: Number(window[1]), endHour: Number(window[2]) } } : {}),
  };
  const created = await client.request<{ id: string }>('POST', '/api/ota/deployments', { json: body });
  if (v.json) return writeJson(io, created), 0;
  io.stdout.write(`deployment ${created.id} started (continuum ota deployment ${created.id})\n`);
  return 0;
}

const countCells = (c: Counts): string[] => [String(c.total), String(c.queued), String(c.inProgress), String(c.updated), String(c.failed), String(c.canceled)];

async function deployments(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  const client = await connect(parsed, io.env);
  const all = await client.request<DeploymentJson[]>('GET', '/api/ota/deployments');
  if (parsed.values.json) return writeJson(io, all), 0;
  const rows = all.map((d) => [d.id, d.status, d.version, `${Math.min(d.wave + 1, d.waves)}/${d.waves}`, ...countCells(d.counts), isoTime(d.createdAt)]);
  io.stdout.write(table([['ID', 'STATUS', 'VERSION', 'WAVE', 'DEVICES', 'QUEUED', 'IN PROGRESS', 'UPDATED', 'FAILED', 'CANCELED', 'CREATED'], ...rows]));
  io.stdout.write(`${all.length} deployments\n`);
  return 0;
}

async function deployment(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { pause: { type: 'boolean' }, resume: { type: 'boolean' }, cancel: { type: 'boolean' }, devices: { type: 'boolean' } });
  const v = parsed.values;
  const [id, ...extra] = parsed.positionals;
  if (!id) throw new CliError('ota deployment needs an ID');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const actions = (['pause', 'resume', 'cancel'] as const).filter((a) => v[a] === true);
  if (actions.length > 1) throw new CliError('one of --pause, --resume, --cancel');
  const client = await connect(parsed, io.env);
  const path = `/api/ota/deployments/${encodeURIComponent(id)}`;
  if (v.devices === true) {
    const rows = await client.request<{ deviceId: string; wave: number; state: string; attempts: number; fwState?: string; error?: string }[]>('GET', `${path}/devices`);
    if (v.json) return writeJson(io, rows), 0;
    io.stdout.write(table([['DEVICE', 'WAVE', 'STATE', 'ATTEMPTS', 'FW_STATE', 'ERROR'], ...rows.map((r) => [r.deviceId, String(r.wave + 1), r.state, String(r.attempts), r.fwState ?? '-', r.error ?? '-'])]));
    return 0;
  }
  const d = actions[0] ? await client.request<DeploymentJson>('POST', `${path}/${actions[0]}`) : await client.request<DeploymentJson>('GET', path);
  if (v.json) return writeJson(io, d), 0;
  io.stdout.write(`deployment ${d.id}: ${d.status}${d.reason ? ` (${d.reason})` : ''}, version ${d.version}, wave ${Math.min(d.wave + 1, d.waves)} of ${d.waves}\n`);
  io.stdout.write(table([['WAVE', 'DEVICES', 'QUEUED', 'IN PROGRESS', 'UPDATED', 'FAILED', 'CANCELED'], ...d.perWave.map((c, i) => [String(i + 1), ...countCells(c)]), ['all', ...countCells(d.counts)]]));
  for (const [reason, n] of Object.entries(d.failures)) io.stdout.write(`failed: ${n} × ${reason}\n`);
  return 0;
}

export const otaDeployCommands: Record<string, (argv: string[], io: Io) => Promise<number>> = { deploy, deployments, deployment };
