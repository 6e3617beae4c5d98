/**
 * MQTT 5 features: topic aliases both ways, subscription options (No Local, Retain As Published,
 * Retain Handling), subscription identifiers, shared subscriptions, message expiry, forwarded
 * properties, Maximum Packet Size, Receive Maximum, Server Keep Alive, assigned client id.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, client, clientWithInbox, collect, sleep, startBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startBroker({ maxKeepAlive: 60, receiveMaximum: 3, topicAliasMaximum: 4 });
});
after(async () => {
  await tb.close();
});

test('CONNACK: Server Keep Alive caps the client value, an empty client id is assigned one', async () => {
  const { raw, connack } = await RawClient.connect(tb.port, { clientId: '', protocolVersion: 5, keepalive: 300 });
  assert.equal(connack.reasonCode, 0);
  assert.equal(connack.properties?.serverKeepAlive, 60);
  assert.match(connack.properties?.assignedClientIdentifier ?? '', /^auto-/);
  assert.equal(connack.properties?.receiveMaximum, 3);
  assert.equal(connack.properties?.topicAliasMaximum, 4);
  raw.close();
});

test('inbound topic alias: set with a topic, then used with an empty one; unknown or too large aliases disconnect', async () => {
  const watcher = await client(tb.url);
  const inbox = collect(watcher);
  await watcher.subscribeAsync('alias/in', { qos: 1 });
  const { raw } = await RawClient.connect(tb.port, { clientId: 'aliaser', protocolVersion: 5 });
  raw.send({ cmd: 'publish', topic: 'alias/in', payload: Buffer.from('1'), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
  raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('2'), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
  assert.deepEqual([(await inbox.next()).payload, (await inbox.next()).payload], ['1', '2']);
  raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('3'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } });
  assert.equal((await raw.next('disconnect')).reasonCode, 0x82, 'unknown alias');
  const second = await RawClient.connect(tb.port, { clientId: 'aliaser0', protocolVersion: 5 });
  second.raw.send({ cmd: 'publish', topic: 'alias/in', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 5 } });
  assert.equal((await second.raw.next('disconnect')).reasonCode, 0x94, 'over our Topic Alias Maximum');
  await watcher.endAsync();
});

test('outbound topic alias when the client allows them: first PUBLISH names the topic, later ones only the alias', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'alias-out', protocolVersion: 5, properties: { topicAliasMaximum: 2 } });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alias/out/+', qos: 0 }] });
  await raw.next('suback');
  for (const t of ['a', 'a', 'b', 'c', 'c']) tb.broker.publish('', `alias/out/${t}`, t);
  const got = [];
  for (let i = 0; i < 5; i++) {
    const p = await raw.next('publish');
    got.push([p.topic, p.properties?.topicAlias]);
  }
  // Two aliases allowed: a → 1, b → 2, c goes without one.
  assert.deepEqual(got, [['alias/out/a', 1], ['', 1], ['alias/out/b', 2], ['alias/out/c', undefined], ['alias/out/c', undefined]]);
  raw.close();
});

test('No Local, Retain As Published and Retain Handling', async () => {
  const c = await client(tb.url, { protocolVersion: 5 });
  const inbox = collect(c);
  await c.subscribeAsync('opts/nl', { qos: 1, nl: true });
  await c.subscribeAsync('opts/rap', { qos: 1, rap: true });
  await c.publishAsync('opts/nl', 'own', { qos: 1 });
  await c.publishAsync('opts/rap', 'kept', { qos: 1, retain: true });
  const m = await inbox.next();
  assert.deepEqual([m.topic, m.packet.retain], ['opts/rap', true], 'own message suppressed, RETAIN as published');
  // rh=1: retained only for a new subscription; rh=2: never.
  await c.subscribeAsync('opts/#', { qos: 1, rh: 1 });
  assert.equal((await inbox.next()).payload, 'kept');
  await c.subscribeAsync('opts/#', { qos: 1, rh: 1 });
  await c.subscribeAsync('opts/+', { qos: 1, rh: 2 });
  await sleep(200);
  assert.equal(inbox.messages.length, 2);
  await c.publishAsync('opts/rap', '', { qos: 1, retain: true });
  await c.endAsync();
});

test('subscription identifiers: one message carries every matching identifier', async () => {
  const c = await client(tb.url, { protocolVersion: 5 });
  const inbox = collect(c);
  await c.subscribeAsync('ids/x', { qos: 1, properties: { subscriptionIdentifier: 7 } });
  await c.subscribeAsync('ids/#', { qos: 1, properties: { subscriptionIdentifier: 9 } });
  tb.broker.publish('', 'ids/x', 'both', { qos: 1 });
  const m = await inbox.next();
  assert.deepEqual([...[m.packet.properties?.subscriptionIdentifier].flat()].sort(), [7, 9]);
  await sleep(100);
  assert.equal(inbox.messages.length, 1);
  await c.endAsync();
});

test('shared subscription: each message goes to one member of the group; plain subscribers get all', async () => {
  const members = await Promise.all([0, 1].map(() => client(tb.url, { protocolVersion: 5 })));
  const inboxes = members.map(collect);
  for (const m of members) await m.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
  const plain = await client(tb.url, { protocolVersion: 5 });
  const plainInbox = collect(plain);
  await plain.subscribeAsync('jobs/+', { qos: 1 });
  for (let i = 0; i < 10; i++) tb.broker.publish('', `jobs/${i}`, String(i), { qos: 1 });
  for (let i = 0; i < 10; i++) await plainInbox.next();
  await sleep(200);
  const counts = inboxes.map((i) => i.messages.length);
  assert.equal(counts[0]! + counts[1]!, 10);
  assert.ok(counts[0]! > 0 && counts[1]! > 0, `round robin: ${counts.join('/')}`);
  await Promise.all([...members, plain].map((c) => c.endAsync()));
});

test('message expiry: expired messages are not delivered; others carry the remaining interval', async () => {
  const opts = { clientId: 'expiry', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 60 } };
  const first = await client(tb.url, opts);
  await first.subscribeAsync('expiry/+', { qos: 1 });
  await first.endAsync();
  const pub = await client(tb.url, { protocolVersion: 5 });
  await pub.publishAsync('expiry/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
  await pub.publishAsync('expiry/long', 'long', { qos: 1, properties: { messageExpiryInterval: 60 } });
  await sleep(1500);
  const { client: again, inbox } = await clientWithInbox(tb.url, opts);
  const m = await inbox.next();
  assert.equal(m.payload, 'long');
  const left = m.packet.properties?.messageExpiryInterval ?? 0;
  assert.ok(left > 0 && left < 60, `remaining ${left}`);
  await sleep(200);
  assert.equal(inbox.messages.length, 1);
  await Promise.all([again.endAsync(), pub.endAsync()]);
});

test('user properties, content type, payload format, response topic and correlation data are forwarded', async () => {
  const c = await client(tb.url, { protocolVersion: 5 });
  const inbox = collect(c);
  await c.subscribeAsync('props', { qos: 2 });
  const properties = {
    userProperties: { a: '1', b: ['2', '3'] },
    contentType: 'application/json',
    payloadFormatIndicator: true,
    responseTopic: 'props/reply',
    correlationData: Buffer.from('c-1'),
  };
  await c.publishAsync('props', '{}', { qos: 2, properties });
  const p = (await inbox.next()).packet.properties;
  assert.deepEqual({ ...p?.userProperties }, { a: '1', b: ['2', '3'] });
  assert.equal(p?.contentType, 'application/json');
  assert.equal(p?.payloadFormatIndicator, true);
  assert.equal(p?.responseTopic, 'props/reply');
  assert.equal(p?.correlationData?.toString(), 'c-1');
  await c.endAsync();
});

test("the client's Maximum Packet Size: larger messages are skipped, smaller ones still delivered", async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'small', protocolVersion: 5, properties: { maximumPacketSize: 64 } });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'size', qos: 1 }] });
  await raw.next('suback');
  tb.broker.publish('', 'size', 'x'.repeat(100), { qos: 1 });
  tb.broker.publish('', 'size', 'fits', { qos: 1 });
  const p = await raw.next('publish');
  assert.equal(p.payload.toString(), 'fits');
  raw.close();
});

test('Receive Maximum: one QoS 2 PUBLISH more than allowed unreleased gets DISCONNECT 0x93', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'greedy', protocolVersion: 5 });
  for (let id = 1; id <= 4; id++) raw.send({ cmd: 'publish', topic: 'rm', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false });
  for (let i = 0; i < 3; i++) await raw.next('pubrec');
  assert.equal((await raw.next('disconnect')).reasonCode, 0x93);
  await raw.waitClosed();
});

test('an invalid topic name or filter: DISCONNECT 0x90 / SUBACK 0x8F', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'bad-topics', protocolVersion: 5 });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 1 }, { topic: '$share/g', qos: 1 }, { topic: 'ok/+', qos: 1 }] });
  assert.deepEqual((await raw.next('suback')).granted, [0x8f, 0x8f, 1]);
  raw.send({ cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
  assert.equal((await raw.next('disconnect')).reasonCode, 0x90);
  await raw.waitClosed();
});
