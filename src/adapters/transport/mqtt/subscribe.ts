/**
 * SUBSCRIBE and UNSUBSCRIBE for one connection: validation, the interceptors (pipeline.ts), the ACL,
 * subscription options (MQTT 5.0 §3.8.3.1) and retained delivery after the SUBACK.
 */
import type { ISubscribePacket, ISubscription, IUnsubscribePacket } from 'mqtt-packet';
import type { ClientConnection } from './context.js';
import { interceptSubscribe, interceptUnsubscribe } from './pipeline.js';
import type { QoS, Session, Subscription } from './session.js';
import { isValidTopicFilter, parseShared } from './topics.js';

/** SUBACK/UNSUBACK reason codes (MQTT 5.0 §3.9.3, §3.11.3). */
const UNSPECIFIED = 0x80;
const FILTER_INVALID = 0x8f;
const NO_SUBSCRIPTION = 0x11;

/** Returns the SUBACK code, or -1 when the request was a protocol error and the connection is closed. */
function subscribeOne(conn: ClientConnection, session: Session, req: ISubscription, subId: number | undefined, retained: Subscription[]): number {
  const v5 = conn.protocolVersion === 5;
  const shared = parseShared(req.topic);
  // An invalid filter: 0x8F on MQTT 5, the only failure code 0x80 on 3.1.1 [MQTT-3.9.3-2].
  if (shared === 'invalid' || (shared === undefined && !isValidTopicFilter(req.topic))) return v5 ? FILTER_INVALID : UNSPECIFIED;
  if (shared && req.nl) {
    conn.protocolError(0x82, 'No Local on a shared subscription'); // [MQTT-3.8.3-4]
    return -1;
  }
  const qos = req.qos;
  const hooked = conn.stages === undefined ? undefined : interceptSubscribe(conn.stages, req.topic, qos);
  if (hooked !== undefined) {
    if (hooked < 0x80) session.setHookSub(req.topic, hooked as QoS);
    return v5 || hooked < 0x80 ? hooked : UNSPECIFIED;
  }
  const filter = shared ? shared.filter : req.topic;
  const policy = conn.broker.options.policy;
  if (!policy.authorize(conn.principal, 'subscribe', filter)) {
    conn.broker.metrics.reject('mqtt', 'TOPIC_NOT_ALLOWED');
    return v5 ? policy.refusedSubscribeCode : UNSPECIFIED;
  }
  const sub: Subscription = {
    session,
    key: req.topic,
    filter,
    qos,
    noLocal: req.nl === true,
    retainAsPublished: req.rap === true,
    subId,
    group: shared ? shared.group : undefined,
  };
  const existed = conn.broker.subscribe(session, sub);
  // Retain Handling: 0 always, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11];
  // shared subscriptions never get retained messages (MQTT 5.0 §4.8.2).
  const rh = req.rh ?? 0;
  if (!shared && (rh === 0 || (rh === 1 && !existed))) retained.push(sub);
  return qos;
}

export function handleSubscribe(conn: ClientConnection, session: Session, p: ISubscribePacket): void {
  const idProp = p.properties?.subscriptionIdentifier as number | number[] | undefined;
  // One identifier per SUBSCRIBE, and 0 is not allowed (MQTT 5.0 §3.8.2.1.2).
  if (Array.isArray(idProp) || idProp === 0) return conn.protocolError(0x82, 'invalid subscription identifier');
  if (p.subscriptions.length === 0) return conn.protocolError(0x82, 'SUBSCRIBE without filters'); // [MQTT-3.8.3-2]
  const subId = conn.protocolVersion === 5 ? idProp : undefined;
  const granted: number[] = [];
  const retained: Subscription[] = [];
  for (const req of p.subscriptions) {
    const code = subscribeOne(conn, session, req, subId, retained);
    if (code < 0) return;
    granted.push(code);
  }
  // SUBACK first, then the retained messages of the new subscriptions [MQTT-3.8.4-4].
  conn.writePacket({ cmd: 'suback', messageId: p.messageId ?? 0, granted });
  for (const sub of retained) conn.broker.sendRetained(session, sub);
}

export function handleUnsubscribe(conn: ClientConnection, session: Session, p: IUnsubscribePacket): void {
  const codes = p.unsubscriptions.map((filter) => {
    const hadHook = session.deleteHookSub(filter);
    if ((conn.stages !== undefined && interceptUnsubscribe(conn.stages, filter)) || hadHook) return 0;
    return conn.broker.unsubscribe(session, filter) ? 0 : NO_SUBSCRIPTION;
  });
  // 3.1.1 UNSUBACK has no payload; MQTT 5 carries one reason code per filter [MQTT-3.11.3-1].
  conn.writePacket({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: conn.protocolVersion === 5 ? codes : [] });
}
