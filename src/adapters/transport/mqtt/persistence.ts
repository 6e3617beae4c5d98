/**
 * Keeps the broker's state in a BrokerStateStore so that it survives a restart: persistent sessions
 * (3.1.1 Clean Session 0, MQTT 5 Session Expiry Interval > 0; MQTT 5.0 §3.1.2.4, §3.1.2.11.2) with
 * their subscriptions and their queued and in-flight QoS 1/2 messages (§4.1), and retained messages
 * (§3.3.1.3).
 *
 * Write-behind: sessions and the broker only mark what changed (the SessionJournal calls, cheap
 * and synchronous); once per event-loop turn the marks become one `apply` batch read from the
 * current state, so a message queued and acknowledged in the same turn is never written. Sessions
 * that are not persistent cost one comparison per call and are never written. Inbound device
 * telemetry is not routed and writes nothing here. A publisher whose message changed the state
 * (queued for a persistent session, retained) gets its PUBACK/PUBREC only once the batch is
 * durable (`pending`), so an acknowledged message survives a killed process. What a crash loses is
 * listed in docs/MQTT.md.
 */
import type { BrokerMessageRecord, BrokerOutboundRecord, BrokerSessionRecord, BrokerStateChange, BrokerStateSnapshot, BrokerStateStore, BrokerSubscriptionRecord, Logger } from '../../../ports.js';
import type { TransportMetrics } from '../../../ports/device-api.js';
import { Message, type Delivery, type ForwardedProps, type Session, type SessionJournal, type Subscription } from './session.js';
import { parseShared } from './topics.js';

/** Session Expiry Interval meaning "never" (MQTT 5.0 §3.1.2.11.2). */
const NEVER_EXPIRES = 0xffffffff;

/** Reason code for a publisher whose message could not be made durable: Server unavailable. */
const SERVER_UNAVAILABLE = 0x88;

/** What the coordinator needs of the broker (an interface, so this file does not import broker.ts). */
export interface PersistenceHost {
  readonly maxQueued: number;
  /** Registers a restored, offline session whose expiry ends in `remainingMs` (undefined: never). */
  adoptSession(key: string, clientId: string, space: string, expiryInterval: number, remainingMs: number | undefined): Session;
  subscribe(session: Session, sub: Subscription): boolean;
  /** Retains a restored message; false when today's quota refuses it. */
  restoreRetained(space: string, msg: Message, owner: string): boolean;
  /** Whether the session is in memory here. */
  hasSession(key: string): boolean;
  /** The retained message of a topic now, with its quota owner. */
  retainedOf(space: string, topic: string): { readonly msg: Message; readonly owner: string } | undefined;
}

interface Pending {
  readonly promise: Promise<number>;
  resolve(code: number): void;
}

// ------------------------------------------------------------------ records

function encodeProps(p: ForwardedProps | undefined): string | undefined {
  if (!p) return undefined;
  const { correlationData, ...rest } = p;
  return JSON.stringify(correlationData ? { ...rest, correlationData: correlationData.toString('base64') } : rest);
}

function decodeProps(json: string | undefined): ForwardedProps | undefined {
  if (json === undefined) return undefined;
  const raw = JSON.parse(json) as Omit<ForwardedProps, 'correlationData'> & { correlationData?: string };
  const { correlationData, ...rest } = raw;
  return correlationData === undefined ? rest : { ...rest, correlationData: Buffer.from(correlationData, 'base64') };
}

export function messageRecord(m: Message): BrokerMessageRecord {
  return { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, properties: encodeProps(m.props), expiresAt: m.expiresAt, origin: m.origin };
}

export function messageFrom(r: BrokerMessageRecord): Message {
  return new Message(r.topic, r.payload, r.qos, r.retain, decodeProps(r.properties), r.expiresAt, r.origin);
}

function subscriptionRecords(s: Session): BrokerSubscriptionRecord[] {
  const out: BrokerSubscriptionRecord[] = [];
  for (const sub of s.subs.values()) {
    out.push({ filter: sub.key, qos: sub.qos, noLocal: sub.noLocal, retainAsPublished: sub.retainAsPublished, subscriptionId: sub.subId, intercepted: false });
  }
  for (const [filter, qos] of s.hookSubs) {
    out.push({ filter, qos, noLocal: false, retainAsPublished: false, subscriptionId: undefined, intercepted: true });
  }
  return out;
}

