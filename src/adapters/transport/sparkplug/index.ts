/**
 * Sparkplug B edge nodes on the platform's broker. An edge node connects as a gateway device
 * (access token as MQTT user name) and publishes `spBv1.0/<group>/<type>/<node>[/<device>]`:
 *
 *   NBIRTH / NDATA  → telemetry of the gateway device itself
 *   DBIRTH / DDATA  → telemetry of a child device named after the Sparkplug device id
 *                     (created on first sight, like the gateway API), marked online at DBIRTH
 *   DDEATH          → that child goes offline
 *   NDEATH          → every child of the node goes offline (only when its bdSeq is the NBIRTH's:
 *                     Sparkplug 3.0 ch. 5); losing the connection counts as the node's will
 *   platform RPC    → DCMD to the child (NCMD to the node) with one metric named after the method
 *
 * Like the JSON bridge, this turns wire bytes into DeviceApi / GatewayApi calls and never touches
 * the store. It is one of the broker's interceptors (../mqtt/interceptor.ts), placed before the
 * device API's by the composition root; neither knows the other. One connection speaks for one
 * edge node: the first NBIRTH binds group and node id.
 */
import type { DeviceIdentity } from '../../../domain/device.js';
import { PlatformError, asPlatformError } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Logger } from '../../../ports.js';
import type { DeviceApi, DeviceSession, GatewayApi, RpcRequestToDevice, TransportMetrics } from '../../../ports/device-api.js';
import {
  AliasTable,
  DataType,
  NAMESPACE,
  SparkplugDecodeError,
  decodePayload,
  encodePayload,
  inferDataType,
  metricsToTelemetry,
  parseTopic,
  topicFor,
  type Payload,
  type SparkplugTopic,
} from '../../../protocols/sparkplug/payload.js';
import { PASS, type ClientInterceptor, type ClientLink, type InterceptedPublish, type Interceptor, type QoS } from '../mqtt/interceptor.js';
import { topicMatches } from '../mqtt/topics.js';

export interface SparkplugOptions {
  readonly deviceApi: DeviceApi;
  readonly gatewayApi: GatewayApi;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
}

const PREFIX = `${NAMESPACE}/`;
const STATE_PREFIX = `${NAMESPACE}/STATE/`;
/** Host application id announced in STATE when the edge node subscribes with a wildcard. */
const HOST_ID = 'continuum';
/** Two-way commands waiting for the device to report the written metric, per device at most. */
const MAX_PENDING_REPLIES = 100;
/** Refused device names remembered per node birth (beyond it, their DDATA asks for a rebirth instead). */
const MAX_REFUSED_DEVICES = 1000;

interface DeviceState {
  readonly identity: DeviceIdentity;
  readonly aliases: AliasTable;
  commands?: DeviceSession;
  /** metric name → RPC request ids answered by the next report of that metric. */
  readonly pending: Map<string, number[]>;
}

interface NodeState {
  readonly group: string;
  readonly node: string;
  born: boolean;
  bdSeq: number | undefined;
  aliases: AliasTable;
  /** Next expected seq (0..255, wrapping: Sparkplug 3.0 ch. 5 "Operational Behavior"). */
  seq: number;
  rebirthAsked: boolean;
  commands: DeviceSession | undefined;
  readonly devices: Map<string, DeviceState>;
  /** Devices whose DBIRTH the platform refused (not this gateway's to use, or over its quota): their DDATA is refused alike. */
  readonly refused: Map<string, PlatformError>;
}

function bdSeqOf(p: Payload): number | undefined {
  const m = p.metrics.find((x) => x.name === 'bdSeq');
  return typeof m?.value === 'number' ? m.value : undefined;
}

/** A command's value: `params.value` when params is an object holding one, else params itself. */
function commandValue(params: JsonValue): JsonValue {
  if (typeof params === 'object' && params !== null && !Array.isArray(params) && 'value' in params) return params.value ?? null;
  return params;
}

class SparkplugNode implements ClientInterceptor {
  private state: NodeState | undefined;
  // Both created on first use: one of these exists per device connection, and most
  // connections never speak Sparkplug (see the MQTT broker's per-connection memory notes).
  private queue: Promise<unknown> | undefined;
  /** Sparkplug filters this client subscribed to, with the granted QoS. */
  private subs: Map<string, QoS> | undefined;

  constructor(
    private readonly opts: SparkplugOptions,
    private readonly link: ClientLink,
    private readonly identity: DeviceIdentity,
  ) {}

  get name(): string {
    return 'sparkplug';
  }

