/**
 * `continuum edge scan modbus|bacnet|opcua`: asks the field what answers and prints it as a config
 * snippet (YAML on stdout, progress on stderr), so a gateway is set up by pasting, not typing
 * register maps from a datasheet.
 */
import { parseArgs } from 'node:util';
import { bacnetSnippet, scanBacnet } from './bacnet.js';
import { modbusSnippet, scanModbus, TABLES, type TableName } from './modbus.js';
import { opcuaSnippet, scanOpcua } from './opcua.js';
import { OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES } from '../connectors/opcua/schema.js';

export const SCAN_HELP = `Usage: continuum edge scan modbus --host H [--port 502] --unit U [--range 0-200] [--tables hr,ir,coil,di] [--timeout MS]
       continuum edge scan bacnet [--target IP[:PORT]] [--port 47808] [--interface IP] [--broadcast IP[:PORT]] [--wait MS] [--low N --high N]
       continuum edge scan opcua --url opc.tcp://HOST:PORT/PATH [--depth 3] [--max-nodes 500] [--all] [--user U] (password: OPCUA_PASSWORD)
                                 [--security-mode None|Sign|SignAndEncrypt] [--security-policy P] [--pki-dir DIR] [--accept-unknown-certificate] [--timeout MS]

Prints what answers as a connector section to paste into an edge config (docs/EDGE.md).

modbus:  --unit 1, 1,2,5 or 1-10 (unit ids tried in turn); --range FROM-TO (PDU addresses,
         default 0-200); --tables which tables (default hr,ir,coil,di); --timeout per request (1000)
bacnet:  who-is is broadcast unless --target names a device (or a BBMD-less subnet's host);
         --port is our local UDP port (0 = any); --wait how long to collect I-Am answers (3000)
opcua:   browses from the Objects folder down --depth levels (1-10, default 3); namespace 0 nodes
         (the Server object) only with --all; the password comes from OPCUA_PASSWORD, never argv`;

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class UsageError extends Error {}

