/**
 * `continuum simulate`: plays a scenario pack's devices against a running platform over MQTT,
 * CoAP or HTTP, with a live progress line; `continuum simulate plc` runs a Modbus TCP PLC
 * simulator for the edge gateway.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDuration } from '../../domain/duration.js';
import type { LinkLog } from '../../simulator/clients/types.js';
import { startSimulation, type Protocol, type SimDevice, type SimStats } from '../../simulator/engine.js';
import { loadPlcMap, PlcMapError } from '../../simulator/plc/map.js';
import { startPlc } from '../../simulator/plc/server.js';
import { provisionDevices } from '../../simulator/provision.js';
import type { InstalledDevice } from '../../scenarios/install.js';
import { simDevicesOf } from '../../scenarios/run.js';
import type { ScenarioPack } from '../../scenarios/types.js';
import type { ApiClient } from '../../protocols/management-api/client.js';
import { CONNECTION_HELP, CliError, connect, intFlag, parseCommand, str, writeJson, type Io } from './common.js';
import { activityOf, endpointFrom, platformPorts, verifyFirstMessage } from './simulate-platform.js';

export const SIMULATE_HELP = `Usage: continuum simulate --scenario NAME [options]
       continuum simulate plc --port P --map FILE [--unit 1]
       continuum simulate smsc [--port P] [--handsets FILE] …   (continuum simulate smsc --help)

Plays the devices of a scenario pack against a running platform: each device has its own
access token, sends its model's readings over its protocol, answers commands and applies
shared attributes. The pack is installed first (profiles, devices, rules, dashboard; nothing
is created twice).

Options:
  --scenario NAME       a pack (smart-farm, factory, …) or a module file exporting one
  --devices N           devices per device group (default: the pack's counts)
  --rate R              messages per second per device, whatever the speed (default: each group's interval, wall clock)
  --protocol P          mqtt | coap | http for every device (default: each group's)
  --speed X             simulated clock speed (default: the pack's demo speed, else 1)
  --duration D          stop after D (30s, 5m, 1h) and print a summary; default: until Ctrl-C
  --mqtt-url URL        mqtt://host:port (default: the --url host and the platform's own MQTT
                        port, read from GET /api/endpoints or DIR/ports.json)
  --coap-url URL        coap://host:port (default: likewise, the platform's CoAP port)
  --data-dir DIR        the platform's data dir, for ports.json when the API does not say (default ./data)
  --no-verify           do not check that the first acknowledged message reached the platform
  --no-install          only create the devices, not the pack's rules and dashboard
  --connect-concurrency N  MQTT handshakes in progress at once (default 100)
  --progress-every S    seconds between progress lines when stderr is not a terminal (default 5)
  --ota                 MQTT devices also play the OTA device side: report current_fw_version, take
                        fw_* attributes, download chunks, verify SHA-256, reboot into the new version
  --ota-fail-rate P     with --ota: probability (0–1) an update attempt fails on purpose (bad
                        checksum, reboot into the old version, or a timeout); default 0
  --ota-version V       with --ota: the version the devices start on (default 1.0.0; title sim-fw,
                        or --ota-title)

${CONNECTION_HELP}`;

export const PLC_HELP = `Usage: continuum simulate plc --port P --map FILE [--unit 1] [--host 127.0.0.1] [--speed X]

A Modbus TCP server whose registers and coils follow the signals of a YAML map
(examples/simulator/plc-map.yaml). Writes are logged and kept. --port 0 picks a free port.`;

const PROGRESS_TTY_MS = 1000;
const PROGRESS_LINE_MS = 5000;
const LOG_BUDGET_PER_WINDOW = 20;

/** Warnings on stderr, at most LOG_BUDGET_PER_WINDOW per 5 s: 10,000 devices losing the server at once must not flood the terminal. */
function stderrLog(io: Io): LinkLog & { flush(): void } {
  let used = 0;
  let suppressed = 0;
  const emit = (level: string, obj: object, msg: string): void => {
    if (used >= LOG_BUDGET_PER_WINDOW) return void suppressed++;
    used++;
    io.stderr.write(`${io.stderr.isTTY ? '\r\x1b[K' : ''}${level}: ${msg} ${JSON.stringify(obj)}\n`);
  };
  return {
    info: (obj, msg) => emit('info', obj, msg),
    warn: (obj, msg) => emit('warn', obj, msg),
    flush() {
      if (suppressed > 0) io.stderr.write(`warn: ${suppressed} more warnings in the last 5 s not shown\n`);
      used = 0;
      suppressed = 0;
    },
  };
}

