/**
 * One simulated MQTT device: a lean MQTT 3.1.1 client on node:net. CONNECT with the access token
 * as user name, QoS 1 telemetry, subscriptions to RPC requests and shared attributes, PINGREQ
 * when idle for half the keepalive [MQTT-3.1.2-23], reconnect with backoff. Incoming packets are
 * framed by hand (wire.ts): at 10,000 devices a generic parser per connection costs more memory
 * and CPU than the devices' own work.
 */
import { connect, type Socket } from 'node:net';
import type { JsonValue } from '../../../domain/telemetry.js';
import { backoffMs, isObject, parseJson, type DeviceLink, type LinkContext } from '../types.js';
import { connectPacket, Framer, publishPacket, publishParts, PINGREQ, pubackPacket, subscribePacket, DISCONNECT, type FrameHandler } from '../../../protocols/mqtt/client-wire.js';

const TELEMETRY = 'v1/devices/me/telemetry';
const ATTRIBUTES = 'v1/devices/me/attributes';
const RPC_REQUEST = 'v1/devices/me/rpc/request/';
const RPC_RESPONSE = 'v1/devices/me/rpc/response/';
const ATTR_RESPONSE = 'v1/devices/me/attributes/response/';
const FW_RESPONSE = 'v2/fw/response/';
const CONNACK_TIMEOUT_MS = 30_000;

export interface MqttEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Limits how many handshakes run at once, so 10,000 devices do not overflow the server's accept backlog. */
export class ConnectGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

export interface MqttLinkOptions {
  readonly endpoint: MqttEndpoint;
  readonly gate: ConnectGate;
  /** Seconds; the server drops a client silent for 1.5 × keepalive. */
  readonly keepaliveS?: number;
}

type Kind = 'telemetry' | 'attributes' | 'other';

export class MqttLink implements DeviceLink, FrameHandler {
  private socket: Socket | undefined;
  private framer = new Framer(this);
  private nextId = 1;
  /** Packet id → what it carried, so a PUBACK is counted as the right thing. */
  private readonly inflight = new Map<number, Kind>();
  private attempts = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private lastRead = 0;
  private onConnack: ((code: number) => void) | undefined;
  up = false;
  pending = 0;

  constructor(
    private readonly ctx: LinkContext,
    private readonly opts: MqttLinkOptions,
  ) {}

  start(): void {
    void this.connectOnce();
  }

