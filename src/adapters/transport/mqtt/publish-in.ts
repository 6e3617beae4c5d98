/**
 * An inbound PUBLISH, once its topic alias is resolved: the protocol checks, the interceptors
 * (device API, Sparkplug), the ACL, the retained quota, then routing — and what each outcome
 * acknowledges. The connection keeps the socket and the ack queue; this decides what happens to
 * the message. Runs once per PUBLISH, so it allocates nothing beyond the routed Message.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { PlatformError } from '../../../domain/errors.js';
import { forwardedProps } from './connect.js';
import type { ClientConnection } from './context.js';
import type { ClientLink } from './interceptor.js';
import { interceptPublish } from './pipeline.js';
import { Message, type Session } from './session.js';
import { isValidTopicName } from './topics.js';

/** What the PUBLISH path needs of its connection beyond any client connection (which is also the interceptors' ClientLink). */
export type PublishIn = ClientConnection & ClientLink & PublishAcks;

export interface PublishAcks {
  /** Queues the PUBACK/PUBREC for `id`, written once `result` (the reason code) settles. */
  ack(qos: 1 | 2, id: number, result: number | Promise<number>, done?: (code: number) => void): void;
  /** QoS 1/2 PUBLISHes not yet answered. */
  readonly pendingAcks: number;
  /** Stops reading from the client while too many acks wait on the platform. */
  holdReadsIfBacklogged(): void;
}

const TOPIC_NOT_ALLOWED = new PlatformError('TOPIC_NOT_ALLOWED').spec.mqtt;
const QUOTA_EXCEEDED = new PlatformError('QUOTA_EXCEEDED').spec.mqtt;

export function handlePublish(conn: PublishIn, session: Session, p: IPublishPacket, topic: string): void {
  const v5 = conn.protocolVersion === 5;
  const opts = conn.broker.options;
  if (!isValidTopicName(topic)) return conn.protocolError(0x90, 'invalid topic name'); // [MQTT-3.3.2-2]
  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  if (payload.length > opts.maxPayloadBytes) return conn.protocolError(0x95, `payload of ${payload.length} bytes is over the limit`);
  const qos = p.qos;
  const id = p.messageId ?? 0;
  if (qos > 0 && id === 0) return conn.protocolError(0x82, 'packet id 0'); // [MQTT-2.2.1-3]
  // A resent QoS 2 PUBLISH before PUBREL is acknowledged, not delivered again [MQTT-4.3.3-10].
  if (qos === 2 && session.incomingQos2.has(id)) return conn.ack(2, id, 0);
  if (v5 && qos > 0 && conn.pendingAcks + session.incomingQos2.size >= opts.receiveMaximum) {
    return conn.protocolError(0x93, 'receive maximum exceeded'); // [MQTT-3.3.4-8]
  }
  if (qos === 2) session.addIncomingQos2(id);
  // Intercepted topics (the device API, Sparkplug) count their own message kinds.
  const hooked = conn.stages === undefined ? undefined : interceptPublish(conn.broker, conn, conn.stages, { topic, payload, qos, contentType: p.properties?.contentType });
  if (hooked !== undefined) {
    // An intercepted QoS 2 that failed ends its exchange at PUBREC (MQTT 5.0 §4.3.3).
    if (qos > 0) conn.ack(qos as 1 | 2, id, hooked, (code) => qos === 2 && code >= 0x80 && session.deleteIncomingQos2(id));
    return conn.holdReadsIfBacklogged();
  }
  if (!opts.policy.authorize(conn.principal, 'publish', topic)) {
    conn.broker.metrics.reject('mqtt', 'TOPIC_NOT_ALLOWED');
    // 3.1.1 cannot say no: acknowledge and drop [MQTT-3.3.5-2]. MQTT 5 answers 0x87.
    const code = v5 ? TOPIC_NOT_ALLOWED : 0;
    if (qos === 2 && code !== 0) session.deleteIncomingQos2(id);
    if (qos > 0) conn.ack(qos as 1 | 2, id, code);
    return;
  }
  // Over its retained quota, MQTT 5 answers 0x97 and nothing is routed; otherwise route() delivers without retaining.
  const owner = conn.principal.identity?.deviceId ?? session.key;
  if (p.retain && v5 && qos > 0 && conn.broker.refusesRetained(conn.principal.space, topic, payload.length, owner)) {
    if (qos === 2) session.deleteIncomingQos2(id);
    return conn.ack(qos as 1 | 2, id, QUOTA_EXCEEDED);
  }
  conn.broker.metrics.messageIn('mqtt', 'publish');
  const props = v5 ? p.properties : undefined;
  const expiry = props?.messageExpiryInterval;
  const expiresAt = expiry ? Date.now() + expiry * 1000 : 0;
  // The parser's payload may be a view into a 64 KiB socket chunk: a retained copy must not pin it.
  const body = p.retain ? Buffer.from(payload) : payload;
  conn.broker.route(conn.principal.space, new Message(topic, body, qos, p.retain, props ? forwardedProps(props) : undefined, expiresAt, session.key), owner);
  // Queued for a persistent session or retained: acknowledged once that is durable (persistence.ts).
  if (qos > 0) conn.ack(qos as 1 | 2, id, conn.broker.durable() ?? 0);
}
