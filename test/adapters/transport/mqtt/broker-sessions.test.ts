/**
 * Sessions: offline queueing for persistent sessions, redelivery with DUP on reconnect, session
 * expiry, wills (with MQTT 5 will delay), client id takeover and keep-alive timeout.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, client, clientWithInbox, collect, sleep, startBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startBroker({ maxQueuedMessages: 5 });
});
after(async () => {
  await tb.close();
});

test('3.1.1 persistent session: QoS 1/2 published while offline arrive on reconnect, QoS 0 does not', async () => {
  const opts = { clientId: 'offline-311', clean: false, protocolVersion: 4 as const };
  const first = await client(tb.url, opts);
  await first.subscribeAsync('offline/+', { qos: 2 });
  await first.endAsync();
  const pub = await client(tb.url);
  await pub.publishAsync('offline/0', 'q0', { qos: 0 });
  await pub.publishAsync('offline/1', 'q1', { qos: 1 });
  await pub.publishAsync('offline/2', 'q2', { qos: 2 });
  const { client: again, inbox, sessionPresent } = await clientWithInbox(tb.url, opts);
  assert.equal(sessionPresent, true);
  const got = [await inbox.next(), await inbox.next()];
  assert.deepEqual(got.map((m) => m.payload), ['q1', 'q2']);
  await sleep(200);
  assert.equal(inbox.messages.length, 2);
  await Promise.all([again.endAsync(), pub.endAsync()]);
});

test('the offline queue keeps the newest maxQueuedMessages messages and counts the drops', async () => {
  const opts = { clientId: 'queue-cap', clean: false };
  const first = await client(tb.url, opts);
  await first.subscribeAsync('cap', { qos: 1 });
  await first.endAsync();
  const pub = await client(tb.url);
  for (let i = 0; i < 8; i++) await pub.publishAsync('cap', String(i), { qos: 1 });
  const before = tb.metrics.get('reject:mqtt:QUEUE_FULL');
  const { client: again, inbox } = await clientWithInbox(tb.url, opts);
  const got = [];
  for (let i = 0; i < 5; i++) got.push((await inbox.next()).payload);
  assert.deepEqual(got, ['3', '4', '5', '6', '7']);
  assert.ok(before >= 3);
  await Promise.all([again.endAsync(), pub.endAsync()]);
});

test('unacknowledged QoS 1/2 messages are resent with DUP after reconnecting [MQTT-4.4.0-1]', async () => {
  const connect = { clientId: 'redeliver', clean: false, protocolVersion: 4 } as const;
  const { raw } = await RawClient.connect(tb.port, connect);
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'redeliver/#', qos: 2 }] });
  await raw.next('suback');
  tb.broker.publish('', 'redeliver/a', 'one', { qos: 1 });
  tb.broker.publish('', 'redeliver/b', 'two', { qos: 2 });
  const first = [await raw.next('publish'), await raw.next('publish')];
  assert.deepEqual(first.map((p) => p.dup), [false, false]);
  raw.close(); // no PUBACK / PUBREC
  const again = await RawClient.connect(tb.port, connect);
  assert.equal(again.connack.sessionPresent, true);
  const resent = [await again.raw.next('publish'), await again.raw.next('publish')];
  assert.deepEqual(resent.map((p) => [p.topic, p.payload.toString(), p.dup, p.messageId]), first.map((p) => [p.topic, p.payload.toString(), true, p.messageId]));
  // Finish the QoS 2 flow: PUBREC → PUBREL → PUBCOMP.
  const q2 = resent[1] as (typeof resent)[number];
  again.raw.send({ cmd: 'puback', messageId: (resent[0] as (typeof resent)[number]).messageId });
  again.raw.send({ cmd: 'pubrec', messageId: q2.messageId });
  assert.equal((await again.raw.next('pubrel')).messageId, q2.messageId);
  again.raw.send({ cmd: 'pubcomp', messageId: q2.messageId });
  again.raw.send({ cmd: 'disconnect' });
  await again.raw.waitClosed();
  // Nothing left to redeliver.
  const third = await RawClient.connect(tb.port, connect);
  await sleep(200);
  assert.deepEqual(third.raw.packets, []);
  third.raw.close();
});

test('MQTT 5 session expiry: kept for the interval, gone after it; DISCONNECT may change it', async () => {
  const base = { clientId: 'expiring', protocolVersion: 5 } as const;
  const { raw } = await RawClient.connect(tb.port, { ...base, clean: true, properties: { sessionExpiryInterval: 1 } });
  raw.send({ cmd: 'disconnect', reasonCode: 0 });
  await raw.waitClosed();
  const soon = await RawClient.connect(tb.port, { ...base, clean: false, properties: { sessionExpiryInterval: 0 } });
  assert.equal(soon.connack.sessionPresent, true);
  soon.raw.send({ cmd: 'disconnect', reasonCode: 0 });
  await soon.raw.waitClosed();
  // Expiry 0 at the last connection: the session ended with it.
  const after0 = await RawClient.connect(tb.port, { ...base, clean: false, properties: { sessionExpiryInterval: 1 } });
  assert.equal(after0.connack.sessionPresent, false);
  after0.raw.send({ cmd: 'disconnect', reasonCode: 0 });
  await after0.raw.waitClosed();
  await sleep(1300);
  const late = await RawClient.connect(tb.port, { ...base, clean: false, properties: { sessionExpiryInterval: 30 } });
  assert.equal(late.connack.sessionPresent, false);
  // DISCONNECT lowers the interval to 0: the session ends now.
  late.raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await late.raw.waitClosed();
  const ended = await RawClient.connect(tb.port, { ...base, clean: false });
  assert.equal(ended.connack.sessionPresent, false);
  // Raising it from 0 at DISCONNECT is a protocol error [MQTT-3.14.2-2].
  ended.raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
  assert.equal((await ended.raw.next('disconnect')).reasonCode, 0x82);
  await ended.raw.waitClosed();
});

test('3.1.1 will is published when the connection drops, not after DISCONNECT', async () => {
  const watcher = await client(tb.url);
  const inbox = collect(watcher);
  await watcher.subscribeAsync('will/+', { qos: 1 });
  const dropped = await RawClient.connect(tb.port, { clientId: 'will-drop', will: { topic: 'will/drop', payload: Buffer.from('gone'), qos: 1, retain: false } });
  dropped.raw.close();
  const m = await inbox.next();
  assert.deepEqual([m.topic, m.payload], ['will/drop', 'gone']);
  const polite = await RawClient.connect(tb.port, { clientId: 'will-polite', will: { topic: 'will/polite', payload: Buffer.from('x'), qos: 1, retain: false } });
  polite.raw.send({ cmd: 'disconnect' });
  await polite.raw.waitClosed();
  await sleep(200);
  assert.equal(inbox.messages.length, 1);
  await watcher.endAsync();
});

test('MQTT 5 will delay: sent after the delay, cancelled by a reconnect within it', async () => {
  const watcher = await client(tb.url, { protocolVersion: 5 });
  const inbox = collect(watcher);
  await watcher.subscribeAsync('delayed/+', { qos: 1 });
  const will = (topic: string) => ({ topic, payload: Buffer.from(topic), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } });
  const props = { sessionExpiryInterval: 10 };
  const a = await RawClient.connect(tb.port, { clientId: 'delay-a', protocolVersion: 5, will: will('delayed/a'), properties: props });
  const b = await RawClient.connect(tb.port, { clientId: 'delay-b', protocolVersion: 5, will: will('delayed/b'), properties: props });
  const t0 = Date.now();
  a.raw.close();
  b.raw.close();
  await sleep(300);
  const back = await RawClient.connect(tb.port, { clientId: 'delay-b', protocolVersion: 5, clean: false, properties: props });
  const m = await inbox.next(4000);
  assert.equal(m.topic, 'delayed/a');
  assert.ok(Date.now() - t0 >= 900, 'not before the delay');
  await sleep(1200);
  assert.equal(inbox.messages.length, 1, 'b reconnected in time: no will');
  back.raw.close();
  await watcher.endAsync();
});

test('a second connection with the same client id takes over: MQTT 5 gets DISCONNECT 0x8E', async () => {
  const first = await RawClient.connect(tb.port, { clientId: 'twin', protocolVersion: 5 });
  const second = await RawClient.connect(tb.port, { clientId: 'twin', protocolVersion: 5 });
  const disconnect = await first.raw.next('disconnect');
  assert.equal(disconnect.reasonCode, 0x8e);
  await first.raw.waitClosed();
  second.raw.send({ cmd: 'pingreq' });
  await second.raw.next('pingresp');
  second.raw.close();
});

test('keep alive: no packet for 1.5 × keep alive closes the connection and publishes the will', async () => {
  const watcher = await client(tb.url);
  const inbox = collect(watcher);
  await watcher.subscribeAsync('ka/will', { qos: 1 });
  const { raw } = await RawClient.connect(tb.port, { clientId: 'sleepy', keepalive: 1, protocolVersion: 5, will: { topic: 'ka/will', payload: Buffer.from('timeout'), qos: 1, retain: false } });
  const t0 = Date.now();
  const disconnect = await raw.next('disconnect', 5000);
  assert.equal(disconnect.reasonCode, 0x8d, 'keep alive timeout');
  assert.ok(Date.now() - t0 >= 1200);
  await raw.waitClosed();
  assert.equal((await inbox.next()).payload, 'timeout');
  await watcher.endAsync();
});
