/**
 * The `frames` connector: proprietary binary devices over TCP or a serial line, described in the
 * config instead of coded. Bytes → frames (codec.ts Framer) → checksum check → the first device
 * whose `match` fits → one reading of its fields. Frames with a bad checksum are counted and
 * logged, never stored. An optional request frame is written every pollMs; commands are hex
 * templates written to the line. The line reconnects with exponential backoff when it drops.
 */
import { connect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { Duplex } from 'node:stream';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import { reportDeviceStatus } from '../common.js';
import { checksumOk, decodeField, Framer, hexBytes, parseHexTemplate, renderTemplate, type TemplatePart } from './codec.js';
import type { FrameDeviceConfig, FramesConfig } from './schema.js';

export type { FramesConfig } from './schema.js';

export interface FramesStatus extends ConnectorStatus {
  readonly frames: number;
  readonly badChecksum: number;
  readonly unmatched: number;
  readonly discardedBytes: number;
}

interface DeviceRuntime {
  readonly config: FrameDeviceConfig;
  readonly match: Buffer | undefined;
  readonly commands: Map<string, TemplatePart[]>;
  lastTs: number;
  /** Offline when the line drops, online again with its next frame (reportDeviceStatus). */
  online?: boolean;
}

/** A command's number: `params.value`, or params itself when it is a number. */
function commandNumber(params: JsonValue): number | undefined {
  if (typeof params === 'number') return params;
  if (typeof params === 'boolean') return params ? 1 : 0;
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    const v = params.value;
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
  }
  return undefined;
}

export class FramesConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private readonly runtimes: DeviceRuntime[];
  private readonly request: TemplatePart[] | undefined;
  private line: Duplex | undefined;
  private framer: Framer;
  private sink: ReadingSink | undefined;
  private stopped = true;
  private connected = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private counters = { errors: 0, frames: 0, badChecksum: 0, unmatched: 0, discardedBefore: 0 };
  private lastError: string | undefined;

  constructor(
    private readonly config: FramesConfig,
    private readonly logger: EdgeLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    this.runtimes = config.devices.map((d) => ({
      config: d,
      match: d.match ? hexBytes(d.match.bytes) : undefined,
      commands: new Map(d.commands.map((c) => [c.method, parseHexTemplate(c.hex)])),
      lastTs: 0,
    }));
    this.request = config.request ? parseHexTemplate(config.request.hex) : undefined;
    this.framer = new Framer(config.framing);
  }

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    await this.open();
    if (this.config.request) this.pollTimer = setInterval(() => this.poll(), this.config.request.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pollTimer);
    const line = this.line;
    this.line = undefined;
    if (line && !line.destroyed) {
      await new Promise<void>((resolve) => {
        line.once('close', () => resolve());
        line.destroy();
      });
    }
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const rt = this.runtimes.find((r) => r.config.name === device);
    const template = rt?.commands.get(method);
    if (!template) throw new Error(`device "${device}" has no command "${method}"`);
    const bytes = renderTemplate(template, commandNumber(params));
    const line = this.line;
    if (!line || !this.connected) throw new Error(`${this.where()} is not connected`);
    await new Promise<void>((resolve, reject) => line.write(bytes, (err) => (err ? reject(err) : resolve())));
    return { written: bytes.toString('hex') };
  }

  status(): FramesStatus {
    return {
      name: this.name,
      connected: this.connected,
      errors: this.counters.errors,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      polls: this.counters.frames,
      frames: this.counters.frames,
      badChecksum: this.counters.badChecksum,
      unmatched: this.counters.unmatched,
      discardedBytes: this.counters.discardedBefore + this.framer.discarded,
    };
  }

  // ------------------------------------------------------------------ the line

  private where(): string {
    const t = this.config.transport;
    return t.type === 'tcp' ? `${t.host}:${t.port}` : t.path;
  }

  /** Opens the line; on failure schedules a retry, so start() never fails because a device is away. */
  private async open(): Promise<void> {
    try {
      const line = await this.openLine();
      if (this.stopped) {
        line.destroy();
        return;
      }
      this.line = line;
      this.connected = true;
      this.attempt = 0;
      this.counters.discardedBefore += this.framer.discarded;
      this.framer = new Framer(this.config.framing); // a partial frame of the old line is not continued
      line.on('data', (chunk: Buffer) => this.onData(chunk));
      line.on('error', (err: Error) => this.failed(err));
      line.on('close', () => this.lost());
      this.logger.info({ connector: this.name, line: this.where() }, 'frames line open');
    } catch (err) {
      this.failed(err as Error);
      this.scheduleReconnect();
    }
  }

  private openLine(): Promise<Duplex> {
    const t = this.config.transport;
    if (t.type === 'tcp') {
      return new Promise((resolve, reject) => {
        const socket: Socket = connect({ host: t.host, port: t.port });
        socket.once('connect', () => {
          socket.off('error', reject);
          socket.setNoDelay(true);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    }
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: t.path, baudRate: t.baudRate, dataBits: t.dataBits, parity: t.parity, stopBits: t.stopBits }, (err) => (err ? reject(err) : resolve(port)));
    });
  }

  private failed(err: Error): void {
    this.counters.errors++;
    this.lastError = err.message;
    this.logger.warn({ connector: this.name, line: this.where(), err: err.message }, 'frames line error');
  }

  private lost(): void {
    if (!this.connected) return;
    this.connected = false;
    this.line = undefined;
    if (this.stopped) return;
    // No line, no device on it is reachable.
    for (const rt of this.runtimes) reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, false, 'line closed');
    this.logger.warn({ connector: this.name, line: this.where() }, 'frames line closed; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const { minMs, maxMs } = this.config.reconnect;
    const delay = Math.min(maxMs, minMs * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private poll(): void {
    if (!this.connected || !this.line || !this.request) return;
    this.line.write(renderTemplate(this.request));
  }

  // ------------------------------------------------------------------ frames

  private onData(chunk: Buffer): void {
    for (const frame of this.framer.push(chunk)) this.onFrame(frame);
  }

  private onFrame(frame: Buffer): void {
    const hex = (): string => frame.subarray(0, 64).toString('hex');
    if (this.config.checksum && !checksumOk(this.config.checksum, frame)) {
      this.counters.badChecksum++;
      this.logger.warn({ connector: this.name, line: this.where(), frame: hex(), checksum: this.config.checksum.type }, 'frame with a bad checksum dropped');
      return;
    }
    const rt = this.runtimes.find((r) => !r.match || frame.subarray(r.config.match?.offset ?? 0).subarray(0, r.match.length).equals(r.match));
    if (!rt) {
      this.counters.unmatched++;
      this.logger.info({ connector: this.name, frame: hex() }, 'frame matches no device');
      return;
    }
    const values: Record<string, JsonValue> = {};
    const missing: string[] = [];
    for (const f of rt.config.fields) {
      const v = decodeField(f, frame);
      if (v === undefined) missing.push(f.key);
      else values[f.key] = v;
    }
    if (missing.length > 0) this.logger.warn({ connector: this.name, device: rt.config.name, missing, frame: hex() }, 'frame too short for some fields');
    this.counters.frames++;
    if (!this.stopped) reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, true);
    if (Object.keys(values).length === 0) return;
    // Strictly increasing per device: two frames in one millisecond are still two readings.
    const ts = Math.max(this.now(), rt.lastTs + 1);
    rt.lastTs = ts;
    this.sink?.reading({ device: rt.config.name, ts, values });
  }
}
