/**
 * The edge's only link to the platform: one MQTT connection as the gateway device (ThingsBoard
 * gateway API, docs/DEVICE-API.md). It uploads what is in the buffer at QoS 1 and deletes a row
 * only on its PUBACK, which the platform sends after its commit — so a reading is either in the
 * platform or still in the buffer, whatever fails in between.
 *
 * Two cursors per connection. Rows written after the connection came up are live and go out at
 * once; rows that were already waiting (the backlog) go out oldest first, limited to
 * drainPerSecond, so a long outage does not flood the platform and live data keeps flowing.
 * Rows sent on a connection that broke before the PUBACK stay in the buffer and belong to the
 * next connection's backlog; the platform stores telemetry idempotently by (device, key, ts), so
 * a row sent twice is stored once.
 *
 * MQTT.js's own reconnect is off: it would replay its in-memory outbox on reconnect, a second
 * source of retransmission beside the buffer. Each connection is a fresh client, numbered, and
 * callbacks of an older one are ignored.
 *
 * Children's connectivity (docs/EDGE.md): at each connect every child is announced with
 * `v1/gateway/connect`, or `v1/gateway/disconnect` when its connector says it does not answer;
 * afterwards each change goes out as it happens, and so do children added or removed by a
 * configuration push (setDevices). The platform takes the gateway's session ending as all of its
 * children going offline, so nothing needs to be sent for that.
 */
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import type { JsonValue } from '../../domain/telemetry.js';
import type { ReadingBuffer, BufferedReading } from '../buffer/sqlite-buffer.js';
import type { EdgeConfig } from '../config.js';
import type { EdgeLogger } from '../ports.js';
import { CHUNK_FILTERS, ChunkRequests, type ChunkTarget } from './chunk-requests.js';

export type CommandHandler = (device: string, method: string, params: JsonValue) => Promise<JsonValue>;

export interface UplinkOptions {
  readonly platform: NonNullable<EdgeConfig['platform']>;
  readonly buffer: EdgeConfig['buffer'];
  readonly store: ReadingBuffer;
  readonly devices: readonly string[];
  /** A child's configured type (its profile on the platform), announced with it; read at each announce, so pushes count. */
  readonly typeOf?: (device: string) => string | undefined;
  readonly onCommand: CommandHandler;
  readonly logger: EdgeLogger;
  /**
   * Shared attributes of the gateway device itself (v1/devices/me/attributes): the keys are
   * requested at every connect (`complete`: the answer, holding every key that is set), then
   * each update arrives with the changed keys and `deleted`.
   */
  readonly sharedAttributes?: {
    readonly keys: readonly string[];
    onUpdate(values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[]): void;
  };
  /**
   * Shared attributes of the children (v1/gateway/attributes): every child's are requested at
   * each connect (`complete`), then updates arrive per child with the changed keys and `deleted`.
   */
  readonly childAttributes?: {
    onUpdate(device: string, values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[]): void;
  };
}

export interface UplinkStatus {
  readonly connected: boolean;
  readonly inflight: number;
  readonly uploaded: number;
  readonly connects: number;
}

interface Link {
  readonly gen: number;
  readonly client: mqtt.MqttClient;
  up: boolean;
  inflight: number;
  /** Rows with seq ≤ liveFrom were waiting when the link came up: the backlog. */
  liveFrom: number;
  liveCursor: number;
  backlogCursor: number;
  tokens: number;
  lastRefill: number;
  drainStarted: number;
  drainTimer?: NodeJS.Timeout;
}

export class GatewayUplink {
  private link: Link | undefined;
  private gen = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private uploaded = 0;
  private connects = 0;
  private attributeRequests = 0;
  /** The children this edge answers for (replaced by a configuration push). */
  private devices: string[];
  /** Children whose connector reported them not answering. */
  private readonly down = new Set<string>();
  /** Client attributes reported so far; all of them go out again at each connect. */
  private readonly clientAttributes: Record<string, JsonValue> = {};
  /** Client attributes of children read by their connector (latest per key); all go out again at each connect. */
  private readonly childClientAttributes = new Map<string, Record<string, JsonValue>>();
  private readonly connectListeners: (() => void)[] = [];
  private readonly chunks = new ChunkRequests();

  constructor(private readonly options: UplinkOptions) {
    this.devices = [...options.devices];
    options.store.onAppend(() => this.pump());
  }

