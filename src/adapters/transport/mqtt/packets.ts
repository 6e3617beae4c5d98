/**
 * Outgoing packet encoding. Everything goes through mqtt-packet's `generate` except the fixed-size
 * acknowledgements, which are four or five bytes written by hand because they are the most frequent
 * packets a broker sends.
 *
 * PUBLISH fan-out: the first encoding of a message for a given (version, QoS, retain) is kept on the
 * message; further subscribers reuse it (QoS 0) or copy it and patch packet id and DUP (QoS 1/2),
 * which is far cheaper than encoding again.
 */
import { generate, type IPublishPacket, type Packet } from 'mqtt-packet';
import { fillLengthCache } from './length-cache.js';
import type { Message, QoS } from './session.js';

// Before the first packet is encoded: mqtt-packet's lazily filled length cache pins Buffer pool
// slabs otherwise (length-cache.ts).
fillLengthCache();

const OPTS4 = { protocolVersion: 4 };
const OPTS5 = { protocolVersion: 5 };

export const PINGRESP = Buffer.from([0xd0, 0x00]);

/** Packet types (high nibble of byte 1) of the acknowledgements we write by hand (MQTT 5.0 §2.1.2). */
export const PUBACK = 0x40;
export const PUBREC = 0x50;
/** PUBREL's fixed header has reserved flags 0010 [MQTT-3.6.1-1]. */
export const PUBREL = 0x62;
export const PUBCOMP = 0x70;

/** Reason codes a PUBACK or PUBREC may carry (MQTT 5.0 §3.4.2.1, §3.5.2.1). */
const PUBACK_REASONS = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);

/**
 * The error catalogue's code for a failed PUBLISH, as a PUBACK/PUBREC may carry it. A client
 * treats any other code as a protocol error and drops the connection (MQTT.js does), so an
 * over-limit payload (0x95 Packet too large, valid in CONNACK/DISCONNECT only) answers 0x97
 * Quota exceeded — "an implementation or administrative imposed limit" — and a server-side
 * failure (0x88 Server unavailable) answers 0x80 Unspecified error.
 */
export function pubackReason(code: number): number {
  if (PUBACK_REASONS.has(code)) return code;
  return code === 0x95 ? 0x97 : 0x80;
}

/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP. On MQTT 5 the reason code and property length may be omitted when
 * the reason is Success and there are no properties [MQTT-3.4.2-1], so only failures cost a byte.
 */
export function encodeAck(type: number, packetId: number, reasonCode: number, version: number): Buffer {
  if (version === 5 && reasonCode !== 0) {
    const code = type === PUBACK || type === PUBREC ? pubackReason(reasonCode) : reasonCode;
    return Buffer.from([type, 3, packetId >> 8, packetId & 0xff, code]);
  }
  return Buffer.from([type, 2, packetId >> 8, packetId & 0xff]);
}

/** Encodes any packet; undefined when mqtt-packet refuses it (invalid property values). */
export function encode(packet: Packet, version: number): Buffer | undefined {
  try {
    return generate(packet, version === 5 ? OPTS5 : OPTS4);
  } catch {
    return undefined;
  }
}

export interface PublishExtras {
  subIds?: number[] | undefined;
  topicAlias?: number | undefined;
  /** Send an empty topic name because the alias is already known to the client (MQTT 5.0 §3.3.2.3.4). */
  omitTopic?: boolean | undefined;
}

function publishPacket(msg: Message, version: number, qos: QoS, retain: boolean, dup: boolean, packetId: number, extras: PublishExtras | undefined): IPublishPacket {
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: extras?.omitTopic ? '' : msg.topic,
    payload: msg.payload,
    qos,
    retain,
    dup,
  };
  if (qos > 0) packet.messageId = packetId;
  if (version === 5 && (msg.props || msg.expiresAt !== 0 || extras)) {
    const props: NonNullable<IPublishPacket['properties']> = { ...msg.props };
    if (msg.expiresAt !== 0) {
      // The remaining lifetime, not the original interval [MQTT-3.3.2-6].
      props.messageExpiryInterval = Math.max(1, Math.ceil((msg.expiresAt - Date.now()) / 1000));
    }
    const ids = extras?.subIds;
    if (ids && ids.length > 0) props.subscriptionIdentifier = ids.length === 1 ? (ids[0] as number) : ids;
    if (extras?.topicAlias) props.topicAlias = extras.topicAlias;
    packet.properties = props;
  }
  return packet;
}

/**
 * PUBLISH without properties, encoded directly into one buffer: the common case, and the hot path.
 * mqtt-packet's generic encoder builds a list of small buffers and concatenates them.
 */
function encodePlainPublish(topic: string, payload: Buffer, version: number, qos: QoS, retain: boolean, dup: boolean, packetId: number): Buffer {
  const topicLength = Buffer.byteLength(topic);
  // Topic, packet id, property length (a single 0 byte on MQTT 5), payload.
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (version === 5 ? 1 : 0) + payload.length;
  let lengthBytes = 1;
  for (let n = remaining; n > 127; n = Math.floor(n / 128)) lengthBytes++;
  const buf = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  buf[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  let i = 1;
  let n = remaining;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[i++] = byte;
  } while (n > 0);
  buf.writeUInt16BE(topicLength, i);
  i += 2;
  i += buf.write(topic, i, 'utf8');
  if (qos > 0) {
    buf.writeUInt16BE(packetId, i);
    i += 2;
  }
  if (version === 5) buf[i++] = 0;
  payload.copy(buf, i);
  return buf;
}

/** Offset of the packet identifier in an encoded PUBLISH: after header, remaining length, topic. */
function packetIdOffset(buf: Buffer): number {
  let i = 1;
  while ((buf[i] as number) & 0x80) i++;
  i++;
  return i + 2 + buf.readUInt16BE(i);
}

export function encodePublish(
  msg: Message,
  version: number,
  qos: QoS,
  retain: boolean,
  dup: boolean,
  packetId: number,
  extras: PublishExtras | undefined,
): Buffer | undefined {
  // Per-subscriber properties or a ticking expiry make the bytes unique to this delivery.
  if (extras !== undefined || msg.expiresAt !== 0) return encode(publishPacket(msg, version, qos, retain, dup, packetId, extras), version);
  const slot = (version === 5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0);
  const cache = (msg.encoded ??= []);
  const template = cache[slot];
  if (!template) {
    const buf = msg.props
      ? encode(publishPacket(msg, version, qos, retain, dup, packetId, undefined), version)
      : encodePlainPublish(msg.topic, msg.payload, version, qos, retain, dup, packetId);
    // The first buffer is handed to the socket and never modified again, so it can be the template.
    if (buf && !dup) cache[slot] = buf;
    return buf;
  }
  if (qos === 0) return template;
  const buf = Buffer.allocUnsafe(template.length);
  template.copy(buf);
  buf.writeUInt16BE(packetId, packetIdOffset(buf));
  if (dup) buf[0] = (buf[0] as number) | 0x08;
  return buf;
}
