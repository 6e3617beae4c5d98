/**
 * The transport factory: listeners on port 0 (TCP, TLS with a throw-away certificate), WebSocket
 * hand-over, a taken port reported with its flag, and a stop that lets pending acks finish and tells
 * MQTT 5 clients DISCONNECT 0x8B.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { loadConfig } from '../../../../src/apps/config.js';
import { createMqttTransport, deviceApiInterceptor, selectMqttSubprotocol, type Interceptor } from '../../../../src/adapters/transport/mqtt/index.js';
import { noopMetrics } from '../../../../src/ports/device-api.js';
import { DEVICES, FakeDeviceApi } from './fake-device-api.js';
import { RawClient, client, collect, silentLogger, sleep } from './helpers.js';

/** The pipeline the composition root would build, minus Sparkplug. */
function bridgeTo(api: FakeDeviceApi): Interceptor[] {
  return [deviceApiInterceptor({ deviceApi: api, gatewayApi: api, metrics: noopMetrics })];
}

function config(overrides: Record<string, unknown> = {}) {
  return loadConfig({ overrides: { host: '127.0.0.1', mqtt: { port: 0, tlsPort: 0 }, ...overrides } });
}

test('start() listens on free ports (TCP and, with a certificate, TLS) and reports them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-tls-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const transport = createMqttTransport({ config: config({ tls: { cert, key }, mqtt: { port: 0, tlsPort: 0, profile: 'conformance' } }), logger: silentLogger });
    const addresses = await transport.start();
    assert.deepEqual(addresses.map((a) => a.name), ['mqtt', 'mqtts']);
    assert.ok(addresses.every((a) => a.port > 0));
    const plain = await client(addresses[0]!.url);
    const secure = await client(`mqtts://127.0.0.1:${addresses[1]!.port}`, { ca: [readFileSync(cert)], servername: 'localhost' });
    const inbox = collect(plain);
    await plain.subscribeAsync('tls/x', { qos: 1 });
    await secure.publishAsync('tls/x', 'over tls', { qos: 1 });
    assert.equal((await inbox.next()).payload, 'over tls');
    await Promise.all([plain.endAsync(), secure.endAsync()]);
    await transport.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('X.509: a registered TLS client certificate authenticates the device without a user name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-x509-'));
  try {
    const file = (name: string) => join(dir, name);
    const selfSigned = (key: string, cert: string, cn: string) =>
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(key), '-out', file(cert), '-days', '1', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
    selfSigned('server.key', 'server.pem', 'localhost');
    selfSigned('device.key', 'device.pem', 'sensor-1');
    const api = new FakeDeviceApi();
    const fingerprint = new X509Certificate(readFileSync(file('device.pem'))).fingerprint256;
    api.certificates.set(fingerprint.replace(/:/g, '').toLowerCase(), DEVICES.good);
    const transport = createMqttTransport({ config: config({ tls: { cert: file('server.pem'), key: file('server.key') } }), deviceApi: api, interceptors: bridgeTo(api), logger: silentLogger });
    const [, tls] = await transport.start();
    const url = `mqtts://127.0.0.1:${tls!.port}`;
    const tlsOptions = { ca: [readFileSync(file('server.pem'))], servername: 'localhost' };
    const device = await client(url, { ...tlsOptions, key: readFileSync(file('device.key')), cert: readFileSync(file('device.pem')) });
    await device.publishAsync('v1/devices/me/telemetry', '{"x509":1}', { qos: 1 });
    assert.deepEqual(api.called('publishTelemetry').at(-1)?.slice(0, 2), ['dev-1', '{"x509":1}']);
    await device.endAsync();
    // Without a certificate, the token still works on the same listener.
    const byToken = await client(url, { ...tlsOptions, username: 'good' });
    await byToken.endAsync();
    await transport.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a taken port fails start() with one line naming the flag', async () => {
  const first = createMqttTransport({ config: config(), logger: silentLogger });
  const [address] = await first.start();
  const second = createMqttTransport({ config: config({ mqtt: { port: address!.port } }), logger: silentLogger });
  await assert.rejects(second.start(), (err: Error) => {
    assert.match(err.message, /--mqtt-port/);
    assert.equal(err.message.includes('\n'), false);
    return true;
  });
  await first.stop();
});

test('acceptWebSocket serves MQTT over a WebSocket upgraded elsewhere (subprotocol mqtt)', async () => {
  const transport = createMqttTransport({ config: config({ mqtt: { port: 0, profile: 'conformance' } }), logger: silentLogger });
  const [address] = await transport.start();
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: selectMqttSubprotocol });
  http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => transport.acceptWebSocket(ws)));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const wsPort = (http.address() as AddressInfo).port;
  const overWs = await client(`ws://127.0.0.1:${wsPort}/mqtt`, { protocolVersion: 5 });
  const overTcp = await client(address!.url);
  const inbox = collect(overTcp);
  await overTcp.subscribeAsync('ws/+', { qos: 1 });
  await overWs.publishAsync('ws/hello', 'from a browser', { qos: 2 });
  assert.equal((await inbox.next()).payload, 'from a browser');
  await Promise.all([overWs.endAsync(), overTcp.endAsync()]);
  wss.close();
  await new Promise((r) => http.close(r));
  await transport.stop();
});

test('stop() waits for pending device API acks, then sends MQTT 5 clients DISCONNECT 0x8B', async () => {
  const api = new FakeDeviceApi();
  let release!: () => void;
  api.holds.set('{"last":1}', new Promise<void>((r) => (release = r)));
  const transport = createMqttTransport({ config: config(), deviceApi: api, interceptors: bridgeTo(api), logger: silentLogger });
  const [address] = await transport.start();
  const { raw, connack } = await RawClient.connect(address!.port, { clientId: 'stopping', protocolVersion: 5, username: 'good' });
  assert.equal(connack.reasonCode, 0);
  raw.send({ cmd: 'publish', topic: 'v1/devices/me/telemetry', payload: Buffer.from('{"last":1}'), qos: 1, messageId: 1, retain: false, dup: false });
  await sleep(100);
  const stopped = transport.stop();
  await sleep(100);
  release();
  await stopped;
  const first = await raw.next();
  assert.deepEqual([first.cmd, first.messageId], ['puback', 1], 'the pending ack went out first');
  const disconnect = await raw.next('disconnect');
  assert.equal(disconnect.reasonCode, 0x8b);
  await raw.waitClosed();
});