  publish(p: InterceptedPublish): Promise<void> | undefined {
    if (!p.topic.startsWith(PREFIX)) return PASS;
    // One message at a time per connection: DBIRTH must have created the child before DDATA lands.
    const work = (this.queue ?? Promise.resolve()).then(() => this.handle(p));
    this.queue = work.catch(() => undefined);
    return work;
  }

  subscribe(filter: string, qos: QoS): QoS | undefined {
    if (!filter.startsWith(PREFIX)) return PASS;
    const granted = (qos > 1 ? 1 : qos) as QoS;
    (this.subs ??= new Map()).set(filter, granted);
    if (filter.startsWith(STATE_PREFIX)) this.announceState(filter);
    return granted;
  }

  unsubscribe(filter: string): boolean {
    if (!filter.startsWith(PREFIX)) return false;
    return this.subs?.delete(filter) ?? false;
  }

  ping(): void {}

  /** The connection is gone without NDEATH: the broker would now publish the node's will. */
  close(): void {
    if (this.state?.born) this.opts.logger.info({ ...this.who(), group: this.state.group, node: this.state.node }, 'sparkplug edge node connection lost: treated as NDEATH');
    this.die();
  }

  // ------------------------------------------------------------------ inbound

  private async handle(p: InterceptedPublish): Promise<void> {
    if (!this.identity.isGateway) throw new PlatformError('FORBIDDEN', 'a Sparkplug edge node must connect as a gateway device');
    const t = parseTopic(p.topic);
    if (!t || t.type === 'NCMD' || t.type === 'DCMD') throw new PlatformError('TOPIC_NOT_ALLOWED', 'edge nodes publish NBIRTH, NDATA, NDEATH, DBIRTH, DDATA, DDEATH');
    this.opts.metrics.messageIn('mqtt', `sparkplug_${t.type.toLowerCase()}`);
    let payload: Payload;
    try {
      payload = decodePayload(p.payload);
    } catch (err) {
      if (err instanceof SparkplugDecodeError) throw new PlatformError('MALFORMED_PAYLOAD', err.message);
      throw err;
    }
    if (t.type === 'NBIRTH') return this.nodeBirth(t, payload);
    const s = this.state;
    if (s && (s.group !== t.group || s.node !== t.node)) throw new PlatformError('TOPIC_NOT_ALLOWED', `this connection is edge node ${s.group}/${s.node}`);
    if (t.type === 'NDEATH') return this.nodeDeath(payload);
    if (!s?.born) return this.askRebirth(t, 'message before NBIRTH');
    this.checkSeq(s, payload);
    switch (t.type) {
      case 'NDATA':
        return this.nodeTelemetry(s, payload);
      case 'DBIRTH':
        return this.deviceBirth(s, t.device as string, payload);
      case 'DDATA':
        return this.deviceData(s, t, payload);
      case 'DDEATH':
        return this.deviceDeath(s, t.device as string);
    }
  }

  private async nodeBirth(t: SparkplugTopic, payload: Payload): Promise<void> {
    const old = this.state;
    if (old && (old.group !== t.group || old.node !== t.node)) throw new PlatformError('TOPIC_NOT_ALLOWED', `this connection is edge node ${old.group}/${old.node}`);
    // A rebirth restarts the node's session: devices are born again after it (Sparkplug 3.0 ch. 5 "Operational Behavior").
    if (old) this.closeDevices(old);
    const s: NodeState = {
      group: t.group,
      node: t.node,
      born: true,
      bdSeq: bdSeqOf(payload),
      aliases: new AliasTable(payload.metrics),
      seq: 0,
      rebirthAsked: false,
      commands: old?.commands,
      devices: new Map(),
      refused: new Map(),
    };
    this.state = s;
    this.checkSeq(s, payload);
    s.commands ??= this.opts.deviceApi.openSession(this.identity, 'mqtt', { onRpcRequest: (r) => this.command(undefined, r) }, { persistent: false });
    this.opts.logger.info({ ...this.who(), group: t.group, node: t.node, bdSeq: s.bdSeq, metrics: s.aliases.size }, 'sparkplug edge node born');
    await this.nodeTelemetry(s, payload);
  }

  private async nodeDeath(payload: Payload): Promise<void> {
    const s = this.state;
    if (!s?.born) return;
    const bdSeq = bdSeqOf(payload);
    // A death certificate from an earlier session (a stale will) must not kill the current one.
    if (bdSeq !== undefined && s.bdSeq !== undefined && bdSeq !== s.bdSeq) {
      this.opts.logger.info({ ...this.who(), node: s.node, bdSeq, current: s.bdSeq }, 'sparkplug NDEATH of an earlier session ignored');
      return;
    }
    this.opts.logger.info({ ...this.who(), group: s.group, node: s.node, bdSeq }, 'sparkplug edge node died');
    this.die();
  }

