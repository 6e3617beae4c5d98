/**
 * One client connection: the MQTT 3.1.1 / 5.0 protocol state machine over any Duplex stream.
 *
 * States: 'connect' (waiting for CONNECT) → 'auth' (authenticating; later packets are held) →
 * 'open' → 'closed'. Anything malformed or out of protocol closes this connection only (with a v5
 * DISCONNECT reason where the spec gives one); nothing here throws into the broker.
 *
 * Memory: a broker holds many idle devices, so what each connection keeps is kept small. Packets
 * are framed here and decoded by the broker's shared decoder (frames.ts); the connect timeout and
 * keep alive are checked by the broker's once-a-second sweep (`checkTimers`) instead of a timer
 * each; stream listeners are shared functions; inbound-ack state exists only after a QoS 1/2 PUBLISH,
 * topic-alias tables only after the first aliased PUBLISH (topic-aliases.ts). What an inbound
 * PUBLISH does (checks, interceptors, ACL, routing) is publish-in.ts; SUBSCRIBE is subscribe.ts.
 */
import type { Duplex } from 'node:stream';
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { ANONYMOUS, connackReturnCode, type Principal } from './auth.js';
import type { ClientCertificate } from './client-cert.js';
import { handleConnect } from './connect.js';
import { DEFAULT_LIMITS, type BrokerContext, type ClientConnection, type ClientLimits, type OpenParams, type WillSpec } from './context.js';
import { BEFORE_CONNECT, INCOMPLETE, MALFORMED, packetEnd, settingsAfter, type FrameSettings, type PacketSink } from './frames.js';
import { InboundAcks, type AckOutput } from './inbound-acks.js';
import type { ClientInterceptor, ClientLink } from './interceptor.js';
import { PINGRESP, PUBCOMP, PUBREL, encode, encodeAck, encodePublish, type PublishExtras } from './packets.js';
import { Message, type Delivery, type QoS, type Session, type SessionLink } from './session.js';
import { attachStages, closeStages, interceptSubscribe, pingStages } from './pipeline.js';
import { handlePublish } from './publish-in.js';
import { handleSubscribe, handleUnsubscribe } from './subscribe.js';
import { TopicAliases } from './topic-aliases.js';

/** Stop feeding QoS 1/2 from the queue above this many unsent bytes; resume on 'drain'. */
const WRITE_HIGH_WATER = 1 << 20;
/** Drop QoS 0 for a client this far behind: it cannot keep up and memory is not unbounded. */
const QOS0_DROP_BYTES = 8 << 20;
/**
 * Inbound acks waiting on the platform (device API commits) before we stop reading from the client:
 * TCP backpressure instead of unbounded memory, for 3.1.1 clients too (they have no Receive Maximum).
 */
const ACK_BACKLOG = 1024;
/** After we close, keep reading (and discarding) this long so the client can read our last packets. */
const CLOSE_GRACE_MS = 10_000;

/** The bytes of a packet that has not fully arrived; `need` is its total size, 0 while its header is cut off. */
interface PartialPacket {
  readonly chunks: Buffer[];
  bytes: number;
  readonly need: number;
}

/**
 * Stream listeners are shared by all connections (one closure set per connection was a good part
 * of an idle connection's memory): they find their connection through this property of the stream.
 */
const OWNER = Symbol('mqtt connection');
type OwnedStream = Duplex & { [OWNER]?: Connection };

function onStreamData(this: OwnedStream, chunk: Buffer): void {
  this[OWNER]?.onData(chunk);
}
function onStreamError(this: OwnedStream, err: Error): void {
  this[OWNER]?.close(`stream error: ${err.message}`);
}
function onStreamClose(this: OwnedStream): void {
  this[OWNER]?.close('connection closed', true);
}
function onStreamEnd(this: OwnedStream): void {
  this[OWNER]?.close('client closed the connection');
}
function onStreamDrain(this: OwnedStream): void {
  const conn = this[OWNER];
  if (conn?.session && conn.session.link === conn) conn.session.pump();
}

export class Connection implements ClientConnection, SessionLink, ClientLink, PacketSink, AckOutput {
  state: 'connect' | 'auth' | 'open' | 'closed' = 'connect';
  protocolVersion = 4;
  clientId = '';
  principal: Principal = ANONYMOUS;
  session: Session | undefined;
  /** The interceptors attached to this client, in pipeline order (pipeline.ts); undefined when none did. */
  stages: ClientInterceptor[] | undefined;

