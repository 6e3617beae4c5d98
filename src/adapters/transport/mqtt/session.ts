/**
 * Session state (MQTT 5.0 §4.1): what outlives a network connection — subscriptions, outbound QoS 1/2
 * messages in flight or queued, inbound QoS 2 packet ids awaiting PUBREL — kept in memory. Changes
 * to what a restart must keep are told to the SessionEnv's journal (persistence.ts writes them).
 *
 * A Session talks to its current connection through SessionLink only, so the protocol code stays in
 * connection.ts and the routing code in broker.ts.
 */
import type { UserProperties } from 'mqtt-packet';
import type { Principal } from './auth.js';

export type QoS = 0 | 1 | 2;

/** PUBLISH properties a broker forwards unchanged (MQTT 5.0 §3.3.2.3) [MQTT-3.3.2-4, MQTT-3.3.2-17..20]. */
export interface ForwardedProps {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperties;
}

/** One application message as routed: immutable, shared by every delivery of it. */
export class Message {
  /** Encoded PUBLISH packets by (version, qos, retain), filled on first use; see packets.ts. */
  encoded: (Buffer | undefined)[] | undefined;

  constructor(
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: QoS,
    readonly retain: boolean,
    readonly props: ForwardedProps | undefined,
    /** Epoch ms after which the message must not be delivered; 0 = never [MQTT-3.3.2-5]. */
    readonly expiresAt: number,
    /**
     * Key of the publishing session, for No Local [MQTT-3.8.3-3]. A key, not the Session, so a
     * retained or queued message does not keep an ended session alive.
     */
    readonly origin: string | undefined,
  ) {}

  expired(now: number): boolean {
    return this.expiresAt !== 0 && now >= this.expiresAt;
  }
}

/** A QoS 1/2 message on its way to one session. */
export interface Delivery {
  readonly msg: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  readonly subIds: number[] | undefined;
  packetId: number;
  /** 'publish': PUBLISH sent, awaiting PUBACK/PUBREC; 'pubrel': PUBREL sent, awaiting PUBCOMP. */
  state: 'publish' | 'pubrel';
  /** Its order in the session's persisted state; 0 until the journal first records it. */
  seq: number;
}

export interface Subscription {
  readonly session: Session;
  /** The filter as the client sent it, `$share/g/…` included: the key in Session.subs. */
  readonly key: string;
  /** The filter that matches topics (without `$share/g/`). */
  readonly filter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly subId: number | undefined;
  /** Set for shared subscriptions. */
  readonly group: string | undefined;
}

/** What a session needs from the connection currently attached to it. */
export interface SessionLink {
  /** How many more QoS 1/2 PUBLISHes may be in flight now (client Receive Maximum, write backpressure). */
  sendQuota(inflight: number): number;
  /** Returns false when the packet was not sent (over the client's Maximum Packet Size). */
  writePublish(d: Delivery | undefined, msg: Message, qos: QoS, retain: boolean, subIds: number[] | undefined, dup: boolean): boolean;
  writePubrel(packetId: number): void;
  /** Ends the connection because its principal lost the right to be connected (tenant suspended). */
  revoke?(why: string): void;
}

export interface SessionEnv {
  readonly maxQueued: number;
  /** A queued message was dropped (queue full or expired). */
  dropped(reason: 'queue_full' | 'expired'): void;
  /** Told of changes a restart must keep; absent when the broker keeps nothing. */
  readonly journal?: SessionJournal;
}

/** Receives the changes to a session's persistent state (persistence.ts). Never throws. */
export interface SessionJournal {
  /** Subscriptions (routed or intercepted) changed. */
  changed(session: Session): void;
  /** A QoS 1/2 delivery was queued, sent (packet id assigned) or moved on to PUBREL. */
  delivery(session: Session, d: Delivery): void;
  /** A delivery is over: acknowledged, refused, dropped or expired. */
  finished(session: Session, d: Delivery): void;
}

/**
 * What a collection a session has not used yet reads as. Sessions create theirs on first write:
 * most devices never subscribe, publish at QoS 2 or receive QoS 1/2, and an empty Map still costs
 * a couple of hundred bytes. Never written to.
 */
