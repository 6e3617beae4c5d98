/**
 * Composition root of `continuum edge`: connectors → sink → (buffer → uplink) and local rules;
 * platform commands come back through the uplink to the connector that owns the device. The
 * edge is its own process and talks to the platform only over MQTT (the gateway API).
 */
import { mkdirSync } from 'node:fs';
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
  // dataDir '' (tests): nothing is kept on disk.
  if (options.dataDir !== '') mkdirSync(options.dataDir, { recursive: true });
  const onDisk = (name: string): string => (options.dataDir === '' ? '' : join(options.dataDir, name));
  const alarms = new EdgeAlarmStore(onDisk('edge-alarms.db'));
  const attributes = new AttributeCache(onDisk('edge-attributes.db'));
  if (!offline) {
    if (!config.platform) throw new EdgeConfigError('platform: required unless --offline');
    buffer = new ReadingBuffer({ file: join(options.dataDir, 'edge-buffer.db'), maxRows: config.buffer.maxRows, logger });
    const sharedAttributes = { keys: PUSH_KEYS, onUpdate: push.onShared.bind(push) };
    // A child's shared attributes: cached (attr() offline), then seen by `attributes` rules.
    const childAttributes = { onUpdate: (device: string, values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[]) => rules.onAttributes(device, attributes.apply(device, values, complete, deleted)) };
    uplink = new GatewayUplink({ platform: config.platform, buffer: config.buffer, store: buffer, devices: connectorSet.devices(), onCommand: command, logger, sharedAttributes, childAttributes });
    new AlarmSync(alarms, uplink, logger);
  }
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
  const status = (): EdgeStatus => ({
    connectors: connectorSet.list.map((c) => c.status()),
    ...(buffer ? { buffer: buffer.stats() } : {}),
    ...(uplink ? { uplink: uplink.status() } : {}),
    rules: rules.stats(),
    alarms: alarms.stats(),
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
      rules.stop();
      await connectorSet.stop();
      await rules.idle();
      await uplink?.stop();
      buffer?.close();
      ruleState?.close();
      alarms.close();
      attributes.close();
    },
  };
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
