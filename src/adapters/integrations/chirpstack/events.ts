/**
 * ChirpStack v4 MQTT integration events (JSON encoding) as neutral LoRaWAN events. Topics are
 * `application/{applicationId}/device/{devEui}/event/{up|join|status|ack|txack}`; bodies carry
 * `deviceInfo{tenantId, applicationId, deviceName, devEui, …}` and per event: up `fPort, fCnt,
 * data (base64), object?, rxInfo[]{rssi, snr}, time`; join `devAddr`; status `margin,
 * batteryLevel, externalPowerSource`; ack `queueItemId, acknowledged`; txack `queueItemId`.
 * Everything is untrusted: a body that does not fit throws with the reason.
 */
import { base64Bytes, bestRadio, finiteNumber, isAppPort, isoTime, isPlainObject, normalDevEui, type LorawanDownlink, type LorawanEvent } from '../../../domain/lorawan.js';

const EVENTS = new Set(['up', 'join', 'status', 'ack', 'txack']);

export function chirpstackFilter(applicationId: string): string {
  return `application/${applicationId}/device/+/event/+`;
}

export function parseChirpstack(applicationId: string, topic: string, payload: Buffer): LorawanEvent | undefined {
  const levels = topic.split('/');
  if (levels.length !== 6 || levels[0] !== 'application' || levels[1] !== applicationId || levels[2] !== 'device' || levels[4] !== 'event') return undefined;
  const kind = levels[5] as string;
  // Other events (log, location, integration) are not ours to handle.
  if (!EVENTS.has(kind)) return undefined;
  const topicEui = normalDevEui(levels[3]);
  if (!topicEui) throw new Error(`topic ${topic}: not a DevEUI`);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Error('event is not JSON (is the integration set to JSON encoding?)');
  }
  if (!isPlainObject(body)) throw new Error('event is not a JSON object');
  const info = isPlainObject(body.deviceInfo) ? body.deviceInfo : undefined;
  if (!info) throw new Error('event without deviceInfo');
  if (info.devEui !== undefined && normalDevEui(info.devEui) !== topicEui) throw new Error('deviceInfo.devEui differs from the topic');
  if (info.applicationId !== undefined && info.applicationId !== applicationId) throw new Error('deviceInfo.applicationId differs from the topic');
  const name = typeof info.deviceName === 'string' && info.deviceName.length > 0 && info.deviceName.length <= 255 ? info.deviceName : undefined;
  const ref = { devEui: topicEui, ...(name !== undefined ? { nsDeviceId: name } : {}) };
  const time = isoTime(body.time);
  const at = time !== undefined ? { time } : {};
  switch (kind) {
    case 'up': {
      let bytes: Uint8Array | undefined;
      if (body.data !== undefined && body.data !== '') {
        bytes = base64Bytes(body.data);
        if (!bytes) throw new Error('data is not base64 (or longer than 512 bytes)');
      }
      if (body.fPort !== undefined && !(Number.isInteger(body.fPort) && (body.fPort as number) >= 0 && (body.fPort as number) <= 255)) throw new Error('fPort out of range');
      const fCnt = finiteNumber(body.fCnt);
      const rx = Array.isArray(body.rxInfo) ? body.rxInfo.filter(isPlainObject) : [];
      return {
        kind: 'up',
        ...ref,
        ...(typeof body.fPort === 'number' ? { fPort: body.fPort } : {}),
        ...(fCnt !== undefined ? { fCnt } : {}),
        ...(bytes ? { bytes } : {}),
        ...(isPlainObject(body.object) ? { object: body.object } : {}),
        radio: bestRadio(rx),
        ...at,
      };
    }
    case 'join':
      return { kind: 'join', ...ref, ...(typeof body.devAddr === 'string' && /^[0-9a-fA-F]{8}$/.test(body.devAddr) ? { devAddr: body.devAddr.toLowerCase() } : {}), ...at };
    case 'status': {
      const margin = finiteNumber(body.margin);
      // batteryLevelUnavailable: the device could not measure it; externalPowerSource: mains powered.
      const battery = body.batteryLevelUnavailable === true ? undefined : finiteNumber(body.batteryLevel);
      return {
        kind: 'status',
        ...ref,
        ...(margin !== undefined ? { margin } : {}),
        ...(battery !== undefined ? { batteryLevel: battery } : {}),
        ...(typeof body.externalPowerSource === 'boolean' ? { externalPower: body.externalPowerSource } : {}),
        ...at,
      };
    }
    case 'ack':
      if (typeof body.queueItemId !== 'string') throw new Error('ack without queueItemId');
      return { kind: 'ack', ...ref, downlinkId: body.queueItemId, acknowledged: body.acknowledged === true };
    default:
      if (typeof body.queueItemId !== 'string') throw new Error('txack without queueItemId');
      return { kind: 'txack', ...ref, downlinkId: body.queueItemId };
  }
}

/** ChirpStack v4 "command/down": enqueues the payload; `id` becomes the queue item id its ack/txack echo. */
export function chirpstackDownlink(applicationId: string, d: LorawanDownlink): { topic: string; payload: string } {
  if (!isAppPort(d.fPort)) throw new Error(`fPort ${d.fPort} is not an application port`);
  return {
    topic: `application/${applicationId}/device/${d.devEui}/command/down`,
    payload: JSON.stringify({ id: d.id, devEui: d.devEui, confirmed: d.confirmed, fPort: d.fPort, data: Buffer.from(d.bytes).toString('base64') }),
  };
}
