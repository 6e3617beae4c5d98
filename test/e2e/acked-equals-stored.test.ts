/**
 * Issue 12, item 5, end to end: acked == stored for every honest device while another device
 * (and a gateway) sends the worst payloads we could build, over MQTT 3.1.1, MQTT 5, CoAP and
 * HTTP at the same time, so the attacker's messages share group commits with the honest ones.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { connectMqtt, metricsText, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const LIMIT = 256 * 1024; // limits.maxPayloadBytes default
let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

const deep = (levels: number): string => `{"k":${'['.repeat(levels)}${']'.repeat(levels)}}`;
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** [name, payload, expected error code ('ok' = accepted), HTTP status, MQTT 5 reason]. */
type Attack = [string, Buffer, string, number, number];
const bad = (name: string, payload: string | Buffer, code: string): Attack => {
  const tooLarge = ['PAYLOAD_TOO_LARGE', 'TOO_MANY_VALUES', 'VALUE_TOO_LONG'].includes(code);
  return [name, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), code, tooLarge ? 413 : 400, tooLarge ? 0x97 : 0x99];
};
const ATTACKS: Attack[] = [
  bad('100k levels', deep(100_000), 'NESTING_TOO_DEEP'),
  bad('33 levels', deep(33), 'NESTING_TOO_DEEP'),
  bad('over the size limit', `{"s":"${'x'.repeat(LIMIT)}"}`, 'PAYLOAD_TOO_LARGE'),
  bad('at the size limit, one long string', `{"s":"${'x'.repeat(LIMIT - 8)}"}`, 'VALUE_TOO_LONG'),
  bad('at the size limit, nested strings', JSON.stringify({ s: Array.from({ length: 3 }, () => 'x'.repeat(70_000)) }), 'VALUE_TOO_LONG'),
  bad('10,001 keys', JSON.stringify(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]))), 'TOO_MANY_VALUES'),
  bad('long key', JSON.stringify({ ['k'.repeat(256)]: 1 }), 'KEY_TOO_LONG'),
  bad('NaN', '{"k":NaN}', 'MALFORMED_PAYLOAD'),
  bad('Infinity', '{"k":Infinity}', 'MALFORMED_PAYLOAD'),
  bad('1e999', '{"k":1e999}', 'NON_FINITE_NUMBER'),
  bad('nested -1e999', '{"k":{"a":[1,-1e999]}}', 'NON_FINITE_NUMBER'),
  bad('invalid UTF-8', bytes('{"k":"', [0xff, 0xfe, 0xc3], '"}'), 'INVALID_TEXT'),
  bad('encoded surrogate', bytes('{"k":"', [0xed, 0xa0, 0x80], '"}'), 'INVALID_TEXT'),
  bad('lone surrogate escape', '{"k":"\\ud800"}', 'INVALID_TEXT'),
  bad('lone surrogate key', '{"\\udfff":1}', 'INVALID_TEXT'),
  bad('__proto__', '{"__proto__":{"polluted":true}}', 'MALFORMED_PAYLOAD'),
  bad('nested __proto__', '{"k":{"__proto__":{"polluted":true}}}', 'MALFORMED_PAYLOAD'),
  bad('empty', '', 'MALFORMED_PAYLOAD'),
  bad('binary', Buffer.from([0x00, 0x01, 0x02, 0x80, 0xff, 0x10, 0x7b]), 'INVALID_TEXT'),
  bad('future timestamp', JSON.stringify({ ts: Date.now() + 3 * 86_400_000, values: { a: 1 } }), 'TIMESTAMP_IN_FUTURE'),
];
const ACCEPTED_ODDITIES = ['{"constructor":{"prototype":{"polluted":true}}}', '{"toString":1,"hasOwnProperty":"x"}'];

interface Honest {
  readonly id: string;
  readonly acked: Set<number>;
}

const BASE_TS = Date.now() - 3_600_000;
const reading = (seq: number): string => JSON.stringify({ ts: BASE_TS + seq, values: { seq, note: `m${seq}` } });

