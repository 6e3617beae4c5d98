/**
 * The LoRaWAN servers' JSON as neutral events, without a broker: what is read, what is ignored,
 * what is refused (untrusted input), and the downlink shapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chirpstackDownlink, parseChirpstack } from '../../../src/adapters/integrations/chirpstack/events.js';
import { parseTtsMessage, parseTtsMqtt, ttsDownlink } from '../../../src/adapters/integrations/tts/events.js';
import { base64Bytes, bestRadio, normalDevEui } from '../../../src/domain/lorawan.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'lorawan');
const APP = '6a0d4a83-2f5b-4c1e-9d7a-0b1c2d3e4f50';
const EUI = '70b3d57ed0000001';

function text(name: string, replace: Record<string, string>): string {
  let t = readFileSync(join(FIXTURES, name), 'utf8');
  for (const [from, to] of Object.entries(replace)) t = t.replaceAll(from, to);
  return t;
}

describe('ChirpStack v4 events', () => {
  const up = () => Buffer.from(text('chirpstack-up.json', { APPLICATION_ID: APP, DEV_EUI: EUI.toUpperCase() }));

  it('reads an uplink: DevEUI lowercased, bytes, fPort, fCnt, the best gateway, the time', () => {
    const e = parseChirpstack(APP, `application/${APP}/device/${EUI}/event/up`, up());
    assert.ok(e && e.kind === 'up');
    assert.equal(e.devEui, EUI);
    assert.equal(e.nsDeviceId, 'freezer-7');
    assert.deepEqual([...(e.bytes ?? [])], [0x00, 0xd7, 0x41]);
    assert.deepEqual([e.fPort, e.fCnt, e.radio.rssi, e.radio.snr, e.time], [2, 42, -97, 6.5, Date.parse('2026-12-07T10:00:00.000Z')]);
  });

  it('ignores topics and event types it does not handle', () => {
    assert.equal(parseChirpstack(APP, `application/${APP}/device/${EUI}/event/log`, up()), undefined);
    assert.equal(parseChirpstack(APP, `application/other/device/${EUI}/event/up`, up()), undefined);
    assert.equal(parseChirpstack(APP, `application/${APP}/device/${EUI}/command/down`, up()), undefined);
  });

  it('refuses what does not fit: not JSON, a topic DevEUI that is not one or differs from the body, bad base64', () => {
    const topic = `application/${APP}/device/${EUI}/event/up`;
    assert.throws(() => parseChirpstack(APP, topic, Buffer.from('{')), /not JSON/);
    assert.throws(() => parseChirpstack(APP, `application/${APP}/device/xyz/event/up`, up()), /not a DevEUI/);
    assert.throws(() => parseChirpstack(APP, `application/${APP}/device/0000000000000002/event/up`, up()), /differs from the topic/);
    const body = JSON.parse(up().toString()) as Record<string, unknown>;
    assert.throws(() => parseChirpstack(APP, topic, Buffer.from(JSON.stringify({ ...body, data: 'AA$=' }))), /base64/);
    assert.throws(() => parseChirpstack(APP, topic, Buffer.from(JSON.stringify({ ...body, deviceInfo: undefined }))), /deviceInfo/);
  });

  it('status without a measurable battery keeps the margin only; ack and txack carry the queue item id', () => {
    const status = JSON.parse(text('chirpstack-status.json', { APPLICATION_ID: APP, DEV_EUI: EUI })) as Record<string, unknown>;
    const e = parseChirpstack(APP, `application/${APP}/device/${EUI}/event/status`, Buffer.from(JSON.stringify({ ...status, batteryLevelUnavailable: true })));
    assert.deepEqual(e && e.kind === 'status' ? [e.margin, e.batteryLevel] : undefined, [9, undefined]);
    const ack = parseChirpstack(APP, `application/${APP}/device/${EUI}/event/ack`, Buffer.from(text('chirpstack-ack.json', { APPLICATION_ID: APP, DEV_EUI: EUI, QUEUE_ITEM_ID: 'q-1' })));
    assert.deepEqual(ack && ack.kind === 'ack' ? [ack.downlinkId, ack.acknowledged] : undefined, ['q-1', true]);
  });

  it('downlink: command/down with id, devEui, confirmed, fPort and base64 data; port 0 refused', () => {
    const d = { id: 'u-1', devEui: EUI, fPort: 5, bytes: Uint8Array.from([1, 2]), confirmed: true };
    assert.deepEqual(chirpstackDownlink(APP, d), { topic: `application/${APP}/device/${EUI}/command/down`, payload: JSON.stringify({ id: 'u-1', devEui: EUI, confirmed: true, fPort: 5, data: 'AQI=' }) });
    assert.throws(() => chirpstackDownlink(APP, { ...d, fPort: 0 }), /application port/);
  });
});

describe('The Things Stack v3 messages', () => {
  const APP_ID = 'cold-chain';
  const up = () => JSON.parse(text('tts-up.json', { APPLICATION_ID: APP_ID, DEV_EUI: EUI, DEVICE_ID: 'sensor-1' })) as Record<string, unknown>;

  it('reads an uplink (webhook body or MQTT payload) with the decoded payload when the server decoded it', () => {
    const body = up();
    (body.uplink_message as Record<string, unknown>).decoded_payload = { t: 1 };
    const e = parseTtsMessage(APP_ID, body);
    assert.ok(e && e.kind === 'up');
    assert.deepEqual([e.devEui, e.nsDeviceId, e.fPort, e.fCnt, e.radio.rssi, e.object], [EUI, 'sensor-1', 2, 317, -88, { t: 1 }]);
  });

  it('MQTT: the topic device must be the body device; other topics are ignored', () => {
    const payload = Buffer.from(JSON.stringify(up()));
    assert.equal(parseTtsMqtt(`${APP_ID}@ttn`, APP_ID, `v3/${APP_ID}@ttn/devices/sensor-1/up`, payload)?.kind, 'up');
    assert.throws(() => parseTtsMqtt(`${APP_ID}@ttn`, APP_ID, `v3/${APP_ID}@ttn/devices/sensor-9/up`, payload), /differs from the topic/);
    assert.equal(parseTtsMqtt(`${APP_ID}@ttn`, APP_ID, `v3/${APP_ID}@ttn/devices/sensor-1/down/queued`, payload), undefined);
  });

  it('refuses another application, a device id that is not a TTS id, an uplink without DevEUI', () => {
    assert.throws(() => parseTtsMessage('other-app', up()), /not other-app/);
    const body = up();
    assert.throws(() => parseTtsMessage(APP_ID, { ...body, end_device_ids: { ...(body.end_device_ids as object), device_id: '../x' } }), /device_id/);
    const { dev_eui: _eui, ...ids } = body.end_device_ids as Record<string, unknown>;
    assert.throws(() => parseTtsMessage(APP_ID, { ...body, end_device_ids: ids }), /dev_eui/);
  });

  it('downlink events answer only our own correlation ids; nack is an unacknowledged ack; failed carries the reason', () => {
    const ids = { device_id: 'sensor-1', application_ids: { application_id: APP_ID }, dev_eui: EUI };
    assert.deepEqual(parseTtsMessage(APP_ID, { end_device_ids: ids, downlink_nack: { correlation_ids: ['continuum:abc'] } }), { kind: 'ack', devEui: EUI, nsDeviceId: 'sensor-1', downlinkId: 'abc', acknowledged: false });
    assert.equal(parseTtsMessage(APP_ID, { end_device_ids: ids, downlink_ack: { correlation_ids: ['console:1'] } }), undefined);
    const failed = parseTtsMessage(APP_ID, { end_device_ids: ids, downlink_failed: { downlink: { correlation_ids: ['continuum:abc'] }, error: { message_format: 'no device session' } } });
    assert.deepEqual(failed && failed.kind === 'failed' ? [failed.downlinkId, failed.reason] : undefined, ['abc', 'no device session']);
  });

  it('down/push: f_port, frm_payload, priority, confirmed and our correlation id', () => {
    const m = ttsDownlink(`${APP_ID}@ttn`, 'HIGH', { id: 'x1', devEui: EUI, nsDeviceId: 'sensor-1', fPort: 7, bytes: Uint8Array.from([255]), confirmed: false });
    assert.equal(m.topic, `v3/${APP_ID}@ttn/devices/sensor-1/down/push`);
    assert.deepEqual(JSON.parse(m.payload), { downlinks: [{ f_port: 7, frm_payload: '/w==', priority: 'HIGH', confirmed: false, correlation_ids: ['continuum:x1'] }] });
    assert.throws(() => ttsDownlink(APP_ID, 'NORMAL', { id: 'x', devEui: EUI, fPort: 7, bytes: new Uint8Array(), confirmed: false }), /not known yet/);
  });
});

describe('LoRaWAN domain helpers', () => {
  it('base64 is strict and bounded; DevEUIs are 16 hex digits; the best gateway is the strongest', () => {
    assert.deepEqual([...(base64Bytes('AQI=') ?? [])], [1, 2]);
    for (const bad of ['AQI', 'A?I=', 'AQI==A==', 42]) assert.equal(base64Bytes(bad), undefined, String(bad));
    assert.equal(base64Bytes(Buffer.alloc(600).toString('base64')), undefined);
    assert.equal(normalDevEui('70B3D57ED0000001'), '70b3d57ed0000001');
    assert.equal(normalDevEui('70B3D57ED000000'), undefined);
    assert.deepEqual(bestRadio([{ rssi: -120, snr: -5 }, { rssi: -80, snr: 7 }, { rssi: 'x' }]), { rssi: -80, snr: 7 });
  });
});
