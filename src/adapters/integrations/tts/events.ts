/**
 * The Things Stack v3 application messages (MQTT server and webhooks: the same JSON) as neutral
 * LoRaWAN events. Every message carries `end_device_ids{device_id, dev_eui, application_ids
 * {application_id}}` and one of `uplink_message{f_port, f_cnt, frm_payload, decoded_payload?,
 * rx_metadata[]{rssi, snr}, received_at}`, `join_accept`, `downlink_ack|nack|sent|failed`
 * (ours carry the correlation id we gave, `continuum:<id>`). Untrusted: a body that does not fit
 * throws with the reason.
 */
import { base64Bytes, bestRadio, finiteNumber, isAppPort, isoTime, isPlainObject, normalDevEui, type LorawanDownlink, type LorawanEvent } from '../../../domain/lorawan.js';

const CORRELATION_PREFIX = 'continuum:';
const TTS_ID = /^[a-z0-9](?:[-]?[a-z0-9]){1,35}$/;

/** TTS ids (application, device, tenant): lowercase letters, digits and single dashes, 2..36 long. */
export function isTtsId(value: string): boolean {
  return TTS_ID.test(value);
}

/** `{application id}@{tenant id}` on Cloud/Enterprise, the bare application id on the open-source server. */
export function ttsAppRef(applicationId: string, tenantId: string | undefined): string {
  return tenantId ? `${applicationId}@${tenantId}` : applicationId;
}

export function ttsFilters(appRef: string): string[] {
  return [`v3/${appRef}/devices/+/up`, `v3/${appRef}/devices/+/join`, `v3/${appRef}/devices/+/down/+`];
}

/** An MQTT message: the device id of the topic must be the body's. */
export function parseTtsMqtt(appRef: string, applicationId: string, topic: string, payload: Buffer): LorawanEvent | undefined {
  const prefix = `v3/${appRef}/devices/`;
  if (!topic.startsWith(prefix)) return undefined;
  const [deviceId, ...rest] = topic.slice(prefix.length).split('/');
  const what = rest.join('/');
  if (what !== 'up' && what !== 'join' && !['down/ack', 'down/nack', 'down/sent', 'down/failed'].includes(what)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Error('message is not JSON');
  }
  const event = parseTtsMessage(applicationId, body);
  if (event && event.nsDeviceId !== deviceId) throw new Error('end_device_ids.device_id differs from the topic');
  return event;
}

