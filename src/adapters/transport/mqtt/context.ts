/**
 * The types the broker's parts share, so that the dependencies run one way: broker.ts →
 * connection.ts → connect.ts / subscribe.ts, each of those → this file. The broker hands itself to
 * a connection as a BrokerContext, and a connection hands itself to the CONNECT and SUBSCRIBE
 * handlers as a ClientConnection; none of them imports the file that calls it.
 */
import type { IConnackPacket, Packet } from 'mqtt-packet';
import type { BrokerStateStore, Logger, MqttClusterLink } from '../../../ports.js';
import type { TransportMetrics } from '../../../ports/device-api.js';
import type { AuthPolicy, Principal } from './auth.js';
import type { ClientCertificate } from './client-cert.js';
import type { PacketDecoder } from './frames.js';
import type { ClientInterceptor, Interceptor } from './interceptor.js';
import type { RetainedLimits } from './retained-quota.js';
import type { ForwardedProps, Message, QoS, Session, SessionLink, Subscription } from './session.js';

/** Session Expiry Interval meaning "never" (MQTT 5.0 §3.1.2.11.2). */
export const NEVER_EXPIRES = 0xffffffff;

export interface BrokerOptions {
  readonly logger: Logger;
  readonly policy: AuthPolicy;
  readonly metrics?: TransportMetrics;
  /** The pipeline, in order (interceptor.ts); none by default: every PUBLISH is routed. */
  readonly interceptors?: readonly Interceptor[];
  /** Seconds; caps MQTT 5 clients' keep-alive via Server Keep Alive. 0 = no cap. */
  readonly maxKeepAlive?: number;
  readonly maxQueuedMessages?: number;
  /** Sessions held, connected or not; a CONNECT that needs a new one beyond it is refused (0x97). */
  readonly maxSessions?: number;
  readonly maxPayloadBytes?: number;
  /** Our Receive Maximum: inbound QoS 1/2 PUBLISHes a v5 client may have unacknowledged. */
  readonly receiveMaximum?: number;
  readonly topicAliasMaximum?: number;
  /** CONNECT must have arrived this long after the connection opened. */
  readonly connectTimeoutMs?: number;
  /** Largest packet before CONNECT is accepted, i.e. the CONNECT itself. */
  readonly maxConnectBytes?: number;
  /** Open connections in total, over every listener (WebSocket included). */
  readonly maxConnections?: number;
  /** Caps on retained messages per owner and in total (retained-quota.ts). */
  readonly retained?: RetainedLimits;
  /** Where persistent sessions and retained messages are kept across restarts (persistence.ts); none: memory only. */
  readonly state?: BrokerStateStore;
  /** The other nodes of a cluster (cluster.ts, ports/mqtt-cluster.ts); none: this node alone. */
  readonly cluster?: MqttClusterLink;
}

export type ResolvedOptions = Required<Omit<BrokerOptions, 'state' | 'cluster'>> & {
  /** Largest packet we accept: payload limit plus room for topic and properties. */
  readonly maxPacketBytes: number;
};

/** The will as given in CONNECT; becomes a Message when the connection ends (MQTT 5.0 §3.1.2.5). */
export interface WillSpec {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly props: ForwardedProps | undefined;
  /** Message Expiry Interval in seconds, 0 = none. */
  readonly expiry: number;
  /** Will Delay Interval in seconds (MQTT 5 only). */
  readonly delay: number;
}

/** Limits the client declared in CONNECT (MQTT 5.0 §3.1.2.11). */
export interface ClientLimits {
  readonly receiveMaximum: number;
  readonly maximumPacketSize: number;
  readonly topicAliasMaximum: number;
}

/** No limits declared (always so for 3.1.1): one shared object instead of one per connection. */
export const DEFAULT_LIMITS: ClientLimits = Object.freeze({ receiveMaximum: 65535, maximumPacketSize: Infinity, topicAliasMaximum: 0 });

/** What CONNECT hands the connection once the client is authenticated and attached. */
export interface OpenParams {
  readonly session: Session;
  readonly present: boolean;
  readonly connack: IConnackPacket;
  readonly keepAlive: number;
  readonly limits: ClientLimits;
  readonly will: WillSpec | undefined;
}

/** What a connection and its handlers ask of the broker (MqttBroker implements it). */
export interface BrokerContext {
  readonly options: ResolvedOptions;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  /** Decodes the packets of every connection (see frames.ts). */
  readonly decoder: PacketDecoder;
  /** Undefined when a new session would exceed `maxSessions`. */
  attach(link: SessionLink, principal: Principal, clientId: string, cleanStart: boolean, expiry: number): { session: Session; present: boolean } | undefined;
  detach(session: Session, will: Message | undefined, willDelay: number): void;
  /** A connection closed. */
  forget(conn: ClientConnection): void;
  subscribe(session: Session, sub: Subscription): boolean;
  unsubscribe(session: Session, key: string): boolean;
  /** The sessions of one topic space (reauthorize.ts). */
  sessionsIn(spaceKey: string): Iterable<Session>;
  sendRetained(session: Session, sub: Subscription): void;
  refusesRetained(spaceKey: string, topic: string, payloadBytes: number, owner: string): boolean;
  route(spaceKey: string, msg: Message, owner?: string): void;
  /** Cluster: loads (or drops) the session another node kept, before the client is attached (broker.ts). */
  prepareSession(principal: Principal, clientId: string, cleanStart: boolean, expiry: number): Promise<void>;
  /**
   * Once this turn's broker-state changes are durable, the code a publisher's acknowledgement
   * carries; undefined when nothing changed (acknowledge at once). See persistence.ts.
   */
  durable(): Promise<number> | undefined;
}

/** What the CONNECT and SUBSCRIBE handlers (connect.ts, subscribe.ts) see of a connection. */
export interface ClientConnection extends SessionLink {
  state: 'connect' | 'auth' | 'open' | 'closed';
  protocolVersion: number;
  clientId: string;
  principal: Principal;
  readonly broker: BrokerContext;
  readonly remoteAddress: string | undefined;
  readonly certificate?: ClientCertificate;
  /** The interceptors attached to this client (pipeline.ts), once open. */
  readonly stages: readonly ClientInterceptor[] | undefined;
  open(o: OpenParams): void;
  refuse(reasonCode: number, why: string): void;
  protocolError(reasonCode: number, why: string): void;
  writePacket(packet: Packet): void;
}