  private async connectOnce(): Promise<void> {
    await this.opts.gate.acquire();
    if (this.stopped) return this.opts.gate.release();
    const socket = connect({ host: this.opts.endpoint.host, port: this.opts.endpoint.port });
    this.socket = socket;
    this.framer = new Framer(this);
    socket.setNoDelay(true);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.opts.gate.release();
    };
    const timer = setTimeout(() => {
      this.ctx.log.warn({ device: this.ctx.name }, 'no CONNACK in time');
      socket.destroy();
    }, CONNACK_TIMEOUT_MS);
    this.onConnack = (code) => {
      clearTimeout(timer);
      release();
      if (code !== 0) {
        this.ctx.counters.errors++;
        this.ctx.log.warn({ device: this.ctx.name, code }, 'CONNACK refused');
        socket.destroy();
        return;
      }
      this.online();
    };
    socket.on('data', (chunk: Buffer) => {
      this.lastRead = performance.now();
      try {
        this.framer.push(chunk);
      } catch (err) {
        this.ctx.log.warn({ device: this.ctx.name, err: (err as Error).message }, 'malformed packet from server');
        socket.destroy();
      }
    });
    socket.on('error', (err) => {
      if (!this.stopped && this.attempts === 0) this.ctx.log.warn({ device: this.ctx.name, err: err.message }, 'connection error');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      release();
      this.lost(socket);
    });
    this.write(connectPacket(this.ctx.name, this.ctx.token, this.opts.keepaliveS ?? 60));
  }

  private online(): void {
    this.up = true;
    this.attempts = 0;
    this.ctx.counters.connected++;
    this.write(subscribePacket([`${RPC_REQUEST}+`, ATTRIBUTES, `${ATTR_RESPONSE}+`], this.id()));
    // Firmware chunks only for devices that update (`--ota`); the socket has TCP_NODELAY, so the PUBACK per chunk costs no Nagle delay.
    if (this.ctx.handlers.firmwareChunk) this.write(subscribePacket(`${FW_RESPONSE}+/chunk/+`, this.id()));
    // Current shared attributes, so a device starts from its set points rather than defaults.
    this.write(publishPacket(`v1/devices/me/attributes/request/1`, '{}', 0));
    const keepaliveMs = (this.opts.keepaliveS ?? 60) * 1000;
    this.lastRead = performance.now();
    this.pingTimer = setInterval(() => {
      const now = performance.now();
      // Nothing from the server (not even a PINGRESP) for 1.5 keepalives: the link is dead
      // even if TCP has not noticed; reconnect rather than publish into the void.
      if (now - this.lastRead > keepaliveMs * 1.5) {
        this.ctx.log.warn({ device: this.ctx.name }, 'server silent for 1.5 keepalive periods, reconnecting');
        this.socket?.destroy();
        return;
      }
      if (now - this.lastWrite > keepaliveMs / 2 || now - this.lastRead > keepaliveMs / 2) this.write(PINGREQ);
    }, keepaliveMs / 4);
    this.pingTimer.unref();
    this.ctx.handlers.connected();
  }

  private lost(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    clearInterval(this.pingTimer);
    if (this.up) {
      this.up = false;
      this.ctx.counters.connected--;
    }
    // Messages in flight when the connection dropped were never confirmed stored.
    this.ctx.counters.errors += this.pending;
    this.pending = 0;
    this.inflight.clear();
    if (this.stopped) return;
    const delay = backoffMs(this.attempts++);
    this.reconnectTimer = setTimeout(() => void this.connectOnce(), delay);
  }

  private id(): number {
    // Skip ids still in flight: reusing one would make its PUBACK ambiguous [MQTT-2.3.1-2].
    let id = this.nextId;
    while (this.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
    this.nextId = id === 65535 ? 1 : id + 1;
    return id;
  }

  private write(buf: Buffer): void {
    if (!this.socket || this.socket.destroyed) return;
    this.lastWrite = performance.now();
    this.socket.write(buf);
  }

  telemetry(json: string): void {
    if (!this.publishOut(TELEMETRY, json, 'telemetry')) return;
    this.ctx.counters.sent++;
    this.pending++;
  }

  attributes(json: string): void {
    this.publishOut(ATTRIBUTES, json, 'attributes');
  }

  puback(messageId: number): void {
    const kind = this.inflight.get(messageId);
    if (kind === undefined) return;
    this.inflight.delete(messageId);
    if (kind !== 'telemetry') return;
    this.ctx.counters.acked++;
    this.ctx.counters.firstAcked ??= this.ctx.name;
    this.pending--;
  }

  private incoming(topic: string, payload: Buffer): void {
    if (topic === ATTRIBUTES) return this.shared(payload);
    if (topic.startsWith(ATTR_RESPONSE)) {
      const body = parseJson(payload.toString('utf8'));
      if (isObject(body) && isObject(body.shared)) this.ctx.handlers.shared(body.shared);
      return;
    }
    if (topic.startsWith(RPC_REQUEST)) return this.rpc(topic.slice(RPC_REQUEST.length), payload);
    if (topic.startsWith(FW_RESPONSE)) {
      const [requestId, , n] = topic.slice(FW_RESPONSE.length).split('/');
      if (requestId !== undefined && n !== undefined) this.ctx.handlers.firmwareChunk?.(requestId, Number(n), payload);
    }
  }

  requestFirmwareChunk(requestId: string, chunk: number, size: number): void {
    this.publishOut(`v2/fw/request/${requestId}/chunk/${chunk}`, String(size), 'other');
  }

  /** A PUBLISH from the server (FrameHandler). */
  publish(data: Buffer, header: number, body: number, end: number): void {
    const { topic, id, payload } = publishParts(data, header, body, end);
    if (id !== 0) {
      const ack = Buffer.allocUnsafe(4);
      pubackPacket(ack, 0, id);
      this.write(ack);
    }
    this.incoming(topic, payload);
  }

  private publishOut(topic: string, json: string, kind: Kind): boolean {
    if (!this.up) return false;
    const id = this.id();
    this.inflight.set(id, kind);
    this.write(publishPacket(topic, json, 1, id));
    return true;
  }

  private shared(payload: Buffer): void {
    const body = parseJson(payload.toString('utf8'));
    if (!isObject(body)) return this.ctx.log.warn({ device: this.ctx.name }, 'shared attribute update is not a JSON object');
    this.ctx.handlers.shared(body);
  }

  private rpc(requestId: string, payload: Buffer): void {
    const body = parseJson(payload.toString('utf8'));
    if (!isObject(body) || typeof body.method !== 'string') {
      this.ctx.log.warn({ device: this.ctx.name, requestId }, 'RPC request without a method');
      return;
    }
    this.ctx.counters.commands++;
    const result: JsonValue = this.ctx.handlers.command(body.method, body.params ?? null);
    this.publishOut(`${RPC_RESPONSE}${requestId}`, JSON.stringify(result), 'other');
  }

  other(type: number, packet: Buffer): void {
    if (type === 2) this.onConnack?.(packet[3] ?? 255);
    // SUBACK (9) and PINGRESP (13) need nothing.
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (this.up) socket.end(DISCONNECT);
      else socket.destroy();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }
}
