/**
 * The MQTT bytes the simulator and the load generator need on their hot paths. CONNECT and SUBSCRIBE come from
 * mqtt-packet's `generate` (rare, correctness matters more than speed); PUBLISH is written
 * straight into a caller-owned buffer and incoming packets are framed by hand, because a
 * generic parser costs more per PUBACK than the server under test spends on it, and then the
 * generator, not the server, would set the ceiling.
 */
import { generate } from 'mqtt-packet';

export const TELEMETRY_TOPIC = 'v1/devices/me/telemetry';

export function connectPacket(clientId: string, username: string | undefined, keepalive = 0): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive,
    ...(username !== undefined ? { username } : {}),
  });
}

export function subscribePacket(topic: string | readonly string[], messageId: number): Buffer {
  const topics = typeof topic === 'string' ? [topic] : topic;
  return generate({ cmd: 'subscribe', messageId, subscriptions: topics.map((t) => ({ topic: t, qos: 1 as const })) });
}

export const PINGREQ = generate({ cmd: 'pingreq' });

/** A PUBLISH with any topic and UTF-8 payload (QoS 0 or 1); for the less frequent messages. */
export function publishPacket(topic: string, payload: string, qos: 0 | 1, messageId = 0): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const p = Buffer.from(payload, 'utf8');
  const remaining = 2 + t.length + (qos > 0 ? 2 : 0) + p.length;
  const lenBytes: number[] = [];
  let len = remaining;
  do {
    let byte = len % 128;
    len = Math.floor(len / 128);
    if (len > 0) byte |= 0x80;
    lenBytes.push(byte);
  } while (len > 0);
  const buf = Buffer.allocUnsafe(1 + lenBytes.length + remaining);
  let o = 0;
  buf[o++] = 0x30 | (qos << 1);
  for (const b of lenBytes) buf[o++] = b;
  buf.writeUInt16BE(t.length, o);
  o += 2;
  o += t.copy(buf, o);
  if (qos > 0) {
    buf.writeUInt16BE(messageId, o);
    o += 2;
  }
  p.copy(buf, o);
  return buf;
}

/** Topic and payload of a PUBLISH framed by Framer. */
export function publishParts(data: Buffer, header: number, body: number, end: number): { topic: string; id: number; payload: Buffer } {
  const topicLength = data.readUInt16BE(body);
  const topic = data.toString('utf8', body + 2, body + 2 + topicLength);
  let o = body + 2 + topicLength;
  let id = 0;
  if ((header & 0x06) !== 0) {
    id = data.readUInt16BE(o);
    o += 2;
  }
  return { topic, id, payload: data.subarray(o, end) };
}

export const DISCONNECT = generate({ cmd: 'disconnect' });

/** Writes QoS 1 PUBLISH packets for one topic into a buffer. */
export class PublishEncoder {
  private readonly topic: Buffer;

  constructor(topic: string) {
    this.topic = Buffer.from(topic, 'latin1');
  }

  /** Upper bound of the packet size for a payload of `payloadLength` bytes. */
  maxSize(payloadLength: number): number {
    return 1 + 4 + 2 + this.topic.length + 2 + payloadLength;
  }

  /** Encodes at `offset`; the payload must be ASCII. Returns the offset after the packet. */
  write(buf: Buffer, offset: number, messageId: number, payload: string): number {
    const remaining = 2 + this.topic.length + 2 + payload.length;
    let o = offset;
    buf[o++] = 0x32; // PUBLISH, QoS 1
    let len = remaining;
    do {
      let byte = len % 128;
      len = Math.floor(len / 128);
      if (len > 0) byte |= 0x80;
      buf[o++] = byte;
    } while (len > 0);
    buf.writeUInt16BE(this.topic.length, o);
    o += 2;
    o += this.topic.copy(buf, o);
    buf.writeUInt16BE(messageId, o);
    o += 2;
    o += buf.write(payload, o, 'latin1');
    return o;
  }
}

export function pubackPacket(buf: Buffer, offset: number, messageId: number): number {
  buf[offset] = 0x40;
  buf[offset + 1] = 0x02;
  buf.writeUInt16BE(messageId, offset + 2);
  return offset + 4;
}

export interface FrameHandler {
  puback(messageId: number): void;
  /** A PUBLISH: `body` is the index of the variable header in `data`, `end` its end. */
  publish(data: Buffer, header: number, body: number, end: number): void;
  /** Any other packet, whole. */
  other(type: number, packet: Buffer): void;
}

/** Splits a TCP byte stream into MQTT packets without copying (except across chunk edges). */
export class Framer {
  private rest: Buffer | undefined;

  constructor(private readonly handler: FrameHandler) {}

  push(chunk: Buffer): void {
    const data = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let off = 0;
    while (off < data.length) {
      const end = this.packetEnd(data, off);
      if (end < 0) break;
      this.dispatch(data, off, end);
      off = end;
    }
    // Copied so that the (possibly large) chunk is not kept alive by a few trailing bytes.
    if (off < data.length) this.rest = Buffer.from(data.subarray(off));
  }

  /** End index of the packet at `off`, or -1 if it is not complete yet. */
  private packetEnd(data: Buffer, off: number): number {
    let len = 0;
    let mul = 1;
    for (let i = off + 1; i < off + 5; i++) {
      if (i >= data.length) return -1;
      const b = data[i]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return i + 1 + len <= data.length ? i + 1 + len : -1;
    }
    throw new Error('malformed MQTT remaining length');
  }

  private dispatch(data: Buffer, off: number, end: number): void {
    const header = data[off]!;
    const type = header >> 4;
    let body = off + 2;
    while (data[body - 1]! & 0x80) body++;
    if (type === 4) this.handler.puback(data.readUInt16BE(body));
    else if (type === 3) this.handler.publish(data, header, body, end);
    else this.handler.other(type, data.subarray(off, end));
  }
}

/** The packet id of a QoS>0 PUBLISH whose variable header starts at `body`; 0 for QoS 0. */
export function publishId(data: Buffer, header: number, body: number): number {
  if ((header & 0x06) === 0) return 0;
  const topicLength = data.readUInt16BE(body);
  return data.readUInt16BE(body + 2 + topicLength);
}
