/**
 * `continuum start`: reads the config from file, environment and flags, starts the platform,
 * prints where everything listens, and shuts down cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { ConfigError, FLAG_PATHS, loadConfig } from './config.js';
import { startPlatform, type Platform } from './platform.js';

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
  --store KIND          sqlite (default) | memory
  --log-level LEVEL     trace | debug | info | warn | error
First start creates the admin from CONTINUUM_ADMIN_EMAIL / CONTINUUM_ADMIN_PASSWORD, or
generates a password and prints it once.`;

function parseFlags(argv: string[]): { flags: Record<string, string | undefined>; configFile?: string; help: boolean } {
  const options = Object.fromEntries(Object.keys(FLAG_PATHS).map((name) => [name, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: argv,
    options: { ...options, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  const flags: Record<string, string | undefined> = {};
  for (const name of Object.keys(FLAG_PATHS)) {
    const value = (values as Record<string, string | boolean | undefined>)[name];
    if (typeof value === 'string') flags[name] = value;
  }
  return { flags, configFile: typeof values.config === 'string' ? values.config : undefined, help: values.help === true };
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
  process.stdout.write(lines.join('\n') + '\n');
}

export async function runServerFromCli(argv: string[]): Promise<void> {
  let platform: Platform;
  try {
    const { flags, configFile, help } = parseFlags(argv);
    if (help) {
      process.stdout.write(HELP + '\n');
      return;
    }
    const config = loadConfig({ file: configFile, env: process.env, flags });
    platform = await startPlatform(config);
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof TypeError ? err.message : (err as Error).message;
    process.stderr.write(`continuum: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  printBanner(platform);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    platform.logger.info({ signal }, 'shutting down');
    platform.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        platform.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