/** "1", "1,2,5", "1-10" → numbers, each within [min, max]. */
export function parseList(text: string, min: number, max: number, what: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`${what}: "${part}" is not a number or a range`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b || a < min || b > max) throw new UsageError(`${what}: ${part} is outside ${min}-${max}`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function intOption(value: string | undefined, fallback: number, what: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what}: expected an integer ${min}-${max}`);
  return n;
}

async function modbus(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' }, unit: { type: 'string' }, range: { type: 'string' }, tables: { type: 'string' }, timeout: { type: 'string' } },
  });
  if (!values.host) throw new UsageError('--host is required');
  if (!values.unit) throw new UsageError('--unit is required');
  const range = /^(\d+)-(\d+)$/.exec(values.range ?? '0-200');
  if (!range || Number(range[1]) > Number(range[2]) || Number(range[2]) > 65535) throw new UsageError('--range: expected FROM-TO within 0-65535');
  const tables = (values.tables ?? 'hr,ir,coil,di').split(',').map((t) => t.trim());
  for (const t of tables) if (!Object.hasOwn(TABLES, t)) throw new UsageError(`--tables: "${t}" is not one of ${Object.keys(TABLES).join(', ')}`);
  const options = {
    host: values.host,
    port: intOption(values.port, 502, '--port', 1, 65535),
    units: parseList(values.unit, 0, 255, '--unit'),
    from: Number(range[1]),
    to: Number(range[2]),
    tables: tables as TableName[],
    timeoutMs: intOption(values.timeout, 1000, '--timeout', 10, 60_000),
  };
  const results = await scanModbus(options, (line) => io.stderr.write(`${line}\n`));
  io.stdout.write(modbusSnippet(options, results));
  return results.some((r) => r.values.length > 0) ? 0 : 1;
}

async function bacnet(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: 'string' }, port: { type: 'string' }, interface: { type: 'string' }, broadcast: { type: 'string' }, wait: { type: 'string' }, low: { type: 'string' }, high: { type: 'string' }, timeout: { type: 'string' } },
  });
  if ((values.low === undefined) !== (values.high === undefined)) throw new UsageError('--low and --high go together');
  const options = {
    port: intOption(values.port, 47808, '--port', 0, 65535),
    interface: values.interface ?? '0.0.0.0',
    broadcastAddress: values.broadcast ?? '255.255.255.255',
    ...(values.target !== undefined ? { target: values.target } : {}),
    waitMs: intOption(values.wait, 3000, '--wait', 10, 600_000),
    ...(values.low !== undefined ? { lowLimit: intOption(values.low, 0, '--low', 0, 4_194_303), highLimit: intOption(values.high, 4_194_303, '--high', 0, 4_194_303) } : {}),
    apduTimeoutMs: intOption(values.timeout, 3000, '--timeout', 100, 60_000),
  };
  const devices = await scanBacnet(options, (line) => io.stderr.write(`${line}\n`));
  io.stdout.write(bacnetSnippet(options, devices));
  return devices.some((d) => d.objects.length > 0) ? 0 : 1;
}

async function opcua(argv: string[], io: Io, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      depth: { type: 'string' },
      'max-nodes': { type: 'string' },
      all: { type: 'boolean' },
      user: { type: 'string' },
      'security-mode': { type: 'string' },
      'security-policy': { type: 'string' },
      'pki-dir': { type: 'string' },
      'accept-unknown-certificate': { type: 'boolean' },
      timeout: { type: 'string' },
    },
  });
  if (!values.url || !/^opc\.tcp:\/\/[^\s/]+/.test(values.url)) throw new UsageError('--url opc.tcp://host:port/path is required');
  const mode = values['security-mode'] ?? 'None';
  if (!(OPCUA_SECURITY_MODES as readonly string[]).includes(mode)) throw new UsageError(`--security-mode: one of ${OPCUA_SECURITY_MODES.join(', ')}`);
  const policy = values['security-policy'];
  if (policy !== undefined && !(OPCUA_SECURITY_POLICIES as readonly string[]).includes(policy)) throw new UsageError(`--security-policy: one of ${OPCUA_SECURITY_POLICIES.join(', ')}`);
  const options = {
    url: values.url,
    depth: intOption(values.depth, 3, '--depth', 1, 10),
    maxNodes: intOption(values['max-nodes'], 500, '--max-nodes', 1, 100_000),
    all: values.all ?? false,
    securityMode: mode as (typeof OPCUA_SECURITY_MODES)[number],
    ...(policy !== undefined ? { securityPolicy: policy as (typeof OPCUA_SECURITY_POLICIES)[number] } : {}),
    ...(values.user !== undefined ? { username: values.user, password: env.OPCUA_PASSWORD ?? '' } : {}),
    ...(values['pki-dir'] !== undefined ? { pkiDir: values['pki-dir'] } : {}),
    acceptUnknownCertificate: values['accept-unknown-certificate'] ?? false,
    timeoutMs: intOption(values.timeout, 5000, '--timeout', 100, 600_000),
  };
  const nodes = await scanOpcua(options, (line) => io.stderr.write(`${line}\n`));
  io.stdout.write(opcuaSnippet(options, nodes));
  return nodes.length > 0 ? 0 : 1;
}

/** `continuum edge scan …`; returns the exit code (0 something answered, 1 nothing, 2 usage). */
export async function runScanFromCli(argv: string[], io: Io, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') {
    io.stdout.write(SCAN_HELP + '\n');
    return kind === undefined ? 2 : 0;
  }
  try {
    if (kind === 'modbus') return await modbus(rest, io);
    if (kind === 'bacnet') return await bacnet(rest, io);
    if (kind === 'opcua') return await opcua(rest, io, env);
    throw new UsageError(`unknown scan "${kind}" (modbus, bacnet, opcua)`);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.stderr.write(`continuum edge scan: ${(err as Error).message}\n${usage ? SCAN_HELP + '\n' : ''}`);
    return usage ? 2 : 1;
  }
}