  private async nodeTelemetry(s: NodeState, payload: Payload): Promise<void> {
    const { groups, unknownAliases } = metricsToTelemetry(payload, s.aliases, Date.now());
    if (unknownAliases.length > 0) this.askRebirth({ group: s.group, type: 'NDATA', node: s.node }, `unknown aliases ${unknownAliases.join(',')}`);
    if (groups.length > 0) await this.opts.deviceApi.publishTelemetry(this.identity, Buffer.from(JSON.stringify(groups)), 'mqtt', 'application/json');
  }

  private async deviceBirth(s: NodeState, device: string, payload: Payload): Promise<void> {
    const known = s.devices.get(device);
    let identity: DeviceIdentity;
    try {
      identity = known?.identity ?? (await this.opts.gatewayApi.gatewayConnect(this.identity, device));
    } catch (err) {
      const e = asPlatformError(err);
      if ((e.code === 'FORBIDDEN' || e.code === 'QUOTA_EXCEEDED') && s.refused.size < MAX_REFUSED_DEVICES) s.refused.set(device, e);
      throw e;
    }
    s.refused.delete(device);
    known?.commands?.close();
    const state: DeviceState = { identity, aliases: new AliasTable(payload.metrics), pending: known?.pending ?? new Map() };
    s.devices.set(device, state);
    // A persistent MQTT session of the child's own: online from DBIRTH to DDEATH (or NDEATH), and
    // platform RPCs for it arrive here rather than through the JSON gateway API. Opened once the
    // state is in place: commands queued while the device was away are delivered right away.
    state.commands = this.opts.deviceApi.openSession(identity, 'mqtt', { onRpcRequest: (r) => this.command(device, r) }, { persistent: true });
    // The birth's values were read before any command just sent: they answer none.
    await this.deviceTelemetry(s, device, state, payload, false);
  }

  private async deviceData(s: NodeState, t: SparkplugTopic, payload: Payload): Promise<void> {
    const device = t.device as string;
    const state = s.devices.get(device);
    const refused = s.refused.get(device);
    if (!state && refused) throw refused;
    if (!state) return this.askRebirth(t, `DDATA for ${device} before its DBIRTH`);
    await this.deviceTelemetry(s, device, state, payload);
  }

  private async deviceTelemetry(s: NodeState, device: string, state: DeviceState, payload: Payload, answers = true): Promise<void> {
    const { groups, unknownAliases } = metricsToTelemetry(payload, state.aliases, Date.now());
    if (unknownAliases.length > 0) this.askRebirth({ group: s.group, type: 'DDATA', node: s.node, device }, `unknown aliases ${unknownAliases.join(',')}`);
    if (groups.length === 0) return;
    // Stored as the child's own MQTT telemetry (not through the JSON gateway API, which counts a
    // child online for as long as it was recently active): a Sparkplug device is online exactly
    // from DBIRTH to DDEATH, while its session lasts.
    await this.opts.deviceApi.publishTelemetry(state.identity, Buffer.from(JSON.stringify(groups)), 'mqtt', 'application/json');
    if (answers) this.answerCommands(state, groups);
  }

  private async deviceDeath(s: NodeState, device: string): Promise<void> {
    const state = s.devices.get(device);
    if (!state) return;
    s.devices.delete(device);
    state.commands?.close();
    await this.opts.gatewayApi.gatewayDisconnect(this.identity, device);
  }

  /** The node and all its devices are dead: children offline, commands no longer routed here. */
  private die(): void {
    const s = this.state;
    if (!s) return;
    s.born = false;
    this.closeDevices(s);
    s.commands?.close();
    s.commands = undefined;
  }

  private closeDevices(s: NodeState): void {
    for (const [name, d] of s.devices) {
      d.commands?.close();
      this.opts.gatewayApi.gatewayDisconnect(this.identity, name).catch((err: unknown) => this.opts.logger.warn({ ...this.who(), device: name, err }, 'sparkplug device disconnect failed'));
    }
    s.devices.clear();
  }

  /** Sparkplug 3.0 ch. 5 "Operational Behavior": seq runs 0..255 over the node's messages; a gap means something was lost. */
  private checkSeq(s: NodeState, payload: Payload): void {
    const seq = payload.seq;
    if (seq === undefined) return;
    if (seq !== s.seq) {
      this.opts.metrics.reject('mqtt', 'SEQUENCE_GAP');
      this.opts.logger.warn({ ...this.who(), node: s.node, expected: s.seq, got: seq }, 'sparkplug seq out of order');
    }
    s.seq = (seq + 1) % 256;
  }

