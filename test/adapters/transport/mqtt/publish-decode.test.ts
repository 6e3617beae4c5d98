import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generate, parser as createParser, type IPublishPacket, type Packet } from 'mqtt-packet';
import { decodePublish } from '../../../../src/adapters/transport/mqtt/publish-decode.js';

/** What mqtt-packet's own parser makes of the same bytes: the reference decoder. */
function referenceDecode(frame: Buffer, protocolVersion: number): { packet?: Packet; error?: Error } {
  const p = createParser({ protocolVersion });
  const out: { packet?: Packet; error?: Error } = {};
  p.on('packet', (packet) => (out.packet = packet));
  p.on('error', (error) => (out.error = error));
  p.parse(frame);
  return out;
}

/** A small deterministic generator, so a failure names the case that broke. */
function* cases(): Generator<{ packet: IPublishPacket; version: 4 | 5; name: string }> {
  const topics = ['v1/devices/me/telemetry', 'a', '', 'ünïcödé/温度/🌡', 'x'.repeat(300)];
  const payloadSizes = [0, 1, 60, 127, 128, 16_383, 16_384, 70_000];
  let i = 0;
  for (const version of [4, 5] as const)
    for (const topic of topics)
      for (const size of payloadSizes)
        for (const qos of [0, 1, 2] as const) {
          const payload = Buffer.alloc(size, (i++ % 251) + 1);
          const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: i % 3 === 0, dup: qos > 0 && i % 2 === 0 };
          if (qos > 0) packet.messageId = (i * 7919) % 65_535 + 1;
          yield { packet, version, name: `v${version} qos${qos} topic ${topic.length} chars, payload ${size} B` };
        }
}

describe('PUBLISH fast decoder', () => {
  it('decodes every common PUBLISH exactly as mqtt-packet does (3.1.1 and 5, QoS 0–2, 1–4 byte lengths)', () => {
    let n = 0;
    for (const { packet, version, name } of cases()) {
      const frame = generate(packet, { protocolVersion: version });
      const fast = decodePublish(frame, version);
      const ref = referenceDecode(frame, version);
      assert.ok(fast, name);
      assert.deepEqual({ ...fast }, { ...ref.packet }, name);
      n++;
    }
    assert.ok(n > 200);
  });

  it('leaves MQTT 5 properties, QoS 3 and truncated packets to mqtt-packet (which reports the errors)', () => {
    const withProps = generate(
      { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false, properties: { contentType: 'application/json' } },
      { protocolVersion: 5 },
    );
    assert.equal(decodePublish(withProps, 5), undefined);
    const qos3 = Buffer.from([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]);
    assert.equal(decodePublish(qos3, 4), undefined);
    assert.ok(referenceDecode(qos3, 4).error);
    const topicTooLong = Buffer.from([0x30, 0x03, 0x00, 0x09, 0x74]);
    assert.equal(decodePublish(topicTooLong, 4), undefined);
    const noMessageId = Buffer.from([0x32, 0x03, 0x00, 0x01, 0x74]);
    assert.equal(decodePublish(noMessageId, 4), undefined);
    const notPublish = generate({ cmd: 'pingreq' });
    assert.equal(decodePublish(notPublish, 4), undefined);
  });

  it('copies the payload out of the frame (a retained message must not pin the socket chunk)', () => {
    const frame = generate({ cmd: 'publish', topic: 't', payload: Buffer.from('hello'), qos: 0, retain: true, dup: false }, { protocolVersion: 4 });
    const packet = decodePublish(frame, 4);
    frame.fill(0);
    assert.equal(String(packet?.payload), 'hello');
  });
});