/** One application message (webhook body or MQTT payload); undefined for a kind we do not handle (queued, location, …). */
export function parseTtsMessage(applicationId: string, body: unknown): LorawanEvent | undefined {
  if (!isPlainObject(body)) throw new Error('message is not a JSON object');
  const ids = isPlainObject(body.end_device_ids) ? body.end_device_ids : undefined;
  if (!ids || typeof ids.device_id !== 'string' || !isTtsId(ids.device_id)) throw new Error('end_device_ids.device_id missing or not a TTS id');
  const app = isPlainObject(ids.application_ids) ? ids.application_ids.application_id : undefined;
  if (app !== applicationId) throw new Error(`message of application ${JSON.stringify(app)}, not ${applicationId}`);
  const devEui = ids.dev_eui === undefined ? undefined : normalDevEui(ids.dev_eui);
  if (ids.dev_eui !== undefined && devEui === undefined) throw new Error('end_device_ids.dev_eui is not a DevEUI');
  const ref = { devEui: devEui ?? '', nsDeviceId: ids.device_id };
  if (isPlainObject(body.uplink_message)) {
    if (!devEui) throw new Error('uplink without end_device_ids.dev_eui');
    const up = body.uplink_message;
    let bytes: Uint8Array | undefined;
    if (up.frm_payload !== undefined && up.frm_payload !== '') {
      bytes = base64Bytes(up.frm_payload);
      if (!bytes) throw new Error('frm_payload is not base64 (or longer than 512 bytes)');
    }
    if (up.f_port !== undefined && !(Number.isInteger(up.f_port) && (up.f_port as number) >= 0 && (up.f_port as number) <= 255)) throw new Error('f_port out of range');
    const fCnt = finiteNumber(up.f_cnt);
    const time = isoTime(up.received_at) ?? isoTime(body.received_at);
    return {
      kind: 'up',
      ...ref,
      ...(typeof up.f_port === 'number' ? { fPort: up.f_port } : {}),
      ...(fCnt !== undefined ? { fCnt } : {}),
      ...(bytes ? { bytes } : {}),
      ...(isPlainObject(up.decoded_payload) ? { object: up.decoded_payload } : {}),
      radio: bestRadio(Array.isArray(up.rx_metadata) ? up.rx_metadata.filter(isPlainObject) : []),
      ...(time !== undefined ? { time } : {}),
    };
  }
  if (isPlainObject(body.join_accept)) {
    if (!devEui) throw new Error('join without end_device_ids.dev_eui');
    const time = isoTime(body.join_accept.received_at) ?? isoTime(body.received_at);
    const devAddr = typeof ids.dev_addr === 'string' && /^[0-9a-fA-F]{8}$/.test(ids.dev_addr) ? { devAddr: ids.dev_addr.toLowerCase() } : {};
    return { kind: 'join', ...ref, ...devAddr, ...(time !== undefined ? { time } : {}) };
  }
  for (const [field, kind] of [['downlink_ack', 'ack'], ['downlink_nack', 'nack'], ['downlink_sent', 'sent'], ['downlink_failed', 'failed']] as const) {
    const d = body[field];
    if (!isPlainObject(d)) continue;
    const message = kind === 'failed' ? (isPlainObject(d.downlink) ? d.downlink : {}) : d;
    const id = ourCorrelation(message.correlation_ids) ?? ourCorrelation(body.correlation_ids);
    // Someone else's downlink (the console, another application): not ours to answer.
    if (id === undefined) return undefined;
    if (kind === 'sent') return { kind: 'txack', ...ref, downlinkId: id };
    if (kind === 'failed') {
      const error = isPlainObject(d.error) && typeof d.error.message_format === 'string' ? d.error.message_format.slice(0, 200) : 'downlink failed';
      return { kind: 'failed', ...ref, downlinkId: id, reason: error };
    }
    return { kind: 'ack', ...ref, downlinkId: id, acknowledged: kind === 'ack' };
  }
  return undefined;
}

function ourCorrelation(ids: unknown): string | undefined {
  if (!Array.isArray(ids)) return undefined;
  for (const c of ids.slice(0, 32)) if (typeof c === 'string' && c.startsWith(CORRELATION_PREFIX)) return c.slice(CORRELATION_PREFIX.length, CORRELATION_PREFIX.length + 64);
  return undefined;
}

export type TtsPriority = 'LOWEST' | 'LOW' | 'BELOW_NORMAL' | 'NORMAL' | 'ABOVE_NORMAL' | 'HIGH' | 'HIGHEST';

/** `down/push` on the MQTT server: appends to the device's downlink queue. */
export function ttsDownlink(appRef: string, priority: TtsPriority, d: LorawanDownlink): { topic: string; payload: string } {
  if (!isAppPort(d.fPort)) throw new Error(`fPort ${d.fPort} is not an application port`);
  if (d.nsDeviceId === undefined || !isTtsId(d.nsDeviceId)) throw new Error('the TTS device id is not known yet (it is learnt from an uplink)');
  return {
    topic: `v3/${appRef}/devices/${d.nsDeviceId}/down/push`,
    payload: JSON.stringify({
      downlinks: [{ f_port: d.fPort, frm_payload: Buffer.from(d.bytes).toString('base64'), priority, confirmed: d.confirmed, correlation_ids: [`${CORRELATION_PREFIX}${d.id}`] }],
    }),
  };
}
