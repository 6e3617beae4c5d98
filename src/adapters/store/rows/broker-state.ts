/**
 * The MQTT broker's state as both SQL stores hold it (mqtt_sessions, mqtt_outbound, mqtt_retained),
 * and the row-to-record mappers. SQLite keeps booleans as 0/1 and session keys as they are;
 * PostgreSQL keeps booleans and escapes the NUL separators of session keys (`decode` undoes that).
 */
import type { BrokerMessageRecord, BrokerOutboundRecord, BrokerRetainedRecord, BrokerSessionRecord, BrokerSubscriptionRecord } from '../../../ports.js';

type Flag = number | boolean;
type Decode = (stored: string) => string;

export interface SessionRow {
  session_key: string;
  space: string;
  client_id: string;
  expiry_interval: number | string;
  disconnected_at: number | string | null;
  subscriptions: string;
}

interface MessageColumns {
  topic: string;
  payload: Buffer;
  properties: string | null;
  expires_at: number | string;
  origin: string | null;
}

export interface OutboundRow extends MessageColumns {
  session_key: string;
  seq: number | string;
  msg_qos: number;
  msg_retain: Flag;
  qos: number;
  retain: Flag;
  sub_ids: string | null;
  packet_id: number;
  state: string;
}

export interface RetainedRow extends MessageColumns {
  space: string;
  qos: number;
  owner: string;
}

const asIs: Decode = (stored) => stored;
const qosOf = (n: number): 0 | 1 | 2 => (n === 1 || n === 2 ? n : 0);
const flag = (f: Flag): boolean => f === true || f === 1;

function messageFrom(r: MessageColumns, qos: number, retain: boolean, decode: Decode): BrokerMessageRecord {
  return { topic: r.topic, payload: r.payload, qos: qosOf(qos), retain, properties: r.properties ?? undefined, expiresAt: Number(r.expires_at), origin: r.origin === null ? undefined : decode(r.origin) };
}

export function sessionFrom(r: SessionRow, decode: Decode = asIs): BrokerSessionRecord {
  return {
    key: decode(r.session_key),
    space: r.space,
    clientId: decode(r.client_id),
    expiryInterval: Number(r.expiry_interval),
    disconnectedAt: r.disconnected_at === null ? undefined : Number(r.disconnected_at),
    subscriptions: JSON.parse(r.subscriptions) as BrokerSubscriptionRecord[],
  };
}

export function outboundFrom(r: OutboundRow, decode: Decode = asIs): BrokerOutboundRecord {
  return {
    sessionKey: decode(r.session_key),
    seq: Number(r.seq),
    message: messageFrom(r, r.msg_qos, flag(r.msg_retain), decode),
    qos: r.qos === 2 ? 2 : 1,
    retain: flag(r.retain),
    subscriptionIds: r.sub_ids === null ? undefined : (JSON.parse(r.sub_ids) as number[]),
    packetId: r.packet_id,
    state: r.state === 'pubrel' ? 'pubrel' : 'publish',
  };
}

export function retainedFrom(r: RetainedRow, decode: Decode = asIs): BrokerRetainedRecord {
  return { space: r.space, message: messageFrom(r, r.qos, true, decode), owner: decode(r.owner) };
}
