/**
 * OPC UA client connector (node-opcua). One connector holds one session with one server:
 * - connection: node-opcua retries and reconnects with its backoff (reconnectMs … reconnectMaxMs)
 *   and repairs the session and its subscriptions after a break (a restarted server gets a new
 *   session and the monitored items again); every child goes offline while the server is away.
 * - data: per device one subscription (its publishingIntervalMs) with a monitored item per node
 *   (sampling interval, optional deadband filter), no polling; the changes of one publish become
 *   one reading (telemetry) or one client-attribute update (attributes).
 * - commands: writes and method calls (commands.ts); the Bad status is the command's error.
 * Values are bounded (maxStringLength, maxArrayLength) both ways.
 */
import type { ClientMonitoredItem, ClientSession, ClientSubscription, DataValue, NodeId, OPCUAClient } from 'node-opcua';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import { connectorStatus, reportDeviceStatus } from '../common.js';
import { closeQuietly, createClient, describeError, loadOpcua, userIdentity, type OpcuaModule } from './client.js';
import { callMethod, ShapeCache, writeNode, writeValue } from './commands.js';
import { isCall, SET_VALUE, type OpcuaCommandConfig, type OpcuaConfig, type OpcuaDeviceConfig, type OpcuaNodeConfig } from './schema.js';
import { OpcuaValueError, toJson, type Bounds } from './values.js';

type Kind = 'telemetry' | 'attributes';

interface DeviceRuntime {
  readonly config: OpcuaDeviceConfig;
  online?: boolean;
  lastTs: number;
  pending: Record<Kind, Record<string, JsonValue>>;
  flush?: NodeJS.Immediate;
  subscription?: ClientSubscription;
  items: ClientMonitoredItem[];
}

/** Where the Objects folder is (Part 5 8.2.4): browse paths in the config start there. */
const OBJECTS_FOLDER = 'i=85';