const NO_ENTRIES = new Map<never, never>();
const NO_IDS = new Set<never>();

/**
 * The key of a client's session: its topic space, owner and client id. The device id is part of
 * it: another device reusing a client id neither takes over a connection nor inherits
 * subscriptions that were authorized for someone else.
 */
export function sessionKey(principal: Principal, clientId: string): string {
  const owner = principal.identity?.deviceId ?? (principal.app ? `app:${principal.app.userId}` : '');
  return `${principal.space}\u0000${owner}\u0000${clientId}`;
}

export class Session {
  private subsMap: Map<string, Subscription> | undefined;
  private hookSubsMap: Map<string, QoS> | undefined;
  /** Insertion order = send order, so redelivery keeps the original order [MQTT-4.6.0-1]. */
  private inflightMap: Map<number, Delivery> | undefined;
  private qos2Ids: Set<number> | undefined;
  private queue: Delivery[] = [];
  private nextId = 1;

  link: SessionLink | undefined;
  /** Seconds; 0xFFFFFFFF never expires (MQTT 5.0 §3.1.2.11.2). */
  expiryInterval = 0;
  expiryTimer: NodeJS.Timeout | undefined;
  willTimer: NodeJS.Timeout | undefined;
  pendingWill: Message | undefined;
  /** Cluster: another node attached it; this copy is being dropped (broker.takenElsewhere). */
  movedAway = false;

  // Scratch fields the router uses to merge overlapping subscriptions without allocating.
  routeMark = 0;
  routeQos: QoS = 0;
  routeRap = false;
  routeIds: number[] | undefined;

  constructor(
    /** Unique per (topic space, device, client id); see MqttBroker.attach. */
    readonly key: string,
    readonly clientId: string,
    readonly spaceKey: string,
    public principal: Principal,
    private readonly env: SessionEnv,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Routed subscriptions by the filter as the client sent it. */
  get subs(): ReadonlyMap<string, Subscription> {
    return this.subsMap ?? NO_ENTRIES;
  }

  setSub(sub: Subscription): void {
    (this.subsMap ??= new Map()).set(sub.key, sub);
    this.env.journal?.changed(this);
  }

  deleteSub(key: string): boolean {
    const deleted = this.subsMap?.delete(key) ?? false;
    if (deleted) this.env.journal?.changed(this);
    return deleted;
  }

  /** Subscriptions intercepted by the device API bridge: filter → granted QoS. */
  get hookSubs(): ReadonlyMap<string, QoS> {
    return this.hookSubsMap ?? NO_ENTRIES;
  }

  setHookSub(filter: string, qos: QoS): void {
    (this.hookSubsMap ??= new Map()).set(filter, qos);
    this.env.journal?.changed(this);
  }

  deleteHookSub(filter: string): boolean {
    const deleted = this.hookSubsMap?.delete(filter) ?? false;
    if (deleted) this.env.journal?.changed(this);
    return deleted;
  }

  clearHookSubs(): void {
    this.hookSubsMap = undefined;
  }

  /** Inbound QoS 2 packet ids between PUBREC and PUBREL (Method A, MQTT 5.0 §4.3.3). */
  get incomingQos2(): ReadonlySet<number> {
    return this.qos2Ids ?? NO_IDS;
  }

  addIncomingQos2(id: number): void {
    (this.qos2Ids ??= new Set()).add(id);
  }

  deleteIncomingQos2(id: number): boolean {
    return this.qos2Ids?.delete(id) ?? false;
  }

  /** Outbound QoS 1/2 messages in flight: read-only here, written by send/complete/received. */
  private get inflight(): ReadonlyMap<number, Delivery> {
    return this.inflightMap ?? NO_ENTRIES;
  }

  /** Hands a routed message to the session: sent now, queued, or (QoS 0 while offline) dropped. */
  deliver(msg: Message, qos: QoS, retain: boolean, subIds: number[] | undefined): void {
    const link = this.link;
    if (qos === 0) {
      // QoS 0 is not queued for offline sessions (MQTT 5.0 §4.1 leaves it to the server).
      link?.writePublish(undefined, msg, 0, retain, subIds, false);
      return;
    }
    const d: Delivery = { msg, qos, retain, subIds, packetId: 0, state: 'publish', seq: 0 };
    if (link && this.queue.length === 0 && link.sendQuota(this.inflight.size) > 0) this.send(link, d);
    else this.enqueue(d);
  }

  private enqueue(d: Delivery): void {
    if (this.env.maxQueued === 0) {
      this.env.dropped('queue_full');
      return;
    }
    if (this.queue.length >= this.env.maxQueued) {
      const oldest = this.queue.shift() as Delivery;
      this.env.dropped('queue_full');
      this.env.journal?.finished(this, oldest);
    }
    this.queue.push(d);
    this.env.journal?.delivery(this, d);
  }

  private send(link: SessionLink, d: Delivery): void {
    d.packetId = this.allocateId();
    (this.inflightMap ??= new Map()).set(d.packetId, d);
    // Too large for the client: discarded as if sent and acknowledged [MQTT-3.1.2-25].
    if (!link.writePublish(d, d.msg, d.qos, d.retain, d.subIds, false)) {
      this.inflightMap.delete(d.packetId);
      this.env.journal?.finished(this, d);
    } else this.env.journal?.delivery(this, d);
  }

  /** Packet ids must not be reused while in flight [MQTT-2.2.1-3]. */
  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }

