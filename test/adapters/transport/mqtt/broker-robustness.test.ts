/**
 * Bad input affects only the connection it arrives on: random bytes, protocol violations, oversized
 * packets, refused subscriptions, slow authentication.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { RawClient, client, collect, startBroker, subackCodes, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startBroker({ maxPayloadBytes: 1024, connectTimeoutMs: 500 });
});
after(async () => {
  await tb.close();
});

test('random bytes on the port close that connection only; another client keeps working', async () => {
  const bystander = await client(tb.url, { protocolVersion: 5 });
  const inbox = collect(bystander);
  await bystander.subscribeAsync('alive', { qos: 1 });
  for (let i = 0; i < 20; i++) {
    const socket = tcpConnect({ host: '127.0.0.1', port: tb.port });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(randomBytes(64 + i * 37));
    socket.end();
    await once(socket, 'close');
  }
  // Garbage after a valid CONNECT, too.
  const { raw } = await RawClient.connect(tb.port, { clientId: 'then-garbage', protocolVersion: 5 });
  raw.socket.write(Buffer.from([0x62, 0x02, 0x00])); // PUBREL without its reserved flags, truncated
  raw.socket.write(Buffer.from('\xff\xff\xff\xff\xff garbage'));
  await raw.waitClosed();
  await bystander.publishAsync('alive', 'yes', { qos: 1 });
  assert.equal((await inbox.next()).payload, 'yes');
  await bystander.endAsync();
});

test('the first packet must be CONNECT [MQTT-3.1.0-1]; a second CONNECT is a protocol error [MQTT-3.1.0-2]', async () => {
  const raw = await RawClient.open(tb.port);
  raw.send({ cmd: 'pingreq' });
  await raw.waitClosed();
  const second = await RawClient.connect(tb.port, { clientId: 'twice', protocolVersion: 5 });
  second.raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'twice', clean: true, keepalive: 0 });
  assert.equal((await second.raw.next('disconnect')).reasonCode, 0x82);
  await second.raw.waitClosed();
});

test('no CONNECT within the connect timeout closes the socket', async () => {
  const raw = await RawClient.open(tb.port);
  await raw.waitClosed(3000);
});

test('3.1.1: an empty client id without clean session is refused with return code 2', async () => {
  const raw = await RawClient.open(tb.port);
  // Written by hand: mqtt-packet refuses to encode this CONNECT.
  raw.socket.write(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 0, 0, 0]));
  assert.equal((await raw.next('connack')).returnCode, 2);
  await raw.waitClosed();
});

test('a payload over the limit: MQTT 5 gets DISCONNECT 0x95, 3.1.1 is closed', async () => {
  const v5 = await RawClient.connect(tb.port, { clientId: 'big5', protocolVersion: 5 });
  v5.raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(2048), qos: 1, messageId: 1, retain: false, dup: false });
  assert.equal((await v5.raw.next('disconnect')).reasonCode, 0x95);
  await v5.raw.waitClosed();
  const v4 = await RawClient.connect(tb.port, { clientId: 'big4' });
  v4.raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(2048), qos: 0, retain: false, dup: false });
  await v4.raw.waitClosed();
  // A packet far over the limit is refused from its header, before it is buffered.
  const huge = await RawClient.connect(tb.port, { clientId: 'huge', protocolVersion: 5 });
  huge.raw.socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00]));
  assert.equal((await huge.raw.next('disconnect')).reasonCode, 0x95);
});

test('conformance profile: SUBSCRIBE to test/nosubscribe is refused with 0x80 on 3.1.1 and 5', async () => {
  for (const protocolVersion of [4, 5] as const) {
    const c = await client(tb.url, { protocolVersion });
    assert.deepEqual(await subackCodes(c, ['test/nosubscribe', 'test/fine']), [0x80, 1], `v${protocolVersion}`);
    await c.endAsync();
  }
  assert.ok(tb.metrics.get('reject:mqtt:TOPIC_NOT_ALLOWED') >= 2);
});

test('a client vanishing while authentication is pending leaves no session behind', async () => {
  let release!: () => void;
  const slow = await startBroker({
    policy: {
      authenticate: () => new Promise((resolve) => (release = () => resolve({ space: '', kind: 'anonymous' }))),
      authorize: () => true,
      refusedSubscribeCode: 0x87,
    },
  });
  const raw = await RawClient.open(slow.port);
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'gone', clean: false, keepalive: 0 });
  await new Promise((r) => setTimeout(r, 100));
  raw.close();
  await new Promise((r) => setTimeout(r, 100));
  release();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(slow.broker.sessionCount, 0);
  assert.equal(slow.broker.connectionCount, 0);
  await slow.close();
});
