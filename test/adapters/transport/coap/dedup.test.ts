/**
 * Message deduplication (RFC 7252 §4.5) and retransmission of our own CON messages (§4.2):
 * the bounded cache on its own, then a raw UDP peer retransmitting requests to the transport
 * and ignoring notifications.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { generate, parse, type Packet, type ParsedPacket } from 'coap-packet';
import { DedupCache } from '../../../../src/adapters/transport/coap/dedup.js';
import { MAX_RETRANSMIT } from '../../../../src/adapters/transport/coap/message.js';
import { waitFor } from '../http/fake-device-api.js';
import { startCoap, uriPath, type CoapHarness } from './helpers.js';

/** A UDP peer that keeps every datagram it receives, raw and parsed. */
class Peer {
  private readonly sock: Socket = createSocket('udp4');
  readonly received: { bytes: Buffer; packet: ParsedPacket }[] = [];
  constructor(private readonly port: number) {
    this.sock.on('message', (bytes) => this.received.push({ bytes, packet: parse(bytes) }));
  }
  bind(): Promise<void> {
    return new Promise((resolve) => this.sock.bind(0, '127.0.0.1', () => resolve()));
  }
  send(packet: Packet): void {
    this.sock.send(generate(packet), this.port, '127.0.0.1');
  }
  matching(messageId: number): { bytes: Buffer; packet: ParsedPacket }[] {
    return this.received.filter((r) => r.packet.messageId === messageId);
  }
  close(): void {
    this.sock.close();
  }
}

function telemetry(messageId: number, body: string, confirmable = true): Packet {
  return {
    code: 'POST',
    messageId,
    token: Buffer.from([messageId & 0xff, 0x5a]),
    confirmable,
    options: [...uriPath('/api/v1/good/telemetry'), { name: 'Content-Format', value: Buffer.of(50) }],
    payload: Buffer.from(body),
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Dedup cache', () => {
  it('marks a new request as processing, then returns its answer for duplicates', () => {
    const cache = new DedupCache();
    assert.equal(cache.check('10.0.0.1:5683', 7), undefined);
    assert.equal(cache.check('10.0.0.1:5683', 7), 'processing');
    assert.equal(cache.check('10.0.0.2:5683', 7), undefined, 'another endpoint, same message id');
    cache.settle('10.0.0.1:5683', 7, Buffer.of(0x60, 0x44, 0, 7));
    assert.deepEqual(cache.check('10.0.0.1:5683', 7), Buffer.of(0x60, 0x44, 0, 7));
    assert.equal(cache.size, 2);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new DedupCache({ maxEntries: 3 });
    for (const mid of [1, 2, 3, 4]) assert.equal(cache.check('peer', mid), undefined);
    assert.equal(cache.size, 3);
    assert.equal(cache.check('peer', 4), 'processing');
    assert.equal(cache.check('peer', 2), 'processing');
    assert.equal(cache.check('peer', 1), undefined, 'the oldest entry was evicted: a new request again');
    assert.equal(cache.size, 3);
    for (let mid = 100; mid < 10_100; mid++) cache.check(`p${mid % 7}`, mid);
    assert.equal(cache.size, 3, 'bounded under sustained traffic');
  });

  it('forgets entries after the exchange lifetime', () => {
    let now = 1_000;
    const cache = new DedupCache({ lifetimeMs: 247_000, now: () => now });
    cache.check('peer', 1);
    now += 100_000;
    cache.check('peer', 2);
    now += 147_000;
    assert.equal(cache.check('peer', 2), 'processing', 'still within its lifetime');
    assert.equal(cache.check('peer', 1), undefined, 'expired: a new request');
    now += 1_000_000;
    cache.prune();
    assert.equal(cache.size, 0);
  });
});

