/**
 * MQTT publishers: one TCP connection per device, each with its own access token, QoS 1 with a
 * window of packets in flight. In closed-loop mode every PUBACK chunk refills the window with one
 * socket write; in paced mode a 5 ms tick hands out credits (rate / devices per second each).
 * PUBACKs arrive in order on a connection (the server commits batches in order), so the in-flight
 * set is a ring; an out-of-order PUBACK falls back to a scan of the (small) window.
 */
import { connect, type Socket } from 'node:net';
import { Histogram } from '../lib/histogram.js';
import { connectPacket, Framer, PublishEncoder, TELEMETRY_TOPIC, type FrameHandler } from './mqtt-wire.js';
import { meterPayload, type ConnectResult, type RunResult, type RunSpec, type Target } from './protocol.js';

const TICK_MS = 5;
const CONNECT_TIMEOUT_MS = 30_000;
const encoder = new PublishEncoder(TELEMETRY_TOPIC);
const MAX_PACKET = encoder.maxSize(160);

/** Counters of the run in progress, shared by every connection of the pool. */
class RunStats {
  sent = 0;
  acked = 0;
  ackedInWindow = 0;
  failed = 0;
  readonly latency = new Histogram();
  constructor(
    readonly deadline: number,
    readonly perDeviceAcked: number[],
    readonly perDevicePulse: number[],
  ) {}
}

class PubConn implements FrameHandler {
  private readonly framer = new Framer(this);
  private readonly ids: Uint16Array;
  private readonly times: Float64Array;
  private readonly pulses: Float64Array;
  private head = 0;
  inflight = 0;
  private nextId = 1;
  seq = 0;
  credit = 0;
  alive = true;
  private now = 0;
  private onConnack: ((code: number) => void) | undefined;

  constructor(
    private readonly pool: PublisherPool,
    readonly index: number,
    readonly socket: Socket,
    readonly window: number,
  ) {
    this.ids = new Uint16Array(window);
    this.times = new Float64Array(window);
    this.pulses = new Float64Array(window);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.now = performance.now();
      this.framer.push(chunk);
      this.pool.afterAcks(this);
    });
    socket.on('close', () => this.lost());
    socket.on('error', () => this.lost());
  }

  handshake(token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no CONNACK in time')), CONNECT_TIMEOUT_MS);
      this.onConnack = (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`CONNACK return code ${code}`));
      };
      this.socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      this.socket.write(connectPacket(`bench-${this.index}`, token));
    });
  }

  /** Sends up to `n` messages in one write. */
  send(n: number, run: RunStats, tsBase: number, limit = this.window): void {
    const count = Math.min(n, Math.min(limit, this.window) - this.inflight);
    if (count <= 0 || !this.alive) return;
    const buf = Buffer.allocUnsafe(count * MAX_PACKET);
    const t = performance.now();
    let o = 0;
    for (let k = 0; k < count; k++) {
      const seq = ++this.seq;
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      o = encoder.write(buf, o, id, meterPayload(tsBase + seq, seq));
      const slot = (this.head + this.inflight) % this.window;
      this.ids[slot] = id;
      this.times[slot] = t;
      this.pulses[slot] = seq;
      this.inflight++;
    }
    run.sent += count;
    this.socket.write(buf.subarray(0, o));
  }

  puback(messageId: number): void {
    let slot = this.head;
    if (this.inflight === 0) return;
    if (this.ids[slot] !== messageId) {
      // Out of order: move the head entry into the acknowledged slot, then pop the head.
      let k = 1;
      while (k < this.inflight && this.ids[(this.head + k) % this.window] !== messageId) k++;
      if (k === this.inflight) return; // unknown id
      const found = (this.head + k) % this.window;
      const pulse = this.pulses[found]!;
      const time = this.times[found]!;
      this.ids[found] = this.ids[slot]!;
      this.pulses[found] = this.pulses[slot]!;
      this.times[found] = this.times[slot]!;
      this.pulses[slot] = pulse;
      this.times[slot] = time;
    }
    slot = this.head;
    this.head = (this.head + 1) % this.window;
    this.inflight--;
    this.pool.acked(this.index, this.pulses[slot]!, this.now - this.times[slot]!, this.now);
  }

  publish(): void {
    // Publishers subscribe to nothing; a server-sent PUBLISH is ignored.
  }

  other(type: number, packet: Buffer): void {
    if (type === 2) this.onConnack?.(packet[3] ?? 255);
  }

  private lost(): void {
    if (!this.alive) return;
    this.alive = false;
    this.pool.lost(this);
  }
}