  private acks: InboundAcks | undefined;
  private held: Packet[] | undefined;
  private will: WillSpec | undefined;
  private partial: PartialPacket | undefined;
  private frameSettings: FrameSettings = BEFORE_CONNECT;
  /** Epoch ms: when the connection was accepted, then (with a keep alive) when data last arrived. */
  private lastSeen = Date.now();
  /** 1.5 × the keep alive in ms; 0 = none [MQTT-3.1.2-22]. */
  private keepAliveMs = 0;
  private corked = false;
  private readPaused = false;
  private limits: ClientLimits = DEFAULT_LIMITS;
  private aliases: TopicAliases | undefined;

  constructor(
    readonly broker: BrokerContext,
    readonly stream: Duplex,
    readonly remoteAddress: string | undefined,
    readonly certificate?: ClientCertificate,
  ) {
    (stream as OwnedStream)[OWNER] = this;
    stream.on('data', onStreamData);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    stream.on('end', onStreamEnd);
    stream.on('drain', onStreamDrain);
  }

  // ------------------------------------------------------------------ timers (the broker's sweep)

  /** Called about once a second by the broker: the connect timeout and keep alive. */
  checkTimers(now: number): void {
    if (this.state === 'connect') {
      if (now - this.lastSeen >= this.broker.options.connectTimeoutMs) this.close('no CONNECT in time');
      return;
    }
    if (this.state !== 'open' || this.keepAliveMs === 0 || now - this.lastSeen < this.keepAliveMs) return;
    // While we are not reading (backpressure) the client's PINGREQs are unread, not missing.
    if (this.readPaused) this.lastSeen = now;
    else this.protocolError(0x8d, 'keep alive timeout'); // [MQTT-3.1.2-22]
  }

  // ------------------------------------------------------------------ input

  /** Frames complete packets out of the chunk (see frames.ts); keeps an incomplete one's bytes. */
  onData(chunk: Buffer): void {
    if (this.state === 'closed') return; // draining after close: discard
    if (this.keepAliveMs !== 0) this.lastSeen = Date.now();
    let data = chunk;
    const partial = this.partial;
    if (partial) {
      partial.chunks.push(chunk);
      partial.bytes += chunk.length;
      if (partial.bytes < partial.need) return;
      data = Buffer.concat(partial.chunks, partial.bytes);
      this.partial = undefined;
    }
    try {
      this.decodeAll(data);
    } catch (err) {
      // A bug must cost this connection, not the process.
      this.internalError(err);
    }
  }

  private decodeAll(data: Buffer): void {
    const opts = this.broker.options;
    let offset = 0;
    while (offset < data.length && this.state !== 'closed') {
      const end = packetEnd(data, offset);
      if (end === MALFORMED) return this.protocolError(0x81, 'malformed packet: remaining length over four bytes');
      // Refuse a huge packet as soon as its length is known instead of buffering it
      // (MQTT 5.0 §3.1.2.11.4, §3.2.2.3.6: the size counts the whole packet; reason 0x95).
      // Before CONNECT the (smaller) CONNECT limit applies: a stranger may not fill our memory.
      const limit = this.state === 'connect' ? opts.maxConnectBytes : opts.maxPacketBytes;
      if (end !== INCOMPLETE && end - offset > limit) return this.protocolError(0x95, `packet of ${end - offset} bytes is over the limit`);
      if (end === INCOMPLETE || end > data.length) return this.keepPartial(data, offset, end);
      this.broker.decoder.decode(this, this.frameSettings, data.subarray(offset, end));
      offset = end;
    }
  }

  private keepPartial(data: Buffer, offset: number, end: number): void {
    const rest = data.subarray(offset);
    // A short remainder is copied so that it does not keep the whole chunk alive.
    const head = rest.length < data.length >> 1 ? Buffer.from(rest) : rest;
    this.partial = { chunks: [head], bytes: head.length, need: end === INCOMPLETE ? 0 : end - offset };
  }

