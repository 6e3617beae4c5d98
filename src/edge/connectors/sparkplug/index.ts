/**
 * The `sparkplug` connector: a Sparkplug B host application on a local broker. It subscribes to
 * `spBv1.0/<group>/#`, keeps every edge node's and device's birth certificate (aliases, data
 * types), turns NBIRTH/NDATA/DBIRTH/DDATA into readings of child devices, asks for a rebirth when
 * data arrives it cannot place (Sparkplug 3.0 ch. 5 "Operational Behavior"), and sends platform commands as DCMD (NCMD
 * for a node) with one metric named after the method, typed as the birth declared it.
 */
import mqtt from 'mqtt';
import type { JsonValue } from '../../../domain/telemetry.js';
import {
  AliasTable,
  DataType,
  decodePayload,
  encodePayload,
  inferDataType,
  metricsToTelemetry,
  NAMESPACE,
  parseTopic,
  topicFor,
  type Payload,
  type SparkplugTopic,
} from '../../../protocols/sparkplug/payload.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import type { SparkplugConfig, SparkplugDeviceConfig } from './schema.js';

export type { SparkplugConfig } from './schema.js';

interface Born {
  aliases: AliasTable;
  online: boolean;
}

interface NodeState extends Born {
  bdSeq: number | undefined;
  rebirthAsked: boolean;
  readonly devices: Map<string, Born>;
}

export interface SparkplugStatus extends ConnectorStatus {
  readonly nodes: number;
  readonly devicesOnline: number;
  readonly rebirthRequests: number;
}

function commandValue(params: JsonValue): JsonValue {
  if (typeof params === 'object' && params !== null && !Array.isArray(params) && 'value' in params) return params.value ?? null;
  return params;
}

