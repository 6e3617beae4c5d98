/**
 * Issue 12, item 11: the broker kept every retained message a client sent, without limit. Now
 * retained messages are capped per owner (device or client) and in total, with real clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { client, startBroker, type TestBroker } from './helpers.js';

const run = promisify(execFile);
const LIMITS = { maxPerClient: 3, maxBytesPerClient: 1000, maxTotal: 5, maxBytesTotal: 10_000 };

/** Reason code of a QoS 1 PUBLISH's PUBACK (MQTT.js reports a failure code as an error). */
function pubackCode(c: MqttClient, topic: string, payload: string | Buffer): Promise<number> {
  return new Promise((resolve) => {
    c.publish(topic, payload, { qos: 1, retain: true }, (err, packet) => {
      resolve((err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

/** Topics of the retained messages a new subscriber to `filter` receives. */
async function retainedTopics(tb: TestBroker, filter: string): Promise<string[]> {
  const sub = await client(tb.url, { protocolVersion: 5, clientId: `reader-${Math.random()}` });
  const topics: string[] = [];
  sub.on('message', (topic, _payload, packet) => {
    if (packet.retain) topics.push(topic);
  });
  await sub.subscribeAsync(filter, { qos: 1 });
  // Barrier: a message of our own, sent after the SUBACK, arrives after the retained ones.
  await sub.subscribeAsync('zz-barrier', { qos: 1 });
  const echoed = new Promise<void>((resolve) => sub.on('message', (t) => t === 'zz-barrier' && resolve()));
  await sub.publishAsync('zz-barrier', 'x', { qos: 1 });
  await echoed;
  await sub.endAsync();
  return topics.sort();
}

test('regression: one client can retain an unlimited number of messages (MQTT 5: 0x97 over its quota)', async () => {
  const tb = await startBroker({ retained: LIMITS });
  try {
    const c = await client(tb.url, { protocolVersion: 5, clientId: 'hoarder' });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await pubackCode(c, `r/${i}`, `v${i}`));
    assert.deepEqual(codes, [0, 0, 0, 0x97, 0x97]);
    assert.equal(tb.metrics.get('reject:mqtt:QUOTA_EXCEEDED'), 2, 'each refusal is counted');
    assert.deepEqual(await retainedTopics(tb, 'r/#'), ['r/0', 'r/1', 'r/2']);
    // Replacing one of its own topics and deleting one always work; the freed slot can be reused.
    assert.equal(await pubackCode(c, 'r/1', 'v1b'), 0);
    assert.equal(await pubackCode(c, 'r/0', ''), 0);
    assert.equal(await pubackCode(c, 'r/3', 'v3'), 0);
    assert.deepEqual(await retainedTopics(tb, 'r/#'), ['r/1', 'r/2', 'r/3']);
    await c.endAsync();
  } finally {
    await tb.close();
  }
});

test('retained bytes per client and the broker-wide caps hold across clients', async () => {
  const tb = await startBroker({ retained: LIMITS });
  try {
    const a = await client(tb.url, { protocolVersion: 5, clientId: 'a' });
    assert.equal(await pubackCode(a, 'big/a', Buffer.alloc(900)), 0);
    assert.equal(await pubackCode(a, 'big/b', Buffer.alloc(200)), 0x97, 'over 1000 bytes for this client');
    const b = await client(tb.url, { protocolVersion: 5, clientId: 'b' });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await pubackCode(b, `b/${i}`, 'x'));
    assert.deepEqual(codes, [0, 0, 0, 0x97, 0x97], 'b: three of its own');
    const c = await client(tb.url, { protocolVersion: 5, clientId: 'c' });
    assert.equal(await pubackCode(c, 'c/0', 'x'), 0);
    assert.equal(await pubackCode(c, 'c/1', 'x'), 0x97, 'five retained in the broker: full');
    assert.equal(await pubackCode(c, 'b/0', ''), 0, 'deleting anyone\'s retained message is always allowed');
    assert.equal(await pubackCode(c, 'c/1', 'x'), 0);
    await Promise.all([a.endAsync(), b.endAsync(), c.endAsync()]);
  } finally {
    await tb.close();
  }
});

test('MQTT 3.1.1 (mosquitto_pub): a retained message over quota is delivered, not retained, and counted', async () => {
  const tb = await startBroker({ retained: LIMITS });
  try {
    for (let i = 0; i < 4; i++) {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tb.port), '-V', 'mqttv311', '-i', 'old-device', '-q', '1', '-r', '-t', `o/${i}`, '-m', `v${i}`]);
    }
    assert.deepEqual(await retainedTopics(tb, 'o/#'), ['o/0', 'o/1', 'o/2']);
    assert.equal(tb.metrics.get('reject:mqtt:QUOTA_EXCEEDED'), 1);
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tb.port), '-V', 'mqttv311', '-i', 'old-device', '-q', '1', '-r', '-n', '-t', 'o/0']);
    assert.deepEqual(await retainedTopics(tb, 'o/#'), ['o/1', 'o/2'], 'an empty retained message deletes');
  } finally {
    await tb.close();
  }
});