export function progressLine(s: SimStats): string {
  const skipped = s.skipped > 0 ? ` · skipped ${s.skipped}` : '';
  const ota = s.ota ? ` · ota: ${s.ota.started} started, ${s.ota.updated} updated, ${s.ota.failedOnPurpose} failed on purpose` : '';
  return `devices ${s.connected}/${s.devices} connected · ${s.msgPerS} msg/s · acked ${s.acked} · errors ${s.errors} · commands ${s.commands}${skipped}${ota}`;
}

function isPack(v: unknown): v is ScenarioPack {
  const p = v as Partial<ScenarioPack> | null;
  return typeof p === 'object' && p !== null && typeof p.name === 'string' && Array.isArray(p.devices) && typeof p.models === 'object';
}

/** A pack by name, or from a module file (`./my-pack.ts`) that exports one. */
async function resolvePack(name: string): Promise<ScenarioPack> {
  if (/[/\\]|\.(ts|js|mjs)$/.test(name)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolve(name)).href)) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`cannot load scenario module ${name}: ${(err as Error).message}`);
    }
    const pack = [mod.default, mod.pack, ...Object.values(mod)].find(isPack);
    if (!pack) throw new CliError(`${name} exports no scenario pack`);
    return pack;
  }
  const { PACKS, getPack } = await import('../../scenarios/index.js');
  const pack = getPack(name);
  if (!pack) throw new CliError(`unknown scenario "${name}"; packs: ${PACKS.map((p) => p.name).join(', ')}`);
  return pack;
}