  /** The children after a configuration push: new ones are announced at once, removed ones disconnected. */
  setDevices(devices: readonly string[]): { added: string[]; removed: string[] } {
    const added = devices.filter((d) => !this.devices.includes(d));
    const removed = this.devices.filter((d) => !devices.includes(d));
    this.devices = [...devices];
    for (const d of removed) {
      this.down.delete(d);
      this.childClientAttributes.delete(d);
      this.announce(d, false);
    }
    for (const d of added) this.announce(d, !this.down.has(d));
    if (this.link?.up) for (const d of added) this.requestChildAttributes(this.link, d);
    return { added, removed };
  }

  /** Runs after each connect, once the link is up (alarm sync). */
  onConnected(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  /** QoS 1 on the live connection; resolves on the PUBACK, rejects when down or when the connection breaks first. */
  publishAcked(topic: string, body: JsonValue): Promise<void> {
    const link = this.link;
    if (!link?.up) return Promise.reject(new Error('platform not connected'));
    return new Promise((resolve, reject) => {
      link.client.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * One chunk of a firmware image (a child's through the gateway API, or the gateway's own),
   * asked on the live connection; rejects with a ChunkRequestError (retryable or a refusal).
   */
  requestChunk(target: ChunkTarget, chunk: number, size: number, timeoutMs: number): Promise<Buffer> {
    return this.chunks.request(this.link?.up ? this.link.client : undefined, target, chunk, size, timeoutMs);
  }

  /** Publishes the gateway's own telemetry at QoS 1 when connected (firmware states); false when down. */
  publishOwnAcked(values: Record<string, JsonValue>): boolean {
    const link = this.link;
    if (!link?.up) return false;
    link.client.publish('v1/devices/me/telemetry', JSON.stringify(values), { qos: 1 });
    return true;
  }

  private requestChildAttributes(link: Link, device: string): void {
    // No keys: every shared attribute of the child (services/gateway.ts gatewayAttributeRequest).
    link.client.publish('v1/gateway/attributes/request', JSON.stringify({ id: ++this.attributeRequests, device }), { qos: 1 });
  }

  /** A connector's view of a field device changed: the platform shows the child online or offline. */
  deviceOnline(device: string, online: boolean): void {
    if (online === !this.down.has(device)) return;
    if (online) this.down.delete(device);
    else this.down.add(device);
    if (this.devices.includes(device)) this.announce(device, online);
  }

  /**
   * QoS 1 on the live connection; nothing while down (each connect announces every child anyway).
   * A connect carries the child's `type` when configured: the ThingsBoard gateway API's
   * `{"device", "type"}`, the profile the platform gives a child it creates on first sight.
   */
  private announce(device: string, online: boolean): void {
    const link = this.link;
    if (!link?.up) return;
    const type = online ? this.options.typeOf?.(device) : undefined;
    const body = type === undefined ? { device } : { device, type };
    link.client.publish(online ? 'v1/gateway/connect' : 'v1/gateway/disconnect', JSON.stringify(body), { qos: 1 });
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.chunks.failAll('edge stopping');
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    clearTimeout(link.drainTimer);
    // Let acknowledgements already on their way arrive, then close; what is unacknowledged stays
    // buffered. Bounded, so a half-open connection cannot hold up shutdown.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        link.client.end(true);
        resolve();
      }, 2000);
      link.client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  status(): UplinkStatus {
    return { connected: this.link?.up ?? false, inflight: this.link?.inflight ?? 0, uploaded: this.uploaded, connects: this.connects };
  }

  /** Publishes the gateway's own telemetry (health); QoS 0 and not buffered: a missed sample is replaced by the next. */
  publishOwnTelemetry(values: Record<string, JsonValue>): void {
    const link = this.link;
    if (link?.up) link.client.publish('v1/devices/me/telemetry', JSON.stringify(values), { qos: 0 });
  }

  /** Reports client attributes of the gateway device (QoS 1); kept and sent again at each connect. */
  publishAttributes(values: Record<string, JsonValue>): void {
    for (const [k, v] of Object.entries(values)) Object.defineProperty(this.clientAttributes, k, { value: v, enumerable: true, writable: true, configurable: true });
    const link = this.link;
    if (link?.up) link.client.publish('v1/devices/me/attributes', JSON.stringify(values), { qos: 1 });
  }

  /** Reports client attributes of a child (`{"device": {…}}` on v1/gateway/attributes, QoS 1); kept and sent again at each connect. */
  publishChildAttributes(device: string, values: Readonly<Record<string, JsonValue>>): void {
    const kept = this.childClientAttributes.get(device) ?? {};
    for (const [k, v] of Object.entries(values)) Object.defineProperty(kept, k, { value: v, enumerable: true, writable: true, configurable: true });
    this.childClientAttributes.set(device, kept);
    const link = this.link;
    if (link?.up && this.devices.includes(device)) link.client.publish('v1/gateway/attributes', JSON.stringify({ [device]: values }), { qos: 1 });
  }

  private open(): void {
    if (this.stopped) return;
    const p = this.options.platform;
    const gen = ++this.gen;
    const client = mqtt.connect(p.url, {
      username: p.token,
      clientId: p.clientId ?? `continuum-edge-${process.pid}-${gen}`,
      keepalive: p.keepaliveS,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(p.tls?.ca ? { ca: readFileSync(p.tls.ca) } : {}),
      ...(p.tls?.cert ? { cert: readFileSync(p.tls.cert) } : {}),
      ...(p.tls?.key ? { key: readFileSync(p.tls.key) } : {}),
      ...(p.tls ? { rejectUnauthorized: p.tls.rejectUnauthorized } : {}),
    });
    const link: Link = { gen, client, up: false, inflight: 0, liveFrom: 0, liveCursor: 0, backlogCursor: 0, tokens: 0, lastRefill: 0, drainStarted: 0 };
    this.link = link;
    client.on('connect', () => this.connected(link));
    client.on('message', (topic, payload) => this.message(link, topic, payload));
    client.on('error', (err) => {
      if (this.attempt <= 1) this.options.logger.warn({ err: err.message, url: p.url }, 'platform connection error');
    });
    client.on('close', () => this.closed(link));
  }

  private connected(link: Link): void {
    if (this.link !== link) return;
    const { logger, store } = this.options;
    link.up = true;
    this.attempt = 0;
    this.connects++;
    link.liveFrom = store.lastSeq();
    link.liveCursor = link.liveFrom;
    link.backlogCursor = 0;
    link.lastRefill = Date.now();
    link.drainStarted = Date.now();
    const backlog = store.stats().depth;
    logger.info({ url: this.options.platform.url, backlog }, 'connected to the platform');
    link.client.subscribe('v1/gateway/rpc', { qos: 1 });
    // Chunks at QoS 0: a lost one is a timeout and asked again (docs/OTA.md on QoS 1 and Nagle).
    link.client.subscribe(CHUNK_FILTERS, { qos: 0 });
    for (const device of this.devices) this.announce(device, !this.down.has(device));
    const children = Object.fromEntries([...this.childClientAttributes].filter(([device]) => this.devices.includes(device)));
    if (Object.keys(children).length > 0) link.client.publish('v1/gateway/attributes', JSON.stringify(children), { qos: 1 });
    if (Object.keys(this.clientAttributes).length > 0) link.client.publish('v1/devices/me/attributes', JSON.stringify(this.clientAttributes), { qos: 1 });
    const shared = this.options.sharedAttributes;
    if (shared) {
      // Subscribed before the request, so an update made between the two is not missed.
      link.client.subscribe(['v1/devices/me/attributes', 'v1/devices/me/attributes/response/+'], { qos: 1 });
      link.client.publish(`v1/devices/me/attributes/request/${++this.attributeRequests}`, JSON.stringify({ sharedKeys: shared.keys.join(',') }), { qos: 1 });
    }
    if (this.options.childAttributes) {
      link.client.subscribe(['v1/gateway/attributes', 'v1/gateway/attributes/response'], { qos: 1 });
      for (const device of this.devices) this.requestChildAttributes(link, device);
    }
    for (const listener of this.connectListeners) listener();
    this.pump();
  }

  private closed(link: Link): void {
    if (this.link !== link) return;
    const wasUp = link.up;
    link.up = false;
    clearTimeout(link.drainTimer);
    this.chunks.failAll('platform connection lost');
    // Flushes MQTT.js's outbox with errors; those callbacks are ignored (stale generation).
    link.client.end(true);
    this.link = undefined;
    if (this.stopped) return;
    if (wasUp) this.options.logger.warn({ depth: this.options.store.stats().depth }, 'platform connection lost; buffering');
    const delay = Math.min(this.options.platform.reconnectMaxMs, this.options.platform.reconnectMs * 2 ** Math.min(this.attempt, 10));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  /** Sends what the window allows: live rows first, then backlog rows as the rate permits. */
  private pump(): void {
    const link = this.link;
    if (!link?.up || this.stopped) return;
    const { store, buffer } = this.options;
    while (link.inflight < buffer.maxInflight) {
      const live = store.read(link.liveCursor, buffer.batchSize);
      if (live.length > 0) {
        link.liveCursor = (live[live.length - 1] as BufferedReading).seq;
        this.send(link, live);
        continue;
      }
      if (link.backlogCursor >= link.liveFrom) return;
      const now = Date.now();
      link.tokens = Math.min(buffer.batchSize, link.tokens + ((now - link.lastRefill) * buffer.drainPerSecond) / 1000);
      link.lastRefill = now;
      const n = Math.floor(link.tokens);
      if (n < 1) {
        if (!link.drainTimer) {
          link.drainTimer = setTimeout(() => {
            link.drainTimer = undefined;
            this.pump();
          }, Math.ceil(((1 - link.tokens) * 1000) / buffer.drainPerSecond));
        }
        return;
      }
      const rows = store.read(link.backlogCursor, n, link.liveFrom);
      if (rows.length === 0) {
        link.backlogCursor = link.liveFrom;
        this.options.logger.info({ tookMs: Date.now() - link.drainStarted }, 'backlog sent');
        return;
      }
      link.tokens -= rows.length;
      link.backlogCursor = (rows[rows.length - 1] as BufferedReading).seq;
      this.send(link, rows);
    }
  }

  private send(link: Link, rows: readonly BufferedReading[]): void {
    // {"plc-1": [{"ts", "values"}, …]}: oldest first per device, as captured.
    const body: Record<string, { ts: number; values: Record<string, JsonValue> }[]> = {};
    for (const r of rows) (body[r.device] ??= []).push({ ts: r.ts, values: r.values as Record<string, JsonValue> });
    link.inflight++;
    link.client.publish('v1/gateway/telemetry', JSON.stringify(body), { qos: 1 }, (err) => {
      if (this.link !== link && err) return;
      link.inflight--;
      if (err) return;
      this.options.store.remove(rows.map((r) => r.seq));
      this.uploaded += rows.length;
      this.pump();
    });
  }

  private message(link: Link, topic: string, payload: Buffer): void {
    if (this.chunks.onMessage(topic, payload)) return;
    if (topic.startsWith('v1/devices/me/attributes')) return this.sharedMessage(topic, payload);
    if (topic.startsWith('v1/gateway/attributes')) return this.childAttributeMessage(topic, payload);
    if (topic !== 'v1/gateway/rpc') return;
    let request: { device?: unknown; data?: { id?: unknown; method?: unknown; params?: unknown } };
    try {
      request = JSON.parse(payload.toString()) as typeof request;
    } catch {
      this.options.logger.warn({ topic }, 'unreadable RPC request');
      return;
    }
    const device = request.device;
    const id = request.data?.id;
    const method = request.data?.method;
    if (typeof device !== 'string' || id === undefined || typeof method !== 'string') {
      this.options.logger.warn({ request }, 'RPC request without device, id or method');
      return;
    }
    const reply = (data: JsonValue): void => {
      if (link.up) link.client.publish('v1/gateway/rpc', JSON.stringify({ device, id, data }), { qos: 1 });
    };
    this.options.onCommand(device, method, (request.data?.params ?? {}) as JsonValue).then(reply, (err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      this.options.logger.warn({ device, method, err: error }, 'command failed');
      // {"error": …} is the convention the platform reads as FAILED.
      reply({ error });
    });
  }

  /** `{"device", "data": {…} | {"deleted": […]}}` (update) or `{"id", "device", "values": {…}}` (answer to a request). */
  private childAttributeMessage(topic: string, payload: Buffer): void {
    const target = this.options.childAttributes;
    if (!target) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      this.options.logger.warn({ topic }, 'unreadable child attributes');
      return;
    }
    const isObject = (v: unknown): v is Record<string, JsonValue> => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObject(body) || typeof body.device !== 'string' || !this.devices.includes(body.device)) return;
    if (topic === 'v1/gateway/attributes/response') {
      if (isObject(body.values)) target.onUpdate(body.device, body.values, true, []);
      return;
    }
    if (!isObject(body.data)) return;
    const deleted = Array.isArray(body.data.deleted) ? body.data.deleted.filter((k): k is string => typeof k === 'string') : [];
    const { deleted: _deleted, ...values } = body.data;
    target.onUpdate(body.device, values, false, deleted);
  }

  private sharedMessage(topic: string, payload: Buffer): void {
    const shared = this.options.sharedAttributes;
    if (!shared) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      this.options.logger.warn({ topic }, 'unreadable shared attributes');
      return;
    }
    const isObject = (v: unknown): v is Record<string, JsonValue> => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObject(body)) return;
    if (topic.startsWith('v1/devices/me/attributes/response/')) {
      // {"shared": {...}} holds every requested key that is set; none set: no "shared" at all.
      shared.onUpdate(isObject(body.shared) ? body.shared : {}, true, []);
      return;
    }
    const deleted = Array.isArray(body.deleted) ? body.deleted.filter((k): k is string => typeof k === 'string') : [];
    const { deleted: _deleted, ...values } = body;
    shared.onUpdate(values, false, deleted);
  }
}
