/**
 * A decoder for the one packet that arrives at the ingest rate: PUBLISH.
 *
 * mqtt-packet's parser is general (a state machine over a BufferList) and, on the way, calls its
 * `debug` logger about a dozen times per packet: even switched off, each call allocates its
 * argument array. Allocation profiles of `npm run bench -- ingest` put a fifth of all bytes the
 * process allocated in those calls and another tenth in BufferList copies (docs/BENCHMARKS.md,
 * "Allocations"). A complete PUBLISH frame needs neither: its layout is fixed (MQTT 3.1.1 §3.3,
 * MQTT 5.0 §3.3). This decoder reads the common shapes straight from the frame and returns
 * `undefined` for everything else (QoS 3, truncated fields, MQTT 5 properties), which the caller
 * hands to mqtt-packet, so errors and rare packets are still decoded and reported the one way.
 *
 * The result has the fields and field order of mqtt-packet's packet objects, so the rest of the
 * broker cannot tell which decoder ran.
 */
import type { IPublishPacket, QoS } from 'mqtt-packet';

const PUBLISH = 3;

/** Offset of the variable header, or -1 if the Remaining Length does not end within 4 bytes. */
function variableHeaderAt(frame: Buffer): number {
  for (let i = 1; i < 5 && i < frame.length; i++) {
    if (((frame[i] as number) & 0x80) === 0) return i + 1;
  }
  return -1;
}

/**
 * Decodes one complete PUBLISH frame (exactly one packet, as framed by `packetEnd`), or returns
 * undefined when the generic parser should decide (anything unusual, including every error).
 */
export function decodePublish(frame: Buffer, protocolVersion: number | undefined): IPublishPacket | undefined {
  const first = frame[0] as number;
  if (first >> 4 !== PUBLISH) return undefined;
  const qos = (first >> 1) & 0x03;
  if (qos === 3) return undefined; // [MQTT-3.3.1-4]: a malformed packet; mqtt-packet reports it
  let pos = variableHeaderAt(frame);
  if (pos < 0 || pos + 2 > frame.length) return undefined;
  const length = frame.length - pos;
  const topicLength = frame.readUInt16BE(pos);
  pos += 2;
  if (pos + topicLength > frame.length) return undefined;
  const topic = frame.toString('utf8', pos, pos + topicLength);
  pos += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > frame.length) return undefined;
    messageId = frame.readUInt16BE(pos);
    pos += 2;
  }
  if (protocolVersion === 5) {
    // Property Length 0 (one byte) is the usual case; anything else goes to the full parser.
    if (pos >= frame.length || frame[pos] !== 0) return undefined;
    pos += 1;
  }
  // A copy, not a view: a view would keep the whole socket chunk alive with a retained message.
  const payload = Buffer.from(frame.subarray(pos));
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (first & 0x01) !== 0,
    qos: qos as QoS,
    dup: (first & 0x08) !== 0,
    length,
    topic,
    payload,
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}
