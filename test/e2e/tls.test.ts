/**
 * With --tls-cert/--tls-key the platform also serves MQTT over TLS, MQTT over WebSocket (plain
 * and TLS) and HTTPS. A self-signed certificate is made for the test with openssl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform, type Platform } from '../../src/apps/platform.js';
import { ADMIN, apiClient, eventually, type ApiClient } from '../support/platform.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
let platform: Platform;
let api: ApiClient;
let cert: string;

before(async () => {
  const dir = tempDir('continuum-tls-');
  cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert]);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      host: '127.0.0.1',
      http: { port: 0 },
      https: { port: 0 },
      mqtt: { port: 0, tlsPort: 0 },
      coap: { port: 0 },
      tls: { cert, key },
      auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600 },
      log: { level: 'silent' },
    },
  });
  platform = await startPlatform(config);
  api = await apiClient(`http://127.0.0.1:${platform.ports.http}`);
});
after(async () => {
  await platform.stop();
});

const url = (name: string): string => {
  const address = platform.addresses.find((a) => a.name === name);
  assert.ok(address, `listener ${name} is up: ${platform.addresses.map((a) => a.name).join(', ')}`);
  return address.url;
};

test('MQTT over TLS takes telemetry from mosquitto_pub', async () => {
  const device = await api.createDevice('tls-meter');
  const port = new URL(url('mqtts')).port;
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '--cafile', cert, '-u', device.accessToken, '-q', '1',
    '-t', 'v1/devices/me/telemetry', '-m', '{"overTls":1}']);
  const latest = await api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`);
  assert.equal(latest.body.overTls?.value, 1);
});

test('HTTPS serves the REST API and the device API', async () => {
  const device = await api.createDevice('https-meter');
  const base = url('https');
  const health = await run('curl', ['-s', '--cacert', cert, `${base}/healthz`]);
  assert.match(health.stdout, /ok/);
  const post = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', cert, '-X', 'POST', '-H', 'content-type: application/json',
    '--data', '{"overHttps":2}', `${base}/api/v1/${device.accessToken}/telemetry`]);
  assert.equal(post.stdout, '200');
});

for (const name of ['mqtt-ws', 'mqtt-wss']) {
  test(`MQTT over WebSocket (${name}) carries device telemetry`, async () => {
    const device = await api.createDevice(`${name}-meter`);
    const client = mqtt.connect(url(name), { username: device.accessToken, ca: name === 'mqtt-wss' ? [readFileSync(cert)] : undefined, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ overWs: name }), { qos: 1 });
    await client.endAsync();
    const value = await eventually(async () => {
      const latest = await api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`);
      return latest.body.overWs?.value;
    });
    assert.equal(value, name);
  });
}
