/**
 * Composition root of `continuum edge`: connectors → sink → (buffer → uplink) and local rules;
 * platform commands come back through the uplink to the connector that owns the device. The
 * edge is its own process and talks to the platform only over MQTT (the gateway API).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { JsonValue } from '../domain/telemetry.js';
import { ReadingBuffer, type BufferStats } from './buffer/sqlite-buffer.js';
import { EdgeConfigError, edgeEnvironment, loadEdgeConfig, type EdgeConfig, type LocalRuleConfig } from './config.js';
import { BacnetConnector } from './connectors/bacnet/index.js';
import { ModbusRtuConnector, ModbusTcpConnector } from './connectors/modbus/index.js';
import { SmsConnector } from './connectors/sms/index.js';
import { FramesConnector } from './connectors/frames/index.js';
import { SparkplugConnector } from './connectors/sparkplug/index.js';
import { OpcuaConnector } from './connectors/opcua/index.js';
import type { Connector, ConnectorStatus, EdgeLogger, Reading, ReadingSink } from './ports.js';
import { LocalRules } from './rules/local-rules.js';
import { RuleStateStore } from './rules/state-store.js';
import { ConnectorSet } from './config-push/connector-set.js';
import { ConfigPush, PUSH_KEYS, type ApplyReport } from './config-push/remote-config.js';
import { GatewayUplink, type UplinkStatus } from './uplink/mqtt-uplink.js';
import { EdgeAlarmStore } from './alarms/alarm-store.js';
import { AlarmSync } from './alarms/alarm-sync.js';
import { AttributeCache } from './attributes/attribute-cache.js';
import { ImageStore, type UpdateJob } from './ota/image-store.js';
import { FirmwareRelay } from './ota/relay.js';
import { SelfUpdate } from './ota/self-update.js';
import { FW_KEYS } from './ota/fetching.js';

export const EDGE_HELP = `Usage: continuum edge --config FILE [--data-dir DIR] [--offline] [--log-level LEVEL]
       continuum edge scan modbus|bacnet|opcua …   (prints what answers as a config snippet; scan --help)

Runs the edge gateway: polls field devices (Modbus, BACnet, …), keeps every reading in a local
buffer (DIR/edge-buffer.db) until the platform acknowledged it, runs local rules, and
executes platform commands. Rules and connectors set as the gateway device's shared
attributes edgeRules/edgeConnectors override the file's. Config values may use \${ENV_NAME}.
See docs/EDGE.md.

  --config FILE      YAML or JSON edge configuration (required)
  --data-dir DIR     buffer, rule state, alarms, cached attributes, last pushed config (default ./edge-data)
  --offline          no platform at all: connectors and local rules only (closed system)
  --log-level LEVEL  debug, info (default), warn, error, silent`;

export interface EdgeOptions {
  readonly config: EdgeConfig;
  readonly dataDir: string;
  readonly offline?: boolean;
  readonly logger?: EdgeLogger;
  /** Sees every reading after it was persisted (tests, metrics). */
  readonly onReading?: (reading: Reading) => void;
  /** For `${NAME}` in pushed connectors (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How often the gateway reports its own health telemetry (default 10 s). */
  readonly healthIntervalMs?: number;
}

export interface EdgeStatus {
  readonly connectors: ConnectorStatus[];
  readonly buffer?: BufferStats;
  readonly uplink?: UplinkStatus;
  readonly rules: ReturnType<LocalRules['stats']>;
  readonly alarms: ReturnType<EdgeAlarmStore['stats']>;
  /** Firmware jobs of the children (the relay) and of the edge itself (device ''), with download progress. */
  readonly firmware?: { readonly jobs: UpdateJob[]; readonly downloads: Record<string, { nextChunk: number; chunkSize: number } | undefined>; readonly chunkRequests: Record<string, number> };
}

