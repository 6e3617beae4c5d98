/**
 * The contract of issue 12 item 8 on a whole platform: a webhook rule aimed at 127.0.0.1 does not
 * reach it unless the config allow-lists it; the platform's own HTTP port is refused at save
 * time and at send time; refusals are counted at /metrics. Devices publish with mosquitto_pub.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BusEvents } from '../../src/ports.js';
import { eventually, metricsText, startTestPlatform } from '../support/platform.js';
import { mosquittoPub } from './scenarios/helpers.js';

async function receiver(): Promise<{ port: number; hits: string[]; close(): void }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, hits, close: () => server.close() };
}

test('a webhook rule aimed at 127.0.0.1 does not reach it unless the host is allow-listed in config', async () => {
  const hook = await receiver();
  const other = await receiver();
  const tp = await startTestPlatform({ store: 'memory', config: { outbound: { allow: [`127.0.0.1:${hook.port}`] } } });
  try {
    const errors: BusEvents['ruleError'][] = [];
    tp.platform.bus.subscribe('ruleError', 'ruleError.>', (e) => void errors.push(e));
    const device = await tp.api.createDevice('sensor-ssrf');
    const rule = await tp.api.request('POST', '/api/rules', { name: 'hook', deviceId: device.id, trigger: 'telemetry', condition: 'alert == true', actions: [{ type: 'webhook', url: 'http://127.0.0.1:${port}/hook' }] });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    await mosquittoPub(tp.ports.mqtt, device.accessToken, { alert: true, port: other.port });
    await eventually(async () => (errors.length === 1 ? true : undefined), 10_000, 'a rule error');
    assert.match(errors[0]?.message ?? '', /127\.0\.0\.1 is a loopback address/);
    await mosquittoPub(tp.ports.mqtt, device.accessToken, { alert: false });
    await mosquittoPub(tp.ports.mqtt, device.accessToken, { alert: true, port: tp.ports.http });
    await eventually(async () => (errors.length === 2 ? true : undefined), 10_000, 'a second rule error');
    assert.match(errors[1]?.message ?? '', /own listening ports/);
    await mosquittoPub(tp.ports.mqtt, device.accessToken, { alert: false });
    await mosquittoPub(tp.ports.mqtt, device.accessToken, { alert: true, port: hook.port });
    await eventually(async () => (hook.hits.length === 1 ? true : undefined), 10_000, 'the allow-listed receiver called');
    assert.deepEqual(other.hits, [], 'the receiver that is not allow-listed was never reached');
    assert.equal(errors.length, 2);

    const saved = await tp.api.request<{ error: string; message: string }>('POST', '/api/rules', { name: 'self', deviceId: device.id, trigger: 'telemetry', condition: 'true', actions: [{ type: 'webhook', url: `http://127.0.0.1:${tp.ports.http}/api/users` }] });
    assert.equal(saved.status, 400);
    assert.equal(saved.body.error, 'INVALID_RULE');
    assert.match(saved.body.message, /webhook url is refused by the outbound policy: .*own listening ports/);

    const metrics = await metricsText(tp.baseUrl);
    assert.match(metrics, /continuum_outbound_refused_total\{reason="loopback"\} 1/);
    assert.match(metrics, /continuum_outbound_refused_total\{reason="own-port"\} 1/);
  } finally {
    await tp.stop();
    hook.close();
    other.close();
  }
});
