/**
 * The broker core: topic spaces, sessions, routing, retained messages and wills. Protocol handling
 * per client lives in connection.ts; this file decides who receives what.
 *
 * Isolation: every principal belongs to a topic space (the tenant for devices). Each space has its
 * own subscription index and retained store, so a topic in one tenant can never match a filter of
 * another; session keys include the space, so equal client ids in two tenants never take each other
 * over.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../ports.js';
import type { TransportMetrics } from '../../../ports/device-api.js';
import { RefusalLog } from '../connection-cap.js';
import type { Principal } from './auth.js';
import type { ClientCertificate } from './client-cert.js';
import { BrokerCluster, type ClusterHost } from './cluster.js';
import { Connection } from './connection.js';
import { NEVER_EXPIRES, type BrokerContext, type BrokerOptions, type ResolvedOptions } from './context.js';
import { PacketDecoder } from './frames.js';
import { BrokerPersistence, type PersistenceHost } from './persistence.js';
import { pickMember } from './shared-groups.js';
import { Space, wildStart } from './spaces.js';
import { ThrottledWarning } from './throttled-warning.js';
import { DEFAULT_RETAINED_LIMITS, RetainedQuota, type RetainedUse } from './retained-quota.js';
import { Message, Session, sessionKey, type QoS, type SessionEnv, type SessionLink, type Subscription } from './session.js';

/**
 * How often the connect timeout and keep alives are checked: one sweep over all connections instead
 * of a timer per connection, so a keep alive expires up to this much after 1.5 × its value.
 */
const SWEEP_MS = 1000;

export { NEVER_EXPIRES, type BrokerOptions, type ResolvedOptions };

const noopMetrics: TransportMetrics = { messageIn: () => {}, messageOut: () => {}, reject: () => {}, connections: () => {} };

export class MqttBroker implements BrokerContext, PersistenceHost, ClusterHost {
  readonly options: ResolvedOptions;
  /** Writes persistent sessions and retained messages behind (persistence.ts); undefined: memory only. */
  readonly persistence: BrokerPersistence | undefined;
  /** The other nodes of a cluster (cluster.ts); undefined: this node alone. */
  private readonly cluster: BrokerCluster | undefined;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  private readonly sessions = new Map<string, Session>();
  private readonly spaces = new Map<string, Space>();
  private readonly connections = new Set<Connection>();
  private readonly sessionEnv: SessionEnv;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly retainedQuota: RetainedQuota;
  private routeSeq = 0;
  private closing = false;
  private readonly refusals: RefusalLog;
  private readonly sessionCap: ThrottledWarning;
  /** Decodes the packets of every connection (see frames.ts). */
  readonly decoder = new PacketDecoder();

  constructor(options: BrokerOptions) {
    const maxPayloadBytes = options.maxPayloadBytes ?? 256 * 1024;
    // A topic is at most 65535 bytes; properties rarely exceed a few hundred.
    const maxPacketBytes = Math.min(maxPayloadBytes + 65536 + 8192, 268_435_455);
    this.options = {
      logger: options.logger,
      policy: options.policy,
      metrics: options.metrics ?? noopMetrics,
      interceptors: options.interceptors ?? [],
      maxKeepAlive: options.maxKeepAlive ?? 0,
      maxQueuedMessages: options.maxQueuedMessages ?? 1000,
      maxSessions: options.maxSessions ?? 200_000,
      maxPayloadBytes,
      receiveMaximum: options.receiveMaximum ?? 65535,
      topicAliasMaximum: options.topicAliasMaximum ?? 64,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxConnections: options.maxConnections ?? 100_000,
      maxPacketBytes,
      retained: options.retained ?? DEFAULT_RETAINED_LIMITS,
      // Neither MQTT version bounds CONNECT (a will payload alone may be 64 KiB); until a client
      // has authenticated, it may not make us buffer more than this.
      maxConnectBytes: Math.min(options.maxConnectBytes ?? 64 * 1024, maxPacketBytes),
    };
    this.metrics = this.options.metrics;
    this.logger = options.logger;
    this.retainedQuota = new RetainedQuota(this.options.retained);
    this.refusals = new RefusalLog(options.logger, { listener: 'mqtt', maxConnections: this.options.maxConnections }, () =>
      this.metrics.reject('mqtt', 'CONNECTION_LIMIT'),
    );
    const metrics = this.metrics;
    this.persistence = options.state && new BrokerPersistence(options.state, this, options.logger, metrics);
    this.cluster = options.cluster && new BrokerCluster(options.cluster, this, options.logger);
    const dropLog = new ThrottledWarning(options.logger, 'mqtt session queue full: oldest messages dropped');
    this.sessionCap = new ThrottledWarning(options.logger, 'mqtt session limit reached: CONNECT refused');
    this.sessionEnv = {
      maxQueued: this.options.maxQueuedMessages,
      dropped: (reason) => {
        metrics.reject('mqtt', reason === 'queue_full' ? 'QUEUE_FULL' : 'MESSAGE_EXPIRED');
        if (reason === 'queue_full') dropLog.note({ maxQueuedMessages: this.options.maxQueuedMessages });
      },
      ...(this.persistence ? { journal: this.persistence } : {}),
    };
  }