function numberFlag(value: string | boolean | undefined, name: string): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} must be a positive number, got "${text}"`);
  return n;
}

/** Installs the pack (or only its devices) and returns the devices to play, with their tokens. */
async function prepareDevices(client: ApiClient, pack: ScenarioPack, perGroup: number | undefined, install: boolean, io: Io): Promise<InstalledDevice[]> {
  if (install) {
    const { installPack } = await import('../../scenarios/install.js');
    const result = await installPack(client, pack, { ...(perGroup !== undefined ? { devicesPerGroup: perGroup } : {}), log: (line) => io.stderr.write(line + '\n') });
    return [...result.devices];
  }
  const groups = pack.devices.map((g) => ({ prefix: g.prefix, count: perGroup ?? g.count, profile: g.profile, ...(g.label ? { label: g.label } : {}) }));
  const result = await provisionDevices(client, groups);
  io.stderr.write(`devices: ${result.created} created, ${result.existing} existing\n`);
  return result.devices.map((d) => {
    const group = pack.devices.find((g) => g.prefix === d.prefix);
    if (!group) throw new CliError(`device ${d.name} belongs to no group of ${pack.name}`);
    return { name: d.name, id: d.id, token: d.token, group, index: d.index };
  });
}

/** Resolves on SIGINT/SIGTERM, after `durationMs`, or when `stop` is called (a failed check). */
function stopSignal(durationMs: number | undefined): { readonly done: Promise<string>; stop(why: string): void } {
  let stop: (why: string) => void = () => undefined;
  const done = new Promise<string>((resolveDone) => {
    const timer = durationMs !== undefined ? setTimeout(() => finish('duration'), durationMs) : undefined;
    const onSignal = (sig: NodeJS.Signals): void => finish(sig);
    function finish(why: string): void {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveDone(why);
    }
    stop = finish;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { done, stop: (why) => stop(why) };
}

/** Resolves on SIGINT/SIGTERM or after `durationMs`. */
function untilStopped(durationMs: number | undefined): Promise<string> {
  return stopSignal(durationMs).done;
}

async function runScenario(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, {
    scenario: { type: 'string' },
    devices: { type: 'string' },
    rate: { type: 'string' },
    protocol: { type: 'string' },
    speed: { type: 'string' },
    duration: { type: 'string' },
    'mqtt-url': { type: 'string' },
    'coap-url': { type: 'string' },
    'no-install': { type: 'boolean' },
    'no-verify': { type: 'boolean' },
    'data-dir': { type: 'string' },
    'connect-concurrency': { type: 'string' },
    'progress-every': { type: 'string' },
    ota: { type: 'boolean' },
    'ota-fail-rate': { type: 'string' },
    'ota-version': { type: 'string' },
    'ota-title': { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(SIMULATE_HELP + '\n'), 0;
  const failRate = v['ota-fail-rate'] === undefined ? 0 : Number(str(v['ota-fail-rate']));
  if (!(failRate >= 0 && failRate <= 1)) throw new CliError(`--ota-fail-rate must be between 0 and 1, got "${str(v['ota-fail-rate']) ?? ''}"`);
  const ota = v.ota === true ? { title: str(v['ota-title']) ?? 'sim-fw', version: str(v['ota-version']) ?? '1.0.0', failRate } : undefined;
  if (parsed.positionals.length > 0) throw new CliError(`unexpected argument "${parsed.positionals[0]}" (see continuum simulate --help)`);
  const scenario = str(v.scenario);
  if (!scenario) throw new CliError('simulate needs --scenario NAME (see continuum simulate --help)');
  const protocol = str(v.protocol);
  if (protocol !== undefined && !['mqtt', 'coap', 'http'].includes(protocol)) throw new CliError(`--protocol must be mqtt, coap or http, got "${protocol}"`);
  const perGroup = intFlag(v.devices, 'devices');
  if (perGroup !== undefined && perGroup < 1) throw new CliError('--devices must be at least 1');
  const rate = numberFlag(v.rate, 'rate');
  const durationText = str(v.duration);
  const durationMs = durationText === undefined ? undefined : parseDuration(durationText);
  if (durationText !== undefined && (durationMs === undefined || durationMs <= 0)) throw new CliError(`--duration must be like 30s, 5m or 1h, got "${durationText}"`);
  const concurrency = intFlag(v['connect-concurrency'], 'connect-concurrency');
  const progressMs = (numberFlag(v['progress-every'], 'progress-every') ?? PROGRESS_LINE_MS / 1000) * 1000;

  const pack = await resolvePack(scenario);
  const speed = numberFlag(v.speed, 'speed') ?? pack.demoSpeed ?? 1;
  const client = await connect(parsed, io.env);
  const prepared = await prepareDevices(client, pack, perGroup, !v['no-install'], io);
  let devices: SimDevice[];
  try {
    devices = simDevicesOf(pack, prepared, { speed, ...(protocol ? { protocol: protocol as Protocol } : {}) });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const host = new URL(client.baseUrl).hostname;
  const used = new Set(devices.map((d) => d.protocol));
  const mqttUrl = str(v['mqtt-url']);
  const coapUrl = str(v['coap-url']);
  // Never an assumed 1883/5683: on this host that may be another broker (Mosquitto) that
  // acknowledges every message and hands none to the platform.
  const needsPorts = (used.has('mqtt') && mqttUrl === undefined) || (used.has('coap') && coapUrl === undefined);
  const known = needsPorts ? await platformPorts(client, str(v['data-dir']) ?? io.env.CONTINUUM_DATA_DIR ?? './data') : undefined;
  const mqtt = endpointFrom(mqttUrl, host, known?.ports.mqtt, 'mqtt');
  const coap = endpointFrom(coapUrl, host, known?.ports.coap, 'coap');
  if (used.has('mqtt') && !mqtt) throw new CliError(`the platform reports no MQTT listener (${known?.from ?? ''}); pass --mqtt-url`);
  if (used.has('coap') && !coap) throw new CliError(`the platform reports no CoAP listener (${known?.from ?? ''}); pass --coap-url`);
  const target = [...used].map((p) => (p === 'mqtt' ? `mqtt://${mqtt?.host ?? ''}:${mqtt?.port ?? ''}` : p === 'coap' ? `coap://${coap?.host ?? ''}:${coap?.port ?? ''}` : client.baseUrl)).join(', ');
  const verify = v['no-verify'] !== true;
  const before = verify ? await activityOf(client, new Set(prepared.map((d) => d.id))) : new Map<string, number | null>();
  const log = stderrLog(io);
  const started = performance.now();
  const sim = startSimulation({
    devices,
    endpoints: { ...(mqtt ? { mqtt } : {}), ...(coap ? { coap } : {}), http: client.baseUrl },
    ...(rate !== undefined ? { rate } : {}),
    speed,
    log,
    ...(concurrency !== undefined ? { connectConcurrency: concurrency } : {}),
    ...(ota ? { ota } : {}),
  });
  io.stderr.write(`simulating ${devices.length} ${pack.name} devices at speed ${speed} to ${target}${durationMs ? ` for ${durationText}` : ' (Ctrl-C stops)'}\n`);
  const tty = io.stderr.isTTY === true;
  const ticker = setInterval(() => {
    const line = progressLine(sim.stats());
    io.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }, tty ? PROGRESS_TTY_MS : progressMs);
  const logWindow = setInterval(() => log.flush(), PROGRESS_LINE_MS);
  const stopping = stopSignal(durationMs);
  let stoppedBy: string | undefined;
  void stopping.done.then((reason) => (stoppedBy = reason));
  if (verify) {
    try {
      const landed = await verifyFirstMessage({
        client,
        firstAcked: () => sim.firstAcked(),
        errors: () => sim.stats().errors,
        idOf: new Map(prepared.map((d) => [d.name, d.id])),
        before,
        target,
        // Each device's first reading comes at a random phase within its interval.
        ackTimeoutMs: 30_000 + Math.min(...devices.map((d) => (rate !== undefined ? 1000 / rate : ((d.intervalS ?? 1) * 1000) / speed))),
        landTimeoutMs: 10_000,
        stopped: () => stoppedBy !== undefined,
      });
      if (landed !== undefined) io.stderr.write(`${tty ? '\r\x1b[K' : ''}verified: the first message (from ${landed}) reached the platform\n`);
    } catch (err) {
      stopping.stop('verification failed');
      clearInterval(ticker);
      clearInterval(logWindow);
      if (tty) io.stderr.write('\n');
      await sim.stop();
      throw err;
    }
  }
  const why = await stopping.done;
  clearInterval(ticker);
  clearInterval(logWindow);
  if (tty) io.stderr.write('\n');
  const final = sim.stats();
  await sim.stop();
  const seconds = (performance.now() - started) / 1000;
  const summary = { scenario: pack.name, seconds: Math.round(seconds * 10) / 10, stoppedBy: why, ...final, meanMsgPerS: Math.round(final.acked / seconds) };
  if (v.json) writeJson(io, summary);
  else
    io.stdout.write(
      `simulated ${summary.devices} devices for ${summary.seconds} s: sent ${final.sent}, acked ${final.acked} (${summary.meanMsgPerS} msg/s), errors ${final.errors}, commands ${final.commands}, skipped ${final.skipped}\n`,
    );
  return 0;
}