  /** Sends queued messages while the client's receive window allows [MQTT-3.3.4-9]. */
  pump(): void {
    const link = this.link;
    if (!link) return;
    const now = Date.now();
    let quota = link.sendQuota(this.inflight.size);
    let i = 0;
    while (quota > 0 && i < this.queue.length && this.link === link) {
      const d = this.queue[i++] as Delivery;
      if (d.msg.expired(now)) {
        this.env.dropped('expired');
        this.env.journal?.finished(this, d);
        continue;
      }
      this.send(link, d);
      quota--;
    }
    if (i > 0) this.queue.splice(0, i);
  }

  /** PUBACK, or PUBCOMP: the exchange is complete. */
  complete(packetId: number, expect: 'publish' | 'pubrel'): boolean {
    const d = this.inflight.get(packetId);
    if (!d || d.state !== expect || (expect === 'publish' && d.qos !== 1)) return false;
    this.inflightMap?.delete(packetId);
    this.env.journal?.finished(this, d);
    this.pump();
    return true;
  }

  /** PUBREC: answer with PUBREL, or drop the message when the client refused it (reason ≥ 0x80). */
  received(packetId: number, reasonCode: number): boolean {
    const d = this.inflight.get(packetId);
    if (!d || d.qos !== 2) return false;
    if (reasonCode >= 0x80) {
      this.inflightMap?.delete(packetId);
      this.env.journal?.finished(this, d);
      this.pump();
      return true;
    }
    d.state = 'pubrel';
    this.env.journal?.delivery(this, d);
    this.link?.writePubrel(packetId);
    return true;
  }

  /** After reconnecting to an existing session: resend unacknowledged packets, DUP set [MQTT-4.4.0-1]. */
  resume(): void {
    const link = this.link;
    if (!link) return;
    for (const d of this.inflight.values()) {
      if (d.state === 'pubrel') link.writePubrel(d.packetId);
      else if (!link.writePublish(d, d.msg, d.qos, d.retain, d.subIds, true)) {
        this.inflightMap?.delete(d.packetId);
        this.env.journal?.finished(this, d);
      }
    }
    this.pump();
  }

  /** After a restart (persistence.ts): in-flight and queued deliveries back, in their original order. */
  restore(deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      if (d.packetId === 0) this.queue.push(d);
      else (this.inflightMap ??= new Map()).set(d.packetId, d);
    }
  }

  clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.willTimer) clearTimeout(this.willTimer);
    this.expiryTimer = undefined;
    this.willTimer = undefined;
  }
}