export class PublisherPool {
  private conns: PubConn[] = [];
  private run: RunStats | undefined;
  private spec: RunSpec | undefined;
  private draining = false;
  private finish: (() => void) | undefined;
  private nextIndex = 0;
  lostConnections = 0;

  get size(): number {
    return this.conns.length;
  }

  async connect(target: Target, tokens: readonly string[], window: number, concurrency: number, localAddresses?: readonly string[]): Promise<ConnectResult> {
    const started = performance.now();
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const base = this.nextIndex;
    this.nextIndex += tokens.length;
    const worker = async (): Promise<void> => {
      while (next < tokens.length) {
        const i = next++;
        const localAddress = localAddresses?.[i % localAddresses.length];
        const socket = connect({ host: target.host, port: target.port, ...(localAddress ? { localAddress } : {}) });
        const conn = new PubConn(this, base + i, socket, window);
        try {
          await conn.handshake(tokens[i]!);
          this.conns.push(conn);
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
          conn.alive = false;
          socket.destroy();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
    // Indexes were assigned before the handshakes finished: keep the pool in token order.
    this.conns.sort((a, b) => a.index - b.index);
    return { connected: tokens.length - failed, failed, elapsedMs: performance.now() - started, ...(firstError ? { firstError } : {}) };
  }

  /** One run: publish until the deadline, then wait for outstanding PUBACKs up to drainMs. */
  runLoad(spec: RunSpec): Promise<RunResult> {
    const devices = this.conns.length === 0 ? 0 : this.conns[this.conns.length - 1]!.index + 1;
    const started = performance.now();
    const run = new RunStats(started + spec.durationMs, new Array<number>(devices).fill(0), new Array<number>(devices).fill(0));
    this.run = run;
    this.spec = spec;
    this.draining = false;
    let ticker: NodeJS.Timeout | undefined;
    if (spec.rate === undefined) {
      for (const c of this.conns) c.send(c.window, run, spec.tsBase, spec.window);
    } else {
      const perConnPerMs = spec.rate / Math.max(1, this.conns.length) / 1000;
      let last = started;
      for (const c of this.conns) c.credit = Math.random(); // spread the first sends over the tick
      ticker = setInterval(() => {
        const now = performance.now();
        const add = (now - last) * perConnPerMs;
        last = now;
        for (const c of this.conns) {
          // Capped so a stalled server is not hit with a burst afterwards: the rate shows the shortfall.
          c.credit = Math.min(c.credit + add, c.window * 2);
          const n = Math.floor(c.credit);
          if (n > 0 && c.inflight < c.window) {
            const before = c.inflight;
            c.send(n, run, spec.tsBase, spec.window);
            c.credit -= c.inflight - before;
          }
        }
      }, TICK_MS);
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(drainTimer);
        this.finish = undefined;
        this.run = undefined;
        const outstanding = this.conns.reduce((s, c) => s + (c.alive ? c.inflight : 0), 0);
        resolve({
          elapsedMs: spec.durationMs,
          sent: run.sent,
          acked: run.acked,
          ackedInWindow: run.ackedInWindow,
          failed: run.failed,
          outstanding,
          latency: run.latency.toJSON(),
          perDevice: { acked: run.perDeviceAcked, pulseSum: run.perDevicePulse },
        });
      };
      let drainTimer: NodeJS.Timeout | undefined;
      setTimeout(() => {
        if (ticker) clearInterval(ticker);
        this.draining = true;
        this.finish = done;
        drainTimer = setTimeout(done, spec.drainMs);
        this.checkDrained();
      }, spec.durationMs);
    });
  }

  acked(index: number, pulse: number, latencyMs: number, now: number): void {
    const run = this.run;
    if (!run) return;
    run.acked++;
    if (now <= run.deadline) run.ackedInWindow++;
    run.latency.recordMs(latencyMs);
    run.perDeviceAcked[index]! += 1;
    run.perDevicePulse[index]! += pulse;
  }

  /** Closed loop: refill the window right after a chunk of PUBACKs. */
  afterAcks(conn: PubConn): void {
    if (!this.run || !this.spec) return;
    if (this.draining) return this.checkDrained();
    if (this.spec.rate === undefined) conn.send(conn.window, this.run, this.spec.tsBase, this.spec.window);
  }

  lost(conn: PubConn): void {
    this.lostConnections++;
    if (this.run) this.run.failed += conn.inflight;
    if (this.draining) this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.finish) return;
    for (const c of this.conns) if (c.alive && c.inflight > 0) return;
    this.finish();
  }

  close(): void {
    for (const c of this.conns) {
      c.alive = false;
      c.socket.destroy();
    }
    this.conns = [];
  }
}
