/**
 * Slow and greedy HTTP clients (issue 12, item 9): a client that dribbles its request, or opens
 * more connections than allowed, must not hold the listener. Timeouts here are short (config);
 * the tests assert what the client sees, not how long it took.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform, type Platform } from '../../src/apps/platform.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { tempDir } from '../support/tmp.js';

async function start(http: Record<string, number>): Promise<Platform> {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: tempDir('continuum-slow-http-'),
      host: '127.0.0.1',
      http: { port: 0, ...http },
      mqtt: { port: 0, tlsPort: 0 },
      coap: { port: 0 },
      store: { kind: 'memory' },
      auth: { adminEmail: 'admin@test.local', adminPassword: 'test-password-1', jwtTtlSeconds: 3600 },
      log: { level: 'silent' },
    },
  });
  return startPlatform(config);
}

interface Outcome {
  /** What the server wrote before the socket closed. */
  readonly received: string;
  /** Body bytes the client had sent when the socket closed. */
  readonly sent: number;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends the headers, then the body one byte per `everyMs` until the server closes the socket (or the body ends). */
async function dribble(port: number, path: string, body: string, everyMs: number): Promise<Outcome> {
  const socket = await open(port);
  let received = '';
  let sent = 0;
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= body.length) return;
      socket.write(body[sent] as string);
      sent++;
    }, everyMs);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, sent });
    });
  });
}

/** One complete GET on an open keep-alive socket; resolves with the status line, or undefined when the socket closed instead. */
function get(socket: Socket, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let received = '';
    const onData = (d: Buffer): void => {
      received += d.toString('latin1');
      if (received.includes('\r\n\r\n')) done(received.split('\r\n', 1)[0]);
    };
    const done = (status: string | undefined): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(status);
    };
    const onClose = (): void => done(undefined);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', () => undefined);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

describe('HTTP request timeouts', () => {
  let platform: Platform;
  before(async () => {
    platform = await start({ requestTimeoutMs: 1000, headersTimeoutMs: 500 });
  });
  after(() => platform.stop());

  // On the old code nothing closes these connections: the test times out.
  test('regression: a login body dribbled one byte per second held the connection for ever', { timeout: 20_000 }, async () => {
    const body = JSON.stringify({ email: 'admin@test.local', password: 'x'.repeat(40) });
    const outcome = await dribble(platform.ports.http, '/api/auth/login', body, 1000);
    // Closed by the server while the body was still incomplete; if it answered, with 408.
    assert.ok(outcome.sent < body.length, `closed after ${outcome.sent} of ${body.length} body bytes`);
    if (outcome.received !== '') assert.match(outcome.received, /^HTTP\/1\.1 408 /);
  });

  test('regression: request headers dribbled byte by byte held the connection for ever', { timeout: 20_000 }, async () => {
    const socket = await open(platform.ports.http);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(200)}\r\n\r\n`;
    let sent = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head[sent++] as string);
    }, 200);
    await new Promise((resolve) => socket.on('close', resolve));
    clearInterval(timer);
    assert.ok(sent < head.length, `closed after ${sent} of ${head.length} header bytes`);
    if (received !== '') assert.match(received, /^HTTP\/1\.1 408 /);
  });

  test('regression: a connection that never sends a request stayed open', { timeout: 20_000 }, async () => {
    const socket = await open(platform.ports.http);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.on('close', resolve));
    assert.equal(socket.destroyed, true);
  });

  test('a device long poll longer than the request timeout still gets its answer', async () => {
    const { device, accessToken } = await platform.registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'poller' });
    const poll = fetch(`http://127.0.0.1:${platform.ports.http}/api/v1/${accessToken}/attributes/updates?timeout=20000`);
    // Well past the request timeout (1 s) before the update arrives.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await platform.attributes.set(device.tenantId, device.id, 'shared', { setpoint: 21 });
    const res = await poll;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { setpoint: 21 });
  });

  test('MQTT over WebSocket outlives the request and header timeouts', async () => {
    const { accessToken } = await platform.registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'ws-meter' });
    const client = mqtt.connect(`ws://127.0.0.1:${platform.ports.http}/mqtt`, { username: accessToken, reconnectPeriod: 0, keepalive: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    let closed = false;
    client.on('close', () => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(closed, false);
    await client.publishAsync('v1/devices/me/telemetry', '{"t":1}', { qos: 1 });
    await client.endAsync();
  });
});

describe('HTTP connection cap', () => {
  let platform: Platform;
  before(async () => {
    platform = await start({ maxConnections: 5 });
  });
  after(() => platform.stop());

  test('regression: connections were unlimited; with a cap of 5 the 6th is closed at once', async () => {
    const sockets = await Promise.all(Array.from({ length: 5 }, () => open(platform.ports.http)));
    for (const s of sockets) assert.match((await get(s, '/healthz')) ?? 'closed', /^HTTP\/1\.1 200/);
    const sixth = await open(platform.ports.http);
    assert.equal(await get(sixth, '/healthz'), undefined, 'the 6th connection is closed without an answer');
    // A cap, not a failure: once one closes, a new connection is served.
    const first = sockets.shift() as Socket;
    await new Promise<void>((resolve) => {
      first.once('close', () => resolve());
      first.destroy();
    });
    let status: string | undefined;
    for (let attempt = 0; attempt < 20 && status === undefined; attempt++) status = await get(await open(platform.ports.http), '/healthz');
    assert.match(status ?? 'closed', /^HTTP\/1\.1 200/);
    for (const s of sockets) s.destroy();
  });
});