  /** PacketSink: a decoded packet. */
  onPacket(p: Packet): void {
    if (this.state === 'closed') return;
    if (this.state === 'auth') {
      (this.held ??= []).push(p); // pipelined after CONNECT, processed once authenticated
      return;
    }
    if (this.state === 'connect') {
      // The first packet must be CONNECT [MQTT-3.1.0-1].
      if (p.cmd !== 'connect') return this.close(`first packet was ${p.cmd}, not connect`);
      this.frameSettings = settingsAfter(p);
      handleConnect(this, p).catch((err: unknown) => this.internalError(err));
      return;
    }
    this.dispatch(p);
  }

  /** PacketSink: bytes mqtt-packet could not decode. */
  onMalformed(err: Error): void {
    this.protocolError(0x81, `malformed packet: ${err.message}`);
  }

  private dispatch(p: Packet): void {
    switch (p.cmd) {
      case 'publish':
        return this.onPublish(p);
      case 'puback':
        this.session?.complete(p.messageId ?? 0, 'publish');
        return;
      case 'pubrec':
        this.session?.received(p.messageId ?? 0, p.reasonCode ?? 0);
        return;
      case 'pubrel':
        return this.onPubrel(p.messageId ?? 0);
      case 'pubcomp':
        this.session?.complete(p.messageId ?? 0, 'pubrel');
        return;
      case 'subscribe':
        return this.onSubscribe(p);
      case 'unsubscribe':
        return this.onUnsubscribe(p);
      case 'pingreq':
        this.write(PINGRESP);
        if (this.stages) pingStages(this.stages);
        return;
      case 'disconnect':
        return this.onDisconnect(p);
      case 'connect':
        return this.protocolError(0x82, 'second CONNECT'); // [MQTT-3.1.0-2]
      default:
        // AUTH without an authentication method, or server-to-client packets.
        return this.protocolError(0x82, `unexpected ${p.cmd}`);
    }
  }

  // ------------------------------------------------------------------ CONNECT (see connect.ts)

  /** Authenticated and attached: CONNACK, then the session's pending traffic, then held packets. */
  open(o: OpenParams): void {
    this.session = o.session;
    this.limits = o.limits;
    this.will = o.will;
    this.writePacket(o.connack);
    this.state = 'open';
    this.broker.metrics.connections('mqtt', 1);
    // [MQTT-3.1.2-22]: close after 1.5 × keep alive without any packet (checked by checkTimers).
    this.lastSeen = Date.now();
    this.keepAliveMs = o.keepAlive * 1500;
    o.session.link = this;
    const stages = attachStages(this.broker.options.interceptors, this);
    this.stages = stages;
    // A resumed session's intercepted subscriptions are given to the new stages again.
    if (stages) for (const [filter, qos] of o.session.hookSubs) interceptSubscribe(stages, filter, qos);
    if (o.present) o.session.resume();
    else o.session.pump();
    const held = this.held;
    this.held = undefined;
    for (const packet of held ?? []) if (this.state === 'open') this.dispatch(packet);
  }

  /** CONNACK with a failure, then close [MQTT-3.2.2-6, MQTT-3.2.2-7]. */
  refuse(reasonCode: number, why: string): void {
    if (this.state === 'closed') return;
    const packet: IConnackPacket =
      this.protocolVersion === 5
        ? { cmd: 'connack', reasonCode, sessionPresent: false }
        : { cmd: 'connack', returnCode: connackReturnCode(reasonCode), sessionPresent: false };
    this.writePacket(packet);
    this.close(why);
  }

  // ------------------------------------------------------------------ PUBLISH in

  private onPublish(p: IPublishPacket): void {
    const topic = this.resolveAlias(p);
    if (topic !== undefined) handlePublish(this, this.session as Session, p, topic);
  }

  /** PublishIn: answers the PUBLISH once `result` settles (an intercepted one's commit, or at once). */
  ack(qos: 1 | 2, id: number, result: number | Promise<number>, done?: (code: number) => void): void {
    // Created on the first QoS 1/2 PUBLISH: many devices never send one.
    (this.acks ??= new InboundAcks(this)).push(qos, id, result, this.protocolVersion, done);
  }

  /** PublishIn: stops reading while too many acks wait on the platform's commits (TCP backpressure instead of unbounded memory). */
  holdReadsIfBacklogged(): void {
    if ((this.acks?.length ?? 0) >= ACK_BACKLOG && !this.readPaused) {
      this.readPaused = true;
      this.stream.pause();
    }
  }

