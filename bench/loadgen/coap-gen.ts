/**
 * CoAP load: one UDP socket per device (a device is its own endpoint, as on a real network),
 * up to `window` Confirmable requests in flight on each. A piggybacked 2.xx ACK completes a
 * request; an empty ACK means "received, answer follows" and the separate response (a CON,
 * which we acknowledge) completes it. Unanswered requests are retransmitted with the same
 * message id after ACK_TIMEOUT, up to MAX_RETRANSMIT times (RFC 7252 §4.2 without the random
 * factor), so a datagram lost in a full socket buffer costs latency, not correctness.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Histogram } from '../lib/histogram.js';
import { decodeReply, emptyAck, encodeRequest, isSuccess, telemetryOptions, type CoapReply } from './coap-wire.js';
import { meterPayload, type RunResult, type RunSpec, type Target } from './protocol.js';

const ACK_TIMEOUT_MS = 2000;
const MAX_RETRANSMIT = 4;

interface Pending {
  readonly seq: number;
  readonly messageId: number;
  readonly token: number;
  readonly packet: Buffer;
  readonly sentAt: number;
  tries: number;
}

class CoapDevice {
  private readonly socket: Socket;
  private readonly options: Buffer;
  private readonly byToken = new Map<number, Pending>();
  private readonly byId = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 65536);
  private nextToken = 1;
  seq = 0;
  credit = 0;

  constructor(
    private readonly load: CoapLoad,
    readonly index: number,
    deviceToken: string,
    private readonly target: Target,
  ) {
    this.options = telemetryOptions(deviceToken);
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', () => undefined);
  }

  bind(): Promise<void> {
    return new Promise((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
  }

  get inflight(): number {
    return this.byToken.size;
  }

  send(n: number): void {
    for (let k = 0; k < n && this.byToken.size < this.load.window; k++) {
      const seq = ++this.seq;
      const messageId = (this.nextId = (this.nextId + 1) & 0xffff);
      const token = this.nextToken++;
      const packet = encodeRequest(this.options, messageId, token, meterPayload(this.load.tsBase + seq, seq));
      const p: Pending = { seq, messageId, token, packet, sentAt: performance.now(), tries: 0 };
      this.byToken.set(token, p);
      this.byId.set(messageId, p);
      this.load.stats.sent++;
      this.socket.send(packet, this.target.port, this.target.host);
    }
  }

  /** Retransmits what has waited too long; gives up after MAX_RETRANSMIT. */
  sweep(now: number): void {
    for (const p of this.byToken.values()) {
      if (!this.byId.has(p.messageId)) continue; // empty ACK seen: waiting for the separate response
      if (now - p.sentAt < ACK_TIMEOUT_MS * 2 ** p.tries) continue;
      if (p.tries >= MAX_RETRANSMIT) {
        this.forget(p);
        this.load.stats.failed++;
        continue;
      }
      p.tries++;
      this.load.stats.retransmits++;
      this.socket.send(p.packet, this.target.port, this.target.host);
    }
  }

  private onMessage(msg: Buffer): void {
    const reply = decodeReply(msg);
    if (!reply) return;
    if (reply.kind === 'con') this.socket.send(emptyAck(reply.messageId), this.target.port, this.target.host);
    const p = this.match(reply);
    if (!p) return;
    if (reply.kind === 'ack' && reply.code === 0) {
      this.byId.delete(p.messageId); // separate response follows
      return;
    }
    this.forget(p);
    if (reply.kind !== 'rst' && isSuccess(reply.code)) this.load.completed(this.index, p.seq, performance.now() - p.sentAt);
    else this.load.stats.failed++;
    this.load.afterReply(this);
  }

  private match(reply: CoapReply): Pending | undefined {
    if (reply.kind === 'ack' || reply.kind === 'rst') return this.byId.get(reply.messageId);
    return reply.token >= 0 ? this.byToken.get(reply.token) : undefined;
  }

  private forget(p: Pending): void {
    this.byToken.delete(p.token);
    this.byId.delete(p.messageId);
  }

  close(): void {
    this.socket.close();
  }
}

export class CoapLoad {
  readonly stats = { sent: 0, acked: 0, ackedInWindow: 0, failed: 0, retransmits: 0, latency: new Histogram() };
  private readonly perAcked: number[];
  private readonly perPulse: number[];
  private devices: CoapDevice[] = [];
  private deadline = 0;
  private draining = false;
  private closedLoop = true;
  tsBase = 0;

  constructor(
    private readonly target: Target,
    private readonly tokens: readonly string[],
    readonly window: number,
  ) {
    this.perAcked = new Array<number>(tokens.length).fill(0);
    this.perPulse = new Array<number>(tokens.length).fill(0);
  }

  async run(spec: RunSpec): Promise<RunResult & { retransmits: number }> {
    this.tsBase = spec.tsBase;
    this.devices = this.tokens.map((t, i) => new CoapDevice(this, i, t, this.target));
    await Promise.all(this.devices.map((d) => d.bind()));
    const started = performance.now();
    this.deadline = started + spec.durationMs;
    this.closedLoop = spec.rate === undefined;
    const perDevicePerMs = (spec.rate ?? 0) / this.devices.length / 1000;
    let last = started;
    const ticker = setInterval(() => {
      const now = performance.now();
      for (const d of this.devices) {
        d.sweep(now);
        if (!this.closedLoop && !this.draining) {
          d.credit = Math.min(d.credit + (now - last) * perDevicePerMs, this.window * 2);
          const before = d.inflight;
          d.send(Math.floor(d.credit));
          d.credit -= d.inflight - before;
        }
      }
      last = now;
    }, 5);
    if (this.closedLoop) for (const d of this.devices) d.send(this.window);
    await new Promise<void>((resolve) => setTimeout(resolve, spec.durationMs));
    this.draining = true;
    const drainUntil = performance.now() + spec.drainMs;
    while (performance.now() < drainUntil && this.devices.some((d) => d.inflight > 0)) await new Promise((r) => setTimeout(r, 20));
    clearInterval(ticker);
    const outstanding = this.devices.reduce((s, d) => s + d.inflight, 0);
    for (const d of this.devices) d.close();
    const { latency, ...counts } = this.stats;
    return { elapsedMs: spec.durationMs, ...counts, outstanding, latency: latency.toJSON(), perDevice: { acked: this.perAcked, pulseSum: this.perPulse } };
  }

  completed(index: number, seq: number, latencyMs: number): void {
    this.stats.acked++;
    if (performance.now() <= this.deadline) this.stats.ackedInWindow++;
    this.stats.latency.recordMs(latencyMs);
    this.perAcked[index]! += 1;
    this.perPulse[index]! += seq;
  }

  afterReply(device: CoapDevice): void {
    if (this.closedLoop && !this.draining) device.send(this.window);
  }
}
