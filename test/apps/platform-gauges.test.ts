/** /metrics: gauges for devices, online devices, active alarms and the outbox; build info; one reason vocabulary. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { ERRORS } from '../../src/domain/errors.js';
import { connectMqtt, eventually, metricsText, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform({ store: 'memory' });
});
after(async () => {
  await tp?.stop();
});

function gauge(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('devices, online devices, active alarms, outbox depth and build info', async () => {
  const created = await tp.api.request<{ id: string; accessToken: string }>('POST', '/api/devices', { name: 'gauge-1' });
  await tp.api.request('POST', '/api/devices', { name: 'gauge-2' });
  const before = await metricsText(tp.baseUrl);
  assert.equal(gauge(before, 'continuum_devices'), 2);
  assert.equal(gauge(before, 'continuum_devices_online'), 0);
  assert.equal(gauge(before, 'continuum_alarms_active'), 0);
  assert.equal(gauge(before, 'continuum_outbox_pending'), 0);
  assert.match(before, /^continuum_build_info\{version="\d+\.\d+\.\d+",node="[^"]+",node_version="v\d+[^"]*"\} 1$/m);

  const rule = await tp.api.request('POST', '/api/rules', { name: 'hot', deviceId: created.body.id, trigger: 'telemetry', condition: 't > 30', actions: [{ type: 'alarm', alarmType: 'Hot' }] });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  const client = await connectMqtt(tp.ports.mqtt, { username: created.body.accessToken });
  try {
    await eventually(async () => (gauge(await metricsText(tp.baseUrl), 'continuum_devices_online') === 1 ? true : undefined), 5_000, 'one device online');
    await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ t: 35 }), { qos: 1 });
    await eventually(async () => (gauge(await metricsText(tp.baseUrl), 'continuum_alarms_active') === 1 ? true : undefined), 5_000, 'one active alarm');
  } finally {
    await client.endAsync();
  }
  await eventually(async () => (gauge(await metricsText(tp.baseUrl), 'continuum_devices_online') === 0 ? true : undefined), 5_000, 'offline once the session closed');
});

test('every reject reason is a code of the error catalogue', async () => {
  // A wrong token over MQTT: counted as the refusal's code, as HTTP and CoAP count theirs.
  await promisify(execFile)('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', 'no-such-token', '-t', 'v1/devices/me/telemetry', '-m', '{}']).catch(() => undefined);
  await fetch(`${tp.baseUrl}/api/v1/no-such-token/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const text = await metricsText(tp.baseUrl);
  const reasons = [...text.matchAll(/^continuum_rejects_total\{transport="(\w+)",reason="([^"]+)"\} \d+/gm)].map((m) => [m[1], m[2]]);
  assert.ok(reasons.some(([t]) => t === 'mqtt') && reasons.some(([t]) => t === 'http'), JSON.stringify(reasons));
  for (const [, reason] of reasons) assert.ok(reason !== undefined && reason in ERRORS, `reason "${reason}" is not a catalogue code`);
  // HTTP latency by route pattern: the device's token never becomes a label value.
  assert.match(text, /^continuum_http_request_duration_seconds_count\{method="POST",route="\/api\/devices",status="201"\} 2$/m);
  assert.match(text, /^continuum_http_request_duration_seconds_bucket\{le="0\.1",method="POST",route="\/api\/v1\/:token\/telemetry",status="401"\} 1$/m);
  assert.doesNotMatch(text, /no-such-token/);
  const mqtt = reasons.find(([t]) => t === 'mqtt')?.[1];
  const http = reasons.find(([t]) => t === 'http')?.[1];
  assert.equal(mqtt, http, 'the same failure has the same label on MQTT and HTTP');
});