function mqttCode(client: MqttClient, topic: string, payload: Buffer | string, contentType?: string): Promise<number> {
  return new Promise((resolve) => {
    client.publish(topic, payload, { qos: 1, ...(contentType ? { properties: { contentType } } : {}) }, (err, packet) => {
      // An error without a reason code (connection gone) is no acknowledgement: -1.
      if (err) resolve((err as { code?: number }).code ?? -1);
      else resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

async function coapPost(token: string, payloadFile: string, format = 'application/json'): Promise<string> {
  const out = await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', format, '-f', payloadFile, `coap://127.0.0.1:${tp.ports.coap}/api/v1/${token}/telemetry`]);
  const match = /\b([2-5])\.(\d\d)\b/.exec(out.stderr + out.stdout);
  return match ? `${match[1]}.${match[2]}` : '2.04';
}

async function rejects(transport: string): Promise<number> {
  const text = await metricsText(tp.baseUrl);
  return text
    .split('\n')
    .filter((l) => l.startsWith('continuum_rejects_total{') && l.includes(`transport="${transport}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** Honest senders: counted readings, each remembered once its transport acknowledged it. */
async function sendHonest(transport: string, token: string, count: number, dir: string): Promise<Set<number>> {
  const acked = new Set<number>();
  if (transport === 'mqtt4' || transport === 'mqtt5') {
    const client = await connectMqtt(tp.ports.mqtt, { username: token, protocolVersion: transport === 'mqtt4' ? 4 : 5 });
    await Promise.all(
      Array.from({ length: count }, async (_, seq) => {
        if ((await mqttCode(client, 'v1/devices/me/telemetry', reading(seq))) === 0) acked.add(seq);
      }),
    );
    await client.endAsync();
  } else if (transport === 'http') {
    await Promise.all(
      Array.from({ length: count }, async (_, seq) => {
        const res = await fetch(`${tp.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: reading(seq) });
        if (res.status === 200) acked.add(seq);
      }),
    );
  } else {
    for (let seq = 0; seq < count; seq++) {
      const file = join(dir, `honest-${seq}.json`);
      writeFileSync(file, reading(seq));
      if ((await coapPost(token, file)) === '2.04') acked.add(seq);
    }
  }
  return acked;
}

test('acked == stored for every honest device while another device sends the worst payloads', async () => {
  const dir = tempDir();
  const honestDevices = await Promise.all(['mqtt4', 'mqtt5', 'http', 'coap'].map((t) => tp.api.createDevice(`honest-${t}`)));
  const attacker = await tp.api.createDevice('attacker');
  const gateway = await tp.api.createDevice('attacker-gateway', { gateway: true });
  const mqtt5 = await connectMqtt(tp.ports.mqtt, { username: attacker.accessToken, protocolVersion: 5 });
  const mqtt4 = await connectMqtt(tp.ports.mqtt, { username: attacker.accessToken, protocolVersion: 4 });
  const gw = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
  const mqtt4RejectsBefore = await rejects('mqtt');
  const postAttributes = async (payload: Buffer): Promise<number> =>
    (await fetch(`${tp.baseUrl}/api/v1/${attacker.accessToken}/attributes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(payload) })).status;

  const attack = async (): Promise<string[]> => {
    const wrong: string[] = [];
    const expect = (what: string, got: unknown, want: unknown) => {
      if (got !== want) wrong.push(`${what}: got ${String(got)}, want ${String(want)}`);
    };
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        ATTACKS.map(async ([name, payload, code, status, reason]) => {
          const http = await fetch(`${tp.baseUrl}/api/v1/${attacker.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(payload) });
          expect(`HTTP ${name}`, http.status, status);
          if (http.status !== 413) expect(`HTTP ${name} error`, ((await http.json()) as { error?: string }).error, code);
          // A {"ts","values"} document is a valid attribute object: only telemetry refuses it.
          if (code !== 'TIMESTAMP_IN_FUTURE') expect(`HTTP attributes ${name}`, (await postAttributes(payload)) >= 400, true);
          // Over maxPayloadBytes, MQTT closes the connection (0x95 Packet too large): checked below on its own.
          if (code === 'PAYLOAD_TOO_LARGE') return;
          expect(`MQTT 5 ${name}`, await mqttCode(mqtt5, 'v1/devices/me/telemetry', payload), reason);
          expect(`MQTT 3.1.1 ${name}`, await mqttCode(mqtt4, 'v1/devices/me/telemetry', payload), 0);
          // The gateway names a good child first and puts the attack in a second one.
          const child = Buffer.concat([Buffer.from('{"child-ok":[{"ok":1}],"child-bad":'), payload.length > 0 ? payload : Buffer.from('""'), Buffer.from('}')]);
          if (child.length <= LIMIT && (await mqttCode(gw, 'v1/gateway/telemetry', child)) === 0) wrong.push(`gateway ${name}: accepted`);
          if (code !== 'TIMESTAMP_IN_FUTURE') expect(`MQTT 5 attributes ${name}`, (await mqttCode(mqtt5, 'v1/devices/me/attributes', payload)) >= 0x80, true);
        }),
      );
      for (const body of ACCEPTED_ODDITIES) expect(`MQTT 5 ${body}`, await mqttCode(mqtt5, 'v1/devices/me/telemetry', body), 0);
      expect('SenML garbage', await mqttCode(mqtt5, 'v1/devices/me/telemetry', '[{"n":"a","v":"x"}]', 'application/senml+json'), 0x99);
      const senml = await fetch(`${tp.baseUrl}/api/v1/${attacker.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/senml+json' }, body: '[{"bn":"x","v":1e999},{"n":"\\ud800","v":1}]' });
      expect('HTTP SenML garbage', senml.status, 400);
      await mqttCode(mqtt5, 'spBv1.0/g/NDATA/n', Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x80]));
      for (const [name, payload, , status] of ATTACKS.filter(([, p]) => p.length < 1000)) {
        const file = join(dir, `attack.bin`);
        writeFileSync(file, payload);
        expect(`CoAP ${name}`, await coapPost(attacker.accessToken, file), status === 413 ? '4.13' : '4.00');
      }
      const deepFile = join(dir, 'deep.json');
      writeFileSync(deepFile, deep(400));
      expect('CoAP 400 levels', await coapPost(attacker.accessToken, deepFile), '4.00');
    }
    return wrong;
  };

  const [wrong, ...acked] = await Promise.all([
    attack(),
    sendHonest('mqtt4', honestDevices[0]!.accessToken, 300, dir),
    sendHonest('mqtt5', honestDevices[1]!.accessToken, 300, dir),
    sendHonest('http', honestDevices[2]!.accessToken, 150, dir),
    sendHonest('coap', honestDevices[3]!.accessToken, 15, dir),
  ]);
  assert.deepEqual(wrong, [], 'every attack gets its protocol-correct refusal');

  const honest: Honest[] = honestDevices.map((d, i) => ({ id: d.id, acked: acked[i]! }));
  for (const [i, h] of honest.entries()) {
    assert.ok(h.acked.size > 0, `honest device ${i} got acknowledgements`);
    const res = await tp.api.request<Record<string, { ts: number; value: unknown }[]>>(
      'GET',
      `/api/devices/${h.id}/telemetry?keys=seq,note&from=${BASE_TS}&to=${BASE_TS + 1000}&limit=10000`,
    );
    const stored = new Set((res.body.seq ?? []).map((p) => Number(p.value)));
    assert.deepEqual([...stored].sort((a, b) => a - b), [...h.acked].sort((a, b) => a - b), `honest device ${i}: acked == stored`);
    for (const p of res.body.note ?? []) assert.equal(p.value, `m${p.ts - BASE_TS}`, 'values stored as sent');
  }

  // MQTT 3.1.1 cannot refuse a PUBLISH: the attacker's were acknowledged, dropped and counted.
  assert.ok((await rejects('mqtt')) - mqtt4RejectsBefore >= ATTACKS.length * 2 * 2, 'every 3.1.1 and MQTT 5 refusal is counted');
  const attackerKeys = await tp.api.request<string[]>('GET', `/api/devices/${attacker.id}/telemetry/keys`);
  assert.deepEqual(attackerKeys.body.sort(), ['constructor', 'hasOwnProperty', 'toString'], 'only the accepted oddities were stored');
  const children = await tp.api.request<{ data?: { name: string }[] } | { name: string }[]>('GET', `/api/devices?gatewayId=${gateway.id}`);
  const childList = Array.isArray(children.body) ? children.body : (children.body.data ?? []);
  for (const c of childList) {
    const keys = await tp.api.request<string[]>('GET', `/api/devices/${(c as { id?: string }).id}/telemetry/keys`);
    assert.deepEqual(keys.body, [], `gateway child ${c.name}: a refused gateway message stores nothing`);
  }
  // A PUBLISH over maxPayloadBytes ends that connection: MQTT 5 DISCONNECT 0x95 [MQTT-3.1.2-25 analogue on the server side].
  const big = Buffer.from(`{"s":"${'x'.repeat(LIMIT)}"}`);
  for (const protocolVersion of [4, 5] as const) {
    const c = await connectMqtt(tp.ports.mqtt, { username: attacker.accessToken, protocolVersion });
    c.on('error', () => undefined);
    const ended = new Promise<number | undefined>((resolve) => {
      c.on('disconnect', (packet) => resolve(packet.reasonCode));
      c.on('close', () => resolve(undefined));
    });
    c.publish('v1/devices/me/telemetry', big, { qos: 1 });
    assert.equal(await ended, protocolVersion === 5 ? 0x95 : undefined);
    c.end(true);
  }
  assert.equal((await fetch(`${tp.baseUrl}/healthz`)).status, 200, 'the platform stays up');
  await Promise.all([mqtt5.endAsync(), mqtt4.endAsync(), gw.endAsync()]);
});

test('regression: a PUBACK with reason 0x95 (not valid in PUBACK) makes MQTT.js drop the connection', async () => {
  const device = await tp.api.createDevice('limit-v5');
  const client = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  let closed = false;
  client.on('close', () => (closed = true));
  client.on('error', () => undefined);
  assert.equal(await mqttCode(client, 'v1/devices/me/telemetry', JSON.stringify({ s: 'x'.repeat(70_000) })), 0x97, 'Quota exceeded');
  assert.equal(await mqttCode(client, 'v1/devices/me/telemetry', '{"after":1}'), 0, 'the connection is still usable');
  assert.equal(closed, false);
  await client.endAsync();
});