async function runPlc(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { port: { type: 'string' }, map: { type: 'string' }, unit: { type: 'string' }, host: { type: 'string' }, speed: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(PLC_HELP + '\n'), 0;
  const port = intFlag(v.port, 'port');
  const mapFile = str(v.map);
  if (port === undefined || mapFile === undefined) throw new CliError('simulate plc needs --port P and --map FILE (see continuum simulate plc --help)');
  if (port < 0 || port > 65535) throw new CliError(`--port must be 0…65535, got ${port}`);
  const unit = intFlag(v.unit, 'unit');
  let map;
  try {
    map = loadPlcMap(mapFile);
  } catch (err) {
    if (err instanceof PlcMapError) throw new CliError(err.message);
    throw err;
  }
  const log: LinkLog = {
    info: (obj, msg) => void io.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
    warn: (obj, msg) => void io.stderr.write(`warn: ${msg} ${JSON.stringify(obj)}\n`),
  };
  const speed = numberFlag(v.speed, 'speed');
  const plc = await startPlc({ map, port, host: str(v.host) ?? '127.0.0.1', log, ...(unit !== undefined ? { unit } : {}), ...(speed !== undefined ? { speed } : {}) });
  const info = { port: plc.port, unit: unit ?? map.unit ?? 1 };
  if (v.json) writeJson(io, info);
  else io.stdout.write(`Modbus TCP PLC simulator on ${str(v.host) ?? '127.0.0.1'}:${plc.port}, unit ${info.unit} (Ctrl-C stops)\n`);
  await untilStopped(undefined);
  await plc.stop();
  return 0;
}

export async function runSimulate(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'plc') return runPlc(argv.slice(1), io);
  if (argv[0] === 'smsc') {
    const { runSmscSimulator } = await import('../../simulator/sms/cli.js');
    return runSmscSimulator(argv.slice(1), io);
  }
  return runScenario(argv, io);
}