function subscriptionFrom(session: Session, r: BrokerSubscriptionRecord): Subscription | undefined {
  const shared = parseShared(r.filter);
  if (shared === 'invalid') return undefined;
  return {
    session,
    key: r.filter,
    filter: shared ? shared.filter : r.filter,
    qos: r.qos,
    noLocal: r.noLocal,
    retainAsPublished: r.retainAsPublished,
    subId: r.subscriptionId,
    group: shared ? shared.group : undefined,
  };
}

// ------------------------------------------------------------------ the coordinator

export class BrokerPersistence implements SessionJournal {
  /** Sessions whose record changed this turn. */
  private readonly dirtySessions = new Set<Session>();
  /** Keys of persisted sessions that ended this turn (deleted before anything is put). */
  private readonly endedKeys = new Set<string>();
  /** Deliveries to put this turn, with their session. */
  private readonly dirtyOut = new Map<Delivery, Session>();
  /** Persisted deliveries that are over. */
  private readonly finishedOut: { sessionKey: string; seq: number }[] = [];
  /** Retained topics changed this turn: `space\0topic` → [space, topic]. */
  private readonly dirtyRetained = new Map<string, [string, string]>();

  /** Sessions with a record in the store (so that ending them deletes it). */
  private readonly persisted = new WeakSet<Session>();
  private readonly ended = new WeakSet<Session>();
  private readonly disconnectedAt = new WeakMap<Session, number>();
  private readonly nextSeq = new WeakMap<Session, number>();

