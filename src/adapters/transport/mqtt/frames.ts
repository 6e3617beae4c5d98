/**
 * Splitting a connection's byte stream into MQTT control packets without a parser per connection.
 *
 * Every packet starts with a fixed header: one byte of type and flags, then the Remaining Length, a
 * variable byte integer of one to four bytes (MQTT 3.1.1 §2.2.3, MQTT 5.0 §1.5.5 and §2.1.4). So the
 * end of a packet is known from its first bytes. Complete packets are decoded at once by a parser
 * shared by all connections (decoding is synchronous, so one is enough); a connection keeps only
 * the bytes of an incomplete packet until the rest arrives. An idle connection holds no parser
 * state at all, which is most of what an idle device used to cost.
 */
import { parser as createParser, type IConnectPacket, type Packet } from 'mqtt-packet';
import { decodePublish } from './publish-decode.js';

/** Where decoded packets and decoding errors go: the connection the bytes came from. */
export interface PacketSink {
  onPacket(p: Packet): void;
  onMalformed(err: Error): void;
}

/**
 * What mqtt-packet's parser needs to know about the connection to decode its packets: the
 * protocol version (MQTT 5 adds properties) and bridge mode (3.1.1 bridges send No Local and
 * Retain As Published in SUBSCRIBE). mqtt-packet keeps these in its `settings` field.
 */
export interface FrameSettings {
  readonly protocolVersion?: number;
  readonly bridgeMode?: boolean;
}

/** Before CONNECT nothing is known; CONNECT itself decodes the same for every version. */
export const BEFORE_CONNECT: FrameSettings = Object.freeze({});
const SETTINGS: readonly FrameSettings[] = [3, 4, 5].flatMap((protocolVersion) => [
  Object.freeze({ protocolVersion }),
  Object.freeze({ protocolVersion, bridgeMode: true }),
]);

/** The settings for the packets that follow a CONNECT; one shared object per combination. */
export function settingsAfter(connect: IConnectPacket): FrameSettings {
  // mqtt-packet sets bridgeMode (protocol level + 128) but its types do not declare it.
  const bridge = (connect as { bridgeMode?: boolean }).bridgeMode === true;
  const i = SETTINGS.findIndex((s) => s.protocolVersion === connect.protocolVersion && (s.bridgeMode === true) === bridge);
  return SETTINGS[i] ?? BEFORE_CONNECT;
}

/** `packetEnd` results that are not an offset. */
export const INCOMPLETE = -1;
export const MALFORMED = -2;

/**
 * Offset just past the packet that starts at `offset`, read from its fixed header; may be beyond
 * `buf.length` when the packet is not all there yet. INCOMPLETE when even the header is cut off;
 * MALFORMED when the Remaining Length runs over four bytes (MQTT 5.0 §1.5.5).
 */
export function packetEnd(buf: Buffer, offset: number): number {
  let length = 0;
  let multiplier = 1;
  for (let i = offset + 1; i < offset + 5; i++) {
    if (i >= buf.length) return INCOMPLETE;
    const byte = buf[i] as number;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return i + 1 + length;
    multiplier *= 128;
  }
  return MALFORMED;
}

/** The mqtt-packet parser's internals we use: its settings, and its error. */
interface SharedParser {
  settings: FrameSettings;
  readonly error: Error | null;
  readonly _list: { readonly length: number };
  parse(buf: Buffer): number;
  on(event: 'packet', listener: (p: Packet) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

function newParser(settings: FrameSettings, to: () => PacketSink | undefined): SharedParser {
  const p = createParser(settings) as unknown as SharedParser;
  p.on('packet', (packet) => to()?.onPacket(packet));
  p.on('error', (err) => to()?.onMalformed(err));
  return p;
}

/** One complete packet per call; the shared parser is used unless a packet handler re-enters. */
export class PacketDecoder {
  private sink: PacketSink | undefined;
  private parser = newParser(BEFORE_CONNECT, () => this.sink);

  /** `frame` must hold exactly one packet, as delimited by `packetEnd`. */
  decode(sink: PacketSink, settings: FrameSettings, frame: Buffer): void {
    // The common PUBLISH shapes without the generic parser (publish-decode.ts); anything else,
    // errors included, goes on to mqtt-packet below.
    const publish = decodePublish(frame, settings.protocolVersion);
    if (publish !== undefined) {
      sink.onPacket(publish);
      return;
    }
    if (this.sink !== undefined) {
      // A packet handler fed bytes to another connection synchronously: decode those on the side.
      newParser(settings, () => sink).parse(frame);
      return;
    }
    this.sink = sink;
    this.parser.settings = settings;
    let failed = true;
    try {
      this.parser.parse(frame);
      failed = this.parser.error !== null || this.parser._list.length !== 0;
    } finally {
      // After a decoding error or a throwing handler the parser is left mid-packet, and its
      // reset does not rewind every cursor (mqtt-packet 9 keeps `_pos`): the next packet, from
      // whichever connection, gets a fresh parser.
      if (failed) this.parser = newParser(BEFORE_CONNECT, () => this.sink);
      this.sink = undefined;
      // Parsing a CONNECT stores the packet as settings: do not keep one client's credentials.
      this.parser.settings = BEFORE_CONNECT;
    }
  }
}
