/**
 * CONNECT → CONNACK (MQTT 3.1.1 §3.1-3.2, MQTT 5.0 §3.1-3.2): validation, client id assignment,
 * authentication through the AuthPolicy, session attach, CONNACK properties, the will.
 */
import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IConnectPacket, IPublishPacket } from 'mqtt-packet';
import { asPlatformError, isPlatformError } from '../../../domain/errors.js';
import { authFailureCode, type Principal } from './auth.js';
import { DEFAULT_LIMITS, NEVER_EXPIRES, type ClientConnection, type ClientLimits, type WillSpec } from './context.js';
import type { ForwardedProps, QoS } from './session.js';
import { pruneSubscriptions } from './reauthorize.js';
import { isValidTopicName } from './topics.js';

/** The PUBLISH properties a broker forwards (MQTT 5.0 §3.3.2.3), as received. */
export function forwardedProps(p: NonNullable<IPublishPacket['properties']>): ForwardedProps | undefined {
  const { payloadFormatIndicator, contentType, responseTopic, correlationData, userProperties } = p;
  if (payloadFormatIndicator === undefined && contentType === undefined && responseTopic === undefined && correlationData === undefined && userProperties === undefined) {
    return undefined;
  }
  const out: ForwardedProps = {};
  if (payloadFormatIndicator !== undefined) out.payloadFormatIndicator = payloadFormatIndicator;
  if (contentType !== undefined) out.contentType = contentType;
  if (responseTopic !== undefined) out.responseTopic = responseTopic;
  if (correlationData !== undefined) out.correlationData = correlationData;
  if (userProperties !== undefined) out.userProperties = userProperties;
  return out;
}

export async function handleConnect(conn: ClientConnection, p: IConnectPacket): Promise<void> {
  conn.state = 'auth';
  conn.protocolVersion = p.protocolVersion === 5 ? 5 : 4;
  const v5 = conn.protocolVersion === 5;
  const props = p.properties ?? {};
  if (v5 && props.authenticationMethod) return conn.refuse(0x8c, 'enhanced authentication is not supported');
  // Receive Maximum and Maximum Packet Size of 0 are protocol errors (MQTT 5.0 §3.1.2.11.3, §3.1.2.11.4).
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) return conn.refuse(0x82, 'zero receive maximum or packet size');
  let assigned = false;
  conn.clientId = p.clientId;
  if (conn.clientId === '') {
    // 3.1.1 allows an empty id only with Clean Session [MQTT-3.1.3-7, MQTT-3.1.3-8]; MQTT 5 assigns one.
    if (!v5 && !p.clean) return conn.refuse(0x85, 'empty client id without clean session');
    conn.clientId = `auto-${randomUUID()}`;
    assigned = true;
  }
  if (p.will && !isValidTopicName(p.will.topic)) return conn.refuse(0x90, 'invalid will topic');
  let principal: Principal;
  try {
    principal = await conn.broker.options.policy.authenticate({
      clientId: p.clientId,
      username: p.username,
      password: p.password,
      protocolVersion: conn.protocolVersion,
      remoteAddress: conn.remoteAddress,
      certificate: conn.certificate,
    });
  } catch (err) {
    const certificate = isPlatformError(err, 'CERTIFICATE_REFUSED') ? conn.certificate : undefined;
    // The refusal's own code, as HTTP and CoAP count theirs (BAD_CREDENTIALS, RATE_LIMITED, …).
    conn.broker.metrics.reject('mqtt', asPlatformError(err).code);
    const fields = { clientId: p.clientId, remote: conn.remoteAddress, err: (err as Error).message };
    if (certificate) conn.broker.logger.warn({ ...fields, certificate: { fingerprint: certificate.fingerprint, names: certificate.names } }, 'mqtt client certificate refused');
    else conn.broker.logger.info(fields, 'mqtt connect refused');
    return conn.refuse(authFailureCode(err), 'authentication failed');
  }
  if (conn.state !== 'auth') return; // the client left while we were authenticating
  try {
    await conn.broker.prepareSession(principal, conn.clientId, p.clean ?? true, sessionExpiry(conn, p));
  } catch (err) {
    // The shared state cannot be read: refuse rather than start the client on an empty session.
    conn.broker.logger.warn({ err, clientId: conn.clientId }, 'mqtt session could not be loaded from the shared state');
    return conn.refuse(0x88, 'session state unavailable');
  }
  if (conn.state !== 'auth') return;
  accept(conn, p, principal, assigned);
}

