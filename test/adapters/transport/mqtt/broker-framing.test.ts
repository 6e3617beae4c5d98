/**
 * Framing: the broker cuts packets out of the byte stream by their fixed header (MQTT 3.1.1 §2.2.3,
 * MQTT 5.0 §2.1.4) and decodes them with one parser shared by all connections. Packets cut at any
 * byte, several packets in one segment, large packets in many segments, and 3.1.1 and 5 clients
 * interleaved must all decode as if each connection had its own parser.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type Packet } from 'mqtt-packet';
import { BEFORE_CONNECT, INCOMPLETE, MALFORMED, PacketDecoder, packetEnd, type PacketSink } from '../../../../src/adapters/transport/mqtt/frames.js';
import { RawClient, sleep, startBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startBroker();
});
after(async () => {
  await tb.close();
});

const v5 = { protocolVersion: 5 };

function bytes(packets: Packet[], opts: { protocolVersion: number }): Buffer {
  return Buffer.concat(packets.map((p) => generate(p, opts)));
}

test('a CONNECT, SUBSCRIBE, PUBLISH and PINGREQ sent one byte at a time are all decoded', async () => {
  const raw = await RawClient.open(tb.port, 5);
  raw.socket.setNoDelay(true);
  const stream = bytes(
    [
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'drip', clean: true, keepalive: 30 },
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'drip/t', qos: 1 }] },
      { cmd: 'publish', topic: 'drip/t', payload: Buffer.from('x'.repeat(300)), qos: 1, messageId: 2, retain: false, dup: false, properties: { userProperties: { k: 'v' } } },
      { cmd: 'pingreq' },
    ],
    v5,
  );
  for (const b of stream) {
    raw.socket.write(Buffer.from([b]));
    await sleep(1); // separate TCP segments, so every cut (header, length, body) happens
  }
  assert.equal((await raw.next('connack')).reasonCode, 0);
  assert.deepEqual((await raw.next('suback')).granted, [1]);
  assert.equal((await raw.next('puback')).messageId, 2);
  const msg = await raw.next('publish');
  assert.equal(msg.payload.toString(), 'x'.repeat(300));
  assert.equal(msg.properties?.userProperties?.k, 'v');
  await raw.next('pingresp');
  raw.close();
});

test('several packets in one segment, the last one cut, then the rest', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'burst', protocolVersion: 5 });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'burst/#', qos: 1 }] });
  await raw.next('suback');
  const publishes: Packet[] = Array.from({ length: 5 }, (_, i) => ({ cmd: 'publish', topic: `burst/${i}`, payload: Buffer.from(`m${i}`), qos: 1, messageId: 10 + i, retain: false, dup: false }));
  const all = bytes(publishes, v5);
  const cut = all.length - 3;
  raw.socket.write(all.subarray(0, cut));
  await sleep(20);
  raw.socket.write(all.subarray(cut));
  for (let i = 0; i < 5; i++) assert.equal((await raw.next('publish')).payload.toString(), `m${i}`);
  const acks = [];
  for (let i = 0; i < 5; i++) acks.push((await raw.next('puback')).messageId);
  assert.deepEqual(acks, [10, 11, 12, 13, 14]);
  raw.close();
});

test('a 200 KB payload arriving in many segments is delivered intact', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'large', protocolVersion: 4 });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'large/t', qos: 1 }] });
  await raw.next('suback');
  const payload = Buffer.alloc(200_000, 'abcdefgh');
  const packet = generate({ cmd: 'publish', topic: 'large/t', payload, qos: 1, messageId: 7, retain: false, dup: false }, { protocolVersion: 4 });
  for (let i = 0; i < packet.length; i += 7000) {
    raw.socket.write(packet.subarray(i, i + 7000));
    await sleep(1);
  }
  assert.equal((await raw.next('puback')).messageId, 7);
  assert.ok(Buffer.from((await raw.next('publish')).payload).equals(payload));
  raw.close();
});

test('3.1.1 and 5 clients interleaved: each packet is decoded with its own connection\'s protocol version', async () => {
  const sub = await RawClient.connect(tb.port, { clientId: 'mix-sub', protocolVersion: 5 });
  sub.raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mix/#', qos: 1 }] });
  await sub.raw.next('suback');
  const a = await RawClient.connect(tb.port, { clientId: 'mix-4', protocolVersion: 4 });
  const b = await RawClient.connect(tb.port, { clientId: 'mix-5', protocolVersion: 5 });
  for (let i = 0; i < 10; i++) {
    // A 3.1.1 PUBLISH decoded as MQTT 5 would read its first payload byte as a property length.
    a.raw.send({ cmd: 'publish', topic: 'mix/4', payload: Buffer.from(`\u0003four${i}`), qos: 1, messageId: i + 1, retain: false, dup: false });
    b.raw.send({ cmd: 'publish', topic: 'mix/5', payload: Buffer.from(`five${i}`), qos: 1, messageId: i + 1, retain: false, dup: false, properties: { contentType: 'text/plain' } });
  }
  const got = new Map<string, string[]>();
  for (let i = 0; i < 20; i++) {
    const p = await sub.raw.next('publish');
    if (p.topic === 'mix/5') assert.equal(p.properties?.contentType, 'text/plain');
    got.set(p.topic, [...(got.get(p.topic) ?? []), p.payload.toString()]);
  }
  assert.deepEqual(got.get('mix/4'), Array.from({ length: 10 }, (_, i) => `\u0003four${i}`));
  assert.deepEqual(got.get('mix/5'), Array.from({ length: 10 }, (_, i) => `five${i}`));
  for (const c of [sub.raw, a.raw, b.raw]) c.close();
});

test('a Remaining Length over four bytes is malformed: DISCONNECT 0x81, then closed', async () => {
  const { raw } = await RawClient.connect(tb.port, { clientId: 'long-length', protocolVersion: 5 });
  raw.socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal((await raw.next('disconnect')).reasonCode, 0x81);
  await raw.waitClosed();
});

test('after one client\'s packet fails to decode halfway, other clients\' packets still decode', async () => {
  const bystander = await RawClient.connect(tb.port, { clientId: 'bystander', protocolVersion: 4 });
  const bad = await RawClient.open(tb.port);
  bad.socket.write(Buffer.from('10140002686a04020000000a6d79636c69656e746964', 'hex')); // protocol name "hj"
  await bad.waitClosed();
  bystander.raw.send({ cmd: 'pingreq' });
  await bystander.raw.next('pingresp');
  const next = await RawClient.connect(tb.port, { clientId: 'after-bad', protocolVersion: 5 });
  assert.equal(next.connack.reasonCode, 0);
  for (const c of [bystander.raw, next.raw]) c.close();
});

test('packetEnd reads Remaining Lengths of one to four bytes (MQTT 5.0 §1.5.5)', () => {
  assert.equal(packetEnd(Buffer.from([0xc0, 0x00]), 0), 2);
  assert.equal(packetEnd(Buffer.from([0x30, 0x7f]), 0), 2 + 127);
  assert.equal(packetEnd(Buffer.from([0x00, 0x30, 0x80, 0x01]), 1), 4 + 128);
  assert.equal(packetEnd(Buffer.from([0x30, 0xff, 0xff, 0x7f]), 0), 4 + 2_097_151);
  assert.equal(packetEnd(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), 0), 5 + 268_435_455);
  assert.equal(packetEnd(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0), MALFORMED);
  assert.equal(packetEnd(Buffer.from([0x30]), 0), INCOMPLETE);
  assert.equal(packetEnd(Buffer.from([0x30, 0x80]), 0), INCOMPLETE);
});

test('a packet handler that decodes for another connection does not disturb the shared parser', () => {
  const decoder = new PacketDecoder();
  const ping = generate({ cmd: 'pingreq' });
  const got: string[] = [];
  const inner: PacketSink = { onPacket: (p) => got.push(`inner:${p.cmd}`), onMalformed: (e) => got.push(`inner:error:${e.message}`) };
  const outer: PacketSink = {
    onPacket: (p) => {
      got.push(`outer:${p.cmd}`);
      decoder.decode(inner, BEFORE_CONNECT, ping);
    },
    onMalformed: (e) => got.push(`outer:error:${e.message}`),
  };
  decoder.decode(outer, BEFORE_CONNECT, ping);
  decoder.decode(inner, BEFORE_CONNECT, generate({ cmd: 'disconnect' }));
  assert.deepEqual(got, ['outer:pingreq', 'inner:pingreq', 'inner:disconnect']);
});

test('a packet handler that throws costs its own packet only: the next connection decodes normally', () => {
  const decoder = new PacketDecoder();
  const thrower: PacketSink = {
    onPacket: () => {
      throw new Error('bug');
    },
    onMalformed: () => undefined,
  };
  assert.throws(() => decoder.decode(thrower, BEFORE_CONNECT, generate({ cmd: 'pingreq' })), /bug/);
  const got: string[] = [];
  decoder.decode({ onPacket: (p) => got.push(p.cmd), onMalformed: (e) => got.push(e.message) }, BEFORE_CONNECT, generate({ cmd: 'disconnect' }));
  assert.deepEqual(got, ['disconnect']);
});

test('a packet that fails to decode does not disturb the next connection\'s packets', () => {
  const decoder = new PacketDecoder();
  const got: string[] = [];
  const sink: PacketSink = { onPacket: (p) => got.push(p.cmd), onMalformed: (e) => got.push(e.message) };
  // A CONNECT with protocol name "hj" fails halfway through its payload (Paho testBasic sends it).
  const bad = Buffer.from('10140002686a04020000000a6d79636c69656e746964', 'hex');
  decoder.decode(sink, BEFORE_CONNECT, bad);
  decoder.decode(sink, BEFORE_CONNECT, generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'next', clean: true, keepalive: 0 }));
  assert.deepEqual(got, ['Invalid protocolId', 'connect']);
});
