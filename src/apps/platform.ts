/**
 * Composition root of the embedded deployment: picks one implementation of each port from the
 * config, builds the services, starts the transports. Nothing else in the code base constructs
 * adapters.
 */
import { mkdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import type { Config } from './config.js';
import { flagFor } from './config.js';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { systemClock, type Bus, type Clock, type ListeningAddress, type Logger, type Store, type Transport } from '../ports.js';
import { MemoryBus } from '../adapters/bus/memory/index.js';
import { CodecRegistry } from '../adapters/codec/index.js';
import { createMemoryStore } from '../adapters/store/memory/index.js';
import { createSqliteStore } from '../adapters/store/sqlite/index.js';
import { createPrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { createMqttTransport } from '../adapters/transport/mqtt/index.js';
import { createCoapTransport } from '../adapters/transport/coap/index.js';
import { createHttpDeviceRoutes } from '../adapters/transport/http/index.js';
import { buildHttpApp } from '../api/index.js';
import { AttributeService } from '../services/attributes.js';
import { AuthService } from '../services/auth.js';
import { DeviceService } from '../services/device-service.js';
import { IngestService } from '../services/ingest.js';
import { RegistryService } from '../services/registry.js';
import { RpcService } from '../services/rpc.js';
import { SessionHub } from '../services/sessions.js';
import { StatusService } from '../services/status.js';
import { TelemetryQueryService } from '../services/telemetry-query.js';

export interface Platform {
  readonly config: Config;
  readonly addresses: ListeningAddress[];
  /** The chosen ports, as written to <data-dir>/ports.json. */
  readonly ports: { http: number; mqtt: number; coap: number } & Record<string, number>;
  /** Set on first start when no admin password was configured: print it once. */
  readonly generatedAdmin?: { email: string; password: string };
  readonly adminEmail: string;
  readonly store: Store;
  readonly bus: Bus;
  readonly registry: RegistryService;
  readonly devices: DeviceService;
  readonly attributes: AttributeService;
  readonly rpc: RpcService;
  readonly logger: Logger;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

function openStore(config: Config, logger: Logger): Store {
  if (config.store.kind === 'memory') return createMemoryStore();
  mkdirSync(config.dataDir, { recursive: true });
  return createSqliteStore({ file: join(config.dataDir, 'continuum.db'), synchronous: config.store.synchronous, logger });
}

/** A taken port becomes one line that says which flag to change. */
function explainListenError(err: unknown, what: string, configPath: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const flag = flagFor(configPath) ?? configPath;
    return new Error(`${what} port is ${code === 'EADDRINUSE' ? 'already in use' : 'not permitted'}: choose another with ${flag} (0 picks a free port)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function writePortsFile(dataDir: string, ports: Record<string, number>): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'ports.json');
  // Written atomically: a watcher sees either no file or the whole file.
  writeFileSync(`${file}.tmp`, JSON.stringify(ports) + '\n');
  renameSync(`${file}.tmp`, file);
}

export async function startPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  // A ports.json from an earlier run must not be mistaken for this run's.
  rmSync(join(resolve(config.dataDir), 'ports.json'), { force: true });
  const pinoLogger = pino({ level: config.log.level, base: { app: 'continuum' } });
  const logger: Logger = options.logger ?? pinoLogger;
  const store = openStore(config, logger);
  const bus = new MemoryBus(logger);
  const metrics = createPrometheusMetrics();
  const codecs = new CodecRegistry();

  const registry = new RegistryService({ store, clock, logger, codecNames: codecs.names });
  await registry.init();
  const auth = new AuthService({ store, clock, logger, jwtTtlSeconds: config.auth.jwtTtlSeconds });
  const admin = await auth.ensureAdmin({ email: config.auth.adminEmail, password: config.auth.adminPassword, tenantId: DEFAULT_TENANT_ID });

  const status = new StatusService({ store, bus, clock, logger, inactivityTimeoutMs: 10 * 60_000, flushIntervalMs: 5_000 });
  status.start();
  const attributes = new AttributeService({ store, bus, clock });
  const rpc = new RpcService({ bus, clock, logger, defaultTimeoutMs: config.rpc.defaultTimeoutMs, isOnline: (id) => status.isDeviceOnline(id) });
  const ingest = new IngestService({
    store,
    bus,
    clock,
    logger,
    metrics,
    limits: config.limits,
    maxBatchRows: config.ingest.maxBatchRows,
    onCommitted: (identity) => status.activity(identity.tenantId, identity.deviceId, 'mqtt'),
  });
  const sessions = new SessionHub({ bus, clock, logger, status, locateChild: (id) => registry.locateChild(id) });
  const devices = new DeviceService({ registry, ingest, attributes, rpc, sessions, codecs, bus, clock, logger, metrics, maxPayloadBytes: config.limits.maxPayloadBytes });
  const telemetry = new TelemetryQueryService({ store, registry });

  let ready = false;
  const http = await buildHttpApp(
    { registry, auth, telemetry, attributes, status, rpc, metrics, ready: () => ready },
    { logger: pinoLogger.child({ component: 'http' }), maxBodyBytes: Math.max(config.limits.maxPayloadBytes, 16 * 1024 * 1024) },
  );
  await http.register(createHttpDeviceRoutes({ config, deviceApi: devices, metrics, logger: logger.child({ transport: 'http' }) }), { prefix: '/api/v1' });

  const mqtt = createMqttTransport({ config, deviceApi: devices, metrics, logger: logger.child({ transport: 'mqtt' }) });
  const coap = createCoapTransport({ config, deviceApi: devices, metrics, logger: logger.child({ transport: 'coap' }) });
  const transports: Transport[] = [mqtt, coap];
  const wss = new WebSocketServer({ noServer: true });
  http.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/mqtt')) return;
    wss.handleUpgrade(req, socket, head, (ws) => mqtt.acceptWebSocket(ws));
  });

  const addresses: ListeningAddress[] = [];
  const started: Transport[] = [];
  const stopAll = async (): Promise<void> => {
    for (const t of started.reverse()) await t.stop().catch((err: unknown) => logger.warn({ err, transport: t.name }, 'stop failed'));
    await http.close();
    await ingest.drain();
    await status.stop();
    sessions.close();
    rpc.close();
    await bus.close();
    await store.close();
  };
  try {
    for (const t of transports) {
      addresses.push(...(await t.start()));
      started.push(t);
    }
    try {
      await http.listen({ host: config.host, port: config.http.port });
    } catch (err) {
      throw explainListenError(err, 'HTTP', 'http.port');
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  const httpAddress = http.server.address();
  const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.http.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  addresses.push(
    { name: 'http', protocol: 'tcp', host: config.host, port: httpPort, url: `http://${shownHost}:${httpPort}` },
    { name: 'mqtt-ws', protocol: 'tcp', host: config.host, port: httpPort, url: `ws://${shownHost}:${httpPort}/mqtt` },
  );
  const ports = portsOf(addresses);
  writePortsFile(resolve(config.dataDir), ports);
  ready = true;

  return {
    config,
    addresses,
    ports,
    generatedAdmin: admin.generatedPassword ? { email: admin.email, password: admin.generatedPassword } : undefined,
    adminEmail: admin.email,
    store,
    bus,
    registry,
    devices,
    attributes,
    rpc,
    logger,
    stop: async () => {
      ready = false;
      await stopAll();
    },
  };
}

function portsOf(addresses: readonly ListeningAddress[]): Platform['ports'] {
  const ports: Record<string, number> = {};
  for (const a of addresses) if (!(a.name in ports)) ports[a.name] = a.port;
  return { http: ports.http ?? 0, mqtt: ports.mqtt ?? 0, coap: ports.coap ?? 0, ...ports };
}
