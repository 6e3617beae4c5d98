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
import { EdgeConfigError, loadEdgeConfig, type EdgeConfig, type LocalRuleConfig } from './config.js';
import { ModbusTcpConnector } from './connectors/modbus/index.js';
import type { Connector, ConnectorStatus, EdgeLogger, Reading, ReadingSink } from './ports.js';
import { LocalRules } from './rules/local-rules.js';
import { GatewayUplink, type UplinkStatus } from './uplink/mqtt-uplink.js';

export const EDGE_HELP = `Usage: continuum edge --config FILE [--data-dir DIR] [--offline] [--log-level LEVEL]

Runs the edge gateway: polls field devices (Modbus TCP), keeps every reading in a local
buffer (DIR/edge-buffer.db) until the platform acknowledged it, runs local rules, and
executes platform commands. Config values may use \${ENV_NAME}. See docs/EDGE.md.

  --config FILE      YAML or JSON edge configuration (required)
  --data-dir DIR     where the buffer lives (default ./edge-data)
  --offline          no platform at all: connectors and local rules only (closed system)
  --log-level LEVEL  debug, info (default), warn, error, silent`;

export interface EdgeOptions {
  readonly config: EdgeConfig;
  readonly dataDir: string;
  readonly offline?: boolean;
  readonly logger?: EdgeLogger;
  /** Sees every reading after it was persisted (tests, metrics). */
  readonly onReading?: (reading: Reading) => void;
}

export interface EdgeStatus {
  readonly connectors: ConnectorStatus[];
  readonly buffer?: BufferStats;
  readonly uplink?: UplinkStatus;
  readonly rules: ReturnType<LocalRules['stats']>;
}

export interface Edge {
  readonly connectors: readonly Connector[];
  readonly rules: LocalRules;
  status(): EdgeStatus;
  stop(): Promise<void>;
}

const HEALTH_INTERVAL_MS = 10_000;

export function createConnectors(config: EdgeConfig, logger: EdgeLogger): Connector[] {
  return config.connectors.map((c) => {
    switch (c.type) {
      case 'modbus-tcp':
        return new ModbusTcpConnector(c, logger);
    }
  });
}

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: config.log.level, base: { app: 'continuum-edge' } });
  const offline = options.offline ?? false;
  const connectors = createConnectors(config, logger);
  const owner = new Map<string, Connector>();
  for (const c of connectors) for (const d of c.devices) owner.set(d, c);
  const command = (device: string, method: string, params: JsonValue): Promise<JsonValue> => {
    const connector = owner.get(device);
    if (!connector) return Promise.reject(new Error(`this gateway has no device "${device}"`));
    return connector.handleCommand(device, method, params);
  };

  let buffer: ReadingBuffer | undefined;
  let uplink: GatewayUplink | undefined;
  if (!offline) {
    if (!config.platform) throw new EdgeConfigError('platform: required unless --offline');
    mkdirSync(options.dataDir, { recursive: true });
    buffer = new ReadingBuffer({ file: join(options.dataDir, 'edge-buffer.db'), maxRows: config.buffer.maxRows, logger });
    uplink = new GatewayUplink({ platform: config.platform, buffer: config.buffer, store: buffer, devices: [...owner.keys()], onCommand: command, logger });
  }
  const persist = (reading: Reading): void => {
    // Persisted (committed) before anything else sees it: a crash after this line loses nothing.
    buffer?.append(reading);
    options.onReading?.(reading);
  };
  const rules = new LocalRules(config.rules as LocalRuleConfig[], { command, telemetry: persist }, logger);
  const sink: ReadingSink = {
    reading(reading) {
      persist(reading);
      rules.onReading(reading);
    },
  };

  uplink?.start();
  for (const c of connectors) await c.start(sink);
  const status = (): EdgeStatus => ({
    connectors: connectors.map((c) => c.status()),
    ...(buffer ? { buffer: buffer.stats() } : {}),
    ...(uplink ? { uplink: uplink.status() } : {}),
    rules: rules.stats(),
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
    });
  }, HEALTH_INTERVAL_MS);
  health.unref();
  logger.info({ connectors: connectors.map((c) => c.name), devices: [...owner.keys()], rules: rules.stats().rules, offline }, 'edge started');

  return {
    connectors,
    rules,
    status,
    async stop() {
      clearInterval(health);
      for (const c of connectors) await c.stop();
      await rules.idle();
      await uplink?.stop();
      buffer?.close();
    },
  };
}

/** `continuum edge …`: runs until SIGTERM/SIGINT. Returns an exit code when it does not start. */
export async function runEdgeFromCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv }): Promise<number | undefined> {
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
    const config = loadEdgeConfig(values.config, io.env, { offline });
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