export class OpcuaConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private opcua: OpcuaModule | undefined;
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private sink: ReadingSink | undefined;
  private stopped = true;
  private linkUp = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly runtimes = new Map<string, DeviceRuntime>();
  /** Node ids of browse paths, resolved per session. */
  private readonly resolved = new Map<string, NodeId>();
  private readonly shapes = new ShapeCache();
  private readonly cutKeys = new Set<string>();
  private counters = { errors: 0, polls: 0, notifications: 0, truncated: 0 };
  private lastError: string | undefined;
  private readonly bounds: Bounds;

  constructor(
    private readonly config: OpcuaConfig,
    private readonly logger: EdgeLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    this.bounds = { maxStringLength: config.maxStringLength, maxArrayLength: config.maxArrayLength };
    for (const d of config.devices) this.runtimes.set(d.name, { config: d, lastTs: 0, pending: { telemetry: {}, attributes: {} }, items: [] });
  }

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    this.opcua = await loadOpcua(this.logger);
    // Connecting waits for the server (retried forever): it runs in the background.
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const rt of this.runtimes.values()) if (rt.flush) clearImmediate(rt.flush);
    const { client, session } = this;
    this.client = undefined;
    this.session = undefined;
    this.linkUp = false;
    await closeQuietly(client, session);
  }

  status(): ConnectorStatus & { notifications: number; truncated: number } {
    return { ...connectorStatus(this.name, this.linkUp && this.session !== undefined, this.counters, this.lastError), notifications: this.counters.notifications, truncated: this.counters.truncated };
  }

  // --- connection --------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const opcua = this.opcua;
    if (this.stopped || !opcua) return;
    const client = createClient(opcua, this.config);
    this.client = client;
    client.on('backoff', (count, delay) => {
      if (count === 1 || count % 10 === 0) this.logger.warn({ connector: this.name, endpoint: this.config.endpoint, attempt: count, delayMs: delay }, 'opc ua server does not answer; retrying');
      this.reportAll(false, 'server does not answer');
    });
    client.on('connection_lost', () => {
      this.linkUp = false;
      this.logger.warn({ connector: this.name, endpoint: this.config.endpoint }, 'opc ua connection lost; reconnecting');
      this.reportAll(false, 'connection lost');
    });
    client.on('connection_reestablished', () => {
      this.linkUp = true;
      this.logger.info({ connector: this.name, endpoint: this.config.endpoint }, 'opc ua connection re-established');
      this.reportAll(true);
    });
    try {
      await client.connect(this.config.endpoint);
      if (this.stopped || this.client !== client) return;
      const session = await client.createSession(userIdentity(opcua, this.config));
      if (this.stopped || this.client !== client) {
        await closeQuietly(undefined, session);
        return;
      }
      this.session = session;
      this.linkUp = true;
      this.resolved.clear();
      this.shapes.clear();
      session.on('session_closed', () => this.logger.info({ connector: this.name }, 'opc ua session closed'));
      this.logger.info({ connector: this.name, endpoint: this.config.endpoint, securityMode: this.config.securityMode, user: this.config.username ?? '(anonymous)' }, 'opc ua session open');
      this.reportAll(true);
      for (const rt of this.runtimes.values()) await this.subscribe(session, rt);
    } catch (err) {
      if (this.stopped || this.client !== client) return;
      // The server answered but refused us (credentials, security, certificate): start over later.
      this.noteError(err, { endpoint: this.config.endpoint }, 'opc ua session refused');
      this.reportAll(false, describeError(err));
      this.client = undefined;
      this.session = undefined;
      this.linkUp = false;
      await closeQuietly(client, undefined);
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.connect(), this.config.reconnectMaxMs);
    }
  }

  private reportAll(online: boolean, reason?: string): void {
    if (this.stopped) return;
    for (const rt of this.runtimes.values()) reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, online, reason);
  }

  private async nodeIdOf(session: ClientSession, n: { nodeId?: string | undefined; browsePath?: string | undefined }): Promise<NodeId> {
    const opcua = this.opcua as OpcuaModule;
    if (n.nodeId !== undefined) return opcua.resolveNodeId(n.nodeId);
    const path = n.browsePath as string;
    const known = this.resolved.get(path);
    if (known) return known;
    const result = await session.translateBrowsePath(opcua.makeBrowsePath(OBJECTS_FOLDER, path));
    const target = result.targets?.[0]?.targetId;
    if (!result.statusCode.isGood() || !target) throw new Error(`browse path ${path}: ${result.statusCode.name}`);
    const nodeId = opcua.resolveNodeId(target.toString());
    this.resolved.set(path, nodeId);
    return nodeId;
  }

  // --- subscriptions -----------------------------------------------------------------------

  private async subscribe(session: ClientSession, rt: DeviceRuntime): Promise<void> {
    const opcua = this.opcua as OpcuaModule;
    const d = rt.config;
    const monitored: [Kind, OpcuaNodeConfig][] = [...d.nodes.map((n): [Kind, OpcuaNodeConfig] => ['telemetry', n]), ...d.attributes.map((n): [Kind, OpcuaNodeConfig] => ['attributes', n])];
    rt.items = [];
    if (monitored.length === 0) return;
    try {
      rt.subscription = await session.createSubscription2({
        requestedPublishingInterval: d.publishingIntervalMs,
        // Keep-alives at least every 10 intervals; the server drops the subscription after 60 silent ones.
        requestedMaxKeepAliveCount: 10,
        requestedLifetimeCount: 60,
        maxNotificationsPerPublish: 1000,
        publishingEnabled: true,
        priority: 1,
      });
    } catch (err) {
      this.noteError(err, { device: d.name }, 'opc ua subscription refused');
      return;
    }
    const subscription = rt.subscription;
    subscription.on('keepalive', () => this.reportDevice(rt, true));
    for (const [kind, n] of monitored) {
      let nodeId: NodeId;
      try {
        nodeId = await this.nodeIdOf(session, n);
      } catch (err) {
        this.noteError(err, { device: d.name, key: n.key }, 'opc ua node not found');
        continue;
      }
      const filter = n.deadband
        ? new opcua.DataChangeFilter({ trigger: opcua.DataChangeTrigger.StatusValue, deadbandType: n.deadband.type === 'absolute' ? opcua.DeadbandType.Absolute : opcua.DeadbandType.Percent, deadbandValue: n.deadband.value })
        : null;
      const item = opcua.ClientMonitoredItem.create(
        subscription,
        { nodeId, attributeId: opcua.AttributeIds.Value },
        { samplingInterval: n.samplingIntervalMs ?? d.samplingIntervalMs, queueSize: n.queueSize, discardOldest: true, filter },
        opcua.TimestampsToReturn.Both,
      );
      item.on('changed', (dv: DataValue) => this.onValue(rt, kind, n, dv));
      item.on('err', (message: string) => this.noteError(new Error(message), { device: d.name, key: n.key, nodeId: nodeId.toString() }, 'opc ua monitored item refused'));
      rt.items.push(item);
    }
    this.logger.info({ connector: this.name, device: d.name, items: rt.items.length, publishingIntervalMs: d.publishingIntervalMs }, 'opc ua subscription created');
  }

  private onValue(rt: DeviceRuntime, kind: Kind, n: OpcuaNodeConfig, dv: DataValue): void {
    if (this.stopped) return;
    this.counters.notifications++;
    this.reportDevice(rt, true);
    // Bad means no usable value (Part 4 7.34.1); Uncertain values are passed on.
    if (dv.statusCode.isBad()) {
      this.counters.errors++;
      this.lastError = `${rt.config.name}.${n.key}: ${dv.statusCode.name}`;
      this.logger.debug({ connector: this.name, device: rt.config.name, key: n.key, status: dv.statusCode.name }, 'opc ua bad value skipped');
      return;
    }
    const value = toJson(dv.value, this.bounds, () => this.noteCut(rt, n));
    rt.pending[kind][n.key] = value;
    // The items of one publish are delivered in one go: one reading for all of them.
    rt.flush ??= setImmediate(() => this.flush(rt));
  }

  private noteCut(rt: DeviceRuntime, n: OpcuaNodeConfig): void {
    this.counters.truncated++;
    const id = `${rt.config.name}.${n.key}`;
    if (this.cutKeys.has(id)) return;
    this.cutKeys.add(id);
    this.logger.warn({ connector: this.name, device: rt.config.name, key: n.key, maxStringLength: this.config.maxStringLength, maxArrayLength: this.config.maxArrayLength }, 'opc ua value cut to the configured bounds');
  }

  private flush(rt: DeviceRuntime): void {
    rt.flush = undefined;
    if (this.stopped || !this.sink) return;
    const { telemetry, attributes } = rt.pending;
    rt.pending = { telemetry: {}, attributes: {} };
    if (Object.keys(attributes).length > 0) this.sink.attributes?.(rt.config.name, attributes);
    if (Object.keys(telemetry).length === 0) return;
    const ts = Math.max(this.now(), rt.lastTs + 1);
    rt.lastTs = ts;
    this.counters.polls++;
    this.sink.reading({ device: rt.config.name, ts, values: telemetry });
  }

  private reportDevice(rt: DeviceRuntime, online: boolean, reason?: string): void {
    if (!this.stopped) reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, online, reason);
  }

  private noteError(err: unknown, context: object, msg: string): void {
    this.counters.errors++;
    this.lastError = describeError(err);
    this.logger.warn({ connector: this.name, ...context, err: this.lastError }, msg);
  }

  // --- commands ----------------------------------------------------------------------------

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const rt = this.runtimes.get(device);
    if (!rt) throw new Error(`unknown device "${device}"`);
    const command = rt.config.commands.find((c) => c.method === method);
    if (!command && method !== SET_VALUE) throw new Error(`device "${device}" has no command "${method}" (${[...rt.config.commands.map((c) => c.method), ...(rt.config.nodes.some((n) => n.writable) ? [SET_VALUE] : [])].join(', ') || 'none configured'})`);
    const session = this.session;
    const opcua = this.opcua;
    if (!session || !opcua || !this.linkUp) throw new Error(`${this.name}: not connected to ${this.config.endpoint}`);
    try {
      const reply = command ? await this.run(session, command, params) : await this.setValue(session, rt, params);
      this.logger.info({ connector: this.name, device, method }, 'opc ua command done');
      return { ok: true, method, ...reply };
    } catch (err) {
      if (!(err instanceof OpcuaValueError)) this.noteError(err, { device, method }, 'opc ua command failed');
      throw new Error(`${method}: ${describeError(err)}`);
    }
  }

  private async run(session: ClientSession, command: OpcuaCommandConfig, params: JsonValue): Promise<Record<string, JsonValue>> {
    const opcua = this.opcua as OpcuaModule;
    if (isCall(command)) return { outputs: await callMethod(opcua, session, this.shapes, command, params, this.bounds) };
    const nodeId = await this.nodeIdOf(session, command);
    return { nodeId: nodeId.toString(), value: await writeNode(opcua, session, this.shapes, nodeId, writeValue(command.value, params), this.bounds) };
  }

  /** `setValue {"key": "setpoint", "value": 21}`: writes a telemetry node marked `writable`. */
  private async setValue(session: ClientSession, rt: DeviceRuntime, params: JsonValue): Promise<Record<string, JsonValue>> {
    const key = params !== null && typeof params === 'object' && !Array.isArray(params) ? params.key : undefined;
    if (typeof key !== 'string') throw new OpcuaValueError('expected params {"key", "value"}');
    const node = rt.config.nodes.find((n) => n.key === key && n.writable);
    if (!node) throw new OpcuaValueError(`"${key}" is not a writable node of ${rt.config.name}`);
    const nodeId = await this.nodeIdOf(session, node);
    return { key, nodeId: nodeId.toString(), value: await writeNode(this.opcua as OpcuaModule, session, this.shapes, nodeId, writeValue(undefined, params), this.bounds) };
  }
}