  /** PublishIn: QoS 1/2 PUBLISHes not yet answered. */
  get pendingAcks(): number {
    return this.acks?.length ?? 0;
  }

  /** AckOutput (3.1.1): a message the platform could not store is not acknowledged; closing makes the client resend it. */
  unstored(): void {
    this.protocolError(0x88, 'a message could not be stored; closing unacknowledged so the client sends it again');
  }

  /** AckOutput: acks were written; resume reading once the backlog has halved. */
  acksFlushed(pending: number): void {
    if (this.readPaused && pending <= ACK_BACKLOG / 2) {
      this.readPaused = false;
      this.lastSeen = Date.now();
      this.stream.resume();
    }
  }

  /** Topic Alias (MQTT 5.0 §3.3.2.3.4): 0 or over our maximum is 0x94 [MQTT-3.3.2-8, MQTT-3.3.2-9]. */
  private resolveAlias(p: IPublishPacket): string | undefined {
    const alias = p.properties?.topicAlias;
    if (alias === undefined) return p.topic;
    const resolved = (this.aliases ??= new TopicAliases()).resolve(p.topic, alias, this.broker.options.topicAliasMaximum);
    if (typeof resolved === 'string') return resolved;
    this.protocolError(resolved.reasonCode, resolved.why);
    return undefined;
  }

  private onPubrel(id: number): void {
    const known = this.session?.deleteIncomingQos2(id) ?? false;
    // 0x92: Packet Identifier not found (MQTT 5.0 §3.7.2.1).
    this.write(encodeAck(PUBCOMP, id, known ? 0 : 0x92, this.protocolVersion));
  }

  // ------------------------------------------------------------------ SUBSCRIBE / DISCONNECT

  private onSubscribe(p: ISubscribePacket): void {
    handleSubscribe(this, this.session as Session, p);
  }

  private onUnsubscribe(p: IUnsubscribePacket): void {
    handleUnsubscribe(this, this.session as Session, p);
  }

  private onDisconnect(p: IDisconnectPacket): void {
    const session = this.session as Session;
    const expiry = p.properties?.sessionExpiryInterval;
    if (expiry !== undefined) {
      // Raising a zero expiry at DISCONNECT is a protocol error [MQTT-3.14.2-2].
      if (session.expiryInterval === 0 && expiry !== 0) return this.protocolError(0x82, 'session expiry raised from 0');
      session.expiryInterval = expiry;
    }
    // Normal disconnection discards the will [MQTT-3.14.4-3]; 0x04 asks for it to be sent.
    if (p.reasonCode !== 0x04) this.will = undefined;
    this.close('client disconnected');
  }

  // ------------------------------------------------------------------ output (SessionLink, ClientLink)

  sendQuota(inflight: number): number {
    if (this.state !== 'open' || this.stream.writableLength > WRITE_HIGH_WATER) return 0;
    return this.limits.receiveMaximum - inflight;
  }

  writePublish(d: Delivery | undefined, msg: Message, qos: QoS, retain: boolean, subIds: number[] | undefined, dup: boolean): boolean {
    if (this.state !== 'open') return true;
    if (qos === 0 && this.stream.writableLength > QOS0_DROP_BYTES) {
      this.broker.metrics.reject('mqtt', 'SLOW_CONSUMER');
      return true;
    }
    let extras: PublishExtras | undefined;
    let newAlias = false;
    if (this.protocolVersion === 5) {
      if (subIds) extras = { subIds };
      const assigned = this.limits.topicAliasMaximum > 0 ? (this.aliases ??= new TopicAliases()).assign(msg.topic, this.limits.topicAliasMaximum) : undefined;
      if (assigned) {
        newAlias = assigned.isNew;
        extras = { subIds, topicAlias: assigned.alias, omitTopic: !newAlias };
      }
    }
    const buf = encodePublish(msg, this.protocolVersion, qos, retain, dup, d ? d.packetId : 0, extras);
    // Never send more than the client's Maximum Packet Size [MQTT-3.1.2-24].
    if (!buf || buf.length > this.limits.maximumPacketSize) {
      if (newAlias) this.aliases?.unassign(msg.topic);
      this.broker.metrics.reject('mqtt', 'PAYLOAD_TOO_LARGE');
      return false;
    }
    this.write(buf);
    this.broker.metrics.messageOut('mqtt', 'publish');
    return true;
  }