  // ------------------------------------------------------------------ outbound

  /** Asks the node to publish its births again (NCMD "Node Control/Rebirth", Sparkplug 3.0 ch. 6 "Payloads"), once per birth. */
  private askRebirth(t: SparkplugTopic, why: string): void {
    this.opts.metrics.reject('mqtt', 'BIRTH_MISSING');
    this.opts.logger.warn({ ...this.who(), topic: topicFor(t), reason: why }, 'sparkplug data without birth; asking for rebirth');
    if (this.state?.rebirthAsked) return;
    if (this.state) this.state.rebirthAsked = true;
    const payload = encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }] });
    this.sendIfSubscribed(topicFor({ group: t.group, type: 'NCMD', node: t.node }), payload);
  }

  /** A platform RPC as NCMD (device undefined) or DCMD: one metric named after the method. */
  private command(device: string | undefined, r: RpcRequestToDevice): void {
    const s = this.state;
    if (!s?.born) throw new Error('sparkplug edge node is not born');
    const state = device === undefined ? undefined : s.devices.get(device);
    const aliases = device === undefined ? s.aliases : state?.aliases;
    const value = commandValue(r.params);
    const datatype = aliases?.declared(r.method)?.datatype ?? inferDataType(value);
    const topic = topicFor({ group: s.group, type: device === undefined ? 'NCMD' : 'DCMD', node: s.node, ...(device !== undefined ? { device } : {}) });
    let payload: Buffer;
    try {
      payload = encodePayload({ timestamp: Date.now(), metrics: [{ name: r.method, datatype, value: typeof value === 'object' && value !== null ? JSON.stringify(value) : value }] });
    } catch (err) {
      this.opts.logger.warn({ ...this.who(), topic, method: r.method, err: (err as Error).message }, 'sparkplug command value does not fit the metric');
      const target = state?.identity ?? this.identity;
      void this.opts.deviceApi.rpcResponse(target, r.id, Buffer.from(JSON.stringify({ error: (err as Error).message }))).catch(() => undefined);
      return;
    }
    if (!this.sendIfSubscribed(topic, payload)) throw new Error(`edge node is not subscribed to ${topic}`);
    this.opts.metrics.messageOut('mqtt', device === undefined ? 'sparkplug_ncmd' : 'sparkplug_dcmd');
    if (state) {
      const ids = state.pending.get(r.method) ?? [];
      ids.push(r.id);
      if (ids.length > MAX_PENDING_REPLIES) ids.shift();
      state.pending.set(r.method, ids);
    }
  }

  /** Sparkplug commands have no reply: the device's next report of the metric answers the RPC. */
  private answerCommands(state: DeviceState, groups: { values: Record<string, JsonValue> }[]): void {
    for (const g of groups) {
      for (const [name, value] of Object.entries(g.values)) {
        const ids = state.pending.get(name);
        if (!ids) continue;
        state.pending.delete(name);
        for (const id of ids) void this.opts.deviceApi.rpcResponse(state.identity, id, Buffer.from(JSON.stringify({ [name]: value }))).catch(() => undefined);
      }
    }
  }

  /** Sparkplug 3.0 ch. 5 "Operational Behavior": the host's STATE, `{"online":true,"timestamp":…}`, for nodes that wait for it. */
  private announceState(filter: string): void {
    const host = filter.slice(STATE_PREFIX.length);
    const topic = host === '' || host.includes('+') || host.includes('#') ? `${STATE_PREFIX}${HOST_ID}` : filter;
    this.sendIfSubscribed(topic, JSON.stringify({ online: true, timestamp: Date.now() }));
  }

  private sendIfSubscribed(topic: string, payload: Buffer | string): boolean {
    let qos: QoS | undefined;
    for (const [filter, q] of this.subs ?? []) if (topicMatches(filter, topic) && (qos === undefined || q > qos)) qos = q;
    if (qos === undefined) return false;
    this.link.send(topic, payload, qos);
    return true;
  }

  private who(): object {
    return { deviceId: this.identity.deviceId, clientId: this.link.clientId };
  }
}

/**
 * The Sparkplug interceptor: `spBv1.0/…` traffic of a device connection is handled here, anything
 * else passes on. Every device connection gets one (cheap until it speaks Sparkplug: its maps are
 * created on first use).
 */
export function sparkplugInterceptor(opts: SparkplugOptions): Interceptor {
  return {
    name: 'sparkplug',
    attach(link) {
      const p = link.principal;
      return p.kind === 'device' && p.identity ? new SparkplugNode(opts, link, p.identity) : undefined;
    },
  };
}
