/**
 * The embedded MQTT broker's state that must outlive the process (MQTT 5.0 §4.1 session state,
 * §3.3.1.3 retained messages), as plain records any backend can keep: the SQLite store today,
 * JetStream KV or PostgreSQL for a cluster. The broker writes behind: changes of one event-loop
 * turn arrive as one `apply` batch (mqtt/persistence.ts); see docs/MQTT.md for what a crash loses.
 */
export interface BrokerStateStore {
  readonly kind: string;
  /**
   * Everything kept, read once before the broker accepts clients. A store shared by the nodes of a
   * cluster returns the sessions this node holds (and every retained message).
   */
  load(): Promise<BrokerStateSnapshot>;
  /**
   * Shared stores only (a cluster): one session as kept, whichever node held it, with its outbound
   * messages in `seq` order; this node holds it from now on. Undefined when none is kept.
   */
  loadSession?(key: string): Promise<{ readonly session: BrokerSessionRecord; readonly outbound: readonly BrokerOutboundRecord[] } | undefined>;
  /** Shared stores only: this node takes over every session a gone node held, and loads them. */
  adoptNode?(nodeId: string): Promise<BrokerStateSnapshot>;
  /** Applies the changes in order, all or none; resolves once they are durable. */
  apply(changes: readonly BrokerStateChange[]): Promise<void>;
  /** Waits for nothing but what `apply` already promised; later calls reject. */
  close(): Promise<void>;
}

export interface BrokerStateSnapshot {
  readonly sessions: readonly BrokerSessionRecord[];
  /** Per session, in `seq` order. */
  readonly outbound: readonly BrokerOutboundRecord[];
  readonly retained: readonly BrokerRetainedRecord[];
}

export type BrokerStateChange =
  | { readonly op: 'putSession'; readonly session: BrokerSessionRecord }
  /** The session and all its outbound messages. */
  | { readonly op: 'deleteSession'; readonly key: string }
  | { readonly op: 'putOutbound'; readonly outbound: BrokerOutboundRecord }
  | { readonly op: 'deleteOutbound'; readonly sessionKey: string; readonly seq: number }
  | { readonly op: 'putRetained'; readonly retained: BrokerRetainedRecord }
  | { readonly op: 'deleteRetained'; readonly space: string; readonly topic: string };

/** A persistent session (Clean Session 0, or Session Expiry Interval > 0) and its subscriptions. */
export interface BrokerSessionRecord {
  /** Unique per (topic space, device, client id). */
  readonly key: string;
  /** The topic space (tenant) it lives in. */
  readonly space: string;
  readonly clientId: string;
  /** Seconds; 0xFFFFFFFF never expires. */
  readonly expiryInterval: number;
  /** Epoch ms of the disconnect the expiry counts from; undefined while connected. */
  readonly disconnectedAt: number | undefined;
  readonly subscriptions: readonly BrokerSubscriptionRecord[];
}

export interface BrokerSubscriptionRecord {
  /** As the client sent it, `$share/<group>/` included. */
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly subscriptionId: number | undefined;
  /** Answered by the platform (the device API), not routed. */
  readonly intercepted: boolean;
}

/** An application message as published. */
export interface BrokerMessageRecord {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** Forwarded PUBLISH properties, JSON (the broker's own encoding); undefined when none. */
  readonly properties: string | undefined;
  /** Epoch ms after which it must not be delivered; 0 = never. */
  readonly expiresAt: number;
  /** Key of the publishing session (No Local). */
  readonly origin: string | undefined;
}

/** A QoS 1/2 message on its way to one session: queued (packetId 0) or in flight. */
export interface BrokerOutboundRecord {
  readonly sessionKey: string;
  /** Order of delivery within the session. */
  readonly seq: number;
  readonly message: BrokerMessageRecord;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  readonly subscriptionIds: readonly number[] | undefined;
  readonly packetId: number;
  /** 'pubrel': PUBREC received, PUBREL sent, PUBCOMP awaited. */
  readonly state: 'publish' | 'pubrel';
}

export interface BrokerRetainedRecord {
  readonly space: string;
  readonly message: BrokerMessageRecord;
  /** Who the retained quota counts it against. */
  readonly owner: string;
}
