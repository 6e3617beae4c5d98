/** `continuum ota upload | list | delete` and `continuum device firmware` (docs/OTA.md). */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CONNECTION_HELP, CliError, connect, isoTime, parseCommand, str, table, writeJson, type Io } from './common.js';
import { otaDeployCommands, OTA_DEPLOY_HELP } from './ota-deploy.js';
import { OTA_KEY_HELP, readSignatureFile, runOtaKey } from './ota-keys.js';
import { ProgressBar } from './progress.js';
import { resolveDevice } from './resolve.js';

export const OTA_HELP = `Usage: continuum ota <command> [options]

Commands:
  upload FILE --title T --version V [--profile ID] [--type firmware|software] [--checksum SHA256] [--hardware H]
         [--signature SIGFILE] [--min-version V] [--from-version V]
                        upload a package (streamed; progress on a terminal); prints its id and SHA-256.
                        SIGFILE: the Ed25519 signature (64 raw bytes or base64) over the manifest (docs/OTA.md)
  upload --external URL --checksum SHA256 --size BYTES --title T --version V [...]
                        register an external package (devices download it from URL, told as fw_url)
${OTA_KEY_HELP}
  list [--type firmware|software]
                        the packages, newest first
  delete ID             delete a package (refused while a device is assigned it)
${OTA_DEPLOY_HELP}

Assign one to a device with: continuum device firmware DEVICE --package ID

${CONNECTION_HELP}`;

export const DEVICE_FIRMWARE_HELP = `Usage: continuum device firmware DEVICE [--package ID] [--json]

With --package: assigns the package to DEVICE (its id or name); the device is told through the
fw_* (or sw_*) shared attributes. Without: shows the device's firmware and software status.

${CONNECTION_HELP}`;

interface PackageJson {
  id: string;
  type: string;
  title: string;
  version: string;
  profileId?: string;
  size: number;
  checksum: string;
  createdAt: number;
  signedBy?: string;
}

const TYPES = new Set(['firmware', 'software']);

function typeFlag(value: string | boolean | undefined): string | undefined {
  const type = str(value);
  if (type !== undefined && !TYPES.has(type)) throw new CliError(`--type must be firmware or software, got "${type}"`);
  return type;
}

/** Counts bytes as they are read, for the progress bar. */
async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    onBytes(n);
    yield chunk;
  }
}