/** Seconds the session outlives the connection; 3.1.1 Clean Session 0 keeps it until the next Clean Session 1 (§3.1.2.4). */
function sessionExpiry(conn: ClientConnection, p: IConnectPacket): number {
  if (conn.protocolVersion === 5) return p.properties?.sessionExpiryInterval ?? 0;
  return p.clean ? 0 : NEVER_EXPIRES;
}

function accept(conn: ClientConnection, p: IConnectPacket, principal: Principal, assigned: boolean): void {
  const v5 = conn.protocolVersion === 5;
  const props = p.properties ?? {};
  const opts = conn.broker.options;
  conn.principal = principal;
  // Server Keep Alive replaces the client's value (MQTT 5.0 §3.2.2.3.14); 3.1.1 has no way to say so.
  let keepAlive = p.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  if (v5 && opts.maxKeepAlive > 0 && (keepAlive === 0 || keepAlive > opts.maxKeepAlive)) {
    keepAlive = serverKeepAlive = opts.maxKeepAlive;
  }
  const expiry = sessionExpiry(conn, p);
  const attached = conn.broker.attach(conn, principal, conn.clientId, p.clean ?? true, expiry);
  if (!attached) return conn.refuse(0x97, 'session limit reached'); // Quota exceeded; 3.1.1: server unavailable
  const { session, present } = attached;
  // A resumed session keeps only the subscriptions this principal may still make (grants change).
  if (present) pruneSubscriptions(conn.broker, session);
  const connack: IConnackPacket = v5
    ? {
        cmd: 'connack',
        reasonCode: 0,
        sessionPresent: present,
        properties: {
          ...(assigned ? { assignedClientIdentifier: conn.clientId } : {}),
          ...(serverKeepAlive !== undefined ? { serverKeepAlive } : {}),
          ...(opts.receiveMaximum < 65535 ? { receiveMaximum: opts.receiveMaximum } : {}),
          maximumPacketSize: opts.maxPacketBytes,
          ...(opts.topicAliasMaximum > 0 ? { topicAliasMaximum: opts.topicAliasMaximum } : {}),
        },
      }
    : { cmd: 'connack', returnCode: 0, sessionPresent: present };
  const declared = v5 && (props.receiveMaximum !== undefined || props.maximumPacketSize !== undefined || props.topicAliasMaximum !== undefined);
  const limits: ClientLimits = declared
    ? {
        receiveMaximum: props.receiveMaximum ?? 65535,
        maximumPacketSize: props.maximumPacketSize ?? Infinity,
        topicAliasMaximum: props.topicAliasMaximum ?? 0,
      }
    : DEFAULT_LIMITS;
  conn.open({ session, present, connack, keepAlive, limits, will: willFrom(conn, p) });
}

/** The will, if the client may publish to its topic; otherwise dropped and logged. */
function willFrom(conn: ClientConnection, p: IConnectPacket): WillSpec | undefined {
  const w = p.will;
  if (!w) return undefined;
  if (!conn.broker.options.policy.authorize(conn.principal, 'publish', w.topic)) {
    // A Sparkplug edge node's NDEATH will: the Sparkplug adapter already treats the lost
    // connection as the node's death (Sparkplug 3.0 §5.3), so the will is redundant, not wrong.
    if (w.topic.startsWith('spBv1.0/')) {
      conn.broker.logger.debug({ clientId: conn.clientId, topic: w.topic }, 'sparkplug NDEATH will handled as connection loss');
      return undefined;
    }
    conn.broker.metrics.reject('mqtt', 'TOPIC_NOT_ALLOWED');
    conn.broker.logger.warn({ clientId: conn.clientId, topic: w.topic }, 'mqtt will topic not allowed; will dropped');
    return undefined;
  }
  const wp = w.properties ?? {};
  return {
    topic: w.topic,
    payload: typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload,
    qos: (w.qos ?? 0) as QoS,
    retain: w.retain ?? false,
    props: forwardedProps(wp),
    expiry: wp.messageExpiryInterval ?? 0,
    delay: conn.protocolVersion === 5 ? (wp.willDelayInterval ?? 0) : 0,
  };
}
