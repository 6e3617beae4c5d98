/**
 * The broker's side of a cluster (ports/mqtt-cluster.ts): announces the sessions this node
 * attaches and takes over its own connection when another node announces the same session later;
 * forwards what it routes and routes what other nodes forwarded.
 *
 * Takeover order: every node sees all announcements in the same order (the bus keeps one order
 * per event). A node keeps a connection only while the last announcement of its session is its
 * own: when another node's announcement arrives after ours, ours is older and is closed; when it
 * arrives before ours, ours is the newer one and the other node closes its connection on seeing
 * ours. So two clients racing with one client id on two nodes end with exactly one connected,
 * without comparing clocks.
 */
import { randomUUID } from 'node:crypto';
import type { Logger, MqttClusterLink, MqttForwarded, MqttSessionAnnouncement } from '../../../ports.js';
import { messageFrom, messageRecord } from './persistence.js';
import type { Message, Session } from './session.js';

/** What the cluster glue needs of the broker. */
export interface ClusterHost {
  /** Another node attached the session: close this node's connection of it (DISCONNECT 0x8E) and forget it here. */
  takenElsewhere(key: string): void;
  /** Routes a message another node routed, to this node's subscribers only. */
  routeHere(spaceKey: string, msg: Message, owner: string): void;
}

export class BrokerCluster {
  /** This node's connected sessions: key → the token of the attach, and whether its announcement came back yet. */
  private readonly mine = new Map<string, { token: string; seen: boolean }>();
  private stop: (() => void) | undefined;

  constructor(
    private readonly link: MqttClusterLink,
    private readonly host: ClusterHost,
    private readonly logger: Logger,
  ) {}

  /** Before the listeners accept clients. */
  start(): void {
    this.stop ??= this.link.listen({ announced: (a) => this.guard(() => this.announced(a)), forwarded: (m) => this.guard(() => this.forwarded(m)) });
  }

  close(): void {
    this.stop?.();
    this.stop = undefined;
  }

  /** A connection was bound to the session here. */
  attached(session: Session): void {
    const token = randomUUID();
    this.mine.set(session.key, { token, seen: false });
    this.link.announce({ key: session.key, space: session.spaceKey, token });
  }

  /** The session's connection here is gone (a later attach here replaces the entry instead). */
  detached(session: Session): void {
    this.mine.delete(session.key);
  }

  routed(spaceKey: string, msg: Message, owner: string): void {
    this.link.forward({ space: spaceKey, message: messageRecord(msg), owner });
  }

  private announced(a: MqttSessionAnnouncement): void {
    const mine = this.mine.get(a.key);
    if (a.nodeId === this.link.nodeId) {
      if (mine && a.token === mine.token) mine.seen = true;
      return;
    }
    // Announced elsewhere before ours: ours is the newer connection, and stays.
    if (mine && !mine.seen) return;
    // Announced after ours (or the session is only kept offline here): the other node holds it now.
    this.mine.delete(a.key);
    this.host.takenElsewhere(a.key);
  }

  private forwarded(m: MqttForwarded): void {
    this.host.routeHere(m.space, messageFrom(m.message), m.owner);
  }

  /** A bad message from another node must not stop the subscription (the bus would redeliver it). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err }, 'mqtt cluster message failed');
    }
  }
}
