/**
 * Routing with MQTT.js over MQTT 3.1.1 and 5.0: QoS 0/1/2 in both directions, retained messages,
 * wildcards, `$` topics, overlapping subscriptions, unsubscribe.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, collect, sleep, startBroker, type Received, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startBroker();
});
after(async () => {
  await tb.close();
});

for (const protocolVersion of [4, 5] as const) {
  test(`v${protocolVersion}: QoS 0, 1 and 2 are delivered at the minimum of published and subscribed QoS`, async () => {
    const sub = await client(tb.url, { protocolVersion, clientId: `qos-sub-${protocolVersion}` });
    const pub = await client(tb.url, { protocolVersion });
    const inbox = collect(sub);
    await sub.subscribeAsync(`qos${protocolVersion}/two`, { qos: 2 });
    await sub.subscribeAsync(`qos${protocolVersion}/one`, { qos: 1 });
    for (const qos of [0, 1, 2] as const) {
      await pub.publishAsync(`qos${protocolVersion}/two`, `two-${qos}`, { qos });
      await pub.publishAsync(`qos${protocolVersion}/one`, `one-${qos}`, { qos });
    }
    const got: Received[] = [];
    for (let i = 0; i < 6; i++) got.push(await inbox.next());
    const qosOf = (payload: string): number | undefined => got.find((m) => m.payload === payload)?.packet.qos;
    assert.deepEqual([0, 1, 2].map((q) => qosOf(`two-${q}`)), [0, 1, 2]);
    assert.deepEqual([0, 1, 2].map((q) => qosOf(`one-${q}`)), [0, 1, 1]);
    // In order per topic and QoS [MQTT-4.6.0-6].
    assert.deepEqual(got.filter((m) => m.topic.endsWith('two')).map((m) => m.payload), ['two-0', 'two-1', 'two-2']);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  test(`v${protocolVersion}: retained messages reach new subscribers with RETAIN set, and an empty payload clears them`, async () => {
    const pub = await client(tb.url, { protocolVersion });
    const base = `retained${protocolVersion}`;
    await pub.publishAsync(`${base}/a`, 'A', { qos: 1, retain: true });
    await pub.publishAsync(`${base}/b/c`, 'C', { qos: 2, retain: true });
    const sub = await client(tb.url, { protocolVersion });
    const inbox = collect(sub);
    await sub.subscribeAsync(`${base}/#`, { qos: 2 });
    const got = [await inbox.next(), await inbox.next()].sort((x, y) => x.topic.localeCompare(y.topic));
    assert.deepEqual(got.map((m) => [m.topic, m.payload, m.packet.retain, m.packet.qos]), [
      [`${base}/a`, 'A', true, 1],
      [`${base}/b/c`, 'C', true, 2],
    ]);
    // A live message to an existing subscriber is not flagged retained [MQTT-3.3.1-9].
    await pub.publishAsync(`${base}/a`, 'A2', { qos: 1, retain: true });
    const live = await inbox.next();
    assert.equal(live.payload, 'A2');
    assert.equal(live.packet.retain, false);
    await pub.publishAsync(`${base}/a`, '', { qos: 1, retain: true });
    await pub.publishAsync(`${base}/b/c`, '', { qos: 1, retain: true });
    await inbox.next();
    await inbox.next();
    const late = await client(tb.url, { protocolVersion });
    const lateInbox = collect(late);
    await late.subscribeAsync(`${base}/#`, { qos: 1 });
    await sleep(200);
    assert.equal(lateInbox.messages.length, 0);
    await Promise.all([pub.endAsync(), sub.endAsync(), late.endAsync()]);
  });
}

test('wildcards: + matches one level (also empty), # matches the parent and everything below', async () => {
  const sub = await client(tb.url);
  const pub = await client(tb.url);
  const inbox = collect(sub);
  await sub.subscribeAsync(['wild/+/x', 'deep/#', '+/lead'], { qos: 0 });
  const sent = ['wild/a/x', 'wild//x', 'wild/a/b/x', 'deep', 'deep/1/2/3', '/lead', 'other/lead', 'deeper/x'];
  for (const t of sent) await pub.publishAsync(t, t, { qos: 1 });
  await pub.publishAsync('end/lead', 'end', { qos: 1 });
  const topics: string[] = [];
  for (;;) {
    const m = await inbox.next();
    if (m.payload === 'end') break;
    topics.push(m.topic);
  }
  assert.deepEqual(topics, ['wild/a/x', 'wild//x', 'deep', 'deep/1/2/3', '/lead', 'other/lead']);
  await Promise.all([sub.endAsync(), pub.endAsync()]);
});

test('topics starting with $ are not matched by a leading # or + [MQTT-4.7.2-1], but by an explicit filter', async () => {
  const wide = await client(tb.url);
  const exact = await client(tb.url);
  const pub = await client(tb.url);
  const wideInbox = collect(wide);
  const exactInbox = collect(exact);
  await wide.subscribeAsync(['#', '+/status'], { qos: 1 });
  await exact.subscribeAsync('$internal/#', { qos: 1 });
  await sleep(100);
  wideInbox.messages.length = 0;
  await pub.publishAsync('$internal/status', 'hidden', { qos: 1 });
  assert.equal((await exactInbox.next()).payload, 'hidden');
  await sleep(200);
  assert.deepEqual(wideInbox.messages.filter((m) => m.topic.startsWith('$')), []);
  await Promise.all([wide.endAsync(), exact.endAsync(), pub.endAsync()]);
});

test('overlapping subscriptions deliver one copy at the highest QoS', async () => {
  const sub = await client(tb.url, { protocolVersion: 5 });
  const pub = await client(tb.url);
  const inbox = collect(sub);
  await sub.subscribeAsync({ 'over/#': { qos: 2 }, 'over/+': { qos: 1 } });
  await pub.publishAsync('over/x', 'once', { qos: 2 });
  const m = await inbox.next();
  assert.equal(m.packet.qos, 2);
  await sleep(200);
  assert.equal(inbox.messages.length, 1);
  await Promise.all([sub.endAsync(), pub.endAsync()]);
});

test('unsubscribe stops delivery; MQTT 5 UNSUBACK says 0x11 for a filter that was not subscribed', async () => {
  const sub = await client(tb.url, { protocolVersion: 5 });
  const pub = await client(tb.url);
  const inbox = collect(sub);
  await sub.subscribeAsync(['unsub/a', 'unsub/b'], { qos: 1 });
  const unsuback = await sub.unsubscribeAsync(['unsub/a', 'unsub/never']);
  assert.deepEqual((unsuback as { reasonCode?: number[] } | undefined)?.reasonCode ?? (unsuback as { granted?: number[] } | undefined)?.granted, [0, 0x11]);
  await pub.publishAsync('unsub/a', 'a', { qos: 1 });
  await pub.publishAsync('unsub/b', 'b', { qos: 1 });
  assert.equal((await inbox.next()).topic, 'unsub/b');
  assert.equal(inbox.messages.length, 1);
  await Promise.all([sub.endAsync(), pub.endAsync()]);
});