  get maxQueued(): number {
    return this.options.maxQueuedMessages;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Serves one client over any byte stream (TCP, TLS, WebSocket). Never throws. `certificate`
   * is what the TLS client certificate proved (client-cert.ts), for X.509 authentication.
   */
  handle(stream: Duplex, remoteAddress?: string, certificate?: ClientCertificate): void {
    if (this.closing) {
      stream.destroy();
      return;
    }
    if (this.connections.size >= this.options.maxConnections) {
      // Closed at once, before a byte is read: no CONNACK, as no CONNECT has been read yet.
      this.refusals.note();
      stream.destroy();
      return;
    }
    this.connections.add(new Connection(this, stream, remoteAddress, certificate));
    if (!this.sweepTimer) {
      // A short connect timeout (tests) is checked more often than once a second.
      const every = Math.max(50, Math.min(SWEEP_MS, this.options.connectTimeoutMs / 2));
      this.sweepTimer = setInterval(() => this.sweep(), every).unref();
    }
  }

  /** A connection closed. */
  forget(conn: Connection): void {
    this.connections.delete(conn);
  }

  /** Connect timeouts and keep alives of all connections: one timer for all of them. */
  private sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) conn.checkTimers(now);
  }

  private space(key: string): Space {
    let space = this.spaces.get(key);
    if (!space) {
      space = new Space(key);
      this.spaces.set(key, space);
    }
    return space;
  }

  // ------------------------------------------------------------------ sessions

  /**
   * Binds a freshly authenticated connection to its session: takes over a live connection with the
   * same client id [MQTT-3.1.4-3], cancels a pending delayed will [MQTT-3.1.3-9], and discards the
   * old state on Clean Start [MQTT-3.1.2-4]. Undefined when a new session would exceed maxSessions.
   */
  attach(link: SessionLink, principal: Principal, clientId: string, cleanStart: boolean, expiry: number): { session: Session; present: boolean } | undefined {
    const key = sessionKey(principal, clientId);
    let session = this.sessions.get(key);
    if (session?.link instanceof Connection) session.link.takeover();
    session = this.sessions.get(key);
    if (session) {
      session.clearTimers();
      session.pendingWill = undefined;
      if (cleanStart) {
        this.endSession(session);
        session = undefined;
      }
    }
    const present = session !== undefined;
    if (!session && this.sessions.size >= this.options.maxSessions) {
      // Persistent sessions outlive their connections (and restarts): without a cap, clients
      // inventing client ids could fill memory and the state store.
      this.metrics.reject('mqtt', 'SESSION_LIMIT');
      this.sessionCap.note({ sessions: this.sessions.size, maxSessions: this.options.maxSessions });
      return undefined;
    }
    if (!session) {
      session = new Session(key, clientId, principal.space, principal, this.sessionEnv);
      this.sessions.set(key, session);
    }
    session.principal = principal;
    session.expiryInterval = expiry;
    this.persistence?.attached(session);
    this.cluster?.attached(session);
    return { session, present };
  }

  /**
   * The session's connection is gone. Publishes or schedules the will (MQTT 5.0 §3.1.2.5: after the
   * Will Delay Interval or when the session ends, whichever is first) and starts the expiry clock.
   */
  detach(session: Session, will: Message | undefined, willDelay: number): void {
    session.link = undefined;
    if (session.movedAway) {
      // Taken over by another node, which holds the session now: only an immediate will is this node's to send.
      if (will && willDelay <= 0) this.route(session.spaceKey, will);
      this.forgetSession(session);
      return;
    }
    this.cluster?.detached(session);
    this.persistence?.detached(session);
    if (will) {
      if (willDelay <= 0) this.route(session.spaceKey, will);
      else {
        session.pendingWill = will;
        session.willTimer = setTimeout(() => this.firePendingWill(session), willDelay * 1000);
      }
    }
    if (session.expiryInterval === 0) this.endSession(session);
    else if (session.expiryInterval !== NEVER_EXPIRES) {
      session.expiryTimer = setTimeout(() => this.endSession(session), Math.min(session.expiryInterval * 1000, 2 ** 31 - 1));
    }
  }

  private firePendingWill(session: Session): void {
    const will = session.pendingWill;
    session.pendingWill = undefined;
    session.willTimer = undefined;
    if (will) this.route(session.spaceKey, will);
  }

  /** Session ends: a pending will goes out now, subscriptions are removed. */
  endSession(session: Session): void {
    if (session.pendingWill) this.firePendingWill(session);
    session.clearTimers();
    for (const sub of [...session.subs.values()]) this.unsubscribe(session, sub.key);
    session.clearHookSubs();
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    this.persistence?.sessionEnded(session);
  }

  /** The sessions (connected or kept offline) of one topic space; reauthorize.ts walks them. */
  *sessionsIn(spaceKey: string): IterableIterator<Session> {
    for (const s of this.sessions.values()) if (s.spaceKey === spaceKey) yield s;
  }

  // ------------------------------------------------------------------ subscriptions

  /** Adds or replaces [MQTT-3.8.4-3] a subscription; returns whether one existed for the filter. */
  subscribe(session: Session, sub: Subscription): boolean {
    const space = this.space(session.spaceKey);
    const existed = this.unsubscribe(session, sub.key);
    session.setSub(sub);
    if (sub.group === undefined) {
      space.subs.add(sub.filter, sub);
      return existed;
    }
    const gkey = `${sub.group}\u0000${sub.filter}`;
    let group = space.groups.get(gkey);
    if (!group) {
      group = { filter: sub.filter, members: [], next: 0 };
      space.groups.set(gkey, group);
      space.shared.add(sub.filter, group);
    }
    group.members.push(sub);
    return existed;
  }

  unsubscribe(session: Session, key: string): boolean {
    const sub = session.subs.get(key);
    if (!sub) return false;
    session.deleteSub(key);
    const space = this.space(session.spaceKey);
    if (sub.group === undefined) {
      space.subs.remove(sub.filter, sub);
      return true;
    }
    const gkey = `${sub.group}\u0000${sub.filter}`;
    const group = space.groups.get(gkey);
    if (group) {
      const i = group.members.indexOf(sub);
      if (i >= 0) group.members.splice(i, 1);
      if (group.members.length === 0) {
        space.groups.delete(gkey);
        space.shared.remove(sub.filter, group);
      }
    }
    return true;
  }

  /** Retained messages for a new subscription, RETAIN set [MQTT-3.3.1-8]; expired ones are skipped. */
  sendRetained(session: Session, sub: Subscription): void {
    const now = Date.now();
    const ids = sub.subId === undefined ? undefined : [sub.subId];
    const retained = this.space(session.spaceKey).retained;
    let expired: string[] | undefined;
    retained.forEachMatch(sub.filter, ({ msg }) => {
      if (msg.expired(now)) (expired ??= []).push(msg.topic);
      else session.deliver(msg, Math.min(msg.qos, sub.qos) as QoS, true, ids);
    });
    // Expired retained messages are dropped when found [MQTT-3.3.2-5].
    for (const topic of expired ?? []) this.unretain(this.space(session.spaceKey), topic);
  }

  // ------------------------------------------------------------------ retained messages

  /** True (counted and logged) when `owner` may not retain `payloadBytes` on `topic` now; a deletion always may. */
  refusesRetained(spaceKey: string, topic: string, payloadBytes: number, owner: string): boolean {
    if (payloadBytes === 0) return false;
    const previous = this.spaces.get(spaceKey)?.retained.get(topic);
    if (this.retainedQuota.admits({ owner, bytes: topic.length + payloadBytes }, previous?.use)) return false;
    this.retainRefused(topic, owner);
    return true;
  }

  private retainRefused(topic: string, owner: string): void {
    this.metrics.reject('mqtt', 'QUOTA_EXCEEDED');
    this.logger.warn(
      { owner, topic, retained: this.retainedQuota.totalCount, retainedBytes: this.retainedQuota.totalBytes },
      'retained message over quota: not retained',
    );
  }

  /** Stores or deletes the topic's retained message; false when over quota (nothing changed). */
  private retain(space: Space, msg: Message, owner: string): boolean {
    if (msg.payload.length === 0) {
      this.unretain(space, msg.topic); // [MQTT-3.3.1-6]: always possible
      return true;
    }
    const previous = space.retained.get(msg.topic);
    const use: RetainedUse = { owner, bytes: msg.topic.length + msg.payload.length };
    if (!this.retainedQuota.admits(use, previous?.use)) return false;
    if (previous) this.retainedQuota.remove(previous.use);
    this.retainedQuota.add(use);
    space.retained.set(msg.topic, { msg, use });
    this.persistence?.retainedChanged(space.key, msg.topic);
    return true;
  }

  private unretain(space: Space, topic: string): void {
    const previous = space.retained.get(topic);
    if (!previous) return;
    this.retainedQuota.remove(previous.use);
    space.retained.set(topic, undefined);
    this.persistence?.retainedChanged(space.key, topic);
  }

  // ------------------------------------------------------------------ routing

  /**
   * Delivers a message to every matching session of the space, once per session even when several
   * of its filters match (highest QoS, all subscription identifiers: MQTT 5.0 §3.3.4), plus one
   * member of each matching shared-subscription group (§4.8.2).
   */
  route(spaceKey: string, msg: Message, owner = msg.origin ?? ''): void {
    this.cluster?.routed(spaceKey, msg, owner);
    this.routeHere(spaceKey, msg, owner);
  }

  /** route() on this node only: what another node forwarded (cluster.ts). */
  routeHere(spaceKey: string, msg: Message, owner: string): void {
    const space = this.space(spaceKey);
    if (msg.retain && !this.retain(space, msg, owner)) {
      // Over quota: delivered to today's subscribers like any message, but not kept (and not
      // marked retained, since it is not).
      this.retainRefused(msg.topic, owner);
      msg = new Message(msg.topic, msg.payload, msg.qos, false, msg.props, msg.expiresAt, msg.origin);
    }
    const dollar = msg.topic.charCodeAt(0) === 0x24;
    const seq = ++this.routeSeq;
    let targets: Session[] | undefined;
    for (const sub of space.subs.match(msg.topic)) {
      if (dollar && wildStart(sub.filter)) continue;
      const s = sub.session;
      if (sub.noLocal && s.key === msg.origin) continue; // [MQTT-3.8.3-3]
      if (s.routeMark !== seq) {
        s.routeMark = seq;
        s.routeQos = sub.qos;
        s.routeRap = sub.retainAsPublished;
        s.routeIds = sub.subId === undefined ? undefined : [sub.subId];
        (targets ??= []).push(s);
      } else {
        if (sub.qos > s.routeQos) s.routeQos = sub.qos;
        s.routeRap ||= sub.retainAsPublished;
        if (sub.subId !== undefined) (s.routeIds ??= []).push(sub.subId);
      }
    }
    if (targets) {
      for (const s of targets) {
        // Forwarded messages carry RETAIN only with Retain As Published [MQTT-3.3.1-12, MQTT-3.3.1-13].
        const qos = (msg.qos < s.routeQos ? msg.qos : s.routeQos) as QoS;
        s.deliver(msg, qos, msg.retain && s.routeRap, s.routeIds);
      }
    }
    for (const group of space.shared.match(msg.topic)) {
      if (dollar && wildStart(group.filter)) continue;
      const sub = pickMember(group);
      if (sub) {
        sub.session.deliver(msg, Math.min(msg.qos, sub.qos) as QoS, msg.retain && sub.retainAsPublished, sub.subId === undefined ? undefined : [sub.subId]);
      }
    }
  }

  /** Publishes from inside the process (tests, tools): routed like a client's PUBLISH. */
  publish(spaceKey: string, topic: string, payload: Buffer | string, opts: { qos?: QoS; retain?: boolean } = {}): void {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.route(spaceKey, new Message(topic, body, opts.qos ?? 0, opts.retain ?? false, undefined, 0, undefined));
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Stops serving: no new clients, in-flight acknowledgements are allowed to finish (bounded by
   * `graceMs`), then MQTT 5 clients get DISCONNECT 0x8B "server shutting down" and all are closed.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    const conns = [...this.connections];
    await Promise.race([
      Promise.all(conns.map((c) => c.acksSettled())),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    for (const c of conns) c.shutdown();
    for (const s of this.sessions.values()) s.clearTimers();
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.cluster?.close();
    await this.persistence?.flush(); // the disconnects above included
  }

  durable(): Promise<number> | undefined {
    return this.persistence?.pending();
  }

  // ------------------------------------------------------------------ restart (PersistenceHost, persistence.ts)

  /** Loads the persisted sessions and retained messages; before the listeners accept anyone. */
  async restore(): Promise<void> {
    await this.persistence?.restore();
    this.cluster?.start();
  }

  hasSession(key: string): boolean {
    return this.sessions.has(key);
  }

  /**
   * Cluster: before a client is attached here, its kept session is loaded if another node held it
   * (Clean Start 0), or that node's record of it is dropped (Clean Start with a session expiry).
   */
  async prepareSession(principal: Principal, clientId: string, cleanStart: boolean, expiry: number): Promise<void> {
    const key = sessionKey(principal, clientId);
    if (!this.persistence?.shared || this.sessions.has(key)) return;
    if (!cleanStart) await this.persistence.loadSession(key);
    else if (expiry > 0) this.persistence.discard(key);
  }

  /** Cluster: a gone node's sessions are held here from now on (their clients reconnect anywhere). */
  adoptNode(nodeId: string): Promise<void> {
    return this.persistence?.adoptNode(nodeId) ?? Promise.resolve();
  }

  /** Another node attached the session: its connection here is taken over, its state here forgotten (that node holds it). */
  takenElsewhere(key: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    session.movedAway = true;
    this.persistence?.release(session);
    if (session.link instanceof Connection) session.link.takeover(); // detach() forgets it
    else this.forgetSession(session);
  }

  /** Drops a session from memory without touching the stored state (released, see takenElsewhere). */
  private forgetSession(session: Session): void {
    session.clearTimers();
    session.pendingWill = undefined;
    for (const sub of [...session.subs.values()]) this.unsubscribe(session, sub.key);
    session.clearHookSubs();
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  adoptSession(key: string, clientId: string, spaceKey: string, expiryInterval: number, remainingMs: number | undefined): Session {
    // Offline until its client reconnects and authenticates again (attach replaces the principal).
    const session = new Session(key, clientId, spaceKey, { space: spaceKey, kind: 'anonymous' }, this.sessionEnv);
    session.expiryInterval = expiryInterval;
    this.sessions.set(key, session);
    if (remainingMs !== undefined) session.expiryTimer = setTimeout(() => this.endSession(session), Math.min(remainingMs, 2 ** 31 - 1));
    return session;
  }

  restoreRetained(spaceKey: string, msg: Message, owner: string): boolean {
    return this.retain(this.space(spaceKey), msg, owner);
  }

  retainedOf(spaceKey: string, topic: string): { readonly msg: Message; readonly owner: string } | undefined {
    const entry = this.spaces.get(spaceKey)?.retained.get(topic);
    return entry && { msg: entry.msg, owner: entry.use.owner };
  }
}