export class SparkplugConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private client: mqtt.MqttClient | undefined;
  private sink: ReadingSink | undefined;
  /** `<group>/<node>` → state. */
  private readonly nodes = new Map<string, NodeState>();
  private readonly byName = new Map<string, SparkplugDeviceConfig>();
  private readonly lastTs = new Map<string, number>();
  private counters = { errors: 0, messages: 0, rebirths: 0 };
  private lastError: string | undefined;

  constructor(
    private readonly config: SparkplugConfig,
    private readonly logger: EdgeLogger,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    for (const d of config.devices) this.byName.set(d.name, d);
  }

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    const c = this.config;
    const state = c.hostId ? `${NAMESPACE}/STATE/${c.hostId}` : undefined;
    const client = mqtt.connect(c.url, {
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.clientId !== undefined ? { clientId: c.clientId } : {}),
      reconnectPeriod: c.reconnectMs,
      clean: true,
      // Sparkplug 3.0 ch. 5 "Operational Behavior": the host's death is its retained STATE offline, left as its will.
      ...(state ? { will: { topic: state, payload: Buffer.from(JSON.stringify({ online: false, timestamp: Date.now() })), qos: 1, retain: true } } : {}),
    });
    this.client = client;
    client.on('connect', () => {
      this.logger.info({ connector: this.name, url: c.url, group: c.groupId }, 'sparkplug host connected');
      const filters = [`${NAMESPACE}/${c.groupId}/+/+`, `${NAMESPACE}/${c.groupId}/+/+/+`];
      client.subscribe(filters, { qos: 1 }, (err) => {
        if (err) return this.failed(err, 'subscribe');
        if (state) client.publish(state, JSON.stringify({ online: true, timestamp: Date.now() }), { qos: 1, retain: true });
      });
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.failed(err, 'mqtt'));
    client.on('close', () => {
      // Births are per connection of ours too: whatever we knew may be stale after a gap.
      for (const n of this.nodes.values()) n.rebirthAsked = false;
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.config.hostId) {
      const state = `${NAMESPACE}/STATE/${this.config.hostId}`;
      await client.publishAsync(state, JSON.stringify({ online: false, timestamp: Date.now() }), { qos: 1, retain: true }).catch(() => undefined);
    }
    await client.endAsync();
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const mapping = this.byName.get(device);
    if (!mapping) throw new Error(`no Sparkplug device is mapped to "${device}"`);
    const group = mapping.group ?? this.config.groupId;
    const node = [...this.nodes].find(([key]) => group === '+' ? key.endsWith(`/${mapping.node}`) : key === `${group}/${mapping.node}`);
    if (!node) throw new Error(`edge node ${mapping.node} has not been born`);
    const [key, state] = node;
    const born = mapping.device === undefined ? state : state.devices.get(mapping.device);
    if (!born?.online) throw new Error(`${mapping.device ?? mapping.node} is offline`);
    const value = commandValue(params);
    const datatype = born.aliases.declared(method)?.datatype ?? inferDataType(value);
    const topic = topicFor({ group: key.slice(0, key.length - mapping.node.length - 1), type: mapping.device === undefined ? 'NCMD' : 'DCMD', node: mapping.node, ...(mapping.device !== undefined ? { device: mapping.device } : {}) });
    const payload = encodePayload({ timestamp: Date.now(), metrics: [{ name: method, datatype, value: typeof value === 'object' && value !== null ? JSON.stringify(value) : value }] });
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the Sparkplug broker');
    await client.publishAsync(topic, payload, { qos: 0 });
    return { sent: topic, metric: method };
  }

  status(): SparkplugStatus {
    let devicesOnline = 0;
    for (const n of this.nodes.values()) for (const d of n.devices.values()) if (d.online) devicesOnline++;
    return {
      name: this.name,
      connected: this.client?.connected ?? false,
      errors: this.counters.errors,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      polls: this.counters.messages,
      nodes: [...this.nodes.values()].filter((n) => n.online).length,
      devicesOnline,
      rebirthRequests: this.counters.rebirths,
    };
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(topic: string, bytes: Buffer): void {
    const t = parseTopic(topic);
    if (!t || t.type === 'NCMD' || t.type === 'DCMD') return;
    let payload: Payload;
    try {
      payload = decodePayload(bytes);
    } catch (err) {
      return this.failed(err as Error, topic);
    }
    this.counters.messages++;
    const key = `${t.group}/${t.node}`;
    const node = this.nodes.get(key);
    switch (t.type) {
      case 'NBIRTH': {
        const bdSeq = payload.metrics.find((m) => m.name === 'bdSeq')?.value;
        const fresh: NodeState = { aliases: new AliasTable(payload.metrics), online: true, bdSeq: typeof bdSeq === 'number' ? bdSeq : undefined, rebirthAsked: false, devices: new Map() };
        this.nodes.set(key, fresh);
        this.logger.info({ connector: this.name, group: t.group, node: t.node }, 'sparkplug edge node born');
        this.linkState({ group: t.group, type: t.type, node: t.node }, true);
        return this.emit(t, fresh, payload);
      }
      case 'NDEATH': {
        const bdSeq = payload.metrics.find((m) => m.name === 'bdSeq')?.value;
        // Sparkplug 3.0 ch. 5 "Operational Behavior": only the death certificate of the current session counts.
        if (!node || (node.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== node.bdSeq)) return;
        node.online = false;
        for (const d of node.devices.values()) d.online = false;
        // The node's death is its devices' too (Sparkplug 3.0 ch. 5).
        this.linkState({ group: t.group, type: t.type, node: t.node }, false);
        for (const id of node.devices.keys()) this.linkState({ group: t.group, type: t.type, node: t.node, device: id }, false);
        this.logger.info({ connector: this.name, group: t.group, node: t.node }, 'sparkplug edge node died');
        return;
      }
    }
    if (!node?.online) return this.askRebirth(t, 'data before NBIRTH');
    if (t.type === 'NDATA') return this.emit(t, node, payload);
    const device = t.device as string;
    if (t.type === 'DBIRTH') {
      const born: Born = { aliases: new AliasTable(payload.metrics), online: true };
      node.devices.set(device, born);
      this.linkState(t, true);
      return this.emit(t, born, payload);
    }
    const born = node.devices.get(device);
    if (t.type === 'DDEATH') {
      if (born) born.online = false;
      this.linkState(t, false);
      this.logger.info({ connector: this.name, group: t.group, node: t.node, device }, 'sparkplug device died');
      return;
    }
    if (!born?.online) return this.askRebirth(t, `DDATA before DBIRTH of ${device}`);
    this.emit(t, born, payload);
  }

  /** Birth and death are the field device's connectivity: the child's `online` on the platform (the uplink drops repeats). */
  private linkState(t: SparkplugTopic, online: boolean): void {
    const name = this.childName(t);
    if (name !== undefined) this.sink?.deviceStatus?.(name, online, online ? undefined : 'death certificate');
  }

  /** The child a node or device reports as: its mapping's name, else its Sparkplug id when discovering. */
  private childName(t: SparkplugTopic): string | undefined {
    const mapped = this.config.devices.find((d) => d.node === t.node && d.device === t.device && (d.group === undefined || d.group === t.group));
    if (mapped) return mapped.name;
    return this.config.discover ? (t.device ?? t.node) : undefined;
  }

  private emit(t: SparkplugTopic, born: Born, payload: Payload): void {
    const { groups, unknownAliases } = metricsToTelemetry(payload, born.aliases, Date.now());
    if (unknownAliases.length > 0) this.askRebirth(t, `unknown aliases ${unknownAliases.join(',')}`);
    const device = this.childName(t);
    if (!device) return;
    for (const g of groups.sort((a, b) => a.ts - b.ts)) {
      // Readings of one device carry increasing timestamps (ports.ts): a repeat moves up by 1 ms.
      const last = this.lastTs.get(device) ?? 0;
      const ts = g.ts > last ? g.ts : last + 1;
      this.lastTs.set(device, ts);
      this.sink?.reading({ device, ts, values: g.values });
    }
  }

  /** NCMD "Node Control/Rebirth" (Sparkplug 3.0 ch. 6 "Payloads"), once until the node is born again. */
  private askRebirth(t: SparkplugTopic, why: string): void {
    const key = `${t.group}/${t.node}`;
    const node = this.nodes.get(key);
    this.logger.warn({ connector: this.name, group: t.group, node: t.node, device: t.device, reason: why }, 'sparkplug data without birth; asking for rebirth');
    if (node?.rebirthAsked) return;
    if (node) node.rebirthAsked = true;
    else this.nodes.set(key, { aliases: new AliasTable(), online: false, bdSeq: undefined, rebirthAsked: true, devices: new Map() });
    this.counters.rebirths++;
    const payload = encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }] });
    this.client?.publish(topicFor({ group: t.group, type: 'NCMD', node: t.node }), payload, { qos: 0 });
  }

  private failed(err: Error, where: string): void {
    this.counters.errors++;
    this.lastError = err.message;
    this.logger.warn({ connector: this.name, where, err: err.message }, 'sparkplug connector error');
  }
}