  private scheduled = false;
  private muted = false;
  private batch: Pending | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: BrokerStateStore,
    private readonly host: PersistenceHost,
    private readonly logger: Logger,
    private readonly metrics: TransportMetrics,
  ) {}

  // ------------------------------------------------------------------ marks (SessionJournal and broker hooks)

  changed(session: Session): void {
    if (this.muted || this.ended.has(session)) return;
    if (session.expiryInterval === 0 && !this.persisted.has(session)) return;
    this.dirtySessions.add(session);
    this.schedule();
  }

  delivery(session: Session, d: Delivery): void {
    // Not persistent: nothing to keep (the common case, one comparison).
    if (session.expiryInterval === 0 || this.muted || this.ended.has(session)) return;
    this.dirtyOut.set(d, session);
    this.schedule();
  }

  finished(session: Session, d: Delivery): void {
    // Never marked (a session that is not persistent: every PUBACK of the common case).
    if ((d.seq === 0 && session.expiryInterval === 0) || this.muted) return;
    this.dirtyOut.delete(d);
    // seq 0: never written, so nothing to delete.
    if (d.seq === 0 || this.ended.has(session)) return;
    this.finishedOut.push({ sessionKey: session.key, seq: d.seq });
    this.schedule();
  }

  /** A connection attached to the session (CONNECT accepted). */
  attached(session: Session): void {
    this.disconnectedAt.delete(session);
    this.changed(session);
  }

  /** Its connection is gone: the expiry counts from now, across restarts too. */
  detached(session: Session): void {
    if (session.expiryInterval === 0 && !this.persisted.has(session)) return; // ends now, never kept
    this.disconnectedAt.set(session, Date.now());
    this.changed(session);
  }

  /** The session ended (expired, Clean Start, expiry 0 at disconnect): its record goes. */
  sessionEnded(session: Session): void {
    this.ended.add(session);
    this.dirtySessions.delete(session);
    if (this.muted || !this.persisted.has(session)) return;
    this.persisted.delete(session);
    this.endedKeys.add(session.key);
    this.schedule();
  }

  retainedChanged(space: string, topic: string): void {
    if (this.muted) return;
    this.dirtyRetained.set(`${space}\u0000${topic}`, [space, topic]);
    this.schedule();
  }

  /**
   * The code the publisher's acknowledgement should carry once this turn's changes are durable,
   * or undefined when this turn changed nothing (acknowledge at once, as without persistence).
   */
  pending(): Promise<number> | undefined {
    if (!this.scheduled) return undefined;
    if (!this.batch) {
      let resolve!: (code: number) => void;
      const promise = new Promise<number>((r) => (resolve = r));
      this.batch = { promise, resolve };
    }
    return this.batch.promise;
  }

  // ------------------------------------------------------------------ writing

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Writes what is marked; resolves once it and every earlier batch are applied. */
  flush(): Promise<void> {
    this.scheduled = false;
    const waiter = this.batch;
    this.batch = undefined;
    const changes = this.collect();
    if (changes.length === 0) {
      const tail = this.tail;
      if (waiter) void tail.then(() => waiter.resolve(0));
      return tail;
    }
    this.tail = this.tail
      .then(() => this.state.apply(changes))
      .then(
        () => waiter?.resolve(0),
        (err: unknown) => {
          // The batch is lost: the in-memory state is intact, but a restart would miss it.
          this.metrics.reject('mqtt', 'UNAVAILABLE');
          this.logger.error({ err, changes: changes.length }, 'mqtt broker state could not be written; the publishers are told (0x88)');
          waiter?.resolve(SERVER_UNAVAILABLE);
        },
      );
    return this.tail;
  }

  /** The marks as changes, in an order a backend can apply one by one: deletions of ended sessions first. */
  private collect(): BrokerStateChange[] {
    const changes: BrokerStateChange[] = [];
    for (const key of this.endedKeys) changes.push({ op: 'deleteSession', key });
    this.endedKeys.clear();
    for (const s of this.dirtySessions) {
      if (s.expiryInterval === 0) {
        // Persistent before, not any more (reconnected with expiry 0): it ends with this connection.
        if (this.persisted.delete(s)) changes.push({ op: 'deleteSession', key: s.key });
        continue;
      }
      this.persisted.add(s);
      changes.push({ op: 'putSession', session: this.sessionRecord(s) });
    }
    this.dirtySessions.clear();
    for (const f of this.finishedOut) changes.push({ op: 'deleteOutbound', sessionKey: f.sessionKey, seq: f.seq });
    this.finishedOut.length = 0;
    for (const [d, s] of this.dirtyOut) {
      if (this.ended.has(s) || s.expiryInterval === 0) continue;
      if (!this.persisted.has(s)) {
        this.persisted.add(s);
        changes.push({ op: 'putSession', session: this.sessionRecord(s) });
      }
      if (d.seq === 0) {
        d.seq = this.nextSeq.get(s) ?? 1;
        this.nextSeq.set(s, d.seq + 1);
      }
      changes.push({ op: 'putOutbound', outbound: this.outboundRecord(s, d) });
    }
    this.dirtyOut.clear();
    for (const [space, topic] of this.dirtyRetained.values()) {
      const kept = this.host.retainedOf(space, topic);
      changes.push(kept ? { op: 'putRetained', retained: { space, message: messageRecord(kept.msg), owner: kept.owner } } : { op: 'deleteRetained', space, topic });
    }
    this.dirtyRetained.clear();
    return changes;
  }

  private sessionRecord(s: Session): BrokerSessionRecord {
    return {
      key: s.key,
      space: s.spaceKey,
      clientId: s.clientId,
      expiryInterval: s.expiryInterval,
      disconnectedAt: this.disconnectedAt.get(s),
      subscriptions: subscriptionRecords(s),
    };
  }

  private outboundRecord(s: Session, d: Delivery): BrokerOutboundRecord {
    return { sessionKey: s.key, seq: d.seq, message: messageRecord(d.msg), qos: d.qos, retain: d.retain, subscriptionIds: d.subIds, packetId: d.packetId, state: d.state };
  }

  // ------------------------------------------------------------------ restoring

  /**
   * Loads the kept state into the broker, before it accepts clients. Sessions whose expiry passed
   * (counted from their disconnect; a session connected when the process died counts from now)
   * are deleted; queues over today's limit lose their oldest messages; retained messages over
   * today's quota, or expired, are dropped.
   */
  async restore(): Promise<void> {
    await this.restoreSnapshot(await this.state.load());
  }

  /**
   * Cluster (a shared store): loads one session another node held, before its client is attached
   * here; from now on this node holds it. Nothing when the store is not shared or keeps none.
   */
  async loadSession(key: string): Promise<void> {
    const found = await this.state.loadSession?.(key);
    if (found) await this.restoreSnapshot({ sessions: [found.session], outbound: found.outbound, retained: [] });
  }

  /** Cluster: takes over the sessions a gone node held (its clients reconnect here or elsewhere). */
  async adoptNode(nodeId: string): Promise<void> {
    const snap = await this.state.adoptNode?.(nodeId);
    if (snap) await this.restoreSnapshot(snap);
  }

  /** Whether sessions move between nodes through the store (loadSession does something). */
  get shared(): boolean {
    return this.state.loadSession !== undefined;
  }

  /** Cluster: a session connecting here with Clean Start may have been kept by another node: its record goes. */
  discard(key: string): void {
    this.endedKeys.add(key);
    this.schedule();
  }

  /**
   * Cluster: another node holds the session now (its client connected there). Nothing more is
   * written for this copy: the record is the other node's.
   */
  release(session: Session): void {
    this.ended.add(session);
    this.persisted.delete(session);
    this.dirtySessions.delete(session);
    for (const [d, s] of this.dirtyOut) if (s === session) this.dirtyOut.delete(d);
  }

  private async restoreSnapshot(snap: BrokerStateSnapshot): Promise<void> {
    const now = Date.now();
    const cleanup: BrokerStateChange[] = [];
    const sessions = new Map<string, Session>();
    const counts = { sessions: 0, expired: 0, messages: 0, dropped: 0, retained: 0 };
    this.muted = true;
    try {
      for (const r of snap.retained) {
        const msg = messageFrom(r.message);
        if (!msg.expired(now) && this.host.restoreRetained(r.space, msg, r.owner)) counts.retained++;
        else cleanup.push({ op: 'deleteRetained', space: r.space, topic: r.message.topic });
      }
      for (const r of snap.sessions) {
        if (this.host.hasSession(r.key)) continue; // connected here meanwhile: this node's state is newer
        const since = r.disconnectedAt ?? now;
        const remaining = r.expiryInterval === NEVER_EXPIRES ? undefined : since + r.expiryInterval * 1000 - now;
        if (r.expiryInterval === 0 || (remaining !== undefined && remaining <= 0)) {
          cleanup.push({ op: 'deleteSession', key: r.key });
          counts.expired++;
          continue;
        }
        const session = this.host.adoptSession(r.key, r.clientId, r.space, r.expiryInterval, remaining);
        for (const sr of r.subscriptions) {
          if (sr.intercepted) session.setHookSub(sr.filter, sr.qos);
          else {
            const sub = subscriptionFrom(session, sr);
            if (sub) this.host.subscribe(session, sub);
          }
        }
        this.persisted.add(session);
        this.disconnectedAt.set(session, since);
        if (r.disconnectedAt === undefined) this.dirtySessions.add(session); // records when the expiry started
        sessions.set(r.key, session);
        counts.sessions++;
      }
      this.restoreOutbound(snap.outbound, sessions, cleanup, counts);
    } finally {
      this.muted = false;
    }
    if (cleanup.length > 0) await this.state.apply(cleanup);
    if (this.dirtySessions.size > 0) this.schedule();
    if (counts.sessions + counts.expired + counts.retained > 0) this.logger.info(counts, 'mqtt broker state restored');
  }

  private restoreOutbound(
    records: readonly BrokerOutboundRecord[],
    sessions: ReadonlyMap<string, Session>,
    cleanup: BrokerStateChange[],
    counts: { messages: number; dropped: number },
  ): void {
    const bySession = new Map<string, BrokerOutboundRecord[]>();
    for (const o of records) {
      let list = bySession.get(o.sessionKey);
      if (!list) bySession.set(o.sessionKey, (list = []));
      list.push(o);
    }
    for (const [key, list] of bySession) {
      const session = sessions.get(key);
      if (!session) continue; // its session expired: deleteSession removes these too
      list.sort((a, b) => a.seq - b.seq);
      // The queue limit may have been lowered since: the oldest queued messages go, as on overflow.
      let excess = list.filter((o) => o.packetId === 0).length - this.host.maxQueued;
      const kept: Delivery[] = [];
      for (const o of list) {
        if (o.packetId === 0 && excess > 0) {
          excess--;
          counts.dropped++;
          this.metrics.reject('mqtt', 'QUEUE_FULL');
          cleanup.push({ op: 'deleteOutbound', sessionKey: key, seq: o.seq });
          continue;
        }
        kept.push({ msg: messageFrom(o.message), qos: o.qos, retain: o.retain, subIds: o.subscriptionIds ? [...o.subscriptionIds] : undefined, packetId: o.packetId, state: o.state, seq: o.seq });
      }
      session.restore(kept);
      counts.messages += kept.length;
      this.nextSeq.set(session, (list.at(-1)?.seq ?? 0) + 1);
    }
  }
}
