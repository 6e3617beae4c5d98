/**
 * `continuum start`: reads the config from file, environment and flags, starts the platform,
 * prints where everything listens, and shuts down cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { ConfigError, FLAG_PATHS, loadConfig } from './config.js';
import { requirePack, startDemo, type Demo } from '../scenarios/run.js';
import { startPlatform, type Platform } from './platform.js';
import { requireTwin, startM2mTwin, type M2mTwin } from './m2m/run.js';
import type { TwinPack } from './m2m/field.js';

const HELP = `Usage: continuum start [options]

Starts the platform: embedded MQTT broker, CoAP, HTTP API and device API, SQLite store.

Options (each also settable as CONTINUUM_<NAME> in the environment or in a config file):
  --config FILE         JSON or YAML config file
  --data-dir DIR        where the database and ports.json live (default ./data)
  --host ADDR           address every listener binds (default 0.0.0.0)
  --http-port N         HTTP API, device API and MQTT over WebSocket (default 8080; 0 = free port)
  --mqtt-port N         MQTT (default 1883)
  --coap-port N         CoAP over UDP (default 5683)
  --tls-cert FILE       with --tls-key: also MQTT over TLS (--mqtts-port, default 8883)
  --tls-key FILE
  --mqtt-profile NAME   default | conformance (conformance suites only: anonymous clients)
  --store KIND          sqlite (default) | memory | postgres
  --postgres URL        PostgreSQL for --store postgres (postgres://USER@HOST:5432/DB)
  --bus KIND            memory (default) | nats (NATS JetStream: bus.nats.* in the config, docs/OPERATIONS.md)
  --nats URL            NATS server(s) for --bus nats (default nats://127.0.0.1:4222)
  --node-id ID          this node's id (default: the file node-id in the data dir, made on first start)

Cluster mode (docs/OPERATIONS.md, "Cluster"): several nodes share PostgreSQL and NATS JetStream.
  --cluster             store postgres + bus nats; --postgres and --nats are then required
                        (env CONTINUUM_CLUSTER=1, CONTINUUM_POSTGRES_URL, CONTINUUM_NATS_URL)
  --cluster-name NAME   namespaces the NATS streams, subjects and buckets (default continuum;
                        env CONTINUUM_CLUSTER_NAME); every node of one cluster uses the same
  e.g. continuum start --cluster --node-id n1 --postgres postgres://continuum@db:5432/continuum \
         --nats nats://nats1:4222,nats://nats2:4222 --data-dir /var/lib/continuum
  --log-level LEVEL     trace | debug | info | warn | error
  --map-tile-url URL    map tiles for the dashboard (https://…/{z}/{x}/{y}.png; default none, offline)
  --demo NAME           install scenario pack NAME (smart-farm, factory, fleet, patient-monitoring,
                        vending, smart-meters, smart-home) and run its simulated devices here
  --demo-devices N      devices per group of the demo pack (default: the pack's own counts)
  --m2m                 with --demo: also run the pack's M2M twin (simulated field devices on
                        Modbus RTU/TCP, SMS, serial frames or BACnet/IP behind an edge gateway in this
                        process; docs/SCENARIOS.md)
First start creates the admin from CONTINUUM_ADMIN_EMAIL / CONTINUUM_ADMIN_PASSWORD, or
generates a password and prints it once.`;

interface StartFlags {
  flags: Record<string, string | undefined>;
  configFile?: string;
  help: boolean;
  demo?: string;
  demoDevices?: number;
  m2m: boolean;
}

function parseFlags(argv: string[]): StartFlags {
  const options = Object.fromEntries(Object.entries(FLAG_PATHS).map(([name, spec]) => [name, { type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  const { values } = parseArgs({
    args: argv,
    options: { ...options, config: { type: 'string' }, demo: { type: 'string' }, 'demo-devices': { type: 'string' }, m2m: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  const flags: Record<string, string | undefined> = {};
  for (const name of Object.keys(FLAG_PATHS)) {
    const value = (values as Record<string, string | boolean | undefined>)[name];
    if (typeof value === 'string') flags[name] = value;
    else if (value === true) flags[name] = 'true';
  }
  const demoDevices = values['demo-devices'];
  if (demoDevices !== undefined && !/^[1-9]\d{0,5}$/.test(demoDevices)) throw new TypeError(`--demo-devices must be a positive integer, got "${demoDevices}"`);
  return {
    flags,
    configFile: typeof values.config === 'string' ? values.config : undefined,
    help: values.help === true,
    m2m: values.m2m === true,
    ...(typeof values.demo === 'string' ? { demo: values.demo } : {}),
    ...(demoDevices !== undefined ? { demoDevices: Number(demoDevices) } : {}),
  };
}

function printBanner(platform: Platform): void {
  const lines = ['', 'Continuum is running:'];
  for (const a of platform.addresses) lines.push(`  ${a.name.padEnd(8)} ${a.url}`);
  const http = platform.addresses.find((a) => a.name === 'http');
  if (http) {
    lines.push(`  api docs ${http.url}/api/docs`, `  metrics  ${http.url}/metrics`);
  }
  lines.push(`  data     ${platform.config.dataDir} (chosen ports in ports.json)`);
  if (platform.generatedAdmin) {
    lines.push('', 'First start: an admin was created. This password is shown only once:');
    lines.push(`  email    ${platform.generatedAdmin.email}`, `  password ${platform.generatedAdmin.password}`);
  } else {
    lines.push(`  admin    ${platform.adminEmail}`);
  }
  lines.push('');
  // stderr, like the logs' human side: stdout may be a log file or a pipe, and the one-time
  // password must not land in a log shipper.
  process.stderr.write(lines.join('\n') + '\n');
}

/** Starts the demo pack beside the platform; a failure is reported and the platform keeps running. */
async function startDemoPack(platform: Platform, name: string, devicesPerGroup: number | undefined): Promise<Demo | undefined> {
  const host = ['0.0.0.0', '::', ''].includes(platform.config.host) ? '127.0.0.1' : platform.config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${platform.ports.http}`;
  try {
    const demo = await startDemo({
      pack: name,
      baseUrl: url,
      apiKey: await platform.createAdminApiKey(`demo ${name}`),
      host,
      ports: platform.ports,
      ...(devicesPerGroup !== undefined ? { devicesPerGroup } : {}),
      log: platform.logger.child({ demo: name }),
    });
    process.stdout.write(
      `Demo "${demo.pack.title}": ${demo.install.devices.length} simulated devices, ${demo.install.rules.length} rules` +
        `${demo.install.dashboardId ? `, dashboard ${url}/#/dashboards/${demo.install.dashboardId}` : ''}\n`,
    );
    return demo;
  } catch (err) {
    process.stderr.write(`continuum: demo ${name} did not start: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Starts the pack's M2M twin beside the platform; a failure is reported and the platform keeps running. */
async function startTwin(platform: Platform, name: string): Promise<M2mTwin | undefined> {
  const host = ['0.0.0.0', '::', ''].includes(platform.config.host) ? '127.0.0.1' : platform.config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${platform.ports.http}`;
  try {
    const twin = await startM2mTwin({
      pack: name as TwinPack,
      baseUrl: url,
      apiKey: await platform.createAdminApiKey(`m2m twin ${name}`),
      mqtt: { host, port: platform.ports.mqtt },
      dataDir: platform.config.dataDir,
      log: platform.logger.child({ twin: name }),
    });
    process.stdout.write(`M2M twin of "${twin.pack.title}": ${twin.pack.twin.summary}; edge gateway ${twin.install.gateway.name} on ${twin.pack.twin.edgeConfig}\n`);
    return twin;
  } catch (err) {
    process.stderr.write(`continuum: M2M twin of ${name} did not start: ${(err as Error).message}\n`);
    return undefined;
  }
}

const PARENT_CHECK_MS = 1_000;

export async function runServerFromCli(argv: string[]): Promise<void> {
  let platform: Platform;
  let start: StartFlags;
  try {
    start = parseFlags(argv);
    if (start.help) {
      process.stdout.write(HELP + '\n');
      return;
    }
    if (start.demo !== undefined) requirePack(start.demo);
    if (start.m2m && start.demo === undefined) throw new TypeError('--m2m needs --demo NAME');
    if (start.m2m && start.demo !== undefined) requireTwin(start.demo);
    const config = loadConfig({ file: start.configFile, env: process.env, flags: start.flags });
    platform = await startPlatform(config);
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof TypeError ? err.message : (err as Error).message;
    process.stderr.write(`continuum: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  printBanner(platform);
  const demo = start.demo !== undefined ? await startDemoPack(platform, start.demo, start.demoDevices) : undefined;
  const twin = start.m2m && start.demo !== undefined ? await startTwin(platform, start.demo) : undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    platform.logger.info({ signal }, 'shutting down');
    (twin ? twin.stop().catch(() => undefined) : Promise.resolve())
      .then(() => (demo ? demo.stop().catch(() => undefined) : undefined))
      .then(() => platform.stop())
      .then(
      () => {
        platform.logger.info({ signal }, 'shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        platform.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  watchParent(() => shutdown('parent exited'));
}

/**
 * Started through a wrapper (`npm start` runs `sh -c`), a signal sent to the wrapper may never
 * reach this process, which would then run on as an orphan holding the ports and the data dir.
 * When the parent goes (our parent pid changes), shut down as if signalled. Under systemd or as a
 * container's first process the parent never changes and this never fires.
 */
function watchParent(onGone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}
