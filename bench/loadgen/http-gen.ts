/**
 * HTTP/1.1 keep-alive load: `sockets` persistent connections, one request in flight on each (no
 * pipelining, as real clients do), devices assigned to sockets round-robin so one device's
 * requests stay in order. Requests are written and responses framed by hand on raw sockets:
 * node:http's client costs more CPU per request than the server under test, and would be the
 * bottleneck. Responses must carry Content-Length (Fastify and node:http servers do).
 */
import { connect, type Socket } from 'node:net';
import { Histogram } from '../lib/histogram.js';
import { meterPayload, type RunResult, type RunSpec, type Target } from './protocol.js';

const HEADER_END = Buffer.from('\r\n\r\n');

interface Device {
  readonly index: number;
  readonly path: string;
  seq: number;
}

class HttpConn {
  private buffered: Buffer | undefined;
  private sentAt = 0;
  private current: { device: Device; seq: number } | undefined;
  private turn = 0;
  alive = true;

  constructor(
    private readonly gen: HttpLoad,
    private readonly socket: Socket,
    private readonly devices: readonly Device[],
    private readonly host: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.lost());
    socket.on('close', () => this.lost());
  }

  /** Sends the next request if none is in flight and the generator allows one. */
  next(): void {
    if (this.current || !this.alive || this.devices.length === 0 || !this.gen.mayStart()) return;
    const device = this.devices[this.turn++ % this.devices.length]!;
    const seq = ++device.seq;
    const body = meterPayload(this.gen.tsBase + seq, seq);
    this.current = { device, seq };
    this.sentAt = performance.now();
    this.gen.stats.sent++;
    this.socket.write(
      `POST ${device.path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      'latin1',
    );
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  private onData(chunk: Buffer): void {
    let data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.buffered = undefined;
    for (;;) {
      const headerEnd = data.indexOf(HEADER_END);
      if (headerEnd < 0) break;
      const head = data.toString('latin1', 0, headerEnd);
      const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const end = headerEnd + 4 + (match ? Number(match[1]) : 0);
      if (end > data.length) break;
      this.response(Number(head.slice(9, 12)));
      data = data.subarray(end);
    }
    if (data.length > 0) this.buffered = Buffer.from(data);
    this.next();
  }

  private response(status: number): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.gen.completed(current.device.index, current.seq, status, performance.now() - this.sentAt);
  }

  private lost(): void {
    if (!this.alive) return;
    this.alive = false;
    if (this.current) this.gen.stats.failed++;
    this.current = undefined;
    this.gen.checkDrained();
  }

  close(): void {
    this.alive = false;
    this.socket.destroy();
  }
}

export class HttpLoad {
  readonly stats = { sent: 0, acked: 0, ackedInWindow: 0, failed: 0, latency: new Histogram() };
  private readonly perAcked: number[];
  private readonly perPulse: number[];
  private conns: HttpConn[] = [];
  private deadline = 0;
  private draining = false;
  private credit = 0;
  private finish: (() => void) | undefined;
  tsBase = 0;

  constructor(
    private readonly target: Target,
    private readonly tokens: readonly string[],
    private readonly sockets: number,
  ) {
    this.perAcked = new Array<number>(tokens.length).fill(0);
    this.perPulse = new Array<number>(tokens.length).fill(0);
  }

  async run(spec: RunSpec): Promise<RunResult> {
    this.tsBase = spec.tsBase;
    const devices: Device[] = this.tokens.map((t, index) => ({ index, path: `/api/v1/${t}/telemetry`, seq: 0 }));
    const count = Math.min(this.sockets, devices.length);
    await Promise.all(Array.from({ length: count }, (_, i) => this.open(devices.filter((_d, k) => k % count === i))));
    const started = performance.now();
    this.deadline = started + spec.durationMs;
    let ticker: NodeJS.Timeout | undefined;
    if (spec.rate !== undefined) {
      const perMs = spec.rate / 1000;
      let last = started;
      ticker = setInterval(() => {
        const now = performance.now();
        this.credit = Math.min(this.credit + (now - last) * perMs, this.conns.length);
        last = now;
        for (const c of this.conns) if (!c.busy) c.next();
      }, 5);
    } else {
      this.credit = Infinity;
      for (const c of this.conns) c.next();
    }
    await new Promise<void>((resolve) => setTimeout(resolve, spec.durationMs));
    if (ticker) clearInterval(ticker);
    this.draining = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, spec.drainMs);
      this.finish = () => {
        clearTimeout(timer);
        resolve();
      };
      this.checkDrained();
    });
    const outstanding = this.conns.filter((c) => c.busy).length;
    for (const c of this.conns) c.close();
    const { latency, ...counts } = this.stats;
    return { elapsedMs: spec.durationMs, ...counts, outstanding, latency: latency.toJSON(), perDevice: { acked: this.perAcked, pulseSum: this.perPulse } };
  }

  private async open(devices: Device[]): Promise<void> {
    const socket = connect({ host: this.target.host, port: this.target.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.conns.push(new HttpConn(this, socket, devices, `${this.target.host}:${this.target.port}`));
  }

  mayStart(): boolean {
    if (this.draining) return false;
    if (this.credit < 1) return false;
    this.credit -= 1;
    return true;
  }

  completed(index: number, seq: number, status: number, latencyMs: number): void {
    if (status >= 200 && status < 300) {
      this.stats.acked++;
      if (performance.now() <= this.deadline) this.stats.ackedInWindow++;
      this.stats.latency.recordMs(latencyMs);
      this.perAcked[index]! += 1;
      this.perPulse[index]! += seq;
    } else {
      this.stats.failed++;
    }
    if (this.draining) this.checkDrained();
  }

  checkDrained(): void {
    if (this.draining && this.finish && !this.conns.some((c) => c.busy && c.alive)) this.finish();
  }
}