export interface Edge {
  readonly connectors: readonly Connector[];
  readonly rules: LocalRules;
  /** Alarms raised and cleared by local rules (kept until the platform acknowledged them). */
  readonly alarms: EdgeAlarmStore;
  status(): EdgeStatus;
  /** Fingerprint of the running connectors and rules (the `edgeConfigVersion` attribute). */
  configVersion(): string;
  stop(): Promise<void>;
}

const HEALTH_INTERVAL_MS = 10_000;

export function createConnectors(config: EdgeConfig, logger: EdgeLogger): Connector[] {
  return config.connectors.map((c) => {
    switch (c.type) {
      case 'modbus-tcp':
        return new ModbusTcpConnector(c, logger);
      case 'modbus-rtu':
        return new ModbusRtuConnector(c, logger);
      case 'bacnet':
        return new BacnetConnector(c, logger);
      case 'sms':
        return new SmsConnector(c, logger);
      case 'frames':
        return new FramesConnector(c, logger);
      case 'sparkplug':
        return new SparkplugConnector(c, logger);
      case 'opcua':
        return new OpcuaConnector(c, logger);
    }
  });
}

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const logger = options.logger ?? pino({ level: options.config.log.level, base: { app: 'continuum-edge' } });
  const offline = options.offline ?? false;
  // Rules and connectors pushed from the platform (last accepted push, kept in the data dir) override the file's.
  const push = new ConfigPush({ file: options.config, dataDir: options.dataDir, env: options.env ?? process.env, logger, apply: (next) => apply(next), report: (values) => uplink?.publishAttributes(values) });
  const { config } = push;
  const connectorSet = new ConnectorSet(config.connectors, (list) => createConnectors({ ...config, connectors: list }, logger), logger);
  const command = (device: string, method: string, params: JsonValue): Promise<JsonValue> => {
    const connector = connectorSet.owner(device);
    if (!connector) return Promise.reject(new Error(`this gateway has no device "${device}"`));
    return connector.handleCommand(device, method, params);
  };

  const sms = (device: string, text: string): Promise<JsonValue> => {
    const connector = connectorSet.owner(device);
    if (!connector?.sendText) return Promise.reject(new Error(`"${device}" is not a device of an SMS connector`));
    return connector.sendText(device, text);
  };

  let buffer: ReadingBuffer | undefined;
  let uplink: GatewayUplink | undefined;
  let images: ImageStore | undefined;
  let relay: FirmwareRelay | undefined;
  let selfUpdate: SelfUpdate | undefined;
  // dataDir '' (tests): nothing is kept on disk.
  if (options.dataDir !== '') mkdirSync(options.dataDir, { recursive: true });
  const onDisk = (name: string): string => (options.dataDir === '' ? '' : join(options.dataDir, name));
  const alarms = new EdgeAlarmStore(onDisk('edge-alarms.db'));
  const attributes = new AttributeCache(onDisk('edge-attributes.db'));
  if (!offline) {
    if (!config.platform) throw new EdgeConfigError('platform: required unless --offline');
    buffer = new ReadingBuffer({ file: join(options.dataDir, 'edge-buffer.db'), maxRows: config.buffer.maxRows, logger });
    // The gateway's own shared attributes: pushed configuration, and its own firmware (fw_*).
    const sharedAttributes = {
      keys: [...PUSH_KEYS, ...FW_KEYS],
      onUpdate: (values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[]) => {
        push.onShared(values, complete, deleted);
        selfUpdate?.onAttributes(values, complete);
      },
    };
    // A child's shared attributes: cached (attr() offline), then seen by `attributes` rules and the firmware relay.
    const childAttributes = {
      onUpdate: (device: string, values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[]) => {
        rules.onAttributes(device, attributes.apply(device, values, complete, deleted));
        relay?.onAttributes(device, values, complete);
      },
    };
    const link = new GatewayUplink({ platform: config.platform, buffer: config.buffer, store: buffer, devices: connectorSet.devices(), typeOf: (d) => connectorSet.typeOf(d), onCommand: command, logger, sharedAttributes, childAttributes });
    uplink = link;
    new AlarmSync(alarms, link, logger);
    ({ images, relay, selfUpdate } = firmware(config, link, options.dataDir === '' ? mkdtempSync(join(tmpdir(), 'continuum-edge-fw-')) : options.dataDir, logger, {
      connectorOf: (device) => connectorSet.owner(device),
      report: (device, values) => persist({ device, ts: firmwareTs(device), values }),
    }));
  }
  // Firmware states of a child get strictly increasing times of their own (two in one ms would keep one).
  const lastFirmwareTs = new Map<string, number>();
  const firmwareTs = (device: string): number => {
    const ts = Math.max(Date.now(), (lastFirmwareTs.get(device) ?? 0) + 1);
    lastFirmwareTs.set(device, ts);
    return ts;
  };
  const persist = (reading: Reading): void => {
    // Persisted (committed) before anything else sees it: a crash after this line loses nothing.
    buffer?.append(reading);
    options.onReading?.(reading);
  };
  const ruleState = options.dataDir !== '' ? new RuleStateStore(join(options.dataDir, 'edge-rules.db'), logger) : undefined;
  const effects = { command, telemetry: persist, alarms, sms, attr: (device: string, key: string) => attributes.get(device, key), devices: () => connectorSet.devices() };
  let rules = new LocalRules(config.rules as LocalRuleConfig[], effects, logger, ruleState);
  const sink: ReadingSink = {
    reading(reading) {
      persist(reading);
      rules.onReading(reading);
    },
    command,
    // The connector's view of a field device is the child's `online` on the platform.
    deviceStatus(device, online) {
      uplink?.deviceOnline(device, online);
      rules.onConnectivity(device, online);
    },
    attributes(device, values) {
      uplink?.publishChildAttributes(device, values);
    },
  };

  // A push applied while running: changed connectors restart first, so new rules find their devices.
  let stopping = false;
  // Devices that appeared are announced to the platform at once, those that went are disconnected;
  // a changed connector was restarted, so its devices are polled again right away.
  const apply = async (next: EdgeConfig): Promise<ApplyReport | undefined> => {
    if (stopping) return undefined;
    const result = await connectorSet.replace(next.connectors, sink);
    const devices = uplink?.setDevices(connectorSet.devices()) ?? { added: [], removed: [] };
    const previous = rules;
    previous.stop();
    rules = new LocalRules(next.rules as LocalRuleConfig[], effects, logger, ruleState);
    rules.inheritConnectivity(previous);
    await previous.idle();
    logger.info({ ...result, ...devices, rules: rules.stats().rules }, 'configuration replaced');
    return { connectors: result, devices, rules: rules.stats().rules };
  };

  uplink?.start();
  await connectorSet.start(sink);
  selfUpdate?.start();
  relay?.resume();
  const status = (): EdgeStatus => ({
    connectors: connectorSet.list.map((c) => c.status()),
    ...(buffer ? { buffer: buffer.stats() } : {}),
    ...(uplink ? { uplink: uplink.status() } : {}),
    rules: rules.stats(),
    alarms: alarms.stats(),
    ...(images
      ? {
          firmware: {
            jobs: images.jobs(),
            downloads: Object.fromEntries(images.jobs().map((j) => [j.checksum, images?.progress(j.checksum)])),
            chunkRequests: Object.fromEntries(images.fetched),
          },
        }
      : {}),
  });
  // The gateway's own telemetry: buffer depth, drops, connector errors and poll latency.
  const health = setInterval(() => {
    const s = status();
    uplink?.publishOwnTelemetry({
      bufferDepth: s.buffer?.depth ?? 0,
      bufferDropped: s.buffer?.dropped ?? 0,
      connectorErrors: s.connectors.reduce((n, c) => n + c.errors, 0),
      connectorsConnected: s.connectors.filter((c) => c.connected).length,
      pollLatencyMs: Math.max(0, ...s.connectors.map((c) => c.lastPollMs ?? 0)),
      alarmsOpen: s.alarms.open,
      alarmsPending: s.alarms.pending,
    });
  }, options.healthIntervalMs ?? HEALTH_INTERVAL_MS);
  health.unref();
  logger.info({ connectors: connectorSet.list.map((c) => c.name), devices: connectorSet.devices(), rules: rules.stats().rules, offline, configVersion: push.version }, 'edge started');
  uplink?.publishAttributes({ edgeConfigVersion: push.version });

  return {
    get connectors() {
      return connectorSet.list;
    },
    get rules() {
      return rules;
    },
    alarms,
    status,
    configVersion: () => push.version,
    async stop() {
      clearInterval(health);
      stopping = true;
      await push.idle();
      await Promise.all([relay?.stop(), selfUpdate?.stop()]);
      rules.stop();
      await connectorSet.stop();
      await rules.idle();
      await uplink?.stop();
      buffer?.close();
      ruleState?.close();
      alarms.close();
      attributes.close();
      images?.close();
    },
  };
}