  writePubrel(packetId: number): void {
    this.write(encodeAck(PUBREL, packetId, 0, this.protocolVersion));
  }

  /** ClientLink: a message for this client only (device API replies and pushes). */
  send(topic: string, payload: Buffer | string, qos: QoS): void {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.session?.deliver(new Message(topic, body, qos, false, undefined, 0, undefined), qos, false, undefined);
  }

  writePacket(packet: Packet): void {
    const buf = encode(packet, this.protocolVersion);
    if (buf) this.write(buf);
    else this.broker.logger.error({ clientId: this.clientId, cmd: packet.cmd }, 'mqtt packet could not be encoded');
  }

  /** Writes are corked until the end of the tick, so a burst leaves in one syscall. */
  write(buf: Buffer): void {
    if (this.state === 'closed' || this.stream.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    this.stream.write(buf);
  }

  // ------------------------------------------------------------------ closing

  /** A protocol violation or limit: counted, then disconnected. */
  protocolError(reasonCode: number, why: string): void {
    if (this.state === 'closed') return;
    this.broker.metrics.reject('mqtt', reasonCode === 0x81 ? 'MALFORMED_PACKET' : reasonCode === 0x95 ? 'PAYLOAD_TOO_LARGE' : reasonCode === 0x88 ? 'UNAVAILABLE' : 'PROTOCOL_ERROR'); // catalogue code; the reason code is logged
    this.disconnect(reasonCode, why);
  }

  private internalError(err: unknown): void {
    this.broker.logger.error({ err, clientId: this.clientId, remote: this.remoteAddress }, 'mqtt connection failed');
    this.broker.metrics.reject('mqtt', 'INTERNAL');
    this.disconnect(0x83, 'internal error');
  }

  /** MQTT 5 gets a DISCONNECT with the reason first (MQTT 5.0 §4.13); 3.1.1 is just closed. */
  private disconnect(reasonCode: number, why: string, graceMs = CLOSE_GRACE_MS): void {
    if (this.state === 'closed') return;
    this.broker.logger.debug({ clientId: this.clientId, remote: this.remoteAddress, reasonCode }, `mqtt disconnect: ${why}`);
    if (this.state === 'open' && this.protocolVersion === 5) this.writePacket({ cmd: 'disconnect', reasonCode });
    this.close(why, false, graceMs);
  }

  /** Another connection with our client id arrived: DISCONNECT 0x8E, then close [MQTT-3.1.4-3]. */
  takeover(): void {
    this.disconnect(0x8e, 'session taken over');
  }

  /** Not authorized any more (MQTT 5.0 §3.14.2.1: a server may send 0x87 in DISCONNECT). */
  revoke(why: string): void {
    this.disconnect(0x87, why);
  }

  /** Broker shutdown: DISCONNECT 0x8B "server shutting down", and little patience after it. */
  shutdown(): void {
    this.disconnect(0x8b, 'server shutting down', 1000);
  }

  acksSettled(): Promise<void> {
    return this.acks ? this.acks.settled() : Promise.resolve();
  }

  close(why: string, destroyed = false, graceMs = CLOSE_GRACE_MS): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    const session = this.session;
    if (session && session.link === this) {
      const w = this.will;
      const will = w && new Message(w.topic, w.payload, w.qos, w.retain, w.props, w.expiry ? Date.now() + (w.delay + w.expiry) * 1000 : 0, session.key);
      this.broker.detach(session, will, w ? Math.min(w.delay, session.expiryInterval) : 0);
    }
    const stages = this.stages;
    this.stages = undefined;
    if (stages) closeStages(this.broker, stages);
    if (wasOpen) this.broker.metrics.connections('mqtt', -1);
    this.broker.logger.debug({ clientId: this.clientId, remote: this.remoteAddress }, `mqtt connection closed: ${why}`);
    this.broker.forget(this);
    if (destroyed || this.stream.destroyed) return;
    // Half-close so the client can still read what we wrote, then make sure the socket goes away.
    this.stream.end();
    setTimeout(() => this.stream.destroy(), graceMs).unref();
  }
}