describe('CoAP transport: duplicate requests', () => {
  let h: CoapHarness;
  let peer: Peer;
  before(async () => {
    h = await startCoap({ piggybackReplyMs: 150, dedup: { maxEntries: 4 } });
    h.api.commitDelayMs = 5;
    peer = new Peer(h.port);
    await peer.bind();
  });
  after(async () => {
    peer.close();
    await h.stop();
  });

  it('answers a duplicate CON with the same bytes, without storing it again', async () => {
    const before = h.api.published.length;
    peer.send(telemetry(501, '{"dup":"con"}'));
    await waitFor(() => peer.matching(501).length === 1, 3000, 'the ACK');
    peer.send(telemetry(501, '{"dup":"con"}'));
    await waitFor(() => peer.matching(501).length === 2, 3000, 'the ACK again');
    const [first, second] = peer.matching(501);
    assert.equal(first?.packet.code, '2.04');
    assert.equal(first?.packet.ack, true);
    assert.ok(first && second && first.bytes.equals(second.bytes), 'identical answer bytes');
    assert.equal(h.api.published.length - before, 1);
  });

  it('ignores a duplicate NON', async () => {
    const before = h.api.published.length;
    const token = Buffer.from([0xaa, 0x01, 0x02]);
    peer.send({ ...telemetry(502, '{"dup":"non"}', false), token });
    peer.send({ ...telemetry(502, '{"dup":"non"}', false), token });
    await waitFor(() => h.api.published.length - before === 1, 3000, 'stored');
    await pause(100);
    const answers = peer.received.filter((r) => r.packet.token.equals(token));
    assert.equal(answers.length, 1, 'one NON response');
    assert.equal(answers[0]?.packet.confirmable, false);
    assert.notEqual(answers[0]?.packet.messageId, 502, 'a NON response has its own message id');
    assert.equal(h.api.published.length - before, 1);
  });

  it('repeats the empty ACK to a retransmission of a request still being committed', async () => {
    h.api.commitDelayMs = 500;
    try {
      const before = h.api.published.length;
      peer.send(telemetry(503, '{"dup":"slow"}'));
      await waitFor(() => peer.matching(503).length === 1, 3000, 'the empty ACK');
      peer.send(telemetry(503, '{"dup":"slow"}'));
      await waitFor(() => peer.matching(503).length === 2, 3000, 'the empty ACK again');
      assert.deepEqual(peer.matching(503).map((r) => r.packet.code), ['0.00', '0.00']);
      const token = Buffer.from([503 & 0xff, 0x5a]);
      await waitFor(() => peer.received.some((r) => r.packet.token.equals(token) && r.packet.code === '2.04'), 3000, 'the separate response');
      const response = peer.received.find((r) => r.packet.token.equals(token) && r.packet.code === '2.04');
      peer.send({ code: '0.00', messageId: response?.packet.messageId ?? 0, ack: true });
      assert.equal(h.api.published.length - before, 1);
    } finally {
      h.api.commitDelayMs = 5;
    }
  });

  it('treats a request evicted from the bounded cache as new', async () => {
    const before = h.api.published.length;
    for (const mid of [601, 602, 603, 604, 605]) {
      peer.send(telemetry(mid, `{"n":${mid}}`));
      await waitFor(() => peer.matching(mid).length === 1, 3000, `answer ${mid}`);
    }
    assert.equal(h.api.published.length - before, 5);
    peer.send(telemetry(605, '{"n":605}'));
    await waitFor(() => peer.matching(605).length === 2, 3000, 'cached answer');
    assert.equal(h.api.published.length - before, 5, 'the newest is still cached');
    peer.send(telemetry(601, '{"n":601}'));
    await waitFor(() => peer.matching(601).length === 2, 3000, 'fresh answer');
    assert.equal(h.api.published.length - before, 6, 'the oldest fell out of the 4-entry cache');
  });
});

describe('CoAP transport: retransmission of notifications', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap({ retransmit: { ackTimeoutMs: 20 } });
    h.api.commitDelayMs = 5;
  });
  after(() => h.stop());

  it('retransmits an unacknowledged CON notification MAX_RETRANSMIT times, then ends the observation', async () => {
    const peer = new Peer(h.port);
    await peer.bind();
    try {
      const token = Buffer.from('0b5e', 'hex');
      peer.send({ code: 'GET', messageId: 700, token, confirmable: true, options: [{ name: 'Observe', value: Buffer.alloc(0) }, ...uriPath('/api/v1/good/attributes')] });
      await waitFor(() => peer.matching(700).length === 1, 3000, 'registration answer');
      const session = h.api.openSessions().at(-1);
      assert.equal(h.metrics.open, 1);
      h.api.emitShared({ values: { silent: true } });
      // Never acknowledged: the same message (same id) 1 + MAX_RETRANSMIT times, then given up.
      await waitFor(() => session?.closed === true, 5000, 'observation ended');
      const notes = peer.received.filter((r) => r.packet.token.equals(token) && r.packet.messageId !== 700);
      assert.equal(notes.length, 1 + MAX_RETRANSMIT);
      assert.equal(new Set(notes.map((r) => r.packet.messageId)).size, 1);
      assert.ok(notes.every((r) => r.packet.confirmable && r.bytes.equals(notes[0]?.bytes ?? Buffer.alloc(0))));
      assert.equal(h.metrics.open, 0);
    } finally {
      peer.close();
    }
  });

  it('stops retransmitting once the notification is acknowledged', async () => {
    const peer = new Peer(h.port);
    await peer.bind();
    try {
      const token = Buffer.from('0c5e', 'hex');
      peer.send({ code: 'GET', messageId: 701, token, confirmable: true, options: [{ name: 'Observe', value: Buffer.alloc(0) }, ...uriPath('/api/v1/good/attributes')] });
      await waitFor(() => peer.matching(701).length === 1, 3000, 'registration answer');
      h.api.emitShared({ values: { acked: true } });
      await waitFor(() => peer.received.some((r) => r.packet.token.equals(token) && r.packet.messageId !== 701), 3000, 'notification');
      const note = peer.received.find((r) => r.packet.token.equals(token) && r.packet.messageId !== 701);
      peer.send({ code: '0.00', messageId: note?.packet.messageId ?? 0, ack: true });
      await pause(500); // 20 + 40 + 80 + 160 ms of retransmission schedule have passed
      assert.equal(peer.received.filter((r) => r.packet.messageId === note?.packet.messageId).length, 1);
      assert.equal(h.api.openSessions().length, 1, 'still observing');
    } finally {
      peer.close();
    }
  });
});
