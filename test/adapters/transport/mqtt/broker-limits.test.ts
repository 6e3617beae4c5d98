/**
 * Slow and greedy MQTT clients (issue 12, item 9): a CONNECT dribbled byte by byte, a huge
 * packet before CONNECT, more connections than the caps allow. Short limits; outcomes asserted.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { generate } from 'mqtt-packet';
import { closeServer, listen } from '../../../../src/adapters/transport/mqtt/listeners.js';
import { client, startBroker, type TestBroker } from './helpers.js';

const brokers: TestBroker[] = [];
after(async () => {
  for (const b of brokers) await b.close();
});

async function broker(options: Parameters<typeof startBroker>[0]): Promise<TestBroker> {
  const b = await startBroker(options);
  brokers.push(b);
  return b;
}

async function rawSocket(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<unknown> }> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, received: () => Buffer.concat(chunks), closed };
}

const CONNECT = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dribbler-'.repeat(8), clean: true, keepalive: 60 });

test('a CONNECT dribbled one byte at a time is closed after the connect timeout (the sweep covers a partial CONNECT)', { timeout: 20_000 }, async () => {
  const tb = await broker({ connectTimeoutMs: 400 });
  const { socket, received, closed } = await rawSocket(tb.port);
  let sent = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && sent < CONNECT.length) socket.write(CONNECT.subarray(sent, ++sent));
  }, 100);
  await closed;
  clearInterval(timer);
  assert.ok(sent < CONNECT.length, `closed after ${sent} of ${CONNECT.length} CONNECT bytes`);
  assert.equal(received().length, 0, 'no CONNACK for an incomplete CONNECT');
});

test('regression: a packet of any size was buffered before CONNECT; over the CONNECT limit it is refused at once', { timeout: 10_000 }, async () => {
  const tb = await broker({ connectTimeoutMs: 60_000, maxConnectBytes: 1024 });
  const { socket, closed } = await rawSocket(tb.port);
  // CONNECT fixed header announcing 100,000 bytes (remaining length as a variable byte integer).
  socket.write(Buffer.from([0x10, 0xa0, 0x8d, 0x06, 0x00, 0x04]));
  await closed;
  assert.equal(tb.metrics.get('reject:mqtt:PAYLOAD_TOO_LARGE'), 1);
  // A normal CONNECT still fits.
  const ok = await client(tb.url, { clientId: 'small-connect' });
  await ok.endAsync();
});

test('regression: MQTT connections were unlimited; with a per-listener cap of 5 the 6th is closed at once', { timeout: 10_000 }, async () => {
  const tb = await broker({});
  const capped = await listen(tb.broker, { name: 'mqtt', host: '127.0.0.1', port: 0, flag: '--mqtt-port', maxConnections: 5 });
  try {
    const url = `mqtt://127.0.0.1:${capped.address.port}`;
    const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => client(url, { clientId: `capped-${i}` })));
    await assert.rejects(client(url, { clientId: 'capped-6', connectTimeout: 3000 }));
    assert.ok(tb.metrics.get('reject:mqtt:CONNECTION_LIMIT') >= 1);
    // The broker's other listener is not affected.
    const other = await client(tb.url, { clientId: 'uncapped' });
    await other.endAsync();
    for (const c of clients) await c.endAsync();
  } finally {
    await closeServer(capped.server);
  }
});

test('regression: the broker took any number of connections; over its total cap they are closed at once', { timeout: 10_000 }, async () => {
  const tb = await broker({ maxConnections: 3 });
  const clients = await Promise.all(Array.from({ length: 3 }, (_, i) => client(tb.url, { clientId: `total-${i}` })));
  const { received, closed } = await rawSocket(tb.port);
  await closed;
  assert.equal(received().length, 0);
  assert.equal(tb.metrics.get('reject:mqtt:CONNECTION_LIMIT'), 1);
  await clients[0]?.endAsync();
  // Room again once one has gone (its close is seen by the broker asynchronously).
  let admitted = false;
  for (let attempt = 0; attempt < 20 && !admitted; attempt++) {
    admitted = await client(tb.url, { clientId: 'total-again', connectTimeout: 2000 }).then(
      async (c) => {
        await c.endAsync();
        return true;
      },
      () => false,
    );
  }
  assert.ok(admitted);
  for (const c of clients.slice(1)) await c?.endAsync();
});
