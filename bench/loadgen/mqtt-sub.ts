/**
 * The one subscriber of a broker reference run: subscribes at QoS 1 and acknowledges every
 * forwarded PUBLISH (one write per received chunk), counting what arrives before and after
 * the deadline of the current run.
 */
import { connect, type Socket } from 'node:net';
import { connectPacket, Framer, publishId, pubackPacket, subscribePacket, type FrameHandler } from './mqtt-wire.js';
import type { Target } from './protocol.js';

export class Subscriber implements FrameHandler {
  private readonly framer = new Framer(this);
  private socket: Socket | undefined;
  private acks: Buffer = Buffer.allocUnsafe(64 * 1024);
  private ackLength = 0;
  private waiting: ((type: number, packet: Buffer) => void) | undefined;
  received = 0;
  receivedInWindow = 0;
  deadline = Infinity;

  async open(target: Target, topic: string): Promise<void> {
    const socket = connect({ host: target.host, port: target.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(connectPacket(`bench-subscriber-${process.pid}`, undefined));
    await this.expect(2);
    socket.write(subscribePacket(topic, 1));
    const suback = await this.expect(9);
    if ((suback[suback.length - 1] ?? 0x80) >= 0x80) throw new Error('subscription refused');
  }

  resetCounts(deadline: number): void {
    this.received = 0;
    this.receivedInWindow = 0;
    this.deadline = deadline;
  }

  private expect(type: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber: no packet of type ${type}`)), 10_000);
      this.waiting = (t, packet) => {
        if (t !== type) return;
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(packet);
      };
    });
  }

  private onData(chunk: Buffer): void {
    this.framer.push(chunk);
    if (this.ackLength > 0) {
      this.socket?.write(this.acks.subarray(0, this.ackLength));
      // The written slice belongs to the socket now; continue in a fresh buffer.
      this.acks = Buffer.allocUnsafe(64 * 1024);
      this.ackLength = 0;
    }
  }

  puback(): void {
    // The subscriber publishes nothing.
  }

  publish(data: Buffer, header: number, body: number): void {
    this.received++;
    if (performance.now() <= this.deadline) this.receivedInWindow++;
    const id = publishId(data, header, body);
    if (id === 0) return;
    if (this.ackLength + 4 > this.acks.length) {
      this.socket?.write(this.acks.subarray(0, this.ackLength));
      this.acks = Buffer.allocUnsafe(64 * 1024);
      this.ackLength = 0;
    }
    this.ackLength = pubackPacket(this.acks, this.ackLength, id);
  }

  other(type: number, packet: Buffer): void {
    this.waiting?.(type, packet);
  }

  close(): void {
    this.socket?.destroy();
  }
}