/** The firmware relay (children) and the edge's own updates, sharing one image store. */
function firmware(
  config: EdgeConfig,
  uplink: GatewayUplink,
  dir: string,
  logger: EdgeLogger,
  relayDeps: { connectorOf: (device: string) => Connector | undefined; report: (device: string, values: Record<string, JsonValue>) => void },
): { images: ImageStore; relay: FirmwareRelay; selfUpdate: SelfUpdate } {
  const fw = config.firmware;
  const images = new ImageStore(dir, fw.chunkSize);
  // Resolves at the next connect, or after retryMs when none comes (the connection may be up again already).
  const waiters = new Set<() => void>();
  uplink.onConnected(() => {
    for (const wake of waiters) wake();
    waiters.clear();
  });
  const waitForPlatform = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(wake);
        resolve();
      }, fw.retryMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      waiters.add(wake);
    });
  const fetching = { request: (target: Parameters<GatewayUplink['requestChunk']>[0], chunk: number, size: number) => uplink.requestChunk(target, chunk, size, fw.requestTimeoutMs), waitForPlatform, chunksPerSecond: fw.chunksPerSecond };
  const relay = new FirmwareRelay({ ...fetching, ...relayDeps, store: images, logger });
  const selfUpdate = new SelfUpdate({
    ...fetching,
    store: images,
    dataDir: dir,
    title: fw.title,
    version: fw.version,
    ...(fw.installCommand ? { installCommand: fw.installCommand } : {}),
    publish: (body) => uplink.publishAcked('v1/devices/me/telemetry', body),
    logger,
  });
  uplink.onConnected(() => selfUpdate.connected());
  return { images, relay, selfUpdate };
}

/** `continuum edge …`: runs until SIGTERM/SIGINT. Returns an exit code when it does not start. */
export async function runEdgeFromCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv }): Promise<number | undefined> {
  if (argv[0] === 'scan') {
    const { runScanFromCli } = await import('./scan/index.js');
    return runScanFromCli(argv.slice(1), io);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        offline: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`continuum edge: ${(err as Error).message}\n${EDGE_HELP}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(EDGE_HELP + '\n');
    return 0;
  }
  if (!values.config) {
    io.stderr.write(`continuum edge: --config is required\n${EDGE_HELP}\n`);
    return 2;
  }
  const offline = values.offline ?? false;
  let edge: Edge;
  try {
    const env = edgeEnvironment(io.env, (message) => io.stderr.write(`continuum edge: warning: ${message}\n`));
    const config = loadEdgeConfig(values.config, env, { offline });
    if (values['log-level']) config.log.level = values['log-level'];
    edge = await startEdge({ config, dataDir: values['data-dir'] ?? './edge-data', offline });
  } catch (err) {
    io.stderr.write(`continuum edge: ${(err as Error).message}\n`);
    return 1;
  }
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    edge.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return undefined;
}