async function upload(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    title: { type: 'string' },
    version: { type: 'string' },
    profile: { type: 'string' },
    type: { type: 'string' },
    checksum: { type: 'string' },
    hardware: { type: 'string' },
    signature: { type: 'string' },
    'min-version': { type: 'string' },
    'from-version': { type: 'string' },
    external: { type: 'string' },
    size: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(OTA_HELP + '\n'), 0;
  const [file, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const title = str(v.title);
  const version = str(v.version);
  if (!title || !version) throw new CliError('ota upload needs --title and --version');
  const sigFile = str(v.signature);
  const query = {
    title, version, profileId: str(v.profile), type: typeFlag(v.type), checksum: str(v.checksum), hardware: str(v.hardware),
    signature: sigFile !== undefined ? readSignatureFile(sigFile) : undefined, minVersion: str(v['min-version']), fromVersion: str(v['from-version']),
  };
  // --external, not --url: --url is the platform's address (connection options)
  const url = str(v.external);
  if (url !== undefined) {
    // An external package: nothing to stream.
    if (file) throw new CliError('ota upload takes a FILE or --external URL, not both');
    if (!query.checksum || !str(v.size)) throw new CliError('ota upload --external needs --checksum and --size');
    const client = await connect(parsed, io.env);
    const pkg = await client.request<PackageJson>('POST', '/api/ota/packages', { query: { ...query, url, size: str(v.size) } });
    if (v.json) return writeJson(io, pkg), 0;
    io.stdout.write(`registered external ${pkg.type} "${pkg.title}" ${pkg.version} at ${url}: id ${pkg.id}\n`);
    return 0;
  }
  if (!file) throw new CliError('ota upload needs a FILE or --external URL (see continuum ota --help)');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
  const client = await connect(parsed, io.env);
  // Progress only on a terminal (stderr), so scripts and --json keep clean output.
  const bar = io.stderr.isTTY === true ? new ProgressBar(io.stderr, size, 30, 'bytes') : undefined;
  const source = createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
  const pkg = await client.request<PackageJson>('POST', '/api/ota/packages', {
    query,
    stream: { body: bar ? counted(source, (n) => bar.update(n)) : source, contentType: 'application/octet-stream', length: size },
  });
  bar?.finish();
  if (v.json) return writeJson(io, pkg), 0;
  io.stdout.write(`uploaded ${basename(file)} as ${pkg.type} "${pkg.title}" ${pkg.version}: id ${pkg.id}\n`);
  io.stdout.write(`size ${pkg.size} bytes, sha256 ${pkg.checksum}${pkg.signedBy !== undefined ? `, signature verified (key ${pkg.signedBy})` : ''}\n`);
  return 0;
}

async function list(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { type: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(OTA_HELP + '\n'), 0;
  const client = await connect(parsed, io.env);
  const packages = await client.request<PackageJson[]>('GET', '/api/ota/packages', { query: { type: typeFlag(v.type) } });
  if (v.json) return writeJson(io, packages), 0;
  const rows = packages.map((p) => [p.id, p.type, p.title, p.version, String(p.size), p.checksum.slice(0, 16), isoTime(p.createdAt)]);
  io.stdout.write(table([['ID', 'TYPE', 'TITLE', 'VERSION', 'SIZE', 'SHA256', 'UPLOADED'], ...rows]));
  io.stdout.write(`${packages.length} packages\n`);
  return 0;
}

async function remove(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {});
  if (parsed.values.help) return io.stdout.write(OTA_HELP + '\n'), 0;
  const [id] = parsed.positionals;
  if (!id) throw new CliError('ota delete needs a package ID');
  const client = await connect(parsed, io.env);
  await client.request('DELETE', `/api/ota/packages/${encodeURIComponent(id)}`);
  io.stdout.write(`deleted package ${id}\n`);
  return 0;
}

interface StatusJson {
  firmware: { assigned: { title: string; version: string } | null; state: string | null; currentVersion: string | null; upToDate: boolean };
  software: StatusJson['firmware'];
}

/** `continuum device firmware DEVICE [--package ID]`. */
export async function runDeviceFirmware(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { package: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(DEVICE_FIRMWARE_HELP + '\n'), 0;
  const [ref, ...extra] = parsed.positionals;
  if (!ref) throw new CliError('device firmware needs a DEVICE id or name (see continuum device firmware --help)');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const client = await connect(parsed, io.env);
  const device = await resolveDevice(client, ref);
  const packageId = str(v.package);
  if (packageId !== undefined) {
    const assigned = await client.request<{ type: string; packageId: string }>('POST', `/api/devices/${encodeURIComponent(device.id)}/firmware`, { json: { packageId } });
    if (v.json) return writeJson(io, assigned), 0;
    io.stdout.write(`assigned ${assigned.type} package ${assigned.packageId} to "${device.name}"\n`);
    return 0;
  }
  const status = await client.request<StatusJson>('GET', `/api/devices/${encodeURIComponent(device.id)}/firmware`);
  if (v.json) return writeJson(io, status), 0;
  const row = (type: 'firmware' | 'software') => {
    const s = status[type];
    return [type, s.assigned ? `${s.assigned.title} ${s.assigned.version}` : '-', s.currentVersion ?? '-', s.state ?? '-', s.upToDate ? 'yes' : 'no'];
  };
  io.stdout.write(table([['TYPE', 'ASSIGNED', 'CURRENT', 'STATE', 'UP TO DATE'], row('firmware'), row('software')]));
  return 0;
}

export async function runOta(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'upload':
      return upload(rest, io);
    case 'list':
      return list(rest, io);
    case 'delete':
      return remove(rest, io);
    case 'key':
      return runOtaKey(rest, io);
    case 'deploy':
    case 'deployments':
    case 'deployment':
      if (rest.includes('--help') || rest.includes('-h')) return io.stdout.write(OTA_HELP + '\n'), 0;
      return (otaDeployCommands[command] as (argv: string[], io: Io) => Promise<number>)(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (command === undefined ? io.stderr : io.stdout).write(OTA_HELP + '\n');
      return command === undefined ? 1 : 0;
    default:
      throw new CliError(`unknown ota command "${command}" (upload, list, delete, key, deploy, deployments, deployment)`);
  }
}
